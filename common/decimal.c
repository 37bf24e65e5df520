/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exact decimal amounts in integer minor units (include/igw/decimal.h): parse, add, format.
 * Hand-written because the rule is the G2P Connect pattern itself (no exponent, no sign, at
 * most 13 integer digits and 2 decimals) and a general decimal library (libmpdec) would accept
 * far more than the pattern and still need this check; int64 holds 13+2 digits with room.
 */
#include <string.h>

#include "igw/decimal.h"
#include "igw/err.h"

int
igw_dec_parse(const char *s, size_t len, int64_t *out)
{
    size_t i = 0, sig = 0, nint = 0, nfrac = 0;
    int64_t v = 0;

    if (s == NULL || len == 0) {
        return IGW_EINVAL;
    }
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nint++) {
        if (sig > 0 || s[i] != '0') {
            if (++sig <= IGW_DEC_INT_DIGITS) {
                v = v * 10 + (s[i] - '0');
            }
        }
    }
    if (nint == 0) {
        return IGW_EINVAL;
    }
    v *= 100;
    if (i < len) {
        if (s[i] != '.') {
            return IGW_EINVAL;
        }
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nfrac++) {
            if (nfrac < 2) {
                v += (int64_t)(s[i] - '0') * (nfrac == 0 ? 10 : 1);
            }
        }
        if (nfrac == 0 || nfrac > 2 || i != len) {
            return IGW_EINVAL;
        }
    }
    if (sig > IGW_DEC_INT_DIGITS) {
        return IGW_ETOOBIG;
    }
    *out = v;
    return IGW_OK;
}

int
igw_dec_format(int64_t v, char out[IGW_DEC_STRLEN])
{
    char tmp[IGW_DEC_STRLEN];
    size_t n = 0, o = 0;
    int64_t ip;

    if (v < 0) {
        out[0] = '\0';
        return IGW_EINVAL;
    }
    ip = v / 100;
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip > 0);
    while (n > 0) {
        out[o++] = tmp[--n];
    }
    out[o++] = '.';
    out[o++] = (char)('0' + (v % 100) / 10);
    out[o++] = (char)('0' + v % 10);
    out[o] = '\0';
    return IGW_OK;
}

int
igw_dec_add(int64_t *acc, int64_t v)
{
    if (v < 0) {
        return IGW_EINVAL;
    }
    if (*acc > INT64_MAX - v) {
        return IGW_ETOOBIG;
    }
    *acc += v;
    return IGW_OK;
}
