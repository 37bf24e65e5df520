/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON writer: an iterative walk of the tree (no recursion), escape scanning in runs of 8 bytes,
 * and appends straight into the igw_buf storage (no per-node allocation). Members flagged
 * IGW_NODE_ATTR are written as "@key"; IGW_WRITE_PRETTY indents with two spaces.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/json.h"

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSON_SWAR 1
#else
#define JSON_SWAR 0
#endif

static inline bool
is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* ---- writer ------------------------------------------------------------------------------ */

struct jwriter {
    struct igw_buf *b;
    bool pretty;
};

/* 1 for bytes that must be escaped inside a JSON string */
static const unsigned char esc_tab[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1,
};

static inline int
wput(struct igw_buf *b, const char *s, size_t n)
{
    if (b->cap - b->len > n) {
        memcpy(b->ptr + b->len, s, n);
        b->len += n;
        return IGW_OK;
    }
    return igw_buf_append(b, s, n);
}

static inline int
wputc(struct igw_buf *b, char c)
{
    if (b->cap - b->len > 1) {
        b->ptr[b->len++] = c;
        return IGW_OK;
    }
    return igw_buf_append(b, &c, 1);
}

/* Length of the leading run of s that needs no escaping. */
static size_t
safe_run(const char *s, size_t n)
{
    size_t i = 0;

#if JSON_SWAR
    while (n - i >= 8) {
        uint64_t v;
        uint64_t q;
        uint64_t b;
        uint64_t m;
        memcpy(&v, s + i, 8);
        q = v ^ (ONES * '"');
        b = v ^ (ONES * '\\');
        m = (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((v - ONES * 0x20) & ~v)) & HIGHS;
        if (m != 0) {
            return i + ((size_t)__builtin_ctzll(m) >> 3);
        }
        i += 8;
    }
#endif
    while (i < n && !esc_tab[(unsigned char)s[i]]) {
        i++;
    }
    return i;
}

/* Writes the escape of c at d (room for 6 bytes); returns the end. */
static char *
put_escape(char *d, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    static const char short_esc[32] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};

    d[0] = '\\';
    if (c == '"' || c == '\\') {
        d[1] = (char)c;
        return d + 2;
    }
    if (short_esc[c] != 0) {
        d[1] = short_esc[c];
        return d + 2;
    }
    memcpy(d + 1, "u00", 3);
    d[4] = hex[c >> 4];
    d[5] = hex[c & 15];
    return d + 6;
}

/* Writes s escaped at d (room for 6n bytes); returns the end. */
static char *
put_escaped(char *d, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t run = safe_run(s + i, n - i);
        memcpy(d, s + i, run);
        d += run;
        i += run;
        if (i < n) {
            d = put_escape(d, (unsigned char)s[i]);
            i++;
        }
    }
    return d;
}

#if JSON_SWAR
/* Non-zero when one of the 8 bytes of v needs escaping. */
static inline uint64_t
word_dirty(uint64_t v)
{
    uint64_t q = v ^ (ONES * '"');
    uint64_t b = v ^ (ONES * '\\');
    return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((v - ONES * 0x20) & ~v)) & HIGHS;
}

/* Copies n >= 8 bytes a word at a time (the last word overlaps); non-zero when one needs
 * escaping. */
static inline uint64_t
copy_words(char *d, const char *s, size_t n)
{
    uint64_t dirty = 0;
    uint64_t v;
    size_t i = 0;

    for (; n - i > 8; i += 8) {
        memcpy(&v, s + i, 8);
        memcpy(d + i, &v, 8);
        dirty |= word_dirty(v);
    }
    memcpy(&v, s + n - 8, 8);
    memcpy(d + n - 8, &v, 8);
    return dirty | word_dirty(v);
}
#endif

/* Writes s at d (room for 6n bytes): copied and checked in one pass, escaped only when the
 * check finds a byte that needs it. */
static char *
put_body(char *d, const char *s, size_t n)
{
    unsigned char bad = 0;

#if JSON_SWAR
    if (n >= 8) {
        return copy_words(d, s, n) == 0 ? d + n : put_escaped(d, s, n);
    }
    if (n >= 4) { /* two 4-byte halves that may overlap, checked as one word */
        uint32_t lo;
        uint32_t hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        memcpy(d, &lo, 4);
        memcpy(d + n - 4, &hi, 4);
        return word_dirty(lo | (uint64_t)hi << 32) == 0 ? d + n : put_escaped(d, s, n);
    }
#endif
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        d[i] = (char)c;
        bad |= esc_tab[c];
    }
    return bad == 0 ? d + n : put_escaped(d, s, n);
}

/* Slow path when the worst case (6 bytes per input byte) may not fit: appends piece by piece,
 * so the buffer's maximum applies to the bytes actually written. */
static int
write_str_slow(struct igw_buf *b, const char *s, size_t n, bool at)
{
    int rv = wput(b, at ? "\"@" : "\"", at ? 2 : 1);
    size_t i = 0;

    while (rv == IGW_OK && i < n) {
        size_t run = safe_run(s + i, n - i);
        char e[6];
        if (run > 0) {
            rv = wput(b, s + i, run);
            i += run;
        } else {
            rv = wput(b, e, (size_t)(put_escape(e, (unsigned char)s[i]) - e));
            i++;
        }
    }
    if (rv == IGW_OK) {
        rv = wputc(b, '"');
    }
    return rv;
}

/* A string with its quotes: one room check for the worst case, then written in place. */
static int
write_str(struct igw_buf *b, const char *s, size_t n, bool at)
{
    char *d;

    if (s == NULL) {
        n = 0;
    }
    if (n > (SIZE_MAX - 4) / 6 || b->cap - b->len <= 6 * n + 3) {
        return write_str_slow(b, s, n, at);
    }
    d = b->ptr + b->len;
    *d++ = '"';
    if (at) {
        *d++ = '@';
    }
    d = put_body(d, s, n);
    *d++ = '"';
    b->len = (size_t)(d - b->ptr);
    return IGW_OK;
}

/* true when s is a JSON number per RFC 8259 */
static bool
valid_number(const char *s, size_t n)
{
    size_t i = 0;

    if (s == NULL || n == 0) {
        return false;
    }
    if (s[i] == '-') {
        i++;
    }
    if (i >= n || !is_digit(s[i])) {
        return false;
    }
    if (s[i] == '0') {
        i++;
    } else {
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i])) {
            return false;
        }
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        if (i >= n || !is_digit(s[i])) {
            return false;
        }
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    return i == n;
}

static int
write_number(struct igw_buf *b, const struct igw_node *n)
{
    char tmp[40];
    int len;

    if (valid_number(n->str, n->len)) {
        return wput(b, n->str, n->len);
    }
    if (!isfinite(n->num)) {
        return wput(b, "null", 4);
    }
    len = snprintf(tmp, sizeof(tmp), "%.17g", n->num);
    return wput(b, tmp, (size_t)len);
}

static int
write_indent(struct jwriter *w, unsigned depth)
{
    static const char spaces[] = "\n                                                              "
                                 "                                  ";
    size_t want = (size_t)depth * 2;
    int rv = wputc(w->b, '\n');

    while (rv == IGW_OK && want > 0) {
        size_t chunk = want < sizeof(spaces) - 2 ? want : sizeof(spaces) - 2;
        rv = wput(w->b, spaces + 1, chunk);
        want -= chunk;
    }
    return rv;
}

/* Writes the member prefix (separator, indentation, key) of n. */
static int
write_prefix(struct jwriter *w, const struct igw_node *n, const struct igw_node *root,
             unsigned depth)
{
    int rv = IGW_OK;

    if (n == root) {
        return IGW_OK;
    }
    if (n != n->parent->first) {
        rv = wputc(w->b, ',');
    }
    if (rv == IGW_OK && w->pretty) {
        rv = write_indent(w, depth);
    }
    if (rv == IGW_OK && n->parent->type == IGW_NODE_OBJECT) {
        rv = write_str(w->b, n->key, n->key != NULL ? n->key_len : 0,
                       (n->flags & IGW_NODE_ATTR) != 0);
        if (rv == IGW_OK) {
            rv = w->pretty ? wput(w->b, ": ", 2) : wputc(w->b, ':');
        }
    }
    return rv;
}

static int
write_scalar(struct igw_buf *b, const struct igw_node *n)
{
    switch (n->type) {
    case IGW_NODE_NULL:
        return wput(b, "null", 4);
    case IGW_NODE_BOOL:
        return n->boolean ? wput(b, "true", 4) : wput(b, "false", 5);
    case IGW_NODE_NUMBER:
        return write_number(b, n);
    case IGW_NODE_STRING:
        return write_str(b, n->str, n->len, false);
    case IGW_NODE_ARRAY:
        return wput(b, "[]", 2);
    case IGW_NODE_OBJECT:
        return wput(b, "{}", 2);
    default:
        return IGW_EINVAL;
    }
}

/* Closes containers from n upwards until one has a next sibling; *n is left on it (or root). */
static int
write_close(struct jwriter *w, const struct igw_node **n, const struct igw_node *root,
            unsigned *depth)
{
    int rv = IGW_OK;
    const struct igw_node *c = *n;

    while (rv == IGW_OK && c != root && c->next == NULL) {
        c = c->parent;
        (*depth)--;
        if (w->pretty) {
            rv = write_indent(w, *depth);
        }
        if (rv == IGW_OK) {
            rv = wputc(w->b, c->type == IGW_NODE_OBJECT ? '}' : ']');
        }
    }
    *n = c;
    return rv;
}

int
igw_json_write(const struct igw_node *root, struct igw_buf *out, unsigned flags)
{
    struct jwriter w = {out, (flags & IGW_WRITE_PRETTY) != 0};
    const struct igw_node *n = root;
    size_t start_len;
    unsigned depth = 0;
    int rv = IGW_OK;

    if (root == NULL || out == NULL) {
        return IGW_EINVAL;
    }
    start_len = out->len;
    for (;;) {
        rv = write_prefix(&w, n, root, depth);
        if (rv != IGW_OK) {
            goto fail;
        }
        if ((n->type == IGW_NODE_OBJECT || n->type == IGW_NODE_ARRAY) && n->first != NULL) {
            rv = wputc(out, n->type == IGW_NODE_OBJECT ? '{' : '[');
            depth++;
            n = n->first;
            if (rv != IGW_OK) {
                goto fail;
            }
            continue;
        }
        rv = write_scalar(out, n);
        if (rv == IGW_OK) {
            rv = write_close(&w, &n, root, &depth);
        }
        if (rv != IGW_OK) {
            goto fail;
        }
        if (n == root) {
            break;
        }
        n = n->next;
    }
    if (out->ptr != NULL) {
        out->ptr[out->len] = '\0';
    }
    return IGW_OK;

fail:
    /* leave the buffer as it was */
    out->len = start_len;
    if (out->ptr != NULL) {
        out->ptr[out->len] = '\0';
    }
    return rv;
}
