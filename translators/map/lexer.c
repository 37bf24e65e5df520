/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tokeniser of the mapping language (docs/MAPPING-LANGUAGE.md section 2). The whole text is
 * turned into a token array in the compile arena up front; keywords are contextual, so every
 * word is a TK_IDENT and the parser decides.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

struct lexer {
    igw_arena *a;
    const char *file;
    const char *p;
    const char *end;
    unsigned line;
    const char *line_start;
    struct token *toks;
    size_t n;
    size_t cap;
    char *errbuf;
    size_t errlen;
};

static unsigned
col_of(const struct lexer *l, const char *p)
{
    return (unsigned)(p - l->line_start) + 1;
}

static int
lex_fail(struct lexer *l, const char *at, const char *msg)
{
    igw_errbuf_set(l->errbuf, l->errlen, "%s:%u:%u: %s", l->file, l->line, col_of(l, at), msg);
    return IGW_EPARSE;
}

static struct token *
push(struct lexer *l, uint8_t kind, const char *at)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        struct token *nt = igw_arena_alloc(l->a, nc * sizeof(*nt));
        if (nt == NULL) {
            return NULL;
        }
        if (l->n > 0) {
            memcpy(nt, l->toks, l->n * sizeof(*nt));
        }
        l->toks = nt;
        l->cap = nc;
    }
    struct token *t = &l->toks[l->n++];
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    t->line = l->line;
    t->col = col_of(l, at);
    t->text = "";
    return t;
}

static bool
is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_ident(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
set_text(struct lexer *l, struct token *t, const char *s, size_t n)
{
    char *d = igw_arena_strndup(l->a, s, n);
    if (d == NULL) {
        return IGW_ENOMEM;
    }
    t->text = d;
    t->len = (uint32_t)n;
    return IGW_OK;
}

static const struct token *
prev_tok(const struct lexer *l)
{
    return l->n > 0 ? &l->toks[l->n - 1] : NULL;
}

/* A word after the keywords `map` / `call` is a map name that may hold '-' and '.'. */
static bool
wants_name(const struct lexer *l)
{
    const struct token *t = prev_tok(l);
    if (t == NULL || t->kind != TK_IDENT || t->quoted) {
        return false;
    }
    return strcmp(t->text, "map") == 0 || strcmp(t->text, "call") == 0;
}

static int
lex_word(struct lexer *l, struct token **out)
{
    const char *s = l->p;
    bool name = wants_name(l);
    while (l->p < l->end && (is_ident(*l->p) || (name && (*l->p == '-' || *l->p == '.')))) {
        l->p++;
    }
    *out = push(l, name ? TK_NAME : TK_IDENT, s);
    if (*out == NULL) {
        return IGW_ENOMEM;
    }
    return set_text(l, *out, s, (size_t)(l->p - s));
}

static int
lex_backtick(struct lexer *l)
{
    const char *s = l->p++;
    const char *b = l->p;
    while (l->p < l->end && *l->p != '`' && *l->p != '\n') {
        l->p++;
    }
    if (l->p >= l->end || *l->p != '`' || l->p == b) {
        return lex_fail(l, s, "unterminated or empty `key`");
    }
    struct token *t = push(l, TK_IDENT, s);
    if (t == NULL) {
        return IGW_ENOMEM;
    }
    t->quoted = true;
    int rv = set_text(l, t, b, (size_t)(l->p - b));
    l->p++;
    return rv;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static size_t
put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    d[0] = (char)(0xE0 | (cp >> 12));
    d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

static int
lex_escape(struct lexer *l, char *d, size_t *dn)
{
    const char *at = l->p;
    if (l->end - l->p < 2) {
        return lex_fail(l, at, "unterminated string");
    }
    char c = *++l->p;
    static const char from[] = "\"\\/ntr";
    static const char to[] = "\"\\/\n\t\r";
    const char *f = c != '\0' ? strchr(from, c) : NULL;
    if (f != NULL) {
        d[(*dn)++] = to[f - from];
        l->p++;
        return IGW_OK;
    }
    if (c == 'u' && l->end - l->p >= 5) {
        unsigned cp = 0;
        for (int i = 1; i <= 4; i++) {
            int h = hexval(l->p[i]);
            if (h < 0) {
                return lex_fail(l, at, "bad \\u escape");
            }
            cp = cp * 16 + (unsigned)h;
        }
        if (cp == 0) {
            return lex_fail(l, at, "\\u0000 is not allowed");
        }
        *dn += put_utf8(d + *dn, cp);
        l->p += 5;
        return IGW_OK;
    }
    return lex_fail(l, at, "bad escape in string");
}

static int
lex_string(struct lexer *l)
{
    const char *s = l->p++;
    char *d = igw_arena_alloc(l->a, (size_t)(l->end - l->p) + 1);
    size_t dn = 0;
    if (d == NULL) {
        return IGW_ENOMEM;
    }
    while (l->p < l->end && *l->p != '"') {
        if (*l->p == '\n') {
            return lex_fail(l, s, "unterminated string");
        }
        if (*l->p == '\\') {
            int rv = lex_escape(l, d, &dn);
            if (rv != IGW_OK) {
                return rv;
            }
            continue;
        }
        d[dn++] = *l->p++;
    }
    if (l->p >= l->end) {
        return lex_fail(l, s, "unterminated string");
    }
    l->p++;
    d[dn] = '\0';
    struct token *t = push(l, TK_STRING, s);
    if (t == NULL) {
        return IGW_ENOMEM;
    }
    t->text = d;
    t->len = (uint32_t)dn;
    return IGW_OK;
}

static int
lex_number(struct lexer *l)
{
    const char *s = l->p;
    while (l->p < l->end && is_digit(*l->p)) {
        l->p++;
    }
    if (l->p + 1 < l->end && *l->p == '.' && is_digit(l->p[1])) {
        l->p++;
        while (l->p < l->end && is_digit(*l->p)) {
            l->p++;
        }
    }
    if (l->p < l->end && (*l->p == 'e' || *l->p == 'E')) {
        const char *e = l->p + 1;
        if (e < l->end && (*e == '+' || *e == '-')) {
            e++;
        }
        if (e < l->end && is_digit(*e)) {
            l->p = e;
            while (l->p < l->end && is_digit(*l->p)) {
                l->p++;
            }
        }
    }
    if (l->p < l->end && is_ident_start(*l->p)) {
        return lex_fail(l, s, "bad number");
    }
    struct token *t = push(l, TK_NUMBER, s);
    if (t == NULL) {
        return IGW_ENOMEM;
    }
    return set_text(l, t, s, (size_t)(l->p - s));
}

/* '@name' and '$name' carry their name; '$' alone has an empty one */
static int
lex_sigil(struct lexer *l, uint8_t kind)
{
    const char *s = l->p++;
    const char *b = l->p;
    while (l->p < l->end && is_ident(*l->p)) {
        l->p++;
    }
    if (kind == TK_AT && l->p == b) {
        return lex_fail(l, s, "'@' must be followed by an attribute name");
    }
    struct token *t = push(l, kind, s);
    if (t == NULL) {
        return IGW_ENOMEM;
    }
    return set_text(l, t, b, (size_t)(l->p - b));
}

/* '#text' after '.', '=', '(' or ',' is the XML text step; any other '#' starts a comment. */
static bool
is_hashtext(const struct lexer *l)
{
    const struct token *t = prev_tok(l);
    if (l->end - l->p < 5 || memcmp(l->p, "#text", 5) != 0) {
        return false;
    }
    if (l->end - l->p > 5 && is_ident(l->p[5])) {
        return false;
    }
    return t != NULL && (t->kind == TK_DOT || t->kind == TK_ASSIGN || t->kind == TK_LPAREN ||
                         t->kind == TK_COMMA);
}

struct punct {
    const char *s;
    uint8_t kind;
};

static const struct punct puncts[] = {
    {"??", TK_QQ},    {"==", TK_EQ},     {"!=", TK_NE},    {"<=", TK_LE},    {">=", TK_GE},
    {".", TK_DOT},    {"[", TK_LBRACK},  {"]", TK_RBRACK}, {"(", TK_LPAREN}, {")", TK_RPAREN},
    {"{", TK_LBRACE}, {"}", TK_RBRACE},  {",", TK_COMMA},  {";", TK_SEMI},   {"=", TK_ASSIGN},
    {"<", TK_LT},     {">", TK_GT},      {"+", TK_PLUS},   {"-", TK_MINUS},  {"*", TK_STAR},
    {"/", TK_SLASH},  {"%", TK_PERCENT},
};

static int
lex_punct(struct lexer *l)
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(puncts); i++) {
        size_t n = strlen(puncts[i].s);
        if ((size_t)(l->end - l->p) >= n && memcmp(l->p, puncts[i].s, n) == 0) {
            struct token *t = push(l, puncts[i].kind, l->p);
            if (t == NULL) {
                return IGW_ENOMEM;
            }
            t->text = puncts[i].s;
            t->len = (uint32_t)n;
            l->p += n;
            return IGW_OK;
        }
    }
    return lex_fail(l, l->p, "unexpected character");
}

static int
lex_newline(struct lexer *l)
{
    struct token *t = push(l, TK_NL, l->p);
    if (t == NULL) {
        return IGW_ENOMEM;
    }
    l->p++;
    l->line++;
    l->line_start = l->p;
    return IGW_OK;
}

static void
skip_comment(struct lexer *l)
{
    while (l->p < l->end && *l->p != '\n') {
        l->p++;
    }
}

static int
lex_one(struct lexer *l)
{
    char c = *l->p;
    struct token *t;
    if (c == ' ' || c == '\t' || c == '\r') {
        l->p++;
        return IGW_OK;
    }
    if (c == '\n') {
        return lex_newline(l);
    }
    if (c == '#') {
        if (is_hashtext(l)) {
            t = push(l, TK_HASHTEXT, l->p);
            l->p += 5;
            return t == NULL ? IGW_ENOMEM : set_text(l, t, "#text", 5);
        }
        skip_comment(l);
        return IGW_OK;
    }
    if (is_ident_start(c)) {
        return lex_word(l, &t);
    }
    if (is_digit(c)) {
        return lex_number(l);
    }
    switch (c) {
    case '"':
        return lex_string(l);
    case '`':
        return lex_backtick(l);
    case '@':
        return lex_sigil(l, TK_AT);
    case '$':
        return lex_sigil(l, TK_DOLLAR);
    default:
        return lex_punct(l);
    }
}

int
map_lex(igw_arena *a, const char *file, const char *text, size_t len, struct token **toks,
        size_t *ntoks, char *errbuf, size_t errlen)
{
    struct lexer l = {.a = a,
                      .file = file,
                      .p = text,
                      .end = text + len,
                      .line = 1,
                      .line_start = text,
                      .errbuf = errbuf,
                      .errlen = errlen};
    int rv = IGW_OK;

    if (memchr(text, '\0', len) != NULL) {
        const char *z = memchr(text, '\0', len);
        l.p = z;
        for (const char *q = text; q < z; q++) {
            if (*q == '\n') {
                l.line++;
                l.line_start = q + 1;
            }
        }
        return lex_fail(&l, z, "NUL byte in map text");
    }
    while (l.p < l.end) {
        rv = lex_one(&l);
        if (rv != IGW_OK) {
            if (rv == IGW_ENOMEM) {
                igw_errbuf_set(errbuf, errlen, "%s: out of memory", file);
            }
            return rv;
        }
    }
    if (push(&l, TK_NL, l.p) == NULL || push(&l, TK_EOF, l.p) == NULL) {
        return IGW_ENOMEM;
    }
    *toks = l.toks;
    *ntoks = l.n;
    return IGW_OK;
}

/* Reads the name after the leading `map` keyword without compiling (used by the set loader). */
int
map_scan_name(const char *text, size_t len, char *name, size_t cap)
{
    const char *p = text;
    const char *end = text + len;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
            p++;
        }
        if (p < end && *p == '#') {
            while (p < end && *p != '\n') {
                p++;
            }
            continue;
        }
        break;
    }
    if (end - p < 4 || memcmp(p, "map", 3) != 0 || (p[3] != ' ' && p[3] != '\t')) {
        return IGW_EPARSE;
    }
    p += 3;
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    size_t n = 0;
    while (p < end && (is_ident(*p) || *p == '-' || *p == '.') && n + 1 < cap) {
        name[n++] = *p++;
    }
    name[n] = '\0';
    return n > 0 ? IGW_OK : IGW_EPARSE;
}
