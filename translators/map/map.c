/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Public entry points of the mapping engine: compile, free, accessors, igw_map_apply with its
 * per-message limits, and sub-map calls.
 */
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

static void
free_tables(struct map_table *t)
{
    for (; t != NULL; t = t->next) {
        igw_table_free(t->t);
        t->t = NULL;
    }
}

void
igw_map_free(igw_map *m)
{
    if (m == NULL) {
        return;
    }
    free_tables(m->tables);
    map_free_regexes(m->regexes);
    igw_arena_free(m->plan);
    igw_free(m->name);
    igw_free(m->file);
    igw_free(m);
}

/* Allocates an empty map (name may be NULL: taken from the header). */
int
map_new_shell(igw_map **out, const char *file, const char *name)
{
    igw_map *m = IGW_NEW(igw_map);
    int rv = IGW_ENOMEM;
    if (m == NULL) {
        return IGW_ENOMEM;
    }
    m->file = igw_strdup(file != NULL ? file : "<map>");
    if (m->file == NULL || igw_arena_new(&m->plan, 0) != IGW_OK) {
        goto fail;
    }
    if (name != NULL) {
        m->name = igw_strdup(name);
        if (m->name == NULL) {
            goto fail;
        }
    }
    *out = m;
    return IGW_OK;
fail:
    igw_map_free(m);
    return rv;
}

int
igw_map_compile(igw_map **out, const char *file, const char *text, size_t len, const char *base_dir,
                const igw_map_set *set, char *errbuf, size_t errlen)
{
    igw_map *m = NULL;
    int rv;
    if (out == NULL || (text == NULL && len > 0)) {
        igw_errbuf_set(errbuf, errlen, "igw_map_compile: invalid argument");
        return IGW_EINVAL;
    }
    *out = NULL;
    rv = map_new_shell(&m, file, NULL);
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "%s: out of memory", file != NULL ? file : "<map>");
        return rv;
    }
    m->set = set;
    rv = map_compile_text(m, text != NULL ? text : "", len, base_dir, errbuf, errlen);
    if (rv != IGW_OK) {
        igw_map_free(m);
        return rv;
    }
    map_plan_scan(m);
    *out = m;
    return IGW_OK;
}

const char *
igw_map_name(const igw_map *m)
{
    return m != NULL && m->name != NULL ? m->name : "";
}

enum igw_format
igw_map_input_format(const igw_map *m)
{
    return m != NULL && m->in_fmt != IGW_FMT_NONE ? m->in_fmt : IGW_FMT_JSON;
}

enum igw_format
igw_map_output_format(const igw_map *m)
{
    return m != NULL && m->out_fmt != IGW_FMT_NONE ? m->out_fmt : IGW_FMT_JSON;
}

bool
igw_map_invertible(const igw_map *m)
{
    return m != NULL && m->compiled && m->invertible;
}

/* ---- plan scan --------------------------------------------------------------------------- */

struct plan_scan {
    igw_map *m;
    bool clock; /* a now() call or a sub-map call (which may call now()) */
    const struct xnode *paths[MAP_MEMO_MAX]; /* one per memo slot */
};

static bool
step_equal(const struct sstep *a, const struct sstep *b)
{
    return a->len == b->len && a->attr == b->attr && a->text == b->text &&
           a->has_index == b->has_index && a->index == b->index &&
           (a->key == b->key ||
            (a->key != NULL && b->key != NULL && memcmp(a->key, b->key, a->len) == 0));
}

static bool
path_equal(const struct spath *a, const struct spath *b)
{
    if (a->base != b->base || a->n != b->n) {
        return false;
    }
    for (unsigned i = 0; i < a->n; i++) {
        if (!step_equal(&a->steps[i], &b->steps[i])) {
            return false;
        }
    }
    return true;
}

/* A context or $root path below the start gets the slot of an equal one seen before, or a new
 * one while there are slots left. */
static void
scan_path(struct plan_scan *ps, struct xnode *x)
{
    if (x->path.base == P_VAR || x->path.n == 0) {
        return;
    }
    for (unsigned i = 0; i < ps->m->nmemo; i++) {
        if (path_equal(&ps->paths[i]->path, &x->path)) {
            x->memo = i + 1;
            return;
        }
    }
    if (ps->m->nmemo < MAP_MEMO_MAX) {
        ps->paths[ps->m->nmemo++] = x;
        x->memo = ps->m->nmemo;
    }
}

static void
scan_expr(struct plan_scan *ps, struct xnode *x)
{
    if (x == NULL) {
        return;
    }
    if (x->kind == X_PATH) {
        scan_path(ps, x);
    }
    if (x->kind == X_SUBMAP || (x->kind == X_CALL && strcmp(x->fn->name, "now") == 0)) {
        ps->clock = true;
    }
    for (unsigned i = 0; i < x->nargs; i++) {
        scan_expr(ps, x->args[i]);
    }
    scan_expr(ps, x->a);
    scan_expr(ps, x->b);
    scan_expr(ps, x->c);
}

static void
scan_stmts(struct plan_scan *ps, struct stmt *s)
{
    for (; s != NULL; s = s->next) {
        scan_expr(ps, s->expr);
        scan_stmts(ps, s->body);
        scan_stmts(ps, s->els);
    }
}

void
map_plan_scan(igw_map *m)
{
    struct plan_scan ps = {.m = m};
    m->nmemo = 0;
    scan_stmts(&ps, m->body);
    m->no_clock = !ps.clock;
    m->scanned = true;
}

/* ---- apply ------------------------------------------------------------------------------- */

static int
frame_new(struct ev *ev, const igw_map *m)
{
    size_t n = m->nslots > 0 ? m->nslots : 1;
    ev->vars = igw_arena_calloc(ev->a, n * sizeof(*ev->vars));
    ev->idx = igw_arena_calloc(ev->a, n * sizeof(*ev->idx));
    ev->memo = NULL;
    if (m->nmemo > 0 && !ev->reverse) {
        ev->memo = igw_arena_calloc(ev->a, m->nmemo * sizeof(*ev->memo));
        if (ev->memo == NULL) {
            return map_oom(ev);
        }
    }
    return ev->vars == NULL || ev->idx == NULL ? map_oom(ev) : IGW_OK;
}

static void
set_limits(struct ev *ev, const struct igw_map_limits *lim)
{
    unsigned d = lim != NULL && lim->max_depth > 0 ? lim->max_depth : 64;
    ev->max_depth = d > MAP_HARD_DEPTH ? MAP_HARD_DEPTH : d;
    ev->max_iters = lim != NULL && lim->max_iterations > 0 ? lim->max_iterations : 1000000;
    ev->max_nodes = lim != NULL && lim->max_output_nodes > 0 ? lim->max_output_nodes : 1000000;
    if (lim != NULL && lim->now_ms > 0) {
        ev->now_ms = lim->now_ms;
    } else {
        /* read only by now(): maps known not to call it skip the clock */
        ev->now_ms = ev->m->scanned && ev->m->no_clock ? 0 : igw_now_ms();
    }
}

/* CSV output is an array of records: a root holding one array is that array, else one record */
static int
csv_shape(struct ev *ev, struct igw_node **root)
{
    struct igw_node *r = *root;
    struct igw_node *arr;
    if (r->count == 1 && r->first->type == IGW_NODE_ARRAY) {
        arr = r->first;
        arr->parent = NULL;
        arr->key = NULL;
        arr->key_len = 0;
        arr->next = NULL;
        *root = arr;
        return IGW_OK;
    }
    arr = map_onode(ev, IGW_NODE_ARRAY);
    if (arr == NULL) {
        return ev->nodes >= ev->max_nodes ? IGW_ELIMIT : IGW_ENOMEM;
    }
    arr->first = r;
    arr->last = r;
    arr->count = 1;
    r->parent = arr;
    *root = arr;
    return IGW_OK;
}

int
igw_map_apply(const igw_map *m, bool reverse, igw_arena *a, const struct igw_node *in,
              const struct igw_map_limits *lim, struct igw_node **out, char *errbuf, size_t errlen)
{
    struct ev ev = {.m = m, .a = a, .root = in, .ctx = in, .errbuf = errbuf, .errlen = errlen};
    struct igw_node *root;
    int rv;

    if (m == NULL || a == NULL || in == NULL || out == NULL || !m->compiled) {
        igw_errbuf_set(errbuf, errlen, "igw_map_apply: invalid argument");
        return IGW_EINVAL;
    }
    *out = NULL;
    if (reverse && !m->invertible) {
        igw_errbuf_set(errbuf, errlen, "%s: map '%s' is not invertible (see igw map lint)", m->file,
                       igw_map_name(m));
        return IGW_EINVAL;
    }
    set_limits(&ev, lim);
    ev.reverse = reverse;
    ev.xml_out = (reverse ? m->in_fmt : m->out_fmt) == IGW_FMT_XML;
    ev.xml_in = reverse && m->out_fmt == IGW_FMT_XML;
    rv = frame_new(&ev, m);
    root = rv == IGW_OK ? map_onode(&ev, IGW_NODE_OBJECT) : NULL;
    if (root == NULL) {
        return rv != IGW_OK ? rv : IGW_ENOMEM;
    }
    if (reverse) {
        rv = map_run_reverse(&ev, m->body, in, root);
    } else {
        rv = map_run(&ev, m->body, root);
    }
    if (rv == IGW_OK && (reverse ? m->in_fmt : m->out_fmt) == IGW_FMT_CSV) {
        rv = csv_shape(&ev, &root);
    }
    if (rv == IGW_OK) {
        *out = root;
    }
    return rv;
}

/* Runs callee on the value in (a node, or a scalar turned into one) and yields its output. */
int
map_call_submap(struct ev *ev, const igw_map *callee, const struct val *in, struct val *out)
{
    struct ev saved = *ev;
    struct igw_node *root = NULL;
    const struct igw_node *src = in->node;
    int rv;

    memset(out, 0, sizeof(*out));
    if (in->kind == V_NONE) {
        return IGW_OK;
    }
    if (callee == NULL || !callee->compiled) {
        return map_rt_fail(ev, IGW_ETRANSLATE, "sub-map '%s' did not compile",
                           callee != NULL ? igw_map_name(callee) : "?");
    }
    if (ev->depth + 1 > ev->max_depth) {
        return map_rt_fail(ev, IGW_ELIMIT, "depth limit %u exceeded (sub-map calls)",
                           ev->max_depth);
    }
    if (src == NULL || in->kind == V_LIST) {
        struct igw_node *n = NULL;
        rv = map_val_node(ev, in, &n);
        if (rv != IGW_OK) {
            return rv;
        }
        src = n;
    }
    ev->m = callee;
    ev->root = src;
    ev->ctx = src;
    ev->ctxv = NULL;
    ev->cur = NULL;
    ev->depth++;
    ev->xml_out = callee->out_fmt == IGW_FMT_XML;
    rv = frame_new(ev, callee);
    root = rv == IGW_OK ? map_onode(ev, IGW_NODE_OBJECT) : NULL;
    if (rv == IGW_OK && root == NULL) {
        rv = ev->nodes >= ev->max_nodes ? IGW_ELIMIT : IGW_ENOMEM;
    }
    if (rv == IGW_OK) {
        rv = map_run(ev, callee->body, root);
    }
    saved.iters = ev->iters;
    saved.nodes = ev->nodes;
    *ev = saved;
    if (rv != IGW_OK) {
        return rv;
    }
    out->kind = V_NODE;
    out->node = root;
    out->fresh = true;
    return IGW_OK;
}
