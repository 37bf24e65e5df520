/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Upstream helpers of the mediation engine (mediate_int.h): the token bucket of an upstream's
 * rate limit, the login body and the token in the login answer (JWT exp or expires_in), the
 * check of a call's path and the normalised cache key. No I/O, no locks.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/json.h"
#include "http/http.h"
#include "mediate/mediate_int.h"

#define KEY_PARAMS_MAX 64 /* query parameters sorted into a cache key; more: not cached */

/* ---- token bucket ------------------------------------------------------------------------- */

void
igw_bucket_init(struct igw_bucket *b, unsigned rate_per_minute, unsigned burst, uint64_t now_ms)
{
    b->per_ms = rate_per_minute / 60000.0;
    b->burst = burst > 0 ? burst : 1;
    b->tokens = b->burst;
    b->last_ms = now_ms;
}

static void
refill(struct igw_bucket *b, uint64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->per_ms;
        b->tokens = b->tokens > b->burst ? b->burst : b->tokens;
        b->last_ms = now_ms;
    }
}

bool
igw_bucket_take(struct igw_bucket *b, uint64_t now_ms)
{
    if (b->per_ms <= 0) {
        return true;
    }
    refill(b, now_ms);
    if (b->tokens < 1.0) {
        return false;
    }
    b->tokens -= 1.0;
    return true;
}

uint64_t
igw_bucket_wait_ms(const struct igw_bucket *b, uint64_t now_ms)
{
    struct igw_bucket t = *b;

    if (b->per_ms <= 0) {
        return 0;
    }
    refill(&t, now_ms);
    return t.tokens >= 1.0 ? 0 : (uint64_t)((1.0 - t.tokens) / t.per_ms) + 1;
}

/* ---- login ---------------------------------------------------------------------------------- */

int
igw_jwt_exp(const char *tok, size_t len, uint64_t *exp_s)
{
    const char *dot1 = memchr(tok, '.', len);
    const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - tok)) : NULL;
    char b64[2048];
    char json[1600];
    size_t n = 0;
    size_t dn = 0;
    igw_arena *a = NULL;
    struct igw_node *root = NULL;
    struct igw_parse_error perr;
    const struct igw_node *exp;
    int rv = IGW_EPARSE;

    if (dot2 == NULL || (size_t)(dot2 - dot1 - 1) + 4 > sizeof(b64)) {
        return IGW_EPARSE;
    }
    for (const char *p = dot1 + 1; p < dot2; p++) {
        b64[n++] = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    }
    while (n % 4 != 0) {
        b64[n++] = '=';
    }
    if (igw_base64_decode(b64, n, json, sizeof(json), &dn) != IGW_OK ||
        igw_arena_new(&a, 64 * 1024) != IGW_OK) {
        return IGW_EPARSE;
    }
    if (igw_json_parse(a, json, dn, NULL, &root, &perr) == IGW_OK && root != NULL) {
        exp = igw_node_get(root, "exp", 3);
        if (exp != NULL && exp->type == IGW_NODE_NUMBER && exp->num > 0) {
            *exp_s = (uint64_t)exp->num;
            rv = IGW_OK;
        }
    }
    igw_arena_free(a);
    return rv;
}

static int
put_value(struct igw_buf *b, const char *s, size_t n, bool form)
{
    if (form) {
        return igw_med_pct_encode(b, s, n);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        int rv;
        if (ch == '"' || ch == '\\') {
            rv = igw_buf_putc(b, '\\');
            rv = rv == IGW_OK ? igw_buf_putc(b, (char)ch) : rv;
        } else if (ch < 0x20) {
            rv = igw_buf_printf(b, "\\u%04x", ch);
        } else {
            rv = igw_buf_putc(b, (char)ch);
        }
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

int
igw_login_body(struct igw_buf *b, const char *tmpl, const char *secret, size_t slen, bool form)
{
    const char *colon = memchr(secret, ':', slen);
    size_t ulen = colon != NULL ? (size_t)(colon - secret) : 0;
    int rv = IGW_OK;

    if (colon == NULL) {
        return IGW_EINVAL;
    }
    for (const char *p = tmpl; *p != '\0' && rv == IGW_OK;) {
        if (strncmp(p, "{user}", 6) == 0) {
            rv = put_value(b, secret, ulen, form);
            p += 6;
        } else if (strncmp(p, "{password}", 10) == 0) {
            rv = put_value(b, colon + 1, slen - ulen - 1, form);
            p += 10;
        } else {
            rv = igw_buf_putc(b, *p++);
        }
    }
    return rv;
}

int
igw_login_parse(const char *body, size_t len, const char *token_path, const char *expires_path,
                uint64_t now_ms, char **tok, uint64_t *ttl_ms)
{
    struct igw_node *root = NULL;
    struct igw_parse_error perr;
    struct igw_buf t, e;
    igw_arena *a = NULL;
    uint64_t exp_s = 0;
    int rv = igw_arena_new(&a, 4u << 20);

    igw_buf_init(&t, 64 * 1024);
    igw_buf_init(&e, 64);
    *tok = NULL;
    *ttl_ms = 0;
    if (rv == IGW_OK) {
        rv = igw_json_parse(a, body, len, NULL, &root, &perr) == IGW_OK ? IGW_OK : IGW_EPARSE;
    }
    if (rv == IGW_OK && (igw_json_key(root, token_path, &t) != IGW_OK || t.len == 0)) {
        rv = IGW_EPARSE;
    }
    if (rv == IGW_OK && expires_path != NULL && igw_json_key(root, expires_path, &e) == IGW_OK &&
        igw_buf_putc(&e, '\0') == IGW_OK) {
        double s = 0;
        (void)sscanf(e.ptr, "%lf", &s);
        *ttl_ms = s > 0 ? (uint64_t)(s * 1000.0) : 0;
    } else if (rv == IGW_OK && igw_jwt_exp(t.ptr, t.len, &exp_s) == IGW_OK &&
               exp_s * 1000 > now_ms) {
        *ttl_ms = exp_s * 1000 - now_ms;
    }
    if (rv == IGW_OK) {
        *tok = igw_strndup(t.ptr, t.len);
        rv = *tok == NULL ? IGW_ENOMEM : IGW_OK;
    }
    if (t.ptr != NULL) {
        memset(t.ptr, 0, t.len);
    }
    igw_buf_fini(&t);
    igw_buf_fini(&e);
    igw_arena_free(a);
    return rv;
}

/* ---- paths, query strings, cache keys ------------------------------------------------------ */

bool
igw_med_path_ok(const char *path)
{
    const char *q;
    size_t plen;

    if (path == NULL || path[0] != '/' || path[1] == '/') {
        return false;
    }
    for (const char *p = path; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch >= 0x7f || ch == '\\' || ch == '#') {
            return false;
        }
    }
    q = strchr(path, '?');
    plen = q != NULL ? (size_t)(q - path) : strlen(path);
    for (size_t i = 0; i < plen; i++) {
        if (path[i] != '/') {
            continue;
        }
        size_t seg = strcspn(path + i + 1, "/?");
        seg = i + 1 + seg > plen ? plen - i - 1 : seg;
        if ((seg == 1 && path[i + 1] == '.') ||
            (seg == 2 && path[i + 1] == '.' && path[i + 2] == '.') || (seg == 0 && i + 1 < plen)) {
            return false;
        }
    }
    return strstr(path, "%2e") == NULL && strstr(path, "%2E") == NULL;
}

int
igw_med_pct_encode(struct igw_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        int rv;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            rv = igw_buf_putc(b, (char)ch);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            rv = igw_buf_append(b, e, 3);
        }
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

static int
hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static int
pct_decode(const char *s, size_t n, char *out, size_t outlen, size_t *len)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1;
            int l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                return IGW_EPARSE;
            }
            ch = (char)(h * 16 + l);
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (k + 1 >= outlen) {
            return IGW_ETOOBIG;
        }
        out[k++] = ch;
    }
    out[k] = '\0';
    *len = k;
    return IGW_OK;
}

int
igw_med_query_get(const char *target, const char *name, char *out, size_t outlen, size_t *len)
{
    const char *q = strchr(target, '?');
    size_t nlen = strlen(name);

    while (q != NULL && *q != '\0') {
        const char *p = q + 1;
        const char *end = p + strcspn(p, "&");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq != NULL ? eq : end;
        if ((size_t)(kend - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq != NULL ? eq + 1 : end;
            return pct_decode(v, (size_t)(end - v), out, outlen, len);
        }
        q = *end == '&' ? end : NULL;
    }
    return IGW_ENOENT;
}

struct qparam {
    const char *s;
    size_t n;
};

/* Sorts the query's parameters (insertion sort: stable, and KEY_PARAMS_MAX is small). */
static size_t
split_query(const char *q, struct qparam *v, size_t max)
{
    size_t n = 0;

    while (q != NULL && *q != '\0' && n < max) {
        size_t len = strcspn(q, "&");
        if (len > 0) {
            struct qparam x = {q, len};
            size_t j = n++;
            while (j > 0) {
                size_t m = v[j - 1].n < len ? v[j - 1].n : len;
                int c = memcmp(v[j - 1].s, x.s, m);
                if (c < 0 || (c == 0 && v[j - 1].n <= len)) {
                    break;
                }
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
        q = q[len] == '&' ? q + len + 1 : NULL;
    }
    return q != NULL && *q != '\0' ? max + 1 : n;
}

int
igw_med_cache_key(struct igw_buf *b, const char *channel, const char *method, const char *target,
                  const char *accept)
{
    struct qparam v[KEY_PARAMS_MAX];
    const char *q = strchr(target, '?');
    size_t plen = q != NULL ? (size_t)(q - target) : strlen(target);
    size_t n = split_query(q != NULL ? q + 1 : NULL, v, KEY_PARAMS_MAX);
    int rv;

    if (n > KEY_PARAMS_MAX) {
        return IGW_ETOOBIG;
    }
    rv = igw_buf_printf(b, "%s\n%s\n%.*s\n", channel, strcmp(method, "HEAD") == 0 ? "GET" : method,
                        (int)plen, target);
    for (size_t i = 0; rv == IGW_OK && i < n; i++) {
        rv = igw_buf_append(b, v[i].s, v[i].n);
        rv = rv == IGW_OK ? igw_buf_putc(b, '&') : rv;
    }
    if (rv == IGW_OK) {
        rv = igw_buf_printf(b, "\n%s", accept != NULL ? accept : "");
    }
    return rv;
}
