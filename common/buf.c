/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded growable buffer (curl dynbuf). */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/buf.h"

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

int
igw_buf_json_str(struct igw_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rv = igw_buf_putc(b, '"');
    for (size_t i = 0; i < n && rv == IGW_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rv = igw_buf_append(b, esc, 2);
        } else if (c == '\n') {
            rv = igw_buf_append(b, "\\n", 2);
        } else if (c == '\r') {
            rv = igw_buf_append(b, "\\r", 2);
        } else if (c == '\t') {
            rv = igw_buf_append(b, "\\t", 2);
        } else if (c < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rv = igw_buf_append(b, u, 6);
        } else {
            rv = igw_buf_putc(b, (char)c);
        }
    }
    if (rv == IGW_OK) {
        rv = igw_buf_putc(b, '"');
    }
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
