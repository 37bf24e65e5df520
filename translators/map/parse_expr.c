/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Expression compiler: a precedence-climbing parser that directly emits plan nodes (struct
 * xnode) with their evaluator bound, paths split into steps, variables resolved to slots,
 * functions bound to their C implementation and static types checked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

static int parse_default(struct cctx *c, struct xnode **out);

static const struct token *
peek(struct cctx *c)
{
    return &c->t[c->pos];
}

static const struct token *
next(struct cctx *c)
{
    const struct token *t = &c->t[c->pos];
    if (t->kind != TK_EOF) {
        c->pos++;
    }
    return t;
}

static void
skip_nl(struct cctx *c)
{
    while (peek(c)->kind == TK_NL) {
        c->pos++;
    }
}

bool
map_tok_is(const struct token *t, const char *word)
{
    return t->kind == TK_IDENT && !t->quoted && strcmp(t->text, word) == 0;
}

static int
fail_at(struct cctx *c, const struct token *t, const char *msg)
{
    return map_fail(c, IGW_EPARSE, t->line, t->col, "%s", msg);
}

struct xnode *
map_xnode(struct cctx *c, uint8_t kind, const struct token *t)
{
    struct xnode *x = igw_arena_calloc(c->a, sizeof(*x));
    if (x == NULL) {
        map_fail(c, IGW_ENOMEM, t->line, t->col, "out of memory");
        return NULL;
    }
    x->kind = kind;
    x->line = t->line;
    x->col = t->col;
    x->eval = map_eval_fn(kind);
    return x;
}

static const char *
type_name(uint8_t t)
{
    static const char *names[] = {"value", "string", "number", "boolean", "null", "list", "object"};
    return t < IGW_ARRAY_LEN(names) ? names[t] : "value";
}

/* ---- primaries --------------------------------------------------------------------------- */

static int
parse_const(struct cctx *c, const struct token *t, struct xnode **out)
{
    struct xnode *x = map_xnode(c, X_CONST, t);
    if (x == NULL) {
        return c->err;
    }
    if (t->kind == TK_STRING) {
        x->k.kind = V_STR;
        x->k.s = t->text;
        x->k.len = t->len;
        x->type = T_STR;
    } else if (t->kind == TK_NUMBER) {
        char *end = NULL;
        x->k.kind = V_NUM;
        x->k.n = strtod(t->text, &end);
        x->k.s = t->text;
        x->k.len = t->len;
        x->type = T_NUM;
    } else if (map_tok_is(t, "null")) {
        x->k.kind = V_NULL;
        x->type = T_NULL;
    } else {
        x->k.kind = V_BOOL;
        x->k.b = map_tok_is(t, "true");
        x->type = T_BOOL;
    }
    *out = x;
    return IGW_OK;
}

static struct scope_var *
find_var(struct cctx *c, const char *name)
{
    for (struct scope_var *v = c->vars; v != NULL; v = v->next) {
        if (strcmp(v->name, name) == 0) {
            return v;
        }
    }
    return NULL;
}

static int
parse_index(struct cctx *c, struct sstep *st)
{
    const struct token *t;
    bool neg = false;
    next(c); /* [ */
    t = next(c);
    if (t->kind == TK_MINUS) {
        neg = true;
        t = next(c);
    }
    if (t->kind != TK_NUMBER || strchr(t->text, '.') != NULL || strchr(t->text, 'e') != NULL ||
        t->len > 9) {
        return fail_at(c, t, "expected an integer index");
    }
    st->has_index = true;
    st->index = (int32_t)strtol(t->text, NULL, 10) * (neg ? -1 : 1);
    if (next(c)->kind != TK_RBRACK) {
        return fail_at(c, &c->t[c->pos - 1], "expected ']'");
    }
    return IGW_OK;
}

static int
parse_sstep(struct cctx *c, const struct token *t, struct sstep *st)
{
    memset(st, 0, sizeof(*st));
    if (t->kind == TK_IDENT) {
        st->key = map_intern(c, t->text, t->len);
        st->len = t->len;
    } else if (t->kind == TK_AT) {
        st->key = map_intern(c, t->text, t->len);
        st->len = t->len;
        st->attr = true;
    } else if (t->kind == TK_HASHTEXT) {
        st->key = map_intern(c, "#text", 5);
        st->len = 5;
        st->text = true;
    } else {
        return fail_at(c, t, "expected a path step");
    }
    if (st->key == NULL) {
        return c->err;
    }
    if (peek(c)->kind == TK_LBRACK) {
        return parse_index(c, st);
    }
    return IGW_OK;
}

/* Collects the steps of a path (the first, already consumed, is `first` unless it was a $). */
static int
parse_steps(struct cctx *c, const struct token *first, struct spath *p)
{
    struct sstep steps[64];
    unsigned n = 0;
    int rv;

    if (first != NULL) {
        rv = parse_sstep(c, first, &steps[n++]);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    while (peek(c)->kind == TK_DOT || (n == 0 && peek(c)->kind == TK_LBRACK)) {
        if (peek(c)->kind == TK_LBRACK) {
            return fail_at(c, peek(c), "index a variable through a step: $v.key[0]");
        }
        next(c);
        if (n == IGW_ARRAY_LEN(steps)) {
            return fail_at(c, peek(c), "path too long");
        }
        rv = parse_sstep(c, next(c), &steps[n++]);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    p->n = n;
    p->steps = igw_arena_alloc(c->a, (n ? n : 1) * sizeof(*steps));
    if (p->steps == NULL) {
        return map_fail(c, IGW_ENOMEM, first ? first->line : 0, 0, "out of memory");
    }
    memcpy(p->steps, steps, n * sizeof(*steps));
    return IGW_OK;
}

static int
parse_dollar(struct cctx *c, const struct token *t, struct xnode **out)
{
    struct xnode *x = map_xnode(c, X_PATH, t);
    struct scope_var *v = NULL;
    if (x == NULL) {
        return c->err;
    }
    if (t->len == 0) {
        x->path.base = P_CONTEXT;
    } else if (strcmp(t->text, "root") == 0) {
        x->path.base = P_ROOT;
    } else {
        v = find_var(c, t->text);
        if (v == NULL) {
            return map_fail(c, IGW_ECONFIG, t->line, t->col, "undeclared variable '$%s'", t->text);
        }
        v->used = true;
        x->path.base = P_VAR;
        x->path.slot = v->slot;
        x->name = v->name;
    }
    int rv = parse_steps(c, NULL, &x->path);
    if (rv != IGW_OK) {
        return rv;
    }
    if (v != NULL && v->konst != NULL && x->path.n == 0) {
        *x = *v->konst; /* fold a constant variable, keeping this use's position */
        x->line = t->line;
        x->col = t->col;
    } else {
        x->type = T_ANY;
    }
    *out = x;
    return IGW_OK;
}

static int
parse_path(struct cctx *c, const struct token *t, struct xnode **out)
{
    struct xnode *x = map_xnode(c, X_PATH, t);
    if (x == NULL) {
        return c->err;
    }
    x->path.base = P_CONTEXT;
    x->type = T_ANY;
    *out = x;
    return parse_steps(c, t, &x->path);
}

static int
parse_args(struct cctx *c, struct xnode *x)
{
    struct xnode *args[MAP_MAX_ARGS];
    unsigned n = 0;
    int rv;
    next(c); /* ( */
    skip_nl(c);
    while (peek(c)->kind != TK_RPAREN) {
        if (n == MAP_MAX_ARGS) {
            return fail_at(c, peek(c), "too many arguments");
        }
        rv = parse_default(c, &args[n++]);
        if (rv != IGW_OK) {
            return rv;
        }
        skip_nl(c);
        if (peek(c)->kind == TK_COMMA) {
            next(c);
            skip_nl(c);
        } else if (peek(c)->kind != TK_RPAREN) {
            return fail_at(c, peek(c), "expected ',' or ')'");
        }
    }
    next(c);
    x->nargs = n;
    x->args = igw_arena_alloc(c->a, (n ? n : 1) * sizeof(*args));
    if (x->args == NULL) {
        return map_fail(c, IGW_ENOMEM, x->line, x->col, "out of memory");
    }
    memcpy(x->args, args, n * sizeof(*args));
    return IGW_OK;
}

static int
check_arg_types(struct cctx *c, struct xnode *x)
{
    const struct mfunc *f = x->fn;
    for (unsigned i = 0; i < x->nargs && i < MAP_MAX_ARGS; i++) {
        uint8_t want = f->argtype[i];
        uint8_t got = x->args[i]->type;
        if (want == T_ANY || got == T_ANY || got == want || got == T_LIST || got == T_NODE) {
            continue;
        }
        if (want == T_STR && got == T_NUM && x->args[i]->kind != X_CONST) {
            continue; /* computed numbers print as text */
        }
        return map_fail(c, IGW_ECONFIG, x->args[i]->line, x->args[i]->col,
                        "argument %u of %s() must be a %s, not a %s", i + 1, f->name,
                        type_name(want), type_name(got));
    }
    return IGW_OK;
}

static int
parse_func(struct cctx *c, const struct token *t, struct xnode **out)
{
    const struct mfunc *f = map_func_find(t->text, t->len);
    struct xnode *x;
    int rv;
    if (f == NULL && !map_tok_is(t, "iif")) {
        return map_fail(c, IGW_ECONFIG, t->line, t->col, "unknown function '%s'", t->text);
    }
    x = map_xnode(c, f == NULL ? X_IIF : X_CALL, t);
    if (x == NULL) {
        return c->err;
    }
    x->fn = f;
    x->name = t->text;
    rv = parse_args(c, x);
    if (rv != IGW_OK) {
        return rv;
    }
    if (f == NULL) {
        if (x->nargs != 3) {
            return map_fail(c, IGW_ECONFIG, t->line, t->col, "iif() takes 3 arguments");
        }
        x->a = x->args[0];
        x->b = x->args[1];
        x->c = x->args[2];
        *out = x;
        return IGW_OK;
    }
    if (x->nargs < f->min_args || x->nargs > f->max_args) {
        return map_fail(c, IGW_ECONFIG, t->line, t->col, "%s() takes %u to %u arguments, not %u",
                        f->name, f->min_args, f->max_args, x->nargs);
    }
    x->type = f->ret;
    rv = check_arg_types(c, x);
    if (rv == IGW_OK && f->check != NULL) {
        rv = f->check(c, x);
    }
    *out = x;
    return rv;
}

static const igw_map *
find_callee(struct cctx *c, const char *name)
{
    const struct igw_map_set *s = c->m->pending != NULL ? c->m->pending : c->m->set;
    if (s == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->maps[i] != NULL && strcmp(s->maps[i]->name, name) == 0) {
            return s->maps[i];
        }
    }
    return NULL;
}

static int
parse_submap(struct cctx *c, const struct token *t, struct xnode **out)
{
    const struct token *n = next(c);
    struct xnode *x = map_xnode(c, X_SUBMAP, t);
    if (x == NULL) {
        return c->err;
    }
    if (n->kind != TK_NAME) {
        return fail_at(c, n, "expected a map name after 'call'");
    }
    x->aux = (void *)(uintptr_t)find_callee(c, n->text);
    x->name = n->text;
    if (x->aux == NULL) {
        return map_fail(c, IGW_ECONFIG, n->line, n->col, "unknown map '%s'", n->text);
    }
    if (peek(c)->kind != TK_LPAREN) {
        return fail_at(c, peek(c), "expected '(' after the map name");
    }
    int rv = parse_args(c, x);
    if (rv == IGW_OK && x->nargs != 1) {
        return map_fail(c, IGW_ECONFIG, t->line, t->col, "call %s() takes one argument", n->text);
    }
    x->a = x->nargs == 1 ? x->args[0] : NULL;
    x->type = T_NODE;
    *out = x;
    return rv;
}

static int
parse_paren(struct cctx *c, struct xnode **out)
{
    skip_nl(c);
    int rv = parse_default(c, out);
    if (rv != IGW_OK) {
        return rv;
    }
    skip_nl(c);
    if (next(c)->kind != TK_RPAREN) {
        return fail_at(c, &c->t[c->pos - 1], "expected ')'");
    }
    return IGW_OK;
}

static bool
is_const_word(const struct token *t)
{
    return map_tok_is(t, "true") || map_tok_is(t, "false") || map_tok_is(t, "null");
}

static int
parse_primary(struct cctx *c, struct xnode **out)
{
    const struct token *t = next(c);
    switch (t->kind) {
    case TK_STRING:
    case TK_NUMBER:
        return parse_const(c, t, out);
    case TK_LPAREN:
        return parse_paren(c, out);
    case TK_DOLLAR:
        return parse_dollar(c, t, out);
    case TK_AT:
    case TK_HASHTEXT:
        return parse_path(c, t, out);
    case TK_IDENT:
        if (is_const_word(t)) {
            return parse_const(c, t, out);
        }
        if (map_tok_is(t, "call")) {
            return parse_submap(c, t, out);
        }
        if (peek(c)->kind == TK_LPAREN && !t->quoted) {
            return parse_func(c, t, out);
        }
        return parse_path(c, t, out);
    default:
        return fail_at(c, t, "expected an expression");
    }
}

/* ---- operators --------------------------------------------------------------------------- */

static int parse_unary(struct cctx *c, struct xnode **out);
static int parse_binary(struct cctx *c, unsigned minprec, struct xnode **out);

static int
check_arith(struct cctx *c, const struct xnode *x, const struct xnode *o)
{
    if (o->type == T_ANY || o->type == T_NUM) {
        return IGW_OK;
    }
    return map_fail(c, IGW_ECONFIG, o->line, o->col, "arithmetic on a %s%s", type_name(o->type),
                    o->kind == X_CONST ? " constant" : "");
    IGW_UNUSED(x);
}

static int
make_bin(struct cctx *c, const struct token *t, uint8_t op, struct xnode *l, struct xnode *r,
         struct xnode **out)
{
    struct xnode *x = map_xnode(c, X_BIN, t);
    int rv = IGW_OK;
    if (x == NULL) {
        return c->err;
    }
    x->op = op;
    x->a = l;
    x->b = r;
    if (op == B_ADD && (l->type == T_STR || r->type == T_STR)) {
        x->type = T_STR; /* concatenation */
    } else if (op >= B_ADD && op <= B_MOD) {
        rv = check_arith(c, x, l);
        if (rv == IGW_OK) {
            rv = check_arith(c, x, r);
        }
        x->type = (l->type == T_NUM && r->type == T_NUM) ? T_NUM : T_ANY;
    } else {
        x->type = T_BOOL;
    }
    *out = x;
    return rv;
}

static int
parse_unary(struct cctx *c, struct xnode **out)
{
    const struct token *t = peek(c);
    int rv;
    if (++c->nest > MAP_MAX_NEST) {
        return fail_at(c, t, "expression nested too deeply");
    }
    if (t->kind == TK_MINUS || map_tok_is(t, "not")) {
        struct xnode *x;
        next(c);
        x = map_xnode(c, t->kind == TK_MINUS ? X_NEG : X_NOT, t);
        if (x == NULL) {
            return c->err;
        }
        if (x->kind == X_NEG) {
            rv = parse_unary(c, &x->a);
        } else {
            rv = parse_binary(c, 3, &x->a); /* not a == b is not (a == b) */
        }
        if (rv == IGW_OK && x->kind == X_NEG) {
            rv = check_arith(c, x, x->a);
        }
        x->type = x->kind == X_NEG ? T_NUM : T_BOOL;
        *out = x;
    } else {
        rv = parse_primary(c, out);
    }
    c->nest--;
    return rv;
}

struct opinfo {
    uint8_t tok;
    const char *word;
    uint8_t op;
    uint8_t prec;
};

static const struct opinfo ops[] = {
    {TK_IDENT, "or", B_OR, 1},    {TK_IDENT, "and", B_AND, 2}, {TK_EQ, NULL, B_EQ, 3},
    {TK_NE, NULL, B_NE, 3},       {TK_LT, NULL, B_LT, 3},      {TK_LE, NULL, B_LE, 3},
    {TK_GT, NULL, B_GT, 3},       {TK_GE, NULL, B_GE, 3},      {TK_PLUS, NULL, B_ADD, 4},
    {TK_MINUS, NULL, B_SUB, 4},   {TK_STAR, NULL, B_MUL, 5},   {TK_SLASH, NULL, B_DIV, 5},
    {TK_PERCENT, NULL, B_MOD, 5},
};

static const struct opinfo *
find_op(const struct token *t)
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(ops); i++) {
        if (ops[i].tok != t->kind) {
            continue;
        }
        if (ops[i].word == NULL || map_tok_is(t, ops[i].word)) {
            return &ops[i];
        }
    }
    return NULL;
}

static int
parse_binary(struct cctx *c, unsigned minprec, struct xnode **out)
{
    struct xnode *l = NULL;
    int rv = parse_unary(c, &l);
    while (rv == IGW_OK) {
        const struct token *t = peek(c);
        const struct opinfo *op = find_op(t);
        struct xnode *r = NULL;
        if (op == NULL || op->prec < minprec) {
            break;
        }
        next(c);
        skip_nl(c);
        if (++c->nest > MAP_MAX_NEST) {
            return fail_at(c, t, "expression nested too deeply");
        }
        rv = parse_binary(c, op->prec + 1u, &r);
        c->nest--;
        if (rv == IGW_OK) {
            rv = make_bin(c, t, op->op, l, r, &l);
        }
        if (rv == IGW_OK && op->prec == 3 && find_op(peek(c)) != NULL &&
            find_op(peek(c))->prec == 3) {
            return fail_at(c, peek(c), "comparisons do not chain; use 'and'");
        }
    }
    *out = l;
    return rv;
}

static int
parse_default(struct cctx *c, struct xnode **out)
{
    struct xnode *l = NULL;
    int rv = parse_binary(c, 1, &l);
    while (rv == IGW_OK && peek(c)->kind == TK_QQ) {
        const struct token *t = next(c);
        struct xnode *x = map_xnode(c, X_DEFAULT, t);
        if (x == NULL) {
            return c->err;
        }
        skip_nl(c);
        x->a = l;
        rv = parse_binary(c, 1, &x->b);
        x->type = (rv == IGW_OK && l->type == x->b->type) ? l->type : T_ANY;
        l = x;
    }
    *out = l;
    return rv;
}

int
map_parse_expr(struct cctx *c, struct xnode **out)
{
    return parse_default(c, out);
}
