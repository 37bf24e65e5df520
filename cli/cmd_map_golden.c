/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw map test [DIR]: runs the golden cases DIR/<map>/tests/<case>/{input,expected}.<ext> of
 * every map under DIR and prints "ok  " or "FAIL" per case, then "N passed, M failed".
 *
 * Round trip (test, for maps with igw_map_invertible): for each case, rev = reverse(expected)
 * must (1) be contained in the input: every member rev has, the input has at the same path with
 * an equal value (arrays have the same length), so the reverse invents nothing and gets nothing
 * wrong; and (2) reproduce the output: forward(rev) == expected, so the reverse recovered every
 * input value the map reads to build its output. Together: rev equals the input restricted to
 * the paths the map reads. Input members the map ignores are not required.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/doc.h"
#include "igw/map.h"

#include "cmd_map_int.h"

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

    if (cmdmap_list_dir(dir, false, &files) != IGW_OK) {
        cmdmap_names_free(&files);
        return false;
    }
    for (size_t i = 0; i < files.n; i++) {
        const char *f = files.v[i];
        if (!in && strncmp(f, "input.", 6) == 0) {
            (void)cmdmap_path_join(c->input, sizeof(c->input), dir, f);
            in = true;
        } else if (!ex && strncmp(f, "expected.", 9) == 0) {
            (void)cmdmap_path_join(c->expected, sizeof(c->expected), dir, f);
            ex = true;
        }
    }
    cmdmap_names_free(&files);
    return in && ex;
}

static int
load_doc(const char *path, igw_arena *a, struct igw_node **root)
{
    struct igw_buf b;
    enum igw_format f = igw_format_from_path(path);
    int rv = cmdmap_read_path(path, &b);

    if (rv == IGW_OK && f == IGW_FMT_NONE) {
        fprintf(stderr, "%s: unknown format (want .json, .xml or .csv)\n", path);
        rv = IGW_EINVAL;
    }
    if (rv == IGW_OK) {
        rv = cmdmap_parse_doc(path, f, a, &b, root);
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

    if (cmdmap_apply(m, true, a, ex, &rev, err, sizeof(err)) != IGW_OK) {
        (void)igw_buf_printf(log, "    reverse(expected): %s\n", err);
        return false;
    }
    bad = cmdmap_diff_report(log, in, rev, true);
    if (cmdmap_apply(m, false, a, rev, &again, err, sizeof(err)) != IGW_OK) {
        (void)igw_buf_printf(log, "    forward(reverse(expected)): %s\n", err);
        return false;
    }
    if (!igw_node_equal(ex, again)) {
        (void)igw_buf_puts(log, "    forward(reverse(expected)) differs from expected:\n");
        bad += cmdmap_diff_report(log, ex, again, false);
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
    ok = cmdmap_apply(m, false, a, in, &got, err, sizeof(err)) == IGW_OK;
    if (!ok) {
        (void)igw_buf_printf(log, "    %s\n", err);
    } else if (!igw_node_equal(ex, got)) {
        ok = false;
        cmdmap_diff_report(log, ex, got, false);
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

    (void)cmdmap_path_join(tests, sizeof(tests), mapdir, "tests");
    if (cmdmap_list_dir(tests, true, &cases) != IGW_OK || cases.n == 0) {
        cmdmap_names_free(&cases);
        return;
    }
    if (cmdmap_compile_map(mapdir, set, &m, err, sizeof(err)) != IGW_OK) {
        printf("FAIL %s (does not compile)\n    %s\n", name, err);
        t->failed += (unsigned)cases.n;
        cmdmap_names_free(&cases);
        return;
    }
    for (size_t i = 0; i < cases.n; i++) {
        (void)cmdmap_path_join(label, sizeof(label), name, cases.v[i]);
        (void)cmdmap_path_join(casedir, sizeof(casedir), tests, cases.v[i]);
        c.label = label;
        if (!find_case_files(casedir, &c)) {
            (void)igw_buf_printf(log, "    %s: needs input.<ext> and expected.<ext>\n", casedir);
            verdict(t, false, label, "", log);
            continue;
        }
        run_case(m, a, &c, t, log);
    }
    igw_map_free(m);
    cmdmap_names_free(&cases);
}

static const char *
base_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s != NULL && s[1] != '\0' ? s + 1 : path;
}

int
cmdmap_test(int argc, char **argv)
{
    const char *dir;
    struct tally t = {0, 0};
    struct igw_buf log;
    struct names maps;
    igw_map_set *set = NULL;
    igw_arena *a = NULL;
    int rv = cmdmap_dir_arg(argc, argv, "test", &dir);

    if (rv != 0) {
        return rv;
    }
    igw_buf_init(&log, (size_t)1 << 20);
    rv = cmdmap_map_dirs(dir, &maps);
    if (rv == IGW_OK) {
        rv = igw_arena_new(&a, MAP_ARENA_LIMIT);
    }
    if (rv != IGW_OK) {
        fprintf(stderr, "igw map test: %s\n", igw_strerror(rv));
        goto out;
    }
    set = cmdmap_dir_set(dir, &maps);
    for (size_t i = 0; i < maps.n; i++) {
        test_map(maps.v[i], base_of(maps.v[i]), set, a, &t, &log);
    }
    cmdmap_search_tests(dir, &maps, set, a, &t.passed, &t.failed, &log);
    printf("%u passed, %u failed\n", t.passed, t.failed);
    if (t.passed + t.failed == 0) {
        fprintf(stderr, "igw map test: no cases under %s/<map>/tests/<case>/\n", dir);
    }
out:
    igw_map_set_free(set);
    igw_arena_free(a);
    igw_buf_fini(&log);
    cmdmap_names_free(&maps);
    return rv == IGW_OK && t.failed == 0 && t.passed > 0 ? 0 : 1;
}
