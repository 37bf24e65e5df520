/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the LMDB queue backend, shared by the .c files of queue/lmdb/ only. The
 * backend's state is a qlmdb, the be pointer of include/igw/queue_backend.h.
 *
 * Files:
 *   lmdb.c    open/close, the known routes, the operations table (igw_queue_backend_lmdb)
 *   claim.c   claim / complete / round / release / purge / sweep: requests to the writer
 *   read.c    stats, deliveries, dead letters, next due: short read txns on the caller's thread
 *   submit.c  submit / put: the request copy (the facade checked the message)
 *   replay.c  message get and replay (request and apply)
 *   store.c   record and key encoding (docs/QUEUE-FORMAT.md), LMDB error mapping, txn helpers
 *   apply.c   submit / claim / complete / release applied inside the writer's write txn
 *   order.c   scheduling (due and order entries) and per-key ordering
 *   maint.c   purge, sweep, open-time recovery and the meta records (next id, counters)
 *   space.c   the high-water mark that keeps room for deliveries, sweeps and purges
 *   writer.c  the writer thread: batching, group commit, map-full handling, events; the
 *             completion thread that runs submit callbacks
 *
 * Threads: every function taking a struct qbatch runs on the writer thread (or in the backend's
 * open before the writer starts). Read-only functions run short read txns on the caller's thread.
 */
#ifndef IGW_QUEUE_LMDB_INT_H
#define IGW_QUEUE_LMDB_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/buf.h"
#include "igw/queue.h"

typedef struct qlmdb qlmdb;

#define QF_VERSION 1u        /* first byte of every value */
#define QF_SCHEMA 2u         /* meta "schema" (1: before the admin indexes; upgraded at open) */
#define QF_OSTR_NONE 0xFFFFu /* u16 length meaning "absent" (NULL) */
#define QF_KEY_MAX 511       /* LMDB's default max key size */
#define QF_ERR_MAX (IGW_ERRBUF_SIZE - 1)

enum qdb {
    QDB_META = 0,
    QDB_MSGS,
    QDB_PAYLOADS,
    QDB_DELIV,
    QDB_DUE,
    QDB_ORDER,
    QDB_DEAD,
    QDB_IDEM,
    QDB_ICHAN,    /* schema 2: channel, 0x00, id -> empty */
    QDB_IROUTE,   /* schema 2: route, 0x00, state, id -> empty */
    QDB_RSTATS,   /* schema 2: route -> deliveries by state */
    QDB_CSTATS,   /* schema 2: channel -> messages */
    QDB_ATTEMPTS, /* schema 2: id, route, 0x00, seq -> attempt record */
    QDB_COUNT
};

/* Counters kept in meta "counts", updated in the same txn as the records they count. */
struct qcounts {
    uint64_t messages;
    uint64_t pending;
    uint64_t inflight;
    uint64_t delivered;
    uint64_t dead;
};

/* A byte string; present=false encodes NULL (absent), distinct from "" */
struct qbytes {
    const uint8_t *p;
    size_t len;
    bool present;
};

/* ---- records (decoded views point into the map: valid until the next write in the txn) --- */

struct qmsg_rec {
    uint64_t created_ms;
    struct qbytes channel;
    struct qbytes content_type;
    struct qbytes meta;
    uint32_t nroutes;
    struct qbytes body;
};

/* The delivery record is copied (fixed arrays): it is rewritten in place. */
struct qdeliv_rec {
    uint8_t state;
    uint32_t attempts;
    uint64_t next_due_ms;
    uint64_t last_attempt_ms;
    int32_t last_status;
    bool ordered;
    size_t order_len;
    char order[IGW_QUEUE_ORDER_KEY_MAX];
    size_t error_len;
    char error[QF_ERR_MAX + 1]; /* NUL-terminated */
    uint8_t stored; /* not encoded: the state the store holds (set by decode and put; 0 = a new
                       record, as a zeroed struct is): lets qrec_deliv_put move the indexes
                       without reading the record again */
};

struct qpayload_rec {
    struct qbytes content_type;
    struct qbytes data;
};

struct qdead_rec {
    uint64_t dead_ms;
    int32_t status;
    struct qbytes error;
    struct qbytes response;
};

struct qidem_rec {
    uint64_t id;
    uint64_t created_ms;
};

/* ---- keys -------------------------------------------------------------------------------- */

struct qkey {
    size_t len;
    uint8_t b[QF_KEY_MAX];
};

void qkey_id(struct qkey *k, uint64_t id);
void qkey_id_route(struct qkey *k, uint64_t id, const char *route, size_t rlen);
void qkey_due(struct qkey *k, uint64_t due_ms, uint64_t id, const char *route, size_t rlen);
/* prefix only (no id) when with_id is false */
void qkey_order(struct qkey *k, const char *route, size_t rlen, const char *okey, size_t olen,
                bool with_id, uint64_t id);
void qkey_idem(struct qkey *k, const char *channel, size_t clen, const char *ikey, size_t ilen);
void qkey_str(struct qkey *k, const char *s);

uint64_t qget_be64(const uint8_t *p);
void qput_be64(uint8_t *p, uint64_t v);

/* ---- requests ---------------------------------------------------------------------------- */

enum qreq_kind {
    QREQ_SUBMIT = 1,
    QREQ_CLAIM,
    QREQ_COMPLETE,
    QREQ_RELEASE,
    QREQ_PURGE,
    QREQ_SWEEP,
    QREQ_REPLAY,
};

struct qroute {
    const char *name; /* NUL-terminated, in the request block */
    size_t name_len;
    bool ordered;
    const char *order_key;
    size_t order_len;
    bool has_payload;
    const void *payload;
    size_t payload_len;
    const char *content_type; /* NULL = message's */
};

struct qsubmit {
    const char *channel;
    size_t channel_len;
    bool has_idem;
    const char *idem;
    size_t idem_len;
    const char *content_type; /* may be NULL */
    const char *meta;
    size_t meta_len;
    const void *body;
    size_t body_len;
    unsigned nroutes;
    struct qroute *routes;
    igw_queue_done_fn cb;
    void *arg;
    uint64_t id;    /* out */
    bool duplicate; /* out */
};

struct qquota {
    char route[IGW_QUEUE_NAME_MAX + 1];
    unsigned want; /* what the filter said */
    unsigned left; /* decremented while claiming (reset on every apply) */
};

struct qclaim_req {
    uint64_t now_ms;
    unsigned max;
    bool all_routes;      /* no filter */
    struct qquota *quota; /* when !all_routes */
    unsigned nquota;
    struct igw_queue_claim *out;
    unsigned n; /* out */
};

struct qcomplete_req {
    const struct igw_queue_outcome *o;
    unsigned n;
};

struct qrelease_req {
    uint64_t id;
    const char *route; /* NULL = all */
    bool retry_now;    /* igw_queue_retry_now: pending deliveries due now (else: release dead) */
    unsigned changed;  /* out: deliveries released or moved */
};

struct qpurge_req {
    uint64_t id;
};

struct qreplay_req {
    uint64_t id;
    unsigned n;
    struct qroute *routes; /* order_key NULL (ordered false) = keep the delivery's key */
};

struct qsweep_req {
    uint64_t now_ms;
    unsigned limit;
    unsigned removed; /* out */
};

struct qreq {
    struct qreq *next;
    enum qreq_kind kind;
    int rv;
    bool finished;             /* writer: outcome decided */
    bool done;                 /* blocking requests: set under q->mu after the outcome is final */
    void (*notify)(void *arg); /* blocking requests: called under q->mu right after done */
    void *notify_arg;
    union {
        struct qsubmit submit;
        struct qclaim_req claim;
        struct qcomplete_req complete;
        struct qrelease_req release;
        struct qpurge_req purge;
        struct qsweep_req sweep;
        struct qreplay_req replay;
    } u;
};

/* ---- events collected during a txn, dispatched after its commit ------------------------- */

#define QEV_NOSTR SIZE_MAX

struct qev {
    enum igw_queue_event_kind kind;
    uint64_t id;
    size_t channel; /* offsets into qbatch.evstr, QEV_NOSTR = NULL */
    size_t route;
    size_t error;
    uint32_t attempts;
    uint64_t next_due_ms;
};

/* Counter changes of one route (rstats) or channel (cstats) during a txn, written once by
 * qidx_flush before the commit (index.c). */
struct qdelta {
    bool channel;
    uint8_t len;
    char name[IGW_QUEUE_NAME_MAX];
    int64_t d[4]; /* route: pending, in flight, delivered, dead; channel: d[0] messages */
};

struct qbatch {
    qlmdb *q;
    MDB_txn *txn;
    uint64_t now_ms;
    uint64_t next_id;
    struct qcounts counts;
    bool events;   /* a listener is set: collect events (else qev_add does nothing) */
    bool accepted; /* a new message was stored */
    bool freed;    /* a message was removed */
    bool was_full; /* q->full when the txn began */
    bool refused;  /* a submit was refused at the high-water mark (space.c) */
    bool below;    /* after a removal: the pages in use are back below the mark */
    bool mark_known;
    uint64_t mark; /* pages a submit may fill up to in this txn (space.c) */
    uint64_t cap;  /* the capacity in pages the mark was measured from (with mark_known) */
    struct qev *ev;
    size_t nev;
    size_t evcap;
    struct igw_buf evstr;
    int att_room;      /* attempt records may be written in this txn: -1 not measured yet,
                          0 no (the store is above its high-water mark), 1 yes (index.c) */
    struct qdelta *dl; /* counter changes of this txn (index.c) */
    unsigned ndl;
    unsigned dlcap;
};

struct qroute_name {
    char name[IGW_QUEUE_NAME_MAX + 1];
    size_t len;
};

/* ---- the backend's state ----------------------------------------------------------------- */

struct qlmdb {
    MDB_env *env;
    MDB_dbi dbi[QDB_COUNT];
    char *path;
    unsigned psize; /* LMDB's page size */
    unsigned max_batch;
    uint64_t retain_delivered_ms;
    uint64_t retain_idem_ms;

    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* writer waits for requests */
    pthread_cond_t done_cv; /* blocking callers wait for their request */
    struct qreq *head;      /* pending requests (under mu) */
    struct qreq *tail;
    bool closing;                /* under mu */
    bool full;                   /* under mu */
    uint64_t commits;            /* under mu */
    uint64_t relaxed_commits;    /* under mu: commits without a metadata flush */
    igw_queue_event_fn listener; /* under mu */
    void *listener_arg;
    pthread_t thread;
    bool thread_started;

    /* Completion thread: runs the callbacks of committed submits, so the writer starts the next
     * group at once instead of answering the previous one first. */
    pthread_mutex_t cb_mu;
    pthread_cond_t cb_cv;
    struct qreq *cb_head; /* under cb_mu: submits whose outcome is final, in commit order */
    struct qreq *cb_tail;
    bool cb_stop; /* under cb_mu */
    pthread_t cb_thread;
    bool cb_started;

    /* Route names that ever had a due entry: the claim filter is asked about these instead of
     * scanning the due table. Only appended, by the writer (or open) under mu; callers copy it
     * under mu; the writer may read it without the lock. */
    struct qroute_name *known;
    unsigned nknown;
    unsigned known_cap;

    /* writer-owned */
    bool sync_capable; /* durable env (not no_sync): metadata flush may be relaxed per txn */
    bool nometasync;   /* MDB_NOMETASYNC currently set on the env */
    uint64_t next_id;
    struct qcounts counts;
    struct qreq **wbatch; /* max_batch */
    struct qreq **welig;  /* max_batch */
    struct qbatch b;
    uint64_t sweep_msg_from;
    struct qkey sweep_idem_from;
    uint64_t prealloc_bytes; /* data.mdb is allocated up to here (space.c) */
    bool prealloc_warned;
};

/* The operations (the facade checked the arguments; see include/igw/queue_backend.h). */
int qlmdb_submit(void *be, const struct igw_queue_msg *m, igw_queue_done_fn cb, void *arg);
int qlmdb_put(void *be, const struct igw_queue_msg *m, uint64_t *id, bool *duplicate);
int qlmdb_claim(void *be, uint64_t now_ms, unsigned max, igw_queue_route_filter_fn filter,
                void *arg, struct igw_queue_claim *out, unsigned *n);
int qlmdb_complete(void *be, const struct igw_queue_outcome *o, unsigned n);
int qlmdb_round_start(void *be, struct igw_queue_round *rd, void (*notify)(void *arg),
                      void *notify_arg);
bool qlmdb_round_done(void *be, struct igw_queue_round *rd);
void qlmdb_round_wait(void *be, struct igw_queue_round *rd);
uint64_t qlmdb_next_due(void *be);
int qlmdb_stats(void *be, struct igw_queue_stats *s);
int qlmdb_deliveries(void *be, uint64_t id, struct igw_queue_delivery_info *out, unsigned max,
                     unsigned *n);
int qlmdb_dead_get(void *be, uint64_t id, const char *route, struct igw_queue_dead_info *out);
int qlmdb_release(void *be, uint64_t id, const char *route, unsigned *released);
int qlmdb_retry_now(void *be, uint64_t id, const char *route, unsigned *changed);
int qlmdb_list(void *be, const struct igw_queue_filter *f, uint64_t before, unsigned max,
               struct igw_queue_list_item *out, struct igw_queue_list_page *pg);
int qlmdb_route_stats(void *be, struct igw_queue_route_stats *out, unsigned max, unsigned *n);
int qlmdb_channel_stats(void *be, struct igw_queue_channel_stats *out, unsigned max, unsigned *n);
int qlmdb_attempts(void *be, uint64_t id, const char *route, struct igw_queue_attempt *out,
                   unsigned max, unsigned *n, uint32_t *total);
int qlmdb_payload_get(void *be, uint64_t id, const char *route, struct igw_queue_payload *out);
int qlmdb_purge(void *be, uint64_t id);
int qlmdb_sweep(void *be, uint64_t now_ms, unsigned limit, unsigned *removed);
int qlmdb_message_get(void *be, uint64_t id, struct igw_queue_message *out);
int qlmdb_replay(void *be, uint64_t id, const struct igw_queue_replay_route *routes, unsigned n);

/* lmdb.c: remembers a route that got a due entry (writer thread or open) */
int qknown_route_add(qlmdb *q, const char *route, size_t rlen);

/* store.c */
int qerr_map(int rc, const char *what);
int qdb_get(struct qbatch *b, enum qdb db, const struct qkey *k, MDB_val *val);
int qdb_del(struct qbatch *b, enum qdb db, const struct qkey *k);
int qdb_put_raw(struct qbatch *b, enum qdb db, const struct qkey *k, const void *v, size_t n,
                unsigned flags);
int qrec_msg_put(struct qbatch *b, const struct qkey *k, const struct qmsg_rec *r);
int qrec_msg_decode(const MDB_val *v, struct qmsg_rec *r);
int qrec_deliv_put(struct qbatch *b, const struct qkey *k, struct qdeliv_rec *r);
int qrec_deliv_decode(const MDB_val *v, struct qdeliv_rec *r);
int qrec_payload_put(struct qbatch *b, const struct qkey *k, const struct qpayload_rec *r);
int qrec_payload_decode(const MDB_val *v, struct qpayload_rec *r);
int qrec_dead_put(struct qbatch *b, const struct qkey *k, const struct qdead_rec *r);
int qrec_dead_decode(const MDB_val *v, struct qdead_rec *r);
int qrec_idem_put(struct qbatch *b, const struct qkey *k, const struct qidem_rec *r);
int qrec_idem_decode(const MDB_val *v, struct qidem_rec *r);
int qrec_counts_decode(const MDB_val *v, struct qcounts *c);
int qrec_counts_put(struct qbatch *b, const struct qcounts *c);
int qrec_u64_decode(const MDB_val *v, uint64_t *out);
int qrec_u64_put(struct qbatch *b, const char *name, uint64_t v);
struct qbytes qbytes_of(const void *p, size_t len);
struct qbytes qbytes_str(const char *s); /* NULL -> absent */

/* apply.c: return IGW_OK or a txn-fatal error (IGW_ENOSPC, IGW_EIO, IGW_ENOMEM); the
 * request's own outcome goes to req->rv. */
int qapply_submit(struct qbatch *b, struct qreq *r);
int qapply_claim(struct qbatch *b, struct qreq *r);
int qapply_complete(struct qbatch *b, struct qreq *r);
int qapply_release(struct qbatch *b, struct qreq *r);
int qev_add(struct qbatch *b, enum igw_queue_event_kind kind, uint64_t id, struct qbytes channel,
            const char *route, size_t rlen, struct qbytes error, uint32_t attempts,
            uint64_t next_due_ms);
void qreq_reset(struct qreq *r);

/* order.c: scheduling (due + order entries) and the per-key head */
int qdeliv_schedule(struct qbatch *b, uint64_t id, const char *route, size_t rlen,
                    struct qdeliv_rec *d, uint64_t due_ms);
int qorder_is_first(struct qbatch *b, uint64_t id, const char *route, size_t rlen,
                    const struct qdeliv_rec *d, bool *first);
int qorder_remove(struct qbatch *b, uint64_t id, const char *route, size_t rlen,
                  const struct qdeliv_rec *d);

/* maint.c */
/* Whether message id exists (IGW_OK, IGW_ENOENT, IGW_EIO) and its channel name, copied into
 * channel with *ch pointing at it (left unchanged when the record does not decode). */
int qmsg_channel(struct qbatch *b, uint64_t id, char channel[IGW_QUEUE_NAME_MAX],
                 struct qbytes *ch);
int qapply_purge(struct qbatch *b, struct qreq *r);
int qapply_sweep(struct qbatch *b, struct qreq *r);
int qmeta_load(struct qbatch *b);
int qmeta_store(struct qbatch *b);
int qrecover_inflight(struct qbatch *b);

/* space.c: the high-water mark (docs/QUEUE-FORMAT.md, "Room for deliveries"). Capacity is the
 * map size in pages, or less when the file system of data.mdb has less room; the reserve is
 * capacity / QSPACE_RESERVE_DIV, at least QSPACE_RESERVE_MIN_PAGES (at most a quarter). */
#define QSPACE_RESERVE_DIV 16u
#define QSPACE_RESERVE_MIN_PAGES 256u
#define QSPACE_HYSTERESIS_PAGES 8u
uint64_t qspace_reserve_pages(uint64_t cap_pages);
/* Pages submit s may add at most (an over-estimate; page size psize). */
uint64_t qspace_estimate_pages(const struct qsubmit *s, unsigned psize);
/* *ok: the pages in use in b's txn plus s's estimate stay within the mark. IGW_OK or the error
 * of measuring (then *ok is false). */
int qspace_admit(struct qbatch *b, const struct qsubmit *s, bool *ok);
/* *below: the pages in use are back below the mark (with a small margin). */
int qspace_below_mark(struct qbatch *b, bool *below);
/* At open: *full when the store is not back below the mark (the full state a previous run ended
 * in, which q->full does not keep across a restart), so the hysteresis holds after kill -9. */
int qspace_full_at_open(qlmdb *q, bool *full);
/* Keeps data.mdb allocated up to the last page in use plus the reserve (writer thread or open);
 * a failure (the file system full) is logged once and retried after the next commit. cap: the
 * capacity in pages the commit's transaction already measured, or 0 to measure it here. */
void qspace_preallocate(qlmdb *q, uint64_t cap);

/* index.c: the admin indexes (schema 2), maintained in the same txn as the records */
/* A delivery moved from state old to new (0 = absent): its iroute entry and rstats counters. */
int qidx_deliv_move(struct qbatch *b, uint64_t id, const char *route, size_t rlen, uint8_t old,
                    uint8_t new_state);
/* A message stored (add) or removed: its ichan entry and cstats count; removal also drops its
 * attempt records. */
int qidx_msg(struct qbatch *b, uint64_t id, struct qbytes channel, bool add);
/* Records one attempt of (id, route), keeping the first and the last ones. */
int qidx_attempt_add(struct qbatch *b, const struct igw_queue_outcome *o, size_t rlen,
                     const struct qdeliv_rec *d);
/* Writes the counter changes collected in b (rstats, cstats): once per touched route or
 * channel, before the commit (qmeta_store). */
int qidx_flush(struct qbatch *b);
/* Builds every index from the records (upgrade of a schema 1 queue, at open). */
int qidx_build(struct qbatch *b);
void qkey_iroute(struct qkey *k, const char *route, size_t rlen, uint8_t state, bool with_id,
                 uint64_t id);
void qkey_ichan(struct qkey *k, const char *ch, size_t clen, bool with_id, uint64_t id);
void qkey_att(struct qkey *k, uint64_t id, const char *route, size_t rlen, bool with_seq,
              uint32_t seq);
/* rstats value: version, then pending, inflight, delivered, dead (u64 each) */
int qrec_rstats_decode(const MDB_val *v, uint64_t c[4]);

/* replay.c */
int qapply_replay(struct qbatch *b, struct qreq *r);

/* writer.c */
int qwriter_start(qlmdb *q);
void qwriter_stop(qlmdb *q);
int qbatch_init(struct qbatch *b, qlmdb *q);
void qbatch_fini(struct qbatch *b);
void qbatch_clear(struct qbatch *b);
/* Appends r to the request list; IGW_ECLOSED when closing. */
int qenqueue(qlmdb *q, struct qreq *r);
/* Enqueues a blocking request and waits until it is done; returns r->rv. */
int qcall(qlmdb *q, struct qreq *r);
/* Enqueues n blocking requests together without waiting; IGW_ECLOSED when closing. */
int qenqueue_n(qlmdb *q, struct qreq **r, size_t n);
/* Enqueues n blocking requests together (same group unless max_batch splits them) and waits
 * until all are done. */
int qcall_n(qlmdb *q, struct qreq **r, size_t n);

#endif /* IGW_QUEUE_LMDB_INT_H */
