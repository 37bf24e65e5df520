/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP intake: the paths around a family's channels (in_http_face.h). `[base]/` routes as
 * `[base]`; a path under a family's base that no channel matches gets that family's error
 * shape; the dialect negotiates media types before the body is read.
 */
#include <stdio.h>
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "core/dialect.h"
#include "http/guard.h"
#include "in_http/in_http_face.h"

#define TRIM_MAX 8192 /* longer targets are routed as sent */

bool
igw_in_http_trim_slash(nng_http_req *req)
{
    const char *t = nng_http_req_get_uri(req);
    size_t path = strcspn(t, "?#");
    size_t n = strlen(t);
    char buf[TRIM_MAX];

    if (path < 2 || t[path - 1] != '/' || n >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, t, path - 1);
    memcpy(buf + path - 1, t + path, n - path + 1);
    return nng_http_req_set_uri(req, buf) == 0;
}

/* Length of the literal part of a pattern before its first "{param}" segment, without a
 * trailing '/'. */
static size_t
literal_prefix(const char *pattern)
{
    const char *brace = strchr(pattern, '{');
    size_t n = brace != NULL ? (size_t)(brace - pattern) : strlen(pattern);

    while (n > 0 && pattern[n - 1] == '/') {
        n--;
    }
    return n;
}

const struct igw_channel *
igw_in_http_family(const struct igw_config *cfg, const char *target)
{
    const struct igw_channel *best = NULL;
    size_t best_len = 0;
    size_t path = strcspn(target, "?#");

    for (size_t i = 0; i < cfg->nchannels; i++) {
        const struct igw_channel *ch = &cfg->channels[i];
        size_t n = literal_prefix(ch->path);
        if (n == 0 || n > path || memcmp(ch->path, target, n) != 0 ||
            (n < path && target[n] != '/') || n <= best_len) {
            continue;
        }
        best = ch;
        best_len = n;
    }
    return best;
}

static const char *
req_header(void *arg, const char *name)
{
    return nng_http_req_get_header(arg, name);
}

bool
igw_in_http_negotiate(const struct igw_channel *ch, nng_http_req *req, struct igw_http_verdict *v)
{
    const struct igw_dialect_ops *d = igw_channel_dialect(ch);
    const char *code = NULL;
    const char *msg = NULL;
    int st;

    if (d == NULL || d->check_request == NULL) {
        return true;
    }
    st = d->check_request(ch, nng_http_req_get_method(req), nng_http_req_get_uri(req), req_header,
                          req, &code, &msg);
    if (st == 0) {
        return true;
    }
    memset(v, 0, sizeof(*v));
    v->status = (uint16_t)st;
    v->code = code != NULL ? code : "not_acceptable";
    v->msg = msg != NULL ? msg : "the request's media types cannot be served";
    return false;
}

void
igw_in_http_answer_headers(nng_http_res *res, const struct igw_accept_resp *resp)
{
    if (resp->location[0] != '\0') {
        nng_http_res_set_header(res, "Location", resp->location);
    }
    if (resp->etag[0] != '\0') {
        nng_http_res_set_header(res, "ETag", resp->etag);
    }
    if (resp->last_modified[0] != '\0') {
        nng_http_res_set_header(res, "Last-Modified", resp->last_modified);
    }
}

void
igw_in_http_allow_add(char *allow, size_t size, const char *method)
{
    size_t n = strlen(allow);
    size_t m = strlen(method);
    size_t sep = n > 0 ? 2 : 0;

    if (strstr(allow, method) != NULL || n + sep + m >= size) {
        return;
    }
    memcpy(allow + n, ", ", sep);
    memcpy(allow + n + sep, method, m + 1);
}

bool
igw_in_http_content_type_ok(const struct igw_channel *ch, const char *ct)
{
    if (ch->ncontent_types == 0) {
        return true;
    }
    for (size_t i = 0; i < ch->ncontent_types; i++) {
        if (igw_media_type_is(ct, ch->content_types[i])) {
            return true;
        }
    }
    return false;
}

size_t
igw_in_http_head_refusal(const void *arg, const char *line, size_t n, bool line_whole, char *buf,
                         size_t cap)
{
    const struct igw_config *cfg = arg;
    const char *sp = memchr(line, ' ', n);
    char target[IGW_GUARD_HEAD_MAX + 1];
    const struct igw_channel *fam;
    const struct igw_dialect_ops *d;
    const char *ct = "application/json";
    struct igw_buf b;
    size_t tn;
    size_t out = 0;
    int status = line_whole ? 431 : 400;
    int len;

    if (sp == NULL) {
        return 0;
    }
    tn = n - (size_t)(sp + 1 - line);
    memcpy(target, sp + 1, tn < sizeof(target) - 1 ? tn : sizeof(target) - 1);
    target[tn < sizeof(target) - 1 ? tn : sizeof(target) - 1] = '\0';
    fam = target[0] == '/' ? igw_in_http_family(cfg, target) : NULL;
    d = igw_channel_dialect(fam);
    if (d == NULL || d->refusal == NULL) {
        return 0;
    }
    igw_buf_init(&b, cap / 2);
    if (d->refusal(fam, &b, status, line_whole ? "header_too_large" : "request_line_too_long",
                   line_whole ? "the request's headers are over 8 KiB"
                              : "the request line is over 8 KiB: a query value is too long for "
                                "a URL (a search can send its parameters as a form body)",
                   &ct) == IGW_OK) {
        len = snprintf(buf, cap,
                       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nConnection: close\r\n"
                       "Content-Length: %zu\r\n\r\n",
                       status, igw_http_reason((uint16_t)status), ct, b.len);
        if (len > 0 && (size_t)len + b.len < cap) {
            memcpy(buf + len, b.ptr, b.len);
            out = (size_t)len + b.len;
        }
    }
    igw_buf_fini(&b);
    return out;
}
