/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LMDB queue backend (queue/lmdb/): the queue contract suite (contract*.c) run on LMDB,
 * then the cases only LMDB has: a full map and its recovery, the high-water mark that keeps a
 * reserve for deliveries (reserve_size, full_recovers), group commit, the map size in
 * the stats, the options it refuses and its on-disk format (docs/QUEUE-FORMAT.md). Each case
 * works in its own mkdtemp directory.
 */
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/queue_lmdb.h"
#include "contract.h"
#include "igwt_tmp.h"
#include "../../../queue/lmdb/lmdb_int.h"

/* ---- the backend as the contract suite sees it ------------------------------------------- */

static int
lmdb_fresh(char *loc, size_t len)
{
    return igwt_tmpdir(loc, len, "igwq") != NULL ? IGW_OK : IGW_EIO;
}

static int
lmdb_open_opts(igw_queue **q, const char *dir, uint64_t map_size, uint64_t retain_ms, char *errbuf,
               size_t errlen)
{
    struct igw_queue_lmdb_opts lo = {dir, map_size, 0, false};
    struct igw_queue_opts o;

    memset(&o, 0, sizeof(o));
    o.backend = "lmdb";
    o.backend_opts = &lo;
    o.retain_delivered_ms = retain_ms;
    o.retain_idempotency_ms = retain_ms;
    return igw_queue_open(q, &o, errbuf, errlen);
}

static int
lmdb_open(igw_queue **q, const char *loc, uint64_t retain_ms, char *errbuf, size_t errlen)
{
    return lmdb_open_opts(q, loc, 0, retain_ms, errbuf, errlen);
}

static const struct qc_backend lmdb_backend = {"lmdb", lmdb_fresh, lmdb_open, igwt_rm_tree};

/* ---- helpers of the LMDB cases ----------------------------------------------------------- */

static char tmpdir[64];

/* A fresh directory and a queue with that map size there. */
static igw_queue *
lmdb_open_at(uint64_t map_size, uint64_t retain_ms)
{
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *q = NULL;
    int rv;

    IGWT_ASSERT(igwt_tmpdir(tmpdir, sizeof(tmpdir), "igwq") != NULL);
    rv = lmdb_open_opts(&q, tmpdir, map_size, retain_ms, err, sizeof(err));
    if (rv != IGW_OK) {
        fprintf(stderr, "  open: %s: %s\n", igw_strerror(rv), err);
    }
    IGWT_ASSERT(rv == IGW_OK && q != NULL);
    return q;
}

static void
lmdb_finish(igw_queue *q)
{
    igw_queue_close(q);
    igwt_rm_tree(tmpdir);
}

/* ---- idempotency ------------------------------------------------------------------------- */

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered;
    bool open;
};

static struct gate gate = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Listener that holds the writer thread on its first event until the gate opens. */
static void
gate_listener(void *arg, const struct igw_queue_event *ev)
{
    IGW_UNUSED(arg);
    IGW_UNUSED(ev);
    pthread_mutex_lock(&gate.mu);
    gate.entered = true;
    pthread_cond_broadcast(&gate.cv);
    while (!gate.open) {
        pthread_cond_wait(&gate.cv, &gate.mu);
    }
    pthread_mutex_unlock(&gate.mu);
}

/* The concurrent submits of one key are one group commit while the writer is held. */
static void
test_idempotency_group(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    pthread_t th[8];
    uint64_t commits;
    int ndup = 0;

    qc_idem_basics(q, &m, &r);

    /* 8 threads submit the same key while the writer is held: one group, one message */
    pthread_mutex_lock(&gate.mu);
    gate.entered = false;
    gate.open = false;
    pthread_mutex_unlock(&gate.mu);
    qc_same_reset(q);
    igw_queue_set_listener(q, gate_listener, NULL);
    m.idem_key = NULL; /* a new message: its ACCEPTED event holds the writer */
    IGWT_OK(igw_queue_submit(q, &m, qc_same_done, (void *)(intptr_t)15));
    pthread_mutex_lock(&gate.mu);
    while (!gate.entered) {
        pthread_cond_wait(&gate.cv, &gate.mu);
    }
    pthread_mutex_unlock(&gate.mu);
    commits = qc_stats(q).commits;
    for (int i = 0; i < 8; i++) {
        pthread_create(&th[i], NULL, qc_same_thread, (void *)(intptr_t)i);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_mutex_lock(&gate.mu);
    gate.open = true;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
    qc_same_wait(9);
    igw_queue_set_listener(q, NULL, NULL);
    for (int i = 0; i < 8; i++) {
        IGWT_CHECK(qc_same.rvs[i] == IGW_OK && qc_same.ids[i] == qc_same.ids[0]);
        ndup += qc_same.dups[i] ? 1 : 0;
    }
    IGWT_CHECK(ndup == 7);
    IGWT_CHECK(qc_stats(q).commits == commits + 1); /* the 8 submits were one group */
    IGWT_CHECK(qc_stats(q).messages == 4);          /* 2 before, the unkeyed one, one for key-1 */
    qc_finish(q);
}

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    int ok;
    int nospc;
} fill = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static void
fill_cb(void *arg, int rv, uint64_t id, bool duplicate)
{
    IGW_UNUSED(arg);
    IGW_UNUSED(id);
    IGW_UNUSED(duplicate);
    pthread_mutex_lock(&fill.mu);
    fill.n++;
    fill.ok += rv == IGW_OK ? 1 : 0;
    fill.nospc += rv == IGW_ENOSPC ? 1 : 0;
    pthread_cond_broadcast(&fill.cv);
    pthread_mutex_unlock(&fill.mu);
}

/* Submits groups of 16 messages (bodies of one repeated letter) until one is refused. */
static void
fill_map(igw_queue *q, struct igw_queue_msg *m, char *body, size_t len)
{
    for (int sent = 0; fill.nospc == 0 && sent < 4000;) {
        for (int i = 0; i < 16; i++, sent++) {
            memset(body, 'a' + sent % 26, len);
            IGWT_OK(igw_queue_submit(q, m, fill_cb, NULL));
        }
        pthread_mutex_lock(&fill.mu);
        while (fill.n < sent) {
            pthread_cond_wait(&fill.cv, &fill.mu);
        }
        pthread_mutex_unlock(&fill.mu);
    }
}

/* Claims everything, checks each body is intact, completes them in one call per claim. */
static unsigned
drain_all(igw_queue *q, size_t len)
{
    struct igw_queue_claim c[64];
    struct igw_queue_outcome o[64];
    unsigned seen = 0;
    unsigned n;

    memset(o, 0, sizeof(o));
    for (n = qc_claim(q, QC_FAR_FUTURE, c, 64); n > 0; n = qc_claim(q, QC_FAR_FUTURE, c, 64)) {
        for (unsigned i = 0; i < n; i++) {
            const char *p = c[i].payload.ptr;
            IGWT_CHECK(c[i].payload.len == len && p[0] >= 'a' && p[0] <= 'z' &&
                       memchr(p, p[0] == 'a' ? 'b' : 'a', len) == NULL);
            o[i].id = c[i].id;
            o[i].route = "r";
            o[i].result = IGW_DELIVER_OK;
        }
        IGWT_OK(igw_queue_complete(q, o, n));
        seen += n;
        qc_fini_claims(c, n);
    }
    return seen;
}

static void
test_map_full(void)
{
    igw_queue *q = lmdb_open_at(1 << 20, 1);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    char body[3000];
    unsigned seen;
    unsigned removed = 0;
    uint64_t id;

    pthread_mutex_lock(&fill.mu);
    fill.n = fill.ok = fill.nospc = 0;
    pthread_mutex_unlock(&fill.mu);
    qc_init_msg(&m, "ch", "", &r, 1);
    m.body = body;
    m.body_len = sizeof(body);
    fill_map(q, &m, body, sizeof(body));
    IGWT_CHECK(fill.nospc > 0 && fill.ok > 50);
    /* a group was refused; single messages may still fit for a while */
    for (int i = 0; i < 64 && igw_queue_put(q, &m, &id, NULL) == IGW_OK; i++) {
        fill.ok++;
    }
    IGWT_CHECK(qc_stats(q).full && qc_stats(q).messages == (uint64_t)fill.ok);
    IGWT_ERR(igw_queue_put(q, &m, &id, NULL), IGW_ENOSPC);
    {
        /* above the mark an outcome writes no attempt record: the reserve is the deliveries' */
        struct igw_queue_claim c[1];
        struct igw_queue_attempt at[2];
        uint32_t total = 9;
        unsigned na = 9;
        IGWT_ASSERT(qc_claim(q, igw_now_ms() + 1, c, 1) == 1);
        qc_done(q, c[0].id, "r", IGW_DELIVER_RETRY, 0);
        IGWT_OK(igw_queue_attempts(q, c[0].id, "r", at, 2, &na, &total));
        IGWT_CHECK(na == 0 && total == 0);
        qc_fini_claims(c, 1);
    }
    /* everything accepted is intact, and claims and completions still commit */
    seen = drain_all(q, sizeof(body));
    IGWT_CHECK(seen == (unsigned)fill.ok);
    IGWT_CHECK(qc_stats(q).delivered == seen);
    while (igw_queue_sweep(q, QC_FAR_FUTURE, 50, &removed) == IGW_OK && removed > 0) {
        seen -= removed;
    }
    IGWT_CHECK(seen == 0);
    IGWT_CHECK(!qc_stats(q).full && qc_stats(q).messages == 0);
    IGWT_OK(igw_queue_put(q, &m, &id, NULL));
    lmdb_finish(q);
}

/* ---- the high-water mark (queue/lmdb/space.c) -------------------------------------------- */

static void
test_reserve_size(void)
{
    struct qroute r = {"r", 1, false, NULL, 0, false, NULL, 0, NULL};
    struct qsubmit s;

    IGWT_CHECK(qspace_reserve_pages(2048) == 256);     /* 8 MiB: the 1 MiB floor */
    IGWT_CHECK(qspace_reserve_pages(262144) == 16384); /* 1 GiB: a sixteenth */
    IGWT_CHECK(qspace_reserve_pages(256) == 64);       /* 1 MiB: at most a quarter */
    IGWT_CHECK(qspace_reserve_pages(0) == 0);
    memset(&s, 0, sizeof(s));
    s.channel = "ch";
    s.channel_len = 2;
    s.nroutes = 1;
    s.routes = &r;
    s.body_len = 100;
    IGWT_CHECK(qspace_estimate_pages(&s, 4096) >= 3 && qspace_estimate_pages(&s, 4096) <= 4);
    s.body_len = 3000; /* an overflow page of its own */
    IGWT_CHECK(qspace_estimate_pages(&s, 4096) >= 4);
    s.body_len = 100000;
    IGWT_CHECK(qspace_estimate_pages(&s, 4096) >= 100000 / 4096 + 1);
}

static void
fill_reset(void)
{
    pthread_mutex_lock(&fill.mu);
    fill.n = fill.ok = fill.nospc = 0;
    pthread_mutex_unlock(&fill.mu);
}

static igw_queue *
reopen(igw_queue *q)
{
    char err[IGW_ERRBUF_SIZE] = "";

    igw_queue_close(q);
    q = NULL;
    IGWT_OK(lmdb_open_opts(&q, tmpdir, 8 << 20, 1, err, sizeof(err)));
    return q;
}

/* Drains and sweeps everything; returns how many messages the sweeps removed. */
static unsigned
drain_sweep(igw_queue *q, size_t len, unsigned expect)
{
    unsigned removed = 0;
    unsigned total = 0;

    IGWT_CHECK(drain_all(q, len) == expect);
    while (igw_queue_sweep(q, QC_FAR_FUTURE, 50, &removed) == IGW_OK && removed > 0) {
        total += removed;
    }
    IGWT_CHECK(!qc_stats(q).full && qc_stats(q).messages == 0);
    return total;
}

/* 8 MiB map, flood until refused: room is left, a purge and a restart with deliveries in flight
 * work while full, everything drains and sweeps, and a refill is accepted up to the mark again. */
static void
test_full_recovers(void)
{
    igw_queue *q = lmdb_open_at(8 << 20, 1);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_claim c[32];
    struct igw_queue_stats st;
    struct igw_queue_msg m;
    char body[3000];
    uint64_t id;
    int first;
    int extra;

    fill_reset();
    qc_init_msg(&m, "ch", "", &r, 1);
    m.body = body;
    m.body_len = sizeof(body);
    fill_map(q, &m, body, sizeof(body));
    first = fill.ok;
    st = qc_stats(q);
    IGWT_CHECK(fill.nospc > 0 && first > 1000 && st.full);
    IGWT_CHECK(st.capacity_bytes - st.used_bytes >= 128 * 4096); /* the reserve is untouched */
    IGWT_ERR(igw_queue_put(q, &m, &id, NULL), IGW_ENOSPC);
    IGWT_OK(igw_queue_purge(q, 1)); /* an admin delete while full */
    IGWT_ERR(igw_queue_purge(q, 1), IGW_ENOENT);
    IGWT_CHECK(qc_claim(q, QC_FAR_FUTURE, c, 32) == 32);
    qc_fini_claims(c, 32);
    q = reopen(q); /* in flight at close: recovery writes at open */
    IGWT_CHECK(qc_stats(q).inflight == 0 && qc_stats(q).messages == (uint64_t)first - 1);
    /* the purged message's pages take a message or two, then the mark refuses again */
    for (extra = 0; extra < 8 && igw_queue_put(q, &m, &id, NULL) == IGW_OK; extra++) {
    }
    IGWT_CHECK(extra <= 2 && qc_stats(q).full);
    first += extra - 1;
    IGWT_CHECK(drain_sweep(q, sizeof(body), (unsigned)first) == (unsigned)first);
    fill_reset();
    fill_map(q, &m, body, sizeof(body));
    IGWT_CHECK(fill.nospc > 0 && fill.ok >= first - 32 && fill.ok <= first + 32);
    q = reopen(q);
    IGWT_CHECK(drain_sweep(q, sizeof(body), (unsigned)fill.ok) == (unsigned)fill.ok);
    IGWT_OK(igw_queue_put(q, &m, &id, NULL));
    lmdb_finish(q);
}

/* ---- group commit ------------------------------------------------------------------------ */

#define GC_THREADS 8
#define GC_PUTS 100

static void *
gc_thread(void *arg)
{
    igw_queue *q = arg;
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    char body[512];

    memset(body, 'x', sizeof(body));
    qc_init_msg(&m, "ch", "", &r, 1);
    m.body = body;
    m.body_len = sizeof(body);
    for (int i = 0; i < GC_PUTS; i++) {
        if (igw_queue_put(q, &m, NULL, NULL) != IGW_OK) {
            return (void *)1;
        }
    }
    return NULL;
}

static void
test_group_commit(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    pthread_t th[GC_THREADS];
    uint64_t c0 = qc_stats(q).commits;
    uint64_t t0 = igw_mono_ns();
    uint64_t commits;
    void *res;
    double secs;
    int total = GC_THREADS * GC_PUTS;

    qc_async_reset();
    for (int i = 0; i < GC_THREADS; i++) {
        pthread_create(&th[i], NULL, gc_thread, q);
    }
    for (int i = 0; i < GC_THREADS; i++) {
        pthread_join(th[i], &res);
        IGWT_CHECK(res == NULL);
    }
    secs = (double)(igw_mono_ns() - t0) / 1e9;
    commits = qc_stats(q).commits - c0;
    printf("  group commit: %d threads x %d puts: %llu commits, %.0f msg/s\n", GC_THREADS, GC_PUTS,
           (unsigned long long)commits, total / secs);
    IGWT_CHECK(commits <= (uint64_t)total / 3);

    /* asynchronous submits from one thread: large groups */
    qc_init_msg(&m, "ch", "async", &r, 1);
    c0 = qc_stats(q).commits;
    t0 = igw_mono_ns();
    for (int i = 0; i < 2000; i++) {
        IGWT_OK(igw_queue_submit(q, &m, qc_async_cb, NULL));
    }
    pthread_mutex_lock(&qc_async_done.mu);
    while (qc_async_done.n < 2000) {
        pthread_cond_wait(&qc_async_done.cv, &qc_async_done.mu);
    }
    pthread_mutex_unlock(&qc_async_done.mu);
    secs = (double)(igw_mono_ns() - t0) / 1e9;
    commits = qc_stats(q).commits - c0;
    printf("  group commit: 2000 async submits: %llu commits, %.0f msg/s\n",
           (unsigned long long)commits, 2000 / secs);
    IGWT_CHECK(qc_async_done.bad == 0);
    IGWT_CHECK(commits <= 2000 / 8);
    IGWT_CHECK(qc_stats(q).messages == (uint64_t)total + 2000);
    qc_finish(q);
}

/* The map size is the storage capacity of the stats; the used bytes are within it. */
static void
test_stats_capacity(void)
{
    igw_queue *q = lmdb_open_at(8 << 20, 0);
    struct igw_queue_stats s;

    for (int i = 0; i < 4; i++) {
        qc_put1(q, "r", NULL, "m");
    }
    s = qc_stats(q);
    IGWT_CHECK(s.capacity_bytes == 8 << 20 && s.used_bytes > 0 && s.used_bytes <= s.capacity_bytes);
    lmdb_finish(q);
}

/* Options the facade or the backend refuse. */
static void
test_open_invalid(void)
{
    struct igw_queue_lmdb_opts lo = {"", 0, 0, false};
    struct igw_queue_opts o;
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *q2 = NULL;

    memset(&o, 0, sizeof(o));
    IGWT_ERR(igw_queue_open(&q2, &o, NULL, 0), IGW_EINVAL); /* lmdb without a path */
    IGWT_CHECK(q2 == NULL);
    o.backend_opts = &lo;
    IGWT_ERR(igw_queue_open(&q2, &o, err, sizeof(err)), IGW_EINVAL);
    IGWT_STREQ(err, "queue: no path");
    o.backend = "nope";
    IGWT_ERR(igw_queue_open(&q2, &o, err, sizeof(err)), IGW_EINVAL);
    IGWT_STREQ(err, "queue: unknown backend 'nope'");
    IGWT_ERR(igw_queue_open(&q2, NULL, NULL, 0), IGW_EINVAL);
    IGWT_CHECK(igw_queue_backend_find(NULL) == &igw_queue_backend_lmdb);
    IGWT_CHECK(igw_queue_backend_find("lmdb") == &igw_queue_backend_lmdb);
    IGWT_CHECK(igw_queue_backend_at(0) == &igw_queue_backend_lmdb);
}

static uint64_t
be64(const void *p)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

/* Reads one record of a named database with plain LMDB; *v points into the map until abort. */
static int
raw_get(MDB_txn *txn, const char *db, const void *key, size_t klen, MDB_val *v)
{
    MDB_dbi dbi;
    MDB_val k = {klen, (void *)(uintptr_t)key};
    int rc = mdb_dbi_open(txn, db, 0, &dbi);
    return rc == MDB_SUCCESS ? mdb_get(txn, dbi, &k, v) : rc;
}

/* The layout of docs/QUEUE-FORMAT.md, read back with plain LMDB after a close. */
static void
test_disk_format(void)
{
    igw_queue *q = lmdb_open_at(0, 0);
    unsigned char key[8 + 1];
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_val v;
    uint64_t id = qc_put1(q, "r", NULL, "hello");

    igw_queue_close(q);
    IGWT_ASSERT(mdb_env_create(&env) == MDB_SUCCESS);
    IGWT_ASSERT(mdb_env_set_maxdbs(env, 16) == MDB_SUCCESS);
    IGWT_ASSERT(mdb_env_open(env, tmpdir, MDB_RDONLY, 0600) == MDB_SUCCESS);
    IGWT_ASSERT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == MDB_SUCCESS);
    IGWT_CHECK(raw_get(txn, "meta", "schema", 6, &v) == MDB_SUCCESS && v.mv_size == 9 &&
               ((unsigned char *)v.mv_data)[0] == 1 && be64((char *)v.mv_data + 1) == 2);
    for (int i = 0; i < 8; i++) {
        key[i] = (unsigned char)(id >> (56 - 8 * i));
    }
    /* msgs: version, created_ms, channel as ostr (u16 length 2, "ch") */
    IGWT_CHECK(raw_get(txn, "msgs", key, 8, &v) == MDB_SUCCESS && v.mv_size > 13 &&
               ((unsigned char *)v.mv_data)[0] == 1 &&
               memcmp((char *)v.mv_data + 9, "\0\2ch", 4) == 0);
    key[8] = 'r';
    IGWT_CHECK(raw_get(txn, "deliv", key, 9, &v) == MDB_SUCCESS && v.mv_size > 1 &&
               ((unsigned char *)v.mv_data)[0] == 1);
    /* schema 2 indexes: ichan "ch" 0x00 id; iroute "r" 0x00 state(1 pending) id; rstats "r";
     * cstats "ch" */
    {
        unsigned char ik[3 + 8] = {'c', 'h', 0};
        unsigned char rk[3 + 8] = {'r', 0, 1};
        memcpy(ik + 3, key, 8);
        memcpy(rk + 3, key, 8);
        IGWT_CHECK(raw_get(txn, "ichan", ik, 11, &v) == MDB_SUCCESS && v.mv_size == 0);
        IGWT_CHECK(raw_get(txn, "iroute", rk, 11, &v) == MDB_SUCCESS && v.mv_size == 0);
        IGWT_CHECK(raw_get(txn, "rstats", "r", 1, &v) == MDB_SUCCESS && v.mv_size == 33 &&
                   ((unsigned char *)v.mv_data)[0] == 1 && be64((char *)v.mv_data + 1) == 1);
        IGWT_CHECK(raw_get(txn, "cstats", "ch", 2, &v) == MDB_SUCCESS && v.mv_size == 9 &&
                   be64((char *)v.mv_data + 1) == 1);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    igwt_rm_tree(tmpdir);
}

/* Rewrites meta "schema" to v and, for v 1, drops the schema 2 indexes: what an older igw
 * left behind. */
static void
raw_downgrade(uint64_t v)
{
    static const char *const idx[] = {"ichan", "iroute", "rstats", "cstats", "attempts"};
    unsigned char rec[9] = {1};
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    MDB_val k = {6, (void *)(uintptr_t) "schema"};
    MDB_val val = {9, rec};

    for (int i = 0; i < 8; i++) {
        rec[1 + i] = (unsigned char)(v >> (56 - 8 * i));
    }
    IGWT_ASSERT(mdb_env_create(&env) == MDB_SUCCESS);
    IGWT_ASSERT(mdb_env_set_maxdbs(env, 16) == MDB_SUCCESS);
    IGWT_ASSERT(mdb_env_open(env, tmpdir, 0, 0600) == MDB_SUCCESS);
    IGWT_ASSERT(mdb_txn_begin(env, NULL, 0, &txn) == MDB_SUCCESS);
    IGWT_ASSERT(mdb_dbi_open(txn, "meta", 0, &dbi) == MDB_SUCCESS);
    IGWT_ASSERT(mdb_put(txn, dbi, &k, &val, 0) == MDB_SUCCESS);
    for (unsigned i = 0; v == 1 && i < 5; i++) {
        IGWT_ASSERT(mdb_dbi_open(txn, idx[i], 0, &dbi) == MDB_SUCCESS);
        IGWT_ASSERT(mdb_drop(txn, dbi, 1) == MDB_SUCCESS);
    }
    IGWT_ASSERT(mdb_txn_commit(txn) == MDB_SUCCESS);
    mdb_env_close(env);
}

/* A schema 1 queue (no indexes) is upgraded at open: listing, counters and attempts work on
 * what it held; a newer schema than this igw knows is refused with a clear error. */
static void
test_upgrade(void)
{
    igw_queue *q = lmdb_open_at(8 << 20, 0);
    struct igw_queue_route_stats rs[4];
    struct igw_queue_list_item it[8];
    struct igw_queue_list_page pg;
    struct igw_queue_filter f;
    struct igw_queue_claim c[4];
    char err[IGW_ERRBUF_SIZE] = "";
    uint64_t a = qc_put1(q, "r", NULL, "a");
    uint64_t b = qc_put1(q, "r", NULL, "b");
    unsigned n = 0;

    IGWT_ASSERT(qc_claim(q, igw_now_ms() + 1, c, 4) == 2);
    qc_fini_claims(c, 2);
    qc_done(q, a, "r", IGW_DELIVER_FAIL, 0);
    qc_done(q, b, "r", IGW_DELIVER_OK, 0);
    igw_queue_close(q);
    raw_downgrade(1);
    q = NULL;
    IGWT_OK(lmdb_open_opts(&q, tmpdir, 8 << 20, 0, err, sizeof(err)));
    memset(&f, 0, sizeof(f));
    f.state = IGW_DS_DEAD;
    IGWT_OK(igw_queue_list(q, &f, 0, 8, it, &pg));
    IGWT_CHECK(pg.n == 1 && it[0].id == a && it[0].state == IGW_DS_DEAD);
    f.channel = "ch";
    f.state = 0;
    IGWT_OK(igw_queue_list(q, &f, 0, 8, it, &pg));
    IGWT_CHECK(pg.n == 2 && it[0].id == b && it[1].id == a);
    IGWT_OK(igw_queue_route_stats(q, rs, 4, &n));
    IGWT_CHECK(n == 1 && rs[0].dead == 1 && rs[0].delivered == 1 && rs[0].pending == 0);
    igw_queue_close(q);
    raw_downgrade(99);
    q = NULL;
    IGWT_ERR(lmdb_open_opts(&q, tmpdir, 8 << 20, 0, err, sizeof(err)), IGW_EIO);
    IGWT_CHECK(q == NULL);
    igwt_rm_tree(tmpdir);
}

int
main(int argc, char **argv)
{
    static const struct igwt_case own[] = {
        {"idempotency_group", test_idempotency_group},
        {"map_full", test_map_full},
        {"reserve_size", test_reserve_size},
        {"full_recovers", test_full_recovers},
        {"group_commit", test_group_commit},
        {"stats_capacity", test_stats_capacity},
        {"open_invalid", test_open_invalid},
        {"disk_format", test_disk_format},
        {"upgrade", test_upgrade},
        {NULL, NULL},
    };
    return qc_main(&lmdb_backend, own, argc, argv);
}
