/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to gateway/admin/: the admin API's state and what its files call in each other.
 *   admin.c          the nng handler (task thread), the job queue and its worker, start/stop,
 *                    reply helpers, request bodies
 *   admin_route.c    request checks on the task thread: framing, credentials, method and path
 *   admin_messages.c jobs: stats, message info (attempts, payloads), release, retry, purge
 *   admin_list.c     the listing job, query and JSON filters
 *   admin_bulk.c     bulk repairs by filter (dry run, jobs on their own thread, progress)
 *   admin_replay.c   replay and edit (re-translation with the current mapping set)
 *   admin_events.c   GET /admin/events: Server-Sent Events of queue events
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
    OP_RETRY,
    OP_EDIT,
    OP_LIST,
    OP_BULK,
    OP_JOB,
    OP_EVENTS,         /* served on the task thread too: it takes the connection over */
    OP_PAYROLL,        /* GET /admin/payments/payrolls/{uuid} (payments/recon.h) */
    OP_PAYROLL_CSV,    /* GET /admin/payments/payrolls/{uuid}.csv */
    OP_PAY_MISMATCHES, /* GET /admin/payments/mismatches */
    OP_DCI_SUBS,       /* GET /admin/dci/subscriptions (admin_dci.c) */
    OP_INLINE = 100,   /* not an op: the ones below never block */
    OP_HEALTH,
    OP_HEALTHZ,
    OP_READYZ,
    OP_WHOAMI,
    OP_METRICS,
    OP_ALERTS
};

enum admin_bulk_action { BULK_NONE = 0, BULK_RELEASE, BULK_REPLAY, BULK_PURGE, BULK_RETRY };

#define ADMIN_QUERY_MAX 4096            /* longest query string */
#define ADMIN_EDIT_BODY_MAX (4u << 20)  /* request body of POST .../edit */
#define ADMIN_BULK_BODY_MAX (64u << 10) /* request body of POST /admin/bulk/... */
#define ADMIN_LIST_MAX 500              /* largest page */
#define ADMIN_STATS_ROUTES_MAX 1024     /* routes in /admin/stats and /metrics */

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
    enum admin_bulk_action bulk;
    char job[IGW_QUEUE_ID_STRLEN]; /* GET /admin/jobs/{id} */
    char payroll[64];              /* GET /admin/payments/payrolls/{uuid} */
    nng_http_conn *conn;           /* edit and bulk: the request body is read on the worker */
    uint64_t clen;
};

struct admin_bulk_state; /* admin_bulk.c */

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
    igw_throttle *thr;             /* failed authentications per client address (admin_route.c) */
    igw_audit *audit;              /* every changing action, durably (audit.h) */
    igw_alerts *alerts;            /* NULL: no alert rules */
    struct admin_bulk_state *bulk; /* bulk jobs (admin_bulk.c) */
    struct admin_events *events;   /* SSE clients (admin_events.c) */
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

/** Checks a request: framing (no Transfer-Encoding; no body except a bounded one on edit and
 *  bulk, whose length goes to j->clen), the method and path against the endpoint table, the
 *  admin credentials (not for the public probes /healthz and /readyz) and the caller's role
 *  (403 forbidden below the endpoint's role); fills j (op, id, route, query, caller, bulk,
 *  job). A refused request with a body gets v->close (the body is never read).
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
/** GET /admin/dci/subscriptions: the DCI subscription store's records with their status
 *  (live, expired, ended); 404 when the config has no dci-subscriptions: route (admin_dci.c). */
int admin_op_dci_subs(igw_admin *a, struct igw_buf *b);
int admin_op_info(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_release(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_purge(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_replay(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_audit(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_retry(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_edit(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_list(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_bulk(igw_admin *a, const struct admin_job *j, struct igw_buf *b);
int admin_op_job(igw_admin *a, const struct admin_job *j, struct igw_buf *b);

/* ---- admin.c: request bodies (worker thread) --------------------------------------------- */

/** Reads the request body of j (j->clen bytes from j->conn, at most 10 s) into body (reset
 *  first, NUL-terminated). @return IGW_OK, IGW_ETIMEDOUT, IGW_EIO (the client went away),
 *  IGW_ENOMEM. */
int admin_body_read(const struct admin_job *j, struct igw_buf *body);

/* ---- admin_messages.c: per-route counts ---------------------------------------------------- */

/** Appends the configured routes that rs[0..nr) lacks (no deliveries yet) with zero counts, so
 *  every configured route shows; rs has room for ADMIN_STATS_ROUTES_MAX. @return the new count.
 */
unsigned admin_stats_configured(igw_admin *a, struct igw_queue_route_stats *rs, unsigned nr);

/* ---- admin_list.c: filters ---------------------------------------------------------------- */

/* A filter with the storage its strings point into. */
struct admin_filter {
    struct igw_queue_filter f;
    char channel[IGW_QUEUE_NAME_MAX + 1];
    char route[IGW_QUEUE_NAME_MAX + 1];
    char order_key[IGW_QUEUE_ORDER_KEY_MAX + 1];
    char idem_key[IGW_QUEUE_IDEM_KEY_MAX + 1];
    char text[257];
};

/** Parses a JSON filter object (bulk) into *af; NULL json = no filter. false with msg set
 *  (static text) when a field is refused. */
bool admin_filter_json(const void *json, struct admin_filter *af, const char **msg);

/** "pending" ... "dead" for a state; "unknown" otherwise. */
const char *admin_state_name(enum igw_delivery_state s);

/* ---- admin_replay.c: replay and edit ------------------------------------------------------ */

/** Replays message id (route NULL = every configured route) with the current maps; with
 *  edit_body (not NULL) that body is translated instead of the stored one and every route,
 *  pass-through ones too, carries the result. Writes the answer into b (the done JSON with
 *  `status`) and returns the HTTP status. who not NULL: the audit record ("replay", or "edit"
 *  with the body before and after) is written before the answer; NULL: none (a bulk job
 *  writes its own, with the filter and count). */
int admin_replay_id(igw_admin *a, const struct igw_admin_caller *who, uint64_t id,
                    const char *route, const struct igw_buf *edit_body, const char *status,
                    struct igw_buf *b);

/* ---- admin_edit.c: the audit detail of an edit -------------------------------------------- */

#define ADMIN_AUDIT_DETAIL_MAX                                                                     \
    (512u << 10)                         /* an edit's audit detail, well under the record max      \
                                          */
#define ADMIN_AUDIT_SIDE_MAX (32u << 10) /* bytes of before and of after kept in the audit */

/** Writes {"route":R,"before":S,"before_len":N,"after":S,"after_len":N[,"truncated":true]} into
 *  d (reset first; route NULL: no "route"): the edited content before and after, each cut to its
 *  first ADMIN_AUDIT_SIDE_MAX bytes (truncated then says so; the lengths are the full ones).
 *  before/after may be NULL when their length is 0. @return IGW_OK or IGW_ENOMEM. */
int admin_edit_detail(struct igw_buf *d, const char *route, const void *before, size_t blen,
                      const void *after, size_t alen);

/* ---- admin_bulk.c ------------------------------------------------------------------------- */

int admin_bulk_init(igw_admin *a);
/** Stops the bulk thread (the running job stops after its current message) and frees. */
void admin_bulk_fini(igw_admin *a);

/* ---- admin_events.c ----------------------------------------------------------------------- */

struct admin_events;
int admin_events_init(igw_admin *a);
/** Ends every open stream and refuses new ones (503); the state stays until fini. Before the
 *  server stops: an open stream would hold its graceful stop. Idempotent. */
void admin_events_end(igw_admin *a);
/** admin_events_end, then frees the state; NULL-safe (a->events NULL: nothing). */
void admin_events_fini(igw_admin *a);
/** GET /admin/events on nng's task thread: takes over the connection (SSE) and finishes aio.
 *  @return 0 when served, or 503 (too many clients, shutting down, no memory): the caller
 *  answers and finishes aio. */
int admin_events_serve(igw_admin *a, nng_aio *aio);

#endif /* IGW_GATEWAY_ADMIN_ADMIN_INT_H */
