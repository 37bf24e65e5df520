/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to gateway/admin/: the admin API's state and what its files call in each other.
 *   admin.c          the nng handler (task thread), the job queue and its worker, start/stop,
 *                    reply helpers
 *   admin_route.c    request checks on the task thread: framing, credentials, method and path
 *   admin_messages.c jobs: stats, message info, release, purge
 *   admin_replay.c   the replay job (re-translation with the current mapping set)
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
#include "http/server.h"
#include "http/status.h"
#include "http/throttle.h"

enum admin_op { OP_STATS = 1, OP_INFO, OP_REPLAY, OP_RELEASE, OP_PURGE };

/* One queued admin request: what to do, and nng's handler aio to finish with the answer. */
struct admin_job {
    struct admin_job *next;
    nng_aio *aio;
    enum admin_op op;
    uint64_t id;
    bool has_route;
    char route[IGW_QUEUE_NAME_MAX + 1];
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
    igw_throttle *thr; /* failed authentications per client address (admin_route.c) */
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

/** Checks a request: framing (no Transfer-Encoding, no body), the admin credentials, the method
 *  and the path; fills j (op, id, route) for a job, or sets *health for GET /admin/health.
 *  @return true when the request is to be served; false with *v set to the refusal. */
bool admin_request_check(const igw_admin *a, nng_http_req *req, struct admin_job *j, bool *health,
                         struct igw_http_verdict *v);

/* ---- jobs (worker thread): HTTP status of the body in b ---------------------------------- */

int admin_op_stats(igw_admin *a, struct igw_buf *b);
int admin_op_info(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_release(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_purge(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_replay(igw_admin *a, const struct admin_job *j, struct igw_buf *b);

#endif /* IGW_GATEWAY_ADMIN_ADMIN_INT_H */
