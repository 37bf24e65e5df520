/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Statement compiler: the map header, declarations (table, let, schema) and rules (assignments,
 * target blocks, when/if/else, for) compiled into linked statement lists of the plan.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

static int parse_list(struct cctx *c, struct stmt **out, bool top);

int
map_fail(struct cctx *c, int err, unsigned line, unsigned col, const char *fmt, ...)
{
    char msg[IGW_ERRBUF_SIZE];
    va_list ap;
    if (c->err != IGW_OK) {
        return c->err;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->rule != NULL) {
        igw_errbuf_set(c->errbuf, c->errlen, "%s:%u:%u: rule '%s': %s", c->file, line, col, c->rule,
                       msg);
    } else {
        igw_errbuf_set(c->errbuf, c->errlen, "%s:%u:%u: %s", c->file, line, col, msg);
    }
    c->err = err;
    return err;
}

const char *
map_intern(struct cctx *c, const char *s, size_t len)
{
    struct istr *i;
    for (i = c->interned; i != NULL; i = i->next) {
        if (i->len == len && memcmp(i->s, s, len) == 0) {
            return i->s;
        }
    }
    i = igw_arena_alloc(c->a, sizeof(*i));
    char *d = igw_arena_strndup(c->a, s, len);
    if (i == NULL || d == NULL) {
        map_fail(c, IGW_ENOMEM, 0, 0, "out of memory");
        return NULL;
    }
    i->s = d;
    i->len = (uint32_t)len;
    i->next = c->interned;
    c->interned = i;
    return d;
}

static const struct token *
peek(struct cctx *c)
{
    return &c->t[c->pos];
}

static const struct token *
peek2(struct cctx *c)
{
    return c->pos + 1 < c->nt ? &c->t[c->pos + 1] : &c->t[c->nt - 1];
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

static int
expect(struct cctx *c, uint8_t kind, const char *what)
{
    const struct token *t = next(c);
    if (t->kind != kind) {
        return map_fail(c, IGW_EPARSE, t->line, t->col, "expected %s", what);
    }
    return IGW_OK;
}

static struct stmt *
new_stmt(struct cctx *c, uint8_t kind, const struct token *t)
{
    struct stmt *s = igw_arena_calloc(c->a, sizeof(*s));
    if (s == NULL) {
        map_fail(c, IGW_ENOMEM, t->line, t->col, "out of memory");
        return NULL;
    }
    s->kind = kind;
    s->line = t->line;
    s->col = t->col;
    s->label = c->rule != NULL ? c->rule : "";
    s->slot = -1;
    return s;
}

/* A statement keyword is a word not followed by what makes it a target path. */
static bool
is_keyword(struct cctx *c, const char *word)
{
    uint8_t k = peek2(c)->kind;
    return map_tok_is(peek(c), word) && k != TK_ASSIGN && k != TK_DOT && k != TK_LBRACK &&
           k != TK_LBRACE;
}

/* ---- header and declarations ------------------------------------------------------------- */

static int
parse_format(struct cctx *c, enum igw_format *f)
{
    const struct token *t = next(c);
    if (t->kind == TK_IDENT) {
        *f = igw_format_parse(t->text);
    }
    if (t->kind != TK_IDENT || *f == IGW_FMT_NONE) {
        return map_fail(c, IGW_EPARSE, t->line, t->col, "expected json, xml or csv");
    }
    return IGW_OK;
}

static int
parse_header(struct cctx *c)
{
    const struct token *t = next(c); /* map */
    const struct token *n = next(c);
    int rv = IGW_OK;
    if (n->kind != TK_NAME) {
        return map_fail(c, IGW_EPARSE, n->line, n->col, "expected a map name");
    }
    if (c->m->name != NULL && strcmp(c->m->name, n->text) != 0) {
        return map_fail(c, IGW_ECONFIG, n->line, n->col, "map name '%s' expected", c->m->name);
    }
    if (c->m->name == NULL) {
        c->m->name = igw_strdup(n->text);
        if (c->m->name == NULL) {
            return map_fail(c, IGW_ENOMEM, t->line, t->col, "out of memory");
        }
    }
    if (map_tok_is(peek(c), "from")) {
        next(c);
        rv = parse_format(c, &c->m->in_fmt);
    }
    if (rv == IGW_OK && map_tok_is(peek(c), "to")) {
        next(c);
        rv = parse_format(c, &c->m->out_fmt);
    }
    return rv;
}

static int
parse_table(struct cctx *c)
{
    const struct token *t = next(c);
    const struct token *n = next(c);
    const struct token *f;
    char path[1024];
    char err[IGW_ERRBUF_SIZE];
    int rv;

    if (n->kind != TK_IDENT || expect(c, TK_ASSIGN, "'='") != IGW_OK) {
        return map_fail(c, IGW_EPARSE, n->line, n->col, "expected: table <name> = \"file\"");
    }
    f = next(c);
    if (f->kind != TK_STRING) {
        return map_fail(c, IGW_EPARSE, f->line, f->col, "expected the table file as a string");
    }
    if (map_table_find(c, n->text) != NULL) {
        return map_fail(c, IGW_ECONFIG, n->line, n->col, "table '%s' declared twice", n->text);
    }
    struct map_table *mt = igw_arena_calloc(c->a, sizeof(*mt));
    if (mt == NULL) {
        return map_fail(c, IGW_ENOMEM, t->line, t->col, "out of memory");
    }
    if (f->text[0] == '/' || c->base_dir == NULL) {
        snprintf(path, sizeof(path), "%s", f->text);
    } else {
        snprintf(path, sizeof(path), "%s/%s", c->base_dir, f->text);
    }
    rv = igw_table_load(&mt->t, path, err, sizeof(err));
    if (rv != IGW_OK) {
        return map_fail(c, rv == IGW_ENOMEM ? rv : IGW_ECONFIG, f->line, f->col, "table '%s': %s",
                        n->text, err);
    }
    mt->name = n->text;
    mt->line = n->line;
    mt->col = n->col;
    mt->next = c->m->tables;
    c->m->tables = mt;
    return IGW_OK;
}

static struct scope_var *
declare(struct cctx *c, const struct token *n, bool loop)
{
    struct scope_var *v = igw_arena_calloc(c->a, sizeof(*v));
    if (v == NULL) {
        map_fail(c, IGW_ENOMEM, n->line, n->col, "out of memory");
        return NULL;
    }
    if (strcmp(n->text, "root") == 0) {
        map_fail(c, IGW_ECONFIG, n->line, n->col, "'root' is reserved ($root is the input)");
        return NULL;
    }
    v->name = n->text;
    v->slot = (int)c->m->nslots++;
    v->is_loop = loop;
    v->line = n->line;
    v->col = n->col;
    v->next = c->vars;
    c->vars = v;
    return v;
}

static int
parse_let(struct cctx *c, struct stmt **out)
{
    const struct token *t = next(c);
    const struct token *n = next(c);
    struct stmt *s;
    struct xnode *x = NULL;
    int rv;

    if (n->kind != TK_IDENT && n->kind != TK_DOLLAR) {
        return map_fail(c, IGW_EPARSE, n->line, n->col, "expected: let <name> = expression");
    }
    rv = expect(c, TK_ASSIGN, "'='");
    if (rv == IGW_OK) {
        rv = map_parse_expr(c, &x);
    }
    s = rv == IGW_OK ? new_stmt(c, S_LET, t) : NULL;
    if (s == NULL) {
        return c->err;
    }
    struct scope_var *v = declare(c, n, false);
    if (v == NULL) {
        return c->err;
    }
    v->konst = x->kind == X_CONST ? x : NULL;
    s->expr = x;
    s->slot = v->slot;
    s->label = v->name;
    *out = s;
    return IGW_OK;
}

/* ---- target paths ------------------------------------------------------------------------ */

struct tbuild {
    struct tstep steps[64];
    unsigned n;
    char label[1024];
    char norm[1024];
};

static void
tb_append(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst);
    snprintf(dst + n, cap - n, "%s", s);
}

/* `[a.b[0].c = const]` after '[': a discriminator path of keys and indexes, '=' and a
 * constant (a literal or a `let` bound to one). */
static int
parse_slice(struct cctx *c, struct tstep *st, struct tbuild *b)
{
    struct tstep sel[16];
    uint32_t n = 0;
    const struct token *t;
    const struct token *first = peek(c);
    struct xnode *x = NULL;
    struct tstep *steps;
    struct val *v;
    int rv;

    tb_append(b->label, sizeof(b->label), "[");
    for (;;) {
        t = next(c);
        if ((t->kind != TK_IDENT && t->kind != TK_AT && t->kind != TK_HASHTEXT) ||
            n == IGW_ARRAY_LEN(sel)) {
            return map_fail(c, IGW_EPARSE, t->line, t->col,
                            "expected a discriminator path: [key.key = value]");
        }
        memset(&sel[n], 0, sizeof(sel[n]));
        sel[n].key = map_intern(c, t->text, t->len);
        sel[n].len = t->len;
        sel[n].attr = t->kind == TK_AT;
        if (sel[n].key == NULL) {
            return c->err;
        }
        tb_append(b->label, sizeof(b->label), n > 0 ? "." : "");
        tb_append(b->label, sizeof(b->label), sel[n].attr ? "@" : "");
        tb_append(b->label, sizeof(b->label), t->text);
        if (peek(c)->kind == TK_LBRACK) {
            next(c);
            t = next(c);
            if (t->kind != TK_NUMBER || strspn(t->text, "0123456789") != t->len || t->len >= 7) {
                return map_fail(c, IGW_EPARSE, t->line, t->col,
                                "a discriminator path takes only [n] indexes");
            }
            sel[n].mode = TM_INDEX;
            sel[n].index = (uint32_t)strtoul(t->text, NULL, 10);
            tb_append(b->label, sizeof(b->label), "[");
            tb_append(b->label, sizeof(b->label), t->text);
            tb_append(b->label, sizeof(b->label), "]");
            rv = expect(c, TK_RBRACK, "']'");
            if (rv != IGW_OK) {
                return rv;
            }
        }
        n++;
        if (peek(c)->kind != TK_DOT) {
            break;
        }
        next(c);
    }
    t = next(c);
    if (t->kind != TK_ASSIGN && t->kind != TK_EQ) {
        return map_fail(c, IGW_EPARSE, first->line, first->col,
                        "expected [n], [+], [=] or [key = value]");
    }
    t = peek(c);
    rv = map_parse_expr(c, &x);
    if (rv != IGW_OK) {
        return rv;
    }
    if (x->kind != X_CONST || x->k.kind == V_NULL) {
        return map_fail(c, IGW_ECONFIG, t->line, t->col,
                        "the value in [key = value] must be a constant string, number or boolean");
    }
    steps = igw_arena_alloc(c->a, n * sizeof(*steps));
    v = igw_arena_alloc(c->a, sizeof(*v));
    if (steps == NULL || v == NULL) {
        return map_fail(c, IGW_ENOMEM, t->line, t->col, "out of memory");
    }
    memcpy(steps, sel, n * sizeof(*steps));
    *v = x->k;
    st->mode = TM_SLICE;
    st->sel = steps;
    st->nsel = n;
    st->selv = v;
    tb_append(b->label, sizeof(b->label), "=");
    if (v->kind == V_STR) {
        tb_append(b->label, sizeof(b->label), "\"");
        tb_append(b->label, sizeof(b->label), v->s);
        tb_append(b->label, sizeof(b->label), "\"");
    } else {
        tb_append(b->label, sizeof(b->label), v->s != NULL ? v->s : (v->b ? "true" : "false"));
    }
    tb_append(b->label, sizeof(b->label), "]");
    tb_append(b->norm, sizeof(b->norm), "[]");
    return expect(c, TK_RBRACK, "']'");
}

static int
parse_tindex(struct cctx *c, struct tstep *st, struct tbuild *b)
{
    const struct token *t;
    next(c); /* [ */
    if (peek(c)->kind == TK_IDENT || peek(c)->kind == TK_AT || peek(c)->kind == TK_HASHTEXT) {
        return parse_slice(c, st, b);
    }
    t = next(c);
    if (t->kind == TK_PLUS || t->kind == TK_ASSIGN) {
        st->mode = t->kind == TK_PLUS ? TM_APPEND : TM_LAST;
        tb_append(b->label, sizeof(b->label), t->kind == TK_PLUS ? "[+]" : "[=]");
    } else if (t->kind == TK_NUMBER && strspn(t->text, "0123456789") == t->len && t->len < 7) {
        st->mode = TM_INDEX;
        st->index = (uint32_t)strtoul(t->text, NULL, 10);
        tb_append(b->label, sizeof(b->label), "[");
        tb_append(b->label, sizeof(b->label), t->text);
        tb_append(b->label, sizeof(b->label), "]");
    } else {
        return map_fail(c, IGW_EPARSE, t->line, t->col, "expected [n], [+], [=] or [key = value]");
    }
    tb_append(b->norm, sizeof(b->norm), "[]");
    return expect(c, TK_RBRACK, "']'");
}

static int
parse_tstep(struct cctx *c, struct tbuild *b)
{
    const struct token *t = next(c);
    struct tstep *st = &b->steps[b->n];
    const char *name = t->text;
    if (b->n == IGW_ARRAY_LEN(b->steps)) {
        return map_fail(c, IGW_EPARSE, t->line, t->col, "target path too long");
    }
    memset(st, 0, sizeof(*st));
    if (t->kind != TK_IDENT && t->kind != TK_AT && t->kind != TK_HASHTEXT) {
        return map_fail(c, IGW_EPARSE, t->line, t->col, "expected a target path");
    }
    st->attr = t->kind == TK_AT;
    st->key = map_intern(c, name, t->len);
    st->len = t->len;
    if (st->key == NULL) {
        return c->err;
    }
    b->n++;
    if (b->label[0] != '\0') {
        tb_append(b->label, sizeof(b->label), ".");
    }
    tb_append(b->norm, sizeof(b->norm), b->norm[0] != '\0' ? "." : "");
    tb_append(b->label, sizeof(b->label), st->attr ? "@" : "");
    tb_append(b->norm, sizeof(b->norm), st->attr ? "@" : "");
    tb_append(b->label, sizeof(b->label), name);
    tb_append(b->norm, sizeof(b->norm), name);
    if (peek(c)->kind == TK_LBRACK) {
        return parse_tindex(c, st, b);
    }
    return IGW_OK;
}

static int
parse_target(struct cctx *c, struct tbuild *b)
{
    int rv = parse_tstep(c, b);
    while (rv == IGW_OK && peek(c)->kind == TK_DOT) {
        next(c);
        if (peek(c)->kind == TK_HASHTEXT || peek(c)->kind == TK_IDENT || peek(c)->kind == TK_AT) {
            rv = parse_tstep(c, b);
        } else {
            rv = map_fail(c, IGW_EPARSE, peek(c)->line, peek(c)->col, "expected a target path");
        }
    }
    return rv;
}

static int
copy_target(struct cctx *c, struct stmt *s, struct tbuild *b)
{
    s->target.n = b->n;
    s->target.steps = igw_arena_alloc(c->a, b->n * sizeof(struct tstep));
    if (s->target.steps == NULL) {
        return map_fail(c, IGW_ENOMEM, s->line, s->col, "out of memory");
    }
    memcpy(s->target.steps, b->steps, b->n * sizeof(struct tstep));
    return IGW_OK;
}

/* Pops the scope back to saved, remembering variables nobody read for the lint. */
static void
pop_scope(struct cctx *c, struct scope_var *saved)
{
    for (struct scope_var *v = c->vars; v != NULL && v != saved; v = v->next) {
        if (!v->used && !v->is_loop) {
            v->next_unused = c->m->unused;
            c->m->unused = v;
        }
    }
    c->vars = saved;
}

static int
parse_body(struct cctx *c, struct stmt **body)
{
    struct scope_var *saved = c->vars;
    int rv;
    while (peek(c)->kind == TK_NL) {
        next(c);
    }
    rv = expect(c, TK_LBRACE, "'{'");
    if (rv != IGW_OK) {
        return rv;
    }
    if (++c->nest > MAP_MAX_NEST) {
        return map_fail(c, IGW_EPARSE, peek(c)->line, peek(c)->col, "blocks nested too deeply");
    }
    rv = parse_list(c, body, false);
    c->nest--;
    pop_scope(c, saved);
    if (rv == IGW_OK) {
        rv = expect(c, TK_RBRACE, "'}'");
    }
    return rv;
}

static int
parse_rule(struct cctx *c, struct stmt **out)
{
    const struct token *t = peek(c);
    struct tbuild *b = igw_arena_calloc(c->a, sizeof(*b));
    const char *outer = c->rule;
    char prefix[sizeof(c->tprefix)];
    struct stmt *s;
    int rv;

    if (b == NULL) {
        return map_fail(c, IGW_ENOMEM, t->line, t->col, "out of memory");
    }
    if (outer != NULL && outer[0] != '\0') {
        snprintf(b->label, sizeof(b->label), "%s", outer);
    }
    snprintf(b->norm, sizeof(b->norm), "%s", c->tprefix);
    rv = parse_target(c, b);
    if (rv != IGW_OK) {
        return rv;
    }
    c->rule = igw_arena_strndup(c->a, b->label, strlen(b->label));
    s = new_stmt(c, S_ASSIGN, t);
    if (c->rule == NULL || s == NULL) {
        return map_fail(c, IGW_ENOMEM, t->line, t->col, "out of memory");
    }
    rv = copy_target(c, s, b);
    if (rv == IGW_OK) {
        rv = map_schema_check(c, b->norm, t->line, t->col);
    }
    if (rv == IGW_OK && peek(c)->kind == TK_ASSIGN && b->steps[b->n - 1].mode == TM_SLICE) {
        rv = map_fail(c, IGW_ECONFIG, peek(c)->line, peek(c)->col,
                      "a slice [key = value] is an element: write below it or open a block");
    } else if (rv == IGW_OK && peek(c)->kind == TK_ASSIGN) {
        next(c);
        rv = map_parse_expr(c, &s->expr);
    } else if (rv == IGW_OK && peek(c)->kind == TK_LBRACE) {
        s->kind = S_BLOCK;
        memcpy(prefix, c->tprefix, sizeof(prefix));
        snprintf(c->tprefix, sizeof(c->tprefix), "%s", b->norm);
        rv = parse_body(c, &s->body);
        memcpy(c->tprefix, prefix, sizeof(prefix));
    } else if (rv == IGW_OK) {
        rv = map_fail(c, IGW_EPARSE, peek(c)->line, peek(c)->col, "expected '=' or '{'");
    }
    c->rule = outer;
    *out = s;
    return rv;
}

/* ---- control blocks ---------------------------------------------------------------------- */

static int
parse_cond(struct cctx *c, uint8_t kind, struct stmt **out)
{
    const struct token *t = next(c);
    struct stmt *s = new_stmt(c, kind, t);
    int rv;
    if (s == NULL) {
        return c->err;
    }
    rv = map_parse_expr(c, &s->expr);
    if (rv == IGW_OK) {
        rv = parse_body(c, &s->body);
    }
    *out = s;
    if (rv != IGW_OK || kind != S_IF) {
        return rv;
    }
    size_t save = c->pos;
    while (peek(c)->kind == TK_NL) {
        next(c);
    }
    if (!map_tok_is(peek(c), "else")) {
        c->pos = save;
        return IGW_OK;
    }
    next(c);
    if (map_tok_is(peek(c), "if")) {
        return parse_cond(c, S_IF, &s->els);
    }
    return parse_body(c, &s->els);
}

static int
parse_for(struct cctx *c, struct stmt **out)
{
    const struct token *t = next(c);
    const struct token *n = next(c);
    struct scope_var *saved = c->vars;
    struct stmt *s = new_stmt(c, S_FOR, t);
    int rv;
    if (s == NULL) {
        return c->err;
    }
    if (n->kind != TK_IDENT && n->kind != TK_DOLLAR) {
        return map_fail(c, IGW_EPARSE, n->line, n->col, "expected: for <name> in <path> { }");
    }
    if (!map_tok_is(peek(c), "in")) {
        return map_fail(c, IGW_EPARSE, peek(c)->line, peek(c)->col, "expected 'in'");
    }
    next(c);
    rv = map_parse_expr(c, &s->expr);
    if (rv != IGW_OK) {
        return rv;
    }
    struct scope_var *v = declare(c, n, true);
    if (v == NULL) {
        return c->err;
    }
    s->slot = v->slot;
    rv = parse_body(c, &s->body);
    c->vars = saved;
    *out = s;
    return rv;
}

static int
parse_decl_top(struct cctx *c, bool top, struct stmt **out)
{
    const struct token *t = peek(c);
    if (!top) {
        return map_fail(c, IGW_EPARSE, t->line, t->col, "'%s' only at the top level", t->text);
    }
    *out = NULL;
    if (map_tok_is(t, "table")) {
        return parse_table(c);
    }
    if (map_tok_is(t, "schema")) {
        next(c);
        if (peek(c)->kind != TK_STRING) {
            return map_fail(c, IGW_EPARSE, t->line, t->col, "expected: schema \"file\"");
        }
        return map_schema_load(c, next(c));
    }
    return map_fail(c, IGW_EPARSE, t->line, t->col, "'map' must be the first statement only");
}

static int
parse_stmt(struct cctx *c, bool top, struct stmt **out)
{
    *out = NULL;
    if (is_keyword(c, "table") || is_keyword(c, "schema") || is_keyword(c, "map")) {
        return parse_decl_top(c, top, out);
    }
    if (is_keyword(c, "oneway")) {
        const struct token *t = next(c);
        int rv;
        if (is_keyword(c, "let") || is_keyword(c, "oneway") || is_keyword(c, "table") ||
            is_keyword(c, "schema") || is_keyword(c, "map")) {
            return map_fail(c, IGW_EPARSE, t->line, t->col,
                            "'oneway' applies to a rule, a block, when, if or for");
        }
        rv = parse_stmt(c, top, out);
        if (rv == IGW_OK && *out != NULL) {
            (*out)->oneway = true;
        }
        return rv;
    }
    if (is_keyword(c, "let")) {
        return parse_let(c, out);
    }
    if (is_keyword(c, "for")) {
        return parse_for(c, out);
    }
    if (is_keyword(c, "when")) {
        return parse_cond(c, S_WHEN, out);
    }
    if (is_keyword(c, "if")) {
        return parse_cond(c, S_IF, out);
    }
    return parse_rule(c, out);
}

static int
end_of_stmt(struct cctx *c)
{
    const struct token *t = peek(c);
    if (t->kind == TK_NL || t->kind == TK_SEMI || t->kind == TK_RBRACE || t->kind == TK_EOF) {
        return IGW_OK;
    }
    return map_fail(c, IGW_EPARSE, t->line, t->col, "unexpected '%s' after the rule", t->text);
}

static int
parse_list(struct cctx *c, struct stmt **out, bool top)
{
    struct stmt **tail = out;
    *out = NULL;
    for (;;) {
        uint8_t k = peek(c)->kind;
        if (k == TK_NL || k == TK_SEMI) {
            next(c);
            continue;
        }
        if (k == TK_EOF || (k == TK_RBRACE && !top)) {
            return IGW_OK;
        }
        if (k == TK_RBRACE) {
            return map_fail(c, IGW_EPARSE, peek(c)->line, peek(c)->col, "unexpected '}'");
        }
        struct stmt *s = NULL;
        int rv = parse_stmt(c, top, &s);
        if (rv == IGW_OK) {
            rv = end_of_stmt(c);
        }
        if (rv != IGW_OK) {
            return rv;
        }
        if (s != NULL) {
            *tail = s;
            tail = &s->next;
        }
    }
}

static int
parse_map(struct cctx *c)
{
    int rv;
    while (peek(c)->kind == TK_NL || peek(c)->kind == TK_SEMI) {
        next(c);
    }
    if (!map_tok_is(peek(c), "map")) {
        return map_fail(c, IGW_EPARSE, peek(c)->line, peek(c)->col,
                        "a map starts with: map <name> from <format> to <format>");
    }
    rv = parse_header(c);
    if (rv == IGW_OK) {
        rv = end_of_stmt(c);
    }
    if (rv == IGW_OK) {
        rv = parse_list(c, &c->m->body, true);
    }
    if (rv == IGW_OK && peek(c)->kind != TK_EOF) {
        rv = map_fail(c, IGW_EPARSE, peek(c)->line, peek(c)->col, "unexpected '}'");
    }
    if (rv == IGW_OK) {
        rv = map_schema_finish(c);
    }
    pop_scope(c, NULL);
    return rv;
}

int
map_compile_text(igw_map *m, const char *text, size_t len, const char *base_dir, char *errbuf,
                 size_t errlen)
{
    struct cctx c = {.m = m,
                     .a = m->plan,
                     .file = m->file,
                     .base_dir = base_dir,
                     .errbuf = errbuf,
                     .errlen = errlen};
    int rv = map_lex(m->plan, m->file, text, len, &c.t, &c.nt, errbuf, errlen);
    if (rv != IGW_OK) {
        return rv;
    }
    m->in_fmt = IGW_FMT_JSON;
    m->out_fmt = IGW_FMT_JSON;
    rv = parse_map(&c);
    if (rv != IGW_OK) {
        return rv;
    }
    m->compiled = true;
    map_mark_invertible(m);
    return IGW_OK;
}
