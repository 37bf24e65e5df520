/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin request checks on nng's task thread (admin_int.h): framing (no Transfer-Encoding, no
 * body), the admin credentials, then the method and path of each endpoint. Never blocks.
 */
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
 * address gets 429 before its credentials are checked (docs/ADMIN-API.md). */
static bool
check_auth(const igw_admin *a, nng_http_req *req, struct igw_http_verdict *v)
{
    /* checked alone (no channels): a channel's token gets 401 here, never 403 */
    static const struct igw_config none;
    struct igw_channel ch;
    const char *peer = igw_http_peer(req);
    uint64_t now = igw_mono_ms();
    unsigned wait = igw_throttle_wait(a->thr, peer, now);

    if (wait > 0) {
        IGW_WARN("admin auth throttled peer=%s retry_after=%u", peer, wait);
        v->retry_after = igw_throttle_retry_after(wait);
        return verdict_set(v, 429, "too_many_auth_failures",
                           "too many failed authentications from this address; retry later");
    }
    memset(&ch, 0, sizeof(ch));
    ch.auth = a->cfg->admin_auth;
    if (igw_http_auth_check(&none, &ch, nng_http_req_get_header(req, "Authorization")) != IGW_OK) {
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

/* /admin/messages/{id}[/replay|/release] */
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

/* Fills j from the method and target; false with *v set when refused. *health for
 * GET /admin/health. */
static bool
route_request(nng_http_req *req, struct admin_job *j, bool *health, struct igw_http_verdict *v)
{
    const char *method = nng_http_req_get_method(req);
    const char *uri = nng_http_req_get_uri(req);
    size_t plen = strcspn(uri, "?");
    const char *query = uri[plen] == '?' ? uri + plen + 1 : NULL;
    size_t pre = strlen(PREFIX_MSGS);

    *health = false;
    if (query != NULL && !parse_query(query, j, v)) {
        return false;
    }
    if (plen == 13 && memcmp(uri, "/admin/health", 13) == 0) {
        *health = true;
        return method_is(method, "GET", "GET", v);
    }
    if (plen == 12 && memcmp(uri, "/admin/stats", 12) == 0) {
        j->op = OP_STATS;
        return method_is(method, "GET", "GET", v);
    }
    if (plen > pre && memcmp(uri, PREFIX_MSGS, pre) == 0) {
        return route_message(method, uri + pre, plen - pre, j, v);
    }
    if (plen == pre - 1 && memcmp(uri, PREFIX_MSGS, pre - 1) == 0) {
        j->op = OP_LIST;
        if (query != NULL && strlen(query) > ADMIN_QUERY_MAX) {
            return verdict_set(v, 400, "bad_query", "the query string is too long");
        }
        if (query != NULL) {
            memcpy(j->query, query, strlen(query) + 1);
        }
        return method_is(method, "GET", "GET", v);
    }
    if (plen == 13 && memcmp(uri, "/admin/events", 13) == 0) {
        j->op = OP_EVENTS;
        return method_is(method, "GET", "GET", v);
    }
    if (plen > 12 && memcmp(uri, "/admin/bulk/", 12) == 0) {
        static const char *const acts[] = {"release", "replay", "purge", "retry"};
        for (unsigned i = 0; i < 4; i++) {
            if (plen - 12 == strlen(acts[i]) && memcmp(uri + 12, acts[i], plen - 12) == 0) {
                j->op = OP_BULK;
                j->bulk = (enum admin_bulk_action)(i + 1);
                return method_is(method, "POST", "POST", v);
            }
        }
        return verdict_set(v, 404, "not_found", "bulk actions: release, replay, purge, retry");
    }
    if (plen > 12 && plen <= 12 + 16 && memcmp(uri, "/admin/jobs/", 12) == 0) {
        j->op = OP_JOB;
        memcpy(j->job, uri + 12, plen - 12);
        j->job[plen - 12] = '\0';
        return method_is(method, "GET", "GET", v);
    }
    return verdict_set(v, 404, "not_found", "no admin endpoint on this path");
}

/* The least role each operation needs (docs/openapi/admin.yaml, x-igw-role). */
static enum igw_admin_role
op_role(const struct admin_job *j)
{
    switch (j->op) {
    case OP_PURGE:
        return IGW_ROLE_ADMIN;
    case OP_BULK:
        return j->bulk == BULK_PURGE ? IGW_ROLE_ADMIN : IGW_ROLE_OPERATOR;
    case OP_REPLAY:
    case OP_RELEASE:
    case OP_RETRY:
    case OP_EDIT:
        return IGW_ROLE_OPERATOR;
    default:
        return IGW_ROLE_VIEWER;
    }
}

bool
admin_request_check(const igw_admin *a, nng_http_req *req, struct admin_job *j, bool *health,
                    struct igw_http_verdict *v)
{
    uint64_t clen = 0;
    bool ok;

    *health = false;
    if (!check_framing(req, v, &clen)) {
        return false;
    }
    ok = check_auth(a, req, v) && route_request(req, j, health, v);
    if (ok && !*health && !admin_need(req, op_role(j))) {
        ok = verdict_set(v, 403, "forbidden", "your admin role does not allow this");
    }
    if (!ok && clen > 0) {
        v->close = true; /* the body is not read */
    }
    j->clen = clen;
    return ok;
}
