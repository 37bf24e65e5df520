/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `igw queue audit|alerts` (queue_int.h): the audit log (GET /admin/audit, newest first, paged)
 * and the alert rules with their incidents (GET /admin/alerts), as tables or --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "queue_int.h"

#define AUDIT_PAGES_MAX 10000 /* --all: a bound on the pages followed */

static void
audit_rows(struct qtable *t, const cJSON *items)
{
    const cJSON *r;

    cJSON_ArrayForEach(r, items)
    {
        char seq[24], when[40];
        char *detail = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(r, "detail"));
        qtable_row(t, qfmt_u(seq, sizeof(seq), qjnum(r, "seq", 0)),
                   qfmt_time(when, sizeof(when), qjnum(r, "ts_ms", 0)), qjstr(r, "who"),
                   qjstr(r, "role"), qjstr(r, "action"), qjstr(r, "target"),
                   detail != NULL && strcmp(detail, "null") != 0 ? detail : "");
        cJSON_free(detail);
    }
}

int
qcmd_audit(struct qcli *c, int argc, char **argv)
{
    const char *limit = NULL;
    char *cursor = NULL;
    bool every = false;
    struct qtable t = {.ncols = 7};
    unsigned pages = 0;
    int i, x = QX_OK;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            limit = argv[++i];
        } else if (strcmp(argv[i], "--cursor") == 0 && i + 1 < argc) {
            igw_free(cursor);
            cursor = igw_strdup(argv[++i]);
        } else if (strcmp(argv[i], "--all") == 0) {
            every = true;
        } else {
            igw_free(cursor);
            return qhelp("audit", stderr);
        }
    }
    qtable_row(&t, "SEQ", "TIME", "WHO", "ROLE", "ACTION", "TARGET", "DETAIL");
    do {
        struct igw_buf path;
        struct qresp r;
        const char *next;
        igw_buf_init(&path, 1024);
        igw_buf_puts(&path, "/admin/audit");
        if (limit != NULL) {
            qurl_param(&path, "limit", limit);
        }
        if (cursor != NULL) {
            qurl_param(&path, "cursor", cursor);
        }
        x = qhttp(c, "GET", path.ptr, NULL, &r, false);
        igw_buf_fini(&path);
        IGW_FREE(cursor);
        if (x == QX_OK && c->json) {
            qprint_json(r.doc); /* --all --json: one document per page */
        } else if (x == QX_OK) {
            audit_rows(&t, cJSON_GetObjectItemCaseSensitive(r.doc, "items"));
        }
        next = x == QX_OK ? qjstr(r.doc, "next") : NULL;
        if (next != NULL && every) {
            cursor = igw_strdup(next);
        } else if (next != NULL && !c->json) {
            fprintf(stderr, "(older: --cursor %s, or --all)\n", next);
        }
        qresp_fini(&r);
    } while (cursor != NULL && ++pages < AUDIT_PAGES_MAX);
    igw_free(cursor);
    if (x == QX_OK && !c->json) {
        qtable_print(&t);
    }
    igw_free(t.cells);
    return x;
}

static void
alerts_print(const cJSON *doc)
{
    struct qtable t = {.ncols = 6}, u = {.ncols = 7};
    const cJSON *o;
    char a[24], b[24], w1[40], w2[40];

    qtable_row(&t, "RULE", "KIND", "ROUTE", "THRESHOLD", "STATE", "VALUE");
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(doc, "rules"))
    {
        qtable_row(&t, qjstr(o, "name"), qjstr(o, "kind"), qjstr(o, "route"),
                   qfmt_u(a, sizeof(a), qjnum(o, "threshold", 0)), qjstr(o, "state"),
                   qfmt_u(b, sizeof(b), qjnum(o, "value", 0)));
    }
    qtable_print(&t);
    qtable_row(&u, "INCIDENT", "RULE", "ROUTE", "STATE", "VALUE", "STARTED", "RESOLVED");
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(doc, "items"))
    {
        qtable_row(&u, qjstr(o, "incident"), qjstr(o, "alert"), qjstr(o, "route"),
                   qjstr(o, "state"), qfmt_u(a, sizeof(a), qjnum(o, "value", 0)),
                   qfmt_time(w1, sizeof(w1), qjnum(o, "started_ms", 0)),
                   qfmt_time(w2, sizeof(w2), qjnum(o, "resolved_ms", 0)));
    }
    putchar('\n');
    qtable_print(&u);
}

int
qcmd_alerts(struct qcli *c, int argc, char **argv)
{
    struct qresp r;
    int x;

    (void)argv;
    if (argc != 1) {
        return qhelp("alerts", stderr);
    }
    x = qhttp(c, "GET", "/admin/alerts", NULL, &r, false);
    if (x == QX_OK && c->json) {
        qprint_json(r.doc);
    } else if (x == QX_OK) {
        alerts_print(r.doc);
    }
    qresp_fini(&r);
    return x;
}
