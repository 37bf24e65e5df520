/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON codec (RFC 8259): a hand-written parser straight into the per-message arena and a fast
 * writer. See docs/internals/CODECS.md for why this is not cJSON.
 *
 * Parser: one pass, no recursion (the open container is the current node; closing moves to its
 * parent), strings scanned 8 bytes at a time, UTF-8 validated, escapes decoded in a second pass
 * only for strings that contain a backslash. Line and column are computed only on error.
 * The writer is in json_write.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/json.h"
#include "igw/utf8.h"

#define JSON_DEFAULT_DEPTH 256

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSON_SWAR 1
#else
#define JSON_SWAR 0
#endif

struct jparser {
    igw_arena *a;
    const char *start;
    const char *end;
    unsigned max_depth;
    size_t max_nodes;
    size_t nodes;
    struct igw_parse_error *err;
};

enum jstate { ST_VALUE, ST_AFTER, ST_KEY, ST_DONE };

/* 1 for JSON insignificant whitespace */
static const unsigned char ws_tab[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

/* ---- errors ------------------------------------------------------------------------------ */

static int jfail(struct jparser *jp, const char *pos, int rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
jfail(struct jparser *jp, const char *pos, int rv, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    igw_parse_error_vset(jp->err, jp->start, pos, fmt, ap);
    va_end(ap);
    return rv;
}

static int
jfail_char(struct jparser *jp, const char *pos, const char *what)
{
    unsigned char c;

    if (pos >= jp->end) {
        return jfail(jp, pos, IGW_EPARSE, "unexpected end of input: %s", what);
    }
    c = (unsigned char)*pos;
    if (c >= 0x21 && c < 0x7f) {
        return jfail(jp, pos, IGW_EPARSE, "%s, found '%c'", what, c);
    }
    return jfail(jp, pos, IGW_EPARSE, "%s, found byte 0x%02x", what, c);
}

/* ---- nodes ------------------------------------------------------------------------------- */

/* A node plus extra bytes for its string in one arena allocation. */
static struct igw_node *
jnode(struct jparser *jp, enum igw_node_type type, size_t extra)
{
    struct igw_node *n;

    if (jp->max_nodes != 0 && jp->nodes >= jp->max_nodes) {
        return NULL;
    }
    n = igw_arena_bump(jp->a, sizeof(*n) + extra);
    if (n == NULL) {
        return NULL;
    }
    *n = (struct igw_node){.type = (uint8_t)type};
    jp->nodes++;
    return n;
}

static int
jnode_fail(struct jparser *jp, const char *pos)
{
    if (jp->max_nodes != 0 && jp->nodes >= jp->max_nodes) {
        return jfail(jp, pos, IGW_ELIMIT, "more than %zu nodes", jp->max_nodes);
    }
    return jfail(jp, pos, IGW_ENOMEM, "out of memory (arena limit)");
}

/* ---- strings ----------------------------------------------------------------------------- */

/*
 * First pass over a string body (p just after the opening quote): finds the closing quote,
 * validates UTF-8 and rejects raw control characters. *esc tells whether a backslash occurs.
 */
static int
scan_string(struct jparser *jp, const char *p, const char **close, bool *esc)
{
    const char *end = jp->end;

    for (;;) {
#if JSON_SWAR
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
            return jfail(jp, p, IGW_EPARSE, "unterminated string");
        }
        {
            unsigned char c = (unsigned char)*p;
            if (c == '"') {
                *close = p;
                return IGW_OK;
            }
            if (c == '\\') {
                *esc = true;
                if (end - p < 2) {
                    return jfail(jp, p + 1, IGW_EPARSE, "unterminated string");
                }
                p += 2;
            } else if (c < 0x20) {
                return jfail(jp, p, IGW_EPARSE, "control character 0x%02x in string", c);
            } else if (c >= 0x80) {
                size_t n = igw_utf8_seq((const unsigned char *)p, (const unsigned char *)end);
                if (n == 0) {
                    return jfail(jp, p, IGW_EPARSE, "invalid UTF-8 in string");
                }
                p += n;
            } else {
                p++;
            }
        }
    }
}

static int
hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        unsigned d;
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
    *out = v;
    return 0;
}

static size_t
put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decodes one \u escape (p at the backslash, at least 6 bytes available or an error). */
static int
decode_u(struct jparser *jp, const char **pp, const char *close, unsigned *cp)
{
    const char *p = *pp;
    unsigned hi;
    unsigned lo;

    if (close - p < 6 || hex4(p + 2, &hi) != 0) {
        return jfail(jp, p, IGW_EPARSE, "invalid \\u escape (four hex digits expected)");
    }
    p += 6;
    if (hi >= 0xdc00 && hi <= 0xdfff) {
        return jfail(jp, p - 6, IGW_EPARSE, "unpaired UTF-16 low surrogate in \\u escape");
    }
    if (hi >= 0xd800 && hi <= 0xdbff) {
        if (close - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) != 0 || lo < 0xdc00 ||
            lo > 0xdfff) {
            return jfail(jp, p - 6, IGW_EPARSE, "unpaired UTF-16 high surrogate in \\u escape");
        }
        hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
    }
    *cp = hi;
    *pp = p;
    return IGW_OK;
}

/* Second pass for strings with escapes: decodes [p, close) into d; *outlen gets the length. */
static int
decode_string(struct jparser *jp, const char *p, const char *close, char *d, size_t *outlen)
{
    char *d0 = d;

    while (p < close) {
        const char *bs = memchr(p, '\\', (size_t)(close - p));
        const char *run_end = bs != NULL ? bs : close;
        char c;

        memcpy(d, p, (size_t)(run_end - p));
        d += run_end - p;
        p = run_end;
        if (p >= close) {
            break;
        }
        c = p[1];
        switch (c) {
        case '"':
        case '\\':
        case '/':
            *d++ = c;
            break;
        case 'b':
            *d++ = '\b';
            break;
        case 'f':
            *d++ = '\f';
            break;
        case 'n':
            *d++ = '\n';
            break;
        case 'r':
            *d++ = '\r';
            break;
        case 't':
            *d++ = '\t';
            break;
        case 'u': {
            unsigned cp = 0;
            int rv = decode_u(jp, &p, close, &cp);
            if (rv != IGW_OK) {
                return rv;
            }
            d += put_utf8(d, cp);
            continue;
        }
        default:
            return jfail_char(jp, p + 1, "invalid escape sequence");
        }
        p += 2;
    }
    *d = '\0';
    *outlen = (size_t)(d - d0);
    return IGW_OK;
}

/*
 * Parses the string whose opening quote is at p into arena memory placed `extra` bytes after a
 * fresh allocation of `head` bytes (so a STRING node and its text share one allocation).
 * Returns the allocation in *mem, the text in *s and *len and the position after the quote in
 * *next.
 */
static int
parse_string(struct jparser *jp, const char *p, size_t head, void **mem, const char **s,
             uint32_t *len, const char **next)
{
    const char *close = NULL;
    bool esc = false;
    size_t raw;
    char *d;
    int rv = scan_string(jp, p + 1, &close, &esc);

    if (rv != IGW_OK) {
        return rv;
    }
    raw = (size_t)(close - (p + 1));
    if (raw > UINT32_MAX) {
        return jfail(jp, p, IGW_ELIMIT, "string longer than 4 GiB");
    }
    if (head != 0) {
        struct igw_node *n = jnode(jp, IGW_NODE_STRING, raw + 1);
        if (n == NULL) {
            return jnode_fail(jp, p);
        }
        *mem = n;
        d = (char *)(n + 1);
    } else {
        d = igw_arena_bump(jp->a, raw + 1);
        if (d == NULL) {
            return jfail(jp, p, IGW_ENOMEM, "out of memory (arena limit)");
        }
        *mem = d;
    }
    if (esc) {
        size_t outlen = 0;
        rv = decode_string(jp, p + 1, close, d, &outlen);
        if (rv != IGW_OK) {
            return rv;
        }
        *len = (uint32_t)outlen;
    } else {
        memcpy(d, p + 1, raw);
        d[raw] = '\0';
        *len = (uint32_t)raw;
    }
    *s = d;
    *next = close + 1;
    return IGW_OK;
}

/* ---- numbers ----------------------------------------------------------------------------- */

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline bool
is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/*
 * Number value: Clinger's fast path when the digits fit in 2^53 and the power of ten is exact
 * (the result is then correctly rounded), strtod otherwise.
 */
static double
number_value(const char *raw, uint64_t mant, int ndigits, long exp10, bool neg)
{
    double v;

    if (ndigits > 15 || exp10 < -22 || exp10 > 22) {
        return strtod(raw, NULL);
    }
    v = (double)mant;
    v = exp10 < 0 ? v / pow10_tab[-exp10] : v * pow10_tab[exp10];
    return neg ? -v : v;
}

static int
parse_number(struct jparser *jp, const char *p, struct igw_node **out, const char **next)
{
    const char *s = p;
    const char *end = jp->end;
    uint64_t mant = 0;
    int ndigits = 0; /* significant digits accumulated into mant */
    long exp10 = 0;
    bool neg = false;
    struct igw_node *n;
    char *text;

    if (*p == '-') {
        neg = true;
        p++;
    }
    if (p >= end || !is_digit(*p)) {
        return jfail_char(jp, p, "expected a digit in number");
    }
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            return jfail(jp, p, IGW_EPARSE, "leading zeros are not allowed in numbers");
        }
    } else {
        while (p < end && is_digit(*p)) {
            if (ndigits < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
            } else {
                exp10++;
            }
            ndigits++;
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p)) {
            return jfail_char(jp, p, "expected a digit after the decimal point");
        }
        while (p < end && is_digit(*p)) {
            if (ndigits < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                exp10--;
                if (mant != 0) {
                    ndigits++;
                }
            }
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        long e = 0;
        bool eneg = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p >= end || !is_digit(*p)) {
            return jfail_char(jp, p, "expected a digit in the exponent");
        }
        while (p < end && is_digit(*p)) {
            if (e < 100000) {
                e = e * 10 + (*p - '0');
            }
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    n = jnode(jp, IGW_NODE_NUMBER, (size_t)(p - s) + 1);
    if (n == NULL) {
        return jnode_fail(jp, s);
    }
    text = (char *)(n + 1);
    memcpy(text, s, (size_t)(p - s));
    text[p - s] = '\0';
    n->str = text;
    n->len = (uint32_t)(p - s);
    n->num = number_value(text, mant, ndigits, exp10, neg);
    *out = n;
    *next = p;
    return IGW_OK;
}

/* ---- values ------------------------------------------------------------------------------ */

static int
parse_literal(struct jparser *jp, const char *p, struct igw_node **out, const char **next)
{
    size_t avail = (size_t)(jp->end - p);
    struct igw_node *n = NULL;

    if (avail >= 4 && memcmp(p, "true", 4) == 0) {
        n = jnode(jp, IGW_NODE_BOOL, 0);
        if (n != NULL) {
            n->boolean = true;
        }
        *next = p + 4;
    } else if (avail >= 5 && memcmp(p, "false", 5) == 0) {
        n = jnode(jp, IGW_NODE_BOOL, 0);
        *next = p + 5;
    } else if (avail >= 4 && memcmp(p, "null", 4) == 0) {
        n = jnode(jp, IGW_NODE_NULL, 0);
        *next = p + 4;
    } else {
        return jfail_char(jp, p, "expected a value");
    }
    if (n == NULL) {
        return jnode_fail(jp, p);
    }
    *out = n;
    return IGW_OK;
}

/* A scalar value at p (not '{' or '['). */
static int
parse_scalar(struct jparser *jp, const char *p, struct igw_node **out, const char **next)
{
    char c = *p;

    if (c == '"') {
        void *mem = NULL;
        const char *s = NULL;
        uint32_t len = 0;
        int rv = parse_string(jp, p, sizeof(struct igw_node), &mem, &s, &len, next);
        if (rv != IGW_OK) {
            return rv;
        }
        *out = mem;
        (*out)->str = s;
        (*out)->len = len;
        return IGW_OK;
    }
    if (c == '-' || is_digit(c)) {
        return parse_number(jp, p, out, next);
    }
    return parse_literal(jp, p, out, next);
}

static inline const char *
skip_ws(const char *p, const char *end)
{
    while (p < end && ws_tab[(unsigned char)*p]) {
        p++;
    }
    return p;
}

/* Parses an object key and its ':' (p at the first byte after '{' or ','). */
static int
parse_key(struct jparser *jp, const char *p, const char **key, uint32_t *key_len, const char **next)
{
    void *mem = NULL;
    int rv;

    p = skip_ws(p, jp->end);
    if (p >= jp->end || *p != '"') {
        return jfail_char(jp, p, "expected '\"' to start an object key");
    }
    rv = parse_string(jp, p, 0, &mem, key, key_len, &p);
    if (rv != IGW_OK) {
        return rv;
    }
    p = skip_ws(p, jp->end);
    if (p >= jp->end || *p != ':') {
        return jfail_char(jp, p, "expected ':' after object key");
    }
    *next = p + 1;
    return IGW_OK;
}

/* After a value inside container cur: ',' or the closing bracket. */
static int
parse_after(struct jparser *jp, const char **pp, struct igw_node **cur, unsigned *depth,
            enum jstate *st)
{
    const char *p = skip_ws(*pp, jp->end);
    bool obj = (*cur)->type == IGW_NODE_OBJECT;

    if (p < jp->end && *p == ',') {
        *st = obj ? ST_KEY : ST_VALUE;
        *pp = p + 1;
        return IGW_OK;
    }
    if (p < jp->end && *p == (obj ? '}' : ']')) {
        *cur = (*cur)->parent;
        (*depth)--;
        *st = *cur == NULL ? ST_DONE : ST_AFTER;
        *pp = p + 1;
        return IGW_OK;
    }
    return jfail_char(jp, p,
                      obj ? "expected ',' or '}' after object member"
                          : "expected ',' or ']' after array element");
}

/* Opens an object or array at p. */
static int
parse_open(struct jparser *jp, const char **pp, unsigned *depth, enum jstate *st,
           struct igw_node **n)
{
    const char *p = *pp;
    bool obj = *p == '{';

    *n = jnode(jp, obj ? IGW_NODE_OBJECT : IGW_NODE_ARRAY, 0);
    if (*n == NULL) {
        return jnode_fail(jp, p);
    }
    if (*depth >= jp->max_depth) {
        return jfail(jp, p, IGW_ELIMIT, "nesting deeper than %u levels", jp->max_depth);
    }
    (*depth)++;
    p = skip_ws(p + 1, jp->end);
    if (p < jp->end && *p == (obj ? '}' : ']')) {
        *st = ST_AFTER; /* empty: closed at once */
        *pp = p + 1;
        (*depth)--;
        return IGW_OK;
    }
    *st = obj ? ST_KEY : ST_VALUE;
    *pp = p;
    return IGW_OK;
}

static int
parse_doc(struct jparser *jp, const char *p, struct igw_node **root)
{
    struct igw_node *cur = NULL;
    struct igw_node *n = NULL;
    const char *key = NULL;
    uint32_t key_len = 0;
    unsigned depth = 0;
    enum jstate st = ST_VALUE;
    int rv = IGW_OK;

    while (rv == IGW_OK && st != ST_DONE) {
        switch (st) {
        case ST_VALUE:
            p = skip_ws(p, jp->end);
            if (p >= jp->end) {
                return jfail(jp, p, IGW_EPARSE, "unexpected end of input: expected a value");
            }
            if (*p == '{' || *p == '[') {
                rv = parse_open(jp, &p, &depth, &st, &n);
            } else {
                rv = parse_scalar(jp, p, &n, &p);
                st = ST_AFTER;
            }
            if (rv != IGW_OK) {
                break;
            }
            if (cur != NULL) {
                igw_node_link(cur, key, key_len, n);
            } else {
                *root = n;
            }
            if (st != ST_AFTER) {
                cur = n; /* non-empty container opened */
            } else if (cur == NULL) {
                st = ST_DONE;
            }
            break;
        case ST_AFTER:
            rv = parse_after(jp, &p, &cur, &depth, &st);
            break;
        case ST_KEY:
            rv = parse_key(jp, p, &key, &key_len, &p);
            st = ST_VALUE;
            break;
        case ST_DONE:
            break;
        }
    }
    if (rv != IGW_OK) {
        return rv;
    }
    p = skip_ws(p, jp->end);
    if (p < jp->end) {
        return jfail_char(jp, p, "unexpected data after the JSON value");
    }
    return IGW_OK;
}

int
igw_json_parse(igw_arena *a, const char *text, size_t len, const struct igw_parse_limits *lim,
               struct igw_node **root, struct igw_parse_error *err)
{
    struct jparser jp;
    struct igw_node *r = NULL;
    const char *p = text;
    int rv;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
    if (a == NULL || root == NULL || (text == NULL && len != 0)) {
        return IGW_EINVAL;
    }
    *root = NULL;
    if (text == NULL) {
        text = p = "";
    }
    memset(&jp, 0, sizeof(jp));
    jp.a = a;
    jp.start = text;
    jp.end = text + len;
    jp.err = err;
    jp.max_depth = lim != NULL && lim->max_depth != 0 ? lim->max_depth : JSON_DEFAULT_DEPTH;
    jp.max_nodes = lim != NULL ? lim->max_nodes : 0;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3; /* RFC 8259 section 8.1: a parser may ignore a byte order mark */
    }
    rv = parse_doc(&jp, p, &r);
    if (rv == IGW_OK) {
        *root = r;
    }
    return rv;
}

static const char *const json_aliases[] = {"fhir-r4", "dci", NULL};
static const char *const json_extensions[] = {"json", NULL};

const struct igw_codec igw_codec_json = {
    .name = "json",
    .aliases = json_aliases,
    .extensions = json_extensions,
    .media_type = "application/json",
    .media_match = NULL,
    .parse = igw_json_parse,
    .write = igw_json_write,
};
