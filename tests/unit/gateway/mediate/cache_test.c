/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/mediate/cache.c: hits and misses, expiry, the entry and byte bounds with
 * least-recently-used eviction, replacement, and invalidation by tag. */
#include <string.h>

#include "igw/common.h"
#include "mediate/mediate_int.h"
#include "igwt.h"

struct seen {
    int status;
    char body[64];
    char etag[16];
};

static void
copy_cb(void *arg, const struct igw_mcache_val *v)
{
    struct seen *s = arg;
    s->status = v->status;
    memcpy(s->body, v->body, v->body_len < 63 ? v->body_len : 63);
    s->body[v->body_len < 63 ? v->body_len : 63] = '\0';
    snprintf(s->etag, sizeof(s->etag), "%s", v->etag != NULL ? v->etag : "-");
}

static int
put(igw_mcache *c, const char *key, const char *tag, const char *body, uint64_t now)
{
    struct igw_mcache_val v = {200, "application/json", "W/\"1\"", NULL, body, strlen(body)};
    return igw_mcache_put(c, key, strlen(key), tag, now, &v);
}

static bool
get(igw_mcache *c, const char *key, uint64_t now, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    return igw_mcache_get(c, key, strlen(key), now, copy_cb, s);
}

static void
test_hit_miss_expiry(void)
{
    igw_mcache *c = NULL;
    struct seen s;

    IGWT_ERR(igw_mcache_new(&c, 0, 1024, 10), IGW_EINVAL);
    IGWT_OK(igw_mcache_new(&c, 8, 1 << 20, 1000));
    IGWT_CHECK(!get(c, "a", 0, &s));
    IGWT_OK(put(c, "a", "Patient", "{\"x\":1}", 100));
    IGWT_CHECK(get(c, "a", 500, &s) && s.status == 200);
    IGWT_STREQ(s.body, "{\"x\":1}");
    IGWT_STREQ(s.etag, "W/\"1\"");
    IGWT_CHECK(get(c, "a", 1099, &s));
    IGWT_CHECK(!get(c, "a", 1100, &s)); /* expired: dropped */
    unsigned n;
    uint64_t bytes;
    igw_mcache_usage(c, &n, &bytes);
    IGWT_CHECK(n == 0 && bytes == 0);
    igw_mcache_free(c);
    igw_mcache_free(NULL);
}

static void
test_bounds_lru(void)
{
    igw_mcache *c = NULL;
    struct seen s;
    char key[16];
    unsigned n;
    uint64_t bytes;

    IGWT_OK(igw_mcache_new(&c, 3, 1 << 20, 1000));
    IGWT_OK(put(c, "k1", NULL, "1", 0));
    IGWT_OK(put(c, "k2", NULL, "2", 0));
    IGWT_OK(put(c, "k3", NULL, "3", 0));
    IGWT_CHECK(get(c, "k1", 1, &s)); /* k1 is now the most recent: k2 goes first */
    IGWT_OK(put(c, "k4", NULL, "4", 1));
    IGWT_CHECK(!get(c, "k2", 2, &s));
    IGWT_CHECK(get(c, "k1", 2, &s) && get(c, "k3", 2, &s) && get(c, "k4", 2, &s));
    IGWT_OK(put(c, "k4", NULL, "four", 3)); /* replaces */
    IGWT_CHECK(get(c, "k4", 4, &s));
    IGWT_STREQ(s.body, "four");
    igw_mcache_usage(c, &n, &bytes);
    IGWT_CHECK(n == 3);
    igw_mcache_free(c);

    /* bytes: 100 entries of ~1 KiB in 16 KiB stay under 16 KiB */
    char big[1025];
    memset(big, 'x', 1024);
    big[1024] = '\0';
    IGWT_OK(igw_mcache_new(&c, 1000, 16 * 1024, 1000));
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "b%d", i);
        IGWT_OK(put(c, key, NULL, big, 0));
    }
    igw_mcache_usage(c, &n, &bytes);
    IGWT_CHECK(bytes <= 16 * 1024 && n >= 8 && n < 16);
    IGWT_CHECK(get(c, "b99", 1, &s) && !get(c, "b0", 1, &s));
    char huge[5000];
    memset(huge, 'y', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    IGWT_ERR(put(c, "huge", NULL, huge, 0), IGW_ETOOBIG); /* over a quarter of max_bytes */
    igw_mcache_free(c);
}

static void
test_invalidate(void)
{
    igw_mcache *c = NULL;
    struct seen s;

    IGWT_OK(igw_mcache_new(&c, 100, 1 << 20, 1000));
    IGWT_OK(put(c, "p1", "Patient", "a", 0));
    IGWT_OK(put(c, "p2", "Patient", "b", 0));
    IGWT_OK(put(c, "g1", "Group", "c", 0));
    IGWT_OK(put(c, "n1", NULL, "d", 0));
    IGWT_CHECK(igw_mcache_invalidate(c, "Patient") == 2);
    IGWT_CHECK(!get(c, "p1", 1, &s) && !get(c, "p2", 1, &s));
    IGWT_CHECK(get(c, "g1", 1, &s) && get(c, "n1", 1, &s));
    IGWT_CHECK(igw_mcache_invalidate(c, "Patient") == 0);
    IGWT_CHECK(igw_mcache_invalidate(c, NULL) == 0 && igw_mcache_invalidate(NULL, "x") == 0);
    igw_mcache_free(c);
}

static void
test_many_keys_collide_safely(void)
{
    igw_mcache *c = NULL;
    struct seen s;
    char key[32], body[32];
    bool all = true;

    IGWT_OK(igw_mcache_new(&c, 5000, 64u << 20, 1000));
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(body, sizeof(body), "%d", i);
        IGWT_OK(put(c, key, (i & 1) ? "odd" : "even", body, 0));
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(body, sizeof(body), "%d", i);
        all = all && get(c, key, 1, &s) && strcmp(s.body, body) == 0;
    }
    IGWT_CHECK(all);
    IGWT_CHECK(igw_mcache_invalidate(c, "odd") == 2500);
    igw_mcache_free(c);
}

IGWT_MAIN({"hit_miss_expiry", test_hit_miss_expiry}, {"bounds_lru", test_bounds_lru},
          {"invalidate", test_invalidate}, {"many_keys", test_many_keys_collide_safely})
