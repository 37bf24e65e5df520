/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `igw queue`'s requests to the admin API over libcurl (queue_int.h): bounded answers, the
 * bearer token in a header only (never in a URL, never printed), the status mapped to an exit
 * code, and the Server-Sent Events stream of `igw queue tail`.
 */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

#include "igw/common.h"
#include "queue_int.h"

#define RESP_MAX (64u << 20) /* largest answer read */
#define EVENT_MAX (1u << 20) /* largest single event */

int
qhttp_exit_of(long status)
{
    if (status >= 200 && status < 300) {
        return QX_OK;
    }
    if (status == 401 || status == 403 || status == 429) {
        return QX_AUTH;
    }
    if (status == 404 || status == 409 || status == 410 || status == 422) {
        return QX_NOTHING;
    }
    if (status >= 400 && status < 500) {
        return QX_USAGE;
    }
    return QX_SERVER;
}

int
qurl_param(struct igw_buf *b, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    int rv =
        igw_buf_printf(b, "%c%s=", strchr(b->ptr != NULL ? b->ptr : "", '?') ? '&' : '?', name);
    const unsigned char *p;

    for (p = (const unsigned char *)value; rv == IGW_OK && *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p) != NULL) {
            rv = igw_buf_putc(b, (char)*p);
        } else {
            rv = igw_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
        }
    }
    return rv;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct igw_buf *b = arg;

    return igw_buf_append(b, p, size * n) == IGW_OK ? size * n : 0;
}

/* An easy handle for one request to the admin API; headers in *hdrs (free with
 * curl_slist_free_all). NULL when out of memory. */
static CURL *
easy_for(const struct qcli *c, const char *method, const char *path, const char *body,
         struct curl_slist **hdrs)
{
    CURL *e = curl_easy_init();
    struct igw_buf url, auth;
    struct curl_slist *h = NULL;

    *hdrs = NULL;
    if (e == NULL) {
        return NULL;
    }
    igw_buf_init(&url, 8192);
    igw_buf_init(&auth, 4096);
    if (igw_buf_printf(&url, "%s%s", c->url, path) != IGW_OK ||
        igw_buf_printf(&auth, "Authorization: Bearer %s", c->token) != IGW_OK) {
        igw_buf_fini(&url);
        igw_buf_fini(&auth);
        curl_easy_cleanup(e);
        return NULL;
    }
    h = curl_slist_append(h, auth.ptr);
    h = h != NULL ? curl_slist_append(h, "Accept: application/json, text/event-stream") : h;
    if (h != NULL && body != NULL) {
        h = curl_slist_append(h, "Content-Type: application/json");
    }
    memset(auth.ptr, 0, auth.len); /* the token lives in curl's copy only */
    igw_buf_fini(&auth);
    curl_easy_setopt(e, CURLOPT_URL, url.ptr);
    igw_buf_fini(&url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, ""); /* Content-Length: 0 */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* the token goes to this URL only */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    *hdrs = h;
    return e;
}

/* Prints what went wrong with an answer: the server's error code and message when it sent
 * {"error":{...}}, else the status. */
static void
print_failure(const char *method, const char *path, const struct qresp *r)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->doc, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    size_t plen = strcspn(path, "?");

    if (r->status == 0) {
        fprintf(stderr, "igw queue: %s %.*s: %s\n", method, (int)plen, path, r->err);
    } else if (cJSON_IsString(code) && cJSON_IsString(msg)) {
        fprintf(stderr, "igw queue: %s %.*s: HTTP %ld %s: %s\n", method, (int)plen, path, r->status,
                code->valuestring, msg->valuestring);
    } else {
        fprintf(stderr, "igw queue: %s %.*s: HTTP %ld\n", method, (int)plen, path, r->status);
    }
}

int
qhttp(const struct qcli *c, const char *method, const char *path, const char *body, struct qresp *r,
      bool quiet)
{
    struct curl_slist *h = NULL;
    CURL *e = easy_for(c, method, path, body, &h);
    CURLcode cc;
    int x;

    memset(r, 0, sizeof(*r));
    igw_buf_init(&r->raw, RESP_MAX);
    if (e == NULL) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        print_failure(method, path, r);
        return QX_SERVER;
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &r->raw);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, c->timeout_s);
    cc = curl_easy_perform(e);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
        r->doc = r->raw.ptr != NULL ? cJSON_ParseWithLength(r->raw.ptr, r->raw.len) : NULL;
    } else {
        snprintf(r->err, sizeof(r->err), "%s (%.160s)", curl_easy_strerror(cc), c->url);
    }
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    x = r->status == 0 ? QX_SERVER : qhttp_exit_of(r->status);
    if (x == QX_OK && r->doc == NULL && r->raw.len > 0) {
        snprintf(r->err, sizeof(r->err), "the answer is not JSON");
        r->status = 0;
        x = QX_SERVER;
    }
    if (x != QX_OK && !quiet) {
        print_failure(method, path, r);
    }
    return x;
}

void
qresp_fini(struct qresp *r)
{
    cJSON_Delete(r->doc);
    r->doc = NULL;
    igw_buf_fini(&r->raw);
}

/* ---- Server-Sent Events ---------------------------------------------------------------- */

struct sse {
    struct igw_buf line; /* the line being read */
    struct igw_buf data; /* the data lines of the event being read */
    char event[64];      /* its event: field */
    bool (*cb)(void *arg, const char *event, const char *data);
    void *arg;
    bool stop;
    long status;
    CURL *e;
};

static void
sse_line(struct sse *s)
{
    const char *l = s->line.ptr != NULL ? s->line.ptr : "";
    size_t n = s->line.len;

    if (n > 0 && l[n - 1] == '\r') {
        n--;
    }
    if (n == 0) { /* the end of an event */
        if (s->data.len > 0 && !s->cb(s->arg, s->event, s->data.ptr)) {
            s->stop = true;
        }
        igw_buf_reset(&s->data);
        s->event[0] = '\0';
    } else if (n > 5 && memcmp(l, "data:", 5) == 0) {
        size_t skip = l[5] == ' ' ? 6 : 5;
        if (s->data.len > 0) {
            igw_buf_putc(&s->data, '\n');
        }
        igw_buf_append(&s->data, l + skip, n - skip);
    } else if (n > 6 && memcmp(l, "event:", 6) == 0) {
        size_t skip = l[6] == ' ' ? 7 : 6;
        snprintf(s->event, sizeof(s->event), "%.*s", (int)(n - skip), l + skip);
    } /* comments (":"), id: and retry: are not used */
    igw_buf_reset(&s->line);
}

static size_t
on_events(char *p, size_t size, size_t n, void *arg)
{
    struct sse *s = arg;
    size_t i;

    if (s->status == 0) {
        curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &s->status);
    }
    if (s->status != 200) { /* an error answer: keep it whole for the message */
        return igw_buf_append(&s->data, p, size * n) == IGW_OK ? size * n : 0;
    }
    for (i = 0; i < size * n && !s->stop; i++) {
        if (p[i] == '\n') {
            sse_line(s);
        } else if (igw_buf_putc(&s->line, p[i]) != IGW_OK) {
            return 0; /* a line over the limit: stop */
        }
    }
    return s->stop ? 0 : size * n;
}

int
qhttp_events(const struct qcli *c, const char *path,
             bool (*cb)(void *arg, const char *event, const char *data), void *arg)
{
    struct curl_slist *h = NULL;
    struct sse s = {.cb = cb, .arg = arg};
    struct qresp r;
    CURLcode cc;
    int x = QX_OK;

    memset(&r, 0, sizeof(r));
    igw_buf_init(&s.line, EVENT_MAX);
    igw_buf_init(&s.data, EVENT_MAX);
    s.e = easy_for(c, "GET", path, NULL, &h);
    if (s.e == NULL) {
        fprintf(stderr, "igw queue: out of memory\n");
        return QX_SERVER;
    }
    curl_easy_setopt(s.e, CURLOPT_WRITEFUNCTION, on_events);
    curl_easy_setopt(s.e, CURLOPT_WRITEDATA, &s);
    cc = curl_easy_perform(s.e);
    if (s.status == 0) {
        curl_easy_getinfo(s.e, CURLINFO_RESPONSE_CODE, &s.status);
    }
    r.status = s.status;
    if (s.status != 200 && s.status != 0) {
        r.doc = s.data.ptr != NULL ? cJSON_ParseWithLength(s.data.ptr, s.data.len) : NULL;
        x = qhttp_exit_of(s.status);
        print_failure("GET", path, &r);
    } else if (cc != CURLE_OK && !s.stop) {
        snprintf(r.err, sizeof(r.err), "%s", curl_easy_strerror(cc));
        r.status = 0;
        print_failure("GET", path, &r);
        x = QX_SERVER;
    }
    cJSON_Delete(r.doc);
    curl_easy_cleanup(s.e);
    curl_slist_free_all(h);
    igw_buf_fini(&s.line);
    igw_buf_fini(&s.data);
    return x;
}
