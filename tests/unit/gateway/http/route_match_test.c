/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/http/route.c: channel path patterns, media types, header helpers. */
#include <string.h>

#include "igw/common.h"
#include "http/http.h"
#include "igwt.h"

static bool
match(const char *pattern, const char *target, struct igw_path_match *m)
{
    return igw_path_match(pattern, target, strlen(target), m);
}

static void
expect_param(const struct igw_path_match *m, const char *name, const char *value)
{
    const struct igw_path_param *p = igw_path_param_get(m, name);
    IGWT_ASSERT(p != NULL);
    IGWT_STREQ(p->value, value);
    IGWT_CHECK(p->value_len == strlen(value));
}

static void
test_pattern_check(void)
{
    char err[IGW_ERRBUF_SIZE];
    IGWT_OK(igw_path_pattern_check("/events/openimis/{event}", err, sizeof(err)));
    IGWT_OK(igw_path_pattern_check("/", err, sizeof(err)));
    IGWT_OK(igw_path_pattern_check("/a/{x}/b/{y_2}", err, sizeof(err)));
    IGWT_ERR(igw_path_pattern_check("events", err, sizeof(err)), IGW_EINVAL);
    IGWT_ERR(igw_path_pattern_check("/a//b", err, sizeof(err)), IGW_EINVAL);
    IGWT_STREQ(err, "empty path segment");
    IGWT_ERR(igw_path_pattern_check("/a/", err, sizeof(err)), IGW_EINVAL);
    IGWT_ERR(igw_path_pattern_check("/a/{x}/{x}", err, sizeof(err)), IGW_EINVAL);
    IGWT_ERR(igw_path_pattern_check("/a/{x-y}", err, sizeof(err)), IGW_EINVAL);
    IGWT_ERR(igw_path_pattern_check("/a/pre{x}", err, sizeof(err)), IGW_EINVAL);
    IGWT_ERR(igw_path_pattern_check("/a b", err, sizeof(err)), IGW_EINVAL);
    IGWT_ERR(igw_path_pattern_check("/a/{}", err, sizeof(err)), IGW_EINVAL);
}

static void
test_match_literal(void)
{
    struct igw_path_match m;
    IGWT_CHECK(match("/events", "/events", &m));
    IGWT_CHECK(m.nparams == 0 && m.literals == 1);
    IGWT_CHECK(match("/events", "/events?x=1", &m));
    IGWT_CHECK(!match("/events", "/events/", &m));
    IGWT_CHECK(!match("/events", "/event", &m));
    IGWT_CHECK(!match("/events", "/eventsx", &m));
    IGWT_CHECK(!match("/events", "/events/x", &m));
    IGWT_CHECK(!match("/events", "", &m));
    IGWT_CHECK(!match("/events", "events", &m));
    IGWT_CHECK(match("/", "/", &m));
    IGWT_CHECK(!match("/", "/a", &m));
    IGWT_CHECK(match("/a/b", "/a/%62", &m)); /* %62 = 'b' */
}

static void
test_match_params(void)
{
    struct igw_path_match m;
    IGWT_ASSERT(match("/events/openimis/{event}", "/events/openimis/insuree-created?a=b", &m));
    IGWT_CHECK(m.nparams == 1 && m.literals == 2);
    expect_param(&m, "event", "insuree-created");
    IGWT_CHECK(igw_path_param_get(&m, "other") == NULL);
    IGWT_ASSERT(match("/p/{a}/x/{b}", "/p/one/x/t%20wo", &m));
    expect_param(&m, "a", "one");
    expect_param(&m, "b", "t wo");
    IGWT_CHECK(!match("/events/openimis/{event}", "/events/openimis/", &m));
    IGWT_CHECK(!match("/events/openimis/{event}", "/events/openimis", &m));
    IGWT_CHECK(!match("/events/openimis/{event}", "/events/openimis/a/b", &m));
    IGWT_CHECK(!match("/events/{e}", "/events/a%2Fb", &m)); /* encoded '/' never matches */
    IGWT_CHECK(!match("/events/{e}", "/events/a%00", &m));
    IGWT_CHECK(!match("/events/{e}", "/events/a%zz", &m));
    IGWT_CHECK(!match("/events/{e}", "/events/a%4", &m));
    IGWT_CHECK(!match("/events/{e}", "/other/a", &m));
}

static void
test_match_long(void)
{
    struct igw_path_match m;
    char target[IGW_PATH_MAX_LEN + 64];
    memset(target, 'a', sizeof(target));
    target[0] = '/';
    target[1 + IGW_PATH_PARAM_MAX] = '\0';
    IGWT_CHECK(match("/{x}", target, &m));
    target[1 + IGW_PATH_PARAM_MAX] = 'a';
    target[2 + IGW_PATH_PARAM_MAX] = '\0';
    IGWT_CHECK(!match("/{x}", target, &m)); /* parameter longer than the limit */
    target[sizeof(target) - 1] = '\0';
    IGWT_CHECK(!match("/{x}", target, &m));
}

static void
test_shape(void)
{
    IGWT_CHECK(igw_path_same_shape("/a/{x}", "/a/{y}"));
    IGWT_CHECK(igw_path_same_shape("/a/b", "/a/b"));
    IGWT_CHECK(!igw_path_same_shape("/a/{x}", "/a/b"));
    IGWT_CHECK(!igw_path_same_shape("/a/{x}", "/a/{x}/c"));
    IGWT_CHECK(igw_path_has_param("/a/{x}/{yy}", "yy"));
    IGWT_CHECK(!igw_path_has_param("/a/{x}/{yy}", "y"));
    IGWT_CHECK(!igw_path_has_param("/a/x", "x"));
}

static void
test_media_type(void)
{
    IGWT_CHECK(igw_media_type_is("application/json", "application/json"));
    IGWT_CHECK(igw_media_type_is("Application/JSON; charset=utf-8", "application/json"));
    IGWT_CHECK(igw_media_type_is("  application/json ;x=y", "application/json"));
    IGWT_CHECK(!igw_media_type_is("application/json-patch+json", "application/json"));
    IGWT_CHECK(!igw_media_type_is("text/plain", "application/json"));
    IGWT_CHECK(!igw_media_type_is(NULL, "application/json"));
}

static void
test_headers(void)
{
    uint64_t v = 0;
    IGWT_OK(igw_content_length_parse("0", &v));
    IGWT_CHECK(v == 0);
    IGWT_OK(igw_content_length_parse("1048576", &v));
    IGWT_CHECK(v == 1048576);
    IGWT_ERR(igw_content_length_parse("", &v), IGW_EINVAL);
    IGWT_ERR(igw_content_length_parse("-1", &v), IGW_EINVAL);
    IGWT_ERR(igw_content_length_parse("12 ", &v), IGW_EINVAL);
    IGWT_ERR(igw_content_length_parse("1,2", &v), IGW_EINVAL);
    IGWT_ERR(igw_content_length_parse("99999999999999999999999", &v), IGW_EINVAL);
    IGWT_CHECK(igw_header_has_token("100-continue", "100-continue"));
    IGWT_CHECK(igw_header_has_token("foo, 100-Continue ", "100-continue"));
    IGWT_CHECK(!igw_header_has_token("100-continued", "100-continue"));
    IGWT_CHECK(!igw_header_has_token("", "100-continue"));
}

/* Parameters that do not decode to UTF-8 still match (404 would hide the reason) but are
 * flagged, so the intake refuses them with 400. */
static void
test_params_utf8(void)
{
    struct igw_path_match m;

    IGWT_CHECK(match("/json/{event}", "/json/%c0%ae%c0%ae", &m)); /* overlong "..": not UTF-8 */
    IGWT_CHECK(!igw_path_params_utf8(&m));
    IGWT_CHECK(match("/json/{event}", "/json/caf%C3%A9", &m));
    IGWT_CHECK(igw_path_params_utf8(&m));
    IGWT_CHECK(match("/json/{event}", "/json/%ff", &m));
    IGWT_CHECK(!igw_path_params_utf8(&m));
    IGWT_CHECK(match("/json/{event}", "/json/%ed%a0%80", &m)); /* a UTF-16 surrogate */
    IGWT_CHECK(!igw_path_params_utf8(&m));
    IGWT_CHECK(match("/a/{x}/{y}", "/a/ok/%e2%82", &m)); /* cut short */
    IGWT_CHECK(!igw_path_params_utf8(&m));
    IGWT_CHECK(match("/json", "/json", &m));
    IGWT_CHECK(igw_path_params_utf8(&m));
}

IGWT_MAIN({"pattern_check", test_pattern_check}, {"params_utf8", test_params_utf8},
          {"match_literal", test_match_literal}, {"match_params", test_match_params},
          {"match_long", test_match_long}, {"shape", test_shape}, {"media_type", test_media_type},
          {"headers", test_headers})
