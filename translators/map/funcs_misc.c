/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Number, list, identity and lookup functions of the map library, and the function registry
 * used by the compiler.
 */
#include <math.h> /* isfinite only (a macro): no libm */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

static void
set_bool(struct val *out, bool b)
{
    memset(out, 0, sizeof(*out));
    out->kind = V_BOOL;
    out->b = b;
}

static struct xnode *
none_const(struct cctx *c, const struct xnode *like)
{
    struct xnode *k = igw_arena_calloc(c->a, sizeof(*k));
    if (k == NULL) {
        map_fail(c, IGW_ENOMEM, like->line, like->col, "out of memory");
        return NULL;
    }
    *k = *like;
    k->kind = X_CONST;
    k->eval = map_eval_fn(X_CONST);
    memset(&k->k, 0, sizeof(k->k));
    return k;
}

/* ---- numbers ----------------------------------------------------------------------------- */

static int
f_number(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    double d;
    IGW_UNUSED(x);
    if (args[0].kind == V_NUM) {
        *out = args[0];
        return IGW_OK;
    }
    if (args[0].kind == V_BOOL) {
        return map_num_val(ev, args[0].b ? 1 : 0, out);
    }
    return map_val_num(&args[0], &d) == IGW_OK ? map_num_val(ev, d, out) : IGW_OK;
}

static int
f_string(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const char *s;
    uint32_t n;
    int rv = map_val_str(ev, &args[0], &s, &n);
    IGW_UNUSED(x);
    if (rv != IGW_OK || s == NULL) {
        return rv;
    }
    out->kind = V_STR;
    out->s = s;
    out->len = n;
    return IGW_OK;
}

static int
f_round(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    double d;
    double digits = 0;
    if (map_val_num(&args[0], &d) != IGW_OK) {
        return IGW_OK;
    }
    if (x->nargs > 1 && map_val_num(&args[1], &digits) != IGW_OK) {
        return IGW_OK;
    }
    if (digits < 0 || digits > 15) {
        return IGW_OK;
    }
    double p = 1;
    for (int i = 0; i < (int)digits; i++) {
        p *= 10;
    }
    return map_num_val(ev, map_round(d * p) / p, out);
}

/* format(n, "000.00"): decimals = digits after '.', integer part zero-padded to the zeros before */
static int
f_format(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    double d;
    const char *pat;
    uint32_t pn;
    char buf[400];
    int rv = map_val_str(ev, &args[1], &pat, &pn);
    IGW_UNUSED(x);
    if (rv != IGW_OK || pat == NULL || map_val_num(&args[0], &d) != IGW_OK || map_fabs(d) > 1e300) {
        return rv;
    }
    const char *dot = memchr(pat, '.', pn);
    int dec = dot != NULL ? (int)(pat + pn - dot - 1) : 0;
    int width = (int)(dot != NULL ? dot - pat : pn);
    dec = dec > 20 ? 20 : dec;
    width = width > 40 ? 40 : width;
    int n = snprintf(buf, sizeof(buf), "%0*.*f", width + (dec > 0 ? dec + 1 : 0) + (d < 0), dec, d);
    if (n < 0 || (size_t)n >= sizeof(buf)) {
        return IGW_OK;
    }
    char *s = igw_arena_strndup(ev->a, buf, (size_t)n);
    if (s == NULL) {
        return map_oom(ev);
    }
    out->kind = V_STR;
    out->s = s;
    out->len = (uint32_t)n;
    return IGW_OK;
}

/* ---- lists ------------------------------------------------------------------------------- */

static int
f_count(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    struct val *items;
    uint32_t n;
    int rv = map_val_items(ev, &args[0], &items, &n);
    IGW_UNUSED(x);
    return rv != IGW_OK ? rv : map_num_val(ev, n, out);
}

static int
f_sum(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    struct val *items;
    uint32_t n;
    double total = 0;
    int rv = map_val_items(ev, &args[0], &items, &n);
    IGW_UNUSED(x);
    for (uint32_t i = 0; i < n && rv == IGW_OK; i++) {
        double d;
        if (map_val_num(&items[i], &d) != IGW_OK) {
            return IGW_OK; /* a non-number makes the sum nothing */
        }
        total += d;
    }
    return rv != IGW_OK ? rv : map_num_val(ev, total, out);
}

static int
pick(struct ev *ev, struct val *args, struct val *out, bool last)
{
    struct val *items;
    uint32_t n;
    int rv = map_val_items(ev, &args[0], &items, &n);
    if (rv == IGW_OK && n > 0) {
        *out = items[last ? n - 1 : 0];
    }
    return rv;
}

static int
f_first(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    IGW_UNUSED(x);
    return pick(ev, args, out, false);
}

static int
f_last(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    IGW_UNUSED(x);
    return pick(ev, args, out, true);
}

static int
f_distinct(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    struct val *items;
    uint32_t n;
    uint32_t k = 0;
    int rv = map_val_items(ev, &args[0], &items, &n);
    IGW_UNUSED(x);
    if (rv != IGW_OK || n == 0) {
        return rv;
    }
    struct val *res = igw_arena_alloc(ev->a, n * sizeof(*res));
    if (res == NULL) {
        return map_oom(ev);
    }
    for (uint32_t i = 0; i < n; i++) {
        bool dup = false;
        for (uint32_t j = 0; j < k && !dup; j++) {
            dup = map_val_equal(&res[j], &items[i]);
        }
        if (!dup) {
            res[k++] = items[i];
        }
    }
    out->kind = V_LIST;
    out->items = res;
    out->len = k;
    return IGW_OK;
}

static int
f_exists(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    IGW_UNUSED(ev);
    IGW_UNUSED(x);
    set_bool(out, args[0].kind != V_NONE && !(args[0].kind == V_LIST && args[0].len == 0));
    return IGW_OK;
}

static int
f_empty(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    int rv = f_exists(ev, x, args, out);
    out->b = !out->b;
    return rv;
}

/* fail(message): stops the map; the message is refused with the map's location. */
static int
f_fail(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const char *s = NULL;
    uint32_t n = 0;
    IGW_UNUSED(x);
    IGW_UNUSED(out);
    if (map_val_str(ev, &args[0], &s, &n) != IGW_OK || s == NULL) {
        s = "fail()";
        n = 6;
    }
    return map_rt_fail(ev, IGW_ETRANSLATE, "%.*s", (int)n, s);
}

/* required(value, message): the value, or fail(message) when it yields nothing. */
static int
f_required(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    struct val present;
    int rv = f_exists(ev, x, args, &present);
    if (rv != IGW_OK || !present.b) {
        return rv != IGW_OK ? rv : f_fail(ev, x, &args[1], out);
    }
    *out = args[0];
    return IGW_OK;
}

static int
f_index(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    IGW_UNUSED(args);
    return map_num_val(ev, ev->idx[x->op], out);
}

static int
check_index(struct cctx *c, struct xnode *x)
{
    const struct xnode *a = x->args[0];
    const struct scope_var *v = c->vars;
    while (v != NULL && !(a->kind == X_PATH && v->slot == a->path.slot)) {
        v = v->next;
    }
    if (a->kind != X_PATH || a->path.base != P_VAR || a->path.n != 0 || v == NULL || !v->is_loop ||
        v->slot > 255) {
        return map_fail(c, IGW_ECONFIG, a->line, a->col, "index() takes a loop variable ($v)");
    }
    x->op = (uint8_t)v->slot;
    x->args[0] = none_const(c, a);
    return x->args[0] != NULL ? IGW_OK : c->err;
}

/* ---- uuid5 ------------------------------------------------------------------------------- */

struct ns_name {
    const char *name;
    const char *uuid;
};

static const struct ns_name ns_names[] = {
    {"dns", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
    {"url", "6ba7b811-9dad-11d1-80b4-00c04fd430c8"},
    {"oid", "6ba7b812-9dad-11d1-80b4-00c04fd430c8"},
    {"x500", "6ba7b814-9dad-11d1-80b4-00c04fd430c8"},
};

static int
namespace_of(const char *s, uint32_t n, uint8_t out[16])
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(ns_names); i++) {
        if (strlen(ns_names[i].name) == n && memcmp(ns_names[i].name, s, n) == 0) {
            return map_parse_uuid(ns_names[i].uuid, 36, out);
        }
    }
    return map_parse_uuid(s, n, out);
}

static int
f_uuid5(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    uint8_t nsb[16];
    const char *ns;
    const char *name;
    uint32_t nn;
    uint32_t namen;
    char *d;
    int rv = map_val_str(ev, &args[1], &name, &namen);
    if (rv != IGW_OK || name == NULL) {
        return rv;
    }
    if (x->aux != NULL) {
        memcpy(nsb, x->aux, 16);
    } else {
        rv = map_val_str(ev, &args[0], &ns, &nn);
        if (rv != IGW_OK || ns == NULL || namespace_of(ns, nn, nsb) != IGW_OK) {
            return rv;
        }
    }
    d = igw_arena_alloc(ev->a, 37);
    if (d == NULL) {
        return map_oom(ev);
    }
    map_uuid5(nsb, name, namen, d);
    out->kind = V_STR;
    out->s = d;
    out->len = 36;
    return IGW_OK;
}

static int
check_uuid5(struct cctx *c, struct xnode *x)
{
    const struct xnode *a = x->args[0];
    uint8_t *ns;
    if (a->kind != X_CONST) {
        return IGW_OK;
    }
    ns = igw_arena_alloc(c->a, 16);
    if (ns == NULL) {
        return map_fail(c, IGW_ENOMEM, a->line, a->col, "out of memory");
    }
    if (a->k.kind != V_STR || namespace_of(a->k.s, a->k.len, ns) != IGW_OK) {
        return map_fail(c, IGW_ECONFIG, a->line, a->col,
                        "uuid5() namespace must be a UUID or dns, url, oid, x500");
    }
    x->aux = ns;
    x->args[0] = none_const(c, a);
    return x->args[0] != NULL ? IGW_OK : c->err;
}

/* ---- lookup ------------------------------------------------------------------------------ */

struct map_table *
map_table_find(struct cctx *c, const char *name)
{
    for (struct map_table *t = c->m->tables; t != NULL; t = t->next) {
        if (strcmp(t->name, name) == 0) {
            return t;
        }
    }
    return NULL;
}

enum { LK_CODE = 0, LK_SYSTEM, LK_DISPLAY };

static int
f_lookup(struct ev *ev, const struct xnode *x, struct val *args, struct val *out)
{
    const struct map_table *t = x->aux;
    struct igw_table_entry e;
    const char *s;
    uint32_t n;
    int rv = map_val_str(ev, &args[1], &s, &n);
    if (rv != IGW_OK || s == NULL || !igw_table_lookup(t->t, ev->reverse, s, n, &e)) {
        return rv;
    }
    const char *r = x->op == LK_SYSTEM ? e.system : x->op == LK_DISPLAY ? e.display : e.code;
    if (r == NULL) {
        return IGW_OK;
    }
    out->kind = V_STR;
    out->s = r;
    out->len = (uint32_t)(x->op == LK_CODE ? e.code_len : strlen(r));
    return IGW_OK;
}

static int
lookup_field(struct cctx *c, struct xnode *x)
{
    const struct xnode *f = x->args[2];
    static const char *names[] = {"code", "system", "display"};
    if (f->kind == X_CONST && f->k.kind == V_STR) {
        for (uint8_t i = 0; i < 3; i++) {
            if (strcmp(f->k.s, names[i]) == 0) {
                x->op = i;
                x->nargs = 2;
                return IGW_OK;
            }
        }
    }
    return map_fail(c, IGW_ECONFIG, f->line, f->col,
                    "lookup() field must be \"code\", \"system\" or \"display\"");
}

static int
check_lookup(struct cctx *c, struct xnode *x)
{
    const struct xnode *a = x->args[0];
    struct map_table *t = NULL;
    if (a->kind == X_PATH && a->path.base == P_CONTEXT && a->path.n == 1 &&
        !a->path.steps[0].has_index && !a->path.steps[0].attr && !a->path.steps[0].text) {
        t = map_table_find(c, a->path.steps[0].key);
    }
    if (t == NULL) {
        return map_fail(c, IGW_ECONFIG, a->line, a->col, "undeclared table '%s'",
                        a->kind == X_PATH && a->path.n > 0 ? a->path.steps[0].key : "?");
    }
    t->used = true;
    x->aux = t;
    x->args[0] = none_const(c, a);
    if (x->args[0] == NULL) {
        return c->err;
    }
    return x->nargs == 3 ? lookup_field(c, x) : IGW_OK;
}

const struct mfunc map_funcs_misc[] = {
    {"number", 1, 1, T_NUM, {0}, f_number, NULL},
    {"string", 1, 1, T_STR, {0}, f_string, NULL},
    {"round", 1, 2, T_NUM, {T_NUM, T_NUM}, f_round, NULL},
    {"format", 2, 2, T_STR, {T_NUM, T_STR}, f_format, NULL},
    {"count", 1, 1, T_NUM, {0}, f_count, NULL},
    {"sum", 1, 1, T_NUM, {0}, f_sum, NULL},
    {"first", 1, 1, T_ANY, {0}, f_first, NULL},
    {"last", 1, 1, T_ANY, {0}, f_last, NULL},
    {"distinct", 1, 1, T_LIST, {0}, f_distinct, NULL},
    {"exists", 1, 1, T_BOOL, {0}, f_exists, NULL},
    {"fail", 1, 1, T_ANY, {T_STR}, f_fail, NULL},
    {"required", 2, 2, T_ANY, {T_ANY, T_STR}, f_required, NULL},
    {"empty", 1, 1, T_BOOL, {0}, f_empty, NULL},
    {"index", 1, 1, T_NUM, {0}, f_index, check_index},
    {"uuid5", 2, 2, T_STR, {T_STR, T_STR}, f_uuid5, check_uuid5},
    {"lookup", 2, 3, T_STR, {T_ANY, T_STR, T_STR}, f_lookup, check_lookup},
    {NULL, 0, 0, 0, {0}, NULL, NULL},
};

const struct mfunc *
map_func_find(const char *name, size_t len)
{
    const struct mfunc *tables[] = {map_funcs_str, map_funcs_misc, map_funcs_date};
    for (size_t t = 0; t < IGW_ARRAY_LEN(tables); t++) {
        for (const struct mfunc *f = tables[t]; f->name != NULL; f++) {
            if (strlen(f->name) == len && memcmp(f->name, name, len) == 0) {
                return f;
            }
        }
    }
    return NULL;
}
