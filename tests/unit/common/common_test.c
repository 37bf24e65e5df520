/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for common/: buffers, arena, allocation failure injection, parsing helpers. */
#include <stdio.h>
#include <string.h>

#include "igwt.h"
#include "igw/common.h"
#include "igw/buf.h"
#include "igw/arena.h"
#include "igw/utf8.h"

static void
test_buf_limits(void)
{
    struct igw_buf b;
    igw_buf_init(&b, 8);
    IGWT_OK(igw_buf_puts(&b, "abcd"));
    IGWT_OK(igw_buf_printf(&b, "%d", 123));
    IGWT_ERR(igw_buf_puts(&b, "xy"), IGW_ETOOBIG);
    IGWT_CHECK(b.len == 7);
    IGWT_STREQ(b.ptr, "abcd123");
    IGWT_OK(igw_buf_putc(&b, '!'));
    IGWT_ERR(igw_buf_putc(&b, '!'), IGW_ETOOBIG);
    igw_buf_reset(&b);
    IGWT_CHECK(b.len == 0);
    igw_buf_fini(&b);
}

static void
test_buf_json(void)
{
    struct igw_buf b;
    const char in[] = "a\"b\\c\n\x01";
    igw_buf_init(&b, 1024);
    IGWT_OK(igw_buf_json_str(&b, in, sizeof(in) - 1));
    IGWT_STREQ(b.ptr, "\"a\\\"b\\\\c\\n\\u0001\"");
    igw_buf_fini(&b);
}

/* Whatever the bytes, the result is valid UTF-8 JSON: bad bytes become U+FFFD (issue 13). */
static void
test_buf_json_invalid_utf8(void)
{
    struct igw_buf b;
    const char in[] = "\xc0\xae\xc0\xae caf\xc3\xa9 \xe2\x82 \xed\xa0\x80 \xf0\x9f\x98\x80\xff";
    igw_buf_init(&b, 1024);
    IGWT_OK(igw_buf_json_str(&b, in, sizeof(in) - 1));
    IGWT_STREQ(b.ptr, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9 "
                      "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                      "\xf0\x9f\x98\x80\xef\xbf\xbd\"");
    IGWT_CHECK(igw_utf8_valid(b.ptr, b.len, NULL));
    igw_buf_fini(&b);
    igw_buf_init(&b, 5); /* one bad byte needs 3 bytes + 2 quotes: fits exactly */
    IGWT_OK(igw_buf_json_str(&b, "\x80", 1));
    IGWT_CHECK(b.len == 5);
    igw_buf_fini(&b);
}

static void
test_buf_json_exact_fit_and_u64(void)
{
    struct igw_buf b;
    igw_buf_init(&b, 8); /* "a\"b" escaped is 6 bytes + 2 quotes: fits exactly */
    IGWT_OK(igw_buf_json_str(&b, "a\"b\n", 4));
    IGWT_STREQ(b.ptr, "\"a\\\"b\\n\"");
    IGWT_ERR(igw_buf_json_str(&b, "", 0), IGW_ETOOBIG);
    igw_buf_fini(&b);
    igw_buf_init(&b, 64);
    IGWT_OK(igw_buf_u64(&b, 0));
    IGWT_OK(igw_buf_putc(&b, ' '));
    IGWT_OK(igw_buf_u64(&b, UINT64_MAX));
    IGWT_STREQ(b.ptr, "0 18446744073709551615");
    igw_buf_fini(&b);
}

static void
test_buf_read_stream(void)
{
    struct igw_buf b;
    FILE *f = tmpfile();
    IGWT_ASSERT(f != NULL);
    igw_buf_init(&b, 16);
    IGWT_OK(igw_buf_read_stream(&b, f)); /* empty: storage exists, NUL-terminated */
    IGWT_CHECK(b.ptr != NULL && b.len == 0 && b.ptr[0] == '\0');
    fputs("0123456789", f);
    rewind(f);
    IGWT_OK(igw_buf_read_stream(&b, f));
    IGWT_STREQ(b.ptr, "0123456789");
    rewind(f);
    IGWT_ERR(igw_buf_read_stream(&b, f), IGW_ETOOBIG); /* 20 bytes > max 16 */
    fclose(f);
    igw_buf_fini(&b);
    IGWT_ERR(igw_buf_read_file(&b, "/nonexistent/igw"), IGW_EIO);
}

static void
test_arena(void)
{
    igw_arena *a = NULL;
    char *p;
    IGWT_OK(igw_arena_new(&a, 64 * 1024));
    for (int i = 0; i < 1000; i++) {
        p = igw_arena_alloc(a, 33);
        IGWT_ASSERT(p != NULL);
        IGWT_CHECK(((uintptr_t)p & 15) == 0);
        memset(p, 'x', 33);
    }
    IGWT_CHECK(igw_arena_used(a) >= 33000);
    IGWT_CHECK(igw_arena_alloc(a, 64 * 1024) == NULL); /* over the limit */
    igw_arena_reset(a);
    IGWT_CHECK(igw_arena_used(a) == 0);
    p = igw_arena_strndup(a, "hello world", 5);
    IGWT_STREQ(p, "hello");
    p = igw_arena_alloc(a, 20000); /* big one-off block */
    IGWT_ASSERT(p != NULL);
    memset(p, 0, 20000);
    igw_arena_free(a);
}

static void
test_alloc_injection(void)
{
    void *p;
    igw_alloc_fail_after(1);
    p = igw_malloc(10);
    IGWT_CHECK(p != NULL);
    IGWT_CHECK(igw_malloc(10) == NULL);
    igw_alloc_fail_after(-1);
    igw_free(p);
    p = igw_malloc(10);
    IGWT_CHECK(p != NULL);
    igw_free(p);
}

static void
test_oom_buf(void)
{
    /* every allocation failure surfaces as IGW_ENOMEM, never a crash */
    for (long n = 0; n < 4; n++) {
        struct igw_buf b;
        int rv = IGW_OK;
        igw_buf_init(&b, 1 << 20);
        igw_alloc_fail_after(n);
        for (int i = 0; i < 100 && rv == IGW_OK; i++) {
            rv = igw_buf_puts(&b, "0123456789abcdef0123456789abcdef");
        }
        igw_alloc_fail_after(-1);
        IGWT_CHECK(rv == IGW_ENOMEM);
        igw_buf_fini(&b);
    }
}

static void
test_parse_units(void)
{
    uint64_t v = 0;
    IGWT_OK(igw_parse_duration_ms("250ms", &v));
    IGWT_CHECK(v == 250);
    IGWT_OK(igw_parse_duration_ms("10m", &v));
    IGWT_CHECK(v == 600000);
    IGWT_OK(igw_parse_duration_ms("3", &v));
    IGWT_CHECK(v == 3000);
    IGWT_ERR(igw_parse_duration_ms("1x", &v), IGW_EINVAL);
    IGWT_ERR(igw_parse_duration_ms("-1s", &v), IGW_EINVAL);
    IGWT_OK(igw_parse_size("64KiB", &v));
    IGWT_CHECK(v == 65536);
    IGWT_OK(igw_parse_size("1MB", &v));
    IGWT_CHECK(v == 1000000);
    IGWT_ERR(igw_parse_size("99999999999999999999GiB", &v), IGW_EINVAL);
}

static void
test_ct_equal(void)
{
    IGWT_CHECK(igw_ct_equal("abc", 3, "abc", 3));
    IGWT_CHECK(!igw_ct_equal("abc", 3, "abd", 3));
    IGWT_CHECK(!igw_ct_equal("abc", 3, "abcd", 4));
    IGWT_CHECK(!igw_ct_equal("", 0, "a", 1));
}

static void
test_strerror(void)
{
    IGWT_STREQ(igw_strerror(IGW_OK), "ok");
    IGWT_STREQ(igw_strerror(IGW_ENOSPC), "store full");
    IGWT_STREQ(igw_strerror(-5), "unknown error");
    IGWT_STREQ(igw_strerror(IGW_ERR_COUNT), "unknown error");
}

IGWT_MAIN({"buf_limits", test_buf_limits}, {"buf_json", test_buf_json},
          {"buf_json_invalid_utf8", test_buf_json_invalid_utf8},
          {"buf_json_exact_fit_and_u64", test_buf_json_exact_fit_and_u64},
          {"buf_read_stream", test_buf_read_stream}, {"arena", test_arena},
          {"alloc_injection", test_alloc_injection}, {"oom_buf", test_oom_buf},
          {"parse_units", test_parse_units}, {"ct_equal", test_ct_equal},
          {"strerror", test_strerror})
