/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw_json_check (igw/json.h): is a text one JSON value that igw_json_parse accepts? A single
 * pass that builds and allocates nothing, for channels that store the body as it came and need
 * no tree (no map, no JSON order key, no dialect check). The grammar is json.c's, rule for
 * rule: a leading byte order mark skipped, strings UTF-8 validated with no raw control
 * character, escapes as RFC 8259 with UTF-16 surrogates paired, numbers without leading zeros,
 * nesting at most max_depth. The differential fuzz target tests/fuzz/fuzz_json_check.c holds
 * the two to the same verdict.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "igw/common.h"
#include "igw/json.h"
#include "igw/utf8.h"

#define CHECK_DEFAULT_DEPTH 256

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

#if defined(__SSE2__)
#include <emmintrin.h>
#define CHECK_SSE2 1
#else
#define CHECK_SSE2 0
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CHECK_SWAR 1
#else
#define CHECK_SWAR 0
#endif

static const unsigned char ws_tab[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

static inline const char *
skip_ws(const char *p, const char *end)
{
    while (p < end && ws_tab[(unsigned char)*p]) {
        p++;
    }
    return p;
}

static inline bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Four hex digits at p (the caller made sure they are before end). @return the value or -1. */
static long
hex4(const char *p)
{
    long v = 0;

    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        long d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            return -1;
        }
        v = (v << 4) | d;
    }
    return v;
}

/* One escape at p (the backslash). @return the position after it, or NULL when invalid. */
static const char *
check_escape(const char *p, const char *end)
{
    long hi;
    long lo;

    if (end - p < 2) {
        return NULL;
    }
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return p + 2;
    case 'u':
        break;
    default:
        return NULL;
    }
    if (end - p < 6 || (hi = hex4(p + 2)) < 0 || (hi >= 0xdc00 && hi <= 0xdfff)) {
        return NULL;
    }
    p += 6;
    if (hi >= 0xd800 && hi <= 0xdbff) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || (lo = hex4(p + 2)) < 0 || lo < 0xdc00 ||
            lo > 0xdfff) {
            return NULL;
        }
        p += 6;
    }
    return p;
}

/* The string whose opening quote is at p. @return the position after its closing quote, or NULL
 * (*rv says why). */
static const char *
check_string(const char *p, const char *end, int *rv)
{
    const char *s = ++p;

    *rv = IGW_EPARSE;
    for (;;) {
#if CHECK_SSE2
        /* 16 bytes a step: a quote, a backslash, or a byte below 0x20 or from 0x80 (signed
         * compare) stops the run */
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                       _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
            int m = _mm_movemask_epi8(hit);
            if (m != 0) {
                p += __builtin_ctz((unsigned)m);
                break;
            }
            p += 16;
        }
#elif CHECK_SWAR
        while (end - p >= 8) {
            uint64_t v;
            uint64_t q;
            uint64_t b;
            uint64_t m;
            memcpy(&v, p, 8);
            q = v ^ (ONES * '"');
            b = v ^ (ONES * '\\');
            m = ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((v - ONES * 0x20) & ~v) | v;
            m &= HIGHS;
            if (m != 0) {
                p += __builtin_ctzll(m) >> 3;
                break;
            }
            p += 8;
        }
#endif
        if (p >= end) {
            return NULL;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            if ((uint64_t)(p - s) > UINT32_MAX) {
                *rv = IGW_ELIMIT;
                return NULL;
            }
            return p + 1;
        }
        if (c == '\\') {
            /* json.c finds the closing quote first, then decodes: an escape must end before it */
            const char *q = check_escape(p, end);
            if (q == NULL) {
                return NULL;
            }
            p = q;
        } else if (c < 0x20) {
            return NULL;
        } else if (c >= 0x80) {
            size_t n = igw_utf8_seq((const unsigned char *)p, (const unsigned char *)end);
            if (n == 0) {
                return NULL;
            }
            p += n;
        } else {
            p++;
        }
    }
}

/* The number at p. @return the position after it, or NULL. */
static const char *
check_number(const char *p, const char *end)
{
    if (*p == '-') {
        p++;
    }
    if (p >= end || !is_digit(*p)) {
        return NULL;
    }
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            return NULL;
        }
    } else {
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p)) {
            return NULL;
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= end || !is_digit(*p)) {
            return NULL;
        }
        while (p < end && is_digit(*p)) {
            p++;
        }
    }
    return p;
}

/* A scalar at p (not a container). @return the position after it, or NULL (*rv says why). */
static const char *
check_scalar(const char *p, const char *end, int *rv)
{
    size_t avail = (size_t)(end - p);

    *rv = IGW_EPARSE;
    if (*p == '"') {
        return check_string(p, end, rv);
    }
    if (*p == '-' || is_digit(*p)) {
        return check_number(p, end);
    }
    if (avail >= 4 && (memcmp(p, "true", 4) == 0 || memcmp(p, "null", 4) == 0)) {
        return p + 4;
    }
    if (avail >= 5 && memcmp(p, "false", 5) == 0) {
        return p + 5;
    }
    return NULL;
}

int
igw_json_check(const char *text, size_t len, unsigned max_depth)
{
    uint64_t stack[IGW_JSON_CHECK_MAX_DEPTH / 64] = {0}; /* a bit a level: 1 object, 0 array */
    const char *p = text;
    const char *end;
    unsigned depth = 0;
    int rv = IGW_EPARSE;

    if ((text == NULL && len != 0) || max_depth > IGW_JSON_CHECK_MAX_DEPTH) {
        return IGW_EINVAL;
    }
    if (max_depth == 0) {
        max_depth = CHECK_DEFAULT_DEPTH;
    }
    if (text == NULL) {
        p = text = "";
    }
    end = text + len;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3;
    }
    for (;;) {
        bool obj;
        /* a value */
        p = skip_ws(p, end);
        if (p >= end) {
            return IGW_EPARSE;
        }
        if (*p == '{' || *p == '[') {
            obj = *p == '{';
            if (depth >= max_depth) {
                return IGW_ELIMIT;
            }
            if (obj) {
                stack[depth / 64] |= 1ull << (depth % 64);
            } else {
                stack[depth / 64] &= ~(1ull << (depth % 64));
            }
            depth++;
            p = skip_ws(p + 1, end);
            if (p < end && *p == (obj ? '}' : ']')) {
                depth--;
                p++;
            } else if (obj) {
                goto key;
            } else {
                continue; /* the first element */
            }
        } else if ((p = check_scalar(p, end, &rv)) == NULL) {
            return rv;
        }
        /* after a value: ',' or the closing bracket of the innermost container */
        for (;;) {
            if (depth == 0) {
                p = skip_ws(p, end);
                return p < end ? IGW_EPARSE : IGW_OK;
            }
            obj = (stack[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;
            p = skip_ws(p, end);
            if (p < end && *p == ',') {
                p++;
                break;
            }
            if (p < end && *p == (obj ? '}' : ']')) {
                depth--;
                p++;
                continue;
            }
            return IGW_EPARSE;
        }
        if (!obj) {
            continue; /* the next element */
        }
    key:
        p = skip_ws(p, end);
        if (p >= end || *p != '"' || (p = check_string(p, end, &rv)) == NULL) {
            return p == NULL ? rv : IGW_EPARSE;
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ':') {
            return IGW_EPARSE;
        }
        p++;
    }
}
