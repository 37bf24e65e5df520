/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for translators/json/json.c: the RFC 8259 parser and the writer. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "lib/igwt.h"
#include "lib/igwt_fixtures.h"

/* The file's arena (igwt_file_arena), reset at each use. */
static igw_arena *arena;
static struct igw_parse_error perr;

static int
parse_lim(const char *s, size_t len, const struct igw_parse_limits *lim, struct igw_node **root)
{
    arena = igwt_file_arena(64u << 20);
    return igw_json_parse(arena, s, len, lim, root, &perr);
}

static int
parse(const char *s, struct igw_node **root)
{
    return parse_lim(s, strlen(s), NULL, root);
}

/* Expects s to fail with rv at line/column. */
static void
expect_fail(const char *s, size_t len, int rv, unsigned line, unsigned col)
{
    struct igw_node *root = NULL;
    int got = parse_lim(s, len, NULL, &root);
    if (got != rv || perr.line != line || perr.column != col) {
        fprintf(stderr, "  input \"%.*s\": got %d at %u:%u (%s), want %d at %u:%u\n", (int)len, s,
                got, perr.line, perr.column, perr.msg, rv, line, col);
        IGWT_CHECK(0);
    }
    IGWT_CHECK(root == NULL);
}

static void
write_str(const struct igw_node *n, unsigned flags, struct igw_buf *out)
{
    igw_buf_reset(out);
    IGWT_OK(igw_json_write(n, out, flags));
}

static void
test_basic(void)
{
    struct igw_node *r = NULL;
    struct igw_node *m;
    IGWT_OK(parse(" {\"s\":\"x\", \"n\" : 12.50, \"t\":true,\"f\":false,\"z\":null,"
                  "\"a\":[1,-2,3e2],\"o\":{}} \n",
                  &r));
    IGWT_ASSERT(r != NULL && r->type == IGW_NODE_OBJECT && r->count == 7);
    IGWT_CHECK(r->key == NULL && r->parent == NULL);
    m = igw_node_get(r, "s", 1);
    IGWT_ASSERT(m != NULL && m->type == IGW_NODE_STRING);
    IGWT_STREQ(m->str, "x");
    m = igw_node_get(r, "n", 1);
    IGWT_ASSERT(m != NULL && m->type == IGW_NODE_NUMBER);
    IGWT_STREQ(m->str, "12.50");
    IGWT_CHECK(m->num == 12.5 && m->len == 5);
    IGWT_CHECK(igw_node_get(r, "t", 1)->boolean);
    IGWT_CHECK(igw_node_get(r, "f", 1)->type == IGW_NODE_BOOL);
    IGWT_CHECK(!igw_node_get(r, "f", 1)->boolean);
    IGWT_CHECK(igw_node_get(r, "z", 1)->type == IGW_NODE_NULL);
    m = igw_node_get(r, "a", 1);
    IGWT_ASSERT(m->type == IGW_NODE_ARRAY && m->count == 3);
    IGWT_CHECK(igw_node_at(m, 1)->num == -2 && igw_node_at(m, 2)->num == 300);
    IGWT_CHECK(igw_node_at(m, 0)->key == NULL && igw_node_at(m, 0)->parent == m);
    IGWT_CHECK(igw_node_get(r, "o", 1)->type == IGW_NODE_OBJECT);
    IGWT_CHECK(igw_node_get(r, "o", 1)->count == 0);
}

static void
test_scalars_top_level(void)
{
    struct igw_node *r = NULL;
    IGWT_OK(parse("42", &r));
    IGWT_CHECK(r->type == IGW_NODE_NUMBER && r->num == 42);
    IGWT_OK(parse("\"s\"", &r));
    IGWT_CHECK(r->type == IGW_NODE_STRING);
    IGWT_OK(parse(" null ", &r));
    IGWT_CHECK(r->type == IGW_NODE_NULL);
    IGWT_OK(parse("[]", &r));
    IGWT_CHECK(r->type == IGW_NODE_ARRAY && r->count == 0);
    IGWT_OK(parse("\xef\xbb\xbf{}", &r)); /* a UTF-8 BOM is ignored */
}

static void
test_numbers(void)
{
    static const struct {
        const char *in;
        double want;
    } cases[] = {
        {"0", 0},
        {"-0", -0.0},
        {"12.50", 12.5},
        {"0.1", 0.1},
        {"0.000123", 0.000123},
        {"1e10", 1e10},
        {"1E-5", 1e-5},
        {"-1.5e+3", -1500},
        {"123456789012345678901234567890", 123456789012345678901234567890.0},
        {"3.141592653589793238462643383279", 3.141592653589793},
        {"9007199254740993", 9007199254740993.0},
        {"1.7976931348623157e308", 1.7976931348623157e308},
        {"5e-324", 5e-324},
        {"0.30000000000000004", 0.30000000000000004},
        {"1e-400", 0},
    };
    struct igw_node *r = NULL;
    struct igw_buf out;

    for (size_t i = 0; i < IGW_ARRAY_LEN(cases); i++) {
        IGWT_OK(parse(cases[i].in, &r));
        IGWT_STREQ(r->str, cases[i].in);
        if (r->num != cases[i].want) {
            fprintf(stderr, "  %s -> %.17g\n", cases[i].in, r->num);
            IGWT_CHECK(0);
        }
    }
    igw_buf_init(&out, 1024);
    IGWT_OK(parse("[1e400,-1e400,12.50,1.0]", &r));
    IGWT_CHECK(isinf(igw_node_at(r, 0)->num) && igw_node_at(r, 0)->num > 0);
    IGWT_CHECK(isinf(igw_node_at(r, 1)->num) && igw_node_at(r, 1)->num < 0);
    write_str(r, 0, &out);
    IGWT_STREQ(out.ptr, "[1e400,-1e400,12.50,1.0]");
    igw_buf_fini(&out);
}

static void
test_bad_numbers(void)
{
    expect_fail("01", 2, IGW_EPARSE, 1, 2);
    expect_fail("-", 1, IGW_EPARSE, 1, 2);
    expect_fail("1.", 2, IGW_EPARSE, 1, 3);
    expect_fail(".5", 2, IGW_EPARSE, 1, 1);
    expect_fail("+1", 2, IGW_EPARSE, 1, 1);
    expect_fail("1e", 2, IGW_EPARSE, 1, 3);
    expect_fail("1e+", 3, IGW_EPARSE, 1, 4);
    expect_fail("[1.e5]", 6, IGW_EPARSE, 1, 4);
    expect_fail("NaN", 3, IGW_EPARSE, 1, 1);
    expect_fail("[Infinity]", 10, IGW_EPARSE, 1, 2);
    expect_fail("-a", 2, IGW_EPARSE, 1, 2);
    expect_fail("0x10", 4, IGW_EPARSE, 1, 2);
}

static void
test_escapes(void)
{
    struct igw_node *r = NULL;
    struct igw_buf out;
    static const char want[] = "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x01z";

    IGWT_OK(parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\u0001z\"", &r));
    IGWT_ASSERT(r->type == IGW_NODE_STRING);
    IGWT_CHECK(r->len == sizeof(want) - 1);
    IGWT_CHECK(memcmp(r->str, want, sizeof(want)) == 0); /* includes the NUL */

    igw_buf_init(&out, 1024);
    write_str(r, 0, &out);
    IGWT_STREQ(out.ptr,
               "\"\\\"\\\\/\\b\\f\\n\\r\\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\u0001z\"");

    /* \u0000 keeps its length */
    IGWT_OK(parse("[\"a\\u0000b\"]", &r));
    IGWT_CHECK(r->first->len == 3 && memcmp(r->first->str, "a\0b", 3) == 0);
    write_str(r, 0, &out);
    IGWT_STREQ(out.ptr, "[\"a\\u0000b\"]");

    /* escapes in keys */
    IGWT_OK(parse("{\"k\\u00e9y\\n\":1}", &r));
    IGWT_CHECK(igw_node_get(r, "k\xc3\xa9y\n", 5) != NULL);
    write_str(r, 0, &out);
    IGWT_STREQ(out.ptr, "{\"k\xc3\xa9y\\n\":1}");
    igw_buf_fini(&out);
}

static void
test_bad_escapes(void)
{
    expect_fail("\"\\x\"", 4, IGW_EPARSE, 1, 3);
    expect_fail("\"\\u12\"", 6, IGW_EPARSE, 1, 2);
    expect_fail("\"\\u12g4\"", 8, IGW_EPARSE, 1, 2);
    expect_fail("\"\\ud800\"", 8, IGW_EPARSE, 1, 2);         /* lone high */
    expect_fail("\"\\udc00\"", 8, IGW_EPARSE, 1, 2);         /* lone low */
    expect_fail("\"\\ud800\\u0041\"", 14, IGW_EPARSE, 1, 2); /* high + non-low */
    expect_fail("\"ab\\", 4, IGW_EPARSE, 1, 5);
    expect_fail("\"ab", 3, IGW_EPARSE, 1, 4);
    expect_fail("\"a\tb\"", 5, IGW_EPARSE, 1, 3); /* raw control char */
    expect_fail("\"a\nb\"", 5, IGW_EPARSE, 1, 3);
    expect_fail("'a'", 3, IGW_EPARSE, 1, 1);
}

static void
test_utf8(void)
{
    struct igw_node *r = NULL;
    static const char *bad[] = {
        "\"\xc0\x80\"",         /* overlong NUL */
        "\"\xc1\xbf\"",         /* overlong */
        "\"\xe0\x80\xaf\"",     /* overlong 3-byte */
        "\"\xf0\x80\x80\xaf\"", /* overlong 4-byte */
        "\"\xed\xa0\x80\"",     /* UTF-16 surrogate D800 */
        "\"\xed\xbf\xbf\"",     /* surrogate DFFF */
        "\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
        "\"\xf5\x80\x80\x80\"",
        "\"\xff\"",
        "\"\x80\"",     /* lone continuation */
        "\"\xc3\"",     /* truncated */
        "\"\xe2\x82\"", /* truncated */
        "\"\xc3\x28\"", /* bad continuation */
    };
    for (size_t i = 0; i < IGW_ARRAY_LEN(bad); i++) {
        int rv = parse(bad[i], &r);
        if (rv != IGW_EPARSE || perr.column != 2) {
            fprintf(stderr, "  case %zu: rv %d col %u\n", i, rv, perr.column);
            IGWT_CHECK(0);
        }
    }
    IGWT_OK(parse("\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f"
                  "\xbf\xbf 0123456789abcdef\xc3\xa9\"",
                  &r));
    IGWT_CHECK(r->len == 2 + 2 + 3 + 3 + 3 + 4 + 4 + 17 + 2);
    /* invalid byte after many ASCII bytes (the 8-byte scanner) at an exact column */
    expect_fail("[\"0123456789abcdefghij\xe0\x80\x80\"]", 27, IGW_EPARSE, 1, 23);
    /* bytes outside strings */
    expect_fail("[\xc3\xa9]", 4, IGW_EPARSE, 1, 2);
}

static void
test_depth(void)
{
    char buf[600];
    struct igw_node *r = NULL;
    struct igw_parse_limits lim = {0, 0};

    for (int i = 0; i < 256; i++) {
        buf[i] = '[';
        buf[256 + i] = ']';
    }
    IGWT_OK(parse_lim(buf, 512, NULL, &r));
    memset(buf, '[', 257);
    memset(buf + 257, ']', 257);
    IGWT_ERR(parse_lim(buf, 514, NULL, &r), IGW_ELIMIT);
    IGWT_CHECK(perr.line == 1 && perr.column == 257);
    lim.max_depth = 3;
    IGWT_OK(parse_lim("{\"a\":[{}]}", 10, &lim, &r));
    IGWT_ERR(parse_lim("{\"a\":[{\"b\":[]}]}", 16, &lim, &r), IGW_ELIMIT);
    IGWT_ERR(parse_lim("[[[[1]]]]", 9, &lim, &r), IGW_ELIMIT);
    /* a hostile depth: 1 MB of '[' fails fast, without recursion */
    {
        size_t n = 1u << 20;
        char *big = igw_malloc(n);
        IGWT_ASSERT(big != NULL);
        memset(big, '[', n);
        IGWT_ERR(parse_lim(big, n, NULL, &r), IGW_ELIMIT);
        igw_free(big);
    }
}

static void
test_max_nodes(void)
{
    struct igw_node *r = NULL;
    struct igw_parse_limits lim = {0, 4};
    IGWT_OK(parse_lim("[1,2,3]", 7, &lim, &r));
    IGWT_ERR(parse_lim("[1,2,3,4]", 9, &lim, &r), IGW_ELIMIT);
    IGWT_OK(parse_lim("{\"a\":{\"b\":{\"c\":{}}}}", 20, &lim, &r));
    IGWT_ERR(parse_lim("{\"a\":{\"b\":{\"c\":{\"d\":1}}}}", 26, &lim, &r), IGW_ELIMIT);
}

static void
test_arena_limit(void)
{
    igw_arena *small = NULL;
    struct igw_node *r = NULL;
    char doc[4096];
    size_t n = 0;

    doc[n++] = '[';
    for (int i = 0; i < 200; i++) {
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"v%d\"", i ? "," : "", i);
    }
    doc[n++] = ']';
    IGWT_OK(igw_arena_new(&small, 2048));
    IGWT_ERR(igw_json_parse(small, doc, n, NULL, &r, &perr), IGW_ENOMEM);
    IGWT_CHECK(r == NULL);
    igw_arena_free(small);
}

static void
test_truncated(void)
{
    static const char doc[] = "{\"a\": [1, 2.5, \"x\\u00e9\", true, false, null, {\"b\": {}}], "
                              "\"c\": \"\xc3\xa9t\xc3\xa9\"}";
    struct igw_node *r = NULL;
    size_t len = sizeof(doc) - 1;

    IGWT_OK(parse_lim(doc, len, NULL, &r));
    for (size_t i = 0; i < len; i++) {
        int rv = parse_lim(doc, i, NULL, &r);
        if (rv != IGW_EPARSE || perr.line != 1 || perr.column == 0) {
            fprintf(stderr, "  prefix %zu: rv %d\n", i, rv);
            IGWT_CHECK(0);
        }
    }
}

static void
test_syntax_errors(void)
{
    static const char doc[] = "{\n  \"id\": 1,\n  \"name\"  \"x\"\n}";
    expect_fail(doc, sizeof(doc) - 1, IGW_EPARSE, 3, 11);
    IGWT_STREQ(perr.msg, "line 3, column 11: expected ':' after object key, found '\"'");
    expect_fail("", 0, IGW_EPARSE, 1, 1);
    expect_fail("  \n ", 4, IGW_EPARSE, 2, 2);
    expect_fail("[1,]", 4, IGW_EPARSE, 1, 4);
    expect_fail("{\"a\":1,}", 8, IGW_EPARSE, 1, 8);
    IGWT_STREQ(perr.msg, "line 1, column 8: expected '\"' to start an object key, found '}'");
    expect_fail("{,}", 3, IGW_EPARSE, 1, 2);
    expect_fail("[1 2]", 5, IGW_EPARSE, 1, 4);
    expect_fail("{\"a\" 1}", 7, IGW_EPARSE, 1, 6);
    expect_fail("{\"a\":1]", 7, IGW_EPARSE, 1, 7);
    expect_fail("[1}", 3, IGW_EPARSE, 1, 3);
    expect_fail("{} x", 4, IGW_EPARSE, 1, 4);
    IGWT_STREQ(perr.msg, "line 1, column 4: unexpected data after the JSON value, found 'x'");
    expect_fail("{}{}", 4, IGW_EPARSE, 1, 3);
    expect_fail("tru", 3, IGW_EPARSE, 1, 1);
    expect_fail("nul", 3, IGW_EPARSE, 1, 1);
    expect_fail("[True]", 6, IGW_EPARSE, 1, 2);
    expect_fail("{a:1}", 5, IGW_EPARSE, 1, 2);
    expect_fail("[\x01]", 3, IGW_EPARSE, 1, 2);
    expect_fail("[1,\n\n   ?]", 10, IGW_EPARSE, 3, 4);
    expect_fail("[\"a\"\r\n,\r\n x]", 12, IGW_EPARSE, 3, 2);
    expect_fail("[1]\0", 4, IGW_EPARSE, 1, 4);
    expect_fail("/* c */ 1", 9, IGW_EPARSE, 1, 1);
}

static void
test_duplicate_keys(void)
{
    struct igw_node *r = NULL;
    struct igw_node *m;
    struct igw_buf out;

    IGWT_OK(parse("{\"a\":1,\"b\":2,\"a\":3}", &r));
    IGWT_CHECK(r->count == 3);
    m = igw_node_get(r, "a", 1);
    IGWT_ASSERT(m != NULL && m->num == 1);
    m = igw_node_next_same(m);
    IGWT_ASSERT(m != NULL && m->num == 3);
    igw_buf_init(&out, 1024);
    write_str(r, 0, &out);
    IGWT_STREQ(out.ptr, "{\"a\":1,\"b\":2,\"a\":3}");
    igw_buf_fini(&out);
}

static void
test_write_pretty(void)
{
    struct igw_node *r = NULL;
    struct igw_buf out;

    IGWT_OK(parse("{\"a\":[1,{\"b\":null},[]],\"c\":{},\"d\":\"x\"}", &r));
    igw_buf_init(&out, 1024);
    write_str(r, IGW_WRITE_PRETTY, &out);
    IGWT_STREQ(out.ptr, "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    },\n    []\n  ],\n"
                        "  \"c\": {},\n  \"d\": \"x\"\n}");
    write_str(r, 0, &out);
    IGWT_STREQ(out.ptr, "{\"a\":[1,{\"b\":null},[]],\"c\":{},\"d\":\"x\"}");
    /* a subtree is written without its key */
    write_str(igw_node_get(r, "a", 1), 0, &out);
    IGWT_STREQ(out.ptr, "[1,{\"b\":null},[]]");
    igw_buf_fini(&out);
}

static void
test_write_built_tree(void)
{
    igw_arena *a = NULL;
    struct igw_node *root;
    struct igw_node *el;
    struct igw_node *attr;
    struct igw_buf out;

    IGWT_OK(igw_arena_new(&a, 0));
    root = igw_node_new(a, IGW_NODE_OBJECT);
    el = igw_node_new(a, IGW_NODE_OBJECT);
    attr = igw_node_string(a, "42", 2);
    attr->flags |= IGW_NODE_ATTR;
    IGWT_OK(igw_node_append(a, root, "Claim", 5, el));
    IGWT_OK(igw_node_append(a, el, "id", 2, attr));
    IGWT_OK(igw_node_append(a, el, "#text", 5, igw_node_string(a, "t", 1)));
    IGWT_OK(igw_node_append(a, el, "n", 1, igw_node_number(a, 0.5)));
    IGWT_OK(igw_node_append(a, el, "nan", 3, igw_node_number(a, NAN)));
    IGWT_OK(igw_node_append(a, el, "bad", 3, igw_node_number_text(a, "0012", 4)));
    igw_buf_init(&out, 1024);
    IGWT_OK(igw_json_write(root, &out, 0));
    IGWT_STREQ(out.ptr,
               "{\"Claim\":{\"@id\":\"42\",\"#text\":\"t\",\"n\":0.5,\"nan\":null,\"bad\":12}}");
    igw_buf_fini(&out);
    igw_arena_free(a);
}

static void
test_write_too_big(void)
{
    struct igw_node *r = NULL;
    struct igw_buf out;

    IGWT_OK(parse("{\"key\":\"a long enough value to overflow\"}", &r));
    igw_buf_init(&out, 16);
    IGWT_OK(igw_buf_puts(&out, "pre"));
    IGWT_ERR(igw_json_write(r, &out, 0), IGW_ETOOBIG);
    IGWT_CHECK(out.len == 3); /* unchanged */
    IGWT_STREQ(out.ptr, "pre");
    igw_buf_fini(&out);
}

static void
test_escape_runs(void)
{
    /* every byte 0x01..0x7f and long runs around escapes survive a round trip */
    char s[300];
    size_t n = 0;
    igw_arena *a = NULL;
    struct igw_node *str;
    struct igw_node *back = NULL;
    struct igw_buf out;

    for (int c = 1; c < 128; c++) {
        s[n++] = (char)c;
    }
    for (int i = 0; i < 40; i++) {
        s[n++] = (char)(i % 3 == 0 ? '"' : 'a' + i % 26);
    }
    IGWT_OK(igw_arena_new(&a, 0));
    str = igw_node_string(a, s, n);
    igw_buf_init(&out, 4096);
    IGWT_OK(igw_json_write(str, &out, 0));
    IGWT_OK(igw_json_parse(a, out.ptr, out.len, NULL, &back, &perr));
    IGWT_CHECK(igw_node_equal(str, back));
    igw_buf_fini(&out);
    igw_arena_free(a);
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static int fixtures_seen;

static void
round_trip_file(const char *path)
{
    size_t len = 0;
    char *text = igwt_read_file(path, &len);
    igw_arena *a = NULL;
    struct igw_node *r1 = NULL;
    struct igw_node *r2 = NULL;
    struct igw_node *r3 = NULL;
    struct igw_buf out;

    IGWT_ASSERT(text != NULL);
    IGWT_OK(igw_arena_new(&a, 64u << 20));
    igw_buf_init(&out, 64u << 20);
    if (igw_json_parse(a, text, len, NULL, &r1, &perr) != IGW_OK) {
        fprintf(stderr, "  %s: %s\n", path, perr.msg);
        IGWT_CHECK(0);
    } else {
        IGWT_OK(igw_json_write(r1, &out, 0));
        IGWT_OK(igw_json_parse(a, out.ptr, out.len, NULL, &r2, &perr));
        IGWT_CHECK(igw_node_equal(r1, r2));
        igw_buf_reset(&out);
        IGWT_OK(igw_json_write(r1, &out, IGW_WRITE_PRETTY));
        IGWT_OK(igw_json_parse(a, out.ptr, out.len, NULL, &r3, &perr));
        IGWT_CHECK(igw_node_equal(r1, r3));
        fixtures_seen++;
    }
    igw_buf_fini(&out);
    igw_arena_free(a);
    igw_free(text);
}

static void
walk(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL) {
        return;
    }
    for (e = readdir(d); e != NULL; e = readdir(d)) {
        char path[4096];
        struct stat st;
        size_t nl = strlen(e->d_name);
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            walk(path);
        } else if (nl > 5 && strcmp(e->d_name + nl - 5, ".json") == 0) {
            round_trip_file(path);
        }
    }
    closedir(d);
}

static void
test_fixtures_round_trip(void)
{
    char dir[4096];

    IGWT_FIXTURE_DIR(dir, "");
    fixtures_seen = 0;
    walk(dir);
    printf("  %d JSON fixtures round-tripped\n", fixtures_seen);
    IGWT_CHECK(fixtures_seen >= 50);
}

IGWT_MAIN({"basic", test_basic}, {"scalars_top_level", test_scalars_top_level},
          {"numbers", test_numbers}, {"bad_numbers", test_bad_numbers}, {"escapes", test_escapes},
          {"bad_escapes", test_bad_escapes}, {"utf8", test_utf8}, {"depth", test_depth},
          {"max_nodes", test_max_nodes}, {"arena_limit", test_arena_limit},
          {"truncated", test_truncated}, {"syntax_errors", test_syntax_errors},
          {"duplicate_keys", test_duplicate_keys}, {"write_pretty", test_write_pretty},
          {"write_built_tree", test_write_built_tree}, {"write_too_big", test_write_too_big},
          {"escape_runs", test_escape_runs}, {"fixtures_round_trip", test_fixtures_round_trip})
