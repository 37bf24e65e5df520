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

#define LS_PAGES_MAX 100000 /* --all: a bound on the pages followed */

/* ---- ls -------------------------------------------------------------------------------- */

static void
ls_rows(struct qtable *t, const cJSON *items)
{
    const cJSON *m;

    cJSON_ArrayForEach(m, items)
    {
        char when[40], dl[QCELL_MAX] = "";
        const cJSON *d;
        size_t k = 0;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(m, "deliveries"))
        {
            const char *r = qjstr(d, "route"), *st = qjstr(d, "state");
            k += (size_t)snprintf(dl + k, k < sizeof(dl) ? sizeof(dl) - k : 0, "%s%s:%s",
                                  k > 0 ? " " : "", r != NULL ? r : "?", st != NULL ? st : "?");
            k = k < sizeof(dl) ? k : sizeof(dl);
        }
        qtable_row(t, qjstr(m, "id"), qjstr(m, "channel"),
                   qfmt_time(when, sizeof(when), qjnum(m, "created_ms", 0)), qjstr(m, "state"), dl);
    }
}

int
qcmd_ls(struct qcli *c, int argc, char **argv)
{
    struct qfilter f = {0};
    struct qtable t = {.ncols = 5};
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
    qtable_row(&t, "ID", "CHANNEL", "RECEIVED", "STATE", "DELIVERIES");
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
            qprint_json(r.doc);
        } else if (all != NULL) {
            const cJSON *m;
            cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(r.doc, "items"))
            {
                cJSON_AddItemToArray(all, cJSON_Duplicate(m, true));
            }
        } else {
            ls_rows(&t, cJSON_GetObjectItemCaseSensitive(r.doc, "items"));
        }
        next = qjstr(r.doc, "next");
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
        qprint_json(o);
        cJSON_Delete(o);
    } else if (!c->json && x == QX_OK) {
        qtable_print(&t);
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
    double omitted = qjnum(d, "attempts_omitted", 0);

    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(d, "attempt_log"))
    {
        const char *err = qjstr(a, "error");
        printf("    attempt %.0f  %s  status %.0f  %.0f ms  %s%s%s\n", qjnum(a, "n", 0),
               qfmt_time(when, sizeof(when), qjnum(a, "time_ms", 0)), qjnum(a, "status", 0),
               qjnum(a, "duration_ms", 0), qjstr(a, "result") != NULL ? qjstr(a, "result") : "",
               err != NULL && *err ? "  " : "", err != NULL ? err : "");
        if (qjnum(a, "n", 0) == 1 && omitted > 0) {
            printf("    ... %.0f attempts not kept ...\n", omitted);
        }
    }
}

static void
show_delivery(const cJSON *d)
{
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(d, "dead_letter");
    const char *payload = qjstr(d, "payload"), *err = qjstr(d, "last_error");
    char when[40];

    printf("\nroute %s  %s  attempts %.0f", qjstr(d, "route"), qjstr(d, "state"),
           qjnum(d, "attempts", 0));
    if (qjnum(d, "last_status", 0) > 0 || (err != NULL && *err)) {
        printf("  last: %.0f %s", qjnum(d, "last_status", 0), err != NULL ? err : "");
    }
    if (qjstr(d, "order_key") != NULL) {
        printf("  order key %s", qjstr(d, "order_key"));
    }
    printf("\n");
    if (payload != NULL) {
        printf("  payload (%.0f bytes):\n%s\n", qjnum(d, "payload_len", (double)strlen(payload)),
               payload);
    } else if (cJSON_GetObjectItemCaseSensitive(d, "payload_len") != NULL) {
        printf("  payload: %.0f bytes, not shown (not text or over 64 KiB)\n",
               qjnum(d, "payload_len", 0));
    }
    show_attempts(d);
    if (dl != NULL) {
        const char *resp = qjstr(dl, "response");
        printf("  dead letter %s  status %.0f  %s\n",
               qfmt_time(when, sizeof(when), qjnum(dl, "dead_ms", 0)), qjnum(dl, "status", 0),
               qjstr(dl, "error") != NULL ? qjstr(dl, "error") : "");
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
        qprint_json(r.doc);
    } else if (x == QX_OK) {
        printf("id        %s\nchannel   %s\nreceived  %s\nbody      %.0f bytes %s\n",
               qjstr(r.doc, "id"), qjstr(r.doc, "channel"),
               qfmt_time(when, sizeof(when), qjnum(r.doc, "created_ms", 0)),
               qjnum(r.doc, "body_len", 0),
               qjstr(r.doc, "content_type") != NULL ? qjstr(r.doc, "content_type") : "");
        if (qjstr(r.doc, "body") != NULL) {
            printf("%s\n", qjstr(r.doc, "body"));
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
    struct qtable t = {.ncols = 6};

    printf("messages %.0f; deliveries: pending %.0f, inflight %.0f, delivered %.0f, dead %.0f\n",
           qjnum(s, "messages", 0), qjnum(d, "pending", 0), qjnum(d, "inflight", 0),
           qjnum(d, "delivered", 0), qjnum(d, "dead", 0));
    printf("storage %.1f MiB used of %.1f MiB%s\n", qjnum(s, "map_used", 0) / 1048576.0,
           qjnum(s, "map_size", 0) / 1048576.0,
           cJSON_IsTrue(cJSON_GetObjectItem(s, "full")) ? " (FULL)" : "");
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "channels")) > 0) {
        qtable_row(&t, "CHANNEL", "MESSAGES", "PENDING", "INFLIGHT", "DELIVERED", "DEAD");
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(s, "channels"))
        {
            const cJSON *k = counts_of(o);
            qtable_row(&t, qjstr(o, "channel"), qfmt_u(a, sizeof(a), qjnum(o, "messages", 0)),
                       qfmt_u(b, sizeof(b), qjnum(k, "pending", 0)),
                       qfmt_u(e, sizeof(e), qjnum(k, "inflight", 0)),
                       qfmt_u(f, sizeof(f), qjnum(k, "delivered", 0)),
                       qfmt_u(g, sizeof(g), qjnum(k, "dead", 0)));
        }
        putchar('\n');
        qtable_print(&t);
    }
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "routes")) > 0) {
        struct qtable u = {.ncols = 7};
        qtable_row(&u, "ROUTE", "PENDING", "INFLIGHT", "DELIVERED", "DEAD", "OLDEST-PENDING",
                   "CIRCUIT");
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(s, "routes"))
        {
            const cJSON *k = counts_of(o);
            qtable_row(&u, qjstr(o, "route"), qfmt_u(a, sizeof(a), qjnum(k, "pending", 0)),
                       qfmt_u(b, sizeof(b), qjnum(k, "inflight", 0)),
                       qfmt_u(e, sizeof(e), qjnum(k, "delivered", 0)),
                       qfmt_u(f, sizeof(f), qjnum(k, "dead", 0)),
                       qjnum(k, "pending", 0) > 0
                           ? qfmt_age(g, sizeof(g), qjnum(o, "oldest_pending_age_ms", -1))
                           : "-",
                       qjstr(o, "circuit") != NULL ? qjstr(o, "circuit") : qfmt_u(h, sizeof(h), 0));
        }
        putchar('\n');
        qtable_print(&u);
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
            qprint_json(r.doc);
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
        printf("%s  %-9s %s", qfmt_time(when, sizeof(when), qjnum(e, "time_ms", 0)),
               qjstr(e, "kind") != NULL ? qjstr(e, "kind") : event,
               qjstr(e, "id") != NULL ? qjstr(e, "id") : "");
        if (qjstr(e, "route") != NULL) {
            printf("  %s", qjstr(e, "route"));
        } else if (qjstr(e, "channel") != NULL) {
            printf("  %s", qjstr(e, "channel"));
        }
        if (qjnum(e, "attempts", 0) > 0) {
            printf("  attempts %.0f", qjnum(e, "attempts", 0));
        }
        const char *err = qjstr(e, "error");
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
