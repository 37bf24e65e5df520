/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `igw queue`: find, look at and repair messages over the admin API (docs/ADMIN-API.md,
 * "igw queue"). This file: the dispatch, the options every subcommand takes, the credentials
 * (from the environment or a file, never from the command line), the filters and the help.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "igw/common.h"
#include "cmds.h"
#include "queue_int.h"

#define DEFAULT_URL "http://127.0.0.1:7401"

struct sub {
    const char *name;
    int (*run)(struct qcli *c, int argc, char **argv);
    const char *usage;
    const char *help;
};

#define FILTER_HELP                                                                                \
    "  --channel NAME  --route NAME (channel.route)  --state pending|inflight|delivered|dead\n"    \
    "  --since T  --until T (Unix ms)  --order-key K  --idempotency-key K  --q TEXT (in the "      \
    "body)\n"

static const struct sub SUBS[] = {
    {"ls", qcmd_ls, "ls [FILTERS] [--limit N] [--cursor C] [--all]",
     "Lists messages, newest first, one page (--all: every page).\n" FILTER_HELP},
    {"show", qcmd_show, "show ID",
     "Shows a message: body, metadata, each route's payload and state, every attempt, its dead\n"
     "letters.\n"},
    {"retry", qcmd_repair, "retry ID [--route R] | retry FILTERS [--dry-run] [--yes]",
     "Attempts the pending deliveries now, skipping their backoff.\n"},
    {"replay", qcmd_repair, "replay ID [--route R] | replay FILTERS [--dry-run] [--yes]",
     "Translates the message again with the current maps and delivers it again.\n"},
    {"release", qcmd_repair, "release ID [--route R] | release FILTERS [--dry-run] [--yes]",
     "Returns dead deliveries to pending with their payload as it is.\n"},
    {"purge", qcmd_repair, "purge ID | purge FILTERS [--dry-run] [--yes]",
     "Deletes messages and every record of them, for good (role admin).\n"},
    {"edit", qcmd_edit, "edit ID [--route R | --body]",
     "Opens $VISUAL or $EDITOR on a route's payload (--route; the only one if there is one) or on\n"
     "the body (--body: every route is translated again); saving a change replaces it and\n"
     "releases the delivery. The original is kept by the queue.\n"},
    {"stats", qcmd_stats, "stats", "Counts messages and deliveries by channel, route and state.\n"},
    {"audit", qcmd_audit, "audit [--limit N] [--cursor C] [--all]",
     "Lists the audit log, newest first: who changed what, when (role viewer).\n"},
    {"alerts", qcmd_alerts, "alerts",
     "Lists the alert rules with their state, and the incidents.\n"},
    {"tail", qcmd_tail, "tail [--count N]",
     "Follows the queue's live events (accepted, delivered, retry, dead, ...) until Ctrl-C or N\n"
     "events.\n"},
};
#define NSUBS (sizeof(SUBS) / sizeof(SUBS[0]))

static const char COMMON_HELP[] =
    "Options of every subcommand:\n"
    "  --url URL         the admin API (default $IGW_ADMIN_URL, else " DEFAULT_URL ")\n"
    "  --token-file FILE the admin token (default $IGW_ADMIN_TOKEN_FILE, else $IGW_ADMIN_TOKEN)\n"
    "  --json            machine output: the API's JSON, one document (tail: one per line)\n"
    "  --timeout SECONDS limit of one request (default 30)\n"
    "  -h, --help        this text\n"
    "Exit codes: 0 done, 1 nothing to do or not found, 2 usage, 3 credentials refused,\n"
    "4 server or network failure.\n";

static int
usage_all(FILE *f)
{
    size_t i;

    fprintf(f, "usage: igw queue <subcommand> [options]\n");
    for (i = 0; i < NSUBS; i++) {
        fprintf(f, "  igw queue %s\n", SUBS[i].usage);
    }
    fprintf(f, "%s", COMMON_HELP);
    return f == stdout ? QX_OK : QX_USAGE;
}

int
qhelp(const char *sub, FILE *f)
{
    size_t i;

    for (i = 0; i < NSUBS; i++) {
        if (strcmp(SUBS[i].name, sub) == 0) {
            fprintf(f, "usage: igw queue %s\n%s%s", SUBS[i].usage, SUBS[i].help, COMMON_HELP);
            break;
        }
    }
    return f == stdout ? QX_OK : QX_USAGE;
}

bool
qwants_help(const char *sub, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            qhelp(sub, stdout);
            return true;
        }
    }
    return false;
}

bool
qid_ok(const char *id)
{
    size_t i;

    for (i = 0; id[i] != '\0' && isxdigit((unsigned char)id[i]); i++) {
    }
    if (i != 16 || id[i] != '\0') {
        fprintf(stderr, "igw queue: \"%s\" is no message id (16 hex digits)\n", id);
        return false;
    }
    return true;
}

/* ---- filters --------------------------------------------------------------------------- */

int
qfilter_opt(struct qfilter *f, int argc, char **argv, int *i)
{
    static const char *const names[] = {"--channel", "--route",     "--state",           "--since",
                                        "--until",   "--order-key", "--idempotency-key", "--q",
                                        "--limit",   "--cursor"};
    const char **slots[] = {&f->channel,   &f->route, &f->state, &f->since, &f->until,
                            &f->order_key, &f->idem,  &f->q,     &f->limit, &f->cursor};
    size_t k;

    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (strcmp(argv[*i], names[k]) == 0) {
            if (*i + 1 >= argc) {
                fprintf(stderr, "igw queue: %s needs a value\n", names[k]);
                return -1;
            }
            *slots[k] = argv[*i + 1];
            *i += 2;
            return 1;
        }
    }
    return 0;
}

bool
qfilter_any(const struct qfilter *f)
{
    return f->channel || f->route || f->state || f->since || f->until || f->order_key || f->idem ||
           f->q;
}

int
qfilter_query(const struct qfilter *f, struct igw_buf *b)
{
    const char *const names[] = {"channel",   "route",           "state", "since", "until",
                                 "order_key", "idempotency_key", "q",     "limit", "cursor"};
    const char *vals[] = {f->channel,   f->route, f->state, f->since, f->until,
                          f->order_key, f->idem,  f->q,     f->limit, f->cursor};
    size_t k;
    int rv = IGW_OK;

    for (k = 0; k < sizeof(names) / sizeof(names[0]) && rv == IGW_OK; k++) {
        if (vals[k] != NULL) {
            rv = qurl_param(b, names[k], vals[k]);
        }
    }
    return rv;
}

void
qfilter_json(const struct qfilter *f, cJSON *o)
{
    const char *const names[] = {"channel", "route",     "state",           "since",
                                 "until",   "order_key", "idempotency_key", "q"};
    const char *vals[] = {f->channel, f->route,     f->state, f->since,
                          f->until,   f->order_key, f->idem,  f->q};
    size_t k;

    for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (vals[k] == NULL) {
            continue;
        }
        if ((k == 3 || k == 4) && strspn(vals[k], "0123456789") == strlen(vals[k])) {
            cJSON_AddNumberToObject(o, names[k], strtod(vals[k], NULL)); /* times are ms */
        } else {
            cJSON_AddStringToObject(o, names[k], vals[k]);
        }
    }
}

/* ---- credentials and the common options ------------------------------------------------ */

/* The first line of a token file that is neither empty nor a # comment, trimmed. */
static char *
token_from_file(const char *path)
{
    struct igw_buf b;
    char *line, *tok = NULL;

    igw_buf_init(&b, 64u << 10);
    if (igw_buf_read_file(&b, path) != IGW_OK) {
        fprintf(stderr, "igw queue: cannot read the token file %s\n", path);
        igw_buf_fini(&b);
        return NULL;
    }
    for (line = b.ptr; line != NULL && *line != '\0' && tok == NULL;) {
        size_t n = strcspn(line, "\r\n");
        size_t s = strspn(line, " \t");
        while (n > s && (line[n - 1] == ' ' || line[n - 1] == '\t')) {
            n--;
        }
        if (n > s && line[s] != '#') {
            tok = igw_strndup(line + s, n - s);
        }
        line += strcspn(line, "\n");
        line += *line == '\n' ? 1 : 0;
    }
    memset(b.ptr, 0, b.len);
    igw_buf_fini(&b);
    if (tok == NULL) {
        fprintf(stderr, "igw queue: the token file %s holds no token\n", path);
    }
    return tok;
}

static int
load_token(struct qcli *c, const char *file)
{
    const char *env = getenv("IGW_ADMIN_TOKEN");

    if (file == NULL) {
        file = getenv("IGW_ADMIN_TOKEN_FILE");
    }
    if (file != NULL && *file != '\0') {
        c->token = token_from_file(file);
    } else if (env != NULL && *env != '\0') {
        c->token = igw_strdup(env);
    } else {
        fprintf(stderr, "igw queue: no admin token: set IGW_ADMIN_TOKEN_FILE or IGW_ADMIN_TOKEN, "
                        "or give --token-file FILE\n");
        return QX_AUTH;
    }
    return c->token != NULL ? QX_OK : QX_AUTH;
}

/* Takes the common options out of argv (in place; *argc shrinks). */
static int
common_opts(struct qcli *c, int *argc, char **argv, const char **token_file)
{
    int i, o = 0;

    for (i = 0; i < *argc; i++) {
        const char *a = argv[i];
        bool val = strcmp(a, "--url") == 0 || strcmp(a, "--token-file") == 0 ||
                   strcmp(a, "--timeout") == 0;
        if (val && i + 1 >= *argc) {
            fprintf(stderr, "igw queue: %s needs a value\n", a);
            return QX_USAGE;
        }
        if (strcmp(a, "--url") == 0) {
            snprintf(c->url, sizeof(c->url), "%s", argv[++i]);
        } else if (strcmp(a, "--token-file") == 0) {
            *token_file = argv[++i];
        } else if (strcmp(a, "--timeout") == 0) {
            c->timeout_s = strtol(argv[++i], NULL, 10);
        } else if (strcmp(a, "--json") == 0) {
            c->json = true;
        } else if (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0) {
            c->yes = true;
        } else {
            argv[o++] = argv[i];
        }
    }
    *argc = o;
    if (c->timeout_s <= 0) {
        c->timeout_s = 30;
    }
    return QX_OK;
}

/* The index of the subcommand's name in argv (after any common options), or 0. A token given
 * on the command line is refused wherever it stands. */
static int
sub_position(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--url") == 0 || strcmp(a, "--token-file") == 0 ||
            strcmp(a, "--timeout") == 0) {
            i++;
        } else if (a[0] != '-') {
            return i;
        } else if (strcmp(a, "--json") != 0 && strcmp(a, "--yes") != 0 && strcmp(a, "-y") != 0) {
            return 0;
        }
    }
    return 0;
}

int
igw_cmd_queue(int argc, char **argv)
{
    struct qcli c;
    const char *token_file = NULL;
    const char *env_url = getenv("IGW_ADMIN_URL");
    const struct sub *s = NULL;
    char *name;
    size_t i, n;
    int x, pos;

    for (i = 1; i < (size_t)argc; i++) {
        if (strcmp(argv[i], "--token") == 0 || strncmp(argv[i], "--token=", 8) == 0) {
            fprintf(stderr, "igw queue: a token is never taken on the command line (other users "
                            "see it in ps): use IGW_ADMIN_TOKEN_FILE or --token-file\n");
            return QX_USAGE;
        }
    }
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        return usage_all(argc < 2 ? stderr : stdout);
    }
    pos = sub_position(argc, argv);
    for (i = 0; pos > 0 && i < NSUBS && s == NULL; i++) {
        s = strcmp(SUBS[i].name, argv[pos]) == 0 ? &SUBS[i] : NULL;
    }
    if (s == NULL) {
        fprintf(stderr, "igw queue: %s\n",
                pos > 0 ? "unknown subcommand" : "no subcommand (or an option without its value)");
        return usage_all(stderr);
    }
    /* the subcommand first: common options may stand before it (igw queue --json ls) */
    name = argv[pos];
    memmove(argv + 2, argv + 1, (size_t)(pos - 1) * sizeof(*argv));
    argv[1] = name;
    argc--;
    argv++;
    if (qwants_help(s->name, argc, argv)) {
        return QX_OK;
    }
    memset(&c, 0, sizeof(c));
    snprintf(c.url, sizeof(c.url), "%s", env_url != NULL && *env_url ? env_url : DEFAULT_URL);
    x = common_opts(&c, &argc, argv, &token_file);
    n = strlen(c.url);
    while (n > 0 && c.url[n - 1] == '/') {
        c.url[--n] = '\0';
    }
    if (x == QX_OK) {
        x = load_token(&c, token_file);
    }
    if (x == QX_OK) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        x = s->run(&c, argc, argv);
        curl_global_cleanup();
    }
    if (c.token != NULL) {
        memset(c.token, 0, strlen(c.token));
        igw_free(c.token);
    }
    return x;
}
