/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-1 (RFC 3174) for name-based UUIDs (RFC 4122 section 4.3) only: uuid5() is its one user and
 * OpenSSL is not otherwise a dependency of the gateway. Not used for anything security-related.
 */
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

static uint32_t
rol(uint32_t v, unsigned n)
{
    return (v << n) | (v >> (32 - n));
}

static uint32_t
load_be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint32_t
round_f(unsigned t, uint32_t b, uint32_t c, uint32_t d)
{
    if (t < 20) {
        return (b & c) | (~b & d);
    }
    if (t < 40 || t >= 60) {
        return b ^ c ^ d;
    }
    return (b & c) | (b & d) | (c & d);
}

static void
block(uint32_t h[5], const uint8_t *p)
{
    static const uint32_t k[4] = {0x5A827999u, 0x6ED9EBA1u, 0x8F1BBCDCu, 0xCA62C1D6u};
    uint32_t w[80];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (unsigned t = 0; t < 16; t++) {
        w[t] = load_be(p + 4 * t);
    }
    for (unsigned t = 16; t < 80; t++) {
        w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    }
    for (unsigned t = 0; t < 80; t++) {
        uint32_t tmp = rol(a, 5) + round_f(t, b, c, d) + e + w[t] + k[t / 20];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void
map_sha1_init(struct map_sha1_ctx *c)
{
    static const uint32_t init[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                     0xC3D2E1F0u};
    memcpy(c->h, init, sizeof(init));
    c->total = 0;
    c->used = 0;
}

void
map_sha1_update(struct map_sha1_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->total += len;
    while (len > 0) {
        size_t n = 64 - c->used < len ? 64 - c->used : len;
        memcpy(c->buf + c->used, p, n);
        c->used += n;
        p += n;
        len -= n;
        if (c->used == 64) {
            block(c->h, c->buf);
            c->used = 0;
        }
    }
}

void
map_sha1_final(struct map_sha1_ctx *c, uint8_t out[20])
{
    uint64_t bits = c->total * 8;
    uint8_t pad = 0x80;
    uint8_t len[8];
    map_sha1_update(c, &pad, 1);
    pad = 0;
    while (c->used != 56) {
        map_sha1_update(c, &pad, 1);
    }
    for (int i = 0; i < 8; i++) {
        len[i] = (uint8_t)(bits >> (56 - 8 * i));
    }
    map_sha1_update(c, len, 8);
    for (int i = 0; i < 20; i++) {
        out[i] = (uint8_t)(c->h[i / 4] >> (24 - 8 * (i % 4)));
    }
}

void
map_sha1(const void *data, size_t len, uint8_t out[20])
{
    struct map_sha1_ctx c;
    map_sha1_init(&c);
    map_sha1_update(&c, data, len);
    map_sha1_final(&c, out);
}

static int
hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
map_parse_uuid(const char *s, size_t len, uint8_t out[16])
{
    size_t k = 0;
    if (len != 36) {
        return IGW_EINVAL;
    }
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return IGW_EINVAL;
            }
            continue;
        }
        int hi = hex(s[i]);
        int lo = hex(s[++i]);
        if (hi < 0 || lo < 0) {
            return IGW_EINVAL;
        }
        out[k++] = (uint8_t)(hi << 4 | lo);
    }
    return IGW_OK;
}

int
map_uuid5(const uint8_t ns[16], const char *name, size_t len, char out[37])
{
    static const char digits[] = "0123456789abcdef";
    struct map_sha1_ctx c;
    uint8_t h[20];
    size_t k = 0;
    map_sha1_init(&c);
    map_sha1_update(&c, ns, 16);
    map_sha1_update(&c, name, len);
    map_sha1_final(&c, h);
    h[6] = (uint8_t)((h[6] & 0x0F) | 0x50);
    h[8] = (uint8_t)((h[8] & 0x3F) | 0x80);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[k++] = '-';
        }
        out[k++] = digits[h[i] >> 4];
        out[k++] = digits[h[i] & 15];
    }
    out[k] = '\0';
    return IGW_OK;
}
