/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Statement execution and output building: target paths resolved step by step against the
 * output tree (keys compared by pointer, then length and memcmp), values turned into nodes
 * without copying strings, loops, conditions, sub-map calls and the per-message limits.
 */
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

struct igw_node *
map_onode(struct ev *ev, uint8_t type)
{
    struct igw_node *n;
    if (ev->nodes >= ev->max_nodes) {
        map_rt_fail(ev, IGW_ELIMIT, "output node limit %zu exceeded", ev->max_nodes);
        return NULL;
    }
    n = igw_arena_bump(ev->a, sizeof(*n));
    if (n == NULL) {
        map_oom(ev);
        return NULL;
    }
    ev->nodes++;
    *n = (struct igw_node){.type = type};
    return n;
}

static int
node_err(struct ev *ev)
{
    return ev->nodes >= ev->max_nodes ? IGW_ELIMIT : IGW_ENOMEM;
}

static void
link_child(struct igw_node *parent, const char *key, uint32_t klen, bool attr,
           struct igw_node *child)
{
    if (parent->type != IGW_NODE_OBJECT) {
        child->key = NULL;
        child->key_len = 0;
    }
    if (attr) {
        child->flags |= IGW_NODE_ATTR;
    }
    igw_node_link(parent, key, klen, child);
}

static size_t
subtree_size(const struct igw_node *n)
{
    size_t k = 1;
    for (const struct igw_node *c = n->first; c != NULL; c = c->next) {
        k += subtree_size(c);
    }
    return k;
}

static int
copy_node(struct ev *ev, const struct val *v, struct igw_node **out)
{
    struct igw_node *n = (struct igw_node *)(uintptr_t)v->node;
    if (!(v->fresh && n->parent == NULL)) {
        size_t k = subtree_size(v->node);
        if (k > ev->max_nodes - ev->nodes) {
            return map_rt_fail(ev, IGW_ELIMIT, "output node limit %zu exceeded", ev->max_nodes);
        }
        ev->nodes += k;
        n = igw_node_clone(ev->a, v->node);
        if (n == NULL) {
            return map_oom(ev);
        }
    }
    n->key = NULL;
    n->key_len = 0;
    n->flags = 0;
    n->next = NULL;
    n->parent = NULL;
    *out = n;
    return IGW_OK;
}

static int
list_node(struct ev *ev, const struct val *v, struct igw_node **out)
{
    struct igw_node *arr = map_onode(ev, IGW_NODE_ARRAY);
    if (arr == NULL) {
        return node_err(ev);
    }
    for (uint32_t i = 0; i < v->len; i++) {
        struct igw_node *c = NULL;
        int rv = map_val_node(ev, &v->items[i], &c);
        if (rv != IGW_OK) {
            return rv;
        }
        if (c != NULL) {
            link_child(arr, NULL, 0, false, c);
        }
    }
    *out = arr;
    return IGW_OK;
}

/* Turns a value into an output node; *out is NULL for nothing. Strings are shared, not copied. */
int
map_val_node(struct ev *ev, const struct val *v, struct igw_node **out)
{
    struct igw_node *n;
    *out = NULL;
    switch (v->kind) {
    case V_NONE:
        return IGW_OK;
    case V_NODE:
        return copy_node(ev, v, out);
    case V_LIST:
        return list_node(ev, v, out);
    default:
        break;
    }
    n = map_onode(ev, v->kind == V_STR    ? IGW_NODE_STRING
                      : v->kind == V_NUM  ? IGW_NODE_NUMBER
                      : v->kind == V_BOOL ? IGW_NODE_BOOL
                                          : IGW_NODE_NULL);
    if (n == NULL) {
        return node_err(ev);
    }
    n->boolean = v->b;
    n->num = v->n;
    if (v->kind == V_STR) {
        n->str = v->s != NULL ? v->s : "";
        n->len = v->len;
    } else if (v->kind == V_NUM) {
        const char *s = NULL;
        uint32_t len = 0;
        int rv = map_val_str(ev, v, &s, &len);
        if (rv != IGW_OK) {
            return rv;
        }
        n->str = s != NULL ? s : "";
        n->len = len;
    }
    *out = n;
    return IGW_OK;
}

/* ---- target resolution ------------------------------------------------------------------- */

static struct igw_node *
member(const struct igw_node *obj, const struct tstep *st, uint32_t nth, bool last)
{
    struct igw_node *hit = NULL;
    uint32_t k = 0;
    for (struct igw_node *m = obj->first; m != NULL; m = m->next) {
        if (m->key_len == st->len &&
            (m->key == st->key ||
             (st->len > 0 && m->key[0] == st->key[0] && memcmp(m->key, st->key, st->len) == 0))) {
            if (!last && k == nth) {
                return m;
            }
            hit = m;
            k++;
        }
    }
    return last ? hit : NULL;
}

static int
new_child(struct ev *ev, struct igw_node *parent, const struct tstep *st, uint8_t type,
          struct igw_node **out)
{
    struct igw_node *n = map_onode(ev, type);
    if (n == NULL) {
        return node_err(ev);
    }
    link_child(parent, st->key, st->len, st->attr, n);
    *out = n;
    return IGW_OK;
}

static int
not_container(struct ev *ev, const struct tstep *st, const char *what)
{
    return map_rt_fail(ev, IGW_ETRANSLATE, "target '%s' already holds a value that is not %s",
                       st->key, what);
}

static uint32_t
count_members(const struct igw_node *obj, const struct tstep *st)
{
    uint32_t k = 0;
    for (const struct igw_node *m = obj->first; m != NULL; m = m->next) {
        k += m->key_len == st->len && memcmp(m->key, st->key, st->len) == 0 ? 1u : 0u;
    }
    return k;
}

/* The element addressed by an indexed step inside the array (JSON) or among repeated members
 * (XML); created as an empty object when missing. */
static int
element(struct ev *ev, struct igw_node *arr, const struct tstep *st, struct igw_node **out)
{
    bool xml = arr->type == IGW_NODE_OBJECT;
    struct igw_node *e = NULL;
    uint32_t have = xml ? count_members(arr, st) : arr->count;
    if (st->mode == TM_LAST && have > 0) {
        e = xml ? member(arr, st, 0, true) : arr->last;
    } else if (st->mode == TM_INDEX && st->index < have) {
        e = xml ? member(arr, st, st->index, false) : igw_node_at(arr, st->index);
    }
    if (e != NULL) {
        *out = e;
        return IGW_OK;
    }
    if (st->mode == TM_INDEX && st->index - have > 4096) {
        return map_rt_fail(ev, IGW_ETRANSLATE, "index [%u] leaves a gap", st->index);
    }
    uint32_t want = st->mode == TM_INDEX ? st->index + 1 : have + 1;
    for (uint32_t i = have; i < want; i++) {
        int rv = new_child(ev, arr, st, IGW_NODE_OBJECT, &e);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    *out = e;
    return IGW_OK;
}

static int
array_of(struct ev *ev, struct igw_node *cur, const struct tstep *st, struct igw_node **out)
{
    struct igw_node *a;
    if (ev->xml_out) {
        *out = cur;
        return IGW_OK;
    }
    a = member(cur, st, 0, false);
    if (a == NULL) {
        return new_child(ev, cur, st, IGW_NODE_ARRAY, out);
    }
    if (a->type != IGW_NODE_ARRAY) {
        return not_container(ev, st, "an array");
    }
    *out = a;
    return IGW_OK;
}

/* The node at a discriminator path (TM_KEY and TM_INDEX steps) below e, or NULL. */
static const struct igw_node *
sel_node(const struct igw_node *e, const struct tstep *sel, uint32_t n, bool xml)
{
    for (uint32_t i = 0; i < n && e != NULL; i++) {
        if (e->type != IGW_NODE_OBJECT) {
            return NULL;
        }
        if (sel[i].mode != TM_INDEX) {
            e = member(e, &sel[i], 0, false);
        } else if (xml) {
            e = member(e, &sel[i], sel[i].index, false);
        } else {
            e = member(e, &sel[i], 0, false);
            e = e != NULL && e->type == IGW_NODE_ARRAY ? igw_node_at(e, sel[i].index) : NULL;
        }
    }
    return e;
}

static bool
sel_matches(const struct igw_node *e, const struct tstep *st, bool xml)
{
    const struct igw_node *n = sel_node(e, st->sel, st->nsel, xml);
    struct val v;
    if (n == NULL) {
        return false;
    }
    map_node_val(n, &v);
    if (v.kind == V_NUM && st->selv->kind == V_NUM) {
        return v.n == st->selv->n;
    }
    return map_val_equal(&v, st->selv);
}

const struct igw_node *
map_slice_find(const struct igw_node *arr, const struct tstep *st, bool xml)
{
    for (const struct igw_node *e = arr->first; e != NULL; e = e->next) {
        if (xml && !(e->key_len == st->len && memcmp(e->key, st->key, st->len) == 0)) {
            continue;
        }
        if (e->type == IGW_NODE_OBJECT && sel_matches(e, st, xml)) {
            return e;
        }
    }
    return NULL;
}

static int resolve(struct ev *ev, struct igw_node *tgt, const struct tpath *p, unsigned n,
                   struct igw_node **out);
static int assign(struct ev *ev, struct igw_node *cur, const struct tstep *st, const struct val *v);

/* A TM_SLICE step: the matching element, or a new one holding the discriminator value. */
static int
slice(struct ev *ev, struct igw_node *cur, const struct tstep *st, struct igw_node **out)
{
    struct igw_node *arr;
    struct igw_node *e;
    struct tpath p = {.n = st->nsel, .steps = (struct tstep *)(uintptr_t)st->sel};
    int rv = array_of(ev, cur, st, &arr);
    if (rv != IGW_OK) {
        return rv;
    }
    e = (struct igw_node *)(uintptr_t)map_slice_find(arr, st, ev->xml_out);
    if (e != NULL) {
        *out = e;
        return IGW_OK;
    }
    rv = new_child(ev, arr, st, IGW_NODE_OBJECT, &e);
    if (rv == IGW_OK) {
        rv = resolve(ev, e, &p, st->nsel - 1, &cur);
    }
    if (rv == IGW_OK) {
        rv = assign(ev, cur, &st->sel[st->nsel - 1], st->selv);
    }
    *out = e;
    return rv;
}

static int
descend(struct ev *ev, struct igw_node *cur, const struct tstep *st, struct igw_node **out)
{
    struct igw_node *n;
    if (cur->type != IGW_NODE_OBJECT) {
        return not_container(ev, st, "an object");
    }
    if (st->mode == TM_SLICE) {
        return slice(ev, cur, st, out);
    }
    if (st->mode != TM_KEY) {
        int rv = array_of(ev, cur, st, &n);
        return rv != IGW_OK ? rv : element(ev, n, st, out);
    }
    n = member(cur, st, 0, false);
    if (n == NULL) {
        return new_child(ev, cur, st, IGW_NODE_OBJECT, out);
    }
    if (n->type != IGW_NODE_OBJECT) {
        return not_container(ev, st, "an object");
    }
    *out = n;
    return IGW_OK;
}

/* Replaces old's value by n's, keeping old's place among its siblings. */
static void
replace_value(struct igw_node *old, struct igw_node *n)
{
    old->type = n->type;
    old->str = n->str;
    old->len = n->len;
    old->num = n->num;
    old->boolean = n->boolean;
    old->first = n->first;
    old->last = n->last;
    old->count = n->count;
    for (struct igw_node *c = old->first; c != NULL; c = c->next) {
        c->parent = old;
    }
}

static int
append_items(struct ev *ev, struct igw_node *parent, const struct tstep *st, const struct val *v)
{
    struct val *items;
    uint32_t n;
    int rv = map_val_items(ev, v, &items, &n);
    for (uint32_t i = 0; i < n && rv == IGW_OK; i++) {
        struct igw_node *c = NULL;
        rv = map_val_node(ev, &items[i], &c);
        if (rv == IGW_OK && c != NULL) {
            link_child(parent, st->key, st->len, st->attr, c);
        }
    }
    return rv;
}

static int
assign_key(struct ev *ev, struct igw_node *cur, const struct tstep *st, const struct val *v)
{
    struct igw_node *old = member(cur, st, 0, false);
    struct igw_node *n = NULL;
    int rv;
    if (ev->xml_out && v->kind == V_LIST) {
        return append_items(ev, cur, st, v);
    }
    rv = map_val_node(ev, v, &n);
    if (rv != IGW_OK || n == NULL) {
        return rv;
    }
    if (old != NULL) {
        replace_value(old, n);
    } else {
        link_child(cur, st->key, st->len, st->attr, n);
    }
    return IGW_OK;
}

static int
assign(struct ev *ev, struct igw_node *cur, const struct tstep *st, const struct val *v)
{
    struct igw_node *arr;
    struct igw_node *el;
    struct igw_node *n = NULL;
    int rv;
    if (cur->type != IGW_NODE_OBJECT) {
        return not_container(ev, st, "an object");
    }
    if (st->mode == TM_KEY) {
        return assign_key(ev, cur, st, v);
    }
    rv = array_of(ev, cur, st, &arr);
    if (rv != IGW_OK) {
        return rv;
    }
    if (st->mode == TM_APPEND) {
        return append_items(ev, arr, st, v);
    }
    rv = map_val_node(ev, v, &n);
    if (rv != IGW_OK || n == NULL) {
        return rv;
    }
    rv = element(ev, arr, st, &el);
    if (rv == IGW_OK) {
        replace_value(el, n);
    }
    return rv;
}

static int
resolve(struct ev *ev, struct igw_node *tgt, const struct tpath *p, unsigned n,
        struct igw_node **out)
{
    struct igw_node *cur = tgt;
    for (unsigned i = 0; i < n; i++) {
        int rv = descend(ev, cur, &p->steps[i], &cur);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    *out = cur;
    return IGW_OK;
}

/* ---- statements -------------------------------------------------------------------------- */

static int
run_assign(struct ev *ev, const struct stmt *s, struct igw_node *tgt)
{
    struct val v;
    struct igw_node *cur;
    int rv = s->expr->eval(ev, s->expr, &v);
    if (rv != IGW_OK || v.kind == V_NONE || (v.kind == V_LIST && v.len == 0)) {
        return rv;
    }
    rv = resolve(ev, tgt, &s->target, s->target.n - 1, &cur);
    if (rv != IGW_OK) {
        return rv;
    }
    return assign(ev, cur, &s->target.steps[s->target.n - 1], &v);
}

static int
enter(struct ev *ev)
{
    if (++ev->depth > ev->max_depth) {
        return map_rt_fail(ev, IGW_ELIMIT, "depth limit %u exceeded", ev->max_depth);
    }
    return IGW_OK;
}

static int
run_block(struct ev *ev, const struct stmt *s, struct igw_node *tgt)
{
    struct igw_node *cur;
    int rv = enter(ev);
    if (rv == IGW_OK) {
        rv = resolve(ev, tgt, &s->target, s->target.n, &cur);
    }
    if (rv == IGW_OK) {
        rv = map_run(ev, s->body, cur);
    }
    ev->depth--;
    return rv;
}

static int
run_cond(struct ev *ev, const struct stmt *s, struct igw_node *tgt)
{
    struct val c;
    int rv = s->expr->eval(ev, s->expr, &c);
    if (rv != IGW_OK) {
        return rv;
    }
    if (map_truthy(&c)) {
        return map_run(ev, s->body, tgt);
    }
    return s->els != NULL ? map_run(ev, s->els, tgt) : IGW_OK;
}

static int
run_for(struct ev *ev, const struct stmt *s, struct igw_node *tgt)
{
    struct val v;
    struct val *items;
    uint32_t n;
    const struct igw_node *save_ctx = ev->ctx;
    const struct val *save_ctxv = ev->ctxv;
    int rv = s->expr->eval(ev, s->expr, &v);
    if (rv == IGW_OK) {
        rv = map_val_items(ev, &v, &items, &n);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    rv = enter(ev);
    for (uint32_t i = 0; i < n && rv == IGW_OK; i++) {
        if (++ev->iters > ev->max_iters) {
            rv = map_rt_fail(ev, IGW_ELIMIT, "iteration limit %llu exceeded",
                             (unsigned long long)ev->max_iters);
            break;
        }
        ev->vars[s->slot] = items[i];
        ev->idx[s->slot] = i;
        ev->ctx = items[i].node;
        ev->ctxv = &ev->vars[s->slot];
        rv = map_run(ev, s->body, tgt);
        ev->cur = s;
    }
    ev->depth--;
    ev->ctx = save_ctx;
    ev->ctxv = save_ctxv;
    return rv;
}

static int
run_one(struct ev *ev, const struct stmt *s, struct igw_node *tgt)
{
    switch (s->kind) {
    case S_ASSIGN:
        return run_assign(ev, s, tgt);
    case S_BLOCK:
        return run_block(ev, s, tgt);
    case S_WHEN:
    case S_IF:
        return run_cond(ev, s, tgt);
    case S_FOR:
        return run_for(ev, s, tgt);
    default:
        return s->expr->eval(ev, s->expr, &ev->vars[s->slot]);
    }
}

int
map_run(struct ev *ev, const struct stmt *s, struct igw_node *tgt)
{
    for (; s != NULL; s = s->next) {
        ev->cur = s;
        int rv = run_one(ev, s, tgt);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

/* Writes v at path p below root, creating what is missing (used by reverse maps). */
int
map_write_path(struct ev *ev, struct igw_node *root, const struct tstep *steps, unsigned n,
               const struct val *v)
{
    struct tpath p = {.n = n, .steps = (struct tstep *)(uintptr_t)steps};
    struct igw_node *cur;
    int rv;
    if (n == 0 || v->kind == V_NONE) {
        return IGW_OK;
    }
    rv = resolve(ev, root, &p, n - 1, &cur);
    return rv != IGW_OK ? rv : assign(ev, cur, &steps[n - 1], v);
}
