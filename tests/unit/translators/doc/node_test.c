/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for translators/doc/node.c: the neutral tree helpers. */
#include <math.h>
#include <string.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "lib/igwt.h"

static void
test_constructors(void)
{
    igw_arena *a = igwt_arena_new(0);
    char src[] = "hello";
    struct igw_node *s = igw_node_string(a, src, 5);
    struct igw_node *r = igw_node_string_ref(a, "static", 6);
    struct igw_node *n = igw_node_number_text(a, "12.50", 5);
    struct igw_node *b = igw_node_bool(a, true);
    struct igw_node *z = igw_node_new(a, IGW_NODE_NULL);

    IGWT_ASSERT(s != NULL && r != NULL && n != NULL && b != NULL && z != NULL);
    src[0] = 'j';
    IGWT_STREQ(s->str, "hello"); /* copied */
    IGWT_CHECK(s->type == IGW_NODE_STRING && s->len == 5);
    IGWT_STREQ(r->str, "static");
    IGWT_CHECK(n->type == IGW_NODE_NUMBER && n->num == 12.5);
    IGWT_STREQ(n->str, "12.50");
    IGWT_CHECK(b->type == IGW_NODE_BOOL && b->boolean);
    IGWT_CHECK(z->type == IGW_NODE_NULL && z->count == 0);
    igw_arena_free(a);
}

static void
test_number_format(void)
{
    igw_arena *a = igwt_arena_new(0);
    struct igw_node *n = igw_node_number(a, 0.1);
    IGWT_ASSERT(n != NULL);
    IGWT_STREQ(n->str, "0.1");
    n = igw_node_number(a, 42);
    IGWT_STREQ(n->str, "42");
    n = igw_node_number(a, 1.0 / 3.0);
    IGWT_ASSERT(n != NULL);
    IGWT_CHECK(strtod(n->str, NULL) == 1.0 / 3.0);
    n = igw_node_number(a, -1e300);
    IGWT_STREQ(n->str, "-1e+300");
    n = igw_node_number(a, NAN);
    IGWT_ASSERT(n != NULL && isnan(n->num));
    igw_arena_free(a);
}

static void
test_append_get(void)
{
    igw_arena *a = igwt_arena_new(0);
    struct igw_node *obj = igw_node_new(a, IGW_NODE_OBJECT);
    struct igw_node *arr = igw_node_new(a, IGW_NODE_ARRAY);
    struct igw_node *s = igw_node_string(a, "x", 1);
    char key[] = "name";

    IGWT_ASSERT(obj != NULL && arr != NULL);
    IGWT_OK(igw_node_append(a, obj, key, 4, igw_node_string(a, "one", 3)));
    key[0] = 'N';
    IGWT_OK(igw_node_append(a, obj, "id", 2, igw_node_number(a, 7)));
    IGWT_OK(igw_node_append(a, obj, "name", 4, igw_node_string(a, "two", 3)));
    IGWT_OK(igw_node_append(a, obj, "list", 4, arr));
    IGWT_OK(igw_node_append(a, arr, NULL, 0, igw_node_bool(a, false)));
    IGWT_ERR(igw_node_append(a, s, "k", 1, igw_node_bool(a, false)), IGW_EINVAL);
    IGWT_ERR(igw_node_append(a, obj, NULL, 0, igw_node_bool(a, false)), IGW_EINVAL);
    IGWT_ERR(igw_node_append(a, obj, "k", 1, NULL), IGW_EINVAL);

    IGWT_CHECK(obj->count == 4 && arr->count == 1);
    {
        struct igw_node *m = igw_node_get(obj, "name", 4);
        IGWT_ASSERT(m != NULL);
        IGWT_STREQ(m->str, "one");
        IGWT_STREQ(m->key, "name");
        IGWT_CHECK(m->parent == obj);
        m = igw_node_next_same(m);
        IGWT_ASSERT(m != NULL);
        IGWT_STREQ(m->str, "two");
        IGWT_CHECK(igw_node_next_same(m) == NULL);
    }
    IGWT_CHECK(igw_node_get(obj, "nam", 3) == NULL);
    IGWT_CHECK(igw_node_get(arr, "x", 1) == NULL);
    IGWT_CHECK(igw_node_get(NULL, "x", 1) == NULL);
    IGWT_CHECK(igw_node_at(obj, 1)->num == 7);
    IGWT_CHECK(igw_node_at(obj, 3) == arr);
    IGWT_CHECK(igw_node_at(obj, 4) == NULL);
    IGWT_CHECK(igw_node_at(arr, 0)->key == NULL);
    IGWT_CHECK(igw_node_at(s, 0) == NULL);
    igw_arena_free(a);
}

static struct igw_node *
sample(igw_arena *a)
{
    struct igw_node *root = NULL;
    struct igw_parse_error err;
    static const char doc[] =
        "{\"a\":[1,2.50,{\"b\":null,\"c\":true}],\"d\":\"text\",\"a\":{},\"e\":[]}";
    IGWT_OK(igw_json_parse(a, doc, sizeof(doc) - 1, NULL, &root, &err));
    return root;
}

static void
test_clone_equal(void)
{
    igw_arena *a = igwt_arena_new(0);
    igw_arena *b = igwt_arena_new(0);
    struct igw_node *x = sample(a);
    struct igw_node *y = igw_node_clone(b, x);
    struct igw_node *z;

    IGWT_ASSERT(y != NULL);
    IGWT_CHECK(igw_node_equal(x, y));
    IGWT_CHECK(y->parent == NULL);
    igw_arena_free(a); /* the clone must not depend on the source arena */
    a = igwt_arena_new(0);
    x = sample(a);
    IGWT_CHECK(igw_node_equal(x, y));
    z = igw_node_clone(a, igw_node_get(y, "a", 1));
    IGWT_CHECK(igw_node_equal(z, igw_node_get(x, "a", 1)));
    IGWT_CHECK(!igw_node_equal(z, x));

    /* differences */
    igw_node_at(igw_node_get(y, "a", 1), 1)->num = 2.5000001;
    IGWT_CHECK(!igw_node_equal(x, y));
    igw_node_at(igw_node_get(y, "a", 1), 1)->num = 2.5;
    IGWT_CHECK(igw_node_equal(x, y));
    igw_node_get(y, "d", 1)->key = "q";
    IGWT_CHECK(!igw_node_equal(x, y));
    IGWT_CHECK(igw_node_equal(NULL, NULL));
    IGWT_CHECK(!igw_node_equal(x, NULL));
    igw_arena_free(a);
    igw_arena_free(b);
}

static void
test_numbers_compare_by_value(void)
{
    igw_arena *a = igwt_arena_new(0);
    IGWT_CHECK(igw_node_equal(igw_node_number_text(a, "1.0", 3), igw_node_number_text(a, "1", 1)));
    IGWT_CHECK(!igw_node_equal(igw_node_number_text(a, "1", 1), igw_node_string(a, "1", 1)));
    IGWT_CHECK(!igw_node_equal(igw_node_string(a, "a\0b", 3), igw_node_string(a, "a\0c", 3)));
    igw_arena_free(a);
}

static void
test_deep_tree_iterative(void)
{
    igw_arena *a = igwt_arena_new(0);
    struct igw_node *root = igw_node_new(a, IGW_NODE_ARRAY);
    struct igw_node *cur = root;
    struct igw_node *copy;
    struct igw_buf out;

    for (int i = 0; i < 200000; i++) {
        struct igw_node *n = igw_node_new(a, IGW_NODE_ARRAY);
        IGWT_OK(igw_node_append(a, cur, NULL, 0, n));
        cur = n;
    }
    copy = igw_node_clone(a, root);
    IGWT_ASSERT(copy != NULL);
    IGWT_CHECK(igw_node_equal(root, copy));
    igw_buf_init(&out, 1 << 20);
    IGWT_OK(igw_json_write(copy, &out, 0));
    IGWT_CHECK(out.len == 400002);
    igw_buf_fini(&out);
    igw_arena_free(a);
}

static void
test_arena_exhaustion(void)
{
    igw_arena *a = NULL;
    IGWT_OK(igw_arena_new(&a, 256));
    IGWT_CHECK(igw_node_string(a, "0123456789012345678901234567890123456789", 40) != NULL);
    IGWT_CHECK(igw_node_string(a, "0123456789012345678901234567890123456789", 40) == NULL);
    IGWT_CHECK(igw_node_new(a, IGW_NODE_OBJECT) == NULL);
    igw_arena_free(a);
}

IGWT_MAIN({"constructors", test_constructors}, {"number_format", test_number_format},
          {"append_get", test_append_get}, {"clone_equal", test_clone_equal},
          {"numbers_compare_by_value", test_numbers_compare_by_value},
          {"deep_tree_iterative", test_deep_tree_iterative},
          {"arena_exhaustion", test_arena_exhaustion})
