/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to gateway/admin/: the admin API's state and what its files call in each other.
 *   admin.c          the nng handler (task thread), the job queue and its worker, start/stop,
 *                    reply helpers
 *   admin_route.c    request checks on the task thread: framing, credentials, method and path
 *   admin_messages.c jobs: stats, message info, release, purge
 *   admin_replay.c   the replay job (re-translation with the current mapping set)
 *   admin_ops.c      probes, whoami and the audit listing
 *   metrics.c        GET /metrics (Prometheus text format)
 *   roles.c, audit.c roles and the audit log (their own headers: roles.h, audit.h)
 * Every job function runs on the admin worker thread and returns the HTTP status of the body
 * it wrote into b.
 */
#ifndef IGW_GATEWAY_ADMIN_ADMIN_INT_H
#define IGW_GATEWAY_ADMIN_ADMIN_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/queue.h"
#include "admin/admin.h"
#include "admin/audit.h"
#include "admin/roles.h"
#include "http/server.h"
#include "http/status.h"
#include "http/throttle.h"

/* Jobs run on the worker; the OP_ ops after OP_INLINE are answered on nng's task thread. */
enum admin_op {
    OP_STATS = 1,
    OP_INFO,
    OP_REPLAY,
    OP_RELEASE,
    OP_PURGE,
    OP_AUDIT,
    OP_INLINE = 100, /* not an op: the ones below never block */
    OP_HEALTH,
    OP_HEALTHZ,
    OP_READYZ,
    OP_WHOAMI,
    OP_METRICS,
    OP_ALERTS
};

#define ADMIN_QUERY_MAX 4096 /* longest query string */

/* One queued admin request: what to do, and nng's handler aio to finish with the answer. */
struct admin_job {
    struct admin_job *next;
    nng_aio *aio;
    enum admin_op op;
    uint64_t id;
    bool has_route;
    char route[IGW_QUEUE_NAME_MAX + 1];
    char query[ADMIN_QUERY_MAX + 1]; /* the raw query string (without '?'), "" when none */
    struct igw_admin_caller caller;  /* who asked (admin_route.c), zero for public probes */
};

struct igw_admin {
    const struct igw_config *cfg;
    igw_queue *q;
    igw_deliverer *d;
    igw_maps *maps;
    igw_http_srv *srv;
    bool guarded; /* the guard is in front: X-Igw-Peer is the guard's (set before start) */
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* worker: jobs or closing; stop: inflight reached 0 */
    struct admin_job *head; /* under mu */
    struct admin_job *tail; /* under mu */
    unsigned njobs;         /* under mu */
    bool closing;           /* under mu */
    unsigned inflight;      /* under mu: handlers running plus queued jobs */
    pthread_t thread;
    bool started;
    igw_throttle *thr;  /* failed authentications per client address (admin_route.c) */
    igw_audit *audit;   /* every changing action, durably (audit.h) */
    igw_alerts *alerts; /* NULL: no alert rules */
};

/* ---- admin.c: reply bodies ---------------------------------------------------------------- */

/** Resets b to {"error":{"status":N,"code":"...","message":"..."[,"outcome":RAW]}} (raw: JSON
 *  text inserted verbatim, or NULL). A failure to append leaves b partial (b->max bounds it).
 *  @return status. */
int admin_err_json(struct igw_buf *b, int status, const char *code, const char *msg,
                   const char *raw);

/** admin_err_json with the admin row of the status table for a failed queue call (rv:
 *  IGW_ENOENT 404, IGW_EAGAIN 409, IGW_ENOSPC/IGW_ECLOSED/IGW_ENOMEM 503, any other 500, logged).
 *  @return the HTTP status. */
int admin_queue_err(struct igw_buf *b, int rv);

/* ---- admin_route.c (nng task thread) ------------------------------------------------------ */

/** Checks a request: framing (no Transfer-Encoding, no body), the method and path against
 *  the endpoint table, the admin credentials (not for the public probes /healthz and /readyz)
 *  and the caller's role (403 forbidden below the endpoint's role); fills j (op, id, route,
 *  query, caller).
 *  @return true when the request is to be served; false with *v set to the refusal. */
bool admin_request_check(const igw_admin *a, nng_http_req *req, struct admin_job *j,
                         struct igw_http_verdict *v);

/** Value of key in a query string "a=1&b=2" copied into out (at most outlen - 1 bytes, no
 *  decoding); false when the key is absent or the value does not fit. */
bool admin_query_get(const char *query, const char *key, char *out, size_t outlen);

/** Writes the audit record of a changing job that succeeded (target: the message id; detail:
 *  {"route":...} when the job named one), durably, before its answer. */
void admin_audit_job(igw_admin *a, const struct admin_job *j, const char *action);

/* ---- admin_ops.c: answers built on nng's task thread (never block) ------------------------ */

/** Writes the body of an inline op (OP_HEALTH.. OP_ALERTS) into b; returns the HTTP status. */
int admin_inline(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
/** The Content-Type of an op's answer (text/plain for /metrics, JSON otherwise). */
const char *admin_op_ctype(enum admin_op op);
/** Writes GET /admin/alerts (rules and incidents) into b; returns the HTTP status. */
int admin_alerts_write(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
/** Writes the Prometheus text exposition of every counter into b (metrics.c). */
int admin_metrics_write(igw_admin *a, struct igw_buf *b);

/* ---- jobs (worker thread): HTTP status of the body in b ---------------------------------- */

int admin_op_stats(igw_admin *a, struct igw_buf *b);
int admin_op_info(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_release(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_purge(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_replay(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_audit(igw_admin *a, const struct admin_job *j, struct igw_buf *b);

#endif /* IGW_GATEWAY_ADMIN_ADMIN_INT_H */
