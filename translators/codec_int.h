/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the codecs (translators/json, translators/csv); internal to translators/. */
#ifndef IGW_TRANSLATORS_CODEC_INT_H
#define IGW_TRANSLATORS_CODEC_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "igw/doc.h"

/** Length of the valid UTF-8 sequence at p (lead byte >= 0x80; p < end), 0 if invalid:
 *  overlong forms, surrogates and code points above U+10FFFF are invalid. */
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

/** Fills err (may be NULL) with the line and column of pos in the text at start and the message
 *  "line L, column C: <fmt...>". */
void igw_parse_error_vset(struct igw_parse_error *err, const char *start, const char *pos,
                          const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#endif /* IGW_TRANSLATORS_CODEC_INT_H */
