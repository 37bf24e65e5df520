/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lookup tables for the mapping engine (include/igw/maptable.h): a CSV reader and a FHIR R4
 * ConceptMap reader fill a list of (source, target) pairs; two open-addressing hash indices
 * (forward by source, inverse by target) are built over it once, and the table is immutable
 * afterwards. Strings live in the table's own arena.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "igw/common.h"
#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/maptable.h"

#define TABLE_MAX_FILE ((size_t)64 << 20)
#define TABLE_MAX_PAIRS ((size_t)1 << 24)
#define CSV_MAX_FIELDS 8

/* One mapping from a source code to a target code. For CSV, line is the record's line; for a
 * ConceptMap, (group, elem, target) locate it in the JSON and line is 0. */
struct pair {
    const char *src;
    size_t src_len;
    const char *tgt;
    size_t tgt_len;
    const char *tsys; /* target system (CSV system column, ConceptMap group.target) */
    const char *ssys; /* source system (ConceptMap group.source) */
    const char *display;
    bool primary; /* the first target of its source: the one a forward lookup returns */
    unsigned line;
    unsigned group;
    unsigned elem;
    unsigned tgt_idx;
};

struct slot {
    uint32_t hash;
    uint32_t idx; /* pair index + 1; 0 = empty */
};

struct index {
    struct slot *slots;
    size_t mask;
};

struct igw_table {
    igw_arena *arena;
    char *path;
    char *name;
    const char *text; /* the source text while loading (for error positions); NULL after */
    size_t text_len;
    bool json;
    struct pair *pairs;
    size_t npairs;
    size_t cap;
    size_t nforward;
    struct index fwd;
    struct index inv;
    enum igw_unmapped unmapped;
    struct igw_table_entry fixed;
    char *ambiguity;
    size_t nambiguous;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static uint32_t
hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static const char *
arena_str(igw_table *t, const char *s, size_t n)
{
    return igw_arena_strndup(t->arena, s, n);
}

static void
line_col(const char *text, size_t off, unsigned *line, unsigned *col)
{
    unsigned l = 1;
    size_t start = 0;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            start = i + 1;
        }
    }
    *line = l;
    *col = (unsigned)(off - start) + 1;
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL ? s + 1 : path;
}

static bool
ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);
    if (m > n) {
        return false;
    }
    for (size_t i = 0; i < m; i++) {
        char a = s[n - m + i];
        char b = suffix[i];
        if (a >= 'A' && a <= 'Z') {
            a = (char)(a - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

static int
table_new(igw_table **out, const char *file)
{
    igw_table *t = IGW_NEW(igw_table);
    const char *b;
    const char *dot;

    if (t == NULL) {
        return IGW_ENOMEM;
    }
    if (igw_arena_new(&t->arena, 0) != IGW_OK) {
        igw_free(t);
        return IGW_ENOMEM;
    }
    t->path = igw_strdup(file);
    b = base_name(file);
    dot = strrchr(b, '.');
    t->name = igw_strndup(b, dot != NULL && dot != b ? (size_t)(dot - b) : strlen(b));
    if (t->path == NULL || t->name == NULL) {
        igw_table_free(t);
        return IGW_ENOMEM;
    }
    *out = t;
    return IGW_OK;
}

void
igw_table_free(igw_table *t)
{
    if (t == NULL) {
        return;
    }
    igw_free(t->fwd.slots);
    igw_free(t->inv.slots);
    igw_free(t->pairs);
    igw_free(t->path);
    igw_free(t->name);
    igw_free(t->ambiguity);
    igw_arena_free(t->arena);
    igw_free(t);
}

static int
pair_add(igw_table *t, const struct pair *p)
{
    if (t->npairs == t->cap) {
        size_t ncap = t->cap != 0 ? t->cap * 2 : 16;
        struct pair *np;
        if (ncap > TABLE_MAX_PAIRS) {
            return IGW_ETOOBIG;
        }
        np = igw_realloc(t->pairs, ncap * sizeof(*np));
        if (np == NULL) {
            return IGW_ENOMEM;
        }
        t->pairs = np;
        t->cap = ncap;
    }
    t->pairs[t->npairs++] = *p;
    return IGW_OK;
}

/* ---- positions of ConceptMap parts (for messages) ------------------------------------------ */

/* A tiny JSON skipper over text cJSON already accepted: finds where a path starts. */
static size_t
skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
        i++;
    }
    return i;
}

static size_t
skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] == '\\') {
            i++;
        }
    }
    return i < n ? i + 1 : n;
}

static bool
is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static size_t
skip_value(const char *s, size_t n, size_t i)
{
    int depth = 0;

    i = skip_ws(s, n, i);
    while (i < n) {
        char ch = s[i];
        if (ch == '"') {
            i = skip_string(s, n, i);
            if (depth == 0) {
                return i;
            }
            continue;
        }
        if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth <= 1) {
                return depth == 0 ? i : i + 1;
            }
            depth--;
        } else if (depth == 0 && (ch == ',' || is_ws(ch))) {
            return i;
        }
        i++;
    }
    return n;
}

/* From the value at i (an object), the offset of member key's value; n when absent. */
static size_t
seek_member(const char *s, size_t n, size_t i, const char *key)
{
    size_t klen = strlen(key);

    i = skip_ws(s, n, i);
    if (i >= n || s[i] != '{') {
        return n;
    }
    i = skip_ws(s, n, i + 1);
    while (i < n && s[i] == '"') {
        size_t kend = skip_string(s, n, i);
        bool match = kend - i == klen + 2 && memcmp(s + i + 1, key, klen) == 0;
        i = skip_ws(s, n, kend);
        i = skip_ws(s, n, i + 1); /* ':' */
        if (match) {
            return i;
        }
        i = skip_ws(s, n, skip_value(s, n, i));
        if (i < n && s[i] == ',') {
            i = skip_ws(s, n, i + 1);
        }
    }
    return n;
}

/* From the value at i (an array), the offset of item k; n when absent. */
static size_t
seek_item(const char *s, size_t n, size_t i, unsigned k)
{
    i = skip_ws(s, n, i);
    if (i >= n || s[i] != '[') {
        return n;
    }
    i = skip_ws(s, n, i + 1);
    for (unsigned j = 0; j < k && i < n && s[i] != ']'; j++) {
        i = skip_ws(s, n, skip_value(s, n, i));
        if (i < n && s[i] == ',') {
            i = skip_ws(s, n, i + 1);
        }
    }
    return i < n && s[i] != ']' ? i : n;
}

/* Offset of group[g] (elem < 0: the group), .element[elem], .target[tgt] (tgt < 0: the
 * element). Falls back to the deepest part found. */
static size_t
json_where(const igw_table *t, int g, int elem, int tgt)
{
    const char *s = t->text;
    size_t n = t->text_len;
    size_t at = skip_ws(s, n, 0);
    size_t i;

    if (g < 0) {
        return at;
    }
    i = seek_item(s, n, seek_member(s, n, at, "group"), (unsigned)g);
    if (i >= n) {
        return at;
    }
    at = i;
    if (elem >= 0) {
        i = seek_item(s, n, seek_member(s, n, at, "element"), (unsigned)elem);
        if (i < n) {
            at = i;
        }
    }
    if (elem >= 0 && tgt >= 0 && i < n) {
        i = seek_item(s, n, seek_member(s, n, at, "target"), (unsigned)tgt);
        if (i < n) {
            at = i;
        }
    }
    return at;
}

/* "file:line:col" of a pair, into buf. */
static void
pair_where(const igw_table *t, const struct pair *p, char *buf, size_t len)
{
    unsigned line = p->line;
    unsigned col = 1;

    if (t->json && t->text != NULL) {
        line_col(t->text, json_where(t, (int)p->group, (int)p->elem, -1), &line, &col);
    }
    snprintf(buf, len, "%s:%u:%u", t->path, line, col);
}

/* ---- hash indices ------------------------------------------------------------------------- */

static int
index_init(struct index *ix, size_t n)
{
    size_t cap = 4;
    while (cap < n * 2) {
        cap *= 2;
    }
    ix->slots = igw_calloc(cap, sizeof(*ix->slots));
    if (ix->slots == NULL) {
        return IGW_ENOMEM;
    }
    ix->mask = cap - 1;
    return IGW_OK;
}

static const char *
key_of(const struct pair *p, bool inverse, size_t *len)
{
    *len = inverse ? p->tgt_len : p->src_len;
    return inverse ? p->tgt : p->src;
}

/* The slot holding key, or the empty slot where it would go. */
static struct slot *
index_probe(const struct index *ix, const struct pair *pairs, bool inverse, const char *key,
            size_t len, uint32_t h)
{
    size_t i = h & ix->mask;

    for (;;) {
        struct slot *s = &ix->slots[i];
        if (s->idx == 0) {
            return s;
        }
        if (s->hash == h) {
            size_t klen;
            const char *k = key_of(&pairs[s->idx - 1], inverse, &klen);
            if (klen == len && memcmp(k, key, len) == 0) {
                return s;
            }
        }
        i = (i + 1) & ix->mask;
    }
}

static int
fail_duplicate(igw_table *t, const struct pair *first, const struct pair *p, char *errbuf,
               size_t errlen)
{
    char a[256];
    char b[256];
    pair_where(t, p, b, sizeof(b));
    pair_where(t, first, a, sizeof(a));
    igw_errbuf_set(errbuf, errlen, "%s: source '%s' is mapped twice (first at %s)", b, p->src, a);
    return IGW_EPARSE;
}

static int
build_forward(igw_table *t, char *errbuf, size_t errlen)
{
    int rv = index_init(&t->fwd, t->npairs);
    if (rv != IGW_OK) {
        return rv;
    }
    for (size_t i = 0; i < t->npairs; i++) {
        const struct pair *p = &t->pairs[i];
        uint32_t h;
        struct slot *s;
        if (!p->primary) {
            continue;
        }
        h = hash_bytes(p->src, p->src_len);
        s = index_probe(&t->fwd, t->pairs, false, p->src, p->src_len, h);
        if (s->idx != 0) {
            return fail_duplicate(t, &t->pairs[s->idx - 1], p, errbuf, errlen);
        }
        s->hash = h;
        s->idx = (uint32_t)i + 1;
        t->nforward++;
    }
    return IGW_OK;
}

static int
note_ambiguity(igw_table *t, const struct pair *first, const struct pair *p)
{
    char a[256];
    char b[256];
    struct igw_buf msg;

    t->nambiguous++;
    if (t->ambiguity != NULL) {
        return IGW_OK;
    }
    pair_where(t, first, a, sizeof(a));
    pair_where(t, p, b, sizeof(b));
    igw_buf_init(&msg, 4096);
    if (igw_buf_printf(&msg, "target '%s' comes from '%s' (%s) and '%s' (%s)", p->tgt, first->src,
                       a, p->src, b) != IGW_OK) {
        igw_buf_fini(&msg);
        return IGW_ENOMEM;
    }
    t->ambiguity = igw_buf_steal(&msg, NULL);
    return IGW_OK;
}

static int
build_inverse(igw_table *t)
{
    int rv = index_init(&t->inv, t->npairs);
    if (rv != IGW_OK) {
        return rv;
    }
    for (size_t i = 0; i < t->npairs; i++) {
        const struct pair *p = &t->pairs[i];
        uint32_t h = hash_bytes(p->tgt, p->tgt_len);
        struct slot *s = index_probe(&t->inv, t->pairs, true, p->tgt, p->tgt_len, h);
        if (s->idx == 0) {
            s->hash = h;
            s->idx = (uint32_t)i + 1;
            continue;
        }
        {
            const struct pair *first = &t->pairs[s->idx - 1];
            if (first->src_len == p->src_len && memcmp(first->src, p->src, p->src_len) == 0) {
                continue; /* the same source listed the same target twice */
            }
            rv = note_ambiguity(t, first, p);
            if (rv != IGW_OK) {
                return rv;
            }
        }
    }
    return IGW_OK;
}

static int
finish_ambiguity(igw_table *t)
{
    struct igw_buf msg;

    if (t->nambiguous <= 1) {
        return IGW_OK;
    }
    igw_buf_init(&msg, 8192);
    if (igw_buf_puts(&msg, t->ambiguity) != IGW_OK ||
        igw_buf_printf(&msg, "; %zu more ambiguous target(s)", t->nambiguous - 1) != IGW_OK) {
        igw_buf_fini(&msg);
        return IGW_ENOMEM;
    }
    igw_free(t->ambiguity);
    t->ambiguity = igw_buf_steal(&msg, NULL);
    return IGW_OK;
}

/* ---- CSV ---------------------------------------------------------------------------------- */

struct csv {
    igw_table *t;
    const char *s;
    size_t n;
    size_t i;
    size_t line_start;
    size_t cur_off; /* line counting cursor: cur_line is the line of offset cur_off */
    unsigned cur_line;
    char *errbuf;
    size_t errlen;
};

struct csv_field {
    const char *str; /* in the table arena, NUL-terminated */
    size_t len;
    unsigned col;
};

enum { COL_SOURCE, COL_TARGET, COL_SYSTEM, COL_DISPLAY, COL_COMMENT, COL_COUNT };
static const char *const csv_columns[COL_COUNT] = {"source", "target", "system", "display",
                                                   "comment"};

static int
csv_fail(struct csv *c, size_t at, const char *msg, const char *arg)
{
    unsigned line;
    unsigned col;
    line_col(c->s, at, &line, &col);
    igw_errbuf_set(c->errbuf, c->errlen, "%s:%u:%u: %s%s%s%s", c->t->path, line, col, msg,
                   arg != NULL ? " '" : "", arg != NULL ? arg : "", arg != NULL ? "'" : "");
    return IGW_EPARSE;
}

static unsigned
csv_line(struct csv *c, size_t off)
{
    for (; c->cur_off < off; c->cur_off++) {
        if (c->s[c->cur_off] == '\n') {
            c->cur_line++;
        }
    }
    return c->cur_line;
}

static bool
csv_at_eol(const struct csv *c, size_t i)
{
    return i >= c->n || c->s[i] == '\n' || c->s[i] == '\r';
}

static size_t
csv_skip_eol(const struct csv *c, size_t i)
{
    if (i < c->n && c->s[i] == '\r') {
        i++;
    }
    if (i < c->n && c->s[i] == '\n') {
        i++;
    }
    return i;
}

/* Scans a quoted field starting at c->i (the opening quote); sets *end past the closing quote
 * and *len to the unescaped length. */
static int
csv_scan_quoted(struct csv *c, size_t *end, size_t *len)
{
    size_t i = c->i + 1;
    size_t n = 0;

    for (;;) {
        if (i >= c->n) {
            return csv_fail(c, c->i, "unterminated quoted field", NULL);
        }
        if (c->s[i] == '"') {
            if (i + 1 < c->n && c->s[i + 1] == '"') {
                i += 2;
                n++;
                continue;
            }
            i++;
            break;
        }
        i++;
        n++;
    }
    if (i < c->n && c->s[i] != ',' && !csv_at_eol(c, i)) {
        return csv_fail(c, i, "unexpected character after a closing quote", NULL);
    }
    *end = i;
    *len = n;
    return IGW_OK;
}

static int
csv_quoted(struct csv *c, struct csv_field *f)
{
    size_t end = 0;
    size_t len = 0;
    char *dst;
    size_t k = 0;
    int rv = csv_scan_quoted(c, &end, &len);

    if (rv != IGW_OK) {
        return rv;
    }
    dst = igw_arena_alloc(c->t->arena, len + 1);
    if (dst == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = c->i + 1; i < end - 1; i++) {
        dst[k++] = c->s[i];
        if (c->s[i] == '"') {
            i++;
        }
    }
    dst[k] = '\0';
    f->str = dst;
    f->len = k;
    c->i = end;
    return IGW_OK;
}

static int
csv_plain(struct csv *c, struct csv_field *f)
{
    size_t i = c->i;

    while (i < c->n && c->s[i] != ',' && !csv_at_eol(c, i)) {
        if (c->s[i] == '"') {
            return csv_fail(c, i, "quote inside an unquoted field", NULL);
        }
        i++;
    }
    f->str = arena_str(c->t, c->s + c->i, i - c->i);
    if (f->str == NULL) {
        return IGW_ENOMEM;
    }
    f->len = i - c->i;
    c->i = i;
    return IGW_OK;
}

/* Reads one record into f (at most CSV_MAX_FIELDS); c->i ends past its line end. */
static int
csv_record(struct csv *c, struct csv_field *f, size_t *nf)
{
    size_t k = 0;
    int rv;

    for (;;) {
        if (k == CSV_MAX_FIELDS) {
            return csv_fail(c, c->i, "too many fields", NULL);
        }
        f[k].col = (unsigned)(c->i - c->line_start) + 1;
        rv = c->i < c->n && c->s[c->i] == '"' ? csv_quoted(c, &f[k]) : csv_plain(c, &f[k]);
        if (rv != IGW_OK) {
            return rv;
        }
        k++;
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            continue;
        }
        break;
    }
    c->i = csv_skip_eol(c, c->i);
    *nf = k;
    return IGW_OK;
}

/* Trims spaces and a CR from both ends of s[*b, *e). */
static void
trim(const char *s, size_t *b, size_t *e)
{
    while (*b < *e && (s[*b] == ' ' || s[*b] == '\t')) {
        (*b)++;
    }
    while (*e > *b && (s[*e - 1] == ' ' || s[*e - 1] == '\t' || s[*e - 1] == '\r')) {
        (*e)--;
    }
}

static int
csv_fixed(struct csv *c, size_t b, size_t e)
{
    size_t comma = b;
    size_t ce;
    size_t db;

    while (comma < e && c->s[comma] != ',') {
        comma++;
    }
    ce = comma;
    trim(c->s, &b, &ce);
    if (b == ce) {
        return csv_fail(c, b, "'# unmapped: fixed' needs a code", NULL);
    }
    c->t->unmapped = IGW_UNMAPPED_FIXED;
    c->t->fixed.code = arena_str(c->t, c->s + b, ce - b);
    c->t->fixed.code_len = ce - b;
    if (comma < e) {
        db = comma + 1;
        trim(c->s, &db, &e);
        c->t->fixed.display = arena_str(c->t, c->s + db, e - db);
        if (c->t->fixed.display == NULL) {
            return IGW_ENOMEM;
        }
    }
    return c->t->fixed.code != NULL ? IGW_OK : IGW_ENOMEM;
}

/* A '#' line: "# unmapped: provided" / "# unmapped: fixed CODE[,DISPLAY]", or a comment. */
static int
csv_directive(struct csv *c, size_t b, size_t e)
{
    static const char kw[] = "unmapped:";
    size_t at;

    b++;
    trim(c->s, &b, &e);
    if (e - b < sizeof(kw) - 1 || memcmp(c->s + b, kw, sizeof(kw) - 1) != 0) {
        return IGW_OK;
    }
    b += sizeof(kw) - 1;
    trim(c->s, &b, &e);
    at = b;
    if (e - b == 8 && memcmp(c->s + b, "provided", 8) == 0) {
        c->t->unmapped = IGW_UNMAPPED_PROVIDED;
        return IGW_OK;
    }
    if (e - b > 5 && memcmp(c->s + b, "fixed", 5) == 0 && (c->s[b + 5] == ' ')) {
        return csv_fixed(c, b + 5, e);
    }
    return csv_fail(c, at, "unknown unmapped mode (want 'provided' or 'fixed CODE')", NULL);
}

/* Skips blank and '#' lines before a record; false at the end of input. */
static int
csv_skip_lines(struct csv *c, bool *more)
{
    int rv;

    for (;;) {
        size_t e = c->i;
        c->line_start = c->i;
        if (c->i >= c->n) {
            *more = false;
            return IGW_OK;
        }
        while (e < c->n && c->s[e] != '\n') {
            e++;
        }
        if (c->s[c->i] == '#') {
            rv = csv_directive(c, c->i, e);
            if (rv != IGW_OK) {
                return rv;
            }
        } else if (!csv_at_eol(c, c->i)) {
            *more = true;
            return IGW_OK;
        }
        c->i = e < c->n ? e + 1 : e;
    }
}

static int
csv_header(struct csv *c, const struct csv_field *f, size_t nf, int *cols)
{
    int have[COL_COUNT] = {0};

    for (size_t k = 0; k < nf; k++) {
        int which = -1;
        for (int j = 0; j < COL_COUNT; j++) {
            if (strcmp(f[k].str, csv_columns[j]) == 0) {
                which = j;
            }
        }
        if (which < 0) {
            return csv_fail(c, c->line_start + f[k].col - 1,
                            "unknown column (want source,target[,system,display])", f[k].str);
        }
        if (have[which]) {
            return csv_fail(c, c->line_start + f[k].col - 1, "column listed twice", f[k].str);
        }
        have[which] = 1;
        cols[k] = which;
    }
    if (!have[COL_SOURCE] || !have[COL_TARGET]) {
        return csv_fail(c, c->line_start, "the header needs columns source and target", NULL);
    }
    return IGW_OK;
}

static int
csv_row(struct csv *c, const struct csv_field *f, size_t nf, const int *cols, size_t ncols)
{
    struct pair p;

    if (nf != ncols) {
        char what[64];
        snprintf(what, sizeof(what), "%zu fields, the header has %zu", nf, ncols);
        return csv_fail(c, c->line_start, what, NULL);
    }
    memset(&p, 0, sizeof(p));
    p.primary = true;
    for (size_t k = 0; k < nf; k++) {
        const char *v = f[k].len != 0 ? f[k].str : NULL;
        switch (cols[k]) {
        case COL_SOURCE:
            p.src = f[k].str;
            p.src_len = f[k].len;
            break;
        case COL_TARGET:
            p.tgt = f[k].str;
            p.tgt_len = f[k].len;
            break;
        case COL_SYSTEM:
            p.tsys = v;
            break;
        case COL_DISPLAY:
            p.display = v;
            break;
        default:
            break;
        }
    }
    for (size_t k = 0; k < nf; k++) {
        if ((cols[k] == COL_SOURCE || cols[k] == COL_TARGET) && f[k].len == 0) {
            return csv_fail(c, c->line_start + f[k].col - 1, "empty", csv_columns[cols[k]]);
        }
    }
    p.line = csv_line(c, c->line_start);
    return pair_add(c->t, &p);
}

static int
csv_load(igw_table *t, const char *text, size_t len, char *errbuf, size_t errlen)
{
    struct csv c = {t, text, len, 0, 0, 0, 1, errbuf, errlen};
    struct csv_field f[CSV_MAX_FIELDS];
    int cols[CSV_MAX_FIELDS];
    size_t ncols = 0;
    size_t nf = 0;
    bool more;
    int rv;

    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        c.i = 3;
    }
    for (;;) {
        rv = csv_skip_lines(&c, &more);
        if (rv != IGW_OK || !more) {
            break;
        }
        rv = csv_record(&c, f, &nf);
        if (rv != IGW_OK) {
            break;
        }
        rv = ncols == 0 ? csv_header(&c, f, nf, cols) : csv_row(&c, f, nf, cols, ncols);
        if (rv != IGW_OK) {
            break;
        }
        if (ncols == 0) {
            ncols = nf;
        }
    }
    if (rv == IGW_OK && ncols == 0) {
        rv = csv_fail(&c, 0, "no header (want source,target[,system,display])", NULL);
    }
    return rv;
}

/* ---- FHIR R4 ConceptMap ------------------------------------------------------------------- */

struct cm {
    igw_table *t;
    char *errbuf;
    size_t errlen;
};

static int
cm_fail(struct cm *c, int g, int e, int tg, const char *what)
{
    unsigned line;
    unsigned col;
    char path[96];

    line_col(c->t->text, json_where(c->t, g, e, tg), &line, &col);
    if (g < 0) {
        path[0] = '\0';
    } else if (e < 0) {
        snprintf(path, sizeof(path), "group[%d]: ", g);
    } else if (tg < 0) {
        snprintf(path, sizeof(path), "group[%d].element[%d]: ", g, e);
    } else {
        snprintf(path, sizeof(path), "group[%d].element[%d].target[%d]: ", g, e, tg);
    }
    igw_errbuf_set(c->errbuf, c->errlen, "%s:%u:%u: %s%s", c->t->path, line, col, path, what);
    return IGW_EPARSE;
}

/* The string member key of obj, NULL when absent; *bad when present but not a string. */
static const char *
cm_str(const cJSON *obj, const char *key, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || cJSON_IsNull(v)) {
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        *bad = true;
        return NULL;
    }
    return v->valuestring;
}

static bool
cm_no_mapping(const char *eq)
{
    return eq != NULL && (strcmp(eq, "unmatched") == 0 || strcmp(eq, "disjoint") == 0 ||
                          strcmp(eq, "not-related-to") == 0);
}

static int
cm_target(struct cm *c, const cJSON *tj, struct pair *p, int ti, bool *added)
{
    bool bad = false;
    const char *code = cm_str(tj, "code", &bad);
    const char *display = cm_str(tj, "display", &bad);
    const char *eq = cm_str(tj, "equivalence", &bad);
    int rv;

    if (eq == NULL) {
        eq = cm_str(tj, "relationship", &bad);
    }
    if (bad || !cJSON_IsObject(tj)) {
        return cm_fail(c, (int)p->group, (int)p->elem, ti,
                       "code, display and equivalence "
                       "must be strings");
    }
    if (cm_no_mapping(eq)) {
        return IGW_OK;
    }
    if (code == NULL || code[0] == '\0') {
        return cm_fail(c, (int)p->group, (int)p->elem, ti, "target has no code");
    }
    p->tgt = arena_str(c->t, code, strlen(code));
    p->tgt_len = strlen(code);
    p->display = display != NULL ? arena_str(c->t, display, strlen(display)) : NULL;
    p->tgt_idx = (unsigned)ti;
    p->primary = !*added;
    if (p->tgt == NULL || (display != NULL && p->display == NULL)) {
        return IGW_ENOMEM;
    }
    rv = pair_add(c->t, p);
    *added = true;
    return rv;
}

static int
cm_element(struct cm *c, const cJSON *ej, struct pair *base)
{
    bool bad = false;
    const char *code = cm_str(ej, "code", &bad);
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(ej, "target");
    const cJSON *tj;
    bool added = false;
    int ti = 0;
    int rv = IGW_OK;

    if (bad || !cJSON_IsObject(ej) || code == NULL || code[0] == '\0') {
        return cm_fail(c, (int)base->group, (int)base->elem, -1, "element has no code");
    }
    if (targets != NULL && !cJSON_IsArray(targets)) {
        return cm_fail(c, (int)base->group, (int)base->elem, -1, "target must be an array");
    }
    base->src_len = strlen(code);
    base->src = arena_str(c->t, code, base->src_len);
    if (base->src == NULL) {
        return IGW_ENOMEM;
    }
    cJSON_ArrayForEach(tj, targets)
    {
        rv = cm_target(c, tj, base, ti++, &added);
        if (rv != IGW_OK) {
            break;
        }
    }
    return rv;
}

static int
cm_set_unmapped(struct cm *c, int g, enum igw_unmapped mode, const char *code, const char *disp)
{
    igw_table *t = c->t;
    bool same_code = t->fixed.code == NULL || code == NULL || strcmp(t->fixed.code, code) == 0;

    if (t->unmapped != IGW_UNMAPPED_ERROR && (t->unmapped != mode || !same_code)) {
        return cm_fail(c, g, -1, -1, "groups disagree on unmapped (lookups are by code only)");
    }
    t->unmapped = mode;
    if (mode == IGW_UNMAPPED_FIXED && t->fixed.code == NULL) {
        t->fixed.code_len = strlen(code);
        t->fixed.code = arena_str(t, code, t->fixed.code_len);
        t->fixed.display = disp != NULL ? arena_str(t, disp, strlen(disp)) : NULL;
        if (t->fixed.code == NULL || (disp != NULL && t->fixed.display == NULL)) {
            return IGW_ENOMEM;
        }
    }
    return IGW_OK;
}

static int
cm_unmapped(struct cm *c, const cJSON *gj, int g)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(gj, "unmapped");
    bool bad = false;
    const char *mode;
    const char *code;
    const char *disp;

    if (u == NULL) {
        return IGW_OK;
    }
    mode = cm_str(u, "mode", &bad);
    code = cm_str(u, "code", &bad);
    disp = cm_str(u, "display", &bad);
    if (bad || !cJSON_IsObject(u) || mode == NULL) {
        return cm_fail(c, g, -1, -1, "unmapped needs a mode");
    }
    if (strcmp(mode, "provided") == 0) {
        return cm_set_unmapped(c, g, IGW_UNMAPPED_PROVIDED, NULL, NULL);
    }
    if (strcmp(mode, "fixed") == 0) {
        if (code == NULL || code[0] == '\0') {
            return cm_fail(c, g, -1, -1, "unmapped mode 'fixed' needs a code");
        }
        return cm_set_unmapped(c, g, IGW_UNMAPPED_FIXED, code, disp);
    }
    return cm_fail(c, g, -1, -1,
                   strcmp(mode, "other-map") == 0
                       ? "unmapped mode 'other-map' is not supported (merge the maps instead)"
                       : "unknown unmapped mode (want provided or fixed)");
}

static int
cm_group(struct cm *c, const cJSON *gj, int g)
{
    bool bad = false;
    const char *src = cm_str(gj, "source", &bad);
    const char *tgt = cm_str(gj, "target", &bad);
    const cJSON *elements = cJSON_GetObjectItemCaseSensitive(gj, "element");
    const cJSON *ej;
    struct pair base;
    int e = 0;
    int rv;

    if (bad || !cJSON_IsObject(gj) || (elements != NULL && !cJSON_IsArray(elements))) {
        return cm_fail(c, g, -1, -1,
                       "a group is an object with string source/target and an "
                       "element array");
    }
    memset(&base, 0, sizeof(base));
    base.group = (unsigned)g;
    base.ssys = src != NULL ? arena_str(c->t, src, strlen(src)) : NULL;
    base.tsys = tgt != NULL ? arena_str(c->t, tgt, strlen(tgt)) : NULL;
    if ((src != NULL && base.ssys == NULL) || (tgt != NULL && base.tsys == NULL)) {
        return IGW_ENOMEM;
    }
    cJSON_ArrayForEach(ej, elements)
    {
        base.elem = (unsigned)e++;
        rv = cm_element(c, ej, &base);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return cm_unmapped(c, gj, g);
}

static int
cm_root(struct cm *c, const cJSON *root)
{
    bool bad = false;
    const char *rt = cm_str(root, "resourceType", &bad);
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(root, "group");
    const cJSON *gj;
    int g = 0;
    int rv;

    if (!cJSON_IsObject(root) || rt == NULL || strcmp(rt, "ConceptMap") != 0) {
        return cm_fail(c, -1, -1, -1, "not a FHIR ConceptMap (resourceType)");
    }
    if (!cJSON_IsArray(groups) || cJSON_GetArraySize(groups) == 0) {
        return cm_fail(c, -1, -1, -1, "ConceptMap has no group");
    }
    cJSON_ArrayForEach(gj, groups)
    {
        rv = cm_group(c, gj, g++);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

static int
cm_load(igw_table *t, const char *text, size_t len, char *errbuf, size_t errlen)
{
    struct cm c = {t, errbuf, errlen};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    int rv;

    t->json = true;
    if (root == NULL) {
        unsigned line;
        unsigned col;
        size_t off = end != NULL && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        line_col(text, off, &line, &col);
        igw_errbuf_set(errbuf, errlen, "%s:%u:%u: invalid JSON", t->path, line, col);
        return IGW_EPARSE;
    }
    rv = cm_root(&c, root);
    cJSON_Delete(root);
    return rv;
}

/* ---- loading ------------------------------------------------------------------------------ */

static bool
looks_like_json(const char *file, const char *text, size_t len)
{
    size_t i = 0;
    if (ends_with_ci(file, ".csv")) {
        return false;
    }
    if (ends_with_ci(file, ".json")) {
        return true;
    }
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) {
        i++;
    }
    return i < len && text[i] == '{';
}

int
igw_table_parse(igw_table **out, const char *file, const char *text, size_t len, char *errbuf,
                size_t errlen)
{
    igw_table *t = NULL;
    int rv = table_new(&t, file);

    if (rv != IGW_OK) {
        goto fail;
    }
    t->text = text;
    t->text_len = len;
    rv = looks_like_json(file, text, len) ? cm_load(t, text, len, errbuf, errlen)
                                          : csv_load(t, text, len, errbuf, errlen);
    if (rv != IGW_OK) {
        goto fail;
    }
    rv = build_forward(t, errbuf, errlen);
    if (rv != IGW_OK) {
        goto fail;
    }
    rv = build_inverse(t);
    if (rv != IGW_OK) {
        goto fail;
    }
    rv = finish_ambiguity(t);
    if (rv != IGW_OK) {
        goto fail;
    }
    t->text = NULL;
    *out = t;
    return IGW_OK;
fail:
    if (rv == IGW_ENOMEM || rv == IGW_ETOOBIG) {
        igw_errbuf_set(errbuf, errlen, "%s: %s", file, igw_strerror(rv));
    }
    igw_table_free(t);
    return rv;
}

static int
read_file(const char *path, struct igw_buf *b, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char chunk[16384];
    size_t n;
    int rv = IGW_OK;

    if (f == NULL) {
        igw_errbuf_set(errbuf, errlen, "%s: %s", path, strerror(errno));
        return IGW_EIO;
    }
    for (;;) {
        n = fread(chunk, 1, sizeof(chunk), f);
        if (n == 0) {
            break;
        }
        rv = igw_buf_append(b, chunk, n);
        if (rv != IGW_OK) {
            igw_errbuf_set(errbuf, errlen, "%s: %s", path, igw_strerror(rv));
            break;
        }
    }
    if (rv == IGW_OK && ferror(f)) {
        igw_errbuf_set(errbuf, errlen, "%s: read error", path);
        rv = IGW_EIO;
    }
    fclose(f);
    return rv;
}

int
igw_table_load(igw_table **out, const char *path, char *errbuf, size_t errlen)
{
    struct igw_buf b;
    int rv;

    igw_buf_init(&b, TABLE_MAX_FILE);
    rv = read_file(path, &b, errbuf, errlen);
    if (rv == IGW_OK) {
        rv = igw_table_parse(out, path, b.ptr != NULL ? b.ptr : "", b.len, errbuf, errlen);
    }
    igw_buf_fini(&b);
    return rv;
}

/* ---- lookups ------------------------------------------------------------------------------ */

static void
fill_entry(const struct pair *p, bool inverse, struct igw_table_entry *e)
{
    if (inverse) {
        e->code = p->src;
        e->code_len = p->src_len;
        e->system = p->ssys;
        e->display = NULL;
        return;
    }
    e->code = p->tgt;
    e->code_len = p->tgt_len;
    e->system = p->tsys;
    e->display = p->display;
}

bool
igw_table_lookup(const igw_table *t, bool inverse, const char *code, size_t len,
                 struct igw_table_entry *e)
{
    const struct index *ix = inverse ? &t->inv : &t->fwd;
    const struct slot *s = index_probe(ix, t->pairs, inverse, code, len, hash_bytes(code, len));

    if (s->idx != 0) {
        fill_entry(&t->pairs[s->idx - 1], inverse, e);
        return true;
    }
    if (t->unmapped == IGW_UNMAPPED_PROVIDED) {
        e->code = code;
        e->code_len = len;
        e->system = NULL;
        e->display = NULL;
        return true;
    }
    if (t->unmapped == IGW_UNMAPPED_FIXED && !inverse) {
        *e = t->fixed;
        return true;
    }
    return false;
}

bool
igw_table_invertible(const igw_table *t)
{
    return t->ambiguity == NULL;
}

const char *
igw_table_ambiguity(const igw_table *t)
{
    return t->ambiguity;
}

const char *
igw_table_name(const igw_table *t)
{
    return t->name;
}

const char *
igw_table_path(const igw_table *t)
{
    return t->path;
}

size_t
igw_table_size(const igw_table *t)
{
    return t->nforward;
}

enum igw_unmapped
igw_table_unmapped(const igw_table *t, const char **fixed_code)
{
    if (fixed_code != NULL) {
        *fixed_code = t->unmapped == IGW_UNMAPPED_FIXED ? t->fixed.code : NULL;
    }
    return t->unmapped;
}
