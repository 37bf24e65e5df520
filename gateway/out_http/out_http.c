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
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/retry.h"
#include "delivery/deliver_int.h"
#include "dialect/fhir/fhir.h"

#define HTTP_DEFAULT_TIMEOUT_MS 10000
#define HTTP_HEADER_LINE_MAX 16384
#define HTTP_RETRY_AFTER_MAX 64

/* ---- callbacks ---------------------------------------------------------------------------- */

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct dlv *dl = userdata;
    size_t n = size * nmemb;
    dlv_keep_response(dl, ptr, n);
    return n;
}

static void
parse_retry_after(struct dlv *dl, const char *v, size_t n)
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
        dl->has_retry_after = true;
        dl->retry_after_ms = ms;
    }
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    static const char ra[] = "Retry-After:";
    struct dlv *dl = userdata;
    size_t n = size * nitems;

    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        dl->has_retry_after = false; /* a new (final or interim) response begins */
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
easy_get(struct route_state *rs)
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
easy_put(struct route_state *rs, CURL *e)
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
headers_build(struct dlv *dl, struct igw_buf *b)
{
    const struct igw_route *r = dl->rs->cfg;
    const char *ct = dl->claim.content_type;
    char id[IGW_QUEUE_ID_STRLEN];
    char attempt[16];
    int rv;

    igw_queue_id_format(dl->claim.id, id);
    snprintf(attempt, sizeof(attempt), "%" PRIu32, dl->claim.attempts + 1);
    rv = headers_route(&dl->headers, b, r);
    if (rv == IGW_OK && !route_sets(r, "Content-Type")) {
        rv = header_add(&dl->headers, b, "Content-Type",
                        header_safe(ct) ? ct : "application/octet-stream");
    }
    if (rv == IGW_OK) {
        rv = header_add(&dl->headers, b, "Idempotency-Key", id);
    }
    if (rv == IGW_OK) {
        rv = header_add(&dl->headers, b, "X-Igw-Message-Id", id);
    }
    if (rv == IGW_OK) {
        rv = header_add(&dl->headers, b, "X-Igw-Attempt", attempt);
    }
    if (rv == IGW_OK) {
        rv = slist_push(&dl->headers, "Expect:");
    }
    return rv;
}

/* ---- start / finish ----------------------------------------------------------------------- */

static int
transfer_setup(struct dlv *dl)
{
    const char *body = dl->claim.payload.ptr != NULL ? dl->claim.payload.ptr : "";
    CURLcode rc = curl_easy_setopt(dl->easy, CURLOPT_PRIVATE, dl);

    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(dl->easy, CURLOPT_WRITEDATA, dl);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(dl->easy, CURLOPT_HEADERDATA, dl);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(dl->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                              (curl_off_t)dl->claim.payload.len);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(dl->easy, CURLOPT_POSTFIELDS, body);
    }
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(dl->easy, CURLOPT_HTTPHEADER, dl->headers);
    }
    return rc == CURLE_OK ? IGW_OK : IGW_EINVAL;
}

/* FHIR conditional update (gateway/fhir_out.c): this delivery's URL and method. */
static int
fhir_target(struct dlv *dl, char *what, size_t whatlen)
{
    struct igw_buf url;
    const char *method = NULL;
    int rv = igw_fhir_out_target(dl->rs->cfg, dl->claim.payload.ptr, dl->claim.payload.len, &url,
                                 &method, what, whatlen);

    if (rv == IGW_OK && (curl_easy_setopt(dl->easy, CURLOPT_URL, url.ptr) != CURLE_OK ||
                         curl_easy_setopt(dl->easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)) {
        rv = IGW_ENOMEM;
    }
    igw_buf_fini(&url);
    return rv == IGW_ENOENT ? IGW_OK : rv;
}

void
dest_http_start(struct igw_deliverer *d, struct dlv *dl)
{
    struct igw_buf b;
    char what[DLV_ERROR_MAX];
    int rv;

    igw_buf_init(&b, HTTP_HEADER_LINE_MAX);
    dl->easy = easy_get(dl->rs);
    rv = dl->easy != NULL ? headers_build(dl, &b) : IGW_ENOMEM;
    igw_buf_fini(&b);
    if (rv == IGW_OK) {
        rv = transfer_setup(dl);
    }
    if (rv == IGW_OK) {
        rv = fhir_target(dl, what, sizeof(what));
    }
    if (rv == IGW_EINVAL) {
        dlv_finish_fail(d, dl, 0, what, DLV_HEALTH_NONE);
        return;
    }
    if (rv == IGW_OK && curl_multi_add_handle(d->multi, dl->easy) != CURLM_OK) {
        rv = IGW_EIO;
    }
    if (rv != IGW_OK) {
        IGW_ERROR("deliver: route %s: cannot start a transfer: %s", dl->rs->cfg->name,
                  igw_strerror(rv));
        dlv_finish_released(d, dl, igw_now_ms() + 1000);
        return;
    }
    dlv_active_add(d, dl);
}

static void
classify_status(struct igw_deliverer *d, struct dlv *dl, long status)
{
    char what[64];

    snprintf(what, sizeof(what), "HTTP %ld", status);
    if (status >= 200 && status < 300) {
        dlv_finish_ok(d, dl);
        return;
    }
    if (status >= 500 || status == 408 || status == 429 ||
        igw_fhir_out_transient(dl->rs->cfg, status)) {
        if (status != 429 && status != 503) {
            dl->has_retry_after = false;
        }
        dlv_finish_transient(d, dl, (int)status, what);
        return;
    }
    if (status >= 300 && status < 400) {
        snprintf(what, sizeof(what), "HTTP %ld (redirects are not followed)", status);
    }
    dlv_finish_fail(d, dl, (int)status, what, DLV_HEALTH_GOOD);
}

static void
classify(struct igw_deliverer *d, struct dlv *dl, CURLcode res)
{
    char what[DLV_ERROR_MAX];
    long status = 0;

    if (res == CURLE_OK) {
        (void)curl_easy_getinfo(dl->easy, CURLINFO_RESPONSE_CODE, &status);
        classify_status(d, dl, status);
        return;
    }
    dl->has_retry_after = false;
    if (res == CURLE_OPERATION_TIMEDOUT) {
        snprintf(what, sizeof(what), "timeout");
    } else {
        snprintf(what, sizeof(what), "curl: %s", curl_easy_strerror(res));
    }
    dlv_finish_transient(d, dl, 0, what);
}

void
dest_http_collect(struct igw_deliverer *d)
{
    for (;;) {
        int left = 0;
        CURLMsg *m = curl_multi_info_read(d->multi, &left);
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
        (void)curl_multi_remove_handle(d->multi, e);
        if (IGW_NEVER(priv == NULL)) {
            continue;
        }
        classify(d, (struct dlv *)(void *)priv, res);
    }
}

void
dest_http_abort(struct igw_deliverer *d, struct dlv *dl)
{
    if (dl->easy != NULL) {
        (void)curl_multi_remove_handle(d->multi, dl->easy);
    }
}

void
dest_http_release(struct dlv *dl)
{
    if (dl->easy != NULL) {
        easy_put(dl->rs, dl->easy);
        dl->easy = NULL;
    }
    if (dl->headers != NULL) {
        curl_slist_free_all(dl->headers);
        dl->headers = NULL;
    }
}

void
dest_http_route_fini(struct route_state *rs)
{
    for (unsigned i = 0; i < rs->easy_n; i++) {
        curl_easy_cleanup(rs->easy_pool[i]);
    }
    rs->easy_n = 0;
    IGW_FREE(rs->easy_pool);
}
