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
 * Round trip (test, for maps with igw_map_invertible): for each case, rev = reverse(expected)
 * must (1) be contained in the input: every member rev has, the input has at the same path with
 * an equal value (arrays have the same length), so the reverse invents nothing and gets nothing
 * wrong; and (2) reproduce the output: forward(rev) == expected, so the reverse recovered every
 * input value the map reads to build its output. Together: rev equals the input restricted to
 * the paths the map reads. Input members the map ignores are not required.
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

#define MAP_MAX_FILE ((size_t)256 << 20)
#define MAP_ARENA_LIMIT ((size_t)1 << 30)
#define DIFF_MAX_LINES 20
#define REPR_MAX 72

/* ---- files and directories --------------------------------------------------------------- */

/* dir + "/" + name into buf; false (and buf empty) when it does not fit. */
static bool
path_join(char *buf, size_t len, const char *dir, const char *name)
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

static int
read_stream(FILE *f, struct igw_buf *b)
{
    char chunk[65536];
    size_t n;
    int rv;

    for (;;) {
        n = fread(chunk, 1, sizeof(chunk), f);
        if (n == 0) {
            break;
        }
        rv = igw_buf_append(b, chunk, n);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return ferror(f) ? IGW_EIO : IGW_OK;
}

/* Reads path into b (initialised here; the caller finis it). Errors go to stderr. */
static int
read_path(const char *path, struct igw_buf *b)
{
    FILE *f;
    int rv;

    igw_buf_init(b, MAP_MAX_FILE);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open\n", path);
        return IGW_EIO;
    }
    rv = read_stream(f, b);
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

struct names {
    char **v;
    size_t n;
};

static void
names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++) {
        igw_free(ns->v[i]);
    }
    IGW_FREE(ns->v);
    ns->n = 0;
}

/* The sorted names in dir that are directories (dirs = true) or files, without dot files. */
static int
list_dir(const char *dir, bool dirs, struct names *out)
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
        (void)path_join(path, sizeof(path), dir, e->d_name);
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
static int
compile_map(const char *path, const igw_map_set *set, igw_map **out, char *err, size_t errlen)
{
    char file[4096];
    char base[4096];
    struct igw_buf text;
    const char *slash;
    int rv;

    if (is_dir(path)) {
        (void)path_join(file, sizeof(file), path, "map");
        snprintf(base, sizeof(base), "%s", path);
    } else {
        snprintf(file, sizeof(file), "%s", path);
        slash = strrchr(path, '/');
        snprintf(base, sizeof(base), "%.*s", slash != NULL ? (int)(slash - path) : 1,
                 slash != NULL ? path : ".");
    }
    rv = read_path(file, &text);
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

static int
parse_doc(const char *name, enum igw_format f, igw_arena *a, const struct igw_buf *b,
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

static int
apply(const igw_map *m, bool reverse, igw_arena *a, const struct igw_node *in,
      struct igw_node **out, char *err, size_t errlen)
{
    struct igw_map_limits lim;
    memset(&lim, 0, sizeof(lim));
    err[0] = '\0';
    return igw_map_apply(m, reverse, a, in, &lim, out, err, errlen);
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
        rv = read_stream(stdin, &in);
    }
    if (rv != IGW_OK) {
        fprintf(stderr, "<stdin>: %s\n", igw_strerror(rv));
        goto out;
    }
    rv = parse_doc("<stdin>", o->from != IGW_FMT_NONE ? o->from : in_f, a, &in, &root);
    if (rv != IGW_OK) {
        goto out;
    }
    rv = apply(m, o->reverse, a, root, &out, err, sizeof(err));
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
    rv = compile_map(o.map, set, &m, err, sizeof(err));
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

/* ---- tree diffs (igw map test) ------------------------------------------------------------ */

struct diff {
    struct igw_buf *log; /* report lines go here, printed after the verdict */
    unsigned lines;      /* differences found */
    char path[1024];
    size_t plen;
};

static void
repr(const struct igw_node *n, char *buf, size_t len)
{
    struct igw_buf b;

    igw_buf_init(&b, 4096);
    if (n == NULL) {
        snprintf(buf, len, "(nothing)");
    } else if (igw_json_write(n, &b, 0) == IGW_OK && b.len <= REPR_MAX) {
        snprintf(buf, len, "%.*s", (int)b.len, b.ptr != NULL ? b.ptr : "");
    } else {
        snprintf(buf, len, "%.*s...", REPR_MAX, b.ptr != NULL ? b.ptr : "");
    }
    igw_buf_fini(&b);
}

static void
diff_line(struct diff *d, const struct igw_node *want, const struct igw_node *got, const char *note)
{
    char w[REPR_MAX + 8];
    char g[REPR_MAX + 8];

    d->lines++;
    if (d->lines > DIFF_MAX_LINES) {
        return;
    }
    repr(want, w, sizeof(w));
    repr(got, g, sizeof(g));
    (void)igw_buf_printf(d->log, "    -want +got at %s:", d->plen != 0 ? d->path : "(root)");
    if (want != NULL) {
        (void)igw_buf_printf(d->log, " -%s", w);
    }
    if (got != NULL) {
        (void)igw_buf_printf(d->log, " +%s", g);
    }
    (void)igw_buf_printf(d->log, "%s%s\n", note != NULL ? " " : "", note != NULL ? note : "");
}

static size_t
path_push_key(struct diff *d, const char *key, size_t len)
{
    size_t old = d->plen;
    int n = snprintf(d->path + old, sizeof(d->path) - old, "%s%.*s", old != 0 ? "." : "", (int)len,
                     key != NULL ? key : "");
    d->plen = n < 0 || (size_t)n >= sizeof(d->path) - old ? sizeof(d->path) - 1 : old + (size_t)n;
    return old;
}

static size_t
path_push_index(struct diff *d, size_t i)
{
    size_t old = d->plen;
    int n = snprintf(d->path + old, sizeof(d->path) - old, "[%zu]", i);
    d->plen = n < 0 || (size_t)n >= sizeof(d->path) - old ? sizeof(d->path) - 1 : old + (size_t)n;
    return old;
}

static void
path_pop(struct diff *d, size_t old)
{
    d->plen = old;
    d->path[old] = '\0';
}

/* The k-th member of obj keyed like m (k counts from 0 among equal keys). */
static const struct igw_node *
nth_same(const struct igw_node *obj, const struct igw_node *m, unsigned k)
{
    const struct igw_node *c = igw_node_get(obj, m->key, m->key_len);
    for (; c != NULL && k > 0; k--) {
        c = igw_node_next_same(c);
    }
    return c;
}

/* Which occurrence of its key m is among its siblings (0 for the first). */
static unsigned
occurrence(const struct igw_node *m)
{
    unsigned k = 0;
    for (const struct igw_node *c = m->parent->first; c != m; c = c->next) {
        k += c->key_len == m->key_len && memcmp(c->key, m->key, m->key_len) == 0;
    }
    return k;
}

static bool
is_container(const struct igw_node *n)
{
    return n->type == IGW_NODE_OBJECT || n->type == IGW_NODE_ARRAY;
}

static void diff_tree(struct diff *d, const struct igw_node *want, const struct igw_node *got,
                      bool subset);

/* True when both objects list the same keys in the same order. */
static bool
same_keys(const struct igw_node *a, const struct igw_node *b)
{
    for (a = a->first, b = b->first; a != NULL && b != NULL; a = a->next, b = b->next) {
        if (a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len) != 0) {
            return false;
        }
    }
    return a == NULL && b == NULL;
}

static void
diff_order(struct diff *d, const struct igw_node *want, const struct igw_node *got)
{
    struct igw_buf w;
    struct igw_buf g;
    const struct igw_node *a;

    for (a = want->first; a != NULL; a = a->next) {
        if (nth_same(got, a, occurrence(a)) == NULL) {
            return; /* missing members were reported instead */
        }
    }
    if (want->count != got->count || same_keys(want, got)) {
        return;
    }
    igw_buf_init(&w, 512);
    igw_buf_init(&g, 512);
    for (a = want->first; a != NULL; a = a->next) {
        (void)igw_buf_printf(&w, "%s%.*s", a == want->first ? "" : ",", (int)a->key_len, a->key);
    }
    for (a = got->first; a != NULL; a = a->next) {
        (void)igw_buf_printf(&g, "%s%.*s", a == got->first ? "" : ",", (int)a->key_len, a->key);
    }
    d->lines++;
    if (d->lines <= DIFF_MAX_LINES) {
        (void)igw_buf_printf(d->log, "    -want +got at %s: member order -[%s] +[%s]\n",
                             d->plen ? d->path : "(root)", w.ptr != NULL ? w.ptr : "",
                             g.ptr != NULL ? g.ptr : "");
    }
    igw_buf_fini(&w);
    igw_buf_fini(&g);
}

/* Objects: members of want missing from got, then got's extra members (in subset mode: got's
 * members must all be in want, want may have more, order is free). */
static void
diff_object(struct diff *d, const struct igw_node *want, const struct igw_node *got, bool subset)
{
    const struct igw_node *m;
    size_t old;

    for (m = want->first; m != NULL && !subset; m = m->next) {
        const struct igw_node *o = nth_same(got, m, occurrence(m));
        old = path_push_key(d, m->key, m->key_len);
        if (o == NULL) {
            diff_line(d, m, NULL, "(missing)");
        } else {
            diff_tree(d, m, o, false);
        }
        path_pop(d, old);
    }
    for (m = got->first; m != NULL; m = m->next) {
        const struct igw_node *w = nth_same(want, m, occurrence(m));
        old = path_push_key(d, m->key, m->key_len);
        if (w == NULL) {
            diff_line(d, NULL, m, subset ? "(not in the input)" : "(extra)");
        } else if (subset) {
            diff_tree(d, w, m, true);
        }
        path_pop(d, old);
    }
    if (!subset) {
        diff_order(d, want, got);
    }
}

static void
diff_array(struct diff *d, const struct igw_node *want, const struct igw_node *got, bool subset)
{
    const struct igw_node *w = want->first;
    const struct igw_node *g = got->first;
    size_t i = 0;

    for (; w != NULL || g != NULL; i++) {
        size_t old = path_push_index(d, i);
        if (g == NULL) {
            diff_line(d, w, NULL, "(missing)");
        } else if (w == NULL) {
            diff_line(d, NULL, g, "(extra)");
        } else {
            diff_tree(d, w, g, subset);
        }
        path_pop(d, old);
        w = w != NULL ? w->next : NULL;
        g = g != NULL ? g->next : NULL;
    }
}

static void
diff_tree(struct diff *d, const struct igw_node *want, const struct igw_node *got, bool subset)
{
    if (want->type != got->type || !is_container(want)) {
        if (!igw_node_equal(want, got)) {
            diff_line(d, want, got, NULL);
        }
        return;
    }
    if (want->type == IGW_NODE_OBJECT) {
        diff_object(d, want, got, subset);
    } else {
        diff_array(d, want, got, subset);
    }
}

/* Prints the differences of got against want; returns how many. */
static unsigned
diff_report(struct igw_buf *log, const struct igw_node *want, const struct igw_node *got,
            bool subset)
{
    struct diff d;

    memset(&d, 0, sizeof(d));
    d.log = log;
    diff_tree(&d, want, got, subset);
    if (d.lines == 0 && !subset && !igw_node_equal(want, got)) {
        (void)igw_buf_puts(log, "    trees differ (number text or XML attribute flags)\n");
        d.lines = 1;
    }
    if (d.lines > DIFF_MAX_LINES) {
        (void)igw_buf_printf(log, "    ... %u more differences\n", d.lines - DIFF_MAX_LINES);
    }
    return d.lines;
}

/* ---- igw map test ------------------------------------------------------------------------- */

struct tally {
    unsigned passed;
    unsigned failed;
};

struct gcase {
    const char *label; /* map/case */
    char input[4096];
    char expected[4096];
};

/* Prints the case's line, then its report (emptied). */
static void
verdict(struct tally *t, bool ok, const char *label, const char *suffix, struct igw_buf *log)
{
    printf("%s %s%s\n", ok ? "ok  " : "FAIL", label, suffix);
    if (log->len != 0) {
        fwrite(log->ptr, 1, log->len, stdout);
        igw_buf_reset(log);
    }
    fflush(stdout);
    *(ok ? &t->passed : &t->failed) += 1;
}

/* Finds input.<ext> and expected.<ext> in dir. */
static bool
find_case_files(const char *dir, struct gcase *c)
{
    struct names files;
    bool in = false;
    bool ex = false;

    if (list_dir(dir, false, &files) != IGW_OK) {
        names_free(&files);
        return false;
    }
    for (size_t i = 0; i < files.n; i++) {
        const char *f = files.v[i];
        if (!in && strncmp(f, "input.", 6) == 0) {
            (void)path_join(c->input, sizeof(c->input), dir, f);
            in = true;
        } else if (!ex && strncmp(f, "expected.", 9) == 0) {
            (void)path_join(c->expected, sizeof(c->expected), dir, f);
            ex = true;
        }
    }
    names_free(&files);
    return in && ex;
}

static int
load_doc(const char *path, igw_arena *a, struct igw_node **root)
{
    struct igw_buf b;
    enum igw_format f = igw_format_from_path(path);
    int rv = read_path(path, &b);

    if (rv == IGW_OK && f == IGW_FMT_NONE) {
        fprintf(stderr, "%s: unknown format (want .json, .xml or .csv)\n", path);
        rv = IGW_EINVAL;
    }
    if (rv == IGW_OK) {
        rv = parse_doc(path, f, a, &b, root);
    }
    igw_buf_fini(&b);
    return rv;
}

/* reverse(expected) against the input, then forward(reverse(expected)) against expected. */
static bool
round_trip(const igw_map *m, igw_arena *a, const struct igw_node *in, const struct igw_node *ex,
           struct igw_buf *log)
{
    char err[IGW_ERRBUF_SIZE];
    struct igw_node *rev = NULL;
    struct igw_node *again = NULL;
    unsigned bad;

    if (apply(m, true, a, ex, &rev, err, sizeof(err)) != IGW_OK) {
        (void)igw_buf_printf(log, "    reverse(expected): %s\n", err);
        return false;
    }
    bad = diff_report(log, in, rev, true);
    if (apply(m, false, a, rev, &again, err, sizeof(err)) != IGW_OK) {
        (void)igw_buf_printf(log, "    forward(reverse(expected)): %s\n", err);
        return false;
    }
    if (!igw_node_equal(ex, again)) {
        (void)igw_buf_puts(log, "    forward(reverse(expected)) differs from expected:\n");
        bad += diff_report(log, ex, again, false);
    }
    return bad == 0;
}

static void
run_case(const igw_map *m, igw_arena *a, const struct gcase *c, struct tally *t,
         struct igw_buf *log)
{
    char err[IGW_ERRBUF_SIZE];
    struct igw_node *in = NULL;
    struct igw_node *ex = NULL;
    struct igw_node *got = NULL;
    bool ok;

    igw_arena_reset(a);
    fflush(stdout);
    if (load_doc(c->input, a, &in) != IGW_OK || load_doc(c->expected, a, &ex) != IGW_OK) {
        verdict(t, false, c->label, "", log);
        return;
    }
    ok = apply(m, false, a, in, &got, err, sizeof(err)) == IGW_OK;
    if (!ok) {
        (void)igw_buf_printf(log, "    %s\n", err);
    } else if (!igw_node_equal(ex, got)) {
        ok = false;
        diff_report(log, ex, got, false);
    }
    verdict(t, ok, c->label, "", log);
    if (igw_map_invertible(m)) {
        ok = round_trip(m, a, in, ex, log);
        verdict(t, ok, c->label, " (round trip)", log);
    }
}

static void
test_map(const char *mapdir, const char *name, const igw_map_set *set, igw_arena *a,
         struct tally *t, struct igw_buf *log)
{
    char err[IGW_ERRBUF_SIZE];
    char tests[4096];
    char label[1024];
    char casedir[4096];
    struct names cases;
    struct gcase c;
    igw_map *m = NULL;

    (void)path_join(tests, sizeof(tests), mapdir, "tests");
    if (list_dir(tests, true, &cases) != IGW_OK || cases.n == 0) {
        names_free(&cases);
        return;
    }
    if (compile_map(mapdir, set, &m, err, sizeof(err)) != IGW_OK) {
        printf("FAIL %s (does not compile)\n    %s\n", name, err);
        t->failed += (unsigned)cases.n;
        names_free(&cases);
        return;
    }
    for (size_t i = 0; i < cases.n; i++) {
        (void)path_join(label, sizeof(label), name, cases.v[i]);
        (void)path_join(casedir, sizeof(casedir), tests, cases.v[i]);
        c.label = label;
        if (!find_case_files(casedir, &c)) {
            (void)igw_buf_printf(log, "    %s: needs input.<ext> and expected.<ext>\n", casedir);
            verdict(t, false, label, "", log);
            continue;
        }
        run_case(m, a, &c, t, log);
    }
    igw_map_free(m);
    names_free(&cases);
}

/* The map directories to visit: dir itself when it holds a "map" file, else its subfolders
 * that do. names->v[i] is a path; base names come from base_of. */
static int
map_dirs(const char *dir, struct names *out)
{
    char path[4096];
    struct names sub;
    size_t k = 0;
    int rv;

    (void)path_join(path, sizeof(path), dir, "map");
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
    rv = list_dir(dir, true, &sub);
    for (size_t i = 0; i < sub.n; i++) {
        snprintf(path, sizeof(path), "%s/%s/map", dir, sub.v[i]);
        if (!is_file(path)) {
            igw_free(sub.v[i]);
            continue;
        }
        (void)path_join(path, sizeof(path), dir, sub.v[i]);
        igw_free(sub.v[i]);
        sub.v[k] = igw_strdup(path);
        k += sub.v[k] != NULL;
    }
    sub.n = k;
    *out = sub;
    return rv;
}

static const char *
base_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL && s[1] != '\0' ? s + 1 : path;
}

static int
cmd_test(int argc, char **argv)
{
    const char *dir = argc > 2 ? argv[2] : "mappings";
    struct tally t = {0, 0};
    struct igw_buf log;
    struct names maps;
    igw_map_set *set = NULL;
    igw_arena *a = NULL;
    int rv;

    if (argc > 3 || !is_dir(dir)) {
        fprintf(stderr, argc > 3 ? "usage: igw map test [DIR]\n" : "%s: not a directory\n", dir);
        return 2;
    }
    igw_buf_init(&log, (size_t)1 << 20);
    rv = map_dirs(dir, &maps);
    if (rv == IGW_OK) {
        rv = igw_arena_new(&a, MAP_ARENA_LIMIT);
    }
    if (rv != IGW_OK) {
        fprintf(stderr, "igw map test: %s\n", igw_strerror(rv));
        goto out;
    }
    set = maps.n == 1 && strcmp(maps.v[0], dir) == 0 ? NULL : load_set(dir);
    for (size_t i = 0; i < maps.n; i++) {
        test_map(maps.v[i], base_of(maps.v[i]), set, a, &t, &log);
    }
    printf("%u passed, %u failed\n", t.passed, t.failed);
    if (t.passed + t.failed == 0) {
        fprintf(stderr, "igw map test: no cases under %s/<map>/tests/<case>/\n", dir);
    }
out:
    igw_map_set_free(set);
    igw_arena_free(a);
    igw_buf_fini(&log);
    names_free(&maps);
    return rv == IGW_OK && t.failed == 0 && t.passed > 0 ? 0 : 1;
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

    (void)path_join(dir, sizeof(dir), mapdir, "tables");
    (void)list_dir(dir, false, &files);
    for (size_t i = 0; i < files.n; i++) {
        igw_table *tb = NULL;
        (void)path_join(path, sizeof(path), dir, files.v[i]);
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
    names_free(&files);
}

static int
cmd_lint(int argc, char **argv)
{
    const char *dir = argc > 2 ? argv[2] : "mappings";
    char err[IGW_ERRBUF_SIZE];
    unsigned errors = 0;
    unsigned findings = 0;
    struct names maps;
    igw_map_set *set = NULL;
    int rv;

    if (argc > 3 || !is_dir(dir)) {
        fprintf(stderr, argc > 3 ? "usage: igw map lint [DIR]\n" : "%s: not a directory\n", dir);
        return 2;
    }
    rv = map_dirs(dir, &maps);
    if (rv != IGW_OK) {
        fprintf(stderr, "igw map lint: %s\n", igw_strerror(rv));
        names_free(&maps);
        return 1;
    }
    set = maps.n == 1 && strcmp(maps.v[0], dir) == 0 ? NULL : load_set(dir);
    for (size_t i = 0; i < maps.n; i++) {
        igw_map *m = NULL;
        if (compile_map(maps.v[i], set, &m, err, sizeof(err)) != IGW_OK) {
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
    names_free(&maps);
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
        return cmd_test(argc, argv);
    }
    if (strcmp(argv[1], "lint") == 0) {
        return cmd_lint(argc, argv);
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        return map_usage(stdout);
    }
    return map_usage(stderr);
}
