/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Admin answers that never block, built on nng's task thread (admin_int.h): the probes
 * /healthz and /readyz (no credentials), /admin/health, /admin/whoami, /metrics and
 * /admin/alerts; and on the worker: the audit listing and the audit record of each repair.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "admin/admin_int.h"
#include "delivery/deliver.h"
#include "stats/stats.h"

#define AUDIT_DEFAULT_LIMIT 50

static bool
closing(igw_admin *a)
{
    bool c;
    pthread_mutex_lock(&a->mu);
    c = a->closing;
    pthread_mutex_unlock(&a->mu);
    return c;
}

/* 200 when the queue is open and not full and nothing is shutting down; else 503 with the
 * reasons, so a load balancer stops sending before intake would refuse. */
static int
readyz(igw_admin *a, struct igw_buf *b)
{
    struct igw_queue_stats s;
    const char *why[4];
    unsigned n = 0;
    int rv;

    if (igw_queue_stats(a->q, &s) != IGW_OK) {
        why[n++] = "queue_unavailable";
    } else if (s.full) {
        why[n++] = "queue_full";
    }
    if (closing(a) || igw_stats_stopping()) {
        why[n++] = "shutting_down";
    }
    if (n == 0) {
        return igw_buf_puts(b, "{\"status\":\"ready\"}") == IGW_OK ? 200 : 500;
    }
    rv = igw_buf_puts(b, "{\"status\":\"not_ready\",\"reasons\":[");
    for (unsigned i = 0; rv == IGW_OK && i < n; i++) {
        rv = igw_buf_printf(b, "%s\"%s\"", i > 0 ? "," : "", why[i]);
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
    return rv == IGW_OK ? 503 : 500;
}

static int
whoami(const struct admin_job *j, struct igw_buf *b)
{
    int rv = igw_buf_puts(b, "{\"name\":");
    rv = rv == IGW_OK ? igw_buf_json_str(b, j->caller.name, strlen(j->caller.name)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b, ",\"role\":\"%s\"}", igw_admin_role_name(j->caller.role))
                      : rv;
    return rv == IGW_OK ? 200 : 500;
}

int
admin_inline(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    switch (j->op) {
    case OP_HEALTH:
        return igw_buf_puts(b, "{\"status\":\"ok\"}") == IGW_OK ? 200 : 500;
    case OP_HEALTHZ:
        return igw_buf_puts(b, "{\"status\":\"alive\"}") == IGW_OK ? 200 : 500;
    case OP_READYZ:
        return readyz(a, b);
    case OP_WHOAMI:
        return whoami(j, b);
    case OP_METRICS:
        return admin_metrics_write(a, b) == IGW_OK ? 200 : admin_queue_err(b, IGW_ENOMEM);
    case OP_ALERTS:
        return admin_alerts_write(a, j, b);
    default:
        return admin_err_json(b, 404, "not_found", "no admin endpoint on this path", NULL);
    }
}

const char *
admin_op_ctype(enum admin_op op)
{
    return op == OP_METRICS ? "text/plain; version=0.0.4; charset=utf-8" : "application/json";
}

/* A decimal in 1..max, or false. */
static bool
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > max) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

int
admin_op_audit(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    char v[32];
    uint64_t limit = AUDIT_DEFAULT_LIMIT;
    uint64_t before = 0;
    int rv;

    if (admin_query_get(j->query, "limit", v, sizeof(v)) &&
        !parse_uint(v, IGW_AUDIT_LIST_MAX, &limit)) {
        return admin_err_json(b, 400, "bad_limit", "limit must be 1..500", NULL);
    }
    if (admin_query_get(j->query, "cursor", v, sizeof(v)) && !parse_uint(v, UINT64_MAX, &before)) {
        return admin_err_json(b, 400, "bad_cursor", "cursor must be the next value of a page",
                              NULL);
    }
    rv = igw_audit_list(a->audit, before, (unsigned)limit, b);
    return rv == IGW_OK ? 200 : admin_queue_err(b, rv == IGW_EINVAL ? IGW_EIO : rv);
}

void
admin_audit_job(igw_admin *a, const struct admin_job *j, const char *action)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    struct igw_buf d;

    igw_queue_id_format(j->id, hex);
    igw_buf_init(&d, 512);
    if (j->has_route) {
        (void)igw_buf_puts(&d, "{\"route\":");
        (void)igw_buf_json_str(&d, j->route, strlen(j->route));
        (void)igw_buf_putc(&d, '}');
    }
    igw_audit_write(a->audit, &j->caller, action, hex, j->has_route ? d.ptr : NULL);
    igw_buf_fini(&d);
}

int
admin_alerts_write(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    (void)j;
    return igw_alerts_json(a->alerts, b) == IGW_OK ? 200 : admin_queue_err(b, IGW_ENOMEM);
}
