/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded growable buffer (curl dynbuf). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "igw/common.h"
#include "igw/buf.h"
#include "igw/utf8.h"

void
igw_buf_init(struct igw_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
igw_buf_fini(struct igw_buf *b)
{
    if (b == NULL) {
        return;
    }
    IGW_FREE(b->ptr);
    b->len = 0;
    b->cap = 0;
}

void
igw_buf_reset(struct igw_buf *b)
{
    b->len = 0;
    if (b->ptr != NULL) {
        b->ptr[0] = '\0';
    }
}

int
igw_buf_reserve(struct igw_buf *b, size_t n)
{
    size_t need;
    size_t ncap;
    char *p;

    if (n > b->max || b->len > b->max - n) {
        return IGW_ETOOBIG;
    }
    need = b->len + n + 1; /* room for the NUL */
    if (need <= b->cap) {
        return IGW_OK;
    }
    ncap = b->cap == 0 ? 64 : b->cap;
    while (ncap < need) {
        ncap *= 2;
    }
    if (ncap > b->max + 1) {
        ncap = b->max + 1;
    }
    p = igw_realloc(b->ptr, ncap);
    if (p == NULL) {
        return IGW_ENOMEM;
    }
    b->ptr = p;
    b->cap = ncap;
    return IGW_OK;
}

int
igw_buf_append(struct igw_buf *b, const void *p, size_t n)
{
    int rv = igw_buf_reserve(b, n);
    if (rv != IGW_OK) {
        return rv;
    }
    if (n > 0) {
        memcpy(b->ptr + b->len, p, n);
    }
    b->len += n;
    b->ptr[b->len] = '\0';
    return IGW_OK;
}

int
igw_buf_puts(struct igw_buf *b, const char *s)
{
    return igw_buf_append(b, s, strlen(s));
}

int
igw_buf_putc(struct igw_buf *b, char c)
{
    return igw_buf_append(b, &c, 1);
}

int
igw_buf_vprintf(struct igw_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;
    int rv;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) {
        return IGW_EINVAL;
    }
    rv = igw_buf_reserve(b, (size_t)n);
    if (rv != IGW_OK) {
        return rv;
    }
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return IGW_OK;
}

int
igw_buf_printf(struct igw_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rv;
    va_start(ap, fmt);
    rv = igw_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rv;
}

/* ASCII characters that need no escape inside a JSON string. */
static bool
json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static const char replacement[3] = {'\xef', '\xbf', '\xbd'}; /* U+FFFD */

/* Writes (out not NULL) and sizes the text for the byte at p that is not plain: an escape, a
 * valid UTF-8 sequence as it is, or U+FFFD for a byte that starts no valid sequence. *used gets
 * the input bytes consumed. */
static size_t
json_special(const unsigned char *p, const unsigned char *end, char *out, size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = p[0];
    const char *short_esc = c == '"'    ? "\\\""
                            : c == '\\' ? "\\\\"
                            : c == '\n' ? "\\n"
                            : c == '\r' ? "\\r"
                            : c == '\t' ? "\\t"
                                        : NULL;
    size_t n;

    *used = 1;
    if (c >= 0x80) {
        n = igw_utf8_seq(p, end);
        *used = n > 0 ? n : 1;
        if (out != NULL) {
            memcpy(out, n > 0 ? (const char *)p : replacement, n > 0 ? n : 3);
        }
        return n > 0 ? n : 3;
    }
    if (short_esc != NULL) {
        if (out != NULL) {
            memcpy(out, short_esc, 2);
        }
        return 2;
    }
    if (out != NULL) {
        memcpy(out, "\\u00", 4);
        out[4] = hex[c >> 4];
        out[5] = hex[c & 15];
    }
    return 6;
}

int
igw_buf_json_str(struct igw_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;
    size_t need = 2;
    size_t i = 0;
    size_t used;
    char *o;
    int rv;

    /* exact size first (one scan), so a string that fits is never refused for its worst case */
    for (size_t k = 0; k < n; k += used) {
        used = 1;
        need += json_plain(p[k]) ? 1 : json_special(p + k, end, NULL, &used);
    }
    rv = igw_buf_reserve(b, need);
    if (rv != IGW_OK) {
        return rv;
    }
    o = b->ptr + b->len;
    *o++ = '"';
    while (i < n) {
        size_t run = i;
        while (run < n && json_plain(p[run])) {
            run++;
        }
        memcpy(o, p + i, run - i);
        o += run - i;
        i = run;
        if (i < n) {
            o += json_special(p + i, end, o, &used);
            i += used;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->ptr);
    b->ptr[b->len] = '\0';
    return IGW_OK;
}

int
igw_buf_u64(struct igw_buf *b, uint64_t v)
{
    char d[20];
    size_t n = 0;

    do {
        d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return igw_buf_append(b, d + sizeof(d) - n, n);
}

int
igw_buf_read_stream(struct igw_buf *b, FILE *f)
{
    char chunk[16384];
    size_t n;
    int rv = IGW_OK;

    for (;;) {
        n = fread(chunk, 1, sizeof(chunk), f);
        if (n == 0) {
            break;
        }
        rv = igw_buf_append(b, chunk, n);
        if (rv != IGW_OK) {
            break;
        }
    }
    if (rv == IGW_OK && ferror(f)) {
        rv = IGW_EIO;
    }
    if (rv == IGW_OK) {
        rv = igw_buf_reserve(b, 0); /* storage exists even for an empty stream */
    }
    if (rv == IGW_OK) {
        b->ptr[b->len] = '\0';
    }
    return rv;
}

int
igw_buf_read_file(struct igw_buf *b, const char *path)
{
    FILE *f = fopen(path, "rb");
    int rv;

    if (f == NULL) {
        return IGW_EIO;
    }
    rv = igw_buf_read_stream(b, f);
    fclose(f);
    return rv;
}

char *
igw_buf_steal(struct igw_buf *b, size_t *len)
{
    char *p = b->ptr;
    if (len != NULL) {
        *len = b->len;
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
