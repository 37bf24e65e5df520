/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine internals shared by deliver.c (the loop), breaker.c (circuit breaker) and the
 * destination files dest_http.c, dest_file.c and dest_nng.c. Not a public header.
 *
 * Threading: everything here belongs to the delivery thread, except the fields marked
 * "any thread" (the kick flag, the stats counters and the nng completion list, which nng
 * callbacks fill under `mtx`).
 *
 * Life of a delivery (struct dlv): claimed from the queue -> backlog of its route -> started
 * (inflight, on the active list) -> finished with a result (done list) -> outcome recorded with
 * igw_queue_complete -> freed. A claimed delivery that is never tried (shutdown, circuit opened
 * while it waited) is finished as "released".
 */
#ifndef IGW_GATEWAY_DELIVER_INT_H
#define IGW_GATEWAY_DELIVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <nng/nng.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/queue.h"
#include "delivery/deliver.h"

#define DLV_RESPONSE_MAX 4096     /* response bytes kept for a dead letter */
#define DLV_ERROR_MAX 160         /* error text recorded with an outcome */
#define DLV_DEFAULT_CONCURRENCY 8 /* when a route says 0 */
#define DLV_DEFAULT_BATCH 256     /* deliveries claimed per round when the config says 0 */
#define DLV_STOP_GRACE_MS 2000    /* in-flight transfers get this long at stop */
#define DLV_BLOCKED_POLL_MS 100   /* re-claim interval while due work is blocked */
#define DLV_IDLE_POLL_MS 1000     /* longest sleep of the loop */
#define DLV_RETRY_AFTER_MAX_MS (24u * 3600u * 1000u) /* Retry-After bound when max_age is 0 */

enum breaker_state { BREAKER_CLOSED = 0, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
    enum breaker_state state;
    unsigned failures;     /* consecutive failed attempts while closed */
    uint64_t reopen_at_ms; /* monotonic time an open circuit goes half-open */
    bool probe_inflight;   /* half-open: the one probe is running */
};

/* How a finished attempt reflects on the destination's health (breaker input). */
enum dlv_health { DLV_HEALTH_NONE = 0, DLV_HEALTH_GOOD, DLV_HEALTH_BAD };

struct dlv;

struct route_state {
    const struct igw_route *cfg;
    enum igw_dest_kind kind;
    unsigned concurrency;
    unsigned inflight;  /* started and not finished */
    unsigned backlog_n; /* claimed and not started */
    struct dlv *backlog_head;
    struct dlv *backlog_tail;
    struct breaker br;
    /* http: idle easy handles kept for reuse (at most `concurrency`) */
    CURL **easy_pool;
    unsigned easy_n;
    /* file: open descriptor (-1 = closed) and this round's batch */
    int fd;
    struct dlv *file_head;
    struct dlv *file_tail;
    /* nng: socket, opened and dialled on first use */
    nng_socket sock;
    bool sock_open;
};

enum dlv_nng_phase { DLV_NNG_SEND = 0, DLV_NNG_RECV };

struct dlv {
    struct dlv *next; /* backlog, file batch or done list */
    struct dlv *active_prev;
    struct dlv *active_next;
    struct igw_deliverer *owner;
    struct route_state *rs;
    struct igw_queue_claim claim;
    bool probe;     /* the half-open circuit's probe */
    bool started;   /* counted in rs->inflight */
    bool on_active; /* linked on owner->active */
    /* result */
    enum igw_deliver_result result;
    bool released;
    enum dlv_health health;
    uint64_t next_due_ms;
    int status;
    char error[DLV_ERROR_MAX];
    struct igw_buf response;
    /* http */
    CURL *easy;
    struct curl_slist *headers;
    bool has_retry_after;
    uint64_t retry_after_ms;
    /* nng */
    nng_aio *aio;
    nng_ctx ctx;
    bool ctx_open;
    enum dlv_nng_phase phase;
    uint64_t deadline; /* igw_mono_ms */
    int nng_rv;
    bool nng_err_reply;
    bool posted; /* the callback handed it to the loop (under owner->mtx) */
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
    unsigned batch;
    struct igw_queue_claim *claims; /* batch entries */
    bool want_claim;
    uint64_t next_claim_ms; /* wall clock */
    struct dlv *done_head;
    struct dlv *done_tail;
    unsigned done_n;
    /* the queue round in flight (outcomes of rec_* and a claim into claims), at most one */
    bool round_busy;
    struct igw_queue_round round;
    struct igw_queue_outcome *round_o;
    unsigned round_max; /* claim asked for (0 = none) */
    uint64_t round_now;
    struct dlv *rec_head; /* deliveries whose outcomes the round records */
    struct dlv *rec_tail;
    uint64_t complete_retry_ms; /* monotonic: after a failed igw_queue_complete */
    struct dlv *active;         /* started deliveries (http and nng) */
    unsigned nactive;
    uint64_t rng;
    /* nng completions, filled by nng callbacks (any thread) */
    pthread_mutex_t mtx;
    struct dlv *async_head;
    struct dlv *async_tail;
    /* stats (any thread reads) */
    atomic_uint_fast64_t st_attempts;
    atomic_uint_fast64_t st_delivered;
    atomic_uint_fast64_t st_retried;
    atomic_uint_fast64_t st_dead;
    atomic_uint st_inflight;
    atomic_uint st_open_circuits;
};

/* ---- deliver.c: finishing deliveries ---------------------------------------------------- */

/** Finishes dl as delivered (2xx, file synced, nng acknowledged). */
void dlv_finish_ok(struct igw_deliverer *d, struct dlv *dl);
/** Finishes dl after a transient failure (`what`: "HTTP 503", "timeout"): RETRY at a backoff
 *  time, or FAIL "retries exhausted: <what>" when the policy says so. A Retry-After wait, when
 *  dl->has_retry_after, lengthens the backoff. Counts against the breaker. */
void dlv_finish_transient(struct igw_deliverer *d, struct dlv *dl, int status, const char *what);
/** Finishes dl with a permanent failure (dead letter now). health says whether the
 *  destination itself is at fault (breaker input). */
void dlv_finish_fail(struct igw_deliverer *d, struct dlv *dl, int status, const char *what,
                     enum dlv_health health);
/** Gives dl back untried: not an attempt, due again at next_due_ms. */
void dlv_finish_released(struct igw_deliverer *d, struct dlv *dl, uint64_t next_due_ms);
/** Links/unlinks a started delivery on the active list. */
void dlv_active_add(struct igw_deliverer *d, struct dlv *dl);
void dlv_active_remove(struct igw_deliverer *d, struct dlv *dl);
/** Copies up to DLV_RESPONSE_MAX bytes of a response into dl->response (rest dropped). */
void dlv_keep_response(struct dlv *dl, const void *p, size_t n);

/* ---- breaker.c ---------------------------------------------------------------------------- */

void breaker_init(struct breaker *b);
/** How many more deliveries of rs may be claimed now (concurrency, backlog and circuit). */
unsigned breaker_capacity(const struct route_state *rs);
/** True when a delivery of rs may start now; marks it as the probe in half-open state. */
bool breaker_admit(struct igw_deliverer *d, struct route_state *rs, struct dlv *dl);
/** Feeds a finished attempt into the breaker; may open or close the circuit. */
void breaker_record(struct igw_deliverer *d, struct route_state *rs, const struct dlv *dl);
/** Moves open circuits whose time has come to half-open; returns ms until the next such
 *  moment (UINT64_MAX if none). Sets d->want_claim when a circuit turned half-open. */
uint64_t breaker_tick(struct igw_deliverer *d, uint64_t mono_ms);

/* ---- dest_http.c -------------------------------------------------------------------------- */

/** Starts an HTTP(S) transfer for dl on d->multi; on failure finishes dl itself. */
void dest_http_start(struct igw_deliverer *d, struct dlv *dl);
/** Reads finished transfers from the multi handle and finishes their deliveries. */
void dest_http_collect(struct igw_deliverer *d);
/** Removes dl's transfer from the multi handle (shutdown) without finishing it. */
void dest_http_abort(struct igw_deliverer *d, struct dlv *dl);
/** Returns dl's easy handle to its route's pool (or frees it) and frees the header list. */
void dest_http_release(struct dlv *dl);
void dest_http_route_fini(struct route_state *rs);

/* ---- dest_file.c -------------------------------------------------------------------------- */

/** Adds dl to its route's batch; dest_file_flush writes it. */
void dest_file_start(struct igw_deliverer *d, struct dlv *dl);
/** Writes every route's batch (one fsync per route) and finishes the deliveries. */
void dest_file_flush(struct igw_deliverer *d);
void dest_file_route_fini(struct route_state *rs);

/* ---- dest_nng.c --------------------------------------------------------------------------- */

/** Starts an nng push0/req0 send for dl; on failure finishes dl itself. */
void dest_nng_start(struct igw_deliverer *d, struct dlv *dl);
/** Finishes deliveries whose nng operations completed (posted by callbacks). */
void dest_nng_collect(struct igw_deliverer *d);
/** Stops dl's nng operation (waits for its callback); dest_nng_collect then sees it. */
void dest_nng_abort(struct dlv *dl);
/** Frees dl's aio and context. */
void dest_nng_release(struct dlv *dl);
void dest_nng_route_fini(struct route_state *rs);

#endif /* IGW_GATEWAY_DELIVER_INT_H */
