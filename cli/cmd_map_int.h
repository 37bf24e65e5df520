/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of `igw map` (cmds.h igw_cmd_map), shared by the files that implement it:
 *
 *   cmd_map.c       dispatch, `igw map run`, `igw map lint`, and the helpers below (files and
 *                   directories, compiling maps, parsing documents, applying a map)
 *   cmd_map_test.c  `igw map test`: the golden-case runner and the round trips
 *   tree_diff.c     the path-level "-want +got" report of two trees
 *
 * Errors go to stderr unless a function says otherwise; nothing here is thread-safe or needs to
 * be (one command per process).
 */
#ifndef IGW_CMD_MAP_INT_H
#define IGW_CMD_MAP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/doc.h"
#include "igw/map.h"

#define MAP_ARENA_LIMIT ((size_t)1 << 30)

/* A list of names (or paths) the list owns. */
struct names {
    char **v;
    size_t n;
};

/* ---- cmd_map.c ---------------------------------------------------------------------------- */

/* dir + "/" + name into buf; false (and buf empty) when it does not fit. */
bool cmdmap_path_join(char *buf, size_t len, const char *dir, const char *name);

/* Frees the names and their array; ns is empty afterwards. */
void cmdmap_names_free(struct names *ns);

/* The sorted names in dir that are directories (dirs = true) or files, without dot files.
 * IGW_OK, IGW_ENOENT (not a directory) or IGW_ENOMEM; out is always set (free it with
 * cmdmap_names_free, even on error). */
int cmdmap_list_dir(const char *dir, bool dirs, struct names *out);

/* Reads path into b (initialised here; the caller finis it, even on error). Errors go to
 * stderr. IGW_OK, IGW_EIO, IGW_ENOMEM or IGW_ETOOBIG. */
int cmdmap_read_path(const char *path, struct igw_buf *b);

/* Compiles the map at path (a map directory or a map file) with set (may be NULL). On error err
 * holds the message. */
int cmdmap_compile_map(const char *path, const igw_map_set *set, igw_map **out, char *err,
                       size_t errlen);

/* Parses b as format f into *root (in a); on error prints "name:line:col: message" to stderr. */
int cmdmap_parse_doc(const char *name, enum igw_format f, igw_arena *a, const struct igw_buf *b,
                     struct igw_node **root);

/* Applies m forward or in reverse, without limits; on error err holds the message (may be
 * empty). */
int cmdmap_apply(const igw_map *m, bool reverse, igw_arena *a, const struct igw_node *in,
                 struct igw_node **out, char *err, size_t errlen);

/* The DIR argument of `igw map VERB [DIR]` (default "mappings") into *dir: 0, or 2 after
 * printing the usage (too many arguments) or "DIR: not a directory". */
int cmdmap_dir_arg(int argc, char **argv, const char *verb, const char **dir);

/* The map directories to visit: dir itself when it holds a "map" file, else its subfolders
 * that do, as paths. out is always set (free it with cmdmap_names_free). */
int cmdmap_map_dirs(const char *dir, struct names *out);

/* The map set for maps (from cmdmap_map_dirs(dir)): NULL when dir is itself the one map
 * directory or the set does not load (each map is then compiled alone). The caller frees it. */
igw_map_set *cmdmap_dir_set(const char *dir, const struct names *maps);

/* ---- cmd_map_test.c ----------------------------------------------------------------------- */

/* igw map test [DIR]: 0 when every case passed and there was one, 1 otherwise, 2 for usage. */
int cmdmap_test(int argc, char **argv);

/* ---- cmd_map_search.c --------------------------------------------------------------------- */

/* The golden cases of the search maps under dir (DIR/<map>/search-tests/<case>/), counted into
 * passed/failed, one line each to stdout; maps is the record-map set (NULL: the cases fail). */
void cmdmap_search_tests(const char *dir, const struct names *mapdirs, const igw_map_set *maps,
                         igw_arena *a, unsigned *passed, unsigned *failed, struct igw_buf *log);

/* ---- tree_diff.c -------------------------------------------------------------------------- */

/* Prints the differences of got against want to log, one "    -want +got at PATH: ..." line
 * each (at most 20, then a count); returns how many. subset: got's members must all be in want
 * with equal values, want may have more and order is free (the round-trip check). */
unsigned cmdmap_diff_report(struct igw_buf *log, const struct igw_node *want,
                            const struct igw_node *got, bool subset);

#endif /* IGW_CMD_MAP_INT_H */
