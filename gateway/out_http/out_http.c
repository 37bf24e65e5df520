/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP(S) destinations on the engine's libcurl multi handle.
 *
 * Easy handles are configured once per route (URL, method, auth, TLS, timeouts, protocols
 * limited to http/https, no redirects) and kept in a per-route pool for reuse; connections
 * live in the multi handle's cache, so consecutive deliveries to a destination reuse a
 * keep-alive connection. Per delivery only the body, the header list and the callbacks' data
 * change. Classification (docs/DELIVERY.md):
 *   2xx -> OK; 5xx, 408, 429, timeouts, connection and transfer errors -> transient
 *   (retry, or dead when exhausted); 429/503 Retry-After lengthens the wait;
 *   other 4xx, 3xx (redirects are not followed), 1xx -> dead at once, response kept.
 * A route hook (igw_route.hook, bound by the route's config, e.g. the FHIR conditional update)
 * may choose each payload's URL and method and make more statuses transient.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/output.h"
#include "delivery/retry.h"
#include "out_http/http_conf.h"
#include "out_http/http_int.h"

#define HTTP_DEFAULT_TIMEOUT_MS 10000
#define HTTP_HEADER_LINE_MAX 16384
#define HTTP_RETRY_AFTER_MAX 64

/* ---- callbacks ---------------------------------------------------------------------------- */

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct igw_dlv *dl = userdata;
    size_t n = size * nmemb;
    igw_dlv_keep_response(dl, ptr, n);
    return n;
}

static void
parse_retry_after(struct igw_dlv *dl, const char *v, size_t n)
{
    char tmp[HTTP_RETRY_AFTER_MAX];
    uint64_t ms = 0;

    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ')) {
        n--;
    }
    if (n == 0 || n >= sizeof(tmp)) {
        return;
    }
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    if (igw_retry_after_parse(tmp, igw_now_ms(), &ms) == IGW_OK) {
        igw_dlv_retry_after(dl, true, ms);
    }
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    static const char ra[] = "Retry-After:";
    struct igw_dlv *dl = userdata;
    size_t n = size * nitems;

    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        igw_dlv_retry_after(dl, false, 0); /* a new (final or interim) response begins */
    } else if (n > sizeof(ra) - 1 && strncasecmp(buf, ra, sizeof(ra) - 1) == 0) {
        parse_retry_after(dl, buf + sizeof(ra) - 1, n - (sizeof(ra) - 1));
    }
    return n;
}

/* ---- easy handles ------------------------------------------------------------------------- */

static bool
is_post(const char *method)
{
    return method == NULL || strcmp(method, "POST") == 0;
}

static CURLcode
easy_setup_auth(CURL *e, const struct igw_route *r)
{
    if (r->auth.type != IGW_AUTH_BASIC || r->auth.nsecrets == 0) {
        return CURLE_OK; /* bearer goes in the header list */
    }
    if (curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK) {
        return CURLE_FAILED_INIT;
    }
    return curl_easy_setopt(e, CURLOPT_USERPWD, r->auth.secrets[0].value);
}

static CURLcode
easy_setup_tls(CURL *e, const struct igw_route *r)
{
    CURLcode rc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r->tls_verify ? 1L : 0L);
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r->tls_verify ? 2L : 0L);
    }
    if (rc == CURLE_OK && r->ca_file != NULL) {
        rc = curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
    }
    return rc;
}

static CURLcode
easy_setup(CURL *e, const struct igw_route *r)
{
    long timeout = r->timeout_ms != 0 ? (long)r->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
    CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, r->url);

    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_POST, 1L);
    }
    if (rc == CURLE_OK && !is_post(r->method)) {
        rc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    }
    if (rc == CURLE_OK) {
        rc = easy_setup_tls(e, r);
    }
    if (rc == CURLE_OK) {
        rc = easy_setup_auth(e, r);
    }
    return rc;
}

static CURL *
easy_get(struct http_route *rs)
{
    CURL *e;

    if (rs->easy_n > 0) {
        return rs->easy_pool[--rs->easy_n];
    }
    e = curl_easy_init();
    if (e == NULL) {
        return NULL;
    }
    if (easy_setup(e, rs->cfg) != CURLE_OK) {
        IGW_ERROR("deliver: route %s: cannot configure the HTTP client", rs->cfg->name);
        curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

static void
easy_put(struct http_route *rs, CURL *e)
{
    if (rs->easy_pool == NULL) {
        rs->easy_pool = igw_calloc(rs->concurrency, sizeof(*rs->easy_pool));
    }
    if (rs->easy_pool != NULL && rs->easy_n < rs->concurrency) {
        rs->easy_pool[rs->easy_n++] = e;
        return;
    }
    curl_easy_cleanup(e);
}

/* ---- headers ------------------------------------------------------------------------------ */

static bool
header_safe(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") == NULL;
}

static int
slist_push(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l == NULL) {
        return IGW_ENOMEM;
    }
    *list = l;
    return IGW_OK;
}

static int
header_add(struct curl_slist **list, struct igw_buf *b, const char *name, const char *value)
{
    igw_buf_reset(b);
    if (igw_buf_printf(b, "%s: %s", name, value) != IGW_OK) {
        return IGW_ENOMEM;
    }
    return slist_push(list, b->ptr);
}

static bool
route_sets(const struct igw_route *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

static int
headers_route(struct curl_slist **list, struct igw_buf *b, const struct igw_route *r)
{
    int rv = IGW_OK;
    for (size_t i = 0; i < r->nheaders && rv == IGW_OK; i++) {
        if (header_safe(r->headers[i].name) && header_safe(r->headers[i].value)) {
            rv = header_add(list, b, r->headers[i].name, r->headers[i].value);
        }
    }
    if (rv == IGW_OK && r->auth.type == IGW_AUTH_BEARER && r->auth.nsecrets > 0 &&
        header_safe(r->auth.secrets[0].value)) {
        igw_buf_reset(b);
        rv = igw_buf_printf(b, "Authorization: Bearer %s", r->auth.secrets[0].value);
        if (rv == IGW_OK) {
            rv = slist_push(list, b->ptr);
        }
        if (b->ptr != NULL) {
            memset(b->ptr, 0, b->len); /* the token does not linger in freed memory */
        }
    }
    return rv;
}

static int
headers_build(struct igw_dlv *dl, struct http_dlv *h, struct igw_buf *b)
{
    const struct igw_queue_claim *c = igw_dlv_claim(dl);
    const struct igw_route *r = igw_dlv_route(dl);
    const char *ct = c->content_type;
    char id[IGW_QUEUE_ID_STRLEN];
    char attempt[16];
    int rv;

    igw_queue_id_format(c->id, id);
    snprintf(attempt, sizeof(attempt), "%" PRIu32, c->attempts + 1);
    rv = headers_route(&h->headers, b, r);
    if (rv == IGW_OK && !route_sets(r, "Content-Type")) {
        rv = header_add(&h->headers, b, "Content-Type",
                        header_safe(ct) ? ct : "application/octet-stream");
    }
    if (rv == IGW_OK) {
        rv = header_add(&h->headers, b, "Idempotency-Key", id);
    }
    if (rv == IGW_OK) {
        rv = header_add(&h->headers, b, "X-Igw-Message-Id", id);
    }
    if (rv == IGW_OK) {
        rv = header_add(&h->headers, b, "X-Igw-Attempt", attempt);
    }
    if (rv == IGW_OK) {
        rv = slist_push(&h->headers, "Expect:");
    }
    return rv;
}

/* ---- start / finish ----------------------------------------------------------------------- */

static int
transfer_setup(struct igw_dlv *dl, struct http_dlv *h)
{
    const struct igw_buf *pl = h->has_body ? &h->body : &igw_dlv_claim(dl)->payload;
    const char *body = pl->ptr != NULL ? pl->ptr : "";
    CURLcode rc = curl_easy_setopt(h->easy, CURLOPT_PRIVATE, dl);

    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, dl);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, dl);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)pl->len);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, body);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers);
    }
    return rc == CURLE_OK ? IGW_OK : IGW_EINVAL;
}

/* The route hook (e.g. FHIR conditional update): this delivery's URL and method. */
static int
hook_target(struct igw_dlv *dl, struct http_dlv *h, char *what, size_t whatlen)
{
    const struct igw_route *r = igw_dlv_route(dl);
    const struct igw_buf *pl = &igw_dlv_claim(dl)->payload;
    struct igw_buf url;
    const char *method = NULL;
    int rv;

    if (r->hook == NULL || r->hook->target == NULL) {
        return IGW_OK;
    }
    rv = r->hook->target(r, pl->ptr, pl->len, &url, &method, what, whatlen);
    if (rv == IGW_OK && (curl_easy_setopt(h->easy, CURLOPT_URL, url.ptr) != CURLE_OK ||
                         curl_easy_setopt(h->easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)) {
        rv = IGW_ENOMEM;
    }
    igw_buf_fini(&url);
    return rv == IGW_ENOENT ? IGW_OK : rv;
}

/* The body hook (DCI signing, DCI notify): this delivery's bytes, into h->body, from the
 * payload or from the answer already in h->body. IGW_OK (also: nothing to change), IGW_EINVAL,
 * IGW_EAGAIN and IGW_BODY_SKIP (reason in what), IGW_ENOMEM. */
static int
body_hook(struct igw_dlv *dl, struct http_dlv *h, char *what, size_t whatlen)
{
    const struct igw_route *r = igw_dlv_route(dl);
    const struct igw_buf *src = h->has_body ? &h->body : &igw_dlv_claim(dl)->payload;
    struct igw_buf out;
    int rv;

    if (r->body_hook == NULL || r->body_hook->body == NULL) {
        return IGW_OK;
    }
    igw_buf_init(&out, HTTP_BODY_MAX);
    rv = r->body_hook->body(r, igw_dlv_claim(dl), src->ptr, src->len, &out, what, whatlen);
    if (rv == IGW_OK) {
        igw_buf_fini(&h->body);
        h->body = out; /* moved */
        h->has_body = true;
        return IGW_OK;
    }
    igw_buf_fini(&out);
    return rv == IGW_ENOENT ? IGW_OK : rv;
}

/* Builds and starts the transfer of dl (its body: the payload, or the answer in h->body).
 * active: dl is linked as active already (an answer_from delivery, from collect). */
void
http_send(struct igw_dlv *dl, bool active)
{
    struct http_route *rs = igw_dlv_route_ctx(dl);
    struct http_dlv *h = igw_dlv_state(dl);
    struct igw_buf b;
    char what[IGW_DLV_ERROR_MAX];
    int rv;

    what[0] = '\0';
    rv = body_hook(dl, h, what, sizeof(what));
    if (rv == IGW_EINVAL || rv == IGW_EAGAIN || rv == IGW_BODY_SKIP) {
        if (rv == IGW_BODY_SKIP) {
            igw_dlv_finish_skipped(dl, what);
        } else if (rv == IGW_EINVAL) {
            igw_dlv_finish_fail(dl, 0, what, IGW_DLV_HEALTH_NONE);
        } else {
            igw_dlv_finish_transient(dl, 0, what);
        }
        return;
    }
    igw_buf_init(&b, HTTP_HEADER_LINE_MAX);
    h->easy = rv == IGW_OK ? easy_get(rs) : NULL;
    rv = h->easy != NULL ? headers_build(dl, h, &b) : IGW_ENOMEM;
    igw_buf_fini(&b);
    if (rv == IGW_OK) {
        rv = transfer_setup(dl, h);
    }
    if (rv == IGW_OK) {
        rv = hook_target(dl, h, what, sizeof(what));
    }
    if (rv == IGW_EINVAL) {
        igw_dlv_finish_fail(dl, 0, what, IGW_DLV_HEALTH_NONE);
        return;
    }
    if (rv == IGW_OK && curl_multi_add_handle(rs->multi, h->easy) != CURLM_OK) {
        rv = IGW_EIO;
    }
    if (rv != IGW_OK) {
        IGW_ERROR("deliver: route %s: cannot start a transfer: %s", rs->cfg->name,
                  igw_strerror(rv));
        igw_dlv_finish_released(dl, igw_now_ms() + 1000);
        return;
    }
    if (!active) {
        igw_dlv_active_add(dl);
    }
}

static void
http_start(struct igw_dlv *dl)
{
    if (igw_dlv_route(dl)->answer_ch != NULL) {
        http_answer_start(dl); /* answered first; then http_send from collect */
        return;
    }
    http_send(dl, false);
}

static bool
hook_transient(const struct igw_route *r, long status)
{
    return r->hook != NULL && r->hook->transient != NULL && r->hook->transient(r, status);
}

static void
classify_status(struct igw_dlv *dl, long status)
{
    char what[64];

    snprintf(what, sizeof(what), "HTTP %ld", status);
    if (status >= 200 && status < 300) {
        igw_dlv_set_status(dl, (int)status);
        igw_dlv_finish_ok(dl);
        return;
    }
    if (status >= 500 || status == 408 || status == 429 ||
        hook_transient(igw_dlv_route(dl), status)) {
        if (status != 429 && status != 503) {
            igw_dlv_retry_after(dl, false, 0);
        }
        igw_dlv_finish_transient(dl, (int)status, what);
        return;
    }
    if (status >= 300 && status < 400) {
        snprintf(what, sizeof(what), "HTTP %ld (redirects are not followed)", status);
    }
    igw_dlv_finish_fail(dl, (int)status, what, IGW_DLV_HEALTH_GOOD);
}

static void
classify(struct igw_dlv *dl, CURL *e, CURLcode res)
{
    char what[IGW_DLV_ERROR_MAX];
    long status = 0;

    if (res == CURLE_OK) {
        (void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        classify_status(dl, status);
        return;
    }
    igw_dlv_retry_after(dl, false, 0);
    if (res == CURLE_OPERATION_TIMEDOUT) {
        snprintf(what, sizeof(what), "timeout");
    } else {
        snprintf(what, sizeof(what), "curl: %s", curl_easy_strerror(res));
    }
    igw_dlv_finish_transient(dl, 0, what);
}

/* Reads finished transfers from the engine's multi handle and finishes their deliveries. */
static void
http_collect(igw_deliverer *d, void *ectx)
{
    CURLM *multi = igw_deliverer_multi(d);

    http_tickets_collect(ectx);
    for (;;) {
        int left = 0;
        CURLMsg *m = curl_multi_info_read(multi, &left);
        CURL *e;
        CURLcode res;
        char *priv = NULL;

        if (m == NULL) {
            return;
        }
        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        e = m->easy_handle;
        res = m->data.result;
        (void)curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
        (void)curl_multi_remove_handle(multi, e);
        if (IGW_NEVER(priv == NULL)) {
            continue;
        }
        classify((struct igw_dlv *)(void *)priv, e, res);
    }
}

/* Removes dl's transfer from the multi handle (stop) without finishing it. */
static void
http_abort(struct igw_dlv *dl)
{
    struct http_dlv *h = igw_dlv_state(dl);
    struct http_route *rs = igw_dlv_route_ctx(dl);

    http_ticket_orphan(rs, h);
    if (h->easy != NULL) {
        (void)curl_multi_remove_handle(rs->multi, h->easy);
    }
}

/* Returns dl's easy handle to its route's pool (or frees it) and frees the header list. */
static void
http_release(struct igw_dlv *dl)
{
    struct http_dlv *h = igw_dlv_state(dl);

    if (h->easy != NULL) {
        easy_put(igw_dlv_route_ctx(dl), h->easy);
        h->easy = NULL;
    }
    if (h->headers != NULL) {
        curl_slist_free_all(h->headers);
        h->headers = NULL;
    }
    igw_buf_fini(&h->body);
    h->has_body = false;
}

static int
http_route_init(const struct igw_output_route *r, void **rctx)
{
    struct http_route *rs = IGW_NEW(struct http_route);

    if (rs == NULL) {
        return IGW_ENOMEM;
    }
    rs->cfg = r->cfg;
    rs->concurrency = r->concurrency;
    rs->multi = igw_deliverer_multi(r->d);
    rs->eng = r->engine_ctx;
    *rctx = rs;
    return IGW_OK;
}

static void
http_route_fini(void *rctx)
{
    struct http_route *rs = rctx;

    if (rs == NULL) {
        return;
    }
    for (unsigned i = 0; i < rs->easy_n; i++) {
        curl_easy_cleanup(rs->easy_pool[i]);
    }
    igw_free(rs->easy_pool);
    igw_free(rs);
}

/* callback:<partner>: a DCI callback whose URL the callback hook picks among the partner's
 * base_urls per payload (out_http/callback.c) */
static const struct igw_output_scheme http_schemes[] = {
    {"http://", true}, {"https://", true}, {"callback:", false}};

const struct igw_output_ops igw_output_http = {
    .name = "http",
    .description = "HTTP(S) requests on the engine's libcurl multi handle",
    .schemes = http_schemes,
    .nschemes = IGW_ARRAY_LEN(http_schemes),
    .config_map = &igw_http_config_map,
    .takes_hook = true,
    .dlv_size = sizeof(struct http_dlv),
    .engine_init = http_engine_init,
    .engine_fini = http_engine_fini,
    .route_init = http_route_init,
    .route_fini = http_route_fini,
    .start = http_start,
    .collect = http_collect,
    .abort = http_abort,
    .release = http_release,
};
