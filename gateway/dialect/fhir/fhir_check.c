/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR dialect, the checks (check_input, check_output; docs/FHIR-CHANNELS.md): validates what
 * a FHIR-facing channel receives (create, update, transaction/batch Bundle, Subscription
 * rest-hook notification) and what its fhir-r4 routes will deliver. A refusal is one
 * OperationOutcome listing every issue found (igw_fhir_outcome over the collected issues).
 *
 * CPU only, nothing blocks: called from nng callbacks and the admin API's replay.
 */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/common.h"
#include "igw/doc.h"
#include "igw/fhir.h"
#include "igw/queue.h"
#include "dialect/fhir/fhir_in_int.h"
#include "dialect/fhir/fhir_out.h"

#define ISSUES_MAX 100
#define EXPR_MAX 96

/* Issues collected for one refusal: the validator's plus igw's own checks. */
struct issues {
    struct igw_path_match pm; /* the request's path parameters */
    igw_arena *a;
    struct igw_fhir_issue v[ISSUES_MAX];
    size_t n;
    size_t errors;
    bool truncated;
};

/* ---- issues and refusals ------------------------------------------------------------------ */

static void
issue_add(struct issues *is, const char *severity, const char *code, const char *expr,
          const char *diag)
{
    if (is->n == ISSUES_MAX) {
        is->truncated = true;
        return;
    }
    is->v[is->n].severity = severity;
    is->v[is->n].code = code;
    is->v[is->n].expression = expr != NULL ? igw_arena_strndup(is->a, expr, strlen(expr)) : NULL;
    is->v[is->n].diagnostics = igw_arena_strndup(is->a, diag, strlen(diag));
    is->n++;
    if (strcmp(severity, IGW_FHIR_SEV_ERROR) == 0 || strcmp(severity, IGW_FHIR_SEV_FATAL) == 0) {
        is->errors++;
    }
}

static void
issues_take(struct issues *is, const struct igw_fhir_result *r, const char *prefix)
{
    char diag[IGW_ERRBUF_SIZE];

    for (size_t i = 0; i < r->count; i++) {
        const struct igw_fhir_issue *s = &r->issues[i];
        snprintf(diag, sizeof(diag), "%s%s", prefix, s->diagnostics != NULL ? s->diagnostics : "");
        issue_add(is, s->severity, s->code, s->expression, diag);
    }
    is->truncated |= r->truncated;
}

/* Writes the OperationOutcome of is into in->errbody. @return the intake's error code. */
static int
refuse(struct igw_ingest *in, int status, struct issues *is)
{
    struct igw_fhir_result r = {is->v, is->n, is->errors, is->truncated};
    struct igw_node *oo = igw_fhir_outcome(is->a, &r);
    int rv = oo != NULL ? igw_json_write(oo, &in->errbody, 0) : IGW_ENOMEM;

    if (rv != IGW_OK) {
        igw_buf_reset(&in->errbody);
        return IGW_ENOMEM;
    }
    in->errstatus = status;
    in->errtype = FHIR_CT;
    return status == 422 ? IGW_ETRANSLATE : IGW_EPARSE;
}

/* A refusal with one issue, built without collecting issues. */
static int
refuse_plain(struct igw_ingest *in, int status, const char *code, const char *message)
{
    const char *ct = FHIR_CT;
    int rv = fhir_in_refusal(in->ch, &in->errbody, status, code, message, &ct);

    if (rv != IGW_OK) {
        igw_buf_reset(&in->errbody);
        return IGW_ENOMEM;
    }
    in->errstatus = status;
    in->errtype = ct;
    return IGW_EPARSE;
}

static int
validate_into(struct issues *is, const struct igw_node *res, const char *type, const char *prefix)
{
    struct igw_fhir_opts o;
    struct igw_fhir_result r;
    int rv;

    memset(&o, 0, sizeof(o));
    o.expected_type = type;
    o.max_issues = ISSUES_MAX;
    rv = igw_fhir_validate(is->a, res, &o, &r);
    if (rv == IGW_OK) {
        issues_take(is, &r, prefix);
    }
    return rv;
}

/* ---- input checks ------------------------------------------------------------------------- */

static void
check_update_id(const struct igw_ingest *in, const struct igw_path_match *pm, struct issues *is,
                const char *type)
{
    const struct igw_path_param *p = fhir_in_param(pm, "id");
    const struct igw_node *id = str_member(in->root, "id");
    char expr[EXPR_MAX];
    char diag[IGW_ERRBUF_SIZE];

    snprintf(expr, sizeof(expr), "%s.id", type);
    if (p == NULL) { /* PUT [base]/{type}?search: a conditional update, the id is optional */
        if (in->target == NULL || strchr(in->target, '?') == NULL) {
            issue_add(is, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_REQUIRED, NULL,
                      "an update needs an id in the URL, or search parameters (conditional "
                      "update: PUT [base]/{type}?identifier=...)");
        }
    } else if (id == NULL) {
        issue_add(is, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_REQUIRED, expr,
                  "an update needs the resource's id (it must equal the id in the URL)");
    } else if (p != NULL && (p->value_len != id->len || memcmp(p->value, id->str, id->len) != 0)) {
        snprintf(diag, sizeof(diag), "the resource's id \"%.*s\" differs from the URL's \"%.*s\"",
                 (int)(id->len < 64 ? id->len : 64), id->str,
                 (int)(p->value_len < 64 ? p->value_len : 64), p->value);
        issue_add(is, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID, expr, diag);
    }
}

static void
check_entry_request(struct issues *is, const struct igw_node *e, size_t i)
{
    const struct igw_node *req = member(e, "request");
    const struct igw_node *m = str_member(req, "method");
    char expr[EXPR_MAX];

    snprintf(expr, sizeof(expr), "Bundle.entry[%zu].request", i);
    if (req == NULL || m == NULL || str_member(req, "url") == NULL) {
        issue_add(is, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_REQUIRED, expr,
                  "a transaction or batch entry needs request.method and request.url");
        return;
    }
    if (str_is(m, "GET") || str_is(m, "HEAD")) {
        issue_add(is, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_NOT_SUPPORTED, expr,
                  "igw forwards writes only: GET and HEAD entries cannot be answered");
    } else if ((str_is(m, "POST") || str_is(m, "PUT")) && member(e, "resource") == NULL) {
        snprintf(expr, sizeof(expr), "Bundle.entry[%zu].resource", i);
        issue_add(is, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_REQUIRED, expr,
                  "a POST or PUT entry needs a resource");
    }
}

static void
check_bundle(const struct igw_ingest *in, struct issues *is)
{
    const struct igw_node *t = str_member(in->root, "type");
    const struct igw_node *entries = member(in->root, "entry");
    size_t i = 0;

    if (!str_is(t, "transaction") && !str_is(t, "batch")) {
        issue_add(is, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_VALUE, "Bundle.type",
                  "POST [base] takes a Bundle of type transaction or batch");
        return;
    }
    for (const struct igw_node *e =
             entries != NULL && entries->type == IGW_NODE_ARRAY ? entries->first : NULL;
         e != NULL; e = e->next, i++) {
        if (e->type == IGW_NODE_OBJECT) {
            check_entry_request(is, e, i);
        }
    }
}

/* Unknown {type}: 404 as a server without that endpoint answers. */
static int
refuse_type(struct igw_ingest *in, const char *type)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "unknown FHIR R4 resource type \"%s\"", type);
    return refuse_plain(in, 404, "unknown_resource_type", msg);
}

int
fhir_in_check_input(struct igw_ingest *in, char *err, size_t errlen)
{
    struct issues *is = IGW_NEW(struct issues);
    enum fhir_op op;
    char type[FHIR_ID_MAX];
    int rv;

    IGW_UNUSED(err);
    IGW_UNUSED(errlen);
    if (is == NULL) {
        return IGW_ENOMEM;
    }
    fhir_in_match_params(in, &is->pm);
    op = fhir_in_op(in, &is->pm);
    rv = IGW_OK;
    if (op == OP_NONE) {
        goto cleanup;
    }
    if (in->root == NULL) {
        rv = op == OP_NOTIFY && fhir_in_accept_unparsed(in->ch, in->body, in->body_len)
                 ? IGW_OK
                 : refuse_plain(in, 400, "invalid_json", "the body is not a FHIR JSON resource");
        goto cleanup;
    }
    if ((op == OP_CREATE || op == OP_UPDATE) &&
        !fhir_in_target_type(in, &is->pm, type, sizeof(type))) {
        rv = refuse_type(in, type);
        goto cleanup;
    }
    is->a = in->x.arena;
    rv = validate_into(is, in->root, op == OP_BUNDLE ? "Bundle" : (op == OP_NOTIFY ? NULL : type),
                       "");
    if (rv == IGW_OK && op == OP_UPDATE) {
        check_update_id(in, &is->pm, is, type);
    }
    if (rv == IGW_OK && op == OP_BUNDLE && str_is(member(in->root, "resourceType"), "Bundle")) {
        check_bundle(in, is);
    }
    if (rv == IGW_OK && is->errors > 0) {
        rv = refuse(in, 400, is);
    }
cleanup:
    igw_free(is);
    return rv;
}

/* ---- output checks ------------------------------------------------------------------------ */

static bool
route_is_fhir(const struct igw_route *r)
{
    return r->map != NULL && r->output != NULL && strcmp(r->output, "fhir-r4") == 0;
}

static int
check_payload(struct igw_ingest *in, struct issues *is, size_t i)
{
    const struct igw_queue_route_init *ri = &in->routes[i];
    struct igw_fhir_result r;
    char prefix[IGW_QUEUE_NAME_MAX + 32];
    int rv;

    if (ri->payload == NULL) {
        return IGW_OK;
    }
    rv = igw_fhir_validate_json(is->a, ri->payload, ri->payload_len, NULL, NULL, NULL, &r);
    snprintf(prefix, sizeof(prefix), "route %s: ", in->ch->routes[i].name);
    if (rv == IGW_OK) {
        issues_take(is, &r, prefix);
    }
    return rv;
}

/* ---- conditional-update routes ------------------------------------------------------------ */

/* The resource's JSON without its top-level id, in the arena (the partner finds the resource
 * by identifier, and FHIR refuses a conditional update whose body id is not the match's). */
static int
without_id(igw_arena *a, const struct igw_node *res, const char **out, size_t *outlen)
{
    struct igw_buf b;
    bool first = true;
    int rv;

    igw_buf_init(&b, (size_t)64 << 20);
    rv = igw_buf_putc(&b, '{');
    for (const struct igw_node *m = res->first; rv == IGW_OK && m != NULL; m = m->next) {
        if (m->key_len == 2 && memcmp(m->key, "id", 2) == 0) {
            continue;
        }
        rv = first ? IGW_OK : igw_buf_putc(&b, ',');
        first = false;
        rv = rv == IGW_OK ? igw_buf_json_str(&b, m->key, m->key_len) : rv;
        rv = rv == IGW_OK ? igw_buf_putc(&b, ':') : rv;
        rv = rv == IGW_OK ? igw_json_write(m, &b, 0) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_putc(&b, '}') : rv;
    if (rv == IGW_OK) {
        *out = igw_arena_strndup(a, b.ptr, b.len);
        *outlen = b.len;
        rv = *out != NULL ? IGW_OK : IGW_ENOMEM;
    }
    igw_buf_fini(&b);
    return rv == IGW_ETOOBIG ? IGW_ENOMEM : rv;
}

/* A route with fhir.conditional: identifier must be able to send what it will get (a resource
 * with an identifier value, or a transaction/batch Bundle): else the delivery is certain to be
 * dead-lettered, so the request is refused now (422). The received resource goes without its
 * id (the client's id is igw's, the partner's resource is found by identifier). */
static int
check_conditional(struct igw_ingest *in, struct issues *is, size_t i)
{
    const struct igw_route *r = &in->ch->routes[i];
    struct igw_queue_route_init *ri = &in->routes[i];
    const char *pl = ri->payload != NULL ? ri->payload : in->body;
    size_t len = ri->payload != NULL ? ri->payload_len : in->body_len;
    char why[IGW_ERRBUF_SIZE] = "";
    char diag[IGW_ERRBUF_SIZE + IGW_QUEUE_NAME_MAX + 16];
    struct igw_buf url;
    const char *method = NULL;
    int rv = igw_fhir_out_target(r, pl, len, &url, &method, why, sizeof(why));

    igw_buf_fini(&url);
    if (rv == IGW_EINVAL) {
        snprintf(diag, sizeof(diag), "route %s: %s", r->name, why);
        issue_add(is, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_PROCESSING, NULL, diag);
        return IGW_OK;
    }
    if (rv != IGW_OK) {
        return rv == IGW_ENOENT ? IGW_OK : rv;
    }
    if (ri->payload == NULL && method != NULL && strcmp(method, "PUT") == 0 &&
        member(in->root, "id") != NULL) {
        const char *text = NULL;
        rv = without_id(in->x.arena, in->root, &text, &ri->payload_len);
        ri->payload = text;
        ri->content_type = FHIR_CT; /* a PATCH committed as this update came as a JSON Patch */
        return rv;
    }
    return IGW_OK;
}

int
fhir_in_check_output(struct igw_ingest *in, char *err, size_t errlen)
{
    struct issues *is = NULL;
    int rv = IGW_OK;

    IGW_UNUSED(err);
    IGW_UNUSED(errlen);
    for (size_t i = 0; rv == IGW_OK && i < in->ch->nroutes; i++) {
        bool cond = igw_fhir_out_conditional(&in->ch->routes[i]) && in->root != NULL;
        if ((!route_is_fhir(&in->ch->routes[i]) && !cond) || in->x.arena == NULL) {
            continue;
        }
        if (is == NULL && (is = IGW_NEW(struct issues)) == NULL) {
            return IGW_ENOMEM;
        }
        if (is->a == NULL) {
            fhir_in_match_params(in, &is->pm);
            is->a = in->x.arena;
        }
        cond = cond && fhir_in_op(in, &is->pm) != OP_NONE;
        rv = route_is_fhir(&in->ch->routes[i]) ? check_payload(in, is, i) : IGW_OK;
        rv = rv == IGW_OK && cond ? check_conditional(in, is, i) : rv;
    }
    if (rv == IGW_OK && is != NULL && is->errors > 0) {
        rv = refuse(in, 422, is);
    }
    igw_free(is);
    return rv;
}
