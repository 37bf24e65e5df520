/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Growable byte buffer with a mandatory maximum (curl dynbuf). The buffer owns ptr; it is kept
 * NUL-terminated for convenience but the length is authoritative. Appends past max fail with
 * IGW_ETOOBIG and leave the buffer unchanged.
 */
#ifndef IGW_BUF_H
#define IGW_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>

struct igw_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
};

/* Unless a function says otherwise, b must not be NULL and must have been initialised; the
 * buffer owns its storage (b->ptr, NULL until the first append) until igw_buf_fini or
 * igw_buf_steal. Appending functions leave the buffer unchanged when they fail. Not
 * thread-safe: one buffer, one thread at a time. */

/** Initialises an empty buffer that may grow to max bytes (not counting the NUL). Allocates
 *  nothing; never fails. */
void igw_buf_init(struct igw_buf *b, size_t max);
/** Frees the storage; the buffer is empty and may be used or initialised again. NULL-safe. */
void igw_buf_fini(struct igw_buf *b);
/** Empties the buffer, keeping its storage. Cannot fail. */
void igw_buf_reset(struct igw_buf *b);
/** Appends n bytes of p (borrowed; may be NULL only when n is 0).
 *  @return IGW_OK; IGW_ETOOBIG the result would exceed max; IGW_ENOMEM out of memory. */
int igw_buf_append(struct igw_buf *b, const void *p, size_t n);
/** Appends a NUL-terminated string (not NULL). Same errors as igw_buf_append. */
int igw_buf_puts(struct igw_buf *b, const char *s);
/** Appends one byte. Same errors as igw_buf_append. */
int igw_buf_putc(struct igw_buf *b, char c);
/** Appends printf-formatted text. Same errors as igw_buf_append, plus IGW_EINVAL when the
 *  format cannot be rendered (vsnprintf fails). */
int igw_buf_printf(struct igw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** igw_buf_printf with a va_list (consumed). Same errors. */
int igw_buf_vprintf(struct igw_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/** Appends n bytes of s (borrowed; NULL only when n is 0) as a JSON string literal, quotes and
 *  escapes included. Valid UTF-8 is copied as it is; each byte that starts no valid sequence
 *  (include/igw/utf8.h) becomes U+FFFD, so the result is always valid JSON text whatever s
 *  holds. Same errors as igw_buf_append. */
int igw_buf_json_str(struct igw_buf *b, const char *s, size_t n);
/** Appends v in decimal. Same errors as igw_buf_append. */
int igw_buf_u64(struct igw_buf *b, uint64_t v);
/** Ensures room for n more bytes (and the NUL) without changing the content. Same errors as
 *  igw_buf_append. */
int igw_buf_reserve(struct igw_buf *b, size_t n);
/** Appends everything f (not NULL; borrowed, not closed) still holds (until EOF) to b; on
 *  success b->ptr is non-NULL and NUL-terminated even for an empty stream. On failure b may
 *  hold part of the stream. @return IGW_OK, IGW_EIO (read error), IGW_ETOOBIG (more than b's
 *  max), IGW_ENOMEM. */
int igw_buf_read_stream(struct igw_buf *b, FILE *f);
/** Opens path (not NULL) and appends its whole content like igw_buf_read_stream. A file that
 *  cannot be opened gives IGW_EIO with errno from fopen. Same errors otherwise. */
int igw_buf_read_file(struct igw_buf *b, const char *path);
/** Hands the storage to the caller (free with igw_free; NULL when nothing was ever appended)
 *  and leaves the buffer empty with the same max. *len (len may be NULL) gets the length.
 *  Cannot fail. */
char *igw_buf_steal(struct igw_buf *b, size_t *len);

#endif /* IGW_BUF_H */
