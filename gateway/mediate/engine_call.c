/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mediation engine's upstream calls (engine thread only): each upstream has a FIFO of
 * calls waiting for a slot (max_inflight) or a token (auth type login), a token bucket
 * (rate_per_minute: an empty bucket means no call, the mediator gets IGW_EAGAIN), and the
 * login that fetches, caches and renews its token (before its expiry, and once after a 401).
 * Tokens and passwords are never logged.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "mediate/engine_int.h"

#define LOGIN_TIMEOUT_MS 10000
#define LOGIN_RETRY_MS 1000 /* after a failed login, the next one waits this long */

static struct up *
up_find(igw_mediate *e, const char *name)
{
    for (size_t i = 0; name != NULL && i < e->cfg->nupstreams; i++) {
        if (strcmp(e->ups[i].cfg->name, name) == 0) {
            return &e->ups[i];
        }
    }
    return NULL;
}

static void
wait_push(struct up *u, struct mreq *r, bool front)
{
    if (front) {
        r->next = u->wait_head;
        u->wait_head = r;
        if (u->wait_tail == NULL) {
            u->wait_tail = r;
        }
        return;
    }
    r->next = NULL;
    if (u->wait_tail != NULL) {
        u->wait_tail->next = r;
    } else {
        u->wait_head = r;
    }
    u->wait_tail = r;
}

static struct mreq *
wait_pop(struct up *u)
{
    struct mreq *r = u->wait_head;

    if (r != NULL) {
        u->wait_head = r->next;
        if (u->wait_head == NULL) {
            u->wait_tail = NULL;
        }
        r->next = NULL;
    }
    return r;
}

void
eng_call_queue(igw_mediate *e, struct mreq *r)
{
    const struct igw_med_call *c = &r->m.call;
    struct up *u = up_find(e, c->upstream != NULL ? c->upstream : r->rq.ch->upstream);
    size_t ulen;

    if (u == NULL) {
        eng_fail(r, IGW_EIO, "the mediator named no configured upstream");
        return;
    }
    if (!igw_med_path_ok(c->path) || c->method == NULL) {
        IGW_WARN("mediate channel=%s: refused an upstream path that is not a plain path",
                 r->rq.ch->name);
        eng_fail(r, IGW_EIO, "the upstream call was refused (not a plain path)");
        return;
    }
    igw_free(r->url);
    ulen = strlen(u->cfg->url) + strlen(c->path) + 1;
    r->url = igw_malloc(ulen);
    if (r->url == NULL) {
        eng_fail(r, IGW_ENOMEM, NULL);
        return;
    }
    snprintf(r->url, ulen, "%s%s", u->cfg->url, c->path);
    r->cache_tag = c->cache_tag != NULL
                       ? igw_arena_strndup(r->m.arena, c->cache_tag, strlen(c->cache_tag))
                       : NULL;
    r->up = u;
    wait_push(u, r, false);
}

/* ---- results ------------------------------------------------------------------------------ */

static const char *
result_header(const struct igw_med_result *res, const char *name)
{
    struct mreq *r = res != NULL ? res->priv : NULL;
    size_t nlen = name != NULL ? strlen(name) : 0;

    for (const char *p = r != NULL ? r->rhdrs.ptr : NULL, *end = p + (p != NULL ? r->rhdrs.len : 0);
         p != NULL && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        if ((size_t)(le - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < le && (*v == ' ' || *v == '\t')) {
                v++;
            }
            while (le > v && (le[-1] == '\r' || le[-1] == ' ')) {
                le--;
            }
            return igw_arena_strndup(r->m.arena, v, (size_t)(le - v));
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return NULL;
}

/* Gives the mediator the result of its call and acts on its next decision. */
static void
deliver(struct mreq *r, int err, long status, const char *ctype)
{
    struct igw_med_result res = {.err = err,
                                 .status = (int)status,
                                 .content_type = ctype,
                                 .body = r->rbody.ptr != NULL ? r->rbody.ptr : "",
                                 .body_len = r->rbody.len,
                                 .header = result_header,
                                 .priv = r};
    int rv;

    r->m.ncalls++;
    rv = r->rq.ch->mediator_ops->step(&r->m, &res);
    igw_buf_reset(&r->rbody);
    igw_buf_reset(&r->rhdrs);
    eng_dispatch(r, rv);
}

/* ---- calls -------------------------------------------------------------------------------- */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct mreq *r = arg;
    return igw_buf_append(&r->rbody, p, size * n) == IGW_OK ? size * n : 0;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct mreq *r = arg;
    if (size * n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        igw_buf_reset(&r->rhdrs); /* a new response (after a 100 Continue) */
    }
    (void)igw_buf_append(&r->rhdrs, p, size * n); /* too many headers: the rest are dropped */
    return size * n;
}

static CURLcode
common_opts(CURL *h, const struct igw_upstream *u, const char *url, long timeout_ms)
{
    CURLcode rc = curl_easy_setopt(h, CURLOPT_URL, url);

    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, u->tls_verify ? 1L : 0L) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, u->tls_verify ? 2L : 0L) : rc;
    if (rc == CURLE_OK && u->ca_file != NULL) {
        rc = curl_easy_setopt(h, CURLOPT_CAINFO, u->ca_file);
    }
    return rc;
}

static int
add_header(struct curl_slist **l, const char *name, const char *value)
{
    char line[8192];
    struct curl_slist *n;

    if (value == NULL) {
        return IGW_OK;
    }
    if (snprintf(line, sizeof(line), "%s: %s", name, value) >= (int)sizeof(line)) {
        return IGW_ETOOBIG;
    }
    n = curl_slist_append(*l, line);
    memset(line, 0, sizeof(line)); /* may hold a token */
    if (n == NULL) {
        return IGW_ENOMEM;
    }
    *l = n;
    return IGW_OK;
}

static int
call_headers(struct mreq *r, struct up *u)
{
    const struct igw_med_call *c = &r->m.call;
    int rv = add_header(&r->hdrs, "Content-Type", c->body_len > 0 ? c->content_type : NULL);

    rv = rv == IGW_OK ? add_header(&r->hdrs, "Accept", c->accept) : rv;
    rv = rv == IGW_OK ? add_header(&r->hdrs, "Expect", "") : rv;
    if (rv == IGW_OK && (u->cfg->auth == IGW_UP_AUTH_BEARER || u->cfg->auth == IGW_UP_AUTH_LOGIN)) {
        char v[8200];
        const char *tok = u->cfg->auth == IGW_UP_AUTH_BEARER ? u->cfg->secret.value : u->token;
        if (snprintf(v, sizeof(v), "Bearer %s", tok) >= (int)sizeof(v)) {
            rv = IGW_ETOOBIG;
        } else {
            rv = add_header(&r->hdrs, "Authorization", v);
        }
        memset(v, 0, sizeof(v));
    }
    return rv;
}

static CURLcode
call_opts(struct mreq *r, struct up *u, long timeout_ms)
{
    const struct igw_med_call *c = &r->m.call;
    CURL *h = r->easy;
    CURLcode rc = common_opts(h, u->cfg, r->url, timeout_ms);

    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_PRIVATE, r) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_WRITEDATA, r) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_HEADERDATA, r) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->hdrs) : rc;
    if (rc == CURLE_OK && strcmp(c->method, "HEAD") == 0) {
        rc = curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (rc == CURLE_OK && (c->body_len > 0 || strcmp(c->method, "GET") != 0)) {
        rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
        rc = rc == CURLE_OK
                 ? curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, c->body != NULL ? c->body : "")
                 : rc;
        rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method) : rc;
    }
    if (rc == CURLE_OK && u->cfg->auth == IGW_UP_AUTH_BASIC) {
        rc = curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        rc = rc == CURLE_OK ? curl_easy_setopt(h, CURLOPT_USERPWD, u->cfg->secret.value) : rc;
    }
    return rc;
}

static void
easy_release(struct mreq *r)
{
    if (r->easy != NULL) {
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
    }
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
}

static void
inflight_add(struct up *u, struct mreq *r)
{
    r->cprev = NULL;
    r->cnext = u->calls;
    if (u->calls != NULL) {
        u->calls->cprev = r;
    }
    u->calls = r;
    u->inflight++;
}

static void
inflight_remove(struct up *u, struct mreq *r)
{
    if (r->cprev != NULL) {
        r->cprev->cnext = r->cnext;
    } else {
        u->calls = r->cnext;
    }
    if (r->cnext != NULL) {
        r->cnext->cprev = r->cprev;
    }
    r->cprev = r->cnext = NULL;
    u->inflight--;
}

static void
start_call(struct mreq *r, struct up *u, uint64_t now)
{
    uint64_t left = r->deadline_ms > now ? r->deadline_ms - now : 1;
    long timeout = (long)(left < u->cfg->timeout_ms ? left : u->cfg->timeout_ms);
    int rv = call_headers(r, u);

    r->easy = rv == IGW_OK ? curl_easy_init() : NULL;
    if (r->easy == NULL || call_opts(r, u, timeout) != CURLE_OK ||
        curl_multi_add_handle(r->e->multi, r->easy) != CURLM_OK) {
        easy_release(r);
        eng_fail(r, rv == IGW_OK ? IGW_ENOMEM : rv, NULL);
        return;
    }
    inflight_add(u, r);
}

/* ---- login -------------------------------------------------------------------------------- */

static bool
needs_login(const struct up *u, uint64_t now)
{
    return u->cfg->auth == IGW_UP_AUTH_LOGIN && (u->token == NULL || now >= u->token_renew_ms);
}

static void
drop_token(struct up *u)
{
    if (u->token != NULL) {
        memset(u->token, 0, strlen(u->token));
        igw_free(u->token);
        u->token = NULL;
    }
}

static void
login_release(struct up *u)
{
    if (u->login_easy != NULL) {
        curl_easy_cleanup(u->login_easy);
        u->login_easy = NULL;
    }
    curl_slist_free_all(u->login_hdrs);
    u->login_hdrs = NULL;
    if (u->login_req.ptr != NULL) {
        memset(u->login_req.ptr, 0, u->login_req.len);
    }
    igw_buf_reset(&u->login_req);
    igw_buf_reset(&u->login_resp);
}

static size_t
on_login_body(char *p, size_t size, size_t n, void *arg)
{
    struct up *u = arg;
    return igw_buf_append(&u->login_resp, p, size * n) == IGW_OK ? size * n : 0;
}

static int
login_setup(igw_mediate *e, struct up *u)
{
    const struct igw_upstream_login *l = &u->cfg->login;
    bool form = strstr(l->content_type, "json") == NULL;
    char url[2048];
    CURLcode rc;
    int rv = igw_login_body(&u->login_req, l->body, u->cfg->secret.value, u->cfg->secret.len, form);

    rv = rv == IGW_OK ? add_header(&u->login_hdrs, "Content-Type", l->content_type) : rv;
    rv = rv == IGW_OK ? add_header(&u->login_hdrs, "Accept", "application/json") : rv;
    rv = rv == IGW_OK ? add_header(&u->login_hdrs, "Expect", "") : rv;
    if (rv != IGW_OK) {
        return rv;
    }
    snprintf(url, sizeof(url), "%s%s", l->url != NULL ? l->url : u->cfg->url,
             l->url != NULL ? "" : l->path);
    u->login_easy = curl_easy_init();
    if (u->login_easy == NULL) {
        return IGW_ENOMEM;
    }
    rc = common_opts(u->login_easy, u->cfg, url, LOGIN_TIMEOUT_MS);
    rc = rc == CURLE_OK ? curl_easy_setopt(u->login_easy, CURLOPT_HTTPHEADER, u->login_hdrs) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(u->login_easy, CURLOPT_POSTFIELDSIZE_LARGE,
                                           (curl_off_t)u->login_req.len)
                        : rc;
    rc =
        rc == CURLE_OK ? curl_easy_setopt(u->login_easy, CURLOPT_POSTFIELDS, u->login_req.ptr) : rc;
    rc =
        rc == CURLE_OK ? curl_easy_setopt(u->login_easy, CURLOPT_WRITEFUNCTION, on_login_body) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(u->login_easy, CURLOPT_WRITEDATA, u) : rc;
    rc = rc == CURLE_OK ? curl_easy_setopt(u->login_easy, CURLOPT_PRIVATE, NULL) : rc;
    if (rc != CURLE_OK || curl_multi_add_handle(e->multi, u->login_easy) != CURLM_OK) {
        return IGW_EIO;
    }
    return IGW_OK;
}

static void
fail_waiters(struct up *u, int err)
{
    struct mreq *r;

    while ((r = wait_pop(u)) != NULL) {
        deliver(r, err, 0, NULL);
    }
}

static void
start_login(igw_mediate *e, struct up *u)
{
    int rv = login_setup(e, u);

    if (rv != IGW_OK) {
        IGW_WARN("upstream login upstream=%s: cannot start (%s)", u->cfg->name, igw_strerror(rv));
        login_release(u);
        u->token_renew_ms = igw_mono_ms() + LOGIN_RETRY_MS;
        if (u->token == NULL) {
            fail_waiters(u, IGW_EAUTH);
        }
    }
}

static void
login_done(struct up *u, CURLcode rc)
{
    const struct igw_upstream_login *l = &u->cfg->login;
    long status = 0;
    char *tok = NULL;
    uint64_t ttl = 0;
    uint64_t now = igw_mono_ms();
    int rv = IGW_EIO;

    (void)curl_easy_getinfo(u->login_easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        rv = igw_login_parse(u->login_resp.ptr != NULL ? u->login_resp.ptr : "", u->login_resp.len,
                             l->token_path, l->expires_path, igw_now_ms(), &tok, &ttl);
    }
    login_release(u);
    if (rv != IGW_OK) {
        IGW_WARN("upstream login upstream=%s failed: %s (status %ld)", u->cfg->name,
                 rc != CURLE_OK ? curl_easy_strerror(rc) : igw_strerror(rv), status);
        u->token_renew_ms = now + LOGIN_RETRY_MS;
        if (u->token == NULL) {
            fail_waiters(u, IGW_EAUTH);
        }
        return;
    }
    ttl = ttl > 0 ? ttl : l->default_ttl_ms;
    drop_token(u);
    u->token = tok;
    u->token_renew_ms = now + (ttl > l->renew_before_ms ? ttl - l->renew_before_ms : ttl / 2);
    u->logins++;
    IGW_INFO("upstream login upstream=%s ok lifetime=%llus logins=%u", u->cfg->name,
             (unsigned long long)(ttl / 1000), u->logins);
}

/* ---- the pump ----------------------------------------------------------------------------- */

static void
expire_waiters(struct up *u, uint64_t now)
{
    struct mreq *keep_head = NULL, *keep_tail = NULL;
    struct mreq *r;

    while ((r = wait_pop(u)) != NULL) {
        if (now >= r->deadline_ms) {
            eng_fail(r, IGW_ETIMEDOUT, NULL);
            continue;
        }
        if (keep_tail != NULL) {
            keep_tail->next = r;
        } else {
            keep_head = r;
        }
        keep_tail = r;
    }
    u->wait_head = keep_head;
    u->wait_tail = keep_tail;
}

static void
pump_up(igw_mediate *e, struct up *u, uint64_t now)
{
    expire_waiters(u, now);
    if (u->wait_head == NULL) {
        return;
    }
    if (needs_login(u, now) && u->login_easy == NULL) {
        start_login(e, u);
    }
    if (u->cfg->auth == IGW_UP_AUTH_LOGIN && u->token == NULL) {
        return;
    }
    while (u->wait_head != NULL && u->inflight < u->cfg->max_inflight) {
        struct mreq *r = wait_pop(u);
        if (!igw_bucket_take(&u->bucket, now)) {
            uint64_t w = igw_bucket_wait_ms(&u->bucket, now);
            snprintf(r->retry_after, sizeof(r->retry_after), "%llu",
                     (unsigned long long)((w + 999) / 1000));
            deliver(r, IGW_EAGAIN, 0, NULL);
            continue;
        }
        start_call(r, u, now);
    }
}

void
eng_pump(igw_mediate *e, uint64_t now_ms)
{
    for (size_t i = 0; i < e->cfg->nupstreams; i++) {
        pump_up(e, &e->ups[i], now_ms);
    }
}

uint64_t
eng_next_deadline(igw_mediate *e)
{
    uint64_t next = UINT64_MAX;

    for (size_t i = 0; i < e->cfg->nupstreams; i++) {
        for (struct mreq *r = e->ups[i].wait_head; r != NULL; r = r->next) {
            next = r->deadline_ms < next ? r->deadline_ms : next;
        }
    }
    return next;
}

static void
call_done(struct mreq *r, CURLcode rc)
{
    struct up *u = r->up;
    long status = 0;
    char *ct = NULL;
    const char *ctype = NULL;

    inflight_remove(u, r);
    (void)curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
    if (ct != NULL) {
        ctype = igw_arena_strndup(r->m.arena, ct, strlen(ct));
    }
    easy_release(r);
    if (rc == CURLE_OK && status == 401 && u->cfg->auth == IGW_UP_AUTH_LOGIN && !r->retried) {
        IGW_INFO("upstream %s answered 401: logging in again", u->cfg->name);
        r->retried = true;
        drop_token(u);
        igw_buf_reset(&r->rbody);
        igw_buf_reset(&r->rhdrs);
        wait_push(u, r, true);
        return;
    }
    if (rc != CURLE_OK) {
        IGW_INFO("upstream %s call failed: %s", u->cfg->name, curl_easy_strerror(rc));
    }
    deliver(r,
            rc == CURLE_OK                   ? IGW_OK
            : rc == CURLE_OPERATION_TIMEDOUT ? IGW_ETIMEDOUT
            : rc == CURLE_WRITE_ERROR        ? IGW_ETOOBIG
                                             : IGW_EIO,
            status, ctype);
}

void
eng_transfer_done(igw_mediate *e, CURL *easy, CURLcode rc)
{
    struct mreq *r = NULL;

    for (size_t i = 0; i < e->cfg->nupstreams; i++) {
        if (e->ups[i].login_easy == easy) {
            login_done(&e->ups[i], rc);
            return;
        }
    }
    (void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
    if (r != NULL) {
        call_done(r, rc);
    }
}

void
eng_abort_all(igw_mediate *e, int err)
{
    for (size_t i = 0; i < e->cfg->nupstreams; i++) {
        struct up *u = &e->ups[i];
        struct mreq *r;
        while ((r = wait_pop(u)) != NULL) {
            eng_fail(r, err, NULL);
        }
        while ((r = u->calls) != NULL) {
            curl_multi_remove_handle(e->multi, r->easy);
            inflight_remove(u, r);
            easy_release(r);
            eng_fail(r, err, NULL);
        }
        if (u->login_easy != NULL) {
            curl_multi_remove_handle(e->multi, u->login_easy);
            login_release(u);
        }
    }
}

void
eng_up_fini(struct up *u)
{
    login_release(u);
    drop_token(u);
    igw_buf_fini(&u->login_req);
    igw_buf_fini(&u->login_resp);
}
