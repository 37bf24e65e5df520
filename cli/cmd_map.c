/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw map run|test|lint: the command-line face of the mapping engine (include/igw/map.h).
 *
 *   igw map run MAP [--reverse] [--from F] [--to F] [--pretty] < in > out
 *   igw map test [DIR]     golden cases DIR/<map>/tests/<case>/{input,expected}.<ext>
 *   igw map lint [DIR]     compile every map, print findings as file:line:col: rule: message
 *
 * MAP is a map directory (mappings/<name>, holding the file "map") or a map file; DIR is a
 * folder of map directories (default "mappings") or one map directory.
 *
 * This file holds the dispatch, run, lint and the helpers the other two share; test is in
 * cmd_map_test.c and its tree diff in tree_diff.c (what crosses files is in cmd_map_int.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/doc.h"
#include "igw/map.h"
#include "igw/maptable.h"

#include "cmds.h"
#include "cmd_map_int.h"

#define MAP_MAX_FILE ((size_t)256 << 20)

/* ---- files and directories --------------------------------------------------------------- */

/* dir + "/" + name into buf; false (and buf empty) when it does not fit. */
bool
cmdmap_path_join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len) {
        buf[0] = '\0';
        return false;
    }
    return true;
}

static bool
is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads path into b (initialised here; the caller finis it). Errors go to stderr. */
int
cmdmap_read_path(const char *path, struct igw_buf *b)
{
    FILE *f;
    int rv;

    igw_buf_init(b, MAP_MAX_FILE);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open\n", path);
        return IGW_EIO;
    }
    rv = igw_buf_read_stream(b, f);
    fclose(f);
    if (rv != IGW_OK) {
        fprintf(stderr, "%s: %s\n", path, igw_strerror(rv));
    }
    return rv;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
cmdmap_names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++) {
        igw_free(ns->v[i]);
    }
    IGW_FREE(ns->v);
    ns->n = 0;
}

/* The sorted names in dir that are directories (dirs = true) or files, without dot files. */
int
cmdmap_list_dir(const char *dir, bool dirs, struct names *out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    int rv = IGW_OK;

    out->v = NULL;
    out->n = 0;
    if (d == NULL) {
        return IGW_ENOENT;
    }
    for (e = readdir(d); e != NULL && rv == IGW_OK; e = readdir(d)) {
        char **nv;
        (void)cmdmap_path_join(path, sizeof(path), dir, e->d_name);
        if (e->d_name[0] == '.' || (dirs ? !is_dir(path) : !is_file(path))) {
            continue;
        }
        nv = igw_realloc(out->v, (out->n + 1) * sizeof(*nv));
        rv = nv != NULL ? IGW_OK : IGW_ENOMEM;
        if (nv != NULL) {
            out->v = nv;
            out->v[out->n] = igw_strdup(e->d_name);
            rv = out->v[out->n] != NULL ? IGW_OK : IGW_ENOMEM;
            out->n += rv == IGW_OK;
        }
    }
    closedir(d);
    if (out->n > 1) {
        qsort(out->v, out->n, sizeof(*out->v), cmp_names);
    }
    return rv;
}

/* ---- loading maps ------------------------------------------------------------------------ */

/* Compiles the map at path (a map directory or a map file) with set (may be NULL). */
int
cmdmap_compile_map(const char *path, const igw_map_set *set, igw_map **out, char *err,
                   size_t errlen)
{
    char file[4096];
    char base[4096];
    struct igw_buf text;
    const char *slash;
    int rv;

    if (is_dir(path)) {
        (void)cmdmap_path_join(file, sizeof(file), path, "map");
        snprintf(base, sizeof(base), "%s", path);
    } else {
        snprintf(file, sizeof(file), "%s", path);
        slash = strrchr(path, '/');
        snprintf(base, sizeof(base), "%.*s", slash != NULL ? (int)(slash - path) : 1,
                 slash != NULL ? path : ".");
    }
    rv = cmdmap_read_path(file, &text);
    if (rv == IGW_OK) {
        rv = igw_map_compile(out, file, text.ptr != NULL ? text.ptr : "", text.len, base, set, err,
                             errlen);
    } else {
        igw_errbuf_set(err, errlen, "%s: cannot read the map", file);
    }
    igw_buf_fini(&text);
    return rv;
}

/* A map set over dir for maps that call other maps; NULL when it does not load (each map is
 * then compiled alone and reports its own errors). */
static igw_map_set *
load_set(const char *dir)
{
    igw_map_set *s = NULL;
    char err[IGW_ERRBUF_SIZE];

    if (igw_map_set_load(&s, dir, err, sizeof(err)) != IGW_OK) {
        return NULL;
    }
    return s;
}

/* The parent directory of a map directory (for its set), into buf. */
static void
parent_dir(const char *path, char *buf, size_t len)
{
    size_t n = strlen(path);

    while (n > 1 && path[n - 1] == '/') {
        n--;
    }
    while (n > 0 && path[n - 1] != '/') {
        n--;
    }
    if (n == 0) {
        snprintf(buf, len, ".");
    } else {
        snprintf(buf, len, "%.*s", n > 1 ? (int)(n - 1) : 1, path);
    }
}

/* ---- parse / apply / write helpers -------------------------------------------------------- */

/* A codec message without its own "line N, column M: " prefix (we print file:line:col). */
static const char *
strip_position(const char *msg)
{
    const char *colon = strstr(msg, ": ");
    const char *column = strstr(msg, "column ");
    if (strncmp(msg, "line ", 5) == 0 && colon != NULL && column != NULL && column < colon) {
        return colon + 2;
    }
    return msg;
}

int
cmdmap_parse_doc(const char *name, enum igw_format f, igw_arena *a, const struct igw_buf *b,
                 struct igw_node **root)
{
    struct igw_parse_error perr;
    int rv;

    memset(&perr, 0, sizeof(perr));
    rv = igw_doc_parse(f, a, b->ptr != NULL ? b->ptr : "", b->len, NULL, root, &perr);
    if (rv != IGW_OK) {
        fprintf(stderr, "%s:%u:%u: %s\n", name, perr.line, perr.column,
                perr.msg[0] != '\0' ? strip_position(perr.msg) : igw_strerror(rv));
    }
    return rv;
}

int
cmdmap_apply(const igw_map *m, bool reverse, igw_arena *a, const struct igw_node *in,
             struct igw_node **out, char *err, size_t errlen)
{
    struct igw_map_limits lim;
    memset(&lim, 0, sizeof(lim));
    err[0] = '\0';
    return igw_map_apply(m, reverse, a, in, &lim, out, err, errlen);
}

/* ---- the maps of igw map test|lint -------------------------------------------------------- */

int
cmdmap_dir_arg(int argc, char **argv, const char *verb, const char **dir)
{
    *dir = argc > 2 ? argv[2] : "mappings";
    if (argc > 3) {
        fprintf(stderr, "usage: igw map %s [DIR]\n", verb);
        return 2;
    }
    if (!is_dir(*dir)) {
        fprintf(stderr, "%s: not a directory\n", *dir);
        return 2;
    }
    return 0;
}

/* The map directories to visit: dir itself when it holds a "map" file, else its subfolders
 * that do. names->v[i] is a path; base names come from base_of. */
int
cmdmap_map_dirs(const char *dir, struct names *out)
{
    char path[4096];
    struct names sub;
    size_t k = 0;
    int rv;

    (void)cmdmap_path_join(path, sizeof(path), dir, "map");
    if (is_file(path)) {
        out->n = 0;
        out->v = igw_calloc(1, sizeof(*out->v));
        if (out->v == NULL) {
            return IGW_ENOMEM;
        }
        out->v[0] = igw_strdup(dir);
        out->n = out->v[0] != NULL;
        return out->n == 1 ? IGW_OK : IGW_ENOMEM;
    }
    rv = cmdmap_list_dir(dir, true, &sub);
    for (size_t i = 0; i < sub.n; i++) {
        snprintf(path, sizeof(path), "%s/%s/map", dir, sub.v[i]);
        if (!is_file(path)) {
            igw_free(sub.v[i]);
            continue;
        }
        (void)cmdmap_path_join(path, sizeof(path), dir, sub.v[i]);
        igw_free(sub.v[i]);
        sub.v[k] = igw_strdup(path);
        k += sub.v[k] != NULL;
    }
    sub.n = k;
    *out = sub;
    return rv;
}

igw_map_set *
cmdmap_dir_set(const char *dir, const struct names *maps)
{
    return maps->n == 1 && strcmp(maps->v[0], dir) == 0 ? NULL : load_set(dir);
}

/* ---- igw map run -------------------------------------------------------------------------- */

struct run_opts {
    const char *map;
    bool reverse;
    bool pretty;
    enum igw_format from;
    enum igw_format to;
};

static int
run_usage(void)
{
    fprintf(stderr, "usage: igw map run MAP [--reverse] [--from json|xml|csv] "
                    "[--to json|xml|csv] [--pretty] < input > output\n");
    return 2;
}

static int
run_args(int argc, char **argv, struct run_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--reverse") == 0) {
            o->reverse = true;
        } else if (strcmp(a, "--pretty") == 0) {
            o->pretty = true;
        } else if ((strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) && i + 1 < argc) {
            enum igw_format f = igw_format_parse(argv[++i]);
            if (f == IGW_FMT_NONE) {
                fprintf(stderr, "igw map run: unknown format '%s'\n", argv[i]);
                return 2;
            }
            *(a[2] == 'f' ? &o->from : &o->to) = f;
        } else if (a[0] != '-' && o->map == NULL) {
            o->map = a;
        } else {
            return run_usage();
        }
    }
    return o->map != NULL ? 0 : run_usage();
}

static int
run_write(enum igw_format f, const struct igw_node *out, bool pretty)
{
    struct igw_buf b;
    int rv;

    igw_buf_init(&b, MAP_MAX_FILE);
    rv = igw_doc_write(f, out, &b, pretty ? IGW_WRITE_PRETTY : 0);
    if (rv == IGW_OK && f == IGW_FMT_JSON && (b.len == 0 || b.ptr[b.len - 1] != '\n')) {
        rv = igw_buf_putc(&b, '\n');
    }
    if (rv == IGW_OK && fwrite(b.ptr, 1, b.len, stdout) != b.len) {
        rv = IGW_EIO;
    }
    if (rv == IGW_EINVAL) {
        fprintf(stderr,
                "igw map run: the output cannot be written as %s (XML needs an object "
                "with one member, the root element; CSV an array of rows)\n",
                f == IGW_FMT_XML ? "xml" : "csv");
    } else if (rv != IGW_OK) {
        fprintf(stderr, "igw map run: writing the output: %s\n", igw_strerror(rv));
    }
    igw_buf_fini(&b);
    return rv;
}

static int
run_map(const struct run_opts *o, const igw_map *m)
{
    enum igw_format in_f = o->reverse ? igw_map_output_format(m) : igw_map_input_format(m);
    enum igw_format out_f = o->reverse ? igw_map_input_format(m) : igw_map_output_format(m);
    char err[IGW_ERRBUF_SIZE];
    struct igw_buf in;
    struct igw_node *root = NULL;
    struct igw_node *out = NULL;
    igw_arena *a = NULL;
    int rv;

    igw_buf_init(&in, MAP_MAX_FILE);
    rv = igw_arena_new(&a, MAP_ARENA_LIMIT);
    if (rv == IGW_OK) {
        rv = igw_buf_read_stream(&in, stdin);
    }
    if (rv != IGW_OK) {
        fprintf(stderr, "<stdin>: %s\n", igw_strerror(rv));
        goto out;
    }
    rv = cmdmap_parse_doc("<stdin>", o->from != IGW_FMT_NONE ? o->from : in_f, a, &in, &root);
    if (rv != IGW_OK) {
        goto out;
    }
    rv = cmdmap_apply(m, o->reverse, a, root, &out, err, sizeof(err));
    if (rv != IGW_OK) {
        fprintf(stderr, "%s\n", err[0] != '\0' ? err : igw_strerror(rv));
        goto out;
    }
    rv = run_write(o->to != IGW_FMT_NONE ? o->to : out_f, out, o->pretty);
out:
    igw_arena_free(a);
    igw_buf_fini(&in);
    return rv;
}

static int
cmd_run(int argc, char **argv)
{
    struct run_opts o;
    char err[IGW_ERRBUF_SIZE];
    char parent[4096];
    igw_map_set *set = NULL;
    igw_map *m = NULL;
    int rv = run_args(argc, argv, &o);

    if (rv != 0) {
        return rv;
    }
    if (is_dir(o.map)) {
        parent_dir(o.map, parent, sizeof(parent));
        set = load_set(parent);
    }
    rv = cmdmap_compile_map(o.map, set, &m, err, sizeof(err));
    if (rv != IGW_OK) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    if (o.reverse && !igw_map_invertible(m)) {
        fprintf(stderr, "igw map run: %s is not invertible (see igw map lint)\n", o.map);
        rv = IGW_EINVAL;
        goto out;
    }
    rv = run_map(&o, m);
out:
    igw_map_free(m);
    igw_map_set_free(set);
    return rv == IGW_OK ? 0 : 1;
}

/* ---- igw map lint ------------------------------------------------------------------------- */

static void
print_finding(void *arg, const struct igw_map_finding *f)
{
    unsigned *n = arg;
    printf("%s:%u:%u: %s: %s\n", f->file != NULL ? f->file : "?", f->line, f->column,
           f->rule != NULL ? f->rule : "-", f->message != NULL ? f->message : "");
    (*n)++;
}

/* Loads every table in mapdir/tables: a table that does not load is an error, an ambiguous
 * inverse a finding. */
static void
lint_tables(const char *mapdir, unsigned *errors, unsigned *findings)
{
    char dir[4096];
    char path[4096];
    char err[IGW_ERRBUF_SIZE];
    struct names files;

    (void)cmdmap_path_join(dir, sizeof(dir), mapdir, "tables");
    (void)cmdmap_list_dir(dir, false, &files);
    for (size_t i = 0; i < files.n; i++) {
        igw_table *tb = NULL;
        (void)cmdmap_path_join(path, sizeof(path), dir, files.v[i]);
        if (igw_table_load(&tb, path, err, sizeof(err)) != IGW_OK) {
            printf("%s\n", err);
            (*errors)++;
            continue;
        }
        if (!igw_table_invertible(tb)) {
            printf("%s:1:1: table '%s': inverse is ambiguous: %s\n", path, igw_table_name(tb),
                   igw_table_ambiguity(tb));
            (*findings)++;
        }
        igw_table_free(tb);
    }
    cmdmap_names_free(&files);
}

static int
cmd_lint(int argc, char **argv)
{
    const char *dir;
    char err[IGW_ERRBUF_SIZE];
    unsigned errors = 0;
    unsigned findings = 0;
    struct names maps;
    igw_map_set *set = NULL;
    int rv = cmdmap_dir_arg(argc, argv, "lint", &dir);

    if (rv != 0) {
        return rv;
    }
    rv = cmdmap_map_dirs(dir, &maps);
    if (rv != IGW_OK) {
        fprintf(stderr, "igw map lint: %s\n", igw_strerror(rv));
        cmdmap_names_free(&maps);
        return 1;
    }
    set = cmdmap_dir_set(dir, &maps);
    for (size_t i = 0; i < maps.n; i++) {
        igw_map *m = NULL;
        if (cmdmap_compile_map(maps.v[i], set, &m, err, sizeof(err)) != IGW_OK) {
            printf("%s\n", err);
            errors++;
        } else {
            igw_map_lint(m, print_finding, &findings);
        }
        lint_tables(maps.v[i], &errors, &findings);
        igw_map_free(m);
    }
    printf("%zu map(s), %u finding(s), %u error(s)\n", maps.n, findings, errors);
    rv = errors == 0 && maps.n > 0 ? 0 : 1;
    igw_map_set_free(set);
    cmdmap_names_free(&maps);
    return rv;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static int
map_usage(FILE *f)
{
    fprintf(f, "usage: igw map <command>\n"
               "  run MAP [--reverse] [--from F] [--to F] [--pretty] < in > out\n"
               "                     apply a map (a mappings/<name> folder or a map file)\n"
               "  test [DIR]         run the golden cases DIR/<map>/tests/<case>/ "
               "(default mappings)\n"
               "  lint [DIR]         compile every map and list the lint findings\n"
               "formats: json, xml, csv (default: the map header)\n");
    return f == stderr ? 2 : 0;
}

int
igw_cmd_map(int argc, char **argv)
{
    if (argc < 2) {
        return map_usage(stderr);
    }
    if (strcmp(argv[1], "run") == 0) {
        return cmd_run(argc, argv);
    }
    if (strcmp(argv[1], "test") == 0) {
        return cmdmap_test(argc, argv);
    }
    if (strcmp(argv[1], "lint") == 0) {
        return cmd_lint(argc, argv);
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        return map_usage(stdout);
    }
    return map_usage(stderr);
}
