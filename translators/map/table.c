/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lookup tables for the mapping engine (include/igw/maptable.h): a CSV reader and a FHIR R4
 * ConceptMap reader fill a list of (source, target) pairs; two open-addressing hash indices
 * (forward by source, inverse by target) are built over it once, and the table is immutable
 * afterwards. Strings live in the table's own arena.
 *
 * This file holds the table object, the indices, ambiguity, loading and the lookups; the readers
 * are in table_csv.c and table_cm.c (what crosses files is in table_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>

#include "igw/common.h"
#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/maptable.h"

#include "table_int.h"

#define TABLE_MAX_FILE ((size_t)64 << 20)
#define TABLE_MAX_PAIRS ((size_t)1 << 24)

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

const char *
table_arena_str(igw_table *t, const char *s, size_t n)
{
    return igw_arena_strndup(t->arena, s, n);
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

int
table_pair_add(igw_table *t, const struct pair *p)
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

/* ---- positions (for messages) ------------------------------------------------------------- */

/* "file:line:col" of a pair, into buf. */
static void
pair_where(const igw_table *t, const struct pair *p, char *buf, size_t len)
{
    unsigned line = p->line;
    unsigned col = 1;

    if (t->json && t->text != NULL) {
        igw_text_position(t->text, t->text + table_json_where(t, (int)p->group, (int)p->elem, -1),
                          &line, &col);
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
    rv = looks_like_json(file, text, len) ? table_cm_load(t, text, len, errbuf, errlen)
                                          : table_csv_load(t, text, len, errbuf, errlen);
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
    int rv;

    if (f == NULL) {
        igw_errbuf_set(errbuf, errlen, "%s: %s", path, strerror(errno));
        return IGW_EIO;
    }
    rv = igw_buf_read_stream(b, f);
    fclose(f);
    if (rv == IGW_EIO) {
        igw_errbuf_set(errbuf, errlen, "%s: read error", path);
    } else if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "%s: %s", path, igw_strerror(rv));
    }
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
