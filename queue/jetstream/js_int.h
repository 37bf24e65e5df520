/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the JetStream queue backend, shared by the .c files of queue/jetstream/ only.
 * The backend's state is a qjs, the be pointer of include/igw/queue_backend.h. Design and
 * record layout: docs/JETSTREAM.md.
 *
 * Files:
 *   js.c       open/close, the connection, the streams, the two watcher threads, the ops table
 *   js_rec.c   record encoding (message records, delivery records, idempotency records, keys)
 *   js_view.c  the in-memory view: messages by id, deliveries, counters, idempotency keys,
 *              scheduling (due, per-key order) and the read-only operations
 *   js_ops.c   the writer thread: grouped submits, claims, outcomes, rounds, repair, events
 *   js_check.c the checker thread: a message read from this instance's node is compared with
 *              the stream leader's copy before it is handed out
 *
 * Threads and locks: mu guards the view; it is never held across a request to JetStream. Every
 * change goes through the writer thread (one at a time), which decides on a snapshot taken under
 * mu, writes with compare-and-set on the record's revision, and applies the result under mu. The
 * two watcher threads apply what other instances wrote (a record is applied only when its
 * revision is newer than the one in the view, so our own writes coming back change nothing).
 */
#ifndef IGW_QUEUE_JS_INT_H
#define IGW_QUEUE_JS_INT_H

#include <nats/nats.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/buf.h"
#include "igw/queue.h"
#include "igw/queue_jetstream.h"

#define QJS_NAME_MAX 64
#define QJS_IDEM_BUCKETS 4096u
#define QJS_REC_VERSION 1u
#define QJS_BUF_MAX ((size_t)0xFFFFFFFFu) /* bodies and payloads are < 4 GiB (queue.h) */

/* The admin operations of queue.h (igw_queue_list, attempts, per-route counts, retry now) came
 * with the interface of branch i11-api; QJS_ADMIN says whether this build has them. */
#ifdef IGW_QUEUE_ATTEMPTS_KEPT
#define QJS_ADMIN 1
#define QJS_ATT_KEPT IGW_QUEUE_ATTEMPTS_KEPT
#else
#define QJS_ATT_KEPT 16u
#endif

/* One recorded attempt (kept with the delivery: the first and the last ones). */
struct jsatt {
    uint32_t n; /* 1-based among all attempts */
    uint64_t time_ms;
    uint32_t duration_ms;
    int status;
    uint8_t result; /* enum igw_deliver_result */
    char *error;    /* owned; NULL = none */
};

/* One delivery (message, route). */
struct jsd {
    struct jsm *m;
    uint16_t ri;   /* route index in the message */
    uint8_t state; /* enum igw_delivery_state */
    bool ordered;
    char route[IGW_QUEUE_NAME_MAX + 1];
    uint32_t attempts;
    uint64_t due_ms;
    uint64_t last_attempt_ms;
    uint64_t lease_ms; /* in flight: another instance may take it over after this */
    uint64_t dead_ms;
    int last_status;
    char *last_error; /* owned; NULL = none */
    char owner[QJS_NAME_MAX + 1];
    uint64_t rev; /* revision of its record in the bucket; 0 = none yet (initial state) */
    char *okey;   /* owned current order key (when ordered) */
    size_t okey_len;
    bool ovr;         /* replayed: the payload below replaces the stored one */
    bool ovr_payload; /* ovr: true = ovr_data is the payload, false = the original body */
    struct igw_buf ovr_data;
    char *ovr_ct;            /* owned; NULL = the message's content type */
    struct igw_buf response; /* a dead letter's response body */
    uint32_t att_total;      /* attempts ever recorded (not reset by replay or release) */
    unsigned natt;           /* kept in att (<= QJS_ATT_KEPT) */
    struct jsatt *att;       /* owned; NULL when natt is 0 */
};

/* One stored message. */
struct jsm {
    uint64_t id;
    uint64_t created_ms;
    uint64_t done_ms; /* latest delivered outcome */
    char channel[IGW_QUEUE_NAME_MAX + 1];
    unsigned nroutes;
    unsigned active; /* deliveries pending or in flight */
    size_t body_len;
    struct jsd *d; /* nroutes */
    char *raw;     /* the record (js_rec.c) while a delivery is active; NULL otherwise */
    size_t raw_len;
    /* The record is the stream leader's: our acknowledged accept, a leader read, or compared
     * with one (js_check.c). An unchecked message is not handed out, and ordered deliveries of
     * later messages wait for it (a node can diverge from its leader: docs/JETSTREAM.md). */
    bool checked;
    bool own;           /* its Nats-Msg-Id is one of this open's publishes (the ack may follow) */
    uint64_t seen_ms;   /* when the ordered consumer delivered it */
    uint64_t check_ms;  /* the checker asks again from then on (0: at once) */
    uint64_t absent_ms; /* first time the leader had no such message (0: not yet) */
};

/* A message record decoded in place (pointers into the record bytes). */
struct jsrec_route {
    const char *name;
    size_t name_len;
    const char *okey; /* NULL = unordered */
    size_t okey_len;
    const char *payload; /* NULL = the original body */
    size_t payload_len;
    const char *ct; /* NULL = the message's */
    size_t ct_len;
};
struct jsrec {
    uint64_t created_ms;
    const char *channel;
    size_t channel_len;
    const char *ct;
    size_t ct_len;
    const char *meta;
    size_t meta_len;
    const char *body;
    size_t body_len;
    const char *idem;
    size_t idem_len;
    unsigned nroutes;
    struct jsrec_route *routes; /* owned by the caller of jsrec_decode (igw_free) */
};

/* An idempotency key. */
struct jsidem {
    struct jsidem *next;
    uint64_t id;
    uint64_t created_ms;
    uint64_t rev;
    size_t klen;
    char key[]; /* channel NUL key */
};

struct qjs_job;

/* A bucket subject to remove without a trace (a stream purge by subject) once it is old enough:
 * our purge markers and the tombstones of the idempotency keys we swept (js_repair.c). */
struct jstomb {
    uint64_t at_ms; /* removed by a sweep from this time on */
    char key[];     /* the bucket key */
};
#define QJS_TOMB_KEEP_MS (10u * 60u * 1000u) /* every running instance has seen it by then */
#define QJS_TOMBS_MAX 65536u /* beyond: markers stay until a sweep has room (logged) */

/* Counters for diagnosis (under mu; IGW_JS_DUMP=1 prints them at close). */
struct qjs_ctr {
    uint64_t cas_lost;       /* compare-and-set failed: the record was read from the leader */
    uint64_t stale_fixed;    /* ... and it was older than the view's (the view was wrong) */
    uint64_t refresh_failed; /* ... and reading it failed */
    uint64_t group_timeout;  /* writes of a group that got no answer in time */
    uint64_t watch_err;      /* bucket watcher errors */
    uint64_t watch_drop;     /* delivery records dropped: their message not in the view */
    uint64_t watch_reset;    /* watchers recreated by the watchdog */
    uint64_t lease_taken;    /* expired leases claimed (own or another instance's) */
    uint64_t msg_catchup;    /* messages read by the monitor: the ordered consumer was stuck */
    uint64_t cas_refused;    /* compare-and-set refused at the stored revision: written plainly */
    uint64_t rev_fixed;      /* refused only because the view's revision was off (the leader
                                held the very record the write was based on): written again
                                against the leader's revision */
    uint64_t msg_checked;    /* messages read from the stream leader to check the view's copy */
    uint64_t msg_diverged;   /* ... that differed, or that the node we read from stored
                                otherwise than the leader: the leader's record was kept */
};

typedef struct qjs {
    natsConnection *nc;
    jsCtx *js;
    kvStore *kv;
    char msg_stream[QJS_NAME_MAX + 8];
    char bucket[QJS_NAME_MAX + 8];
    char kv_stream[QJS_NAME_MAX + 16]; /* the bucket's stream, KV_<bucket> */
    char instance[QJS_NAME_MAX + 1];
    uint64_t ack_wait_ms;
    int64_t timeout_ms;
    unsigned max_batch;
    uint64_t retain_delivered_ms;
    uint64_t retain_idem_ms;

    pthread_mutex_t mu; /* the view, the job queue */
    pthread_cond_t cv;  /* jobs queued / done; watchers caught up */
    struct jsm **ms;    /* messages sorted by id */
    size_t nms, cap;
    size_t lo;          /* no message below index lo has an active delivery */
    uint64_t max_id;    /* highest message id seen */
    uint64_t counts[5]; /* deliveries by state (index = enum igw_delivery_state) */
    uint64_t commits;
    struct jsidem *idem[QJS_IDEM_BUCKETS];
    uint64_t nidem;
    uint64_t *purged; /* ids purged through a marker (sorted), so a late record is dropped */
    size_t npurged, cappurged;
    uint64_t sweep_from;        /* id the next sweep starts at */
    const struct jsd **scratch; /* jsv_scan's key table */
    size_t scratch_cap;

    /* The listener, under lis_mu alone (never taken with anything held inside it): events are
     * emitted under mu, and the queue facade sets the listener under its own listener lock,
     * which its dispatch also takes; guarding the listener by mu would close that circle. */
    pthread_mutex_t lis_mu;
    igw_queue_event_fn listener;
    void *listener_arg;

    struct qjs_job *head, *tail; /* the writer's queue */
    void *ackbatch;              /* the group waiting for its acknowledgements (js_submit.c) */
    uint64_t ack_gen;
    uint64_t opened_us; /* wall clock at open (Nats-Msg-Id of our publishes) */
    char msg_subject[QJS_NAME_MAX + 16];
    bool closing;
    bool stop;
    pthread_t writer;
    bool writer_started;

    natsSubscription *msub; /* ordered consumer on the message stream */
    kvWatcher *watch;
    pthread_t kvthread;
    bool kvthread_started;
    bool kv_initial_done;
    bool msgs_caught_up;
    bool watch_stop;
    struct qjs_ctr ctr;
    struct jstomb **tombs; /* in at_ms order (FIFO) */
    size_t ntombs, captombs;
    /* js_mon.c */
    pthread_t mon;
    bool mon_started;
    /* js_check.c */
    pthread_t checker;
    bool checker_started;
    uint64_t *unck; /* ids that may be unchecked and active, in arrival order (the checker's
                       list; js_check.c drops those settled or done) */
    size_t nunck, capunck;
    uint64_t *holes; /* ids dropped as not the leader's: the leader may give them to a later
                        message, which the node we read from will not deliver (js_check.c) */
    size_t nholes, capholes;
    uint64_t holes_next_ms;
    bool unck_lost;   /* an id could not be listed (out of memory): the checker scans the view */
    bool check_req;   /* an unchecked message may wait: the checker looks */
    bool check_hold;  /* tests only: the checker does not look while set */
    int msg_replicas; /* of the message stream, as last read (0: not yet) */
    char own_prefix[QJS_NAME_MAX + 24]; /* "<instance>.<opened_us hex>." of our Nats-Msg-Ids */
    size_t own_prefix_len;
    bool full;           /* accepts refused (IGW_ENOSPC): a limit's high-water mark reached */
    uint64_t cap_bytes;  /* max_bytes of the stream and the bucket (0: neither set) */
    uint64_t used_bytes; /* their bytes (0 when cap_bytes is 0) */
    uint64_t kv_seen_prev;
    uint64_t msg_seen_prev;
    unsigned msg_stuck;   /* checks without consumer progress while the stream is ahead */
    unsigned kv_stuck;    /* checks without watcher progress while the bucket is ahead */
    bool watch_reset_req; /* the watcher thread recreates its watcher */
    uint64_t kv_seen;     /* highest bucket revision the watcher delivered */
    uint64_t msg_seen;    /* highest message id the ordered consumer delivered (it delivered every
                            stored one below it too): an ordered delivery above it waits, since an
                            earlier message of its key accepted elsewhere may still be coming */
} qjs;

/* A borrowed const pointer in a shallow struct jsd copy that is only encoded (never freed or
 * written through). */
static inline char *
js_unconst(const void *p)
{
    return (char *)(uintptr_t)p;
}

/* ---- js_rec.c ---------------------------------------------------------------------------- */

/* The record of m (copied) into *b. IGW_OK, IGW_ENOMEM, IGW_ETOOBIG. */
int jsrec_encode_msg(struct igw_buf *b, const struct igw_queue_msg *m, uint64_t created_ms);
/* Decodes raw into *r (pointers into raw; r->routes allocated). IGW_OK, IGW_EIO, IGW_ENOMEM. */
int jsrec_decode_msg(const char *raw, size_t len, struct jsrec *r);
/* The record of d's state into *b. IGW_OK, IGW_ENOMEM. */
int jsrec_encode_deliv(struct igw_buf *b, const struct jsd *d);
/* Decodes a delivery record into d's state fields (replacing owned ones). IGW_OK, IGW_EIO,
 * IGW_ENOMEM. */
int jsrec_decode_deliv(const char *raw, size_t len, struct jsd *d);
void jsatt_free(struct jsatt *a, unsigned n);
/* Bucket keys: "d.<id hex>.<route index>", "i.<hex channel>.<hex key>", "x.<id hex>". */
void jskey_deliv(char *out, size_t len, uint64_t id, unsigned ri);
int jskey_idem(struct igw_buf *b, const char *key, size_t klen); /* key = channel NUL idem */
void jskey_purge(char *out, size_t len, uint64_t id);
/* Parses a bucket key: 'd' (id, ri), 'i' (key bytes into b), 'x' (id); 0 when unknown. */
char jskey_parse(const char *k, uint64_t *id, unsigned *ri, struct igw_buf *b);
/* Is st a passing failure (no leader or responder yet, a timeout, a reconnect in progress)? */
bool js_transient(natsStatus st);
/* Runs call (assigning st) again while it fails with a passing error, backing off, for at most
 * the backend's timeout in all. */
#define JS_RETRY(s, st, call)                                                                      \
    do {                                                                                           \
        uint64_t until_ = igw_now_ms() + (uint64_t)(s)->timeout_ms;                                \
        int64_t back_ = 20;                                                                        \
        for (;;) {                                                                                 \
            (st) = (call);                                                                         \
            if (!js_transient(st) || igw_now_ms() + (uint64_t)back_ >= until_) {                   \
                break;                                                                             \
            }                                                                                      \
            nats_Sleep(back_);                                                                     \
            back_ = back_ < 250 ? back_ * 2 : 250;                                                 \
        }                                                                                          \
    } while (0)
/* The latest record of bucket key `key`, read from the stream leader (a KV get may be served by a
 * lagging replica; after a failed compare-and-set only the leader's answer tells what is stored):
 * *val (owned, igw_free) and *len, its revision *rev, *put false for a delete or purge marker.
 * IGW_OK, IGW_ENOENT (no record), IGW_ENOMEM, IGW_ETIMEDOUT, IGW_EIO. Called without mu. */
int js_get_last(qjs *s, const char *key, char **val, size_t *len, uint64_t *rev, bool *put);
/* Waits on s->cv (mu held) for a broadcast or ms milliseconds, whichever comes first. */
void js_cv_wait(qjs *s, long ms);
/* natsStatus / jsErrCode to an igw error, with a log line. */
int js_err(natsStatus s, jsErrCode jerr, const char *what);

/* ---- js_mon.c ---------------------------------------------------------------------------- */

/* Reads the limits once (so a restart in the full state refuses at once) and starts the monitor
 * thread (stopped by watch_stop). IGW_OK or IGW_ENOMEM. */
int jsm_start(qjs *s);
/* Does a publish error say the stream is at a limit? */
bool js_full_error(jsErrCode jerr, const char *text);

/* ---- js_check.c --------------------------------------------------------------------------- */

/* At open (writer running, watchers loaded): checks every active unchecked message against the
 * stream leader, then starts the checker thread (stopped by watch_stop). IGW_OK, IGW_ENOMEM. */
int jsc_start(qjs *s);
/* The writer's side of a JK_CHECK job: replaces the view's copy of j->mid by the leader's
 * record j->rec (or drops it, j->absent), then reloads its deliveries' records. */
void jsc_replace(qjs *s, struct qjs_job *j);
/* Is the leader's record raw the one m was made from (its bytes when m keeps them, else what
 * the view took from it)? mu held. */
bool jsc_same(const struct jsm *m, const char *raw, size_t len);

/* ---- js_view.c (callers hold mu unless said otherwise) ------------------------------------ */

/* Appends id to the array *ids of *n entries (room *cap, grown by doubling). IGW_OK or
 * IGW_ENOMEM (nothing changed). */
int jsv_ids_push(uint64_t **ids, size_t *n, size_t *cap, uint64_t id);
/* Lists message id for the checker (m unchecked and active) and asks it to look. */
void jsv_unchecked(qjs *s, uint64_t id);

struct jsm *jsv_find(qjs *s, uint64_t id);
/* Adds the message of record raw (copied) with id; its deliveries in their initial state;
 * checked says raw is the stream leader's (else the checker is asked to compare). Returns the
 * message (or the one already known, unchanged), NULL on ENOMEM/EIO. */
struct jsm *jsv_add(qjs *s, uint64_t id, const char *raw, size_t len, bool checked);

void jsv_remove(qjs *s, struct jsm *m); /* frees m */
void jsv_set_state(qjs *s, struct jsd *d, uint8_t state);
/* Applies a delivery record with revision rev (ignored when not newer). */
void jsv_apply_deliv(qjs *s, struct jsd *d, const char *raw, size_t len, uint64_t rev);
/* Is d a head: no earlier delivery of its (route, key) pending or in flight? */
bool jsv_is_head(qjs *s, const struct jsd *d);
/* Visits, in id order, every pending or in-flight delivery that heads its (route, order key);
 * fn returns false to stop. IGW_OK or IGW_ENOMEM. */
int jsv_scan(qjs *s, bool (*fn)(void *arg, struct jsd *d), void *arg);
/* When d can be handed out (UINT64_MAX = not now). */
uint64_t jsv_ready_at(qjs *s, const struct jsd *d);
/* Can d be handed out by a claim for now_ms (its due time, or its lease ran out)? */
bool jsv_claimable(qjs *s, const struct jsd *d, uint64_t now_ms);
void jsv_lower(qjs *s, struct jsm *m); /* m has active deliveries again: lower s->lo */
struct jsidem *jsv_idem_find(qjs *s, const char *key, size_t klen);
int jsv_idem_put(qjs *s, const char *key, size_t klen, uint64_t id, uint64_t created, uint64_t rev);
void jsv_idem_del(qjs *s, struct jsidem *e);
bool jsv_purged(qjs *s, uint64_t id);
void jsv_mark_purged(qjs *s, uint64_t id);
void jsv_free(qjs *s);
/* Remembers bucket key `key` for removal after QJS_TOMB_KEEP_MS (mu held; a failure to
 * allocate leaves the key in the bucket: garbage, never a wrong state). */
void jsv_tomb_add(qjs *s, const char *key, uint64_t now_ms);

/* The read-only operations (take mu themselves). */
int jsv_stats(void *be, struct igw_queue_stats *st);
uint64_t jsv_next_due(void *be);
int jsv_deliveries(void *be, uint64_t id, struct igw_queue_delivery_info *out, unsigned max,
                   unsigned *n);
int jsv_dead_get(void *be, uint64_t id, const char *route, struct igw_queue_dead_info *out);
int jsv_message_get(void *be, uint64_t id, struct igw_queue_message *out);
/* The record bytes of m (its raw copy, or fetched from the stream): *raw owned by the caller.
 * Called without mu. */
int jsv_fetch_raw(qjs *s, uint64_t id, char **raw, size_t *len);

/* ---- js_ops.c ---------------------------------------------------------------------------- */

int jsw_start(qjs *s);
void jsw_stop(qjs *s);   /* runs the queued jobs (closing), stops the writer */
int jsw_recover(qjs *s); /* at open: our in-flight deliveries back to pending */
void jsw_emit(qjs *s, enum igw_queue_event_kind k, const struct jsm *m, const struct jsd *d,
              const char *error); /* mu held */

int jso_submit(void *be, const struct igw_queue_msg *m, igw_queue_done_fn cb, void *arg);
int jso_put(void *be, const struct igw_queue_msg *m, uint64_t *id, bool *duplicate);
int jso_claim(void *be, uint64_t now_ms, unsigned max, igw_queue_route_filter_fn filter, void *arg,
              struct igw_queue_claim *out, unsigned *n);
int jso_complete(void *be, const struct igw_queue_outcome *o, unsigned n);
int jso_round_start(void *be, struct igw_queue_round *rd, void (*notify)(void *arg),
                    void *notify_arg);
bool jso_round_done(void *be, struct igw_queue_round *rd);
void jso_round_wait(void *be, struct igw_queue_round *rd);
#ifdef QJS_ADMIN
int jso_release(void *be, uint64_t id, const char *route, unsigned *released);
int jso_retry_now(void *be, uint64_t id, const char *route, unsigned *changed);
/* js_admin.c */
int jsa_list(void *be, const struct igw_queue_filter *f, uint64_t before, unsigned max,
             struct igw_queue_list_item *out, struct igw_queue_list_page *pg);
int jsa_route_stats(void *be, struct igw_queue_route_stats *out, unsigned max, unsigned *n);
int jsa_channel_stats(void *be, struct igw_queue_channel_stats *out, unsigned max, unsigned *n);
int jsa_attempts(void *be, uint64_t id, const char *route, struct igw_queue_attempt *out,
                 unsigned max, unsigned *n, uint32_t *total);
int jsa_payload_get(void *be, uint64_t id, const char *route, struct igw_queue_payload *out);
#else
int jso_release(void *be, uint64_t id, const char *route);
#endif
int jso_purge(void *be, uint64_t id);
int jso_sweep(void *be, uint64_t now_ms, unsigned limit, unsigned *removed);
int jso_replay(void *be, uint64_t id, const struct igw_queue_replay_route *routes, unsigned n);
void jso_set_listener(void *be, igw_queue_event_fn fn, void *arg);

#endif /* IGW_QUEUE_JS_INT_H */
