/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin request checks on nng's task thread (admin_int.h): framing (no Transfer-Encoding, no
 * body except a bounded one on edit and bulk), the admin credentials, then the method and path
 * of each endpoint and the least role it needs (the endpoint table). Never blocks.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "admin/admin_int.h"
#include "http/http.h"
#include "http/server.h"

#define PREFIX_MSGS "/admin/messages/"

static bool
verdict_set(struct igw_http_verdict *v, uint16_t status, const char *code, const char *msg)
{
    v->status = status;
    v->code = code;
    v->msg = msg;
    return false;
}

/* The paths that take a JSON request body, and its limit (0 = no body allowed). */
static uint64_t
body_limit(nng_http_req *req)
{
    const char *uri = nng_http_req_get_uri(req);
    size_t plen = strcspn(uri, "?");

    if (strcmp(nng_http_req_get_method(req), "POST") != 0) {
        return 0;
    }
    if (plen > 12 && memcmp(uri, "/admin/bulk/", 12) == 0) {
        return ADMIN_BULK_BODY_MAX;
    }
    if (plen == strlen(PREFIX_MSGS) + 21 && memcmp(uri, PREFIX_MSGS, strlen(PREFIX_MSGS)) == 0 &&
        memcmp(uri + plen - 5, "/edit", 5) == 0) {
        return ADMIN_EDIT_BODY_MAX;
    }
    return 0;
}

/* No Transfer-Encoding (nng 1.5 would hand us an empty body), and no body except a bounded
 * one on the paths that take one (edit, bulk); *clen receives its length. */
static bool
check_framing(nng_http_req *req, struct igw_http_verdict *v, uint64_t *clen)
{
    struct igw_http_framing f;
    enum igw_http_framing_fault fault = igw_http_framing_read(req, &f);
    uint64_t limit = body_limit(req);

    *clen = 0;
    if (fault == IGW_FRAMING_CHUNKED) {
        v->close = true;
        return verdict_set(v, 501, "transfer_encoding_unsupported",
                           "Transfer-Encoding is not supported");
    }
    /* IGW_FRAMING_EXPECT is no fault here: Expect is ignored, as there is no body to expect */
    if (fault == IGW_FRAMING_LENGTH || (f.clen > 0 && limit == 0)) {
        v->close = true; /* the unread body must not be parsed as the next request */
        return verdict_set(v, 413, "body_not_allowed", "this admin request takes no body");
    }
    if (f.clen > limit) {
        v->close = true;
        return verdict_set(v, 413, "body_too_large", "the request body is over the limit");
    }
    *clen = f.clen;
    return true;
}

/* The admin credentials, after the address's failed-authentication throttle: a throttled
 * address gets 429 before its credentials are checked (docs/ADMIN-API.md). Fills j->caller. */
static bool
check_auth(const igw_admin *a, nng_http_req *req, struct admin_job *j, struct igw_http_verdict *v)
{
    const char *peer = igw_http_peer(req);
    uint64_t now = igw_mono_ms();
    unsigned wait = igw_throttle_wait(a->thr, peer, now);

    if (wait > 0) {
        IGW_WARN("admin auth throttled peer=%s retry_after=%u", peer, wait);
        v->retry_after = igw_throttle_retry_after(wait);
        return verdict_set(v, 429, "too_many_auth_failures",
                           "too many failed authentications from this address; retry later");
    }
    /* checked alone (no channels): a channel's token gets 401 here, never 403 */
    if (igw_admin_identify(a->cfg, nng_http_req_get_header(req, "Authorization"), &j->caller) !=
        IGW_OK) {
        bool over = igw_throttle_fail(a->thr, peer, now);
        IGW_WARN("admin auth refused peer=%s%s", peer, over ? " (failures over the limit)" : "");
        igw_http_verdict_of(IGW_HTTP_ADMIN, IGW_EAUTH, NULL, NULL, v);
        v->challenge = "Bearer realm=\"igw-admin\"";
        return false;
    }
    return true;
}

/* ?route=NAME: 1..128 bytes of [A-Za-z0-9_.-]. */
static bool
parse_query(const char *q, struct admin_job *j, struct igw_http_verdict *v)
{
    const char *p = q;
    size_t n;

    while (p != NULL && *p != '\0' && strncmp(p, "route=", 6) != 0) {
        p = strchr(p, '&');
        p = p != NULL ? p + 1 : NULL;
    }
    if (p == NULL || *p == '\0') {
        return true;
    }
    p += 6;
    n = strcspn(p, "&");
    if (n == 0 || n > IGW_QUEUE_NAME_MAX ||
        strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                  "opqrstuvwxyz0123456789_.-") < n) {
        return verdict_set(v, 400, "bad_route", "route must be a route name");
    }
    memcpy(j->route, p, n);
    j->route[n] = '\0';
    j->has_route = true;
    return true;
}

static bool
method_is(const char *m, const char *want, const char *allow, struct igw_http_verdict *v)
{
    if (strcmp(m, want) == 0) {
        return true;
    }
    v->allow = allow;
    return verdict_set(v, 405, "method_not_allowed", "this path takes another method (see Allow)");
}

/* /admin/messages/{id}[/replay|/release|/retry|/edit|/purge] */
static bool
route_message(const char *method, const char *rest, size_t len, struct admin_job *j,
              struct igw_http_verdict *v)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    const char *action = len > 16 ? rest + 16 : "";
    size_t alen = len > 16 ? len - 16 : 0;

    if (len < 16 || (alen > 0 && action[0] != '/')) {
        return verdict_set(v, 400, "bad_id", "a message id is 16 hex digits");
    }
    memcpy(hex, rest, 16);
    hex[16] = '\0';
    if (igw_queue_id_parse(hex, &j->id) != IGW_OK) {
        return verdict_set(v, 400, "bad_id", "a message id is 16 hex digits");
    }
    if (alen == 0) {
        if (strcmp(method, "DELETE") == 0) {
            j->op = OP_PURGE;
            return true;
        }
        j->op = OP_INFO;
        return method_is(method, "GET", "GET, DELETE", v);
    }
    if (alen == 7 && memcmp(action, "/replay", 7) == 0) {
        j->op = OP_REPLAY;
    } else if (alen == 8 && memcmp(action, "/release", 8) == 0) {
        j->op = OP_RELEASE;
    } else if (alen == 6 && memcmp(action, "/retry", 6) == 0) {
        j->op = OP_RETRY;
    } else if (alen == 5 && memcmp(action, "/edit", 5) == 0) {
        j->op = OP_EDIT;
    } else if (alen == 6 && memcmp(action, "/purge", 6) == 0) {
        j->op = OP_PURGE;
    } else {
        return verdict_set(v, 404, "not_found", "no admin endpoint on this path");
    }
    return method_is(method, "POST", "POST", v);
}

/* The endpoints on fixed paths: method, the job (or inline answer), the least role. A row per
 * endpoint; /admin/messages/{id}[/action] is routed by route_message, /admin/jobs/{id} by its
 * prefix (role viewer). */
struct endpoint {
    const char *path;
    const char *method;
    enum admin_op op;
    enum igw_admin_role need;    /* IGW_ROLE_NONE: no credentials at all (probes) */
    enum admin_bulk_action bulk; /* OP_BULK: which one */
};

static const struct endpoint endpoints[] = {
    {"/healthz", "GET", OP_HEALTHZ, IGW_ROLE_NONE, BULK_NONE},
    {"/readyz", "GET", OP_READYZ, IGW_ROLE_NONE, BULK_NONE},
    {"/admin/health", "GET", OP_HEALTH, IGW_ROLE_VIEWER, BULK_NONE},
    {"/admin/whoami", "GET", OP_WHOAMI, IGW_ROLE_VIEWER, BULK_NONE},
    {"/metrics", "GET", OP_METRICS, IGW_ROLE_VIEWER, BULK_NONE},
    {"/admin/stats", "GET", OP_STATS, IGW_ROLE_VIEWER, BULK_NONE},
    {"/admin/audit", "GET", OP_AUDIT, IGW_ROLE_VIEWER, BULK_NONE},
    {"/admin/alerts", "GET", OP_ALERTS, IGW_ROLE_VIEWER, BULK_NONE},
    {"/admin/dci/subscriptions", "GET", OP_DCI_SUBS, IGW_ROLE_VIEWER, BULK_NONE},
    {"/admin/messages", "GET", OP_LIST, IGW_ROLE_VIEWER, BULK_NONE},
    {"/admin/events", "GET", OP_EVENTS, IGW_ROLE_VIEWER, BULK_NONE},
    {"/admin/bulk/release", "POST", OP_BULK, IGW_ROLE_OPERATOR, BULK_RELEASE},
    {"/admin/bulk/replay", "POST", OP_BULK, IGW_ROLE_OPERATOR, BULK_REPLAY},
    {"/admin/bulk/retry", "POST", OP_BULK, IGW_ROLE_OPERATOR, BULK_RETRY},
    {"/admin/bulk/purge", "POST", OP_BULK, IGW_ROLE_ADMIN, BULK_PURGE},
    {"/admin/payments/mismatches", "GET", OP_PAY_MISMATCHES, IGW_ROLE_VIEWER, BULK_NONE},
};

#define PREFIX_PAYROLLS "/admin/payments/payrolls/"

/* /admin/payments/payrolls/{uuid}[.csv]: the uuid 1..63 bytes of [A-Za-z0-9._:-]. */
static bool
route_payroll(const char *method, const char *rest, size_t len, struct admin_job *j,
              struct igw_http_verdict *v)
{
    bool csv = len > 4 && memcmp(rest + len - 4, ".csv", 4) == 0;
    size_t n = csv ? len - 4 : len;

    if (n == 0 || n >= sizeof(j->payroll) ||
        strspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") < n) {
        return verdict_set(v, 400, "bad_payroll", "a payroll is its uuid");
    }
    memcpy(j->payroll, rest, n);
    j->payroll[n] = '\0';
    j->op = csv ? OP_PAYROLL_CSV : OP_PAYROLL;
    return method_is(method, "GET", "GET", v);
}

static const struct endpoint *
endpoint_find(const char *uri, size_t plen)
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(endpoints); i++) {
        if (strlen(endpoints[i].path) == plen && memcmp(uri, endpoints[i].path, plen) == 0) {
            return &endpoints[i];
        }
    }
    return NULL;
}

/* The least role of a message op: reads for viewers, repairs for operators, purge for admins. */
static enum igw_admin_role
message_role(enum admin_op op)
{
    switch (op) {
    case OP_INFO:
        return IGW_ROLE_VIEWER;
    case OP_PURGE:
        return IGW_ROLE_ADMIN;
    default:
        return IGW_ROLE_OPERATOR;
    }
}

static bool
check_role(const struct admin_job *j, enum igw_admin_role need, struct igw_http_verdict *v)
{
    if (igw_admin_allowed(&j->caller, need)) {
        return true;
    }
    IGW_WARN("admin forbidden who=%s role=%s needs=%s", j->caller.name,
             igw_admin_role_name(j->caller.role), igw_admin_role_name(need));
    return verdict_set(v, 403, "forbidden", "this credential's role may not do this");
}

bool
admin_query_get(const char *query, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    const char *p = query;

    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, "&");
        if (n > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = n - klen - 1;
            if (vlen >= outlen) {
                return false;
            }
            memcpy(out, p + klen + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = p[n] == '&' ? p + n + 1 : NULL;
    }
    return false;
}

/* Fills j from the method, path and query, after the credentials; false with *v set when
 * refused (401, 403, 404, 405, 400). */
static bool
route_request(const igw_admin *a, nng_http_req *req, struct admin_job *j,
              struct igw_http_verdict *v)
{
    const char *method = nng_http_req_get_method(req);
    const char *uri = nng_http_req_get_uri(req);
    size_t plen = strcspn(uri, "?");
    const char *query = uri[plen] == '?' ? uri + plen + 1 : NULL;
    const struct endpoint *e = endpoint_find(uri, plen);
    size_t pre = strlen(PREFIX_MSGS);
    if (query != NULL && strlen(query) > ADMIN_QUERY_MAX) {
        return verdict_set(v, 400, "query_too_long", "the query string is too long");
    }
    snprintf(j->query, sizeof(j->query), "%s", query != NULL ? query : "");
    if (e != NULL && e->need == IGW_ROLE_NONE) { /* public probes: no credentials asked */
        j->op = e->op;
        return method_is(method, e->method, e->method, v);
    }
    if (!check_auth(a, req, j, v)) {
        return false;
    }
    if (query != NULL && !parse_query(query, j, v)) {
        return false;
    }
    if (e != NULL) {
        j->op = e->op;
        j->bulk = e->bulk;
        return method_is(method, e->method, e->method, v) && check_role(j, e->need, v);
    }
    if (plen > pre && memcmp(uri, PREFIX_MSGS, pre) == 0) {
        return route_message(method, uri + pre, plen - pre, j, v) &&
               check_role(j, message_role(j->op), v);
    }
    if (plen > strlen(PREFIX_PAYROLLS) &&
        memcmp(uri, PREFIX_PAYROLLS, strlen(PREFIX_PAYROLLS)) == 0) {
        return route_payroll(method, uri + strlen(PREFIX_PAYROLLS), plen - strlen(PREFIX_PAYROLLS),
                             j, v) &&
               check_role(j, IGW_ROLE_VIEWER, v);
    }
    if (plen > 12 && memcmp(uri, "/admin/bulk/", 12) == 0) {
        return verdict_set(v, 404, "not_found", "bulk actions: release, replay, purge, retry");
    }
    if (plen > 12 && plen <= 12 + 16 && memcmp(uri, "/admin/jobs/", 12) == 0) {
        j->op = OP_JOB;
        memcpy(j->job, uri + 12, plen - 12);
        j->job[plen - 12] = '\0';
        return method_is(method, "GET", "GET", v) && check_role(j, IGW_ROLE_VIEWER, v);
    }
    return verdict_set(v, 404, "not_found", "no admin endpoint on this path");
}

bool
admin_request_check(const igw_admin *a, nng_http_req *req, struct admin_job *j,
                    struct igw_http_verdict *v)
{
    uint64_t clen = 0;

    if (!check_framing(req, v, &clen)) {
        return false;
    }
    j->clen = clen;
    if (!route_request(a, req, j, v)) {
        if (clen > 0) {
            v->close = true; /* the body is not read */
        }
        return false;
    }
    return true;
}
