/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one UTF-8 validator (RFC 3629): overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and
 * code points above U+10FFFF are invalid. NUL and other control characters are valid UTF-8;
 * callers that refuse them check for them themselves. Pure functions, thread-safe.
 */
#ifndef IGW_UTF8_H
#define IGW_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Length of the valid multi-byte UTF-8 sequence that starts at p, for scanners that already
 * handle ASCII bytes themselves (inline: the JSON string scanner calls it per non-ASCII byte).
 * @param p   first byte of the sequence, a lead byte >= 0x80; must not be NULL and p < end.
 * @param end one past the last readable byte; the sequence may not run past it.
 * @return 2, 3 or 4, or 0 when the bytes at p are not a valid sequence (bad lead byte, bad or
 *         missing continuation byte, overlong form, surrogate, above U+10FFFF). Never fails
 *         otherwise; nothing is allocated.
 */
static inline size_t
igw_utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t avail = (size_t)(end - p);

    if (c >= 0xc2 && c <= 0xdf) {
        return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
        unsigned char hi = c == 0xed ? 0x9f : 0xbf;
        return avail >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
        if (avail >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
            (p[3] & 0xc0) == 0x80) {
            return 4;
        }
    }
    return 0;
}

/**
 * Validates n bytes as UTF-8 (ASCII runs are checked 8 bytes at a time).
 * @param p          the bytes (borrowed, only read); may be NULL only when n is 0.
 * @param n          number of bytes; 0 is valid.
 * @param bad_offset when not NULL and the text is invalid, receives the offset of the first
 *                   byte of the first invalid sequence; left untouched when the text is valid.
 * @return true when all n bytes are valid UTF-8, false otherwise. No error codes, no
 *         allocation.
 */
bool igw_utf8_valid(const void *p, size_t n, size_t *bad_offset);

#endif /* IGW_UTF8_H */
