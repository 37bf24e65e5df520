/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reverse maps: which rules are invertible (and why not), and running an invertible map
 * backwards: each rule reads its target path in the given document and writes the inverse of
 * its expression into the rebuilt source (docs/MAPPING-LANGUAGE.md section 9).
 */
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

/* ---- invertibility ----------------------------------------------------------------------- */

static bool
is_const(const struct xnode *x)
{
    return x->kind == X_CONST;
}

static const char *xinv(const struct xnode *x);

/* Operands of a string concatenation (`+` with a string side, or concat()), flattened. */
static unsigned
concat_parts(const struct xnode *x, const struct xnode **parts, unsigned cap, unsigned n)
{
    if (x->kind == X_BIN && x->op == B_ADD && x->type == T_STR) {
        n = concat_parts(x->a, parts, cap, n);
        return concat_parts(x->b, parts, cap, n);
    }
    if (x->kind == X_CALL && strcmp(x->fn->name, "concat") == 0) {
        for (unsigned i = 0; i < x->nargs; i++) {
            n = concat_parts(x->args[i], parts, cap, n);
        }
        return n;
    }
    if (n < cap) {
        parts[n] = x;
    }
    return n + 1;
}

static const char *
concat_inv(const struct xnode *x)
{
    const struct xnode *parts[16];
    unsigned n = concat_parts(x, parts, 16, 0);
    unsigned var = 0;
    if (n > 16) {
        return "concatenation too long to invert";
    }
    for (unsigned i = 0; i < n; i++) {
        if (!is_const(parts[i])) {
            if (parts[i]->type != T_ANY && parts[i]->type != T_STR) {
                return "concatenation with a computed value cannot be inverted";
            }
            var++;
        } else if (parts[i]->k.kind != V_STR) {
            return "concatenation with a non-string constant cannot be inverted";
        }
    }
    if (var != 1) {
        return var == 0 ? NULL : "concat of two fields cannot be inverted";
    }
    for (unsigned i = 0; i < n; i++) {
        if (!is_const(parts[i])) {
            return xinv(parts[i]);
        }
    }
    return NULL;
}

static const char *
call_inv(const struct xnode *x)
{
    const char *f = x->fn->name;
    if (strcmp(f, "concat") == 0) {
        return concat_inv(x);
    }
    if (strcmp(f, "lookup") == 0) {
        const struct map_table *t = x->aux;
        if (x->op != 0) {
            return "lookup of a system or display cannot be inverted";
        }
        if (!igw_table_invertible(t->t)) {
            const char *why = igw_table_ambiguity(t->t);
            return why != NULL ? why : "the table has no inverse";
        }
        return xinv(x->args[1]);
    }
    if (strcmp(f, "split") == 0 || strcmp(f, "join") == 0) {
        if (x->nargs < 2 || !is_const(x->args[1])) {
            return "split/join needs a constant separator to be inverted";
        }
        return xinv(x->args[0]);
    }
    if (strcmp(f, "date") == 0) {
        if (x->nargs == 4) {
            return "date() with a time zone conversion cannot be inverted";
        }
        return xinv(x->args[0]);
    }
    return "this function cannot be inverted";
}

static const char *
xinv(const struct xnode *x)
{
    switch (x->kind) {
    case X_CONST:
        return NULL;
    case X_PATH:
        return x->path.base == P_VAR ? "a loop or computed variable cannot be inverted" : NULL;
    case X_CALL:
        return call_inv(x);
    case X_BIN:
        if (x->op == B_ADD && x->type == T_STR) {
            return concat_inv(x);
        }
        return x->op >= B_EQ ? "comparison cannot be inverted" : "arithmetic cannot be inverted";
    case X_DEFAULT:
        return is_const(x->b) ? xinv(x->a) : "a default that is not a constant cannot be inverted";
    case X_SUBMAP:
        return "a sub-map call cannot be inverted";
    default:
        return "this expression cannot be inverted";
    }
}

/* p, exists(p), empty(p) and `not` of these, p a source path: in reverse the body runs and
 * only the targets present in the document write anything back. */
static bool
simple_cond(const struct xnode *x)
{
    if (x->kind == X_NOT) {
        return simple_cond(x->a);
    }
    if (x->kind == X_PATH && x->path.base != P_VAR) {
        return true;
    }
    return x->kind == X_CALL &&
           (strcmp(x->fn->name, "exists") == 0 || strcmp(x->fn->name, "empty") == 0) &&
           x->args[0]->kind == X_PATH && x->args[0]->path.base != P_VAR;
}

static bool mark_list(struct stmt *s);

static void
mark_one(struct stmt *s)
{
    s->why = NULL;
    if (s->oneway) {
        s->invertible = true; /* skipped in reverse; the lint lists it */
        return;
    }
    switch (s->kind) {
    case S_ASSIGN:
        s->why = xinv(s->expr);
        break;
    case S_BLOCK:
        s->why = mark_list(s->body) ? NULL : "contains rules that cannot be inverted";
        break;
    case S_WHEN:
        if (!simple_cond(s->expr)) {
            s->why = "a condition other than exists(path) cannot be inverted";
        } else if (!mark_list(s->body)) {
            s->why = "contains rules that cannot be inverted";
        }
        break;
    case S_IF:
        s->why = "if/else cannot be inverted";
        break;
    case S_FOR:
        s->why = "a for loop cannot be inverted";
        break;
    default:
        break;
    }
    s->invertible = s->why == NULL;
}

static bool
mark_list(struct stmt *s)
{
    bool ok = true;
    for (; s != NULL; s = s->next) {
        mark_one(s);
        ok = ok && s->invertible;
    }
    return ok;
}

void
map_mark_invertible(igw_map *m)
{
    m->invertible = mark_list(m->body);
}

/* ---- reading the target document --------------------------------------------------------- */

struct rev_counter {
    const struct igw_node *parent;
    const char *key;
    uint32_t n;
    struct rev_counter *next;
};

static struct rev_counter *
counter(struct ev *ev, const struct igw_node *parent, const char *key)
{
    struct rev_counter *c;
    for (c = ev->counters; c != NULL; c = c->next) {
        if (c->parent == parent && c->key == key) {
            return c;
        }
    }
    c = igw_arena_calloc(ev->a, sizeof(*c));
    if (c != NULL) {
        c->parent = parent;
        c->key = key;
        c->next = ev->counters;
        ev->counters = c;
    }
    return c;
}

static const struct igw_node *
nth_member(const struct igw_node *obj, const struct tstep *st, uint32_t nth, bool last)
{
    const struct igw_node *hit = NULL;
    uint32_t k = 0;
    for (const struct igw_node *m = obj->first; m != NULL; m = m->next) {
        if (m->key_len == st->len && memcmp(m->key, st->key, st->len) == 0) {
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
read_step(struct ev *ev, const struct igw_node *cur, const struct tstep *st,
          const struct igw_node **out)
{
    const struct igw_node *arr;
    uint32_t i = st->index;
    *out = NULL;
    if (cur == NULL || cur->type != IGW_NODE_OBJECT) {
        return IGW_OK;
    }
    if (st->mode == TM_KEY) {
        *out = nth_member(cur, st, 0, false);
        return IGW_OK;
    }
    if (st->mode == TM_SLICE) {
        arr = ev->xml_in ? cur : nth_member(cur, st, 0, false);
        if (arr != NULL && (ev->xml_in || arr->type == IGW_NODE_ARRAY)) {
            *out = map_slice_find(arr, st, ev->xml_in);
        }
        return IGW_OK;
    }
    if (st->mode != TM_INDEX) {
        struct rev_counter *c = counter(ev, cur, st->key);
        if (c == NULL) {
            return map_oom(ev);
        }
        i = st->mode == TM_APPEND ? c->n++ : (c->n > 0 ? c->n - 1 : 0);
    }
    if (!ev->xml_in) {
        arr = nth_member(cur, st, 0, false);
        *out = arr != NULL && arr->type == IGW_NODE_ARRAY ? igw_node_at(arr, i) : NULL;
    } else {
        *out = nth_member(cur, st, i, false);
    }
    return IGW_OK;
}

static int
read_path(struct ev *ev, const struct igw_node *cur, const struct tpath *p,
          const struct igw_node **out)
{
    for (unsigned i = 0; i < p->n && cur != NULL; i++) {
        int rv = read_step(ev, cur, &p->steps[i], &cur);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    *out = cur;
    return IGW_OK;
}

/* ---- inverting expressions --------------------------------------------------------------- */

static int rev_expr(struct ev *ev, const struct xnode *x, const struct val *v,
                    struct igw_node *out);

static int
rev_path(struct ev *ev, const struct xnode *x, const struct val *v, struct igw_node *out)
{
    struct tstep steps[64];
    unsigned n = x->path.n;
    for (unsigned i = 0; i < n; i++) {
        const struct sstep *s = &x->path.steps[i];
        memset(&steps[i], 0, sizeof(steps[i]));
        steps[i].key = s->key;
        steps[i].len = s->len;
        steps[i].attr = s->attr;
        steps[i].mode = s->has_index && s->index >= 0 ? TM_INDEX : TM_KEY;
        steps[i].index = s->has_index && s->index >= 0 ? (uint32_t)s->index : 0;
    }
    if (n == 0) {
        return map_rt_fail(ev, IGW_ETRANSLATE, "cannot write the whole input in reverse");
    }
    return map_write_path(ev, out, steps, n, v);
}

static int
rev_const(struct ev *ev, const struct xnode *x, const struct val *v)
{
    const char *s = NULL;
    uint32_t n = 0;
    if (v->kind == V_NONE || map_val_equal(v, &x->k)) {
        return IGW_OK;
    }
    if (v->kind == V_NUM && x->k.kind == V_NUM && v->n == x->k.n) {
        return IGW_OK;
    }
    map_val_str(ev, v, &s, &n);
    return map_rt_fail(ev, IGW_ETRANSLATE, "value '%.*s' differs from the constant of the rule",
                       (int)(n > 64 ? 64 : n), s != NULL ? s : "(structure)");
}

static int
rev_concat(struct ev *ev, const struct xnode *x, const struct val *v, struct igw_node *out)
{
    const struct xnode *parts[16];
    unsigned n = concat_parts(x, parts, 16, 0);
    unsigned var = 0;
    size_t pre = 0;
    size_t post = 0;
    const char *s;
    uint32_t len;
    int rv = map_val_str(ev, v, &s, &len);
    if (rv != IGW_OK || s == NULL) {
        return rv;
    }
    while (var < n && is_const(parts[var])) {
        const struct val *k = &parts[var++]->k;
        if (pre + k->len > len || memcmp(s + pre, k->s, k->len) != 0) {
            return map_rt_fail(ev, IGW_ETRANSLATE, "value does not start with \"%s\"", k->s);
        }
        pre += k->len;
    }
    for (unsigned i = n; i > var + 1; i--) {
        const struct val *k = &parts[i - 1]->k;
        if (pre + post + k->len > len || memcmp(s + len - post - k->len, k->s, k->len) != 0) {
            return map_rt_fail(ev, IGW_ETRANSLATE, "value does not end with \"%s\"", k->s);
        }
        post += k->len;
    }
    struct val mid = {.kind = V_STR, .s = s + pre, .len = (uint32_t)(len - pre - post)};
    return var < n ? rev_expr(ev, parts[var], &mid, out) : IGW_OK;
}

static int
rev_lookup(struct ev *ev, const struct xnode *x, const struct val *v, struct igw_node *out)
{
    const struct map_table *t = x->aux;
    struct igw_table_entry e;
    const char *s;
    uint32_t n;
    int rv = map_val_str(ev, v, &s, &n);
    if (rv != IGW_OK || s == NULL) {
        return rv;
    }
    if (!igw_table_lookup(t->t, true, s, n, &e)) {
        return map_rt_fail(ev, IGW_ETRANSLATE, "'%.*s' has no inverse in table '%s'",
                           (int)(n > 64 ? 64 : n), s, t->name);
    }
    struct val code = {.kind = V_STR, .s = e.code, .len = (uint32_t)e.code_len};
    return rev_expr(ev, x->args[1], &code, out);
}

static int
rev_call(struct ev *ev, const struct xnode *x, const struct val *v, struct igw_node *out)
{
    const char *f = x->fn->name;
    const struct val *sep = &x->args[x->nargs > 1 ? 1 : 0]->k;
    struct val r;
    int rv;
    if (strcmp(f, "lookup") == 0) {
        return rev_lookup(ev, x, v, out);
    }
    if (strcmp(f, "concat") == 0) {
        return rev_concat(ev, x, v, out);
    }
    if (strcmp(f, "split") == 0) {
        rv = map_join(ev, v, sep->s, sep->len, &r);
    } else if (strcmp(f, "join") == 0) {
        const char *s;
        uint32_t n;
        rv = map_val_str(ev, v, &s, &n);
        memset(&r, 0, sizeof(r));
        if (rv == IGW_OK && s != NULL) {
            rv = map_split(ev, s, n, sep->s, sep->len, &r);
        }
    } else {
        rv = map_date_reverse(ev, x, v, &r);
        if (rv == IGW_OK && r.kind == V_NONE) {
            return map_rt_fail(ev, IGW_ETRANSLATE, "value does not match the date pattern");
        }
    }
    return rv != IGW_OK ? rv : rev_expr(ev, x->args[0], &r, out);
}

static int
rev_expr(struct ev *ev, const struct xnode *x, const struct val *v, struct igw_node *out)
{
    switch (x->kind) {
    case X_CONST:
        return rev_const(ev, x, v);
    case X_PATH:
        return rev_path(ev, x, v, out);
    case X_CALL:
        return rev_call(ev, x, v, out);
    case X_BIN:
        return rev_concat(ev, x, v, out);
    case X_DEFAULT:
        return map_val_equal(v, &x->b->k) ? IGW_OK : rev_expr(ev, x->a, v, out);
    default:
        return map_rt_fail(ev, IGW_EINTERNAL, "rule cannot be inverted");
    }
}

/* ---- statements -------------------------------------------------------------------------- */

static int
rev_assign(struct ev *ev, const struct stmt *s, const struct igw_node *rin, struct igw_node *out)
{
    const struct igw_node *n = NULL;
    struct val v;
    int rv = read_path(ev, rin, &s->target, &n);
    if (rv != IGW_OK) {
        return rv;
    }
    if (n == NULL) {
        return IGW_OK; /* absent in the document: nothing to write back */
    }
    map_node_val(n, &v);
    return rev_expr(ev, s->expr, &v, out);
}

int
map_run_reverse(struct ev *ev, const struct stmt *s, const struct igw_node *rin,
                struct igw_node *out)
{
    int rv = IGW_OK;
    for (; s != NULL && rv == IGW_OK; s = s->next) {
        const struct igw_node *n = NULL;
        ev->cur = s;
        if (s->oneway) {
            continue;
        }
        switch (s->kind) {
        case S_ASSIGN:
            rv = rev_assign(ev, s, rin, out);
            break;
        case S_BLOCK:
            rv = read_path(ev, rin, &s->target, &n);
            if (rv == IGW_OK && n != NULL) {
                rv = map_run_reverse(ev, s->body, n, out);
            }
            break;
        case S_WHEN:
            rv = map_run_reverse(ev, s->body, rin, out);
            break;
        default:
            break;
        }
    }
    return rv;
}
