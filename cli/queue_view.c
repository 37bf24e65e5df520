/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `igw queue ls|show|stats|tail` (queue_int.h): the admin API's answers as tables for people,
 * or as the API's JSON with --json for scripts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "queue_int.h"

#define TABLE_COLS 8
#define CELL_MAX 96
#define LS_PAGES_MAX 100000 /* --all: a bound on the pages followed */

/* A table printed with columns as wide as their widest cell (cells cut at CELL_MAX). */
struct table {
    int ncols;
    size_t w[TABLE_COLS];
    char (*cells)[TABLE_COLS][CELL_MAX];
    size_t nrows, cap;
};

static void
table_row(struct table *t, ...)
{
    va_list ap;
    int i;

    if (t->nrows == t->cap) {
        size_t cap = t->cap != 0 ? t->cap * 2 : 32;
        void *p = igw_realloc(t->cells, cap * sizeof(*t->cells));
        if (p == NULL) {
            return; /* out of memory: the row is left out */
        }
        t->cells = p;
        t->cap = cap;
    }
    va_start(ap, t);
    for (i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        size_t n;
        snprintf(t->cells[t->nrows][i], CELL_MAX, "%s", s != NULL ? s : "");
        n = strlen(t->cells[t->nrows][i]);
        t->w[i] = n > t->w[i] ? n : t->w[i];
    }
    va_end(ap);
    t->nrows++;
}

static void
table_print(struct table *t)
{
    size_t r;
    int i;

    for (r = 0; r < t->nrows; r++) {
        for (i = 0; i < t->ncols; i++) {
            printf(i + 1 < t->ncols ? "%-*s  " : "%-*s", (int)(i + 1 < t->ncols ? t->w[i] : 0),
                   t->cells[r][i]);
        }
        putchar('\n');
    }
    igw_free(t->cells);
    t->cells = NULL;
}

/* ---- JSON helpers ---------------------------------------------------------------------- */

static const char *
jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
jnum(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *
fmt_u(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.0f", v);
    return buf;
}

/* ISO 8601 UTC with milliseconds; "" for 0. */
static const char *
fmt_time(char *buf, size_t n, double ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    buf[0] = '\0';
    if (ms > 0 && gmtime_r(&s, &tm) != NULL) {
        size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + k, n - k, ".%03dZ", (int)((long long)ms % 1000));
    }
    return buf;
}

static const char *
fmt_age(char *buf, size_t n, double ms)
{
    if (ms < 0) {
        snprintf(buf, n, "-");
    } else if (ms < 120000) {
        snprintf(buf, n, "%.0fs", ms / 1000);
    } else if (ms < 7200000) {
        snprintf(buf, n, "%.0fmin", ms / 60000);
    } else {
        snprintf(buf, n, "%.1fh", ms / 3600000);
    }
    return buf;
}

static void
print_json(const cJSON *doc)
{
    char *s = cJSON_PrintUnformatted(doc);

    if (s != NULL) {
        printf("%s\n", s);
        cJSON_free(s);
    }
}

/* ---- ls -------------------------------------------------------------------------------- */

static void
ls_rows(struct table *t, const cJSON *items)
{
    const cJSON *m;

    cJSON_ArrayForEach(m, items)
    {
        char when[40], dl[CELL_MAX] = "";
        const cJSON *d;
        size_t k = 0;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(m, "deliveries"))
        {
            const char *r = jstr(d, "route"), *st = jstr(d, "state");
            k += (size_t)snprintf(dl + k, k < sizeof(dl) ? sizeof(dl) - k : 0, "%s%s:%s",
                                  k > 0 ? " " : "", r != NULL ? r : "?", st != NULL ? st : "?");
            k = k < sizeof(dl) ? k : sizeof(dl);
        }
        table_row(t, jstr(m, "id"), jstr(m, "channel"),
                  fmt_time(when, sizeof(when), jnum(m, "created_ms", 0)), jstr(m, "state"), dl);
    }
}

int
qcmd_ls(struct qcli *c, int argc, char **argv)
{
    struct qfilter f = {0};
    struct table t = {.ncols = 5};
    cJSON *all = NULL;
    char *cursor = NULL;
    bool every = false;
    int i = 1, x = QX_OK;
    unsigned pages = 0;

    while (i < argc) {
        int k = qfilter_opt(&f, argc, argv, &i);
        if (k < 0) {
            return QX_USAGE;
        }
        if (k == 0 && strcmp(argv[i], "--all") == 0) {
            every = true;
            i++;
        } else if (k == 0) {
            fprintf(stderr, "igw queue ls: unknown option %s\n", argv[i]);
            return qhelp("ls", stderr);
        }
    }
    table_row(&t, "ID", "CHANNEL", "RECEIVED", "STATE", "DELIVERIES");
    all = c->json && every ? cJSON_CreateArray() : NULL;
    do {
        struct igw_buf path;
        struct qresp r;
        const char *next;
        igw_buf_init(&path, 8192);
        igw_buf_puts(&path, "/admin/messages");
        if (cursor != NULL) {
            f.cursor = cursor;
        }
        qfilter_query(&f, &path);
        x = qhttp(c, "GET", path.ptr, NULL, &r, false);
        igw_buf_fini(&path);
        igw_free(cursor);
        cursor = NULL;
        if (x != QX_OK) {
            qresp_fini(&r);
            break;
        }
        if (c->json && !every) {
            print_json(r.doc);
        } else if (all != NULL) {
            const cJSON *m;
            cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(r.doc, "items"))
            {
                cJSON_AddItemToArray(all, cJSON_Duplicate(m, true));
            }
        } else {
            ls_rows(&t, cJSON_GetObjectItemCaseSensitive(r.doc, "items"));
        }
        next = jstr(r.doc, "next");
        cursor = every && next != NULL && *next != '\0' ? igw_strdup(next) : NULL;
        if (!every && next != NULL && !c->json) {
            fprintf(stderr, "(more: --cursor %s, or --all)\n", next);
        }
        qresp_fini(&r);
    } while (cursor != NULL && ++pages < LS_PAGES_MAX);
    igw_free(cursor);
    if (all != NULL) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "items", all);
        cJSON_AddNullToObject(o, "next");
        print_json(o);
        cJSON_Delete(o);
    } else if (!c->json && x == QX_OK) {
        table_print(&t);
    }
    igw_free(t.cells);
    return x;
}

/* ---- show ------------------------------------------------------------------------------ */

static void
show_attempts(const cJSON *d)
{
    const cJSON *a;
    char when[40];
    double omitted = jnum(d, "attempts_omitted", 0);

    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(d, "attempt_log"))
    {
        const char *err = jstr(a, "error");
        printf("    attempt %.0f  %s  status %.0f  %.0f ms  %s%s%s\n", jnum(a, "n", 0),
               fmt_time(when, sizeof(when), jnum(a, "time_ms", 0)), jnum(a, "status", 0),
               jnum(a, "duration_ms", 0), jstr(a, "result") != NULL ? jstr(a, "result") : "",
               err != NULL && *err ? "  " : "", err != NULL ? err : "");
        if (jnum(a, "n", 0) == 1 && omitted > 0) {
            printf("    ... %.0f attempts not kept ...\n", omitted);
        }
    }
}

static void
show_delivery(const cJSON *d)
{
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(d, "dead_letter");
    const char *payload = jstr(d, "payload"), *err = jstr(d, "last_error");
    char when[40];

    printf("\nroute %s  %s  attempts %.0f", jstr(d, "route"), jstr(d, "state"),
           jnum(d, "attempts", 0));
    if (jnum(d, "last_status", 0) > 0 || (err != NULL && *err)) {
        printf("  last: %.0f %s", jnum(d, "last_status", 0), err != NULL ? err : "");
    }
    if (jstr(d, "order_key") != NULL) {
        printf("  order key %s", jstr(d, "order_key"));
    }
    printf("\n");
    if (payload != NULL) {
        printf("  payload (%.0f bytes):\n%s\n", jnum(d, "payload_len", (double)strlen(payload)),
               payload);
    } else if (cJSON_GetObjectItemCaseSensitive(d, "payload_len") != NULL) {
        printf("  payload: %.0f bytes, not shown (not text or over 64 KiB)\n",
               jnum(d, "payload_len", 0));
    }
    show_attempts(d);
    if (dl != NULL) {
        const char *resp = jstr(dl, "response");
        printf("  dead letter %s  status %.0f  %s\n",
               fmt_time(when, sizeof(when), jnum(dl, "dead_ms", 0)), jnum(dl, "status", 0),
               jstr(dl, "error") != NULL ? jstr(dl, "error") : "");
        if (resp != NULL && *resp) {
            printf("  response: %s\n", resp);
        }
    }
}

int
qcmd_show(struct qcli *c, int argc, char **argv)
{
    struct qresp r;
    char path[64], when[40];
    const cJSON *d;
    char *meta;
    int x;

    if (argc != 2) {
        return qhelp("show", stderr);
    }
    if (!qid_ok(argv[1])) {
        return QX_USAGE;
    }
    snprintf(path, sizeof(path), "/admin/messages/%s", argv[1]);
    x = qhttp(c, "GET", path, NULL, &r, false);
    if (x == QX_OK && c->json) {
        print_json(r.doc);
    } else if (x == QX_OK) {
        printf("id        %s\nchannel   %s\nreceived  %s\nbody      %.0f bytes %s\n",
               jstr(r.doc, "id"), jstr(r.doc, "channel"),
               fmt_time(when, sizeof(when), jnum(r.doc, "created_ms", 0)),
               jnum(r.doc, "body_len", 0),
               jstr(r.doc, "content_type") != NULL ? jstr(r.doc, "content_type") : "");
        if (jstr(r.doc, "body") != NULL) {
            printf("%s\n", jstr(r.doc, "body"));
        }
        meta = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(r.doc, "metadata"));
        printf("metadata  %s\n", meta != NULL ? meta : "");
        cJSON_free(meta);
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(r.doc, "deliveries"))
        {
            show_delivery(d);
        }
    }
    qresp_fini(&r);
    return x;
}

/* ---- stats ----------------------------------------------------------------------------- */

/* The state counts of o: o.deliveries when it is an object, else o itself (stats version 1). */
static const cJSON *
counts_of(const cJSON *o)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "deliveries");

    return cJSON_IsObject(d) ? d : o;
}

static void
stats_print(const cJSON *s)
{
    const cJSON *d = counts_of(s), *o;
    char a[24], b[24], e[24], f[24], g[24], h[24];
    struct table t = {.ncols = 6};

    printf("messages %.0f; deliveries: pending %.0f, inflight %.0f, delivered %.0f, dead %.0f\n",
           jnum(s, "messages", 0), jnum(d, "pending", 0), jnum(d, "inflight", 0),
           jnum(d, "delivered", 0), jnum(d, "dead", 0));
    printf("storage %.1f MiB used of %.1f MiB%s\n", jnum(s, "map_used", 0) / 1048576.0,
           jnum(s, "map_size", 0) / 1048576.0,
           cJSON_IsTrue(cJSON_GetObjectItem(s, "full")) ? " (FULL)" : "");
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "channels")) > 0) {
        table_row(&t, "CHANNEL", "MESSAGES", "PENDING", "INFLIGHT", "DELIVERED", "DEAD");
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(s, "channels"))
        {
            const cJSON *k = counts_of(o);
            table_row(&t, jstr(o, "channel"), fmt_u(a, sizeof(a), jnum(o, "messages", 0)),
                      fmt_u(b, sizeof(b), jnum(k, "pending", 0)),
                      fmt_u(e, sizeof(e), jnum(k, "inflight", 0)),
                      fmt_u(f, sizeof(f), jnum(k, "delivered", 0)),
                      fmt_u(g, sizeof(g), jnum(k, "dead", 0)));
        }
        putchar('\n');
        table_print(&t);
    }
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "routes")) > 0) {
        struct table u = {.ncols = 7};
        table_row(&u, "ROUTE", "PENDING", "INFLIGHT", "DELIVERED", "DEAD", "OLDEST-PENDING",
                  "CIRCUIT");
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(s, "routes"))
        {
            const cJSON *k = counts_of(o);
            table_row(&u, jstr(o, "route"), fmt_u(a, sizeof(a), jnum(k, "pending", 0)),
                      fmt_u(b, sizeof(b), jnum(k, "inflight", 0)),
                      fmt_u(e, sizeof(e), jnum(k, "delivered", 0)),
                      fmt_u(f, sizeof(f), jnum(k, "dead", 0)),
                      jnum(k, "pending", 0) > 0
                          ? fmt_age(g, sizeof(g), jnum(o, "oldest_pending_age_ms", -1))
                          : "-",
                      jstr(o, "circuit") != NULL ? jstr(o, "circuit") : fmt_u(h, sizeof(h), 0));
        }
        putchar('\n');
        table_print(&u);
    }
}

int
qcmd_stats(struct qcli *c, int argc, char **argv)
{
    struct qresp r;
    int x;

    (void)argv;
    if (argc != 1) {
        return qhelp("stats", stderr);
    }
    x = qhttp(c, "GET", "/admin/stats", NULL, &r, false);
    if (x == QX_OK) {
        if (c->json) {
            print_json(r.doc);
        } else {
            stats_print(r.doc);
        }
    }
    qresp_fini(&r);
    return x;
}

/* ---- tail ------------------------------------------------------------------------------ */

struct tail {
    const struct qcli *c;
    long left; /* events still to print; -1: no limit */
};

static bool
on_event(void *arg, const char *event, const char *data)
{
    struct tail *t = arg;
    cJSON *e;
    char when[40];

    if (t->c->json) {
        printf("%s\n", data);
    } else {
        e = cJSON_Parse(data);
        printf("%s  %-9s %s", fmt_time(when, sizeof(when), jnum(e, "time_ms", 0)),
               jstr(e, "kind") != NULL ? jstr(e, "kind") : event,
               jstr(e, "id") != NULL ? jstr(e, "id") : "");
        if (jstr(e, "route") != NULL) {
            printf("  %s", jstr(e, "route"));
        } else if (jstr(e, "channel") != NULL) {
            printf("  %s", jstr(e, "channel"));
        }
        if (jnum(e, "attempts", 0) > 0) {
            printf("  attempts %.0f", jnum(e, "attempts", 0));
        }
        const char *err = jstr(e, "error");
        if (err != NULL && *err != '\0') {
            printf("  %s", err);
        }
        putchar('\n');
        cJSON_Delete(e);
    }
    fflush(stdout);
    return t->left < 0 || --t->left > 0;
}

int
qcmd_tail(struct qcli *c, int argc, char **argv)
{
    struct tail t = {.c = c, .left = -1};
    char *end = NULL;

    if (argc == 3 && strcmp(argv[1], "--count") == 0) {
        t.left = strtol(argv[2], &end, 10);
        if (end == argv[2] || *end != '\0' || t.left <= 0) {
            fprintf(stderr, "igw queue tail: --count takes a number above 0\n");
            return QX_USAGE;
        }
    } else if (argc != 1) {
        return qhelp("tail", stderr);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    return qhttp_events(c, "/admin/events", on_event, &t);
}
