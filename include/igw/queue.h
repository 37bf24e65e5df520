/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw durable queue: the backend-neutral API.
 *
 * A message is stored once (its original body, plus an optional translated payload per route);
 * each (message, route) pair has a delivery record with a state, an attempt count, a next-due
 * time and the last error. Pending deliveries are handed out by due time, in rounds; a
 * dead-letter table keeps deliveries that ran out of attempts; an idempotency table maps
 * (channel, key) to a message id.
 *
 * The storage is a backend chosen by name at open (struct igw_queue_opts.backend; the backends
 * are listed in queue/registry/registry.c and their seam is include/igw/queue_backend.h). Today
 * there is one, "lmdb" (include/igw/queue_lmdb.h; its on-disk layout is docs/QUEUE-FORMAT.md). What
 * every backend guarantees is written in docs/internals/QUEUE-BACKEND.md and checked by the
 * contract suite in tests/unit/queue/.
 *
 * Caveats (read before use):
 * - One process opens a queue location at a time; never open it twice in one process and never
 *   use it after fork().
 * - Writes are grouped by the backend (group commit): calls that write are either asynchronous
 *   (igw_queue_submit: callback on a queue thread) or block the caller until their write is
 *   durable. Never call a blocking function from an nng callback or a queue callback.
 * - Reads copy values out before returning; nothing returned points into the backend's storage.
 * - A full store (IGW_ENOSPC) rejects new messages but still commits completions and deletions,
 *   so the queue drains and recovers without operator action.
 * - NULL-safety: a function taking an igw_queue * returns IGW_EINVAL when it is NULL; those
 *   without an error result say what they do instead (close and set_listener do nothing,
 *   next_due returns UINT64_MAX, round_done returns true).
 *
 * Message ids are 64-bit, strictly increasing, never reused; their external form is 16 lower-case
 * hex digits (igw_queue_id_format).
 */
#ifndef IGW_QUEUE_H
#define IGW_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "igw/buf.h"
#include "igw/err.h"

typedef struct igw_queue igw_queue;

#define IGW_QUEUE_ID_STRLEN 17      /* 16 hex digits + NUL */
#define IGW_QUEUE_NAME_MAX 128      /* longest channel or route name */
#define IGW_QUEUE_ORDER_KEY_MAX 256 /* longest order key (bytes, may contain any byte) */
#define IGW_QUEUE_IDEM_KEY_MAX 256  /* longest idempotency key (bytes) */
#define IGW_QUEUE_ROUTES_MAX 1024   /* most routes per message */

/** Options of igw_queue_open. Only what every backend understands; the storage's own settings
 *  (a directory, a size, a server URL) are in the backend's options struct. */
struct igw_queue_opts {
    const char *backend;            /* registered backend name; NULL = "lmdb" */
    uint64_t retain_delivered_ms;   /* keep delivered messages this long; 0 = 1 hour */
    uint64_t retain_idempotency_ms; /* keep idempotency keys this long; 0 = 24 hours */
    const void *backend_opts;       /* the backend's own options, e.g. a
                                       struct igw_queue_lmdb_opts for "lmdb"; borrowed during
                                       igw_queue_open only. NULL = none (the lmdb backend then
                                       refuses: it needs a path) */
};

/** Opens (creating if needed) the queue described by opts with the backend opts->backend and
 *  starts its threads. Deliveries left in flight by a previous run return to pending (due now).
 *  opts and everything it points to are only read during the call. errbuf (may be NULL, errlen
 *  0) receives one line of detail on failure.
 *  @return IGW_OK (*out owned by the caller; free with igw_queue_close), IGW_EINVAL (out or opts
 *          NULL, unknown backend name, or options the backend refuses), IGW_EIO (the storage
 *          cannot be opened or created; detail in errbuf), IGW_ENOMEM. On error *out is NULL
 *          (when out is not NULL). */
int igw_queue_open(igw_queue **out, const struct igw_queue_opts *opts, char *errbuf, size_t errlen);

/** Stops accepting requests, commits every request already submitted (their callbacks run),
 *  stops the queue's threads and closes the storage. NULL-safe. After it returns q is freed. */
void igw_queue_close(igw_queue *q);

/* ---- accept ------------------------------------------------------------------------------ */

struct igw_queue_route_init {
    const char *route;     /* route name, NUL-terminated, <= IGW_QUEUE_NAME_MAX */
    const char *order_key; /* NULL = unordered; else deliveries with the same (route, key)
                              are handed out strictly in message-id order */
    size_t order_key_len;
    const void *payload; /* NULL = deliver the original body; else a translated payload */
    size_t payload_len;
    const char *content_type; /* of payload; NULL = the message's content type */
};

struct igw_queue_msg {
    const char *channel;  /* channel name, NUL-terminated */
    const char *idem_key; /* NULL = none; else (channel, key) is unique for the retention */
    size_t idem_key_len;
    const char *content_type; /* NUL-terminated, may be NULL */
    const char *meta;         /* opaque metadata (JSON text: path params, headers); may be NULL */
    size_t meta_len;
    const void *body;
    size_t body_len;
    unsigned nroutes; /* 0 allowed: the message is stored and immediately complete */
    const struct igw_queue_route_init *routes;
};

/** Completion callback of igw_queue_submit, run on a queue thread after the group commit
 *  (durable) or after a failure. rv: IGW_OK, IGW_ENOSPC (store full), IGW_ECLOSED (closing),
 *  IGW_EIO, IGW_ENOMEM. duplicate is true when the idempotency key was already known: id is then
 *  the existing message's id and nothing new was stored. Must not block or call back into the
 *  queue with a blocking function. */
typedef void (*igw_queue_done_fn)(void *arg, int rv, uint64_t id, bool duplicate);

/** Submits a message for durable storage. Everything in *m is copied before return.
 *  @return IGW_OK (cb will be called exactly once), IGW_ECLOSED, IGW_ENOMEM, IGW_ETOOBIG,
 *          IGW_EINVAL (q, m or cb NULL, bad names, NULL data with a length); on error cb is not
 *          called. Thread-safe.
 *  Limits: channel and route names 1..IGW_QUEUE_NAME_MAX bytes (IGW_EINVAL), route names
 *  distinct within a message (IGW_EINVAL), at most IGW_QUEUE_ROUTES_MAX routes (IGW_EINVAL);
 *  order keys 0..256 and idempotency keys 1..256 bytes, content types < 64 KiB, body,
 *  meta and payloads < 4 GiB (IGW_ETOOBIG). A message whose idempotency key expired (older than
 *  retain_idempotency_ms) is accepted as new. */
int igw_queue_submit(igw_queue *q, const struct igw_queue_msg *m, igw_queue_done_fn cb, void *arg);

/** Blocking form of igw_queue_submit: returns after the commit. id and duplicate may be NULL;
 *  they are set on IGW_OK. Same errors as the callback's rv plus submit's. */
int igw_queue_put(igw_queue *q, const struct igw_queue_msg *m, uint64_t *id, bool *duplicate);

/* ---- delivery ---------------------------------------------------------------------------- */

enum igw_delivery_state {
    IGW_DS_PENDING = 1,
    IGW_DS_INFLIGHT = 2,
    IGW_DS_DELIVERED = 3,
    IGW_DS_DEAD = 4,
};

/** A claimed delivery: everything a worker needs, copied out of the storage. Free
 *  with igw_queue_claim_fini. */
struct igw_queue_claim {
    uint64_t id;
    char route[IGW_QUEUE_NAME_MAX + 1];
    char channel[IGW_QUEUE_NAME_MAX + 1];
    uint32_t attempts;      /* attempts made before this one */
    uint64_t created_ms;    /* when the message was accepted */
    char *content_type;     /* owned; may be NULL */
    struct igw_buf payload; /* owned: the route's payload, or the original body */
    struct igw_buf meta;    /* owned: the message's metadata */
};

/** Frees what *c owns (content_type, payload, meta); *c itself is the caller's. NULL-safe. */
void igw_queue_claim_fini(struct igw_queue_claim *c);

/** Claims up to max deliveries that are pending and due at now_ms, for the routes accepted by
 *  filter (NULL = all routes), moving them to in-flight in one committed transaction.
 *  filter(arg, route) returns the number of deliveries of that route it will still take (0 =
 *  skip the route); it is called on the caller's thread. Ordered routes never hand out a message
 *  while an earlier message with the same (route, order key) is pending or in flight.
 *  out must hold max entries; *n receives the count (0 on error); the claims written to out are
 *  the caller's (igw_queue_claim_fini each). Blocks until committed.
 *  @return IGW_OK, IGW_ECLOSED, IGW_EIO, IGW_ENOMEM, IGW_EINVAL (q or n NULL, or out NULL with
 *          max > 0). When nothing is due at now_ms it returns at once without a commit. */
typedef unsigned (*igw_queue_route_filter_fn)(void *arg, const char *route);
int igw_queue_claim(igw_queue *q, uint64_t now_ms, unsigned max, igw_queue_route_filter_fn filter,
                    void *arg, struct igw_queue_claim *out, unsigned *n);

/** Earliest next-due time of any pending delivery that can be handed out (an ordered follower
 *  waiting for its head has none), or UINT64_MAX when none, on a storage read error or when q
 *  is NULL. Never waits for the writer. */
uint64_t igw_queue_next_due(igw_queue *q);

enum igw_deliver_result {
    IGW_DELIVER_OK = 0,    /* delivered: record becomes delivered */
    IGW_DELIVER_RETRY = 1, /* transient failure: pending again at next_due_ms */
    IGW_DELIVER_FAIL = 2,  /* permanent failure: dead-lettered now */
};

struct igw_queue_outcome {
    uint64_t id;
    const char *route;
    enum igw_deliver_result result;
    uint64_t next_due_ms; /* for RETRY */
    const char *error;    /* short text for RETRY/FAIL ("HTTP 503", "timeout"); may be NULL */
    const void *response; /* response body kept with a dead letter; may be NULL */
    size_t response_len;
    int status;           /* protocol status (HTTP code), 0 if none */
    bool released;        /* true: the worker gave the claim back untried (shutdown, circuit
                             open); attempts is not incremented, next_due_ms applies */
    uint32_t duration_ms; /* how long the attempt took (kept in its attempt record) */
};

/** Records outcomes of claimed deliveries (one group commit). Unknown or not-in-flight records
 *  are ignored (IGW_OK). Blocks until committed. @return IGW_OK, IGW_ECLOSED, IGW_EIO,
 *  IGW_EINVAL (NULL q, o NULL with n > 0, or an outcome with a NULL route), IGW_ENOMEM,
 *  IGW_ENOSPC (the store is so full that even this update failed). The outcomes and their
 *  strings are only read during the call. n 0: IGW_OK (IGW_ECLOSED when closing), no commit. */
int igw_queue_complete(igw_queue *q, const struct igw_queue_outcome *o, unsigned n);

/* ---- rounds ------------------------------------------------------------------------------ */

/** One delivery round in one trip to the queue's writer: record the outcomes of finished
 *  deliveries and claim the next ones, both in the same group commit (igw_queue_complete then
 *  igw_queue_claim would wait for two commits). Used by the delivery engine. The caller owns
 *  the struct, its outcomes and its out array; the claims written to out are the caller's
 *  (igw_queue_claim_fini). */
struct igw_queue_round {
    /* in: outcomes to record first (as igw_queue_complete; may be 0) */
    const struct igw_queue_outcome *outcomes;
    unsigned noutcomes;
    /* in: the claim (as igw_queue_claim; max 0 = no claim) */
    uint64_t now_ms;
    unsigned max;
    igw_queue_route_filter_fn filter;
    void *arg;
    struct igw_queue_claim *out; /* max entries */
    /* out */
    int complete_rv; /* igw_queue_complete's result for the outcomes (IGW_OK when none) */
    int claim_rv;    /* igw_queue_claim's result (IGW_OK when nothing was due) */
    unsigned n;      /* claims written to out (owned by the caller, igw_queue_claim_fini) */
    void *priv;      /* the backend's, while the round is in flight */
};

/** Records rd->outcomes, then claims up to rd->max due deliveries, in one committed group
 *  (complete first: a delivered head's follower can be claimed in the same round). Blocks until
 *  committed. The filter runs on the caller's thread before the trip. The lmdb backend commits a
 *  group with only claims and outcomes without the metadata flush (MDB_NOMETASYNC: consistent,
 *  and a system crash may undo it: in-flight deliveries return to pending, a recorded outcome
 *  may be redone, which at-least-once allows); a process crash loses nothing.
 *  @return IGW_OK with the two results in rd (each as igw_queue_complete / igw_queue_claim
 *          return them, IGW_ECLOSED when closing), or IGW_EINVAL (NULL q/rd, outcomes NULL with
 *          noutcomes > 0, an outcome without a route, out NULL with max > 0). */
int igw_queue_round(igw_queue *q, struct igw_queue_round *rd);

/** Starts rd without waiting. When the round is committed, notify(notify_arg) (may be NULL) runs
 *  on a queue thread while the queue's lock is held: it must be quick and must not call the
 *  queue (curl_multi_wakeup is fine). Until igw_queue_round_done returns true (or
 *  igw_queue_round_wait returns), rd, its outcomes and its out array must stay untouched.
 *  A round with nothing to send, or a closing queue, is done at once (results set).
 *  @return IGW_OK, or IGW_EINVAL as igw_queue_round (then nothing was started). */
int igw_queue_round_start(igw_queue *q, struct igw_queue_round *rd, void (*notify)(void *arg),
                          void *notify_arg);

/** True (and rd's results filled) when the round started by igw_queue_round_start is done.
 *  Never blocks. True when q or rd is NULL. */
bool igw_queue_round_done(igw_queue *q, struct igw_queue_round *rd);

/** Waits until the round is done and fills rd's results. Does nothing when q or rd is NULL. */
void igw_queue_round_wait(igw_queue *q, struct igw_queue_round *rd);

/* ---- inspection and repair --------------------------------------------------------------- */

struct igw_queue_stats {
    uint64_t messages; /* stored messages */
    uint64_t pending;  /* deliveries by state */
    uint64_t inflight;
    uint64_t delivered;
    uint64_t dead;
    uint64_t capacity_bytes; /* storage capacity in bytes (lmdb: the map size); 0 = unbounded */
    uint64_t used_bytes;     /* bytes of that capacity in use (lmdb: last page * page size) */
    bool full;               /* the last accept failed with IGW_ENOSPC and nothing freed space yet
                                (cleared by a successful accept or a purge/sweep that removed one) */
    uint64_t commits;        /* durable writes committed since open (group-commit measure: every
                                blocking write call is at least one; concurrent ones may share one) */
};

/** Fills *s (zeroed first) with a snapshot; never waits for the writer.
 *  @return IGW_OK, IGW_EINVAL (q or s NULL), IGW_EIO (the storage cannot be read). */
int igw_queue_stats(igw_queue *q, struct igw_queue_stats *s);

struct igw_queue_delivery_info {
    char route[IGW_QUEUE_NAME_MAX + 1];
    enum igw_delivery_state state;
    uint32_t attempts;
    uint64_t next_due_ms;
    uint64_t last_attempt_ms;
    int last_status;
    char last_error[IGW_ERRBUF_SIZE];
};

/** Copies the deliveries of message id into out (up to max, in route-name byte order); *n
 *  receives how many were copied (<= max). Never waits for the writer.
 *  @return IGW_OK, IGW_ENOENT (no such message), IGW_EIO, IGW_EINVAL (q or n NULL, or out NULL
 *          with max > 0). */
int igw_queue_deliveries(igw_queue *q, uint64_t id, struct igw_queue_delivery_info *out,
                         unsigned max, unsigned *n);

/** A dead letter: why a delivery was given up, with the destination's response body. */
struct igw_queue_dead_info {
    uint64_t dead_ms;
    int status;                  /* protocol status of the last attempt, 0 if none */
    char error[IGW_ERRBUF_SIZE]; /* last error text ("" if none) */
    struct igw_buf response;     /* owned: the response body kept with the dead letter */
};

/** Copies the dead letter of (id, route) into *out (not NULL), which is always initialised:
 *  free with igw_queue_dead_info_fini after any result. Never waits for the writer.
 *  @return IGW_OK, IGW_ENOENT (no such dead letter, or route NULL or not a valid name), IGW_EIO,
 *          IGW_ENOMEM, IGW_EINVAL (q NULL). */
int igw_queue_dead_get(igw_queue *q, uint64_t id, const char *route,
                       struct igw_queue_dead_info *out);
/** Frees the response buffer of *d. NULL-safe. */
void igw_queue_dead_info_fini(struct igw_queue_dead_info *d);

/** Dead-lettered deliveries return to pending, due now, with attempts reset (route NULL = all
 *  routes of the message). Deliveries that are not dead are left alone (IGW_OK). *released
 *  (may be NULL; set to 0 first) receives how many deliveries were released, so a caller can
 *  tell "nothing to do" from a release. Blocks until committed.
 *  @return IGW_OK, IGW_ENOENT (no such message, or no such route), IGW_EIO,
 *  IGW_ECLOSED, IGW_ENOMEM, IGW_EINVAL (q NULL). */
int igw_queue_release(igw_queue *q, uint64_t id, const char *route, unsigned *released);

/** Retry now: pending deliveries of message id (route NULL = all its routes) whose next try is
 *  later than now become due now (the backoff is skipped; attempts are kept). An ordered
 *  follower waiting for its head only gets its due time moved (it still waits for the head).
 *  *changed (may be NULL; set to 0 first) receives how many deliveries were moved. Each gives
 *  an IGW_QEV_RETRY event with next_due_ms now. Blocks until committed.
 *  @return IGW_OK, IGW_ENOENT (no such message, or no such route of it), IGW_EIO, IGW_ECLOSED,
 *          IGW_ENOMEM, IGW_EINVAL (q NULL). */
int igw_queue_retry_now(igw_queue *q, uint64_t id, const char *route, unsigned *changed);

/** Removes a message and all its records (any state). Its idempotency key is kept until it
 *  expires, so a producer's retry is still answered as a duplicate. Blocks until committed.
 *  An in-flight delivery's later completion is ignored. @return IGW_OK, IGW_ENOENT, IGW_EIO,
 *  IGW_ECLOSED, IGW_ENOMEM, IGW_EINVAL (q NULL). */
int igw_queue_purge(igw_queue *q, uint64_t id);

/** Removes delivered messages older than the retention and expired idempotency keys, at most
 *  limit records per call; *removed receives the count. Blocks until committed. A message is
 *  removed when every delivery is delivered and both its creation and its last delivery are
 *  older than retain_delivered_ms (a message with no routes: its creation). Sweeps resume
 *  where the previous one stopped, so repeated calls cover the whole store.
 *  removed may be NULL; it is set to 0 first. limit 0: IGW_OK, nothing done.
 *  @return IGW_OK, IGW_ECLOSED, IGW_EIO, IGW_ENOSPC, IGW_ENOMEM, IGW_EINVAL (q NULL). */
int igw_queue_sweep(igw_queue *q, uint64_t now_ms, unsigned limit, unsigned *removed);

/* ---- listing, per-route counts, attempts -------------------------------------------------- */

/** What igw_queue_list selects; every field set narrows it (AND). Zeroed = everything. All
 *  pointers are borrowed for the call. */
struct igw_queue_filter {
    const char *channel;           /* NULL = any channel */
    const char *route;             /* NULL = any route */
    enum igw_delivery_state state; /* 0 = any; else a delivery (of route, when set) in it */
    uint64_t since_ms;             /* 0 = none; else created_ms >= since_ms */
    uint64_t until_ms;             /* 0 = none; else created_ms < until_ms */
    const char *order_key;         /* NULL = any; else a delivery (of route) with this key */
    size_t order_key_len;
    const char *idem_key; /* NULL = any; else the message this (channel, key) produced (needs
                             channel) */
    size_t idem_key_len;
    const void *text; /* NULL = any; else the original body contains these bytes (first
                         IGW_QUEUE_TEXT_SCAN bytes of each body; bounded, see igw_queue_list) */
    size_t text_len;
};

#define IGW_QUEUE_LIST_BUDGET 20000u   /* candidates examined per igw_queue_list call */
#define IGW_QUEUE_TEXT_BUDGET 2000u    /* bodies searched for text per call */
#define IGW_QUEUE_TEXT_SCAN (1u << 20) /* bytes of a body searched for text */
#define IGW_QUEUE_ATTEMPTS_KEPT 8u     /* attempt records kept per delivery: first + last 7 */

/** One message of a listing (copied). state is the message's overall state: dead when any
 *  delivery is dead, else inflight, else pending, else delivered (a message without routes:
 *  delivered). */
struct igw_queue_list_item {
    uint64_t id;
    uint64_t created_ms;
    char channel[IGW_QUEUE_NAME_MAX + 1];
    size_t body_len;
    enum igw_delivery_state state;
};

/** The result of one igw_queue_list call. */
struct igw_queue_list_page {
    unsigned n;        /* items written to out */
    uint64_t next;     /* pass as `before` for the next page; 0 = nothing older */
    bool partial;      /* the budget ran out before out was full (next continues the scan) */
    uint64_t examined; /* candidates examined */
};

/** Lists messages matching f, newest first (descending id), with id < before (0 = no bound):
 *  keyset paging, so messages accepted meanwhile (higher ids) never shift a page. Walks one
 *  index (messages by channel, deliveries by route and state, or all messages), picking the
 *  smallest by its counters, and checks the other filters per candidate; at most
 *  IGW_QUEUE_LIST_BUDGET candidates and IGW_QUEUE_TEXT_BUDGET text searches per call, then
 *  returns with partial set. since/until also bound the walk (ids grow with acceptance time).
 *  One read txn on the caller's thread; never waits for the writer. f NULL = no filter.
 *  @return IGW_OK (page filled), IGW_EINVAL (q, pg NULL, out NULL with max > 0, idem_key
 *          without channel, a name that is not valid), IGW_EIO, IGW_ENOMEM. */
int igw_queue_list(igw_queue *q, const struct igw_queue_filter *f, uint64_t before, unsigned max,
                   struct igw_queue_list_item *out, struct igw_queue_list_page *pg);

/** Deliveries of one route by state, and its oldest pending delivery. */
struct igw_queue_route_stats {
    char route[IGW_QUEUE_NAME_MAX + 1];
    uint64_t pending;
    uint64_t inflight;
    uint64_t delivered;
    uint64_t dead;
    uint64_t oldest_pending_ms; /* created_ms of the oldest message with a pending delivery of
                                   the route; 0 = none pending */
};

/** Copies the counters of every route that has or had deliveries (route-name byte order) into
 *  out (up to max); *n receives how many were copied. Counters kept by the writer in the same
 *  commit as the records: no scan. Never waits for the writer.
 *  @return IGW_OK, IGW_EIO, IGW_EINVAL (q or n NULL, out NULL with max > 0). */
int igw_queue_route_stats(igw_queue *q, struct igw_queue_route_stats *out, unsigned max,
                          unsigned *n);

struct igw_queue_channel_stats {
    char channel[IGW_QUEUE_NAME_MAX + 1];
    uint64_t messages; /* stored messages of the channel */
};

/** Copies the message count of every channel with stored messages into out (up to max, byte
 *  order); *n receives how many. @return as igw_queue_route_stats. */
int igw_queue_channel_stats(igw_queue *q, struct igw_queue_channel_stats *out, unsigned max,
                            unsigned *n);

/** One recorded attempt of a delivery. */
struct igw_queue_attempt {
    uint32_t n;           /* 1-based number among all attempts of the delivery */
    uint64_t time_ms;     /* when the outcome was recorded */
    uint32_t duration_ms; /* how long the attempt took (struct igw_queue_outcome.duration_ms) */
    int status;           /* protocol status, 0 if none */
    enum igw_deliver_result result;
    char error[IGW_ERRBUF_SIZE]; /* "" if none */
};

/** Copies the kept attempts of (id, route), oldest first, into out (up to max, at most
 *  IGW_QUEUE_ATTEMPTS_KEPT are kept: the first and the last ones); *n receives how many were
 *  copied and *total (may be NULL) how many attempts were ever recorded (replays and releases
 *  do not reset it). Never waits for the writer.
 *  @return IGW_OK (also with 0 attempts), IGW_EIO, IGW_EINVAL (q, n, route NULL, out NULL
 *          with max > 0, route not a valid name). */
int igw_queue_attempts(igw_queue *q, uint64_t id, const char *route, struct igw_queue_attempt *out,
                       unsigned max, unsigned *n, uint32_t *total);

/** A route's own translated payload, copied. Free with igw_queue_payload_fini. */
struct igw_queue_payload {
    char *content_type;  /* owned; NULL = the message's */
    struct igw_buf data; /* owned */
};

/** Copies the translated payload of (id, route) into *out (always initialised).
 *  @return IGW_OK, IGW_ENOENT (the route has none: it delivers the original body; or no such
 *          delivery), IGW_EIO, IGW_ENOMEM, IGW_EINVAL (q, route or out NULL, bad name). */
int igw_queue_payload_get(igw_queue *q, uint64_t id, const char *route,
                          struct igw_queue_payload *out);
/** Frees what *p owns. NULL-safe. */
void igw_queue_payload_fini(struct igw_queue_payload *p);

/* ---- message read and replay ------------------------------------------------------------- */

/** A stored message, copied out of the storage. Free with igw_queue_message_fini. */
struct igw_queue_message {
    uint64_t id;
    uint64_t created_ms;
    char channel[IGW_QUEUE_NAME_MAX + 1];
    char *content_type;  /* owned; NULL when the message had none */
    struct igw_buf meta; /* owned: the message's metadata (JSON text; may be empty) */
    struct igw_buf body; /* owned: the original body, as received */
                         /* (on IGW_OK both ptrs are non-NULL and followed by a NUL byte that
                            len does not count, so text can be used as a C string) */
    uint32_t nroutes;    /* routes the message was accepted with */
};

/** Copies message id (original body, content type, channel, metadata) into *out, which is
 *  always initialised (igw_queue_message_fini is safe after any result). Short read txn on the
 *  caller's thread: never waits for the writer.
 *  @return IGW_OK, IGW_ENOENT (no such message), IGW_EIO (corrupt record), IGW_ENOMEM,
 *          IGW_EINVAL (NULL q or out). */
int igw_queue_message_get(igw_queue *q, uint64_t id, struct igw_queue_message *out);
/** Frees what *m owns (content_type, meta, body). NULL-safe. */
void igw_queue_message_fini(struct igw_queue_message *m);

/** One route of a replay: what the delivery of (id, route) carries from now on. */
struct igw_queue_replay_route {
    const char *route;   /* an existing route of the message, NUL-terminated */
    const void *payload; /* NULL = deliver the original body (the route's stored
                            translated payload is removed); else the new payload */
    size_t payload_len;
    const char *content_type; /* of payload; NULL = the message's content type */
    const char *order_key;    /* NULL = keep the delivery's order key (or none); else the
                                 delivery becomes ordered under this key (0..256 bytes) */
    size_t order_key_len;
};

/** Replays deliveries of message id, all in one group commit: for each given route the stored
 *  translated payload is replaced (or removed, payload NULL), and the delivery returns to
 *  PENDING, due now, with attempts reset to 0, whatever its state (pending, delivered or dead;
 *  a dead letter's record is removed). last_status/last_error keep the previous attempt's values
 *  until the next attempt. Ordering: the delivery re-enters its (route, order key) sequence at
 *  its own id; an older message replayed behind a newer one becomes the head and is handed out
 *  first (the newer one waits while it is pending or in flight), as for a released dead
 *  letter. Counters move from the old state to pending. Each replayed route gives one
 *  IGW_QEV_REPLAYED event (attempts 0, next_due_ms now).
 *  All or nothing: when any given delivery is in flight the whole call is refused with
 *  IGW_EAGAIN and nothing changes (retry after the attempt finishes).
 *  Blocks until committed: never call it from an nng callback or a queue callback.
 *  Limits as igw_queue_submit (route names distinct, payload < 4 GiB, content type < 64 KiB,
 *  order key <= IGW_QUEUE_ORDER_KEY_MAX).
 *  @return IGW_OK, IGW_ENOENT (no such message, or a route it does not have), IGW_EAGAIN,
 *          IGW_EINVAL (NULL q, n 0 or > IGW_QUEUE_ROUTES_MAX, bad or repeated route name),
 *          IGW_ETOOBIG, IGW_ECLOSED, IGW_ENOSPC (store full), IGW_EIO, IGW_ENOMEM. */
int igw_queue_replay(igw_queue *q, uint64_t id, const struct igw_queue_replay_route *routes,
                     unsigned n);

/** Formats id as 16 lower-case hex digits and a NUL into out (IGW_QUEUE_ID_STRLEN bytes, not
 *  NULL). Cannot fail. */
void igw_queue_id_format(uint64_t id, char out[IGW_QUEUE_ID_STRLEN]);
/** Parses the external form (exactly 16 hex digits, either case) into *id (not NULL; left
 *  unchanged on error). @return IGW_OK or IGW_EINVAL (s NULL, wrong length, not hex). */
int igw_queue_id_parse(const char *s, uint64_t *id);

/* ---- events ------------------------------------------------------------------------------ */

enum igw_queue_event_kind {
    IGW_QEV_ACCEPTED = 1,
    IGW_QEV_DELIVERED,
    IGW_QEV_RETRY,
    IGW_QEV_DEAD,
    IGW_QEV_RELEASED,
    IGW_QEV_PURGED,
    IGW_QEV_REPLAYED, /* per route: igw_queue_replay put the delivery back to pending */
};

struct igw_queue_event {
    enum igw_queue_event_kind kind;
    uint64_t id;
    const char *channel; /* may be NULL */
    const char *route;   /* NULL for message-level events */
    uint32_t attempts;
    uint64_t next_due_ms;
    const char *error; /* may be NULL */
};

/** Registers one listener called on a queue thread after each commit, once per event; it
 *  must not block (hand off to nng aio). Pass NULL to remove. Event strings are valid during
 *  the call only. Kinds: ACCEPTED (new message; duplicates give none), DELIVERED, RETRY, DEAD
 *  (per route), RELEASED (per route: a dead letter released, or a claim given back untried),
 *  PURGED (per message, igw_queue_purge only; sweeping gives no events), REPLAYED (per route,
 *  igw_queue_replay; next_due_ms is the new due time). Replaces any previous listener; q NULL:
 *  nothing happens. arg is borrowed until the listener is replaced or the queue is closed. */
typedef void (*igw_queue_event_fn)(void *arg, const struct igw_queue_event *ev);
void igw_queue_set_listener(igw_queue *q, igw_queue_event_fn fn, void *arg);

#define IGW_QUEUE_LISTENERS_MAX 8 /* set_listener's one plus 7 added ones */

/** Adds a listener besides igw_queue_set_listener's (same rules: a queue thread, after each
 *  commit, must not block; arg borrowed until removed). Every listener sees every event.
 *  Listeners are called one after the other under one lock, so a slow one delays the others.
 *  @return IGW_OK, IGW_EINVAL (q or fn NULL), IGW_ENOSPC (IGW_QUEUE_LISTENERS_MAX - 1 added
 *          already). */
int igw_queue_listener_add(igw_queue *q, igw_queue_event_fn fn, void *arg);

/** Removes the listener (fn, arg) added by igw_queue_listener_add; once it returns, fn is no
 *  longer called (a call in progress has finished). Unknown pairs and q NULL: nothing. Never
 *  call it from a listener. */
void igw_queue_listener_remove(igw_queue *q, igw_queue_event_fn fn, void *arg);

#endif /* IGW_QUEUE_H */
