/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/http/throttle.c: token buckets per address, refill, bounded table. */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "http/throttle.h"
#include "igwt.h"

static void
test_burst_then_wait(void)
{
    igw_throttle *t = NULL;
    uint64_t now = 1000000;

    IGWT_OK(igw_throttle_new(&t, 3, 60, 64)); /* 3 at once, then one a second */
    IGWT_CHECK(igw_throttle_wait(t, "10.0.0.1", now) == 0);
    IGWT_CHECK(!igw_throttle_fail(t, "10.0.0.1", now));
    IGWT_CHECK(!igw_throttle_fail(t, "10.0.0.1", now));
    IGWT_CHECK(igw_throttle_wait(t, "10.0.0.1", now) == 0);
    IGWT_CHECK(igw_throttle_fail(t, "10.0.0.1", now)); /* the last token */
    IGWT_CHECK(igw_throttle_wait(t, "10.0.0.1", now) == 1);
    /* another address is not affected */
    IGWT_CHECK(igw_throttle_wait(t, "10.0.0.2", now) == 0);
    /* one token back after a second */
    IGWT_CHECK(igw_throttle_wait(t, "10.0.0.1", now + 500) == 1);
    IGWT_CHECK(igw_throttle_wait(t, "10.0.0.1", now + 1000) == 0);
    IGWT_CHECK(igw_throttle_fail(t, "10.0.0.1", now + 1000));
    IGWT_CHECK(igw_throttle_tracked(t) == 1);
    /* back to a full burst: the address is forgotten */
    IGWT_CHECK(igw_throttle_wait(t, "10.0.0.1", now + 10000) == 0);
    IGWT_CHECK(igw_throttle_tracked(t) == 0);
    igw_throttle_free(t);
}

static void
test_slow_refill(void)
{
    igw_throttle *t = NULL;

    IGWT_OK(igw_throttle_new(&t, 1, 2, 16)); /* one token per 30 s */
    IGWT_CHECK(igw_throttle_fail(t, "a", 0));
    IGWT_CHECK(igw_throttle_wait(t, "a", 0) == 30);
    IGWT_CHECK(igw_throttle_wait(t, "a", 20000) == 10);
    IGWT_CHECK(igw_throttle_wait(t, "a", 30000) == 0);
    igw_throttle_free(t);
}

static void
test_null_and_off(void)
{
    igw_throttle *t = NULL;

    IGWT_ERR(igw_throttle_new(NULL, 1, 1, 1), IGW_EINVAL);
    IGWT_ERR(igw_throttle_new(&t, 1, 0, 1), IGW_EINVAL);
    IGWT_CHECK(igw_throttle_wait(NULL, "a", 0) == 0);
    IGWT_CHECK(!igw_throttle_fail(NULL, "a", 0));
    IGWT_CHECK(igw_throttle_tracked(NULL) == 0);
    igw_throttle_free(NULL);
    IGWT_OK(igw_throttle_new(&t, 0, 0, 0)); /* off */
    for (int i = 0; i < 100; i++) {
        IGWT_CHECK(!igw_throttle_fail(t, "a", 0));
    }
    IGWT_CHECK(igw_throttle_wait(t, "a", 0) == 0);
    igw_throttle_free(t);
    /* NULL address: the "-" bucket */
    IGWT_OK(igw_throttle_new(&t, 1, 60, 16));
    IGWT_CHECK(igw_throttle_fail(t, NULL, 0));
    IGWT_CHECK(igw_throttle_wait(t, "-", 0) == 1);
    igw_throttle_free(t);
}

/* A spray of addresses never grows the table, and throttled addresses stay throttled. */
static void
test_spray_bounded(void)
{
    igw_throttle *t = NULL;
    char addr[32];

    IGWT_OK(igw_throttle_new(&t, 2, 60, 64));
    IGWT_CHECK(!igw_throttle_fail(t, "attacker", 0));
    IGWT_CHECK(igw_throttle_fail(t, "attacker", 0));
    for (int i = 0; i < 100000; i++) {
        snprintf(addr, sizeof(addr), "2001:db8::%x", i);
        (void)igw_throttle_fail(t, addr, 0);
    }
    IGWT_CHECK(igw_throttle_tracked(t) <= 64);
    IGWT_CHECK(igw_throttle_wait(t, "attacker", 0) > 0); /* the fullest bucket goes first */
    igw_throttle_free(t);
}

static void
test_long_address(void)
{
    igw_throttle *t = NULL;
    char addr[200];

    memset(addr, 'x', sizeof(addr) - 1);
    addr[sizeof(addr) - 1] = '\0';
    IGWT_OK(igw_throttle_new(&t, 1, 60, 16));
    IGWT_CHECK(igw_throttle_fail(t, addr, 0));
    IGWT_CHECK(igw_throttle_wait(t, addr, 0) == 1);
    igw_throttle_free(t);
}

static void
test_retry_after_text(void)
{
    IGWT_STREQ(igw_throttle_retry_after(0), "1");
    IGWT_STREQ(igw_throttle_retry_after(1), "1");
    IGWT_STREQ(igw_throttle_retry_after(17), "17");
    IGWT_STREQ(igw_throttle_retry_after(60), "60");
    IGWT_STREQ(igw_throttle_retry_after(1000), "60");
}

IGWT_MAIN({"burst_then_wait", test_burst_then_wait}, {"slow_refill", test_slow_refill},
          {"null_and_off", test_null_and_off}, {"spray_bounded", test_spray_bounded},
          {"long_address", test_long_address}, {"retry_after_text", test_retry_after_text})
