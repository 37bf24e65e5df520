/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/mediate/upstream.c: the token bucket, JWT expiry, login bodies and answers,
 * the call-path check, query parameters and the normalised cache key. */
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "mediate/mediate_int.h"
#include "igwt.h"

static void
test_bucket(void)
{
    struct igw_bucket b;
    int taken = 0;

    igw_bucket_init(&b, 0, 0, 0); /* unlimited */
    for (int i = 0; i < 1000; i++) {
        taken += igw_bucket_take(&b, 0);
    }
    IGWT_CHECK(taken == 1000 && igw_bucket_wait_ms(&b, 0) == 0);

    igw_bucket_init(&b, 60, 3, 1000); /* one per second, three at once */
    IGWT_CHECK(igw_bucket_take(&b, 1000) && igw_bucket_take(&b, 1000) && igw_bucket_take(&b, 1000));
    IGWT_CHECK(!igw_bucket_take(&b, 1000));
    IGWT_CHECK(igw_bucket_wait_ms(&b, 1000) >= 999 && igw_bucket_wait_ms(&b, 1000) <= 1001);
    IGWT_CHECK(!igw_bucket_take(&b, 1500));
    IGWT_CHECK(igw_bucket_take(&b, 2001));
    IGWT_CHECK(!igw_bucket_take(&b, 2001));
    /* a long pause refills to the burst, not beyond */
    taken = 0;
    for (int i = 0; i < 10; i++) {
        taken += igw_bucket_take(&b, 100000);
    }
    IGWT_CHECK(taken == 3);
}

static void
test_jwt_exp(void)
{
    /* {"alg":"HS256"}.{"sub":"a","exp":1900000000}.sig */
    const char *tok = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIiwiZXhwIjoxOTAwMDAwMDAwfQ.c2ln";
    uint64_t exp = 0;

    IGWT_OK(igw_jwt_exp(tok, strlen(tok), &exp));
    IGWT_CHECK(exp == 1900000000u);
    IGWT_ERR(igw_jwt_exp("nodots", 6, &exp), IGW_EPARSE);
    IGWT_ERR(igw_jwt_exp("a.!!!.c", 7, &exp), IGW_EPARSE);
    /* {"sub":"a"} : no exp */
    IGWT_ERR(igw_jwt_exp("e30.eyJzdWIiOiJhIn0.x", 21, &exp), IGW_EPARSE);
}

static void
test_login_body(void)
{
    struct igw_buf b;
    const char *sec = "Ad\"min:p&w=1 \\";

    igw_buf_init(&b, 4096);
    IGWT_OK(igw_login_body(&b, "{\"u\":\"{user}\",\"p\":\"{password}\"}", sec, strlen(sec), false));
    IGWT_CHECK(b.len == strlen("{\"u\":\"Ad\\\"min\",\"p\":\"p&w=1 \\\\\"}") &&
               memcmp(b.ptr, "{\"u\":\"Ad\\\"min\",\"p\":\"p&w=1 \\\\\"}", b.len) == 0);
    igw_buf_reset(&b);
    IGWT_OK(igw_login_body(&b, "id={user}&secret={password}", sec, strlen(sec), true));
    IGWT_CHECK(b.len == strlen("id=Ad%22min&secret=p%26w%3D1%20%5C") &&
               memcmp(b.ptr, "id=Ad%22min&secret=p%26w%3D1%20%5C", b.len) == 0);
    IGWT_ERR(igw_login_body(&b, "{user}", "nocolon", 7, false), IGW_EINVAL);
    igw_buf_fini(&b);
}

static void
test_login_parse(void)
{
    const char *gql = "{\"data\":{\"tokenAuth\":{\"token\":"
                      "\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIiwiZXhwIjoxOTAwMDAwMDAwfQ.c2ln\"}}}";
    const char *oauth = "{\"access_token\":\"abc\",\"expires_in\":300}";
    char *tok = NULL;
    uint64_t ttl = 0;

    IGWT_OK(igw_login_parse(gql, strlen(gql), "data.tokenAuth.token", NULL, 1899999000ull * 1000,
                            &tok, &ttl));
    IGWT_CHECK(tok != NULL && strncmp(tok, "eyJ", 3) == 0 && ttl == 1000000);
    igw_free(tok);
    IGWT_OK(igw_login_parse(oauth, strlen(oauth), "access_token", "expires_in", 0, &tok, &ttl));
    IGWT_STREQ(tok, "abc");
    IGWT_CHECK(ttl == 300000);
    igw_free(tok);
    IGWT_OK(igw_login_parse(oauth, strlen(oauth), "access_token", NULL, 0, &tok, &ttl));
    IGWT_CHECK(ttl == 0); /* not a JWT, no expires_path: the caller's default */
    igw_free(tok);
    IGWT_ERR(igw_login_parse("{\"data\":{\"tokenAuth\":null}}", 27, "data.tokenAuth.token", NULL, 0,
                             &tok, &ttl),
             IGW_EPARSE);
    IGWT_CHECK(tok == NULL);
    IGWT_ERR(igw_login_parse("<html>", 6, "token", NULL, 0, &tok, &ttl), IGW_EPARSE);
}

static void
test_path_ok(void)
{
    IGWT_CHECK(igw_med_path_ok("/api/graphql"));
    IGWT_CHECK(igw_med_path_ok("/api/api_fhir_r4/Patient?family=Doe&_count=10"));
    IGWT_CHECK(igw_med_path_ok("/items/a%20b"));
    IGWT_CHECK(igw_med_path_ok("/"));
    IGWT_CHECK(!igw_med_path_ok(NULL));
    IGWT_CHECK(!igw_med_path_ok(""));
    IGWT_CHECK(!igw_med_path_ok("api"));
    IGWT_CHECK(!igw_med_path_ok("//evil.example/x"));
    IGWT_CHECK(!igw_med_path_ok("http://evil.example/x"));
    IGWT_CHECK(!igw_med_path_ok("/a/../b"));
    IGWT_CHECK(!igw_med_path_ok("/a/.."));
    IGWT_CHECK(!igw_med_path_ok("/a/./b"));
    IGWT_CHECK(!igw_med_path_ok("/a/%2e%2e/b"));
    IGWT_CHECK(!igw_med_path_ok("/a//b"));
    IGWT_CHECK(!igw_med_path_ok("/a b"));
    IGWT_CHECK(!igw_med_path_ok("/a\r\nHost: x"));
    IGWT_CHECK(!igw_med_path_ok("/a#frag"));
    IGWT_CHECK(!igw_med_path_ok("/a\\b"));
    IGWT_CHECK(igw_med_path_ok("/a?x=../y")); /* a query may hold anything printable */
}

static void
test_query(void)
{
    char v[16];
    size_t n = 0;

    IGWT_OK(igw_med_query_get("/p?a=1&b=x%20y+z&c", "b", v, sizeof(v), &n));
    IGWT_STREQ(v, "x y z");
    IGWT_OK(igw_med_query_get("/p?a=1&b=2&c", "c", v, sizeof(v), &n));
    IGWT_CHECK(n == 0);
    IGWT_ERR(igw_med_query_get("/p?a=1", "b", v, sizeof(v), &n), IGW_ENOENT);
    IGWT_ERR(igw_med_query_get("/p", "a", v, sizeof(v), &n), IGW_ENOENT);
    IGWT_ERR(igw_med_query_get("/p?a=%zz", "a", v, sizeof(v), &n), IGW_EPARSE);
    IGWT_ERR(igw_med_query_get("/p?a=%4", "a", v, sizeof(v), &n), IGW_EPARSE);
    IGWT_ERR(igw_med_query_get("/p?a=0123456789abcdefXYZ", "a", v, sizeof(v), &n), IGW_ETOOBIG);
}

static void
test_cache_key(void)
{
    struct igw_buf a, b;

    igw_buf_init(&a, 4096);
    igw_buf_init(&b, 4096);
    IGWT_OK(igw_med_cache_key(&a, "ch", "GET", "/x?b=2&a=1&a=0", "application/json"));
    IGWT_OK(igw_med_cache_key(&b, "ch", "HEAD", "/x?a=0&a=1&b=2", "application/json"));
    IGWT_CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
    igw_buf_reset(&b);
    IGWT_OK(igw_med_cache_key(&b, "ch", "GET", "/x?b=2&a=1&a=0", NULL)); /* another Accept */
    IGWT_CHECK(a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0);
    igw_buf_reset(&b);
    IGWT_OK(igw_med_cache_key(&b, "other", "GET", "/x?b=2&a=1&a=0", "application/json"));
    IGWT_CHECK(a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0);
    igw_buf_reset(&a);
    igw_buf_reset(&b);
    IGWT_OK(igw_med_cache_key(&a, "ch", "GET", "/x?ab=1", NULL));
    IGWT_OK(igw_med_cache_key(&b, "ch", "GET", "/xa?b=1", NULL));
    IGWT_CHECK(a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0);
    igw_buf_fini(&a);
    igw_buf_fini(&b);
}

IGWT_MAIN({"bucket", test_bucket}, {"jwt_exp", test_jwt_exp}, {"login_body", test_login_body},
          {"login_parse", test_login_parse}, {"path_ok", test_path_ok}, {"query", test_query},
          {"cache_key", test_cache_key})
