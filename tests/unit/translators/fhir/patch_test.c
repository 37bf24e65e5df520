/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw_json_patch_apply (translators/fhir/patch.c): the examples of RFC 6902 appendix A, the
 * error cases (missing paths, bad pointers, failed tests, out-of-range indexes), and that a
 * FHIR decimal keeps its written precision through a patch.
 */
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/doc.h"
#include "igw/fhir.h"
#include "igw/json.h"
#include "lib/igwt.h"

/* Applies patch to doc and returns igw's result code; out gets the patched doc's JSON. */
static int
patch(const char *doc, const char *ops, struct igw_buf *out, char *err, size_t errlen)
{
    igw_arena *a = NULL;
    struct igw_node *d = NULL;
    struct igw_node *p = NULL;
    struct igw_parse_error pe;
    int rv;

    IGWT_OK(igw_arena_new(&a, 1u << 20));
    IGWT_OK(igw_json_parse(a, doc, strlen(doc), NULL, &d, &pe));
    IGWT_OK(igw_json_parse(a, ops, strlen(ops), NULL, &p, &pe));
    rv = igw_json_patch_apply(a, d, p, err, errlen);
    igw_buf_reset(out);
    if (rv == IGW_OK) {
        IGWT_OK(igw_json_write(d, out, 0));
        IGWT_OK(igw_buf_putc(out, '\0'));
    }
    igw_arena_free(a);
    return rv;
}

static void
expect(const char *doc, const char *ops, const char *want)
{
    struct igw_buf b;
    char err[IGW_ERRBUF_SIZE] = "";

    igw_buf_init(&b, 1u << 20);
    IGWT_OK(patch(doc, ops, &b, err, sizeof(err)));
    if (b.ptr != NULL) {
        IGWT_STREQ(b.ptr, want);
    }
    igw_buf_fini(&b);
}

static void
expect_err(const char *doc, const char *ops, int want, const char *msg)
{
    struct igw_buf b;
    char err[IGW_ERRBUF_SIZE] = "";

    igw_buf_init(&b, 1u << 20);
    IGWT_ERR(patch(doc, ops, &b, err, sizeof(err)), want);
    IGWT_CHECK(strstr(err, msg) != NULL);
    igw_buf_fini(&b);
}

static void
test_rfc6902_examples(void)
{
    expect("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
           "{\"foo\":\"bar\",\"baz\":\"qux\"}");
    expect("{\"foo\":[\"bar\",\"baz\"]}",
           "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
           "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
    expect("{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
           "{\"foo\":\"bar\"}");
    expect("{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
           "{\"foo\":[\"bar\",\"baz\"]}");
    expect("{\"baz\":\"qux\",\"foo\":\"bar\"}",
           "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
           "{\"baz\":\"boo\",\"foo\":\"bar\"}");
    expect("{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
           "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
           "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
    expect("{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
           "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
           "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
    expect("{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
           "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
           "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
           "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
    expect("{\"foo\":\"bar\"}",
           "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
           "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
    expect("{\"foo\":[\"bar\"]}",
           "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
           "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
    expect("{\"/\":9,\"~1\":10}",
           "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10},"
           "{\"op\":\"copy\",\"from\":\"/~1\",\"path\":\"/c\"}]",
           "{\"/\":9,\"~1\":10,\"c\":9}");
    expect("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]", "{\"b\":2}");
}

static void
test_errors(void)
{
    expect_err("{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]",
               IGW_ENOENT, "operation 0");
    expect_err("{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]",
               IGW_ECONFLICT, "test failed");
    expect_err("{\"foo\":[1]}", "[{\"op\":\"add\",\"path\":\"/foo/5\",\"value\":2}]", IGW_EINVAL,
               "out of range");
    expect_err("{\"foo\":[1]}", "[{\"op\":\"add\",\"path\":\"/foo/01\",\"value\":2}]", IGW_EINVAL,
               "out of range");
    expect_err("{}", "[{\"op\":\"remove\",\"path\":\"/x\"}]", IGW_ENOENT, "does not exist");
    expect_err("{}", "[{\"op\":\"replace\",\"path\":\"/x\",\"value\":1}]", IGW_ENOENT,
               "does not exist");
    expect_err("{}", "[{\"op\":\"frobnicate\",\"path\":\"/x\"}]", IGW_EINVAL, "unknown op");
    expect_err("{}", "[{\"op\":\"add\",\"path\":\"x\",\"value\":1}]", IGW_ENOENT, "");
    expect_err("{}", "[{\"op\":\"add\",\"path\":\"/x\"}]", IGW_EINVAL, "needs a \"value\"");
    expect_err("{}", "{\"op\":\"add\"}", IGW_EINVAL, "array of operations");
    expect_err("{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]",
               IGW_EINVAL, "into itself");
    expect_err("{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/~2\",\"value\":1}]", IGW_ENOENT, "");
}

static void
test_fhir_decimal_precision_kept(void)
{
    expect("{\"resourceType\":\"Claim\",\"total\":{\"value\":1.50,\"currency\":\"TZS\"}}",
           "[{\"op\":\"replace\",\"path\":\"/total/value\",\"value\":2500.00}]",
           "{\"resourceType\":\"Claim\",\"total\":{\"value\":2500.00,\"currency\":\"TZS\"}}");
}

IGWT_MAIN({"rfc6902_examples", test_rfc6902_examples}, {"errors", test_errors},
          {"fhir_decimal_precision_kept", test_fhir_decimal_precision_kept})
