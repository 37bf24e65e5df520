/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Expression evaluators bound into the plan: constants, source paths (keys compared by length
 * then memcmp, arrays flattened), operators, defaults, function calls and value conversions.
 * Nothing here allocates except from the message arena.
 */
#include <math.h> /* isfinite only (a macro): no libm */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

int
map_rt_fail(struct ev *ev, int err, const char *fmt, ...)
{
    char msg[IGW_ERRBUF_SIZE];
    va_list ap;
    const struct stmt *s = ev->cur;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s != NULL) {
        igw_errbuf_set(ev->errbuf, ev->errlen, "%s:%u:%u: rule '%s': %s", ev->m->file, s->line,
                       s->col, s->label, msg);
    } else {
        igw_errbuf_set(ev->errbuf, ev->errlen, "%s: %s", ev->m->file, msg);
    }
    return err;
}

int
map_oom(struct ev *ev)
{
    return map_rt_fail(ev, IGW_ENOMEM, "out of memory (message arena)");
}

void
map_node_val(const struct igw_node *n, struct val *out)
{
    memset(out, 0, sizeof(*out));
    out->node = n;
    switch (n->type) {
    case IGW_NODE_STRING:
        out->kind = V_STR;
        out->s = n->str != NULL ? n->str : "";
        out->len = n->str != NULL ? n->len : 0;
        break;
    case IGW_NODE_NUMBER:
        out->kind = V_NUM;
        out->n = n->num;
        out->s = n->str;
        out->len = n->str != NULL ? n->len : 0;
        break;
    case IGW_NODE_BOOL:
        out->kind = V_BOOL;
        out->b = n->boolean;
        break;
    case IGW_NODE_NULL:
        out->kind = V_NULL;
        break;
    default:
        out->kind = V_NODE;
        out->node = n;
        break;
    }
}

/* ---- paths ------------------------------------------------------------------------------- */

struct coll {
    struct ev *ev;
    const struct igw_node *one;
    const struct igw_node **many;
    uint32_t n;
    uint32_t cap;
};

static int
coll_add(struct coll *c, const struct igw_node *n)
{
    if (c->n == 0) {
        c->one = n;
        c->n = 1;
        return IGW_OK;
    }
    if (c->n >= c->cap) {
        uint32_t nc = c->cap ? c->cap * 2 : 8;
        const struct igw_node **nm = igw_arena_alloc(c->ev->a, nc * sizeof(*nm));
        if (nm == NULL || nc > (1u << 28)) {
            return IGW_ENOMEM;
        }
        if (c->many != NULL) {
            memcpy(nm, c->many, c->n * sizeof(*nm));
        } else {
            nm[0] = c->one;
        }
        c->many = nm;
        c->cap = nc;
    }
    c->many[c->n++] = n;
    return IGW_OK;
}

static bool
key_match(const struct igw_node *m, const struct sstep *st)
{
    if (m->key_len != st->len || (st->attr && !(m->flags & IGW_NODE_ATTR))) {
        return false;
    }
    if (st->len == 0 || m->key == st->key) {
        return true;
    }
    return m->key[0] == st->key[0] && memcmp(m->key, st->key, st->len) == 0;
}

static int walk(struct coll *c, const struct igw_node *n, const struct sstep *st, unsigned left);

static int
walk_next(struct coll *c, const struct igw_node *n, const struct sstep *st, unsigned left)
{
    if (left == 1) {
        return coll_add(c, n);
    }
    return walk(c, n, st + 1, left - 1);
}

static const struct igw_node *
pick_index(const struct igw_node *arr, int32_t i)
{
    int64_t k = i >= 0 ? i : (int64_t)arr->count + i;
    return k >= 0 ? igw_node_at(arr, (size_t)k) : NULL;
}

/* The i-th match of a key among the members of obj (or the i-th element when it is an array). */
static int
walk_indexed(struct coll *c, const struct igw_node *obj, const struct sstep *st, unsigned left)
{
    const struct igw_node *hits[2] = {NULL, NULL};
    uint32_t nhits = 0;
    const struct igw_node *pick = NULL;
    int64_t want = st->index;
    if (want < 0) {
        uint32_t total = 0;
        for (const struct igw_node *m = obj->first; m != NULL; m = m->next) {
            total += key_match(m, st) ? 1u : 0u;
        }
        want += total;
    }
    for (const struct igw_node *m = obj->first; m != NULL; m = m->next) {
        if (!key_match(m, st)) {
            continue;
        }
        if (nhits < 2) {
            hits[nhits] = m;
        }
        if ((int64_t)nhits == want) {
            pick = m;
        }
        nhits++;
    }
    if (nhits == 1 && hits[0]->type == IGW_NODE_ARRAY) {
        pick = pick_index(hits[0], st->index);
    }
    return pick != NULL ? walk_next(c, pick, st, left) : IGW_OK;
}

static int
walk(struct coll *c, const struct igw_node *n, const struct sstep *st, unsigned left)
{
    int rv = IGW_OK;
    if (n->type == IGW_NODE_ARRAY) {
        for (const struct igw_node *e = n->first; e != NULL && rv == IGW_OK; e = e->next) {
            rv = walk(c, e, st, left);
        }
        return rv;
    }
    if (st->text && n->type == IGW_NODE_STRING) {
        return walk_next(c, n, st, left);
    }
    if (n->type != IGW_NODE_OBJECT) {
        return IGW_OK;
    }
    if (st->has_index) {
        return walk_indexed(c, n, st, left);
    }
    for (const struct igw_node *m = n->first; m != NULL && rv == IGW_OK; m = m->next) {
        if (key_match(m, st)) {
            rv = walk_next(c, m, st, left);
        }
    }
    return rv;
}

static int
coll_val(struct coll *c, struct val *out)
{
    if (c->n == 0) {
        memset(out, 0, sizeof(*out));
        return IGW_OK;
    }
    if (c->n == 1) {
        map_node_val(c->one, out);
        return IGW_OK;
    }
    struct val *items = igw_arena_alloc(c->ev->a, c->n * sizeof(*items));
    if (items == NULL) {
        return map_oom(c->ev);
    }
    for (uint32_t i = 0; i < c->n; i++) {
        map_node_val(c->many[i], &items[i]);
    }
    memset(out, 0, sizeof(*out));
    out->kind = V_LIST;
    out->items = items;
    out->len = c->n;
    return IGW_OK;
}

/* Path below a value that is not a node (a variable holding a list or a scalar). */
static int
walk_val(struct coll *c, const struct val *v, const struct spath *p)
{
    int rv = IGW_OK;
    if (v->kind == V_NODE) {
        return walk(c, v->node, p->steps, p->n);
    }
    if (v->kind == V_LIST) {
        for (uint32_t i = 0; i < v->len && rv == IGW_OK; i++) {
            rv = walk_val(c, &v->items[i], p);
        }
    }
    return rv;
}

/* A path from the message's root through its memo slot: walked once per message, when it
 * matches at most one node (a list is walked each time: its items may be shared). */
static int
eval_memo(struct ev *ev, const struct xnode *x, struct val *out)
{
    struct path_memo *pm = &ev->memo[x->memo - 1];
    struct coll c = {.ev = ev};
    int rv;

    if (pm->start == ev->root) {
        *out = pm->v;
        return IGW_OK;
    }
    rv = walk(&c, ev->root, x->path.steps, x->path.n);
    if (rv != IGW_OK) {
        return map_oom(ev);
    }
    rv = coll_val(&c, out);
    if (rv == IGW_OK && c.n <= 1) {
        pm->start = ev->root;
        pm->v = *out;
    }
    return rv;
}

int
map_eval_path(struct ev *ev, const struct xnode *x, struct val *out)
{
    const struct spath *p = &x->path;
    const struct igw_node *start = p->base == P_ROOT ? ev->root : ev->ctx;
    if (p->base == P_CONTEXT && p->n == 0 && ev->ctxv != NULL) {
        *out = *ev->ctxv;
        return IGW_OK;
    }
    if (x->memo != 0 && ev->memo != NULL && start == ev->root && start != NULL) {
        return eval_memo(ev, x, out);
    }
    struct coll c = {.ev = ev};
    int rv;

    if (p->base == P_VAR) {
        const struct val *v = &ev->vars[p->slot];
        if (p->n == 0) {
            *out = *v;
            return IGW_OK;
        }
        rv = walk_val(&c, v, p);
    } else if (start == NULL) {
        memset(out, 0, sizeof(*out));
        return IGW_OK;
    } else if (p->n == 0) {
        map_node_val(start, out);
        return IGW_OK;
    } else {
        rv = walk(&c, start, p->steps, p->n);
    }
    if (rv != IGW_OK) {
        return map_oom(ev);
    }
    return coll_val(&c, out);
}

/* ---- conversions ------------------------------------------------------------------------- */

bool
map_truthy(const struct val *v)
{
    switch (v->kind) {
    case V_BOOL:
        return v->b;
    case V_NUM:
        return v->n != 0;
    case V_STR:
        return v->len > 0;
    case V_LIST:
        return v->len > 0;
    case V_NODE:
        return v->node->type == IGW_NODE_OBJECT || v->node->count > 0;
    default:
        return false;
    }
}

static int
fmt_num(char *buf, size_t cap, double d)
{
    if (d == map_floor(d) && map_fabs(d) < 1e15) {
        return snprintf(buf, cap, "%.0f", d == 0 ? 0.0 : d);
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            break;
        }
    }
    return n;
}

int
map_num_val(struct ev *ev, double d, struct val *out)
{
    char buf[40];
    memset(out, 0, sizeof(*out));
    if (!isfinite(d)) {
        return IGW_OK; /* nothing: JSON has no NaN/Infinity */
    }
    int n = fmt_num(buf, sizeof(buf), d);
    char *s = igw_arena_strndup(ev->a, buf, (size_t)n);
    if (s == NULL) {
        return map_oom(ev);
    }
    out->kind = V_NUM;
    out->n = d;
    out->s = s;
    out->len = (uint32_t)n;
    return IGW_OK;
}

/* Text of a scalar; *s is NULL for nothing, objects and lists. */
int
map_val_str(struct ev *ev, const struct val *v, const char **s, uint32_t *len)
{
    *s = NULL;
    *len = 0;
    if (v->kind == V_STR) {
        *s = v->s;
        *len = v->len;
    } else if (v->kind == V_NUM) {
        struct val t;
        if (v->s == NULL || v->len == 0) {
            int rv = map_num_val(ev, v->n, &t);
            if (rv != IGW_OK) {
                return rv;
            }
            *s = t.s;
            *len = t.len;
        } else {
            *s = v->s;
            *len = v->len;
        }
    } else if (v->kind == V_BOOL) {
        *s = v->b ? "true" : "false";
        *len = v->b ? 4 : 5;
    }
    return IGW_OK;
}

int
map_val_num(const struct val *v, double *out)
{
    char buf[64];
    char *end = NULL;
    if (v->kind == V_NUM) {
        *out = v->n;
        return IGW_OK;
    }
    if (v->kind != V_STR || v->len == 0 || v->len >= sizeof(buf)) {
        return IGW_EINVAL;
    }
    memcpy(buf, v->s, v->len);
    buf[v->len] = '\0';
    *out = strtod(buf, &end);
    if (end != buf + v->len || buf[0] == ' ' || !isfinite(*out)) {
        return IGW_EINVAL;
    }
    return IGW_OK;
}

int
map_val_items(struct ev *ev, const struct val *v, struct val **items, uint32_t *n)
{
    *n = 0;
    *items = NULL;
    if (v->kind == V_NONE) {
        return IGW_OK;
    }
    if (v->kind == V_LIST) {
        *items = v->items;
        *n = v->len;
        return IGW_OK;
    }
    if (v->kind == V_NODE && v->node->type == IGW_NODE_ARRAY) {
        struct val *it = igw_arena_alloc(ev->a, (v->node->count + 1u) * sizeof(*it));
        uint32_t k = 0;
        if (it == NULL) {
            return map_oom(ev);
        }
        for (const struct igw_node *e = v->node->first; e != NULL; e = e->next) {
            map_node_val(e, &it[k++]);
        }
        *items = it;
        *n = k;
        return IGW_OK;
    }
    *items = (struct val *)(uintptr_t)v;
    *n = 1;
    return IGW_OK;
}

bool
map_val_equal(const struct val *a, const struct val *b)
{
    int c = 0;
    if (a->kind == V_NODE || b->kind == V_NODE) {
        return a->kind == b->kind && igw_node_equal(a->node, b->node);
    }
    if (a->kind == V_LIST || b->kind == V_LIST) {
        if (a->kind != b->kind || a->len != b->len) {
            return false;
        }
        for (uint32_t i = 0; i < a->len; i++) {
            if (!map_val_equal(&a->items[i], &b->items[i])) {
                return false;
            }
        }
        return true;
    }
    return map_val_cmp(a, b, &c) == IGW_OK && c == 0;
}

/* Orders two scalars of the same kind; IGW_EINVAL when they are not comparable. */
int
map_val_cmp(const struct val *a, const struct val *b, int *out)
{
    if (a->kind != b->kind) {
        return IGW_EINVAL;
    }
    switch (a->kind) {
    case V_NUM:
        *out = a->n < b->n ? -1 : (a->n > b->n ? 1 : 0);
        return IGW_OK;
    case V_STR: {
        uint32_t n = a->len < b->len ? a->len : b->len;
        int c = n > 0 ? memcmp(a->s, b->s, n) : 0;
        *out = c != 0 ? c : (a->len < b->len ? -1 : (a->len > b->len ? 1 : 0));
        return IGW_OK;
    }
    case V_BOOL:
        *out = (int)a->b - (int)b->b;
        return IGW_OK;
    case V_NULL:
    case V_NONE:
        *out = 0;
        return IGW_OK;
    default:
        return IGW_EINVAL;
    }
}

/* ---- operators --------------------------------------------------------------------------- */

static int
eval_const(struct ev *ev, const struct xnode *x, struct val *out)
{
    IGW_UNUSED(ev);
    *out = x->k;
    return IGW_OK;
}

static void
set_bool(struct val *out, bool b)
{
    memset(out, 0, sizeof(*out));
    out->kind = V_BOOL;
    out->b = b;
}

static int
concat2(struct ev *ev, const struct val *a, const struct val *b, struct val *out)
{
    const char *s1;
    const char *s2;
    uint32_t n1;
    uint32_t n2;
    int rv = map_val_str(ev, a, &s1, &n1);
    if (rv == IGW_OK) {
        rv = map_val_str(ev, b, &s2, &n2);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    memset(out, 0, sizeof(*out));
    if (s1 == NULL && s2 == NULL) {
        return IGW_OK;
    }
    char *d = igw_arena_alloc(ev->a, (size_t)n1 + n2 + 1);
    if (d == NULL) {
        return map_oom(ev);
    }
    if (n1 > 0) {
        memcpy(d, s1, n1);
    }
    if (n2 > 0) {
        memcpy(d + n1, s2, n2);
    }
    d[n1 + n2] = '\0';
    out->kind = V_STR;
    out->s = d;
    out->len = n1 + n2;
    return IGW_OK;
}

static int
arith(struct ev *ev, uint8_t op, const struct val *a, const struct val *b, struct val *out)
{
    double x;
    double y;
    double r = 0;
    if (op == B_ADD && (a->kind == V_STR || b->kind == V_STR)) {
        return concat2(ev, a, b, out);
    }
    memset(out, 0, sizeof(*out));
    if (map_val_num(a, &x) != IGW_OK || map_val_num(b, &y) != IGW_OK) {
        return IGW_OK; /* nothing */
    }
    switch (op) {
    case B_ADD:
        r = x + y;
        break;
    case B_SUB:
        r = x - y;
        break;
    case B_MUL:
        r = x * y;
        break;
    case B_DIV:
        r = x / y;
        break;
    default:
        r = map_fmod(x, y);
        break;
    }
    return map_num_val(ev, r, out);
}

static int
compare(uint8_t op, const struct val *a, const struct val *b, struct val *out)
{
    int c = 0;
    if (op == B_EQ || op == B_NE) {
        bool eq = map_val_equal(a, b);
        set_bool(out, op == B_EQ ? eq : !eq);
        return IGW_OK;
    }
    if (a->kind == V_NONE || b->kind == V_NONE || map_val_cmp(a, b, &c) != IGW_OK) {
        set_bool(out, false);
        return IGW_OK;
    }
    set_bool(out, op == B_LT ? c < 0 : op == B_LE ? c <= 0 : op == B_GT ? c > 0 : c >= 0);
    return IGW_OK;
}

static int
eval_bin(struct ev *ev, const struct xnode *x, struct val *out)
{
    struct val a;
    struct val b;
    int rv = x->a->eval(ev, x->a, &a);
    if (rv != IGW_OK) {
        return rv;
    }
    if (x->op == B_AND || x->op == B_OR) {
        bool ta = map_truthy(&a);
        if (x->op == B_AND ? !ta : ta) {
            set_bool(out, ta);
            return IGW_OK;
        }
        rv = x->b->eval(ev, x->b, &b);
        set_bool(out, map_truthy(&b));
        return rv;
    }
    rv = x->b->eval(ev, x->b, &b);
    if (rv != IGW_OK) {
        return rv;
    }
    if (x->op >= B_EQ) {
        return compare(x->op, &a, &b, out);
    }
    return arith(ev, x->op, &a, &b, out);
}

static int
eval_not(struct ev *ev, const struct xnode *x, struct val *out)
{
    struct val a;
    int rv = x->a->eval(ev, x->a, &a);
    set_bool(out, !map_truthy(&a));
    return rv;
}

static int
eval_neg(struct ev *ev, const struct xnode *x, struct val *out)
{
    struct val a;
    double d;
    int rv = x->a->eval(ev, x->a, &a);
    memset(out, 0, sizeof(*out));
    if (rv != IGW_OK || map_val_num(&a, &d) != IGW_OK) {
        return rv;
    }
    return map_num_val(ev, -d, out);
}

static int
eval_default(struct ev *ev, const struct xnode *x, struct val *out)
{
    int rv = x->a->eval(ev, x->a, out);
    if (rv != IGW_OK || (out->kind != V_NONE && out->kind != V_NULL)) {
        return rv;
    }
    return x->b->eval(ev, x->b, out);
}

static int
eval_iif(struct ev *ev, const struct xnode *x, struct val *out)
{
    struct val c;
    int rv = x->a->eval(ev, x->a, &c);
    if (rv != IGW_OK) {
        return rv;
    }
    return map_truthy(&c) ? x->b->eval(ev, x->b, out) : x->c->eval(ev, x->c, out);
}

static int
eval_call(struct ev *ev, const struct xnode *x, struct val *out)
{
    struct val args[MAP_MAX_ARGS];
    for (unsigned i = 0; i < x->nargs; i++) {
        int rv = x->args[i]->eval(ev, x->args[i], &args[i]);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    memset(out, 0, sizeof(*out));
    return x->fn->call(ev, x, args, out);
}

static int
eval_submap(struct ev *ev, const struct xnode *x, struct val *out)
{
    struct val in;
    int rv = x->a->eval(ev, x->a, &in);
    if (rv != IGW_OK) {
        return rv;
    }
    return map_call_submap(ev, x->aux, &in, out);
}

xeval_fn
map_eval_fn(uint8_t kind)
{
    switch (kind) {
    case X_CONST:
        return eval_const;
    case X_PATH:
        return map_eval_path;
    case X_CALL:
        return eval_call;
    case X_BIN:
        return eval_bin;
    case X_NOT:
        return eval_not;
    case X_NEG:
        return eval_neg;
    case X_DEFAULT:
        return eval_default;
    case X_SUBMAP:
        return eval_submap;
    default:
        return eval_iif;
    }
}
