/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mapping benchmark: JSON text in, JSON text out, one record at a time, the way the gateway
 * runs a map on a message. For every line of a JSONL file: reset the per-record arena, parse
 * the JSON, apply the map, write the result as JSON, then hash it (64-bit, word-wise) or append it
 * to the output file. The input is streamed through a fixed buffer, so peak memory does not grow
 * with the number of records.
 *
 *   map_bench MAP FILE.jsonl [--out OUT.jsonl] [--warmup N] [--breakdown]
 *
 * MAP is a map directory (mappings/<name>) or a map file. Prints one JSON line:
 * {"engine":"igw","records","secs","rps","cpu_rps","mb_per_s","in_bytes","out_bytes","maxrss_kb",
 * "hash"} (rps by wall time, cpu_rps by CPU time; mb_per_s counts input bytes, 10^6 per MB).
 * --breakdown adds the CPU rates of parse only and parse + apply, to see where the time goes. The
 * first N records (default 10,000, like the peers) are run once before the timed pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/doc.h"
#include "igw/map.h"

#define LINE_MAX_BYTES ((size_t)64 << 20)
#define READ_CHUNK ((size_t)1 << 20)

enum stage { STAGE_PARSE = 1, STAGE_APPLY = 2, STAGE_WRITE = 3 };

struct opts {
    const char *map;
    const char *file;
    const char *out;
    long warmup;
    bool breakdown;
};

struct reader {
    FILE *f;
    char *buf;
    size_t cap;
    size_t start;
    size_t end;
    bool eof;
};

struct result {
    unsigned long records;
    unsigned long long in_bytes;
    unsigned long long out_bytes;
    unsigned long long fnv;
    double secs;
    double cpu_secs; /* user + system CPU time of the pass (less sensitive to a busy machine) */
};

struct ctx {
    const igw_map *map;
    igw_arena *arena;
    struct igw_buf out;
    FILE *outf;
};

/* ---- input ------------------------------------------------------------------------------- */

static int
reader_open(struct reader *r, const char *path)
{
    memset(r, 0, sizeof(*r));
    r->f = fopen(path, "rb");
    if (r->f == NULL) {
        return IGW_EIO;
    }
    r->cap = READ_CHUNK;
    r->buf = igw_malloc(r->cap);
    return r->buf != NULL ? IGW_OK : IGW_ENOMEM;
}

static void
reader_rewind(struct reader *r)
{
    rewind(r->f);
    r->start = 0;
    r->end = 0;
    r->eof = false;
}

static void
reader_close(struct reader *r)
{
    if (r->f != NULL) {
        fclose(r->f);
    }
    igw_free(r->buf);
}

/* Moves the unread bytes to the front, grows the buffer if it is full, reads more. */
static int
reader_fill(struct reader *r)
{
    size_t n;

    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == r->cap) {
        char *nb;
        if (r->cap * 2 > LINE_MAX_BYTES) {
            return IGW_ETOOBIG;
        }
        nb = igw_realloc(r->buf, r->cap * 2);
        if (nb == NULL) {
            return IGW_ENOMEM;
        }
        r->buf = nb;
        r->cap *= 2;
    }
    n = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
    r->end += n;
    r->eof = n == 0;
    return ferror(r->f) ? IGW_EIO : IGW_OK;
}

/* The next non-empty line (without its newline); *len = 0 at the end of the file. */
static int
reader_line(struct reader *r, const char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        int rv;
        if (nl != NULL || (r->eof && r->end > r->start)) {
            size_t stop = nl != NULL ? (size_t)(nl - r->buf) : r->end;
            *line = r->buf + r->start;
            *len = stop - r->start;
            r->start = nl != NULL ? stop + 1 : stop;
            if (*len == 0) {
                continue;
            }
            return IGW_OK;
        }
        if (r->eof) {
            *len = 0;
            return IGW_OK;
        }
        rv = reader_fill(r);
        if (rv != IGW_OK) {
            return rv;
        }
    }
}

/* ---- one record ---------------------------------------------------------------------------- */

/* A word-at-a-time FNV-style hash: cheap enough not to weigh on the figures (a byte-wise
 * FNV-1a costs as much as the JSON writer). Order-sensitive; only compared run to run. */
static unsigned long long
hash_out(unsigned long long h, const char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        unsigned long long w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) {
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    }
    return h;
}

static int
one_record(struct ctx *c, const char *line, size_t len, enum stage upto, struct result *res)
{
    char err[IGW_ERRBUF_SIZE];
    struct igw_parse_error perr;
    struct igw_map_limits lim;
    struct igw_node *in = NULL;
    struct igw_node *out = NULL;
    int rv;

    igw_arena_reset(c->arena);
    rv = igw_json_parse(c->arena, line, len, NULL, &in, &perr);
    if (rv != IGW_OK) {
        fprintf(stderr, "record %lu:%u:%u: %s\n", res->records + 1, perr.line, perr.column,
                perr.msg);
        return rv;
    }
    if (upto >= STAGE_APPLY) {
        memset(&lim, 0, sizeof(lim));
        rv = igw_map_apply(c->map, false, c->arena, in, &lim, &out, err, sizeof(err));
        if (rv != IGW_OK) {
            fprintf(stderr, "record %lu: %s\n", res->records + 1, err);
            return rv;
        }
    }
    if (upto >= STAGE_WRITE) {
        igw_buf_reset(&c->out);
        rv = igw_json_write(out, &c->out, 0);
        if (rv == IGW_OK) {
            rv = igw_buf_putc(&c->out, '\n');
        }
        if (rv != IGW_OK) {
            return rv;
        }
        res->out_bytes += c->out.len;
        res->fnv = hash_out(res->fnv, c->out.ptr, c->out.len);
        if (c->outf != NULL && fwrite(c->out.ptr, 1, c->out.len, c->outf) != c->out.len) {
            return IGW_EIO;
        }
    }
    res->records++;
    res->in_bytes += len + 1;
    return IGW_OK;
}

static double
cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Runs up to max records (max < 0: all) from the start of the file. */
static int
pass(struct ctx *c, struct reader *r, long max, enum stage upto, struct result *res)
{
    const char *line;
    size_t len;
    uint64_t t0;
    int rv = IGW_OK;

    memset(res, 0, sizeof(*res));
    res->fnv = 14695981039346656037ull;
    reader_rewind(r);
    res->cpu_secs = cpu_now();
    t0 = igw_mono_ns();
    while (max < 0 || (long)res->records < max) {
        rv = reader_line(r, &line, &len);
        if (rv != IGW_OK || len == 0) {
            break;
        }
        rv = one_record(c, line, len, upto, res);
        if (rv != IGW_OK) {
            break;
        }
    }
    res->secs = (double)(igw_mono_ns() - t0) / 1e9;
    res->cpu_secs = cpu_now() - res->cpu_secs;
    return rv;
}

/* ---- set-up and report --------------------------------------------------------------------- */

static int
load_map(const char *path, igw_map **out)
{
    char file[4096];
    char base[4096];
    char err[IGW_ERRBUF_SIZE];
    struct stat st;
    struct igw_buf text;
    FILE *f;
    char chunk[16384];
    size_t n;
    int rv = IGW_OK;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(file, sizeof(file), "%.4000s/map", path);
        snprintf(base, sizeof(base), "%s", path);
    } else {
        const char *slash = strrchr(path, '/');
        snprintf(file, sizeof(file), "%s", path);
        snprintf(base, sizeof(base), "%.*s", slash != NULL ? (int)(slash - path) : 1,
                 slash != NULL ? path : ".");
    }
    f = fopen(file, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: cannot open\n", file);
        return IGW_EIO;
    }
    igw_buf_init(&text, (size_t)16 << 20);
    for (n = fread(chunk, 1, sizeof(chunk), f); n > 0 && rv == IGW_OK;
         n = fread(chunk, 1, sizeof(chunk), f)) {
        rv = igw_buf_append(&text, chunk, n);
    }
    fclose(f);
    if (rv == IGW_OK) {
        rv = igw_map_compile(out, file, text.ptr != NULL ? text.ptr : "", text.len, base, NULL, err,
                             sizeof(err));
        if (rv != IGW_OK) {
            fprintf(stderr, "%s\n", err);
        }
    }
    igw_buf_fini(&text);
    return rv;
}

static int
usage(void)
{
    fprintf(stderr, "usage: map_bench MAP FILE.jsonl [--out OUT.jsonl] [--warmup N] "
                    "[--breakdown]\n");
    return 2;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->warmup = 10000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            o->out = argv[++i];
        } else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) {
            o->warmup = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--breakdown") == 0) {
            o->breakdown = true;
        } else if (argv[i][0] != '-' && o->map == NULL) {
            o->map = argv[i];
        } else if (argv[i][0] != '-' && o->file == NULL) {
            o->file = argv[i];
        } else {
            return usage();
        }
    }
    return o->map != NULL && o->file != NULL ? 0 : usage();
}

static double
rate(unsigned long n, double secs)
{
    return secs > 0 ? (double)n / secs : 0;
}

static void
report(const struct result *r, const struct result *parse, const struct result *apply)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    printf("{\"engine\":\"igw\",\"records\":%lu,\"secs\":%.3f,\"rps\":%.0f,\"cpu_rps\":%.0f,"
           "\"mb_per_s\":%.1f,"
           "\"in_bytes\":%llu,\"out_bytes\":%llu,\"maxrss_kb\":%ld,\"hash\":\"%016llx\"",
           r->records, r->secs, rate(r->records, r->secs), rate(r->records, r->cpu_secs),
           r->secs > 0 ? (double)r->in_bytes / r->secs / 1e6 : 0, r->in_bytes, r->out_bytes,
           ru.ru_maxrss, r->fnv);
    if (parse != NULL && apply != NULL) {
        printf(",\"parse_cpu_rps\":%.0f,\"parse_apply_cpu_rps\":%.0f",
               rate(parse->records, parse->cpu_secs), rate(apply->records, apply->cpu_secs));
    }
    printf("}\n");
}

static int
run(const struct opts *o, struct ctx *c, struct reader *r)
{
    struct result warm;
    struct result parse;
    struct result apply;
    struct result full;
    int rv = IGW_OK;

    if (o->warmup > 0) {
        rv = pass(c, r, o->warmup, STAGE_WRITE, &warm);
    }
    if (rv == IGW_OK && o->breakdown) {
        rv = pass(c, r, -1, STAGE_PARSE, &parse);
        if (rv == IGW_OK) {
            rv = pass(c, r, -1, STAGE_APPLY, &apply);
        }
    }
    if (rv == IGW_OK && o->out != NULL) {
        c->outf = fopen(o->out, "wb");
        rv = c->outf != NULL ? IGW_OK : IGW_EIO;
    }
    if (rv == IGW_OK) {
        rv = pass(c, r, -1, STAGE_WRITE, &full);
    }
    if (c->outf != NULL && fclose(c->outf) != 0) {
        rv = IGW_EIO;
    }
    c->outf = NULL;
    if (rv == IGW_OK) {
        report(&full, o->breakdown ? &parse : NULL, o->breakdown ? &apply : NULL);
    }
    return rv;
}

int
main(int argc, char **argv)
{
    struct opts o;
    struct ctx c;
    struct reader r;
    igw_map *m = NULL;
    int rv = parse_args(argc, argv, &o);

    if (rv != 0) {
        return rv;
    }
    memset(&c, 0, sizeof(c));
    memset(&r, 0, sizeof(r));
    igw_buf_init(&c.out, (size_t)64 << 20);
    rv = load_map(o.map, &m);
    if (rv == IGW_OK) {
        c.map = m;
        rv = igw_arena_new(&c.arena, (size_t)256 << 20);
    }
    if (rv == IGW_OK) {
        rv = reader_open(&r, o.file);
        if (rv != IGW_OK) {
            fprintf(stderr, "%s: cannot read\n", o.file);
        }
    }
    if (rv == IGW_OK) {
        rv = run(&o, &c, &r);
    }
    if (rv != IGW_OK) {
        fprintf(stderr, "map_bench: %s\n", igw_strerror(rv));
    }
    reader_close(&r);
    igw_arena_free(c.arena);
    igw_buf_fini(&c.out);
    igw_map_free(m);
    return rv == IGW_OK ? 0 : 1;
}
