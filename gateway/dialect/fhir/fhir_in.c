/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR dialect of a channel (docs/FHIR-CHANNELS.md): validates what a FHIR-facing channel
 * receives (create, update, transaction/batch Bundle, Subscription rest-hook notification) and
 * what its fhir-r4 routes will deliver, and answers accepted messages as a FHIR server would:
 * 201/200 with Location and the resource, or a transaction-/batch-response Bundle.
 *
 * Ids and versions: a created resource keeps its own id, else gets the message id (16 hex
 * digits, a valid FHIR id); an update uses the id of the URL. The version id is the message id
 * too (opaque, increasing, the same for an Idempotency-Key repeat), so the Location of a
 * message is <base>/<type>/<id>/_history/<message id>.
 *
 * CPU only, nothing blocks: called from nng callbacks and the queue's writer thread.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/common.h"
#include "igw/doc.h"
#include "igw/fhir.h"
#include "igw/queue.h"
#include "dialect/fhir/fhir.h"
#include "core/ingest.h"

#define FHIR_CT "application/fhir+json"
#define ISSUES_MAX 100
#define EXPR_MAX 96
#define BASE_MAX 384
#define FHIR_ID_MAX 64

enum fhir_op { OP_NONE, OP_CREATE, OP_UPDATE, OP_BUNDLE, OP_NOTIFY };

/* Issues collected for one refusal: the validator's plus igw's own checks. */
struct issues {
    struct igw_path_match pm; /* the request's path parameters */
    igw_arena *a;
    struct igw_fhir_issue v[ISSUES_MAX];
    size_t n;
    size_t errors;
    bool truncated;
};

bool
igw_channel_is_fhir(const struct igw_channel *ch)
{
    return ch != NULL && ch->dialect != NULL && strcmp(ch->dialect, "fhir") == 0;
}

/* ---- small helpers ------------------------------------------------------------------------ */

static bool
str_is(const struct igw_node *n, const char *s)
{
    size_t len = strlen(s);
    return n != NULL && n->type == IGW_NODE_STRING && n->len == len && memcmp(n->str, s, len) == 0;
}

static const struct igw_node *
member(const struct igw_node *obj, const char *key)
{
    return igw_node_get(obj, key, strlen(key));
}

static const struct igw_node *
str_member(const struct igw_node *obj, const char *key)
{
    const struct igw_node *n = member(obj, key);
    return n != NULL && n->type == IGW_NODE_STRING ? n : NULL;
}

/* The path parameters, matched again from the request target: in->pm's values may point into
 * storage that is gone by now (a copied igw_path_match keeps pointers into the original). */
static void
match_params(const struct igw_ingest *in, struct igw_path_match *pm)
{
    memset(pm, 0, sizeof(*pm));
    if (in->target != NULL && in->ch->path != NULL &&
        !igw_path_match(in->ch->path, in->target, strlen(in->target), pm)) {
        pm->nparams = 0;
    }
}

static const struct igw_path_param *
param(const struct igw_path_match *pm, const char *name)
{
    const struct igw_path_param *p = igw_path_param_get(pm, name);
    return p != NULL && p->value_len > 0 ? p : NULL;
}

static enum fhir_op
fhir_op(const struct igw_ingest *in, const struct igw_path_match *pm)
{
    const char *i = in->ch->fhir_interaction != NULL ? in->ch->fhir_interaction : "auto";

    if (strcmp(i, "create") == 0) {
        return OP_CREATE;
    }
    if (strcmp(i, "update") == 0) {
        return OP_UPDATE;
    }
    if (strcmp(i, "bundle") == 0) {
        return OP_BUNDLE;
    }
    if (strcmp(i, "notification") == 0) {
        return OP_NOTIFY;
    }
    if (strcmp(i, "none") == 0 || param(pm, "type") == NULL) {
        return OP_NONE; /* OperationOutcome error bodies only */
    }
    return in->method != NULL && strcmp(in->method, "PUT") == 0 ? OP_UPDATE : OP_CREATE;
}

bool
igw_fhir_empty_notification(const struct igw_channel *ch, const char *body, size_t len)
{
    const char *i = ch->fhir_interaction;

    if (!igw_channel_is_fhir(ch) || i == NULL || strcmp(i, "notification") != 0) {
        return false;
    }
    for (size_t k = 0; k < len; k++) {
        if (body[k] != ' ' && body[k] != '\t' && body[k] != '\r' && body[k] != '\n') {
            return false;
        }
    }
    return true;
}

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

/* A refusal with one issue, built without a tree (no arena needed). */
static int
refuse_plain(struct igw_ingest *in, int status, const char *code, const char *message)
{
    const char *ct = FHIR_CT;
    int rv = igw_http_error_body(in->ch, &in->errbody, status, code, message, &ct);

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

/* The resource type of a create/update: the {type} parameter, else the body's resourceType.
 * Writes it NUL-terminated into out; false when it is not an R4 resource type. */
static bool
target_type(const struct igw_ingest *in, const struct igw_path_match *pm, char *out, size_t outlen)
{
    const struct igw_path_param *p = param(pm, "type");
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

static void
check_update_id(const struct igw_ingest *in, const struct igw_path_match *pm, struct issues *is,
                const char *type)
{
    const struct igw_path_param *p = param(pm, "id");
    const struct igw_node *id = str_member(in->root, "id");
    char expr[EXPR_MAX];
    char diag[IGW_ERRBUF_SIZE];

    snprintf(expr, sizeof(expr), "%s.id", type);
    if (id == NULL) {
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
igw_fhir_check_input(struct igw_ingest *in, char *err, size_t errlen)
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
    match_params(in, &is->pm);
    op = fhir_op(in, &is->pm);
    rv = IGW_OK;
    if (op == OP_NONE) {
        goto cleanup;
    }
    if (in->root == NULL) {
        rv = op == OP_NOTIFY && igw_fhir_empty_notification(in->ch, in->body, in->body_len)
                 ? IGW_OK
                 : refuse_plain(in, 400, "invalid_json", "the body is not a FHIR JSON resource");
        goto cleanup;
    }
    if ((op == OP_CREATE || op == OP_UPDATE) && !target_type(in, &is->pm, type, sizeof(type))) {
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

int
igw_fhir_check_output(struct igw_ingest *in, char *err, size_t errlen)
{
    struct issues *is = NULL;
    int rv = IGW_OK;

    IGW_UNUSED(err);
    IGW_UNUSED(errlen);
    for (size_t i = 0; rv == IGW_OK && i < in->ch->nroutes; i++) {
        if (!route_is_fhir(&in->ch->routes[i]) || in->x.arena == NULL) {
            continue;
        }
        if (is == NULL && (is = IGW_NEW(struct issues)) == NULL) {
            return IGW_ENOMEM;
        }
        is->a = in->x.arena;
        rv = check_payload(in, is, i);
    }
    if (rv == IGW_OK && is != NULL && is->errors > 0) {
        rv = refuse(in, 422, is);
    }
    igw_free(is);
    return rv;
}

/* ---- answers ------------------------------------------------------------------------------ */

/* The service base: fhir.base_url, else the request path without its last `drop` segments. */
static void
service_base(const struct igw_ingest *in, unsigned drop, char *out, size_t outlen)
{
    const char *t = in->target != NULL ? in->target : "";
    size_t n = strcspn(t, "?#");

    if (in->ch->fhir_base_url != NULL) {
        t = in->ch->fhir_base_url;
        n = strlen(t);
        drop = 0;
    }
    while (n > 0 && t[n - 1] == '/') {
        n--;
    }
    for (; drop > 0 && n > 0; drop--) {
        while (n > 0 && t[n - 1] != '/') {
            n--;
        }
        n -= n > 0 ? 1 : 0;
    }
    snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), t);
}

/* An instant (FHIR instant, UTC, milliseconds). */
static void
instant_now(char *out, size_t outlen)
{
    uint64_t ms = igw_now_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    /* strftime bounds every field, so the compiler needs no worst-case widths */
    if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm) == 0 || strlen(out) + 6 > outlen) {
        out[0] = '\0';
        return;
    }
    snprintf(out + strlen(out), outlen - strlen(out), ".%03uZ", (unsigned)(ms % 1000u));
}

/* Copies a FHIR id (string node or param) into out; false when empty or too long. */
static bool
id_copy(const char *s, size_t n, char *out, size_t outlen)
{
    if (s == NULL || n == 0 || n >= outlen) {
        return false;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static int
put_kv(struct igw_buf *b, const char *key, const char *v, bool comma)
{
    int rv = igw_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    return rv == IGW_OK ? igw_buf_json_str(b, v, strlen(v)) : rv;
}

/* Writes the members of obj except those named in skip (NULL-terminated), each led by ','. */
static int
put_members(struct igw_buf *b, const struct igw_node *obj, const char *const *skip)
{
    int rv = IGW_OK;

    for (const struct igw_node *m = obj != NULL && obj->type == IGW_NODE_OBJECT ? obj->first : NULL;
         rv == IGW_OK && m != NULL; m = m->next) {
        bool skipped = false;
        for (const char *const *k = skip; *k != NULL; k++) {
            skipped |= m->key_len == strlen(*k) && memcmp(m->key, *k, m->key_len) == 0;
        }
        if (skipped) {
            continue;
        }
        rv = igw_buf_putc(b, ',');
        if (rv == IGW_OK) {
            rv = igw_buf_json_str(b, m->key, m->key_len);
        }
        if (rv == IGW_OK) {
            rv = igw_buf_putc(b, ':');
        }
        if (rv == IGW_OK) {
            rv = igw_json_write(m, b, 0);
        }
    }
    return rv;
}

/* The stored resource as a server returns it: id and meta.versionId/lastUpdated set. */
static int
put_resource(struct igw_buf *b, const struct igw_node *res, const char *type, const char *id,
             const char *vid, const char *now)
{
    static const char *const top[] = {"resourceType", "id", "meta", NULL};
    static const char *const meta[] = {"versionId", "lastUpdated", NULL};
    int rv = igw_buf_putc(b, '{');

    if (rv == IGW_OK) {
        rv = put_kv(b, "resourceType", type, false);
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "id", id, true);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(b, ",\"meta\":{");
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "versionId", vid, false);
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "lastUpdated", now, true);
    }
    if (rv == IGW_OK) {
        rv = put_members(b, member(res, "meta"), meta);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_putc(b, '}');
    }
    if (rv == IGW_OK) {
        rv = put_members(b, res, top);
    }
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

/* A notification (or anything without a resource to echo): 200 with an information issue. */
static int
answer_outcome(struct igw_accept_resp *out, const char *vid, bool duplicate)
{
    out->status = 200;
    out->content_type = FHIR_CT;
    return igw_buf_printf(&out->body,
                          "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
                          "\"information\",\"code\":\"informational\",\"diagnostics\":"
                          "\"accepted as message %s%s\"}]}",
                          vid, duplicate ? " (duplicate)" : "");
}

static int
answer_resource(const struct igw_ingest *in, const struct igw_path_match *pm, enum fhir_op op,
                const char *vid, bool duplicate, struct igw_accept_resp *out)
{
    const struct igw_path_param *pid = param(pm, "id");
    const struct igw_node *rid = str_member(in->root, "id");
    char type[FHIR_ID_MAX];
    char id[FHIR_ID_MAX + 1];
    char base[BASE_MAX];
    char now[40];
    int rv;
    int n;

    (void)target_type(in, pm, type, sizeof(type));
    if (!(op == OP_UPDATE && pid != NULL && id_copy(pid->value, pid->value_len, id, sizeof(id))) &&
        !(rid != NULL && id_copy(rid->str, rid->len, id, sizeof(id)))) {
        snprintf(id, sizeof(id), "%s", vid);
    }
    service_base(in, op == OP_UPDATE ? 2u : 1u, base, sizeof(base));
    n = snprintf(out->location, sizeof(out->location), "%s/%s/%s/_history/%s", base, type, id, vid);
    if (n < 0 || (size_t)n >= sizeof(out->location)) {
        out->location[0] = '\0'; /* a base too long for a Location: leave it out */
    }
    instant_now(now, sizeof(now));
    out->status = op == OP_CREATE && !duplicate ? 201 : 200;
    out->content_type = FHIR_CT;
    rv = put_resource(&out->body, in->root, type, id, vid, now);
    if (rv == IGW_ETOOBIG) { /* too large to echo: the Location and an outcome instead */
        igw_buf_reset(&out->body);
        rv = answer_outcome(out, vid, duplicate);
        out->status = op == OP_CREATE && !duplicate ? 201 : 200;
    }
    return rv;
}

/* ---- transaction and batch responses ------------------------------------------------------ */

/* The resource type of an entry: its resource's resourceType, else request.url's first segment. */
static void
entry_type(const struct igw_node *e, char *out, size_t outlen)
{
    const struct igw_node *rt = str_member(member(e, "resource"), "resourceType");
    const struct igw_node *url = str_member(member(e, "request"), "url");
    const char *s = rt != NULL ? rt->str : (url != NULL ? url->str : "");
    size_t n = rt != NULL ? rt->len : (url != NULL ? strcspn(url->str, "/?") : 0);

    n = url != NULL && rt == NULL && n > url->len ? url->len : n;
    snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), s);
}

/* The id of an entry's resource: its id, else a urn:uuid fullUrl's uuid, else <vid>-<index>. */
static void
entry_id(const struct igw_node *e, const char *vid, size_t i, char *out, size_t outlen)
{
    static const char urn[] = "urn:uuid:";
    const struct igw_node *id = str_member(member(e, "resource"), "id");
    const struct igw_node *full = str_member(e, "fullUrl");

    if (id != NULL && id_copy(id->str, id->len, out, outlen)) {
        return;
    }
    if (full != NULL && full->len > sizeof(urn) - 1 &&
        memcmp(full->str, urn, sizeof(urn) - 1) == 0 &&
        id_copy(full->str + sizeof(urn) - 1, full->len - (sizeof(urn) - 1), out, outlen)) {
        return;
    }
    snprintf(out, outlen, "%s-%zu", vid, i);
}

/* request.url of a PUT names the resource (Type/id) unless it is conditional (Type?query). */
static bool
put_names_id(const struct igw_node *e, char *id, size_t idlen)
{
    const struct igw_node *url = str_member(member(e, "request"), "url");
    const char *slash;

    if (url == NULL || memchr(url->str, '?', url->len) != NULL) {
        return false;
    }
    slash = memchr(url->str, '/', url->len);
    return slash != NULL &&
           id_copy(slash + 1, url->len - (size_t)(slash + 1 - url->str), id, idlen) &&
           strchr(id, '/') == NULL;
}

static int
entry_response(struct igw_buf *b, const struct igw_node *e, const char *vid, size_t i,
               const char *now)
{
    const struct igw_node *m = str_member(member(e, "request"), "method");
    char type[FHIR_ID_MAX];
    char id[FHIR_ID_MAX + 1];
    char loc[2 * FHIR_ID_MAX + 64];
    const char *status = "200 OK";
    bool has_loc = true;
    int rv;

    entry_type(e, type, sizeof(type));
    if (str_is(m, "POST")) {
        status = "201 Created";
        entry_id(e, vid, i, id, sizeof(id));
    } else if (str_is(m, "DELETE")) {
        status = "204 No Content";
        has_loc = false;
    } else if (!put_names_id(e, id, sizeof(id))) {
        /* conditional PUT or PATCH: the id is the partner's to choose unless the body has one */
        const struct igw_node *rid = str_member(member(e, "resource"), "id");
        has_loc = rid != NULL && id_copy(rid->str, rid->len, id, sizeof(id));
    }
    rv = igw_buf_printf(b, "%s{\"response\":{", i > 0 ? "," : "");
    if (rv == IGW_OK) {
        rv = put_kv(b, "status", status, false);
    }
    if (rv == IGW_OK && has_loc) {
        snprintf(loc, sizeof(loc), "%s/%s/_history/%s", type, id, vid);
        rv = put_kv(b, "location", loc, true);
    }
    if (rv == IGW_OK && has_loc) {
        snprintf(loc, sizeof(loc), "W/\"%s\"", vid);
        rv = put_kv(b, "etag", loc, true);
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "lastModified", now, true);
    }
    return rv == IGW_OK ? igw_buf_puts(b, "}}") : rv;
}

static int
answer_bundle(const struct igw_ingest *in, const char *vid, struct igw_accept_resp *out)
{
    const struct igw_node *entries = member(in->root, "entry");
    bool batch = str_is(str_member(in->root, "type"), "batch");
    char now[40];
    size_t i = 0;
    int rv;

    instant_now(now, sizeof(now));
    out->status = 200;
    out->content_type = FHIR_CT;
    rv = igw_buf_puts(&out->body, "{\"resourceType\":\"Bundle\"");
    if (rv == IGW_OK) {
        rv = put_kv(&out->body, "id", vid, true);
    }
    if (rv == IGW_OK) {
        rv = put_kv(&out->body, "type", batch ? "batch-response" : "transaction-response", true);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(&out->body, ",\"entry\":[");
    }
    for (const struct igw_node *e =
             entries != NULL && entries->type == IGW_NODE_ARRAY ? entries->first : NULL;
         rv == IGW_OK && e != NULL; e = e->next, i++) {
        rv = entry_response(&out->body, e, vid, i, now);
    }
    return rv == IGW_OK ? igw_buf_puts(&out->body, "]}") : rv;
}

int
igw_fhir_accept_response(const struct igw_ingest *in, uint64_t id, bool duplicate,
                         struct igw_accept_resp *out)
{
    struct igw_path_match *pm = IGW_NEW(struct igw_path_match);
    enum fhir_op op;
    char vid[IGW_QUEUE_ID_STRLEN];
    int rv;

    if (pm == NULL) {
        return IGW_ENOMEM;
    }
    match_params(in, pm);
    op = fhir_op(in, pm);
    igw_queue_id_format(id, vid);
    if (op == OP_NONE) {
        out->status = 202;
        out->content_type = "application/json";
        rv = igw_http_accept_json(&out->body, id, duplicate);
    } else if (in->root == NULL || op == OP_NOTIFY) {
        rv = answer_outcome(out, vid, duplicate);
    } else if (op == OP_BUNDLE) {
        rv = answer_bundle(in, vid, out);
    } else {
        rv = answer_resource(in, pm, op, vid, duplicate, out);
    }
    igw_free(pm);
    return rv == IGW_ETOOBIG ? IGW_ENOMEM : rv;
}
