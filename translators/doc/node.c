/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The neutral document tree (igw/node.h): constructors, lookup, deep copy and equality. The
 * bottom layer of translators/: it includes no codec. Tree walks are iterative (parent
 * pointers), so deep trees never exhaust the C stack.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/node.h"

struct igw_node *
igw_node_new(igw_arena *a, enum igw_node_type type)
{
    struct igw_node *n = igw_arena_calloc(a, sizeof(*n));
    if (n == NULL) {
        return NULL;
    }
    n->type = (uint8_t)type;
    return n;
}

struct igw_node *
igw_node_string(igw_arena *a, const char *s, size_t len)
{
    struct igw_node *n;
    char *copy;

    if (len > UINT32_MAX) {
        return NULL;
    }
    n = igw_node_new(a, IGW_NODE_STRING);
    copy = igw_arena_strndup(a, s != NULL ? s : "", s != NULL ? len : 0);
    if (n == NULL || copy == NULL) {
        return NULL;
    }
    n->str = copy;
    n->len = s != NULL ? (uint32_t)len : 0;
    return n;
}

struct igw_node *
igw_node_string_ref(igw_arena *a, const char *s, size_t len)
{
    struct igw_node *n;

    if (len > UINT32_MAX) {
        return NULL;
    }
    n = igw_node_new(a, IGW_NODE_STRING);
    if (n == NULL) {
        return NULL;
    }
    n->str = s != NULL ? s : "";
    n->len = s != NULL ? (uint32_t)len : 0;
    return n;
}

/* Shortest of %.15g/%.16g/%.17g that reads back as the same double. */
static int
format_double(char *out, size_t outlen, double v)
{
    int n = 0;

    if (isnan(v)) {
        return snprintf(out, outlen, "NaN");
    }
    if (isinf(v)) {
        return snprintf(out, outlen, v < 0 ? "-Infinity" : "Infinity");
    }
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, outlen, "%.*g", prec, v);
        if (strtod(out, NULL) == v) {
            break;
        }
    }
    return n;
}

struct igw_node *
igw_node_number(igw_arena *a, double v)
{
    char tmp[40];
    struct igw_node *n;
    int len = format_double(tmp, sizeof(tmp), v);

    if (len <= 0 || (size_t)len >= sizeof(tmp)) {
        return NULL;
    }
    n = igw_node_new(a, IGW_NODE_NUMBER);
    if (n == NULL) {
        return NULL;
    }
    n->str = igw_arena_strndup(a, tmp, (size_t)len);
    if (n->str == NULL) {
        return NULL;
    }
    n->len = (uint32_t)len;
    n->num = v;
    return n;
}

struct igw_node *
igw_node_number_text(igw_arena *a, const char *s, size_t len)
{
    struct igw_node *n;
    char *copy;

    if (s == NULL || len > UINT32_MAX) {
        return NULL;
    }
    n = igw_node_new(a, IGW_NODE_NUMBER);
    copy = igw_arena_strndup(a, s, len);
    if (n == NULL || copy == NULL) {
        return NULL;
    }
    n->str = copy;
    n->len = (uint32_t)len;
    n->num = strtod(copy, NULL);
    return n;
}

struct igw_node *
igw_node_bool(igw_arena *a, bool v)
{
    struct igw_node *n = igw_node_new(a, IGW_NODE_BOOL);
    if (n == NULL) {
        return NULL;
    }
    n->boolean = v;
    return n;
}

int
igw_node_append(igw_arena *a, struct igw_node *parent, const char *key, size_t key_len,
                struct igw_node *child)
{
    if (parent == NULL || child == NULL || child == parent ||
        (parent->type != IGW_NODE_ARRAY && parent->type != IGW_NODE_OBJECT)) {
        return IGW_EINVAL;
    }
    if (parent->count == UINT32_MAX) {
        return IGW_ELIMIT;
    }
    if (parent->type == IGW_NODE_OBJECT) {
        char *k;
        if (key == NULL || key_len > UINT32_MAX) {
            return IGW_EINVAL;
        }
        k = igw_arena_strndup(a, key, key_len);
        if (k == NULL) {
            return IGW_ENOMEM;
        }
        igw_node_link(parent, k, (uint32_t)key_len, child);
        return IGW_OK;
    }
    child->key = NULL;
    child->key_len = 0;
    igw_node_link(parent, NULL, 0, child);
    return IGW_OK;
}

/* ---- reading ----------------------------------------------------------------------------- */

static bool
key_is(const struct igw_node *m, const char *key, size_t key_len)
{
    return m->key != NULL && m->key_len == key_len && memcmp(m->key, key, key_len) == 0;
}

struct igw_node *
igw_node_get(const struct igw_node *obj, const char *key, size_t key_len)
{
    if (obj == NULL || obj->type != IGW_NODE_OBJECT || key == NULL) {
        return NULL;
    }
    for (struct igw_node *m = obj->first; m != NULL; m = m->next) {
        if (key_is(m, key, key_len)) {
            return m;
        }
    }
    return NULL;
}

struct igw_node *
igw_node_next_same(const struct igw_node *m)
{
    if (m == NULL || m->key == NULL) {
        return NULL;
    }
    for (struct igw_node *n = m->next; n != NULL; n = n->next) {
        if (key_is(n, m->key, m->key_len)) {
            return n;
        }
    }
    return NULL;
}

struct igw_node *
igw_node_at(const struct igw_node *n, size_t i)
{
    struct igw_node *c;

    if (n == NULL || (n->type != IGW_NODE_ARRAY && n->type != IGW_NODE_OBJECT) || i >= n->count) {
        return NULL;
    }
    c = n->first;
    while (c != NULL && i > 0) {
        c = c->next;
        i--;
    }
    return c;
}

/* ---- clone ------------------------------------------------------------------------------- */

static const char *
clone_str(igw_arena *a, const char *s, size_t len, bool *ok)
{
    char *d;
    if (s == NULL) {
        return NULL;
    }
    d = igw_arena_strndup(a, s, len);
    if (d == NULL) {
        *ok = false;
    }
    return d;
}

/* Copies one node's own fields (not its links). */
static struct igw_node *
clone_one(igw_arena *a, const struct igw_node *n)
{
    bool ok = true;
    struct igw_node *c = igw_arena_alloc(a, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    *c = *n;
    c->parent = c->first = c->last = c->next = NULL;
    c->count = 0;
    c->key = clone_str(a, n->key, n->key_len, &ok);
    c->str = clone_str(a, n->str, n->len, &ok);
    c->ns = n->ns != NULL ? clone_str(a, n->ns, strlen(n->ns), &ok) : NULL;
    c->prefix = n->prefix != NULL ? clone_str(a, n->prefix, strlen(n->prefix), &ok) : NULL;
    return ok ? c : NULL;
}

struct igw_node *
igw_node_clone(igw_arena *a, const struct igw_node *n)
{
    const struct igw_node *src = n;
    struct igw_node *root;
    struct igw_node *dst;

    if (n == NULL) {
        return NULL;
    }
    root = clone_one(a, n);
    dst = root;
    if (root == NULL) {
        return NULL;
    }
    /* pre-order walk of the source, mirrored on the copy */
    for (;;) {
        if (src->first != NULL) {
            struct igw_node *c = clone_one(a, src->first);
            if (c == NULL) {
                return NULL;
            }
            igw_node_link(dst, c->key, c->key_len, c);
            src = src->first;
            dst = c;
            continue;
        }
        while (src != n && src->next == NULL) {
            src = src->parent;
            dst = dst->parent;
        }
        if (src == n) {
            break;
        }
        {
            struct igw_node *c = clone_one(a, src->next);
            if (c == NULL) {
                return NULL;
            }
            igw_node_link(dst->parent, c->key, c->key_len, c);
            src = src->next;
            dst = c;
        }
    }
    return root;
}

/* ---- equality ---------------------------------------------------------------------------- */

static bool
num_equal(const struct igw_node *a, const struct igw_node *b)
{
    if (a->num == b->num) {
        return true;
    }
    if (!isnan(a->num) || !isnan(b->num)) {
        return false;
    }
    /* NaN (from non-JSON sources) compares by text */
    return a->len == b->len && a->str != NULL && b->str != NULL &&
           memcmp(a->str, b->str, a->len) == 0;
}

static bool
node_equal_one(const struct igw_node *a, const struct igw_node *b, bool check_key)
{
    if (a->type != b->type || a->count != b->count) {
        return false;
    }
    if (check_key) {
        if ((a->key == NULL) != (b->key == NULL)) {
            return false;
        }
        if (a->key != NULL &&
            (a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len) != 0)) {
            return false;
        }
    }
    switch (a->type) {
    case IGW_NODE_BOOL:
        return a->boolean == b->boolean;
    case IGW_NODE_NUMBER:
        return num_equal(a, b);
    case IGW_NODE_STRING:
        return a->len == b->len && (a->len == 0 || memcmp(a->str, b->str, a->len) == 0);
    default:
        return true;
    }
}

bool
igw_node_equal(const struct igw_node *a, const struct igw_node *b)
{
    const struct igw_node *ra = a;

    if (a == NULL || b == NULL) {
        return a == b;
    }
    if (!node_equal_one(a, b, false)) {
        return false;
    }
    for (;;) {
        if (a->first != NULL) {
            a = a->first;
            b = b->first;
        } else {
            while (a != ra && a->next == NULL) {
                a = a->parent;
                b = b->parent;
            }
            if (a == ra) {
                return true;
            }
            a = a->next;
            b = b->next;
        }
        if (b == NULL || !node_equal_one(a, b, true)) {
            return false;
        }
    }
}
