/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The neutral document tree every codec parses into and every map reads and writes (the bottom
 * layer of translators/: it knows no codec). Code in translators/doc/node.c.
 *
 * Ownership: nodes live in an igw_arena (one per message); nothing in a tree is freed
 * individually, and a tree lives until igw_arena_reset/igw_arena_free of its arena. All strings
 * point into the arena (or into static storage for constants, or into caller storage for
 * igw_node_string_ref). Strings carry a length and are also NUL-terminated.
 * Threads: trees are not thread-safe; a finished tree may be read by several threads if nobody
 * writes it. Tree walks are iterative (parent pointers), so deep trees never exhaust the stack.
 *
 * Model:
 * - JSON maps one to one: objects (ordered members; duplicate keys are kept in order), arrays,
 *   strings, numbers (raw text kept, so "12.50" stays "12.50"), booleans, null.
 * - XML: an element is a member of its parent object, keyed by its local name, in document order;
 *   repeated elements are repeated members with the same key. An element with neither attributes
 *   nor child elements is a STRING node (its text; "" when empty). Otherwise it is an OBJECT whose
 *   attributes are STRING members flagged IGW_NODE_ATTR (key without '@'), whose child elements
 *   follow, and whose non-blank text is a STRING member keyed "#text" (mixed text segments are
 *   kept in order as several "#text" members). The document root is an OBJECT with one member:
 *   the root element. Namespaces: node->ns is the element's or attribute's namespace URI (NULL
 *   when none) and node->prefix the prefix used in the source, so output can re-declare them.
 * - CSV: an ARRAY of OBJECTs (one per record, members keyed by the header row) of STRINGs; with
 *   no header row, an ARRAY of ARRAYs of STRINGs.
 */
#ifndef IGW_NODE_H
#define IGW_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "igw/arena.h"

enum igw_node_type {
    IGW_NODE_NULL = 0,
    IGW_NODE_BOOL,
    IGW_NODE_NUMBER,
    IGW_NODE_STRING,
    IGW_NODE_ARRAY,
    IGW_NODE_OBJECT,
};

#define IGW_NODE_ATTR 0x01u /* XML attribute */

struct igw_node {
    uint8_t type;    /* enum igw_node_type */
    uint8_t flags;   /* IGW_NODE_* */
    uint32_t count;  /* number of children (ARRAY, OBJECT) */
    const char *key; /* member name inside an OBJECT; NULL for array items and the root */
    uint32_t key_len;
    uint32_t len;       /* length of str (STRING, NUMBER) */
    const char *str;    /* STRING text or NUMBER raw text */
    double num;         /* NUMBER value */
    bool boolean;       /* BOOL value */
    const char *ns;     /* XML namespace URI or NULL */
    const char *prefix; /* XML prefix as written or NULL */
    struct igw_node *parent;
    struct igw_node *first; /* children, in order */
    struct igw_node *last;
    struct igw_node *next; /* next sibling */
};

/* ---- building ---------------------------------------------------------------------------- */
/* The constructors have no error code: NULL means the arena is exhausted (its limit reached or
 * out of memory), which callers report as IGW_ENOMEM or IGW_ELIMIT. The result belongs to the
 * arena a, which must not be NULL. */

/** A zeroed node of the given type, without children. NULL when the arena is exhausted. */
struct igw_node *igw_node_new(igw_arena *a, enum igw_node_type type);
/** A STRING node holding a copy of len bytes of s (s NULL gives ""). NULL when the arena is
 *  exhausted or len > UINT32_MAX. */
struct igw_node *igw_node_string(igw_arena *a, const char *s, size_t len);
/** A STRING node that points at s without copying: s (borrowed) must outlive the tree; s NULL
 *  gives "". NULL when the arena is exhausted or len > UINT32_MAX. */
struct igw_node *igw_node_string_ref(igw_arena *a, const char *s, size_t len);
/** A NUMBER node for v; its raw text is the shortest of %.15g/%.16g/%.17g that reads back as v
 *  ("NaN", "Infinity", "-Infinity" for those values). NULL when the arena is exhausted. */
struct igw_node *igw_node_number(igw_arena *a, double v);
/** A NUMBER node whose raw text is a copy of len bytes of s and whose value is strtod(s); s is
 *  not validated. NULL when s is NULL, len > UINT32_MAX or the arena is exhausted. */
struct igw_node *igw_node_number_text(igw_arena *a, const char *s, size_t len);
/** A BOOL node. NULL when the arena is exhausted. */
struct igw_node *igw_node_bool(igw_arena *a, bool v);
/**
 * Appends child as the last child of an ARRAY or OBJECT parent. For an OBJECT, key (key_len
 * bytes, copied into a) names the member; for an ARRAY key is ignored and child's key cleared.
 * child must not already be in a tree (it is linked, not copied).
 * @return IGW_OK; IGW_EINVAL when parent or child is NULL, child == parent, parent is not an
 *         ARRAY or OBJECT, or (OBJECT) key is NULL or key_len > UINT32_MAX; IGW_ELIMIT when
 *         parent already has UINT32_MAX children; IGW_ENOMEM when the key cannot be copied.
 *         On error the tree is unchanged.
 */
int igw_node_append(igw_arena *a, struct igw_node *parent, const char *key, size_t key_len,
                    struct igw_node *child);
/** Links child as the last child of parent without copying anything: key (for an OBJECT
 *  parent; ignored otherwise) must live as long as the tree. The hot path of every codec.
 *  Neither pointer may be NULL; parent must be an ARRAY or OBJECT with fewer than UINT32_MAX
 *  children (not checked). Cannot fail. */
static inline void
igw_node_link(struct igw_node *parent, const char *key, uint32_t key_len, struct igw_node *child)
{
    if (parent->type == IGW_NODE_OBJECT) {
        child->key = key;
        child->key_len = key_len;
    }
    child->parent = parent;
    child->next = NULL;
    if (parent->last != NULL) {
        parent->last->next = child;
    } else {
        parent->first = child;
    }
    parent->last = child;
    parent->count++;
}

/** Deep copy of n and its subtree into arena a (strings copied too; the copy's root has no
 *  parent and no sibling). NULL when n is NULL or the arena is exhausted (part of a copy may
 *  then be left in a, freed with it). */
struct igw_node *igw_node_clone(igw_arena *a, const struct igw_node *n);

/* ---- reading (results are borrowed: they live as long as the tree) ----------------------- */
/** First member of obj named key (key_len bytes). NULL if obj or key is NULL, obj is not an
 *  OBJECT, or there is no such member. */
struct igw_node *igw_node_get(const struct igw_node *obj, const char *key, size_t key_len);
/** Next member after m with the same key (repeated XML elements, duplicate JSON keys). NULL if
 *  m is NULL, has no key, or is the last such member. */
struct igw_node *igw_node_next_same(const struct igw_node *m);
/** i-th child of an ARRAY or OBJECT (O(i)). NULL if n is NULL, not a container, or i >= count. */
struct igw_node *igw_node_at(const struct igw_node *n, size_t i);
/** Deep equality: type, member keys in order, values (numbers by value; NaN by raw text); the
 *  roots' own keys are not compared. Two NULLs are equal, NULL and a node are not. */
bool igw_node_equal(const struct igw_node *a, const struct igw_node *b);

#endif /* IGW_NODE_H */
