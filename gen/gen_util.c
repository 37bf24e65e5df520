/* SPDX-License-Identifier: Apache-2.0 */
/* igw gen helpers: the PRNG (xoshiro256**, https://prng.di.unimi.it/), civil dates and the
 * JSON record writer. Integer arithmetic only, so the output is the same on every machine. */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "gen_int.h"

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void
gen_rng_seed(struct gen_rng *r, uint64_t seed)
{
    for (size_t i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&seed);
    }
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
gen_rng_next(struct gen_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t
gen_rng_below(struct gen_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;

    do {
        x = gen_rng_next(r);
    } while (x >= limit);
    return x % n;
}

int64_t
gen_rng_range(struct gen_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)gen_rng_below(r, (uint64_t)(hi - lo) + 1);
}

bool
gen_rng_chance(struct gen_rng *r, unsigned permille)
{
    return gen_rng_below(r, 1000) < permille;
}

size_t
gen_rng_weighted(struct gen_rng *r, const unsigned *w, size_t n)
{
    uint64_t total = 0;
    uint64_t x;

    for (size_t i = 0; i < n; i++) {
        total += w[i];
    }
    x = gen_rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < w[i]) {
            return i;
        }
        x -= w[i];
    }
    return n - 1;
}

void
gen_rng_uuid(struct gen_rng *r, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    uint64_t a = gen_rng_next(r);
    uint64_t c = gen_rng_next(r);
    size_t j = 0;

    for (size_t i = 0; i < 8; i++) {
        b[i] = (uint8_t)(a >> (8 * i));
        b[8 + i] = (uint8_t)(c >> (8 * i));
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[j++] = '-';
        }
        out[j++] = hex[b[i] >> 4];
        out[j++] = hex[b[i] & 15];
    }
    out[j] = '\0';
}

/* days_from_civil / civil_from_days: H. Hinnant,
 * http://howardhinnant.github.io/date_algorithms.html */
int32_t
gen_days(int y, unsigned m, unsigned d)
{
    int era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void
gen_date_str(int32_t days, char out[11])
{
    int32_t z = days + 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = (int)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;

    y += m <= 2;
    y = y < 0 ? 0 : y % 10000;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

/* ---- the writer ---- */

static void
w_put(struct gen_w *w, const char *s, size_t n)
{
    if (w->err == IGW_OK) {
        w->err = igw_buf_append(&w->b, s, n);
    }
}

static void
w_puts(struct gen_w *w, const char *s)
{
    w_put(w, s, strlen(s));
}

void
gen_w_raw(struct gen_w *w, const char *s)
{
    w_puts(w, s);
}

void
gen_w_begin(struct gen_w *w, const char *kind)
{
    igw_buf_reset(&w->b);
    w->err = IGW_OK;
    w_puts(w, "{\"kind\":\"");
    w_puts(w, kind);
    w_puts(w, "\"");
    w->first = false;
}

void
gen_w_end(struct gen_w *w)
{
    w_puts(w, "}");
}

void
gen_w_key(struct gen_w *w, const char *key)
{
    if (!w->first) {
        w_puts(w, ",");
    }
    w->first = false;
    if (key != NULL) {
        w_puts(w, "\"");
        w_puts(w, key);
        w_puts(w, "\":");
    }
}

void
gen_w_str(struct gen_w *w, const char *key, const char *v)
{
    if (key == NULL && v == NULL) {
        return;
    }
    gen_w_key(w, key);
    if (v == NULL) {
        w_puts(w, "null");
    } else if (w->err == IGW_OK) {
        w->err = igw_buf_json_str(&w->b, v, strlen(v));
    }
}

void
gen_w_int(struct gen_w *w, const char *key, int64_t v)
{
    char t[24];

    gen_w_key(w, key);
    snprintf(t, sizeof(t), "%lld", (long long)v);
    w_puts(w, t);
}

void
gen_w_bool(struct gen_w *w, const char *key, bool v)
{
    gen_w_key(w, key);
    w_puts(w, v ? "true" : "false");
}

void
gen_w_null(struct gen_w *w, const char *key)
{
    gen_w_key(w, key);
    w_puts(w, "null");
}

void
gen_w_money(struct gen_w *w, const char *key, int64_t cents)
{
    char t[64];

    gen_w_key(w, key);
    snprintf(t, sizeof(t), "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
    w_puts(w, t);
}

void
gen_w_date(struct gen_w *w, const char *key, int32_t days)
{
    char d[11];

    gen_date_str(days, d);
    gen_w_str(w, key, d);
}

void
gen_w_datetime(struct gen_w *w, const char *key, int32_t days, uint32_t secs)
{
    char d[11];
    char t[64];

    gen_date_str(days, d);
    snprintf(t, sizeof(t), "%sT%02u:%02u:%02u", d, (secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    gen_w_str(w, key, t);
}

void
gen_w_obj_begin(struct gen_w *w, const char *key)
{
    gen_w_key(w, key);
    w_puts(w, "{");
    w->first = true;
}

void
gen_w_obj_end(struct gen_w *w)
{
    w_puts(w, "}");
    w->first = false;
}

void
gen_w_arr_begin(struct gen_w *w, const char *key)
{
    gen_w_key(w, key);
    w_puts(w, "[");
    w->first = true;
}

void
gen_w_arr_end(struct gen_w *w)
{
    w_puts(w, "]");
    w->first = false;
}

void
gen_w_ref(struct gen_w *w, const char *key, const char *uuid, const char *code)
{
    gen_w_obj_begin(w, key);
    gen_w_str(w, "uuid", uuid);
    if (code != NULL) {
        gen_w_str(w, "code", code);
    }
    gen_w_obj_end(w);
}
