/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the mapping engine tests: compile a map from text, run it on JSON text and
 * return the output as compact JSON text.
 */
#ifndef IGW_MAPTEST_H
#define IGW_MAPTEST_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "igw/map.h"
#include "igwt.h"

static char mt_err[IGW_ERRBUF_SIZE];
static char mt_out[65536];
static igw_arena *mt_arena;

static inline igw_map *
mt_compile_dir(const char *text, const char *dir)
{
    igw_map *m = NULL;
    mt_err[0] = '\0';
    int rv = igw_map_compile(&m, "t.map", text, strlen(text), dir, NULL, mt_err, sizeof(mt_err));
    if (rv != IGW_OK) {
        fprintf(stderr, "  compile: %s\n", mt_err);
        return NULL;
    }
    return m;
}

static inline igw_map *
mt_compile(const char *text)
{
    return mt_compile_dir(text, NULL);
}

/* Compiles text and returns the error code; the message is left in mt_err. */
static inline int
mt_compile_err(const char *text)
{
    igw_map *m = NULL;
    mt_err[0] = '\0';
    int rv = igw_map_compile(&m, "t.map", text, strlen(text), NULL, NULL, mt_err, sizeof(mt_err));
    igw_map_free(m);
    return rv;
}

static inline struct igw_node *
mt_parse(const char *json)
{
    struct igw_node *root = NULL;
    struct igw_parse_error pe;
    if (mt_arena == NULL && igw_arena_new(&mt_arena, 0) != IGW_OK) {
        return NULL;
    }
    if (igw_json_parse(mt_arena, json, strlen(json), NULL, &root, &pe) != IGW_OK) {
        fprintf(stderr, "  json: %u:%u %s\n", pe.line, pe.column, pe.msg);
        return NULL;
    }
    return root;
}

static inline const char *
mt_write(const struct igw_node *n)
{
    struct igw_buf b;
    igw_buf_init(&b, sizeof(mt_out) - 1);
    if (igw_json_write(n, &b, 0) != IGW_OK) {
        igw_buf_fini(&b);
        return "(write failed)";
    }
    memcpy(mt_out, b.ptr, b.len);
    mt_out[b.len] = '\0';
    igw_buf_fini(&b);
    return mt_out;
}

/* Applies m to json; returns the rv; *out gets the JSON text on success, else mt_err. */
static inline int
mt_apply_lim(const igw_map *m, bool reverse, const char *json, const struct igw_map_limits *lim,
             const char **out)
{
    struct igw_node *in = mt_parse(json);
    struct igw_node *res = NULL;
    *out = "(no output)";
    if (in == NULL) {
        return IGW_EPARSE;
    }
    mt_err[0] = '\0';
    int rv = igw_map_apply(m, reverse, mt_arena, in, lim, &res, mt_err, sizeof(mt_err));
    if (rv == IGW_OK) {
        *out = mt_write(res);
    } else {
        *out = mt_err;
    }
    return rv;
}

static inline const char *
mt_run(const char *maptext, const char *json)
{
    const char *out = "(compile failed)";
    igw_map *m = mt_compile(maptext);
    if (m != NULL) {
        struct igw_map_limits lim = {.now_ms = 1700000000123ull};
        int rv = mt_apply_lim(m, false, json, &lim, &out);
        if (rv != IGW_OK) {
            fprintf(stderr, "  apply: %s\n", mt_err);
        }
        igw_map_free(m);
    }
    return out;
}

/* Writes a file under a fresh temporary directory; returns the directory. */
static inline const char *
mt_tmpdir(void)
{
    static char dir[64];
    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/igw-map-test-%d", (int)getpid());
        (void)!mkdir(dir, 0700);
    }
    return dir;
}

static inline void
mt_write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", mt_tmpdir(), rel);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

#define MT_EQ(map, in, want) IGWT_STREQ(mt_run(map, in), want)

/* The lint findings igw_map_lint reported, as "file:line:column message|" each (cut at the
 * buffer's end), and how many: start it as {{0}, 0}. */
struct mt_lint_seen {
    char text[2048];
    unsigned n;
};

/* An igw_map_lint callback (arg: a struct mt_lint_seen) that appends f to it. */
static inline void
mt_lint_collect(void *arg, const struct igw_map_finding *f)
{
    struct mt_lint_seen *s = arg;
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof(s->text) - len, "%s:%u:%u %s|", f->file, f->line, f->column,
             f->message);
    s->n++;
}

#endif /* IGW_MAPTEST_H */
