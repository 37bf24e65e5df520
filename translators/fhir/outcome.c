/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OperationOutcome trees from validation results and gateway errors, parse-and-validate, and
 * the resource type check (include/igw/fhir.h).
 */
#include <stdio.h>
#include <string.h>

#include "igw/err.h"
#include "fhir_int.h"

static int
add_string(igw_arena *a, struct igw_node *obj, const char *key, const char *s, bool copy)
{
    struct igw_node *v;

    v = copy ? igw_node_string(a, s, strlen(s)) : igw_node_string_ref(a, s, strlen(s));
    if (v == NULL) {
        return IGW_ENOMEM;
    }
    return igw_node_append(a, obj, key, strlen(key), v);
}

/* {"severity","code","diagnostics","expression":[...]} appended to the issue array */
static int
add_issue(igw_arena *a, struct igw_node *arr, const struct igw_fhir_issue *is, bool copy)
{
    struct igw_node *o = igw_node_new(a, IGW_NODE_OBJECT);
    struct igw_node *ex;
    int rv;

    if (o == NULL) {
        return IGW_ENOMEM;
    }
    rv = add_string(a, o, "severity", is->severity, copy);
    if (rv == IGW_OK) {
        rv = add_string(a, o, "code", is->code, copy);
    }
    if (rv == IGW_OK && is->diagnostics != NULL) {
        rv = add_string(a, o, "diagnostics", is->diagnostics, copy);
    }
    if (rv == IGW_OK && is->expression != NULL) {
        ex = igw_node_new(a, IGW_NODE_ARRAY);
        rv = ex == NULL ? IGW_ENOMEM : igw_node_append(a, o, "expression", 10, ex);
        if (rv == IGW_OK) {
            rv = add_string(a, ex, "", is->expression, copy);
        }
    }
    if (rv == IGW_OK) {
        rv = igw_node_append(a, arr, NULL, 0, o);
    }
    return rv;
}

/* {"resourceType":"OperationOutcome","issue":[]}; *issues gets the array */
static struct igw_node *
outcome_new(igw_arena *a, struct igw_node **issues)
{
    struct igw_node *root = igw_node_new(a, IGW_NODE_OBJECT);
    struct igw_node *arr = igw_node_new(a, IGW_NODE_ARRAY);

    if (root == NULL || arr == NULL ||
        add_string(a, root, "resourceType", "OperationOutcome", false) != IGW_OK ||
        igw_node_append(a, root, "issue", 5, arr) != IGW_OK) {
        return NULL;
    }
    *issues = arr;
    return root;
}

struct igw_node *
igw_fhir_outcome(igw_arena *a, const struct igw_fhir_result *r)
{
    static const struct igw_fhir_issue passed = {IGW_FHIR_SEV_INFO, IGW_FHIR_IT_INFORMATIONAL, NULL,
                                                 "validation passed"};
    static const struct igw_fhir_issue more = {IGW_FHIR_SEV_INFO, IGW_FHIR_IT_TOO_COSTLY, NULL,
                                               "more issues were found and not reported"};
    struct igw_node *arr = NULL;
    struct igw_node *root;
    int rv = IGW_OK;

    if (a == NULL || r == NULL) {
        return NULL;
    }
    root = outcome_new(a, &arr);
    if (root == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < r->count && rv == IGW_OK; i++) {
        rv = add_issue(a, arr, &r->issues[i], false);
    }
    if (rv == IGW_OK && r->truncated) {
        rv = add_issue(a, arr, &more, false);
    }
    if (rv == IGW_OK && r->count == 0 && !r->truncated) {
        rv = add_issue(a, arr, &passed, false);
    }
    return rv == IGW_OK ? root : NULL;
}

struct igw_node *
igw_fhir_outcome_simple(igw_arena *a, const char *severity, const char *code,
                        const char *diagnostics, const char *expression)
{
    struct igw_fhir_issue is = {severity, code, expression, diagnostics};
    struct igw_node *arr = NULL;
    struct igw_node *root;

    if (a == NULL || severity == NULL || code == NULL) {
        return NULL;
    }
    root = outcome_new(a, &arr);
    if (root == NULL || add_issue(a, arr, &is, true) != IGW_OK) {
        return NULL;
    }
    return root;
}

bool
igw_fhir_resource_type_known(const char *type, size_t len)
{
    int t;

    if (type == NULL) {
        return false;
    }
    t = fhir_type_find(type, len);
    return t >= 0 && fhir_types[t].kind == FHIR_KIND_RESOURCE;
}

/* True when name is a code of the R4 resource-types value set (the tables also hold a few
 * types of later versions, such as SubscriptionStatus, that an R4 document cannot name). */
static bool
in_resource_types(const char *name)
{
    static const char url[] = "http://hl7.org/fhir/ValueSet/resource-types";

    for (unsigned v = 0; v < fhir_vsets_count; v++) {
        const struct fhir_vset *vs = &fhir_vsets[v];
        size_t lo = 0;
        size_t hi = vs->n_codes;
        if (strcmp(vs->url, url) != 0) {
            continue;
        }
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(fhir_codes[vs->first_code + mid].code, name) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < vs->n_codes && strcmp(fhir_codes[vs->first_code + lo].code, name) == 0;
    }
    return true; /* no such value set in the tables: trust the type list */
}

const char *
igw_fhir_resource_type_at(unsigned i)
{
    for (unsigned t = 0; t < fhir_types_count; t++) {
        if (fhir_types[t].kind == FHIR_KIND_RESOURCE && in_resource_types(fhir_types[t].name) &&
            i-- == 0) {
            return fhir_types[t].name;
        }
    }
    return NULL;
}

/* One issue for a document that did not parse. */
static int
parse_failure(igw_arena *a, int rv, const struct igw_parse_error *err, struct igw_fhir_result *out)
{
    char msg[320];
    struct igw_fhir_issue *is = igw_arena_calloc(a, sizeof(*is));

    if (is == NULL) {
        return IGW_ENOMEM;
    }
    if (rv == IGW_ELIMIT) {
        snprintf(msg, sizeof(msg), "JSON exceeds a parser limit: %s", err->msg);
    } else {
        snprintf(msg, sizeof(msg), "invalid JSON at line %u, column %u: %s", err->line, err->column,
                 err->msg);
    }
    is->severity = IGW_FHIR_SEV_ERROR;
    is->code = rv == IGW_ELIMIT ? IGW_FHIR_IT_TOO_COSTLY : IGW_FHIR_IT_STRUCTURE;
    is->diagnostics = igw_arena_strndup(a, msg, strlen(msg));
    if (is->diagnostics == NULL) {
        return IGW_ENOMEM;
    }
    out->issues = is;
    out->count = 1;
    out->errors = 1;
    return IGW_OK;
}

int
igw_fhir_validate_json(igw_arena *a, const char *text, size_t len,
                       const struct igw_parse_limits *lim, const struct igw_fhir_opts *opts,
                       struct igw_node **root, struct igw_fhir_result *out)
{
    static const struct igw_parse_limits deflim = {0, 0};
    struct igw_parse_error err;
    struct igw_node *tree = NULL;
    int rv;

    if (root != NULL) {
        *root = NULL;
    }
    if (out == NULL) {
        return IGW_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    if (a == NULL || text == NULL) {
        return IGW_EINVAL;
    }
    memset(&err, 0, sizeof(err));
    rv = igw_json_parse(a, text, len, lim != NULL ? lim : &deflim, &tree, &err);
    if (rv == IGW_EPARSE || rv == IGW_ELIMIT) {
        return parse_failure(a, rv, &err, out);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    if (root != NULL) {
        *root = tree;
    }
    return igw_fhir_validate(a, tree, opts, out);
}
