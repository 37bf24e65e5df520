/* SPDX-License-Identifier: Apache-2.0 */
/* The UTF-8 validator: ASCII runs a word at a time, multi-byte sequences by igw_utf8_seq. */
#include <stdint.h>
#include <string.h>

#include "igw/utf8.h"

#define HIGHS 0x8080808080808080ull

bool
igw_utf8_valid(const void *p, size_t n, size_t *bad_offset)
{
    const unsigned char *s = p;
    const unsigned char *q = s;
    const unsigned char *end = s + n;

    if (n == 0) {
        return true;
    }
    while (q < end) {
        uint64_t w;
        size_t k;

        if (end - q >= 8) {
            memcpy(&w, q, 8);
            if ((w & HIGHS) == 0) {
                q += 8;
                continue;
            }
        }
        if (*q < 0x80) {
            q++;
            continue;
        }
        k = igw_utf8_seq(q, end);
        if (k == 0) {
            if (bad_offset != NULL) {
                *bad_offset = (size_t)(q - s);
            }
            return false;
        }
        q += k;
    }
    return true;
}
