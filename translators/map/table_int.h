/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the lookup tables (include/igw/maptable.h), shared by the three files that
 * implement them:
 *
 *   table.c      the table object, the two hash indices, ambiguity, loading, lookups (public API)
 *   table_csv.c  the CSV reader: table_csv_load
 *   table_cm.c   the FHIR R4 ConceptMap reader: table_cm_load, and table_json_where, which
 *                finds a group/element/target in the JSON text for messages
 *
 * A reader fills t->pairs through table_pair_add (and sets t->unmapped, t->fixed); table.c then
 * builds the indices once and the table is immutable. Strings live in t->arena (table_arena_str).
 * t->text (the source text) is valid only while loading.
 */
#ifndef IGW_TABLE_INT_H
#define IGW_TABLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/arena.h"
#include "igw/maptable.h"

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

/* ---- table.c ------------------------------------------------------------------------------ */

/* A copy of s[0, n) in the table's arena (NUL-terminated); NULL when out of memory. */
const char *table_arena_str(igw_table *t, const char *s, size_t n);

/* Appends a copy of *p to t->pairs. IGW_OK, IGW_ENOMEM or IGW_ETOOBIG (too many pairs). */
int table_pair_add(igw_table *t, const struct pair *p);

/* ---- readers: fill t from text (t->path names it in errbuf messages "file:line:col: ...") -- */

/* CSV with a header line (table_csv.c). IGW_OK, IGW_EPARSE (errbuf set) or IGW_ENOMEM,
 * IGW_ETOOBIG. */
int table_csv_load(igw_table *t, const char *text, size_t len, char *errbuf, size_t errlen);

/* A FHIR R4 ConceptMap in JSON (table_cm.c); sets t->json. IGW_OK, IGW_EPARSE (errbuf set) or
 * IGW_ENOMEM, IGW_ETOOBIG. */
int table_cm_load(igw_table *t, const char *text, size_t len, char *errbuf, size_t errlen);

/* Offset in t->text of group[g] (elem < 0: the group), .element[elem], .target[tgt] (tgt < 0:
 * the element); the deepest part found (table_cm.c). Only while t->text is set. */
size_t table_json_where(const igw_table *t, int g, int elem, int tgt);

#endif /* IGW_TABLE_INT_H */
