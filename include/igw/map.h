/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw declarative mapping engine (translators/map/). A map file is compiled once at load into a
 * plan (paths resolved, functions and tables bound); applying a plan to a document tree
 * (include/igw/doc.h) builds the target tree in the caller's arena. The language is documented
 * in docs/MAPPING-LANGUAGE.md.
 *
 * Layout on disk: mappings/<name>/map (the map), mappings/<name>/tables/ (lookup tables, CSV or
 * FHIR ConceptMap JSON), mappings/<name>/tests/<case>/ (golden cases), optional
 * mappings/<name>/schema (allowed/required target paths).
 *
 * Threads: a compiled igw_map and igw_map_set are immutable and may be applied from several
 * threads at once, each with its own arena. Errors from compile and apply are one line written
 * into errbuf: "mappings/x/map:14:9: rule 'gender': unknown function 'lookp'".
 */
#ifndef IGW_MAP_H
#define IGW_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "igw/arena.h"
#include "igw/doc.h"

typedef struct igw_map igw_map;
typedef struct igw_map_set igw_map_set;

/* errbuf/errlen: every function that takes them writes one line there on failure (errbuf may
 * be NULL or errlen 0: no message); on success errbuf is left as it was. */

/**
 * Loads and compiles every <dir>/<name>/map (sub-maps may call each other by name; maps are
 * compiled in name order). dir (borrowed) must not be NULL; out must not be NULL.
 * On success *out is a new set owned by the caller (free with igw_map_set_free); on failure
 * *out is untouched and nothing is left allocated.
 * @return IGW_OK; IGW_EIO dir cannot be listed or a map file cannot be read; IGW_ETOOBIG a map
 *         file over the size bound; IGW_EPARSE / IGW_ECONFIG the first compile error, as
 *         "file:line:col: rule: problem" in errbuf; IGW_ENOMEM out of memory.
 */
int igw_map_set_load(igw_map_set **out, const char *dir, char *errbuf, size_t errlen);
/**
 * Compiles one map from len bytes of text (borrowed; NULL only with len 0). file names the map
 * in messages ("<map>" when NULL); base_dir (may be NULL: the current directory) resolves
 * relative table and schema paths; set (borrowed, may be NULL) holds the maps this one may
 * call, and must outlive the result. On success *out is a new map owned by the caller (free
 * with igw_map_free); on failure *out is NULL (when out is not NULL).
 * @return IGW_OK; IGW_EINVAL out is NULL, or text is NULL with len > 0; IGW_EPARSE a syntax
 *         error; IGW_ECONFIG a semantic error (unknown function, table or map, bad arguments,
 *         a table or schema that does not load); IGW_ENOMEM out of memory. errbuf gets
 *         "file:line:col: rule: problem".
 */
int igw_map_compile(igw_map **out, const char *file, const char *text, size_t len,
                    const char *base_dir, const igw_map_set *set, char *errbuf, size_t errlen);
/** Frees a map from igw_map_compile and its tables. NULL-safe. Do not free a map that belongs
 *  to a set (igw_map_set_get/at): free the set. */
void igw_map_free(igw_map *m);
/** Frees a set and every map in it. NULL-safe. */
void igw_map_set_free(igw_map_set *s);
/** The map called name in the set. Borrowed: valid while the set lives. NULL when s or name is
 *  NULL or no map has that name. */
const igw_map *igw_map_set_get(const igw_map_set *s, const char *name);
/** Number of maps in the set (0 when s is NULL). */
size_t igw_map_set_count(const igw_map_set *s);
/** The i-th map in name order (for tooling). Borrowed: valid while the set lives. NULL when s
 *  is NULL or i >= igw_map_set_count(s). */
const igw_map *igw_map_set_at(const igw_map_set *s, size_t i);

/** The map's name from its header. Borrowed, valid while m lives; "" when m is NULL. */
const char *igw_map_name(const igw_map *m);
/** Input and output formats declared in the map header (IGW_FMT_JSON when not declared or m is
 *  NULL). */
enum igw_format igw_map_input_format(const igw_map *m);
enum igw_format igw_map_output_format(const igw_map *m);
/** True when every rule is invertible, so the map may be applied with reverse = true; false
 *  when m is NULL. */
bool igw_map_invertible(const igw_map *m);

struct igw_map_limits {
    unsigned max_depth;      /* nesting of output and sub-map calls; 0 = 64 */
    uint64_t max_iterations; /* loop iterations per message; 0 = 1,000,000 */
    size_t max_output_nodes; /* 0 = 1,000,000 */
    uint64_t now_ms;         /* value of now() for this message; 0 = read the clock once */
};

/**
 * Applies m (borrowed) to the tree in (borrowed, only read), building the result in arena a.
 * For speed the result is not a deep copy: its strings may point into in's strings and its
 * keys into m, so keep in (and its arena) and m alive for as long as *out is used (the usual
 * case: one arena per message holds both). The result belongs to a; on failure *out is NULL and
 * nodes already built stay in a until its reset. lim (borrowed) may be NULL (the defaults).
 * reverse runs the derived inverse map. Thread-safe: m may be applied by several threads at
 * once, each with its own arena.
 * @return IGW_OK; IGW_EINVAL m, a, in or out is NULL, m did not compile, or reverse is asked of
 *         a map that is not invertible; IGW_ETRANSLATE the input does not fit a rule (errbuf
 *         names the map file:line:col, rule and input path); IGW_ELIMIT a limit of lim was
 *         exceeded; IGW_ENOMEM arena exhausted or out of memory; IGW_EINTERNAL a broken
 *         invariant (a bug).
 */
int igw_map_apply(const igw_map *m, bool reverse, igw_arena *a, const struct igw_node *in,
                  const struct igw_map_limits *lim, struct igw_node **out, char *errbuf,
                  size_t errlen);

/** One lint finding: a rule that cannot run backwards (and why), an unused table or variable,
 *  a shadowed write. Every pointer is borrowed and valid only during the callback. */
struct igw_map_finding {
    const char *file;
    unsigned line;
    unsigned column;
    const char *rule; /* rule label or target path */
    const char *message;
};
/** Called once per finding with the arg given to igw_map_lint. */
typedef void (*igw_map_lint_fn)(void *arg, const struct igw_map_finding *f);
/** Reports every finding of m to fn (which must not be NULL when m has findings) in source
 *  order; returns how many. Returns 0 without calling fn when m is NULL or did not compile.
 *  Never fails and allocates nothing. */
unsigned igw_map_lint(const igw_map *m, igw_map_lint_fn fn, void *arg);

#endif /* IGW_MAP_H */
