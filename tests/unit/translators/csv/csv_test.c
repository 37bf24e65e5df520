/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for translators/csv/csv.c: the RFC 4180 parser and writer. */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "lib/igwt.h"

/* The file's arena (igwt_file_arena), reset at each use. */
static igw_arena *arena;
static struct igw_parse_error perr;

static int
parse_opts(const char *s, size_t len, const struct igw_csv_opts *opts,
           const struct igw_parse_limits *lim, struct igw_node **root)
{
    arena = igwt_file_arena(64u << 20);
    return igw_csv_parse(arena, s, len, opts, lim, root, &perr);
}

static int
parse(const char *s, struct igw_node **root)
{
    return parse_opts(s, strlen(s), NULL, NULL, root);
}

static const char *
field(const struct igw_node *root, size_t row, const char *key)
{
    const struct igw_node *r = igw_node_at(root, row);
    const struct igw_node *f = r != NULL ? igw_node_get(r, key, strlen(key)) : NULL;
    return f != NULL ? f->str : NULL;
}

static void
expect_fail(const char *s, const struct igw_csv_opts *opts, unsigned line, unsigned col)
{
    struct igw_node *r = NULL;
    int rv = parse_opts(s, strlen(s), opts, NULL, &r);
    if (rv != IGW_EPARSE || perr.line != line || perr.column != col) {
        fprintf(stderr, "  \"%s\": rv %d at %u:%u (%s), want EPARSE at %u:%u\n", s, rv, perr.line,
                perr.column, perr.msg, line, col);
        IGWT_CHECK(0);
    }
    IGWT_CHECK(r == NULL);
}

static void
test_header(void)
{
    struct igw_node *r = NULL;

    IGWT_OK(parse("id,name,amount\r\n1,Alice,12.50\r\n2,Bob,\r\n", &r));
    IGWT_ASSERT(r->type == IGW_NODE_ARRAY && r->count == 2);
    IGWT_CHECK(igw_node_at(r, 0)->type == IGW_NODE_OBJECT && igw_node_at(r, 0)->count == 3);
    IGWT_STREQ(field(r, 0, "id"), "1");
    IGWT_STREQ(field(r, 0, "name"), "Alice");
    IGWT_STREQ(field(r, 0, "amount"), "12.50");
    IGWT_CHECK(igw_node_get(igw_node_at(r, 0), "amount", 6)->type == IGW_NODE_STRING);
    IGWT_STREQ(field(r, 1, "name"), "Bob");
    IGWT_STREQ(field(r, 1, "amount"), "");
}

static void
test_no_header(void)
{
    struct igw_node *r = NULL;
    struct igw_csv_opts o = {',', false};

    IGWT_OK(parse_opts("a,b\nc,d", 7, &o, NULL, &r)); /* LF, no trailing newline */
    IGWT_ASSERT(r->count == 2);
    IGWT_CHECK(igw_node_at(r, 0)->type == IGW_NODE_ARRAY);
    IGWT_STREQ(igw_node_at(igw_node_at(r, 1), 1)->str, "d");
    IGWT_CHECK(igw_node_at(igw_node_at(r, 1), 1)->key == NULL);
}

static void
test_quoting(void)
{
    struct igw_node *r = NULL;

    IGWT_OK(parse("k,v\n\"a,b\",\"say \"\"hi\"\"\"\n\"line1\r\nline2\nline3\",\"\"\n"
                  "plain , x \n",
                  &r));
    IGWT_ASSERT(r->count == 3);
    IGWT_STREQ(field(r, 0, "k"), "a,b");
    IGWT_STREQ(field(r, 0, "v"), "say \"hi\"");
    IGWT_STREQ(field(r, 1, "k"), "line1\r\nline2\nline3");
    IGWT_STREQ(field(r, 1, "v"), "");
    IGWT_STREQ(field(r, 2, "k"), "plain "); /* spaces are data */
    IGWT_STREQ(field(r, 2, "v"), " x ");
}

static void
test_semicolon(void)
{
    struct igw_node *r = NULL;
    struct igw_csv_opts o = {';', true};

    IGWT_OK(parse_opts("a;b\r\n1,5;\"x;y\"\r\n", 16, &o, NULL, &r));
    IGWT_ASSERT(r->count == 1);
    IGWT_STREQ(field(r, 0, "a"), "1,5");
    IGWT_STREQ(field(r, 0, "b"), "x;y");
    o.delimiter = '\t';
    IGWT_OK(parse_opts("a\tb\n1\t2\n", 8, &o, NULL, &r));
    IGWT_STREQ(field(r, 0, "b"), "2");
    o.delimiter = '"';
    IGWT_ERR(parse_opts("a", 1, &o, NULL, &r), IGW_EINVAL);
}

static void
test_edges(void)
{
    struct igw_node *r = NULL;
    struct igw_csv_opts o = {',', false};

    IGWT_OK(parse("", &r));
    IGWT_CHECK(r->type == IGW_NODE_ARRAY && r->count == 0);
    IGWT_OK(parse("a,b\r\n", &r)); /* header only */
    IGWT_CHECK(r->count == 0);
    IGWT_OK(parse("\xef\xbb\xbf"
                  "a\n1\n",
                  &r)); /* BOM skipped */
    IGWT_STREQ(field(r, 0, "a"), "1");
    IGWT_OK(parse_opts("x\n\ny\n", 5, &o, NULL, &r)); /* one column: an empty line is a record */
    IGWT_CHECK(r->count == 3);
    IGWT_STREQ(igw_node_at(igw_node_at(r, 1), 0)->str, "");
    IGWT_OK(parse("a,a\n1,2\n", &r)); /* duplicate header names are kept */
    IGWT_STREQ(igw_node_next_same(igw_node_get(igw_node_at(r, 0), "a", 1))->str, "2");
    IGWT_OK(parse("a,b\n\xc3\xa9,\"\xe2\x82\xac\"\n", &r));
    IGWT_STREQ(field(r, 0, "a"), "\xc3\xa9");
}

static void
test_errors(void)
{
    expect_fail("a,b\n1,\"open\n2,3\n", NULL, 2, 3);
    IGWT_CHECK(strstr(perr.msg, "unterminated quoted field") != NULL);
    expect_fail("a,b\n1,x\"y\n", NULL, 2, 4);
    IGWT_STREQ(perr.msg, "line 2, column 4: quote inside an unquoted field");
    expect_fail("a,b\n\"x\"y,1\n", NULL, 2, 4);
    expect_fail("a,b,c\n1,2,3\n4,5\n6,7,8\n", NULL, 3, 1);
    IGWT_STREQ(perr.msg, "line 3, column 1: record on line 3 has 2 fields, expected 3");
    expect_fail("a,b\n1,2\n3,4,5", NULL, 3, 1);
    expect_fail("a,b\n\"multi\nline\",2\n1\n", NULL, 4, 1);
    expect_fail("a,b\n1,\xff\n", NULL, 2, 3);
    expect_fail("a,b\n1,\xc0\x80\n", NULL, 2, 3);
}

static void
test_limits(void)
{
    struct igw_node *r = NULL;
    struct igw_parse_limits lim = {0, 7};
    IGWT_OK(parse_opts("a,b\n1,2\n", 8, NULL, &lim, &r)); /* root + 2 records x 3 */
    IGWT_ERR(parse_opts("a,b\n1,2\n3,4\n", 12, NULL, &lim, &r), IGW_ELIMIT);
}

static void
test_truncated(void)
{
    static const char doc[] = "h1,h2\r\n\"a\"\"b\",\"c\r\nd\"\r\n";
    struct igw_node *r = NULL;

    for (size_t i = 0; i < sizeof(doc) - 1; i++) {
        int rv = parse_opts(doc, i, NULL, NULL, &r);
        IGWT_CHECK(rv == IGW_OK || rv == IGW_EPARSE);
    }
    IGWT_OK(parse_opts(doc, sizeof(doc) - 1, NULL, NULL, &r));
}

static void
test_write_round_trip(void)
{
    static const char doc[] = "id,note,\"we\"\"ird\"\r\n1,\"a,b\",\"say \"\"hi\"\"\"\r\n"
                              "2,\"two\nlines\",\r\n3, spaced ,x\r\n";
    struct igw_node *r = NULL;
    struct igw_node *back = NULL;
    struct igw_buf out;
    struct igw_csv_opts semi = {';', true};

    IGWT_OK(parse(doc, &r));
    igw_buf_init(&out, 4096);
    IGWT_OK(igw_csv_write(r, NULL, &out));
    IGWT_STREQ(out.ptr, doc);
    IGWT_OK(igw_csv_parse(arena, out.ptr, out.len, NULL, NULL, &back, &perr));
    IGWT_CHECK(igw_node_equal(r, back));

    igw_buf_reset(&out);
    IGWT_OK(igw_csv_write(r, &semi, &out));
    IGWT_STREQ(out.ptr, "id;note;\"we\"\"ird\"\r\n1;a,b;\"say \"\"hi\"\"\"\r\n"
                        "2;\"two\nlines\";\r\n3; spaced ;x\r\n");
    IGWT_OK(igw_csv_parse(arena, out.ptr, out.len, &semi, NULL, &back, &perr));
    IGWT_CHECK(igw_node_equal(r, back));
    igw_buf_fini(&out);
}

static void
test_write_trees(void)
{
    igw_arena *a = NULL;
    struct igw_node *root;
    struct igw_node *o1;
    struct igw_node *o2;
    struct igw_buf out;
    struct igw_csv_opts nohdr = {',', false};

    IGWT_OK(igw_arena_new(&a, 0));
    root = igw_node_new(a, IGW_NODE_ARRAY);
    o1 = igw_node_new(a, IGW_NODE_OBJECT);
    o2 = igw_node_new(a, IGW_NODE_OBJECT);
    IGWT_OK(igw_node_append(a, root, NULL, 0, o1));
    IGWT_OK(igw_node_append(a, root, NULL, 0, o2));
    IGWT_OK(igw_node_append(a, o1, "n", 1, igw_node_number_text(a, "12.50", 5)));
    IGWT_OK(igw_node_append(a, o1, "ok", 2, igw_node_bool(a, true)));
    IGWT_OK(igw_node_append(a, o1, "z", 1, igw_node_new(a, IGW_NODE_NULL)));
    /* other order: written in the header's order */
    IGWT_OK(igw_node_append(a, o2, "z", 1, igw_node_string(a, "q", 1)));
    IGWT_OK(igw_node_append(a, o2, "n", 1, igw_node_number(a, 3)));
    IGWT_OK(igw_node_append(a, o2, "ok", 2, igw_node_bool(a, false)));
    igw_buf_init(&out, 4096);
    IGWT_OK(igw_csv_write(root, NULL, &out));
    IGWT_STREQ(out.ptr, "n,ok,z\r\n12.50,true,\r\n3,false,q\r\n");
    igw_buf_reset(&out);
    IGWT_OK(igw_csv_write(root, &nohdr, &out));
    IGWT_STREQ(out.ptr, "12.50,true,\r\n3,false,q\r\n");

    /* not representable: a nested value, a member the header lacks, mixed rows */
    igw_buf_reset(&out);
    IGWT_OK(igw_node_append(a, o2, "extra", 5, igw_node_string(a, "e", 1)));
    IGWT_ERR(igw_csv_write(root, NULL, &out), IGW_EINVAL);
    IGWT_CHECK(out.len == 0);
    IGWT_OK(igw_node_append(a, o1, "nested", 6, igw_node_new(a, IGW_NODE_ARRAY)));
    IGWT_ERR(igw_csv_write(root, NULL, &out), IGW_EINVAL);
    IGWT_OK(igw_node_append(a, root, NULL, 0, igw_node_new(a, IGW_NODE_ARRAY)));
    IGWT_ERR(igw_csv_write(root, NULL, &out), IGW_EINVAL);
    IGWT_ERR(igw_csv_write(o1, NULL, &out), IGW_EINVAL);
    igw_buf_fini(&out);
    igw_arena_free(a);
}

IGWT_MAIN({"header", test_header}, {"no_header", test_no_header}, {"quoting", test_quoting},
          {"semicolon", test_semicolon}, {"edges", test_edges}, {"errors", test_errors},
          {"limits", test_limits}, {"truncated", test_truncated},
          {"write_round_trip", test_write_round_trip}, {"write_trees", test_write_trees})
