/* SPDX-License-Identifier: Apache-2.0 */
/* FHIR search query strings: RFC 3986 percent-decoding with errors, bounded sizes, base64. */
#include <string.h>

#include "igw/err.h"
#include "igw/utf8.h"
#include "search_int.h"

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes s[0..n) into a new arena string; *outlen its length. */
static int
pct_decode(igw_arena *a, const char *s, size_t n, char **out, size_t *outlen, char *errbuf,
           size_t errlen)
{
    char *d = igw_arena_alloc(a, n + 1);
    size_t j = 0;

    if (d == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                igw_errbuf_set(errbuf, errlen, "bad percent-encoding at byte %zu", i);
                return IGW_EPARSE;
            }
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (s[i] == '+') {
            d[j++] = ' ';
        } else {
            d[j++] = s[i];
        }
        if (j > 0 && d[j - 1] == '\0') {
            igw_errbuf_set(errbuf, errlen, "a NUL byte (%%00) in the query string");
            return IGW_EPARSE;
        }
    }
    d[j] = '\0';
    if (!igw_utf8_valid(d, j, NULL)) {
        igw_errbuf_set(errbuf, errlen, "the query string is not valid UTF-8");
        return IGW_EPARSE;
    }
    *out = d;
    *outlen = j;
    return IGW_OK;
}

static bool
name_ok(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static int
add_piece(igw_arena *a, struct igw_search_query *q, const char *p, size_t n, char *errbuf,
          size_t errlen)
{
    const char *eq = memchr(p, '=', n);
    size_t nl = eq != NULL ? (size_t)(eq - p) : n;
    char *name = NULL;
    char *val = NULL;
    size_t len = 0;
    size_t vlen = 0;
    int rv = pct_decode(a, p, nl, &name, &len, errbuf, errlen);

    if (rv != IGW_OK) {
        return rv;
    }
    rv = eq != NULL ? pct_decode(a, eq + 1, n - nl - 1, &val, &vlen, errbuf, errlen)
                    : pct_decode(a, "", 0, &val, &vlen, errbuf, errlen);
    if (rv != IGW_OK) {
        return rv;
    }
    if (!name_ok(name)) {
        igw_errbuf_set(errbuf, errlen, "bad parameter name '%.60s'", name);
        return IGW_EPARSE;
    }
    if (vlen > IGW_SEARCH_VALUE_MAX) {
        igw_errbuf_set(errbuf, errlen, "the value of '%.60s' is over %u bytes", name,
                       IGW_SEARCH_VALUE_MAX);
        return IGW_ETOOBIG;
    }
    if (q->count >= IGW_SEARCH_PARAMS_MAX) {
        igw_errbuf_set(errbuf, errlen, "more than %u parameters", IGW_SEARCH_PARAMS_MAX);
        return IGW_ETOOBIG;
    }
    struct igw_search_param *sp = &q->params[q->count++];
    char *colon = strchr(name, ':');
    sp->modifier = NULL;
    if (colon != NULL) {
        *colon = '\0';
        sp->modifier = colon + 1;
    }
    sp->name = name;
    sp->value = val;
    sp->value_len = vlen;
    return IGW_OK;
}

int
igw_search_query_parse(igw_arena *a, const char *qs, size_t len, struct igw_search_query *out,
                       char *errbuf, size_t errlen)
{
    if (a == NULL || out == NULL || (qs == NULL && len > 0)) {
        return IGW_EINVAL;
    }
    out->count = 0;
    out->params = NULL;
    if (len > IGW_SEARCH_QUERY_MAX) {
        igw_errbuf_set(errbuf, errlen, "the query string is over %u bytes", IGW_SEARCH_QUERY_MAX);
        return IGW_ETOOBIG;
    }
    out->params = igw_arena_calloc(a, IGW_SEARCH_PARAMS_MAX * sizeof(*out->params));
    if (out->params == NULL) {
        return IGW_ENOMEM;
    }
    size_t i = (len > 0 && qs[0] == '?') ? 1 : 0;
    while (i < len) {
        const char *amp = memchr(qs + i, '&', len - i);
        size_t n = amp != NULL ? (size_t)(amp - (qs + i)) : len - i;
        if (n > 0) {
            int rv = add_piece(a, out, qs + i, n, errbuf, errlen);
            if (rv != IGW_OK) {
                return rv;
            }
        }
        i += n + 1;
    }
    return IGW_OK;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
igw_sr_b64(igw_arena *a, const char *s, size_t n, bool url)
{
    char *o = igw_arena_alloc(a, (n + 2) / 3 * 4 + 1);
    size_t j = 0;

    if (o == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        size_t k = n - i;
        if (k > 1) {
            v |= (unsigned char)s[i + 1] << 8;
        }
        if (k > 2) {
            v |= (unsigned char)s[i + 2];
        }
        o[j++] = B64[(v >> 18) & 63];
        o[j++] = B64[(v >> 12) & 63];
        if (k > 1) {
            o[j++] = B64[(v >> 6) & 63];
        } else if (!url) {
            o[j++] = '=';
        }
        if (k > 2) {
            o[j++] = B64[v & 63];
        } else if (!url) {
            o[j++] = '=';
        }
    }
    o[j] = '\0';
    if (url) {
        for (size_t i = 0; i < j; i++) {
            o[i] = o[i] == '+' ? '-' : (o[i] == '/' ? '_' : o[i]);
        }
    }
    return o;
}

static int
b64val(char c)
{
    const char *p = c == '-' ? B64 + 62 : (c == '_' ? B64 + 63 : strchr(B64, c));
    return (p == NULL || c == '\0') ? -1 : (int)(p - B64);
}

char *
igw_sr_unb64(igw_arena *a, const char *s, size_t n, size_t *outlen)
{
    char *o = igw_arena_alloc(a, n + 1);
    unsigned acc = 0;
    int bits = 0;
    size_t j = 0;

    if (o == NULL) {
        return NULL;
    }
    while (n > 0 && s[n - 1] == '=') {
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0) {
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[j++] = (char)((acc >> bits) & 0xff);
        }
    }
    o[j] = '\0';
    *outlen = j;
    return o;
}
