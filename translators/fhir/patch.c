/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON Patch (RFC 6902) over the neutral tree, with JSON Pointers (RFC 6901): what FHIR PATCH
 * with application/json-patch+json applies to the current resource (include/igw/fhir.h,
 * igw_json_patch_apply). Hand written over igw_node rather than through cJSON's cJSONUtils:
 * cJSON holds numbers as doubles, and a FHIR decimal's written precision is part of its value
 * ("1.50" must stay "1.50"), which a round trip through cJSON loses; igw's tree keeps the raw
 * text of every number and the member order.
 *
 * The operations apply in order to doc in place; values are cloned from the patch into the
 * arena. An error leaves doc partly patched: callers patch a tree they throw away on error.
 * CPU only; no allocation outside the arena.
 */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/common.h"
#include "igw/doc.h"
#include "igw/fhir.h"

#define TOKEN_MAX 256

/* One reference token of a pointer, unescaped (~1 -> '/', ~0 -> '~'). */
struct token {
    char s[TOKEN_MAX];
    size_t n;
};

/* Reads the token at *p (after a '/') into t and advances *p; false on a bad escape or an
 * over-long token. */
static bool
next_token(const char **p, const char *end, struct token *t)
{
    t->n = 0;
    while (*p < end && **p != '/') {
        char c = **p;
        if (c == '~') {
            if (*p + 1 >= end || ((*p)[1] != '0' && (*p)[1] != '1')) {
                return false;
            }
            c = (*p)[1] == '0' ? '~' : '/';
            (*p)++;
        }
        if (t->n + 1 >= sizeof(t->s)) {
            return false;
        }
        t->s[t->n++] = c;
        (*p)++;
    }
    t->s[t->n] = '\0';
    return true;
}

/* An array index token: digits without a leading zero; SIZE_MAX for "-" (past the end). */
static bool
array_index(const struct token *t, size_t *out)
{
    size_t v = 0;

    if (t->n == 1 && t->s[0] == '-') {
        *out = SIZE_MAX;
        return true;
    }
    if (t->n == 0 || t->n > 9 || (t->n > 1 && t->s[0] == '0')) {
        return false;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (t->s[i] < '0' || t->s[i] > '9') {
            return false;
        }
        v = v * 10 + (size_t)(t->s[i] - '0');
    }
    *out = v;
    return true;
}

static struct igw_node *
child(const struct igw_node *n, const struct token *t)
{
    size_t i;

    if (n->type == IGW_NODE_OBJECT) {
        return igw_node_get(n, t->s, t->n);
    }
    if (n->type == IGW_NODE_ARRAY && array_index(t, &i) && i != SIZE_MAX) {
        return igw_node_at(n, i);
    }
    return NULL;
}

/* Resolves pointer ptr in doc: *parent the container of the last token (NULL for the root
 * pointer ""), last the token, the node itself (NULL when absent). false: not a pointer, or a
 * container on the way is missing. */
static bool
resolve(struct igw_node *doc, const struct igw_node *ptr, struct igw_node **parent,
        struct token *last, struct igw_node **node)
{
    const char *p = ptr->str;
    const char *end = ptr->str + ptr->len;
    struct igw_node *cur = doc;

    *parent = NULL;
    *node = doc;
    if (ptr->len == 0) {
        return true;
    }
    if (*p != '/') {
        return false;
    }
    while (p < end) {
        p++;
        if (!next_token(&p, end, last)) {
            return false;
        }
        if (cur == NULL || (cur->type != IGW_NODE_OBJECT && cur->type != IGW_NODE_ARRAY)) {
            return false;
        }
        *parent = cur;
        cur = child(cur, last);
    }
    *node = cur;
    return true;
}

/* Unlinks c from its parent p. */
static void
unlink_child(struct igw_node *p, struct igw_node *c)
{
    struct igw_node *prev = NULL;

    for (struct igw_node *k = p->first; k != NULL; prev = k, k = k->next) {
        if (k != c) {
            continue;
        }
        if (prev != NULL) {
            prev->next = c->next;
        } else {
            p->first = c->next;
        }
        if (p->last == c) {
            p->last = prev;
        }
        p->count--;
        c->next = NULL;
        c->parent = NULL;
        return;
    }
}

/* Inserts v into container p under token t (object member: replaced when present; array: at
 * the index, or appended for "-"). key storage comes from a. */
static int
insert(igw_arena *a, struct igw_node *p, const struct token *t, struct igw_node *v, char *err,
       size_t errlen)
{
    size_t i;

    if (p->type == IGW_NODE_OBJECT) {
        struct igw_node *old = igw_node_get(p, t->s, t->n);
        char *key = igw_arena_strndup(a, t->s, t->n);
        if (key == NULL) {
            return IGW_ENOMEM;
        }
        if (old != NULL) { /* in the old member's place, so member order is kept */
            struct igw_node **at = &p->first;
            while (*at != old) {
                at = &(*at)->next;
            }
            v->key = key;
            v->key_len = (uint32_t)t->n;
            v->parent = p;
            v->next = old->next;
            *at = v;
            p->last = p->last == old ? v : p->last;
            return IGW_OK;
        }
        igw_node_link(p, key, (uint32_t)t->n, v);
        return IGW_OK;
    }
    if (!array_index(t, &i) || (i != SIZE_MAX && i > p->count)) {
        igw_errbuf_set(err, errlen, "array index \"%s\" out of range", t->s);
        return IGW_EINVAL;
    }
    if (i == SIZE_MAX || i == p->count) {
        igw_node_link(p, NULL, 0, v);
        return IGW_OK;
    }
    v->parent = p;
    if (i == 0) {
        v->next = p->first;
        p->first = v;
    } else {
        struct igw_node *prev = igw_node_at(p, i - 1);
        v->next = prev->next;
        prev->next = v;
    }
    p->count++;
    return IGW_OK;
}

static const struct igw_node *
str_of(const struct igw_node *op, const char *key)
{
    const struct igw_node *n = igw_node_get(op, key, strlen(key));
    return n != NULL && n->type == IGW_NODE_STRING ? n : NULL;
}

/* add / replace (replace: the target must exist); the root pointer replaces doc's content. */
static int
op_put(igw_arena *a, struct igw_node *doc, const struct igw_node *path, struct igw_node *v,
       bool replace, char *err, size_t errlen)
{
    struct igw_node *parent;
    struct igw_node *node;
    struct token t;

    if (!resolve(doc, path, &parent, &t, &node) || (replace && node == NULL)) {
        igw_errbuf_set(err, errlen, "path \"%.*s\" does not exist", (int)path->len, path->str);
        return IGW_ENOENT;
    }
    if (parent == NULL) { /* the whole document */
        struct igw_node keep = *doc;
        *doc = *v;
        doc->parent = keep.parent;
        doc->next = keep.next;
        doc->key = keep.key;
        doc->key_len = keep.key_len;
        for (struct igw_node *k = doc->first; k != NULL; k = k->next) {
            k->parent = doc;
        }
        return IGW_OK;
    }
    if (replace && parent->type == IGW_NODE_ARRAY) {
        size_t i = 0;
        (void)array_index(&t, &i);
        unlink_child(parent, node);
        t.n = (size_t)snprintf(t.s, sizeof(t.s), "%zu", i);
    }
    return insert(a, parent, &t, v, err, errlen);
}

/* remove; *out (when not NULL) gets the removed node. */
static int
op_remove(struct igw_node *doc, const struct igw_node *path, struct igw_node **out, char *err,
          size_t errlen)
{
    struct igw_node *parent;
    struct igw_node *node;
    struct token t;

    if (!resolve(doc, path, &parent, &t, &node) || node == NULL || parent == NULL) {
        igw_errbuf_set(err, errlen, "path \"%.*s\" does not exist%s", (int)path->len, path->str,
                       parent == NULL && path->len == 0 ? " (the root cannot be removed)" : "");
        return IGW_ENOENT;
    }
    unlink_child(parent, node);
    if (out != NULL) {
        *out = node;
    }
    return IGW_OK;
}

static int
op_get(struct igw_node *doc, const struct igw_node *path, struct igw_node **out, char *err,
       size_t errlen)
{
    struct igw_node *parent;
    struct token t;

    if (path == NULL || !resolve(doc, path, &parent, &t, out) || *out == NULL) {
        igw_errbuf_set(err, errlen, "from/path \"%.*s\" does not exist",
                       path != NULL ? (int)path->len : 0, path != NULL ? path->str : "");
        return IGW_ENOENT;
    }
    return IGW_OK;
}

/* A proper prefix check for move: a value cannot be moved into its own children. */
static bool
into_itself(const struct igw_node *from, const struct igw_node *path)
{
    return path->len > from->len && memcmp(path->str, from->str, from->len) == 0 &&
           path->str[from->len] == '/';
}

static int
apply_one(igw_arena *a, struct igw_node *doc, const struct igw_node *op, char *err, size_t errlen)
{
    const struct igw_node *name = str_of(op, "op");
    const struct igw_node *path = str_of(op, "path");
    const struct igw_node *from = str_of(op, "from");
    const struct igw_node *value = igw_node_get(op, "value", 5);
    struct igw_node *v = NULL;
    int rv;

    if (op->type != IGW_NODE_OBJECT || name == NULL || path == NULL) {
        igw_errbuf_set(err, errlen, "an operation needs \"op\" and \"path\" strings");
        return IGW_EINVAL;
    }
#define OP_IS(s) (name->len == sizeof(s) - 1 && memcmp(name->str, s, sizeof(s) - 1) == 0)
    if (OP_IS("add") || OP_IS("replace") || OP_IS("test")) {
        if (value == NULL) {
            igw_errbuf_set(err, errlen, "\"%.*s\" needs a \"value\"", (int)name->len, name->str);
            return IGW_EINVAL;
        }
        if (OP_IS("test")) {
            rv = op_get(doc, path, &v, err, errlen);
            if (rv == IGW_OK && !igw_node_equal(v, value)) {
                igw_errbuf_set(err, errlen, "test failed at \"%.*s\"", (int)path->len, path->str);
                rv = IGW_ECONFLICT;
            }
            return rv;
        }
        v = igw_node_clone(a, value);
        return v == NULL ? IGW_ENOMEM : op_put(a, doc, path, v, OP_IS("replace"), err, errlen);
    }
    if (OP_IS("remove")) {
        return op_remove(doc, path, NULL, err, errlen);
    }
    if (OP_IS("move") || OP_IS("copy")) {
        rv = op_get(doc, from, &v, err, errlen);
        if (rv == IGW_OK && OP_IS("move") && into_itself(from, path)) {
            igw_errbuf_set(err, errlen, "cannot move \"%.*s\" into itself", (int)from->len,
                           from->str);
            rv = IGW_EINVAL;
        }
        if (rv == IGW_OK && OP_IS("move")) {
            rv = op_remove(doc, from, &v, err, errlen);
        } else if (rv == IGW_OK) {
            v = igw_node_clone(a, v);
            rv = v == NULL ? IGW_ENOMEM : IGW_OK;
        }
        return rv == IGW_OK ? op_put(a, doc, path, v, false, err, errlen) : rv;
    }
#undef OP_IS
    igw_errbuf_set(err, errlen, "unknown op \"%.*s\"", (int)(name->len < 32 ? name->len : 32),
                   name->str);
    return IGW_EINVAL;
}

int
igw_json_patch_apply(igw_arena *a, struct igw_node *doc, const struct igw_node *patch, char *err,
                     size_t errlen)
{
    size_t i = 0;

    if (a == NULL || doc == NULL || patch == NULL) {
        return IGW_EINVAL;
    }
    if (patch->type != IGW_NODE_ARRAY) {
        igw_errbuf_set(err, errlen, "a JSON Patch is an array of operations");
        return IGW_EINVAL;
    }
    for (const struct igw_node *op = patch->first; op != NULL; op = op->next, i++) {
        char why[IGW_ERRBUF_SIZE] = "";
        int rv = apply_one(a, doc, op, why, sizeof(why));
        if (rv != IGW_OK) {
            igw_errbuf_set(err, errlen, "operation %zu: %s", i, why);
            return rv;
        }
    }
    return IGW_OK;
}
