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

/** Loads and compiles every mappings/<name>/map under dir (sub-maps may call each other by
 *  name). @return IGW_OK; IGW_ECONFIG / IGW_EPARSE with "file:line:col: rule: problem" in
 *  errbuf for the first error; IGW_EIO; IGW_ENOMEM. *out is owned by the caller. */
int igw_map_set_load(igw_map_set **out, const char *dir, char *errbuf, size_t errlen);
/** Compiles one map from text (name used for messages; base_dir for relative table paths;
 *  set may be NULL or a set whose maps this one may call). */
int igw_map_compile(igw_map **out, const char *file, const char *text, size_t len,
                    const char *base_dir, const igw_map_set *set, char *errbuf, size_t errlen);
void igw_map_free(igw_map *m);
void igw_map_set_free(igw_map_set *s);
/** The map called name in the set, or NULL. Borrowed: valid while the set lives. */
const igw_map *igw_map_set_get(const igw_map_set *s, const char *name);
/** Number of maps and the i-th one (for tooling). */
size_t igw_map_set_count(const igw_map_set *s);
const igw_map *igw_map_set_at(const igw_map_set *s, size_t i);

const char *igw_map_name(const igw_map *m);
/** Input and output formats declared in the map header (IGW_FMT_JSON when not declared). */
enum igw_format igw_map_input_format(const igw_map *m);
enum igw_format igw_map_output_format(const igw_map *m);
/** True when every rule is invertible, so the map may be applied with reverse = true. */
bool igw_map_invertible(const igw_map *m);

struct igw_map_limits {
    unsigned max_depth;      /* nesting of output and sub-map calls; 0 = 64 */
    uint64_t max_iterations; /* loop iterations per message; 0 = 1,000,000 */
    size_t max_output_nodes; /* 0 = 1,000,000 */
    uint64_t now_ms;         /* value of now() for this message; 0 = read the clock once */
};

/** Applies m to in, building the result in arena a. For speed the result is not a deep copy:
 *  its strings may point into in's strings and its keys into m, so keep in (and its arena) and
 *  m alive for as long as *out is used (the usual case: one arena per message holds both).
 *  reverse runs the derived inverse map
 *  (IGW_EINVAL if not invertible). @return IGW_OK; IGW_ETRANSLATE (errbuf names the map
 *  file:line:col, rule and input path); IGW_ELIMIT (a limit was exceeded); IGW_ENOMEM. */
int igw_map_apply(const igw_map *m, bool reverse, igw_arena *a, const struct igw_node *in,
                  const struct igw_map_limits *lim, struct igw_node **out, char *errbuf,
                  size_t errlen);

/** One lint finding: a rule that cannot run backwards (and why), an unused table or variable,
 *  a shadowed write. */
struct igw_map_finding {
    const char *file;
    unsigned line;
    unsigned column;
    const char *rule; /* rule label or target path */
    const char *message;
};
typedef void (*igw_map_lint_fn)(void *arg, const struct igw_map_finding *f);
/** Reports every finding of m to fn; returns how many. */
unsigned igw_map_lint(const igw_map *m, igw_map_lint_fn fn, void *arg);

#endif /* IGW_MAP_H */
