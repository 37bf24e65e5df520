/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP intake on nng 1.5's HTTP server: one tree handler on "/" for every method routes each
 * request to a channel by method and path pattern. The handler never blocks: it checks the
 * headers, reads the body itself with an aio (collect_body is off, so 413/401/415/417 are
 * answered before the body is read), submits the message to the queue and finishes nng's
 * handler aio from the queue's commit callback. docs/HTTP-INGEST.md explains every status and
 * the nng 1.5.2 traps this works around.
 *
 * Threads: handle() and io_cb() run on nng's task threads, commit_accept() and commit_refuse()
 * (called by http/commit.c) on the queue's writer thread; a request is touched by one of them
 * at a time (hand-off through the aio or the queue).
 * Request structs are pooled with their body aio and a small inline body buffer, so a typical
 * request allocates neither (no nng_aio_alloc/reap per request: the reap thread stays idle).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "core/ingest.h"
#include "in_http/in_http_int.h"
#include "in_http/in_http_face.h"
#include "in_http/in_http_med.h"
#include "http/commit.h"
#include "http/server.h"
#include "http/status.h"
#include "http/throttle.h"
#include "stats/stats.h"

/* ---- responses ---------------------------------------------------------------------------- */

/* Once inflight is 0, igw_http_in_stop may free hi: nothing may touch hi after the decrement
 * that reaches 0 unless stop is held off. So a request that is not the last one decrements
 * without a lock (inflight stays above 0, hi stays alive), and the last one decrements, reads
 * closing and wakes under mtx, which stop holds while it reads inflight (found by TSan: the
 * read of closing after the decrement raced with the free). */
static void
inflight_done(struct igw_http_in *hi)
{
    unsigned old = atomic_load(&hi->inflight);

    while (old > 1) {
        if (atomic_compare_exchange_weak(&hi->inflight, &old, old - 1)) {
            return;
        }
    }
    nng_mtx_lock(hi->mtx);
    if (atomic_fetch_sub(&hi->inflight, 1) == 1 && atomic_load(&hi->closing)) {
        nng_cv_wake(hi->cv);
    }
    nng_mtx_unlock(hi->mtx);
}

/* Clears a request for its next use, keeping the aio and the pool link. */
static void
request_reset(struct request *r)
{
    memset(r, 0, offsetof(struct request, pool_next));
}

static struct request *
request_get(struct igw_http_in *hi)
{
    struct request *r;

    nng_mtx_lock(hi->pool_mtx);
    r = hi->pool;
    if (r != NULL) {
        hi->pool = r->pool_next;
        hi->npool--;
    }
    nng_mtx_unlock(hi->pool_mtx);
    if (r == NULL) {
        r = IGW_NEW(struct request);
    }
    return r;
}

static void
request_destroy(struct request *r)
{
    if (r->io != NULL) {
        nng_aio_reap(r->io); /* safe from the aio's own callback */
    }
    igw_free(r);
}

/* Returns r to the pool (its aio may still be running the callback that called this: a reuse
 * starts a new operation on it, which nng allows). */
static void
request_free(struct request *r)
{
    struct igw_http_in *hi = r->hi;
    bool kept = false;

    igw_ingest_fini(&r->in);
    if (r->body != r->small) {
        igw_free(r->body);
    }
    request_reset(r);
    nng_mtx_lock(hi->pool_mtx);
    if (hi->npool < POOL_MAX) {
        r->pool_next = hi->pool;
        hi->pool = r;
        hi->npool++;
        kept = true;
    }
    nng_mtx_unlock(hi->pool_mtx);
    if (!kept) {
        request_destroy(r);
    }
}

/* Hands the response to nng (res NULL: close the connection without an answer) and frees r.
 * r->req belongs to nng again once the aio is finished: nothing may touch it afterwards. */
static void
finish(struct request *r, nng_http_res *res)
{
    struct igw_http_in *hi = r->hi;
    nng_aio *haio = r->haio;

    if (res != NULL) {
        igw_stats_http(r->ch, nng_http_res_get_status(res));
    }
    request_free(r);
    igw_http_finish(haio, res);
    inflight_done(hi);
}

static void
reply_error(struct request *r, const struct igw_http_verdict *verdict)
{
    struct igw_http_verdict v = *verdict;
    struct igw_buf b;
    nng_http_res *res = NULL;
    const char *ctype = "application/json";
    bool basic = r->ch != NULL && r->ch->auth.type == IGW_AUTH_BASIC;

    if (v.status == 401) {
        v.challenge = basic ? "Basic realm=\"igw\"" : "Bearer realm=\"igw\"";
    } else if (v.status == 405) {
        v.allow = r->allow;
    }
    igw_buf_init(&b, 2048);
    if (igw_http_error_body(r->ch != NULL ? r->ch : r->family, &b, v.status, v.code, v.msg,
                            &ctype) == IGW_OK) {
        res = igw_http_res_new(v.status, ctype, b.ptr, b.len);
    }
    if (res != NULL) {
        (void)igw_http_res_hints(res, &v);
    }
    igw_buf_fini(&b);
    IGW_INFO("http %u %s channel=%s peer=%s %s", v.status, v.code,
             r->ch != NULL ? r->ch->name : "-", igw_http_peer(r->req), v.close ? "close" : "");
    finish(r, res);
}

static void
reject(struct request *r, uint16_t status, const char *code, const char *msg, bool close)
{
    struct igw_http_verdict v = {.status = status, .code = code, .msg = msg, .close = close};
    reply_error(r, &v);
}

/* Answers with the intake's row of the status table for err; close forces Connection: close. */
static void
reject_err(struct request *r, int err, bool close)
{
    struct igw_http_verdict v;

    igw_http_verdict_of(IGW_HTTP_INTAKE, err, NULL, NULL, &v);
    v.close = v.close || close;
    reply_error(r, &v);
}

/* ---- commit ------------------------------------------------------------------------------- */

static void
commit_refuse(void *arg, const struct igw_http_verdict *v)
{
    reply_error(arg, v);
}

/* Runs on the queue's writer thread after the group commit. */
static void
commit_accept(void *arg, uint64_t id, bool duplicate)
{
    struct request *r = arg;
    struct igw_accept_resp resp;
    nng_http_res *res;
    int rv = igw_accept_response(&r->in, id, duplicate, &resp);

    /* an empty body (Prefer: return=minimal) may have no storage yet */
    res = rv == IGW_OK ? igw_http_res_new((uint16_t)resp.status, resp.content_type,
                                          resp.body.ptr != NULL ? resp.body.ptr : "", resp.body.len)
                       : NULL;
    if (res != NULL) {
        igw_in_http_answer_headers(res, &resp);
    }
    igw_buf_fini(&resp.body);
    igw_in_http_invalidate(r->hi->med, r->ch, &r->pm);
    finish(r, res);
}

static const struct igw_commit_ops commit_ops = {
    .name = "http", .via = "", .refuse = commit_refuse, .accept = commit_accept};

/* A refusal whose body a dialect hook already built (e.g. an OperationOutcome). */
static void
reply_prepared(struct request *r)
{
    nng_http_res *res = igw_http_res_new((uint16_t)r->in.errstatus, r->in.errtype,
                                         r->in.errbody.ptr, r->in.errbody.len);

    IGW_INFO("http %d refused channel=%s peer=%s", r->in.errstatus, r->ch->name,
             igw_http_peer(r->req));
    finish(r, res);
}

static const char *
req_header(void *arg, const char *name)
{
    return nng_http_req_get_header(arg, name);
}

static void submit(struct request *r);

static void
med_answer(void *arg, nng_http_res *res)
{
    finish(arg, res);
}

/* A mediator ends in a durable write (IGW_MED_COMMIT): ingest body (NULL: the inbound one). */
static void
med_commit(void *arg, const char *method, const char *ctype, char *body, size_t len)
{
    struct request *r = arg;

    snprintf(r->wmethod, sizeof(r->wmethod), "%s", method);
    snprintf(r->wctype, sizeof(r->wctype), "%s", ctype != NULL ? ctype : "");
    if (body != NULL) {
        if (r->body != r->small) {
            igw_free(r->body);
        }
        r->body = body;
        r->clen = len;
    }
    submit(r);
}

static void
submit(struct request *r)
{
    char err[IGW_ERRBUF_SIZE] = "invalid body";
    struct igw_queue_msg m;
    struct igw_http_verdict v;
    int rv;

    if (r->ch->mediator_ops != NULL && r->wmethod[0] == '\0') {
        /* answered from upstream calls, or back here through med_commit */
        igw_in_http_mediate(r->hi->med, r->ch, r->req, &r->pm, r->body, (size_t)r->clen, med_answer,
                            med_commit, r);
        return;
    }
    r->commit.ops = &commit_ops;
    r->commit.arg = r;
    r->commit.ch = r->ch;
    r->commit.d = r->hi->d;
    r->commit.bytes = (size_t)r->clen;
    r->in.ch = r->ch;
    r->in.method = r->wmethod[0] != '\0' ? r->wmethod : nng_http_req_get_method(r->req);
    r->in.target = nng_http_req_get_uri(r->req);
    r->in.pm = &r->pm;
    r->in.header = req_header;
    r->in.header_arg = r->req;
    r->in.content_type =
        r->wctype[0] != '\0' ? r->wctype : nng_http_req_get_header(r->req, "Content-Type");
    r->in.idem_key = nng_http_req_get_header(r->req, "Idempotency-Key");
    r->in.body = r->body != NULL ? r->body : "";
    r->in.body_len = (size_t)r->clen;
    r->in.maps = r->hi->maps;
    rv = igw_ingest_prepare(&r->in, err, sizeof(err));
    if (rv != IGW_OK && r->in.errbody.len > 0) {
        reply_prepared(r);
        return;
    }
    if (rv == IGW_EPARSE || rv == IGW_ETRANSLATE) {
        igw_http_verdict_of(IGW_HTTP_INTAKE, rv, igw_ingest_parse_code(&r->in), err, &v);
        reply_error(r, &v);
        return;
    }
    if (rv != IGW_OK) {
        igw_commit_fail(&r->commit, rv);
        return;
    }
    igw_ingest_msg(&r->in, &m);
    igw_commit_submit(&r->commit, r->hi->q, &m); /* from here the commit answers and frees r */
}

/* POST /oauth2/client/token (wellknown.c) or a channel's message; a refused client counts as a
 * failed authentication of its address. */
static void
submit_or_token(struct request *r)
{
    int st = 0;
    nng_http_res *res;

    if (r->builtin != IGW_HTTP_BUILTIN_TOKEN) {
        submit(r);
        return;
    }
    res = igw_http_builtin_token(r->hi->cfg, nng_http_req_get_header(r->req, "Content-Type"),
                                 r->body != NULL ? r->body : "", (size_t)r->clen, &st);
    if (st == 401) {
        (void)igw_throttle_fail(r->hi->thr, igw_http_peer(r->req), igw_mono_ms());
    }
    finish(r, res); /* NULL (out of memory): the connection is closed */
}

/* ---- body --------------------------------------------------------------------------------- */

static void
read_body(struct request *r)
{
    nng_iov iov;

    r->phase = PH_BODY;
    iov.iov_buf = r->body;
    iov.iov_len = (size_t)r->clen;
    nng_aio_set_iov(r->io, 1, &iov);
    nng_aio_set_timeout(r->io, BODY_TIMEOUT_MS);
    nng_http_conn_read_all(r->conn, r->io);
}

static void
io_cb(void *arg)
{
    struct request *r = arg;
    int rv = nng_aio_result(r->io);

    if (rv == NNG_ETIMEDOUT) {
        /* nng closes the connection when it aborts a read, so no 408 can be written */
        IGW_INFO("http body timeout: connection closed");
        finish(r, NULL);
        return;
    }
    if (rv != 0) {
        IGW_DEBUG("http body read failed: %s", nng_strerror(rv));
        finish(r, NULL); /* the client went away: nobody to answer */
        return;
    }
    if (r->phase == PH_CONTINUE) {
        read_body(r);
        return;
    }
    if (r->rejected) {
        reply_error(r, &r->verdict);
        return;
    }
    submit_or_token(r);
}

/* Starts reading the body (after a 100 Continue when the client asked for one). */
static void
start_body(struct request *r)
{
    nng_iov iov;
    int rv = r->io != NULL ? 0 : nng_aio_alloc(&r->io, io_cb, r);

    if (rv == 0) {
        r->body = r->clen < BODY_INLINE ? r->small : igw_malloc((size_t)r->clen + 1);
    }
    if (r->body == NULL) {
        reject_err(r, IGW_ENOMEM, true); /* the body is unread: close */
        return;
    }
    r->body[r->clen] = '\0';
    if (r->clen == 0) {
        submit_or_token(r); /* nothing to read (a refusal with no body never gets here) */
        return;
    }
    if (!r->expect || r->rejected) {
        read_body(r);
        return;
    }
    r->phase = PH_CONTINUE;
    memcpy(r->cont, "HTTP/1.1 100 Continue\r\n\r\n", 26);
    iov.iov_buf = r->cont;
    iov.iov_len = 25;
    nng_aio_set_iov(r->io, 1, &iov);
    nng_aio_set_timeout(r->io, BODY_TIMEOUT_MS);
    nng_http_conn_write_all(r->conn, r->io);
}

/* Refuses a request whose headers were read: at once when nothing (or too much) is unread,
 * else after reading and dropping the body so the connection can carry the next request. */
static void
refuse_v(struct request *r, struct igw_http_verdict v)
{
    if (r->clen == 0) {
        reply_error(r, &v);
        return;
    }
    if (r->expect || r->clen > DRAIN_MAX) {
        v.close = true;
        reply_error(r, &v);
        return;
    }
    r->rejected = true;
    r->verdict = v;
    start_body(r);
}

static void
refuse(struct request *r, uint16_t status, const char *code, const char *msg)
{
    struct igw_http_verdict v = {.status = status, .code = code, .msg = msg};
    refuse_v(r, v);
}

/* refuse() with the intake's row of the status table for err. */
static void
refuse_err(struct request *r, int err)
{
    struct igw_http_verdict v;

    igw_http_verdict_of(IGW_HTTP_INTAKE, err, NULL, NULL, &v);
    refuse_v(r, v);
}

/* ---- header checks ------------------------------------------------------------------------ */

/* Finds the most specific channel for method and path. 0 on success, else 404 or 405. */
static int
route(struct request *r)
{
    const struct igw_config *cfg = r->hi->cfg;
    const char *method = nng_http_req_get_method(r->req);
    const char *target = nng_http_req_get_uri(r->req);
    struct igw_path_match m;
    bool path_seen = false;

    for (size_t i = 0; i < cfg->nchannels; i++) {
        const struct igw_channel *ch = &cfg->channels[i];
        if (!igw_path_match(ch->path, target, strlen(target), &m)) {
            continue;
        }
        path_seen = true;
        r->family = ch;
        igw_in_http_allow_add(r->allow, sizeof(r->allow), ch->method);
        if (strcmp(ch->method, "GET") == 0) {
            igw_in_http_allow_add(r->allow, sizeof(r->allow), "HEAD");
        }
        if (igw_in_http_method_is(method, ch->method) &&
            (r->ch == NULL || m.literals > r->pm.literals)) {
            r->ch = ch;
            r->pm = m;
        }
    }
    if (r->ch != NULL) {
        /* match again in place: a copied match's parameter values would still point into the
         * local m.scratch */
        igw_path_match(r->ch->path, target, strlen(target), &r->pm);
        return 0;
    }
    if (!path_seen) {
        r->family = igw_in_http_family(cfg, target);
    }
    return path_seen ? 405 : 404;
}

/* Transfer-Encoding, Content-Length and Expect. false when the request was answered. */
static bool
check_framing(struct request *r)
{
    struct igw_http_framing f;

    switch (igw_http_framing_read(r->req, &f)) {
    case IGW_FRAMING_CHUNKED:
        reject(r, 501, "transfer_encoding_unsupported",
               "Transfer-Encoding (chunked bodies) is not supported: send Content-Length", true);
        return false;
    case IGW_FRAMING_LENGTH:
        reject(r, 400, "bad_content_length", "invalid Content-Length", true);
        return false;
    case IGW_FRAMING_EXPECT:
        reject(r, 417, "expectation_failed", "only Expect: 100-continue is supported", true);
        return false;
    case IGW_FRAMING_OK:
        break;
    }
    r->has_clen = f.has_clen;
    r->clen = f.clen;
    r->expect = f.expect;
    return true;
}

static bool
check_route(struct request *r)
{
    int st = route(r);
    if (st != 0 && igw_in_http_trim_slash(r->req)) { /* [base]/ is [base] */
        r->allow[0] = '\0';
        st = route(r);
    }
    if (st == 404) {
        refuse(r, 404, "not_found", "no channel listens on this path");
        return false;
    }
    if (st == 405) {
        refuse(r, 405, "method_not_allowed", "this path takes another method (see Allow)");
        return false;
    }
    if (!r->has_clen && r->ch->mediator_ops == NULL) {
        reject(r, 411, "length_required", "Content-Length is required", true);
        return false;
    }
    if (r->clen > r->ch->max_body) {
        reject(r, 413, "payload_too_large", "the body exceeds the channel's max_body", true);
        return false;
    }
    if (!igw_path_params_utf8(&r->pm)) {
        refuse(r, 400, "bad_path_parameter", "a path parameter is not valid UTF-8");
        return false;
    }
    return true;
}

/* Credentials, after the address's failed-authentication throttle (docs/HTTP-INGEST.md): a
 * throttled address gets 429 before its credentials are checked, so guessing learns nothing. */
static bool
check_auth(struct request *r)
{
    const char *peer = igw_http_peer(r->req);
    uint64_t now = igw_mono_ms();
    unsigned wait =
        r->ch->auth.type != IGW_AUTH_NONE ? igw_throttle_wait(r->hi->thr, peer, now) : 0;
    struct igw_http_verdict v = {
        .status = 429,
        .code = "too_many_auth_failures",
        .msg = "too many failed authentications from this address; retry later"};
    int rv;

    if (wait > 0) {
        IGW_WARN("auth throttled peer=%s channel=%s retry_after=%u", peer, r->ch->name, wait);
        v.retry_after = igw_throttle_retry_after(wait);
        refuse_v(r, v);
        return false;
    }
    rv = igw_http_auth_check(r->hi->cfg, r->ch, nng_http_req_get_header(r->req, "Authorization"));
    if (rv != IGW_OK) {
        bool over = rv == IGW_EAUTH && igw_throttle_fail(r->hi->thr, peer, now);
        IGW_WARN("auth refused peer=%s channel=%s%s", peer, r->ch->name,
                 over ? " (failures over the limit)" : "");
        refuse_err(r, rv); /* IGW_EAUTH 401, IGW_EPERM 403 */
        return false;
    }
    return true;
}

static bool
check_request(struct request *r, bool overloaded)
{
    const char *idem = nng_http_req_get_header(r->req, "Idempotency-Key");
    struct igw_http_verdict v;

    if (overloaded) {
        refuse_err(r, IGW_EAGAIN);
        return false;
    }
    if (!check_auth(r)) {
        return false;
    }
    if (!igw_in_http_negotiate(r->ch, r->req, &v)) {
        refuse_v(r, v);
        return false;
    }
    if ((r->clen > 0 || r->ch->mediator_ops == NULL) && /* a GET has no Content-Type */
        !igw_in_http_content_type_ok(r->ch, nng_http_req_get_header(r->req, "Content-Type"))) {
        refuse(r, 415, "unsupported_media_type", "Content-Type not allowed on this channel");
        return false;
    }
    if (idem != NULL && !igw_idem_key_ok(idem)) {
        refuse(r, 400, "bad_idempotency_key", "Idempotency-Key must be 1-255 printable bytes");
        return false;
    }
    return true;
}

/* A fixed route (wellknown.c): true when its body is to be read (the token endpoint). */
static bool
check_builtin(struct request *r)
{
    unsigned wait = igw_throttle_wait(r->hi->thr, igw_http_peer(r->req), igw_mono_ms());

    if (r->builtin == IGW_HTTP_BUILTIN_405) {
        refuse(r, 405, "method_not_allowed", "this path takes another method");
    } else if (r->builtin == IGW_HTTP_BUILTIN_JWKS) {
        finish(r, igw_http_builtin_jwks());
    } else if (!check_framing(r)) {
    } else if (!r->has_clen || r->clen > IGW_HTTP_TOKEN_BODY_MAX) {
        reject(r, 413, "payload_too_large", "a token request has at most 8 KiB", true);
    } else if (wait > 0) {
        reject(r, 429, "too_many_auth_failures", "too many failed authentications", true);
    } else {
        return true;
    }
    return false;
}

/* nng's handler: runs on a task thread for every request, after the headers were read. */
void
igw_in_http_handle(nng_aio *aio)
{
    struct igw_http_in *hi = nng_http_handler_get_data(nng_aio_get_input(aio, 1));
    struct request *r = request_get(hi);
    bool closing;
    bool overloaded;

    if (r == NULL) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    r->hi = hi;
    r->haio = aio;
    r->req = nng_aio_get_input(aio, 0);
    r->conn = nng_aio_get_input(aio, 2);
    igw_http_server_admit(hi->guarded, r->req);
    IGW_DEBUG("http %s %s from %s", nng_http_req_get_method(r->req), nng_http_req_get_uri(r->req),
              igw_http_peer(r->req));
    overloaded = atomic_fetch_add(&hi->inflight, 1) + 1 > hi->cfg->http_max_inflight;
    closing = atomic_load(&hi->closing);
    r->builtin =
        igw_http_builtin_of(hi->cfg, nng_http_req_get_method(r->req), nng_http_req_get_uri(r->req));
    if (closing) {
        reject_err(r, IGW_ECLOSED, true);
    } else if (r->builtin != IGW_HTTP_BUILTIN_NONE) {
        if (check_builtin(r)) {
            start_body(r);
        }
    } else if (check_framing(r) && check_route(r) && check_request(r, overloaded)) {
        start_body(r);
    }
}
