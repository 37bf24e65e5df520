/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CSV codec (RFC 4180): quoted fields with doubled quotes, delimiters and line breaks inside
 * quotes, CRLF or LF line ends, an optional trailing line end, a chosen delimiter and an
 * optional header row. Every record must have as many fields as the first one (the header).
 * Input must be UTF-8 (a leading BOM is skipped). The writer quotes only when needed and ends
 * lines with CRLF.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/csv.h"
#include "igw/utf8.h"

struct cparser {
    igw_arena *a;
    const char *start;
    const char *p;
    const char *end;
    char delim;
    size_t max_nodes;
    size_t nodes;
    struct igw_parse_error *err;
};

/* ---- errors ------------------------------------------------------------------------------ */

static int cfail(struct cparser *cp, const char *pos, int rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
cfail(struct cparser *cp, const char *pos, int rv, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    igw_parse_error_vset(cp->err, cp->start, pos, fmt, ap);
    va_end(ap);
    return rv;
}

/* ---- UTF-8 ------------------------------------------------------------------------------- */

static int
check_utf8(struct cparser *cp)
{
    size_t bad = 0;

    if (!igw_utf8_valid(cp->p, (size_t)(cp->end - cp->p), &bad)) {
        return cfail(cp, cp->p + bad, IGW_EPARSE, "invalid UTF-8");
    }
    return IGW_OK;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static struct igw_node *
cnode(struct cparser *cp, enum igw_node_type type, size_t extra, int *rv)
{
    struct igw_node *n;

    if (cp->max_nodes != 0 && cp->nodes >= cp->max_nodes) {
        *rv = cfail(cp, cp->p, IGW_ELIMIT, "more than %zu nodes", cp->max_nodes);
        return NULL;
    }
    n = igw_arena_alloc(cp->a, sizeof(*n) + extra);
    if (n == NULL) {
        *rv = cfail(cp, cp->p, IGW_ENOMEM, "out of memory (arena limit)");
        return NULL;
    }
    memset(n, 0, sizeof(*n));
    n->type = (uint8_t)type;
    cp->nodes++;
    return n;
}

static bool
at_line_end(const struct cparser *cp, const char *p)
{
    return p >= cp->end || *p == '\n' || (*p == '\r' && p + 1 < cp->end && p[1] == '\n');
}

/* A quoted field: p at the opening quote. */
static int
parse_quoted(struct cparser *cp, struct igw_node **out)
{
    const char *open = cp->p;
    const char *p = open + 1;
    size_t quotes = 0;
    struct igw_node *n;
    char *d;
    int rv = IGW_OK;

    for (;;) {
        const char *q = memchr(p, '"', (size_t)(cp->end - p));
        if (q == NULL) {
            return cfail(cp, open, IGW_EPARSE, "unterminated quoted field");
        }
        if (q + 1 < cp->end && q[1] == '"') {
            quotes++;
            p = q + 2;
            continue;
        }
        p = q; /* closing quote */
        break;
    }
    if ((size_t)(p - open - 1) > UINT32_MAX) {
        return cfail(cp, open, IGW_ELIMIT, "field longer than 4 GiB");
    }
    n = cnode(cp, IGW_NODE_STRING, (size_t)(p - open - 1) - quotes + 1, &rv);
    if (n == NULL) {
        return rv;
    }
    d = (char *)(n + 1);
    n->str = d;
    for (const char *s = open + 1; s < p; s++) {
        *d++ = *s;
        if (*s == '"') {
            s++; /* the second quote of a pair */
        }
    }
    *d = '\0';
    n->len = (uint32_t)(d - n->str);
    p++;
    if (!at_line_end(cp, p) && *p != cp->delim) {
        return cfail(cp, p, IGW_EPARSE, "unexpected character after a closing quote");
    }
    cp->p = p;
    *out = n;
    return IGW_OK;
}

static int
parse_plain(struct cparser *cp, struct igw_node **out)
{
    const char *s = cp->p;
    const char *p = s;
    struct igw_node *n;
    int rv = IGW_OK;

    while (p < cp->end && *p != cp->delim && *p != '\n') {
        if (*p == '"') {
            return cfail(cp, p, IGW_EPARSE, "quote inside an unquoted field");
        }
        if (*p == '\r' && p + 1 < cp->end && p[1] == '\n') {
            break;
        }
        p++;
    }
    if ((size_t)(p - s) > UINT32_MAX) {
        return cfail(cp, s, IGW_ELIMIT, "field longer than 4 GiB");
    }
    n = cnode(cp, IGW_NODE_STRING, (size_t)(p - s) + 1, &rv);
    if (n == NULL) {
        return rv;
    }
    memcpy(n + 1, s, (size_t)(p - s));
    ((char *)(n + 1))[p - s] = '\0';
    n->str = (const char *)(n + 1);
    n->len = (uint32_t)(p - s);
    cp->p = p;
    *out = n;
    return IGW_OK;
}

/* One record into a fresh ARRAY of STRINGs; consumes the line end. */
static int
parse_record(struct cparser *cp, struct igw_node **out)
{
    int rv = IGW_OK;
    struct igw_node *rec = cnode(cp, IGW_NODE_ARRAY, 0, &rv);

    if (rec == NULL) {
        return rv;
    }
    for (;;) {
        struct igw_node *f = NULL;
        rv = cp->p < cp->end && *cp->p == '"' ? parse_quoted(cp, &f) : parse_plain(cp, &f);
        if (rv != IGW_OK) {
            return rv;
        }
        if (IGW_NEVER(f == NULL)) {
            return IGW_EINTERNAL;
        }
        igw_node_link(rec, f->key, f->key_len, f);
        if (cp->p < cp->end && *cp->p == cp->delim) {
            cp->p++;
            continue;
        }
        break;
    }
    if (cp->p < cp->end) {
        cp->p += *cp->p == '\r' ? 2 : 1;
    }
    *out = rec;
    return IGW_OK;
}

/* Turns an ARRAY record into an OBJECT keyed by the header fields. */
static void
key_record(struct igw_node *rec, const struct igw_node *header)
{
    const struct igw_node *h = header->first;

    rec->type = IGW_NODE_OBJECT;
    for (struct igw_node *f = rec->first; f != NULL && h != NULL; f = f->next, h = h->next) {
        f->key = h->str;
        f->key_len = h->len;
    }
}

static int
parse_records(struct cparser *cp, bool header, struct igw_node *root)
{
    struct igw_node *first = NULL;
    int rv = IGW_OK;

    while (rv == IGW_OK && cp->p < cp->end) {
        const char *line_start = cp->p;
        struct igw_node *rec = NULL;
        rv = parse_record(cp, &rec);
        if (rv != IGW_OK) {
            break;
        }
        if (IGW_NEVER(rec == NULL)) {
            return IGW_EINTERNAL;
        }
        if (first == NULL) {
            first = rec;
            if (header) {
                continue;
            }
        } else if (rec->count != first->count) {
            unsigned line;
            unsigned col;
            igw_text_position(cp->start, line_start, &line, &col);
            return cfail(cp, line_start, IGW_EPARSE, "record on line %u has %u fields, expected %u",
                         line, rec->count, first->count);
        }
        if (header) {
            key_record(rec, first);
        }
        igw_node_link(root, NULL, 0, rec);
    }
    return rv;
}

int
igw_csv_parse(igw_arena *a, const char *text, size_t len, const struct igw_csv_opts *opts,
              const struct igw_parse_limits *lim, struct igw_node **root,
              struct igw_parse_error *err)
{
    struct cparser cp;
    struct igw_node *r;
    bool header = opts != NULL ? opts->header : true;
    int rv = IGW_OK;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
    if (a == NULL || root == NULL || (text == NULL && len != 0)) {
        return IGW_EINVAL;
    }
    *root = NULL;
    memset(&cp, 0, sizeof(cp));
    cp.a = a;
    cp.start = cp.p = text != NULL ? text : "";
    cp.end = cp.start + len;
    cp.err = err;
    cp.delim = opts != NULL && opts->delimiter != '\0' ? opts->delimiter : ',';
    cp.max_nodes = lim != NULL ? lim->max_nodes : 0;
    if (cp.delim == '"' || cp.delim == '\r' || cp.delim == '\n') {
        return IGW_EINVAL;
    }
    if (len >= 3 && memcmp(cp.p, "\xef\xbb\xbf", 3) == 0) {
        cp.p += 3;
    }
    rv = check_utf8(&cp);
    if (rv != IGW_OK) {
        return rv;
    }
    r = cnode(&cp, IGW_NODE_ARRAY, 0, &rv);
    if (r == NULL) {
        return rv;
    }
    rv = parse_records(&cp, header, r);
    if (rv == IGW_OK) {
        *root = r;
    }
    return rv;
}

/* ---- writer ------------------------------------------------------------------------------ */

static int
write_field(struct igw_buf *b, const struct igw_node *v, char delim)
{
    const char *s;
    size_t n;
    bool quote = false;
    int rv;

    switch (v->type) {
    case IGW_NODE_STRING:
    case IGW_NODE_NUMBER:
        s = v->str != NULL ? v->str : "";
        n = v->str != NULL ? v->len : 0;
        break;
    case IGW_NODE_BOOL:
        s = v->boolean ? "true" : "false";
        n = strlen(s);
        break;
    case IGW_NODE_NULL:
        return IGW_OK;
    default:
        return IGW_EINVAL;
    }
    for (size_t i = 0; i < n && !quote; i++) {
        quote = s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    }
    if (!quote) {
        return igw_buf_append(b, s, n);
    }
    rv = igw_buf_putc(b, '"');
    while (rv == IGW_OK && n > 0) {
        const char *q = memchr(s, '"', n);
        size_t run = q != NULL ? (size_t)(q - s) + 1 : n;
        rv = igw_buf_append(b, s, run);
        if (rv == IGW_OK && q != NULL) {
            rv = igw_buf_putc(b, '"'); /* double it */
        }
        s += run;
        n -= run;
    }
    if (rv == IGW_OK) {
        rv = igw_buf_putc(b, '"');
    }
    return rv;
}

static int
write_key(struct igw_buf *b, const struct igw_node *m, char delim)
{
    struct igw_node k;

    memset(&k, 0, sizeof(k));
    k.type = IGW_NODE_STRING;
    k.str = m->key != NULL ? m->key : "";
    k.len = m->key != NULL ? m->key_len : 0;
    return write_field(b, &k, delim);
}

static bool
same_keys(const struct igw_node *a, const struct igw_node *b)
{
    const struct igw_node *x = a->first;
    const struct igw_node *y = b->first;

    if (a->count != b->count) {
        return false;
    }
    for (; x != NULL && y != NULL; x = x->next, y = y->next) {
        if (x->key_len != y->key_len || (x->key_len > 0 && memcmp(x->key, y->key, x->key_len))) {
            return false;
        }
    }
    return true;
}

/* One row: an ARRAY, or an OBJECT whose values are written in the header's order. */
static int
write_row(struct igw_buf *b, const struct igw_node *row, const struct igw_node *hdr, char delim)
{
    bool in_order = hdr == NULL || same_keys(row, hdr);
    const struct igw_node *col = in_order ? row->first : hdr->first;
    int rv = IGW_OK;

    if (!in_order && row->count != hdr->count) {
        return IGW_EINVAL; /* members the header does not name */
    }
    for (bool first = true; col != NULL && rv == IGW_OK; col = col->next, first = false) {
        const struct igw_node *v = in_order ? col : igw_node_get(row, col->key, col->key_len);
        if (!first) {
            rv = igw_buf_putc(b, delim);
        }
        if (rv == IGW_OK && v == NULL) {
            rv = IGW_EINVAL;
        }
        if (rv == IGW_OK) {
            rv = write_field(b, v, delim);
        }
    }
    if (rv == IGW_OK) {
        rv = igw_buf_append(b, "\r\n", 2);
    }
    return rv;
}

static int
write_header(struct igw_buf *b, const struct igw_node *hdr, char delim)
{
    int rv = IGW_OK;

    for (const struct igw_node *m = hdr->first; m != NULL && rv == IGW_OK; m = m->next) {
        if (m != hdr->first) {
            rv = igw_buf_putc(b, delim);
        }
        if (rv == IGW_OK) {
            rv = write_key(b, m, delim);
        }
    }
    if (rv == IGW_OK) {
        rv = igw_buf_append(b, "\r\n", 2);
    }
    return rv;
}

int
igw_csv_write(const struct igw_node *root, const struct igw_csv_opts *opts, struct igw_buf *out)
{
    char delim = opts != NULL && opts->delimiter != '\0' ? opts->delimiter : ',';
    bool header = opts != NULL ? opts->header : true;
    const struct igw_node *hdr = NULL;
    size_t start_len;
    int rv = IGW_OK;

    if (root == NULL || out == NULL || root->type != IGW_NODE_ARRAY || delim == '"' ||
        delim == '\r' || delim == '\n') {
        return IGW_EINVAL;
    }
    start_len = out->len;
    if (root->first != NULL && root->first->type == IGW_NODE_OBJECT) {
        hdr = root->first;
        if (header) {
            rv = write_header(out, hdr, delim);
        }
    }
    for (const struct igw_node *row = root->first; row != NULL && rv == IGW_OK; row = row->next) {
        if (row->type != (hdr != NULL ? IGW_NODE_OBJECT : IGW_NODE_ARRAY)) {
            rv = IGW_EINVAL;
            break;
        }
        rv = write_row(out, row, hdr, delim);
    }
    if (rv != IGW_OK) {
        out->len = start_len;
        if (out->ptr != NULL) {
            out->ptr[start_len] = '\0';
        }
    }
    return rv;
}

/* ---- the codec (default options) ----------------------------------------------------------- */

static int
csv_codec_parse(igw_arena *a, const char *text, size_t len, const struct igw_parse_limits *lim,
                struct igw_node **root, struct igw_parse_error *err)
{
    return igw_csv_parse(a, text, len, NULL, lim, root, err);
}

static int
csv_codec_write(const struct igw_node *root, struct igw_buf *out, unsigned flags)
{
    IGW_UNUSED(flags);
    return igw_csv_write(root, NULL, out);
}

static const char *const csv_extensions[] = {"csv", NULL};

const struct igw_codec igw_codec_csv = {
    .name = "csv",
    .aliases = NULL,
    .extensions = csv_extensions,
    .media_type = "text/csv",
    .media_match = "csv",
    .parse = csv_codec_parse,
    .write = csv_codec_write,
};
