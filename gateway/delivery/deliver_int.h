/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine internals shared by the engine's files (deliver.c: the loop and the public
 * API; deliver_round.c: claiming, backlogs and queue rounds; deliver_finish.c: finishing and
 * recording outcomes) and breaker.c (circuit breaker). Not a public header, and not for
 * outputs: they see only delivery/output.h.
 *
 * Threading: everything here belongs to the delivery thread, except the fields marked
 * "any thread" (the kick and stop flags and the stats counters).
 *
 * Life of a delivery (struct igw_dlv): claimed from the queue -> backlog of its route -> started
 * (inflight; the output may put it on the active list) -> finished with a result (done list) ->
 * outcome recorded in a queue round -> released by its output and freed. A claimed delivery
 * that is never tried (shutdown, circuit opened while it waited) is finished as "released".
 */
#ifndef IGW_GATEWAY_DELIVER_INT_H
#define IGW_GATEWAY_DELIVER_INT_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/queue.h"
#include "delivery/deliver.h"
#include "delivery/output.h"

#define DLV_RESPONSE_MAX 4096 /* response bytes kept for a dead letter */
#define DLV_ERROR_MAX IGW_DLV_ERROR_MAX
#define DLV_DEFAULT_CONCURRENCY 8 /* when a route says 0 */
#define DLV_DEFAULT_BATCH 256     /* deliveries claimed per round when the config says 0 */
#define DLV_STOP_GRACE_MS 2000    /* in-flight transfers get this long at stop */
#define DLV_BLOCKED_POLL_MS 100   /* re-claim interval while due work is blocked */
#define DLV_IDLE_POLL_MS 1000     /* longest sleep of the loop */
#define DLV_RETRY_AFTER_MAX_MS (24u * 3600u * 1000u) /* Retry-After bound when max_age is 0 */
/* A kick (new messages) while transfers run claims with their outcomes, or after this long:
 * under load every round is one commit (outcomes + claim), not one more per accepted group. An
 * idle engine claims at once. */
#define DLV_KICK_DELAY_MS 2

enum breaker_state { BREAKER_CLOSED = 0, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
    enum breaker_state state;
    atomic_int pub;        /* state, mirrored for igw_deliverer_circuit (any thread) */
    unsigned failures;     /* consecutive failed attempts while closed */
    uint64_t reopen_at_ms; /* monotonic time an open circuit goes half-open */
    bool probe_inflight;   /* half-open: the one probe is running */
};

/* One output some route uses, and its engine-wide state. */
struct out_slot {
    const struct igw_output_ops *ops;
    void *ectx;
    bool inited; /* engine_init succeeded (engine_fini due) */
};

struct route_state {
    const struct igw_route *cfg;
    const struct igw_output_ops *ops; /* the output delivering this route */
    void *ctx;                        /* its route context (route_init) */
    bool ctx_inited;                  /* route_init succeeded (route_fini due) */
    unsigned concurrency;
    unsigned inflight;  /* started and not finished */
    unsigned backlog_n; /* claimed and not started */
    struct igw_dlv *backlog_head;
    struct igw_dlv *backlog_tail;
    struct breaker br;
};

struct igw_dlv {
    struct igw_dlv *next; /* backlog, done or recorded list */
    struct igw_dlv *active_prev;
    struct igw_dlv *active_next;
    struct igw_deliverer *owner;
    struct route_state *rs; /* NULL: a claim for a route the config does not have */
    struct igw_queue_claim claim;
    bool probe;          /* the half-open circuit's probe */
    bool started;        /* counted in rs->inflight */
    uint64_t started_us; /* monotonic start of the attempt: its duration in the metrics, the log
                            and the stored attempt record (one clock for all three) */
    bool on_active;      /* linked on owner->active */
    /* result */
    enum igw_deliver_result result;
    bool released;
    bool skipped; /* delivered without sending (igw_dlv_finish_skipped); error holds why */
    enum igw_dlv_health health;
    uint64_t next_due_ms;
    int status;
    char error[DLV_ERROR_MAX];
    struct igw_buf response;
    bool has_retry_after;
    uint64_t retry_after_ms;
    alignas(max_align_t) unsigned char state[]; /* the output's dlv_size bytes */
};

struct igw_deliverer {
    const struct igw_config *cfg;
    igw_queue *q;
    CURLM *multi;
    pthread_t thread;
    bool thread_started;
    atomic_bool stopping; /* any thread */
    atomic_bool kicked;   /* any thread */
    struct route_state *routes;
    size_t nroutes;
    struct out_slot *outs; /* the outputs routes use, each once */
    size_t nouts;
    unsigned batch;
    struct igw_queue_claim *claims; /* batch entries */
    bool want_claim;
    uint64_t next_claim_ms; /* wall clock */
    struct igw_dlv *done_head;
    struct igw_dlv *done_tail;
    unsigned done_n;
    /* the queue round in flight (outcomes of rec_* and a claim into claims), at most one */
    bool round_busy;
    struct igw_queue_round round;
    struct igw_queue_outcome *round_o;
    unsigned round_max; /* claim asked for (0 = none) */
    uint64_t round_now;
    struct igw_dlv *rec_head; /* deliveries whose outcomes the round records */
    struct igw_dlv *rec_tail;
    uint64_t complete_retry_ms; /* monotonic: after a failed igw_queue_complete */
    struct igw_dlv *active;     /* started deliveries waiting for a collect */
    unsigned nactive;
    uint64_t rng;
    /* stats (any thread reads) */
    atomic_uint_fast64_t st_attempts;
    atomic_uint_fast64_t st_delivered;
    atomic_uint_fast64_t st_skipped;
    atomic_uint_fast64_t st_retried;
    atomic_uint_fast64_t st_dead;
    atomic_uint st_inflight;
    atomic_uint st_open_circuits;
};

/* ---- deliver_finish.c: finishing and recording ------------------------------------------- */

/** Frees dl after its output released it. */
void dlv_free(struct igw_dlv *dl);
/** Unlinks a delivery from the active list (no-op when it is not on it). */
void dlv_active_remove(struct igw_deliverer *d, struct igw_dlv *dl);
/** The outcomes of every finished delivery (igw_free them), or NULL when there are none to
 *  record now (or no memory: then retried later); *n their number. */
struct igw_queue_outcome *dlv_outcomes_build(struct igw_deliverer *d, unsigned *n);
/** Records every finished delivery in one igw_queue_complete call (shutdown). */
void dlv_flush_outcomes(struct igw_deliverer *d);
/** Frees every delivery on the done list. */
void dlv_done_free_all(struct igw_deliverer *d);
/** Moves the done list to the list the next round records. */
void dlv_done_to_rec(struct igw_deliverer *d);
/** After the round: frees the recorded deliveries, or puts them back in front of the done list
 *  when recording failed (rv not IGW_OK or IGW_ECLOSED). */
void dlv_rec_done(struct igw_deliverer *d, unsigned n, int rv);

/* ---- deliver_round.c: claiming, backlogs, rounds ------------------------------------------ */

/** Starts a round: the finished outcomes and, when want_claim, a claim (one group commit). */
void dlv_round_begin(struct igw_deliverer *d, uint64_t now, bool want_claim);
/** Takes the results of the finished round: frees recorded deliveries, adopts the claims. */
void dlv_round_finish(struct igw_deliverer *d);
/** Starts what the routes' backlogs may start now (concurrency and circuit permitting). */
void dlv_start_routes(struct igw_deliverer *d, uint64_t now, uint64_t mono);
/** Finishes every backlog delivery as released, due at now. */
void dlv_release_backlogs(struct igw_deliverer *d, uint64_t now);

/* ---- deliver_metrics.c: counters and the outcome log line --------------------------------- */

/** Monotonic microseconds (attempt durations). */
uint64_t dlv_clock_us(void);
/** The attempt of dl finished (result set; not a release): logs its one outcome line at info
 *  (delivered, retry scheduled) or warn (dead), never a body, and bumps the counters. */
void dlv_metrics_outcome(const struct igw_dlv *dl);
/** The circuit of rs changed to state (enum breaker_state). */
void dlv_metrics_circuit(const struct route_state *rs);

/* ---- breaker.c ---------------------------------------------------------------------------- */

void breaker_init(struct breaker *b);
/** How many more deliveries of rs may be claimed now (concurrency, backlog and circuit). */
unsigned breaker_capacity(const struct route_state *rs);
/** True when a delivery of rs may start now; marks it as the probe in half-open state. */
bool breaker_admit(struct igw_deliverer *d, struct route_state *rs, struct igw_dlv *dl);
/** Feeds a finished attempt into the breaker; may open or close the circuit. */
void breaker_record(struct igw_deliverer *d, struct route_state *rs, const struct igw_dlv *dl);
/** Moves open circuits whose time has come to half-open; returns ms until the next such
 *  moment (UINT64_MAX if none). Sets d->want_claim when a circuit turned half-open. */
uint64_t breaker_tick(struct igw_deliverer *d, uint64_t mono_ms);

#endif /* IGW_GATEWAY_DELIVER_INT_H */
