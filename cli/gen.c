/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw gen: synthetic openIMIS data (docs/SYNTHETIC-DATA.md). Writes JSON Lines to a file or
 * stdout, and/or posts every record to a running igw (--post, cli/gen_post.c). A progress bar
 * goes to stderr when stderr is a terminal or with --progress.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/gen.h"
#include "cmds.h"
#include "gen_post.h"

#define TOKEN_MAX 1024
#define OUT_BUFSIZE (1u << 20)

static const char *const kinds[] = {"location",  "healthFacility", "claimAdmin",     "officer",
                                    "diagnosis", "medicalItem",    "medicalService", "product",
                                    "family",    "insuree",        "policy",         "invoice",
                                    "payment",   "claim"};

struct gen_cli {
    struct igw_gen_opts o;
    const char *out_path;
    const char *kinds_arg;
    const char *post_url;
    const char *token_file;
    const char *channel_path;
    unsigned concurrency, retries;
    bool progress;
    bool want_kind[IGW_ARRAY_LEN(kinds)];
    FILE *out;
    struct gen_post *post;
    igw_gen *g;
    uint64_t records, last_ms, start_ms;
    int io_errno;
};

static int
usage(FILE *f)
{
    fprintf(
        f,
        "usage: igw gen [options]\n"
        "Writes synthetic openIMIS records as JSON Lines (docs/SYNTHETIC-DATA.md).\n"
        "  --seed N             PRNG seed (default 1); same seed and options, same bytes\n"
        "  --insurees N         number of insurees, 1..%llu (default 1000)\n"
        "  --out FILE|-         write to FILE (default: stdout, unless --post is given)\n"
        "  --kinds K,K...       write only these kinds (of: location healthFacility\n"
        "                       claimAdmin officer diagnosis medicalItem medicalService\n"
        "                       product family insuree policy invoice payment claim)\n"
        "  --post URL           POST every record to a running igw, e.g.\n"
        "                       http://127.0.0.1:7400\n"
        "  --channel-path P     path appended to URL, {kind} replaced by the record's kind\n"
        "                       (default /events/openimis/{kind})\n"
        "  --token-file F       bearer token for --post (first line of F); else the\n"
        "                       environment variable IGW_GEN_TOKEN. Never on the command line.\n"
        "  --concurrency N      requests in flight with --post, 1..256 (default 8)\n"
        "  --retries N          resends of a record after 503/429/connection errors (default 5)\n"
        "  --progress           progress bar on stderr even when it is not a terminal\n"
        "  --help               this text\n"
        "Exit status: 0 ok, 1 failure (write error, records not accepted), 2 bad usage.\n",
        (unsigned long long)IGW_GEN_MAX_INSUREES);
    return f == stderr ? 2 : 0;
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bad(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "igw gen: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (igw gen --help)\n");
    return 2;
}

static bool
parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

static int
parse_kinds(struct gen_cli *c)
{
    const char *s = c->kinds_arg;

    while (*s != '\0') {
        size_t n = strcspn(s, ",");
        bool found = false;

        for (size_t i = 0; i < IGW_ARRAY_LEN(kinds); i++) {
            if (strlen(kinds[i]) == n && strncmp(kinds[i], s, n) == 0) {
                c->want_kind[i] = true;
                found = true;
            }
        }
        if (!found) {
            char k[64];

            snprintf(k, sizeof(k), "%.*s", (int)(n < 60 ? n : 60), s);
            return bad("unknown kind \"%s\" in --kinds", k);
        }
        s += n + (s[n] == ',');
    }
    return 0;
}

static int
parse_number(const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!parse_u64(v, lo, hi, out)) {
        fprintf(stderr, "igw gen: %s wants a whole number from %llu to %llu (igw gen --help)\n",
                opt, (unsigned long long)lo, (unsigned long long)hi);
        return 2;
    }
    return 0;
}

static int
parse_args(struct gen_cli *c, int argc, char **argv)
{
    uint64_t n;
    int rv = 0;

    for (int i = 1; i < argc && rv == 0; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--progress") == 0) {
            c->progress = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            return -1;
        }
        if (strcmp(a, "--token") == 0 || strncmp(a, "--token=", 8) == 0) {
            return bad("%s: a token is never taken from the command line: use --token-file "
                       "or IGW_GEN_TOKEN",
                       "--token");
        }
        if (strncmp(a, "--", 2) != 0) {
            return bad("unexpected argument \"%s\"", a);
        }
        if (v == NULL) {
            return bad("%s needs a value", a);
        }
        i++;
        if (strcmp(a, "--seed") == 0) {
            rv = parse_number(a, v, 0, UINT64_MAX, &c->o.seed);
        } else if (strcmp(a, "--insurees") == 0) {
            rv = parse_number(a, v, 1, IGW_GEN_MAX_INSUREES, &c->o.insurees);
        } else if (strcmp(a, "--concurrency") == 0) {
            rv = parse_number(a, v, 1, 256, &n);
            c->concurrency = (unsigned)n;
        } else if (strcmp(a, "--retries") == 0) {
            rv = parse_number(a, v, 0, 100, &n);
            c->retries = (unsigned)n;
        } else if (strcmp(a, "--out") == 0) {
            c->out_path = v;
        } else if (strcmp(a, "--kinds") == 0) {
            c->kinds_arg = v;
        } else if (strcmp(a, "--post") == 0) {
            c->post_url = v;
        } else if (strcmp(a, "--token-file") == 0) {
            c->token_file = v;
        } else if (strcmp(a, "--channel-path") == 0) {
            c->channel_path = v;
        } else {
            return bad("unknown option \"%s\"", a);
        }
    }
    if (rv == 0 && c->kinds_arg != NULL) {
        rv = parse_kinds(c);
    }
    if (rv == 0 && c->post_url == NULL && (c->token_file != NULL || c->channel_path != NULL)) {
        rv = bad("%s only goes with --post",
                 c->token_file != NULL ? "--token-file" : "--channel-path");
    }
    if (rv == 0 && c->channel_path != NULL && c->channel_path[0] != '/') {
        rv = bad("--channel-path \"%s\" must start with /", c->channel_path);
    }
    return rv;
}

static bool
kind_wanted(const struct gen_cli *c, const char *kind)
{
    if (c->kinds_arg == NULL || strcmp(kind, "meta") == 0) {
        return true;
    }
    for (size_t i = 0; i < IGW_ARRAY_LEN(kinds); i++) {
        if (strcmp(kinds[i], kind) == 0) {
            return c->want_kind[i];
        }
    }
    return false;
}

static void
progress(struct gen_cli *c, bool last)
{
    uint64_t now = igw_mono_ms();
    uint64_t done = igw_gen_insurees_done(c->g);
    unsigned pct = (unsigned)(done * 100 / c->o.insurees);
    char bar[41];

    if (!last && now - c->last_ms < 200) {
        return;
    }
    c->last_ms = now;
    for (unsigned i = 0; i < 40; i++) {
        bar[i] = i < pct * 40 / 100 ? '#' : '.';
    }
    bar[40] = '\0';
    fprintf(stderr, "\r[%s] %3u%% %llu/%llu insurees, %llu records, %llu s", bar, pct,
            (unsigned long long)done, (unsigned long long)c->o.insurees,
            (unsigned long long)c->records, (unsigned long long)((now - c->start_ms) / 1000));
    if (last) {
        fputc('\n', stderr);
    }
}

static int
on_record(void *arg, const char *kind, const char *json, size_t len)
{
    struct gen_cli *c = arg;
    int rv;

    if (!kind_wanted(c, kind)) {
        return 0;
    }
    c->records++;
    if (c->progress && (c->records & 255) == 0) {
        progress(c, false);
    }
    if (c->out != NULL) {
        if (fwrite(json, 1, len, c->out) != len || fputc('\n', c->out) == EOF) {
            c->io_errno = errno;
            return IGW_EIO;
        }
    }
    if (c->post != NULL && strcmp(kind, "meta") != 0) {
        rv = gen_post_send(c->post, kind, json, len);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return 0;
}

/* The token: first line of --token-file, else $IGW_GEN_TOKEN; NULL (no header) when neither. */
static int
read_token(const struct gen_cli *c, char *tok, size_t n, bool *have)
{
    const char *env = getenv("IGW_GEN_TOKEN");
    FILE *f;
    size_t len;

    *have = false;
    if (c->token_file == NULL) {
        if (env != NULL && env[0] != '\0') {
            snprintf(tok, n, "%s", env);
            *have = true;
        }
        return 0;
    }
    f = fopen(c->token_file, "r");
    if (f == NULL) {
        fprintf(stderr, "igw gen: %s: %s\n", c->token_file, strerror(errno));
        return 1;
    }
    if (fgets(tok, (int)n, f) == NULL) {
        tok[0] = '\0';
    }
    fclose(f);
    len = strcspn(tok, "\r\n");
    tok[len] = '\0';
    while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t')) {
        tok[--len] = '\0';
    }
    if (len == 0) {
        fprintf(stderr, "igw gen: %s: no token on its first line\n", c->token_file);
        return 1;
    }
    *have = true;
    return 0;
}

static int
open_post(struct gen_cli *c)
{
    char tok[TOKEN_MAX + 2];
    char err[256] = "";
    bool have = false;
    char prefix[64];
    struct gen_post_opts po;
    int rv;

    if (read_token(c, tok, sizeof(tok), &have) != 0) {
        return 1;
    }
    snprintf(prefix, sizeof(prefix), "igw-gen-%llu-%llu", (unsigned long long)c->o.seed,
             (unsigned long long)c->o.insurees);
    po = (struct gen_post_opts){.url = c->post_url,
                                .path = c->channel_path != NULL ? c->channel_path
                                                                : "/events/openimis/{kind}",
                                .token = have ? tok : NULL,
                                .key_prefix = prefix,
                                .concurrency = c->concurrency,
                                .retries = c->retries,
                                .timeout_ms = 30000};
    rv = gen_post_new(&c->post, &po, err, sizeof(err));
    memset(tok, 0, sizeof(tok));
    if (rv != IGW_OK) {
        fprintf(stderr, "igw gen: %s\n", err[0] != '\0' ? err : igw_strerror(rv));
        return rv == IGW_EINVAL ? 2 : 1;
    }
    if (!have) {
        fprintf(stderr, "igw gen: no token (--token-file or IGW_GEN_TOKEN): posting without "
                        "Authorization\n");
    }
    return 0;
}

static int
open_out(struct gen_cli *c)
{
    if (c->out_path == NULL && c->post_url != NULL) {
        return 0;
    }
    if (c->out_path == NULL || strcmp(c->out_path, "-") == 0) {
        c->out = stdout;
    } else {
        c->out = fopen(c->out_path, "w");
        if (c->out == NULL) {
            fprintf(stderr, "igw gen: %s: %s\n", c->out_path, strerror(errno));
            return 1;
        }
    }
    setvbuf(c->out, NULL, _IOFBF, OUT_BUFSIZE);
    return 0;
}

static int
finish(struct gen_cli *c, int rv)
{
    int status = 0;

    if (rv != IGW_OK && rv != IGW_EAUTH && rv != IGW_ECLOSED) { /* gen_post_summary says those */
        fprintf(stderr, "igw gen: %s\n",
                c->io_errno != 0 ? strerror(c->io_errno) : igw_strerror(rv));
        status = 1;
    }
    if (rv == IGW_EAUTH || rv == IGW_ECLOSED) {
        status = 1;
    }
    if (c->out != NULL && (fflush(c->out) != 0 || ferror(c->out)) && status == 0) {
        fprintf(stderr, "igw gen: %s: %s\n", c->out_path != NULL ? c->out_path : "stdout",
                strerror(errno));
        status = 1;
    }
    if (c->out != NULL && c->out != stdout && fclose(c->out) != 0 && status == 0) {
        fprintf(stderr, "igw gen: %s: %s\n", c->out_path, strerror(errno));
        status = 1;
    }
    if (c->post != NULL) {
        gen_post_finish(c->post);
        if (gen_post_summary(c->post, stderr) > 0) {
            status = 1;
        }
        gen_post_free(c->post);
    }
    return status;
}

int
igw_cmd_gen(int argc, char **argv)
{
    struct gen_cli c;
    int rv;

    memset(&c, 0, sizeof(c));
    c.o.seed = 1;
    c.o.insurees = 1000;
    c.concurrency = 8;
    c.retries = 5;
    rv = parse_args(&c, argc, argv);
    if (rv != 0) {
        return rv < 0 ? usage(stdout) : rv;
    }
    c.progress = c.progress || isatty(STDERR_FILENO);
    if (igw_gen_new(&c.g, &c.o) != IGW_OK) {
        fprintf(stderr, "igw gen: out of memory\n");
        return 1;
    }
    rv = open_out(&c);
    if (rv == 0 && c.post_url != NULL) {
        rv = open_post(&c);
    }
    if (rv != 0) {
        if (c.out != NULL && c.out != stdout) {
            fclose(c.out);
        }
        igw_gen_free(c.g);
        return rv;
    }
    c.start_ms = igw_mono_ms();
    rv = igw_gen_run(c.g, on_record, &c);
    if (c.progress) {
        progress(&c, true);
    }
    rv = finish(&c, rv);
    igw_gen_free(c.g);
    return rv;
}
