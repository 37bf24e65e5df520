/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the retry policy (queue/retry.c). */
#include <stdint.h>
#include <string.h>

#include "igw/common.h"
#include "delivery/retry.h"
#include "igwt.h"

/* min(cap, base * 2^(n-1)) computed without overflow */
static uint64_t
upper(uint64_t base, uint64_t cap, uint32_t n)
{
    uint64_t hi = base;
    for (uint32_t i = 1; i < n && hi < cap; i++) {
        hi = hi > cap / 2 ? cap : hi * 2;
    }
    return hi < cap ? hi : cap;
}

static const uint64_t rnds[] = {
    0, 1, 2, 999, 0xFFFFFFFF, UINT64_MAX, UINT64_MAX - 1, 0x9E3779B97F4A7C15ull};

static void
test_delay_bounds(void)
{
    struct igw_retry_policy p = {100, 60000, 10, 0};

    for (uint32_t n = 1; n <= 40; n++) {
        uint64_t hi = upper(p.base_ms, p.cap_ms, n);
        for (size_t i = 0; i < IGW_ARRAY_LEN(rnds); i++) {
            uint64_t d = igw_retry_delay_ms(&p, n, rnds[i]);
            IGWT_CHECK(d >= p.base_ms && d <= hi);
        }
        /* both ends are reachable */
        IGWT_CHECK(igw_retry_delay_ms(&p, n, 0) == p.base_ms);
        IGWT_CHECK(igw_retry_delay_ms(&p, n, hi - p.base_ms) == hi);
    }
    IGWT_CHECK(upper(100, 60000, 1) == 100);
    IGWT_CHECK(upper(100, 60000, 3) == 400);
    IGWT_CHECK(upper(100, 60000, 40) == 60000);
    /* attempts 0 is treated as the first retry */
    IGWT_CHECK(igw_retry_delay_ms(&p, 0, 12345) == 100);
}

static void
test_delay_random(void)
{
    struct igw_retry_policy p = {1000, 600000, 0, 86400000};
    uint64_t r;

    for (int i = 0; i < 1000; i++) {
        uint32_t n = (uint32_t)(i % 40) + 1;
        uint64_t d;
        IGWT_OK(igw_random_bytes(&r, sizeof(r)));
        d = igw_retry_delay_ms(&p, n, r);
        IGWT_CHECK(d >= 1000 && d <= upper(1000, 600000, n));
    }
}

static void
test_no_overflow(void)
{
    struct igw_retry_policy p = {1, UINT64_MAX, 0, 0};
    uint32_t ns[] = {1, 2, 63, 64, 65, 100, 1000, UINT32_MAX};

    for (size_t i = 0; i < IGW_ARRAY_LEN(ns); i++) {
        for (size_t j = 0; j < IGW_ARRAY_LEN(rnds); j++) {
            uint64_t d = igw_retry_delay_ms(&p, ns[i], rnds[j]);
            IGWT_CHECK(d >= 1 && d <= upper(1, UINT64_MAX, ns[i]));
        }
    }
    /* at the cap the full range is reachable without wrapping */
    IGWT_CHECK(igw_retry_delay_ms(&p, 65, UINT64_MAX - 1) == UINT64_MAX);
    IGWT_CHECK(igw_retry_delay_ms(&p, 64, UINT64_MAX) == (1ull << 63));
    p.base_ms = UINT64_MAX / 3;
    for (size_t j = 0; j < IGW_ARRAY_LEN(rnds); j++) {
        uint64_t d = igw_retry_delay_ms(&p, 5, rnds[j]);
        IGWT_CHECK(d >= UINT64_MAX / 3);
    }
    p.base_ms = UINT64_MAX;
    IGWT_CHECK(igw_retry_delay_ms(&p, 7, 42) == UINT64_MAX);
    /* a cap below base and a zero base are repaired, not trusted */
    p.base_ms = 0;
    p.cap_ms = 0;
    IGWT_CHECK(igw_retry_delay_ms(&p, 3, 77) == 1);
    p.base_ms = 500;
    p.cap_ms = 10;
    IGWT_CHECK(igw_retry_delay_ms(&p, 9, 77) == 500);
}

static void
test_exhausted(void)
{
    struct igw_retry_policy p = {1000, 60000, 3, 0};

    IGWT_CHECK(!igw_retry_exhausted(&p, 1, 0, 5000));
    IGWT_CHECK(!igw_retry_exhausted(&p, 2, 0, 5000));
    IGWT_CHECK(igw_retry_exhausted(&p, 3, 0, 5000));
    IGWT_CHECK(igw_retry_exhausted(&p, 40, 0, 5000));
    /* by age: a next attempt later than created + max_age */
    p.max_attempts = 0;
    p.max_age_ms = 5000;
    IGWT_CHECK(!igw_retry_exhausted(&p, 1000000, 1000, 6000));
    IGWT_CHECK(igw_retry_exhausted(&p, 1, 1000, 6001));
    IGWT_CHECK(!igw_retry_exhausted(&p, 1, 1000, 500)); /* clock went back */
    /* both limits: whichever comes first */
    p.max_attempts = 5;
    IGWT_CHECK(igw_retry_exhausted(&p, 5, 1000, 2000));
    IGWT_CHECK(igw_retry_exhausted(&p, 1, 1000, UINT64_MAX));
    /* no limits at all */
    p.max_attempts = 0;
    p.max_age_ms = 0;
    IGWT_CHECK(!igw_retry_exhausted(&p, UINT32_MAX, 0, UINT64_MAX));
}

static void
test_default(void)
{
    struct igw_retry_policy p;
    igw_retry_policy_default(&p);
    IGWT_CHECK(p.base_ms == 1000 && p.cap_ms == 600000);
    IGWT_CHECK(p.max_attempts == 10 && p.max_age_ms == 86400000);
}

static void
test_retry_after_seconds(void)
{
    uint64_t w = 1;

    IGWT_OK(igw_retry_after_parse("120", 5000, &w));
    IGWT_CHECK(w == 120000);
    IGWT_OK(igw_retry_after_parse("  0", 5000, &w));
    IGWT_CHECK(w == 0);
    IGWT_OK(igw_retry_after_parse("7 ", 5000, &w));
    IGWT_CHECK(w == 7000);
    IGWT_ERR(igw_retry_after_parse("12a", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("-5", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse(NULL, 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("99999999999999999999999", 0, &w), IGW_EINVAL);
}

static void
test_retry_after_date(void)
{
    /* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s */
    const uint64_t at = 784111777000ull;
    uint64_t w = 1;

    IGWT_OK(igw_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", at - 30000, &w));
    IGWT_CHECK(w == 30000);
    IGWT_OK(igw_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", at + 1000, &w));
    IGWT_CHECK(w == 0); /* in the past: retry now */
    IGWT_OK(igw_retry_after_parse("Wed, 31 Dec 2025 23:59:59 GMT", 0, &w));
    IGWT_CHECK(w == 1767225599000ull);
    IGWT_ERR(igw_retry_after_parse("Sun, 06 Foo 1994 08:49:37 GMT", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("Sun, 32 Nov 1994 08:49:37 GMT", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("Sun, 06 Nov 1994 25:49:37 GMT", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("Sun, 06 Nov 1994", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("Sun, 06 Nov 1994 08:49:37 PST", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("Sun, 31 Feb 1994 08:49:37 GMT", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("Xyz, 06 Nov 1994 08:49:37 GMT", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("Sun 06 Nov 1994 08:49:37 GMT", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT junk", 0, &w), IGW_EINVAL);
    IGWT_ERR(igw_retry_after_parse("tomorrow", 0, &w), IGW_EINVAL);
}

IGWT_MAIN({"delay_bounds", test_delay_bounds}, {"delay_random", test_delay_random},
          {"no_overflow", test_no_overflow}, {"exhausted", test_exhausted},
          {"default", test_default}, {"retry_after_seconds", test_retry_after_seconds},
          {"retry_after_date", test_retry_after_date})
