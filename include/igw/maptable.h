/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lookup tables for the mapping engine: loaded from CSV (header `source,target[,system,display]`)
 * or FHIR R4 ConceptMap JSON (group.source/target, element.code, target[].code/display/
 * equivalence, group.unmapped mode provided|fixed), compiled into hash tables at load with the
 * inverse built; many-to-one entries make the inverse ambiguous and are reported.
 * Immutable after load; thread-safe to read.
 */
#ifndef IGW_MAPTABLE_H
#define IGW_MAPTABLE_H

#include <stddef.h>
#include <stdbool.h>

typedef struct igw_table igw_table;

enum igw_unmapped { IGW_UNMAPPED_ERROR = 0, IGW_UNMAPPED_PROVIDED, IGW_UNMAPPED_FIXED };

struct igw_table_entry {
    const char *code; /* target code (forward) or source code (inverse) */
    size_t code_len;
    const char *system;  /* may be NULL */
    const char *display; /* may be NULL */
};

/* Functions that take a table (t) require a non-NULL table unless they say otherwise. */

/**
 * Loads a table from a .csv or .json (ConceptMap) file at path (borrowed, not NULL). On success
 * *out (out not NULL) is a new table owned by the caller (free with igw_table_free); on failure
 * *out is untouched. errbuf (may be NULL) gets "file:line:col: problem" or "file: problem".
 * @return IGW_OK; IGW_EIO the file cannot be opened or read; IGW_ETOOBIG the file or its number
 *         of entries is over the bound; IGW_EPARSE malformed CSV or JSON, a missing column, a
 *         source listed twice; IGW_ENOMEM out of memory.
 */
int igw_table_load(igw_table **out, const char *path, char *errbuf, size_t errlen);
/** Frees a table and every string it handed out. NULL-safe. */
void igw_table_free(igw_table *t);

/** Looks len bytes of code (borrowed) up forward (inverse=false) or backward. Returns true and
 *  fills *e (not NULL) when found; otherwise applies the unmapped policy: PROVIDED returns the
 *  input code itself (e->code is then the caller's code), FIXED the fixed code (forward only),
 *  ERROR returns false and leaves *e untouched. Other pointers in *e are borrowed from the
 *  table and live as long as it. Never fails otherwise; allocates nothing. */
bool igw_table_lookup(const igw_table *t, bool inverse, const char *code, size_t len,
                      struct igw_table_entry *e);
/** True when the inverse is a function (no two sources share a target). */
bool igw_table_invertible(const igw_table *t);
/** Describes the first ambiguity of the inverse ("target 'male' comes from 'M' and 'X'"), or
 *  NULL when invertible. Borrowed: lives as long as the table. */
const char *igw_table_ambiguity(const igw_table *t);
/** The table's name: its file name without directory and extension. Borrowed: lives as long as
 *  the table; never NULL. */
const char *igw_table_name(const igw_table *t);

/* ---- additions (table tooling, tests) ----------------------------------------------------- */
/*
 * CSV dialect: RFC 4180 (quoted fields, "" escapes, CRLF or LF, an optional UTF-8 BOM). The
 * header names the columns: source and target are required, system, display and comment are
 * optional, in any order. Blank lines and lines starting with '#' are skipped, except the
 * directive `# unmapped: provided` or `# unmapped: fixed CODE[,DISPLAY]` (the CSV form of a
 * ConceptMap's group.unmapped). A source listed twice is an error; a target listed twice makes
 * the inverse ambiguous (the inverse keeps the first source).
 *
 * ConceptMap: every group's elements are merged; a target whose equivalence (R4) or
 * relationship (R5) is "unmatched", "disjoint" or "not-related-to" is no mapping; an element
 * with several targets maps forward to its first; all its targets map back to it. The system of
 * a forward result is the group's target (the CSV system column); of an inverse result the
 * group's source.
 *
 * Unmapped policy in reverse: PROVIDED returns the code itself in both directions; a FIXED
 * default has no inverse, so an inverse lookup of an unknown code returns false.
 */

/** Like igw_table_load, from len bytes of text already in memory (borrowed; the table copies
 *  what it keeps); file (not NULL) names the table in messages and picks the format by
 *  extension (.csv, else ConceptMap JSON). Same ownership and errors, except IGW_EIO. */
int igw_table_parse(igw_table **out, const char *file, const char *text, size_t len, char *errbuf,
                    size_t errlen);
/** Number of forward mappings (source codes). */
size_t igw_table_size(const igw_table *t);
/** The unmapped policy, and in *fixed_code (fixed_code may be NULL) the fixed code when it is
 *  IGW_UNMAPPED_FIXED, else NULL. The code is borrowed: it lives as long as the table. */
enum igw_unmapped igw_table_unmapped(const igw_table *t, const char **fixed_code);

#endif /* IGW_MAPTABLE_H */
