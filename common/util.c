/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks, constant-time compare, randomness, duration and size parsing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/random.h>

#include "igw/common.h"

uint64_t
igw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
igw_thread_name(const char *name)
{
    char n[16];

    (void)snprintf(n, sizeof(n), "%s", name);
    (void)prctl(PR_SET_NAME, n, 0, 0, 0);
}

uint64_t
igw_mono_ms(void)
{
    return igw_mono_ns() / 1000000u;
}

uint64_t
igw_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool
igw_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const unsigned char *x = a;
    const unsigned char *y = b;
    unsigned char diff = alen == blen ? 0 : 1;
    size_t n = alen < blen ? alen : blen;

    for (size_t i = 0; i < n; i++) {
        diff |= (unsigned char)(x[i] ^ y[i]);
    }
    return diff == 0;
}

int
igw_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t k = getrandom(p, n, 0);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            return IGW_EIO;
        }
        p += k;
        n -= (size_t)k;
    }
    return IGW_OK;
}

void
igw_text_position(const char *start, const char *pos, unsigned *line, unsigned *col)
{
    unsigned l = 1;
    const char *bol = start;

    for (const char *q = start; q < pos; q++) {
        if (*q == '\n') {
            l++;
            bol = q + 1;
        }
    }
    *line = l;
    *col = (unsigned)(pos - bol) + 1;
}

struct unit {
    const char *name;
    uint64_t mult;
};

static int
parse_with_units(const char *s, const struct unit *units, size_t nunits, uint64_t dflt,
                 uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return IGW_EINVAL;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0) {
        return IGW_EINVAL;
    }
    while (*end == ' ') {
        end++;
    }
    if (*end == '\0') {
        *out = (uint64_t)v * dflt;
        return IGW_OK;
    }
    for (size_t i = 0; i < nunits; i++) {
        if (strcmp(end, units[i].name) == 0) {
            if (units[i].mult != 0 && v > UINT64_MAX / units[i].mult) {
                return IGW_EINVAL;
            }
            *out = (uint64_t)v * units[i].mult;
            return IGW_OK;
        }
    }
    return IGW_EINVAL;
}

int
igw_parse_duration_ms(const char *s, uint64_t *out)
{
    static const struct unit units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    return parse_with_units(s, units, IGW_ARRAY_LEN(units), 1000, out);
}

int
igw_parse_size(const char *s, uint64_t *out)
{
    static const struct unit units[] = {
        {"B", 1},     {"KiB", 1024},       {"MiB", 1024 * 1024}, {"GiB", 1u << 30},
        {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000000000},   {"TiB", 1ull << 40},
    };
    return parse_with_units(s, units, IGW_ARRAY_LEN(units), 1, out);
}
