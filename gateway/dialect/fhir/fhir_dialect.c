/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FHIR dialect of a channel (dialect: fhir, docs/FHIR-CHANNELS.md): its ops table, its
 * per-channel state (fhir.interaction resolved once at load), what a request is, the empty
 * rest-hook notification accepted unparsed, and the refusal shape: an OperationOutcome built
 * with igw_fhir_outcome_simple (include/igw/fhir.h). The checks are in fhir_check.c, the
 * answers in fhir_answer.c.
 */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/common.h"
#include "igw/err.h"
#include "igw/fhir.h"
#include "dialect/dialect.h"
#include "dialect/fhir/fhir_in_int.h"

#define OUTCOME_ARENA_MAX (64u << 10) /* a one-issue OperationOutcome of a refusal */

/* ---- channel state ------------------------------------------------------------------------ */

/* fhir.interaction as the loader's choices spell it, and what each makes of a request. */
static const struct {
    const char *name;
    enum fhir_op op;
} interactions[] = {
    {"auto", OP_AUTO},     {"create", OP_CREATE},       {"update", OP_UPDATE},
    {"bundle", OP_BUNDLE}, {"notification", OP_NOTIFY}, {"none", OP_NONE},
};

/* The state is the channel's interaction (an enum fhir_op), so that no request compares
 * strings to learn what it is. */
static int
fhir_channel_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    const char *i = ch->fhir_interaction != NULL ? ch->fhir_interaction : "auto";
    enum fhir_op *op;

    for (size_t k = 0; k < IGW_ARRAY_LEN(interactions); k++) {
        if (strcmp(interactions[k].name, i) != 0) {
            continue;
        }
        op = IGW_NEW(enum fhir_op);
        if (op == NULL) {
            return IGW_ENOMEM;
        }
        *op = interactions[k].op;
        *state = op;
        return IGW_OK;
    }
    igw_errbuf_set(err, errlen, "fhir.interaction: unknown interaction \"%s\"", i);
    return IGW_ECONFIG;
}

static void
fhir_channel_fini(void *state)
{
    igw_free(state);
}

static enum fhir_op
channel_interaction(const struct igw_channel *ch)
{
    const enum fhir_op *op = ch->dialect_state;
    return op != NULL ? *op : OP_AUTO;
}

/* ---- what a request is -------------------------------------------------------------------- */

void
fhir_in_match_params(const struct igw_ingest *in, struct igw_path_match *pm)
{
    memset(pm, 0, sizeof(*pm));
    if (in->target != NULL && in->ch->path != NULL &&
        !igw_path_match(in->ch->path, in->target, strlen(in->target), pm)) {
        pm->nparams = 0;
    }
}

const struct igw_path_param *
fhir_in_param(const struct igw_path_match *pm, const char *name)
{
    const struct igw_path_param *p = igw_path_param_get(pm, name);
    return p != NULL && p->value_len > 0 ? p : NULL;
}

enum fhir_op
fhir_in_op(const struct igw_ingest *in, const struct igw_path_match *pm)
{
    enum fhir_op op = channel_interaction(in->ch);

    if (op != OP_AUTO) {
        return op;
    }
    if (fhir_in_param(pm, "type") == NULL) {
        return OP_NONE; /* OperationOutcome error bodies only */
    }
    /* a PATCH is committed as the update it results in (fhir-patch mediator) */
    return in->method != NULL &&
                   (strcmp(in->method, "PUT") == 0 || strcmp(in->method, "PATCH") == 0)
               ? OP_UPDATE
               : OP_CREATE;
}

bool
fhir_in_target_type(const struct igw_ingest *in, const struct igw_path_match *pm, char *out,
                    size_t outlen)
{
    const struct igw_path_param *p = fhir_in_param(pm, "type");
    const struct igw_node *rt = str_member(in->root, "resourceType");
    const char *s = p != NULL ? p->value : (rt != NULL ? rt->str : "");
    size_t n = p != NULL ? p->value_len : (rt != NULL ? rt->len : 0);

    if (n == 0 || n >= outlen || !igw_fhir_resource_type_known(s, n)) {
        snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), s);
        return false;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

bool
fhir_in_accept_unparsed(const struct igw_channel *ch, const char *body, size_t len)
{
    if (channel_interaction(ch) != OP_NOTIFY) {
        return false;
    }
    for (size_t k = 0; k < len; k++) {
        if (body[k] != ' ' && body[k] != '\t' && body[k] != '\r' && body[k] != '\n') {
            return false;
        }
    }
    return true;
}

/* ---- OperationOutcomes -------------------------------------------------------------------- */

/* Adds "key":"s" (s copied) to obj. */
static int
add_str(igw_arena *a, struct igw_node *obj, const char *key, const char *s)
{
    struct igw_node *v = igw_node_string(a, s, strlen(s));
    return v != NULL ? igw_node_append(a, obj, key, strlen(key), v) : IGW_ENOMEM;
}

/* The one issue's details.text and diagnostics, after its severity and code. */
static int
outcome_tail(igw_arena *a, struct igw_node *root, const char *details, const char *diag)
{
    const struct igw_node *arr = igw_node_get(root, "issue", 5);
    struct igw_node *issue = arr != NULL ? arr->first : NULL;
    struct igw_node *d = NULL;
    int rv = issue != NULL ? IGW_OK : IGW_ENOMEM;

    if (rv == IGW_OK && details != NULL) {
        d = igw_node_new(a, IGW_NODE_OBJECT);
        rv = d != NULL ? add_str(a, d, "text", details) : IGW_ENOMEM;
        if (rv == IGW_OK) {
            rv = igw_node_append(a, issue, "details", 7, d);
        }
    }
    if (rv == IGW_OK && diag != NULL) {
        rv = add_str(a, issue, "diagnostics", diag);
    }
    return rv;
}

int
fhir_in_outcome(igw_arena *a, struct igw_buf *b, const char *severity, const char *code,
                const char *details, const char *diag)
{
    igw_arena *tmp = NULL;
    struct igw_node *oo;
    int rv = a != NULL ? IGW_OK : igw_arena_new(&tmp, OUTCOME_ARENA_MAX);

    a = a != NULL ? a : tmp;
    oo = rv == IGW_OK ? igw_fhir_outcome_simple(a, severity, code, NULL, NULL) : NULL;
    rv = oo != NULL ? outcome_tail(a, oo, details, diag) : IGW_ENOMEM;
    if (rv == IGW_OK) {
        rv = igw_json_write(oo, b, 0);
    }
    igw_arena_free(tmp);
    return rv;
}

/* FHIR IssueType for an HTTP error status. */
static const char *
issue_type(int status)
{
    switch (status) {
    case 401:
        return "login";
    case 403:
        return "forbidden";
    case 404:
        return "not-found";
    case 405:
    case 406:
    case 415:
    case 501:
        return "not-supported";
    case 411:
    case 413:
        return "too-long";
    case 412:
        return "conflict";
    case 422:
        return "processing";
    case 503:
        return "transient";
    default:
        return status >= 500 ? "exception" : "invalid";
    }
}

int
fhir_in_refusal(const struct igw_channel *ch, struct igw_buf *b, int status, const char *code,
                const char *message, const char **content_type)
{
    IGW_UNUSED(ch);
    *content_type = FHIR_CT;
    return fhir_in_outcome(NULL, b, IGW_FHIR_SEV_ERROR, issue_type(status), code, message);
}

const struct igw_dialect_ops igw_dialect_fhir = {
    .name = "fhir",
    .description = "FHIR R4 server: validated resources and Bundles, OperationOutcome refusals",
    .options = "fhir",
    .channel_init = fhir_channel_init,
    .channel_fini = fhir_channel_fini,
    .accept_unparsed = fhir_in_accept_unparsed,
    .check_request = fhir_in_check_request,
    .check_input = fhir_in_check_input,
    .check_output = fhir_in_check_output,
    .answer = fhir_in_answer,
    .refusal = fhir_in_refusal,
};
