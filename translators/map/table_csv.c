/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CSV reader of the lookup tables (table_int.h): a header line naming the columns
 * source,target[,system,display,comment], one pair per record, RFC 4180 quoting, blank lines and
 * '#' comment lines skipped, and the directive lines "# unmapped: provided" and
 * "# unmapped: fixed CODE[,DISPLAY]".
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/arena.h"
#include "igw/maptable.h"

#include "table_int.h"

#define CSV_MAX_FIELDS 8

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
    igw_text_position(c->s, c->s + at, &line, &col);
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
    f->str = table_arena_str(c->t, c->s + c->i, i - c->i);
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
    c->t->fixed.code = table_arena_str(c->t, c->s + b, ce - b);
    c->t->fixed.code_len = ce - b;
    if (comma < e) {
        db = comma + 1;
        trim(c->s, &db, &e);
        c->t->fixed.display = table_arena_str(c->t, c->s + db, e - db);
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
    return table_pair_add(c->t, &p);
}

int
table_csv_load(igw_table *t, const char *text, size_t len, char *errbuf, size_t errlen)
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
