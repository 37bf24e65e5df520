/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writer thread and group commit.
 *
 * Callers append requests to q->head under q->mu. The writer takes up to max_batch of them as
 * soon as it is idle (no timer: requests that arrive during a commit form the next group),
 * applies them in one write transaction, commits (one fsync), then dispatches the events, hands
 * the submits to the completion thread (which runs their callbacks, in commit order, while the
 * writer already applies the next group) and wakes the blocking callers. Failure handling of a
 * group:
 *   1. MDB_MAP_FULL: abort, fail the submits with IGW_ENOSPC (q->full), redo the rest, so that
 *      completions and deletions still commit and the queue drains.
 *   2. any other error (or a second failure): abort, redo each request in its own transaction,
 *      so one bad request cannot fail its neighbours.
 * Durability per transaction: a group that stores or removes messages on a caller's behalf
 * (submit, purge, release) commits fully durable (fdatasync + O_DSYNC meta page). A group of
 * only claims, outcomes and sweeps commits with MDB_NOMETASYNC: one flush instead of two, and
 * LMDB keeps atomicity and consistency; a system crash may undo that last commit, which returns
 * in-flight deliveries to pending or makes a delivered one due again (a redelivery, which
 * at-least-once allows). The next durable commit flushes it anyway.
 */
#include <errno.h>
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "lmdb_int.h"

int
qbatch_init(struct qbatch *b, qlmdb *q)
{
    memset(b, 0, sizeof(*b));
    b->q = q;
    b->att_room = -1;
    igw_buf_init(&b->evstr, SIZE_MAX / 2);
    return IGW_OK;
}

void
qbatch_clear(struct qbatch *b)
{
    b->nev = 0;
    b->ndl = 0;
    b->att_room = -1;
    igw_buf_reset(&b->evstr);
    b->accepted = false;
    b->freed = false;
    b->refused = false;
    b->below = false;
    b->mark_known = false;
}

void
qbatch_fini(struct qbatch *b)
{
    IGW_FREE(b->ev);
    IGW_FREE(b->dl);
    b->ndl = 0;
    b->dlcap = 0;
    igw_buf_fini(&b->evstr);
    b->nev = 0;
    b->evcap = 0;
}

/* ---- one transaction --------------------------------------------------------------------- */

static int
apply_one(struct qbatch *b, struct qreq *r)
{
    qreq_reset(r);
    switch (r->kind) {
    case QREQ_SUBMIT:
        return qapply_submit(b, r);
    case QREQ_CLAIM:
        return qapply_claim(b, r);
    case QREQ_COMPLETE:
        return qapply_complete(b, r);
    case QREQ_RELEASE:
        return qapply_release(b, r);
    case QREQ_PURGE:
        return qapply_purge(b, r);
    case QREQ_SWEEP:
        return qapply_sweep(b, r);
    case QREQ_REPLAY:
        return qapply_replay(b, r);
    }
    return IGW_EINTERNAL;
}

static void
dispatch_events(qlmdb *q, struct qbatch *b)
{
    igw_queue_event_fn fn;
    void *arg;
    const char *s = b->evstr.ptr;

    pthread_mutex_lock(&q->mu);
    fn = q->listener;
    arg = q->listener_arg;
    pthread_mutex_unlock(&q->mu);
    for (size_t i = 0; fn != NULL && i < b->nev; i++) {
        const struct qev *e = &b->ev[i];
        struct igw_queue_event ev = {
            .kind = e->kind,
            .id = e->id,
            .channel = e->channel == QEV_NOSTR ? NULL : s + e->channel,
            .route = e->route == QEV_NOSTR ? NULL : s + e->route,
            .attempts = e->attempts,
            .next_due_ms = e->next_due_ms,
            .error = e->error == QEV_NOSTR ? NULL : s + e->error,
        };
        fn(arg, &ev);
    }
}

static void
commit_done(qlmdb *q, struct qbatch *b)
{
    q->next_id = b->next_id;
    q->counts = b->counts;
    pthread_mutex_lock(&q->mu);
    q->commits++;
    if (q->nometasync) {
        q->relaxed_commits++;
    }
    if (b->refused) {
        q->full = true;
    } else if (b->accepted || (b->freed && b->below)) {
        q->full = false;
    }
    pthread_mutex_unlock(&q->mu);
}

/* Whether a request's effect must survive a system crash once its caller has been told. */
static bool
needs_durable(const struct qreq *r)
{
    return r->kind == QREQ_SUBMIT || r->kind == QREQ_PURGE || r->kind == QREQ_RELEASE ||
           r->kind == QREQ_REPLAY;
}

/* Sets MDB_NOMETASYNC for a group without durable requests, clears it otherwise (between
 * transactions, on the writer thread: the only writer of the env flags). */
static void
choose_sync(qlmdb *q, struct qreq **reqs, size_t n)
{
    bool relaxed = q->sync_capable;

    for (size_t i = 0; relaxed && i < n; i++) {
        relaxed = !needs_durable(reqs[i]);
    }
    if (relaxed != q->nometasync && mdb_env_set_flags(q->env, MDB_NOMETASYNC, relaxed) == 0) {
        q->nometasync = relaxed;
    }
}

/* Applies reqs[0..n) in one transaction and commits; on failure nothing is kept. */
static int
txn_apply(qlmdb *q, struct qreq **reqs, size_t n)
{
    struct qbatch *b = &q->b;
    int rv = IGW_OK;
    int rc;

    if (n == 0) {
        return IGW_OK;
    }
    choose_sync(q, reqs, n);
    qbatch_clear(b);
    pthread_mutex_lock(&q->mu);
    b->events = q->listener != NULL; /* a listener set during the group sees the next one */
    b->was_full = q->full;
    pthread_mutex_unlock(&q->mu);
    b->now_ms = igw_now_ms();
    b->next_id = q->next_id;
    b->counts = q->counts;
    rc = mdb_txn_begin(q->env, NULL, 0, &b->txn);
    if (rc != MDB_SUCCESS) {
        b->txn = NULL;
        rv = qerr_map(rc, "write txn begin");
    }
    for (size_t i = 0; rv == IGW_OK && i < n; i++) {
        rv = apply_one(b, reqs[i]);
    }
    if (rv == IGW_OK && b->freed) {
        rv = qspace_below_mark(b, &b->below);
    }
    if (rv == IGW_OK) {
        rv = qmeta_store(b);
    }
    if (rv == IGW_OK) {
        rc = mdb_txn_commit(b->txn); /* frees the txn even on failure */
        b->txn = NULL;
        rv = rc == ENOSPC ? IGW_ENOSPC : qerr_map(rc, "commit");
    } else if (b->txn != NULL) {
        mdb_txn_abort(b->txn);
        b->txn = NULL;
    }
    if (rv != IGW_OK) {
        for (size_t i = 0; i < n; i++) {
            qreq_reset(reqs[i]);
        }
        return rv;
    }
    commit_done(q, b);
    qspace_preallocate(q, b->mark_known ? b->cap : 0); /* the capacity this txn measured */
    for (size_t i = 0; i < n; i++) {
        reqs[i]->finished = true;
    }
    dispatch_events(q, b);
    return IGW_OK;
}

/* Collects the unfinished requests of the group (submits only when with_submits). */
static size_t
eligible(qlmdb *q, struct qreq **group, size_t n, bool with_submits)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!group[i]->finished && (with_submits || group[i]->kind != QREQ_SUBMIT)) {
            q->welig[m++] = group[i];
        }
    }
    return m;
}

static void
fail_request(qlmdb *q, struct qreq *r, int rv)
{
    r->rv = rv;
    r->finished = true;
    if (rv == IGW_ENOSPC && r->kind == QREQ_SUBMIT) {
        pthread_mutex_lock(&q->mu);
        q->full = true;
        pthread_mutex_unlock(&q->mu);
    }
}

static void
run_group(qlmdb *q, struct qreq **group, size_t n)
{
    size_t m = eligible(q, group, n, true);
    int rv = txn_apply(q, q->welig, m);

    if (rv == IGW_ENOSPC) {
        for (size_t i = 0; i < m; i++) {
            if (q->welig[i]->kind == QREQ_SUBMIT) {
                fail_request(q, q->welig[i], IGW_ENOSPC);
            }
        }
        m = eligible(q, group, n, false);
        rv = txn_apply(q, q->welig, m);
    }
    if (rv != IGW_OK && m == 1) {
        fail_request(q, q->welig[0], rv);
    } else if (rv != IGW_OK) {
        IGW_WARN("queue: group of %zu requests failed (%s); applying them one by one", m,
                 igw_strerror(rv));
        m = eligible(q, group, n, true);
        for (size_t i = 0; i < m; i++) {
            struct qreq *r = q->welig[i];
            rv = txn_apply(q, &r, 1);
            if (rv != IGW_OK) {
                fail_request(q, r, rv);
            }
        }
    }
}

/* Hands the submits to the completion thread (in order), then wakes the blocking callers. */
static void
signal_group(qlmdb *q, struct qreq **group, size_t n)
{
    struct qreq *head = NULL;
    struct qreq *tail = NULL;

    for (size_t i = 0; i < n; i++) {
        struct qreq *r = group[i];
        if (r->kind == QREQ_SUBMIT) {
            r->next = NULL;
            if (tail == NULL) {
                head = r;
            } else {
                tail->next = r;
            }
            tail = r;
            group[i] = NULL;
        }
    }
    if (head != NULL) {
        pthread_mutex_lock(&q->cb_mu);
        if (q->cb_tail == NULL) {
            q->cb_head = head;
        } else {
            q->cb_tail->next = head;
        }
        q->cb_tail = tail;
        pthread_cond_signal(&q->cb_cv);
        pthread_mutex_unlock(&q->cb_mu);
    }
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < n; i++) {
        struct qreq *r = group[i];
        if (r != NULL) {
            void (*notify)(void *) = r->notify;
            void *arg = r->notify_arg;
            r->done = true; /* the caller may go on once mu is released: no access after */
            if (notify != NULL) {
                notify(arg); /* under mu, so the caller cannot be gone yet */
            }
        }
    }
    pthread_cond_broadcast(&q->done_cv);
    pthread_mutex_unlock(&q->mu);
}

/* The completion thread: runs each submit's callback and frees the request. Exits when stopped
 * and drained (qwriter_stop stops it after the writer, so every callback runs). */
static void *
callback_main(void *arg)
{
    qlmdb *q = arg;
    struct qreq *r;

    igw_thread_name("igw:complete");

    pthread_mutex_lock(&q->cb_mu);
    for (;;) {
        while (q->cb_head == NULL && !q->cb_stop) {
            pthread_cond_wait(&q->cb_cv, &q->cb_mu);
        }
        r = q->cb_head;
        if (r == NULL) {
            break;
        }
        q->cb_head = NULL;
        q->cb_tail = NULL;
        pthread_mutex_unlock(&q->cb_mu);
        while (r != NULL) {
            struct qreq *next = r->next;
            r->u.submit.cb(r->u.submit.arg, r->rv, r->u.submit.id, r->u.submit.duplicate);
            igw_free(r);
            r = next;
        }
        pthread_mutex_lock(&q->cb_mu);
    }
    pthread_mutex_unlock(&q->cb_mu);
    return NULL;
}

static void *
writer_main(void *arg)
{
    qlmdb *q = arg;
    size_t n;

    igw_thread_name("igw:writer");

    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->head == NULL && !q->closing) {
            pthread_cond_wait(&q->work_cv, &q->mu);
        }
        if (q->head == NULL) {
            break; /* closing and drained */
        }
        n = 0;
        while (q->head != NULL && n < q->max_batch) {
            q->wbatch[n++] = q->head;
            q->head = q->head->next;
        }
        if (q->head == NULL) {
            q->tail = NULL;
        }
        pthread_mutex_unlock(&q->mu);
        run_group(q, q->wbatch, n);
        signal_group(q, q->wbatch, n);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* ---- public side ------------------------------------------------------------------------- */

int
qenqueue(qlmdb *q, struct qreq *r)
{
    r->next = NULL;
    r->finished = false;
    r->done = false;
    r->rv = IGW_OK;
    pthread_mutex_lock(&q->mu);
    if (q->closing) {
        pthread_mutex_unlock(&q->mu);
        return IGW_ECLOSED;
    }
    if (q->tail == NULL) {
        q->head = r;
    } else {
        q->tail->next = r;
    }
    q->tail = r;
    pthread_cond_signal(&q->work_cv);
    pthread_mutex_unlock(&q->mu);
    return IGW_OK;
}

int
qcall(qlmdb *q, struct qreq *r)
{
    return qcall_n(q, &r, 1);
}

/* Appends r[0..n) to the request list; call with q->mu held. */
static void
append_locked(qlmdb *q, struct qreq **r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        r[i]->next = NULL;
        r[i]->finished = false;
        r[i]->done = false;
        r[i]->rv = IGW_OK;
        if (q->tail == NULL) {
            q->head = r[i];
        } else {
            q->tail->next = r[i];
        }
        q->tail = r[i];
    }
    pthread_cond_signal(&q->work_cv);
}

int
qenqueue_n(qlmdb *q, struct qreq **r, size_t n)
{
    pthread_mutex_lock(&q->mu);
    if (q->closing) {
        pthread_mutex_unlock(&q->mu);
        return IGW_ECLOSED;
    }
    append_locked(q, r, n);
    pthread_mutex_unlock(&q->mu);
    return IGW_OK;
}

int
qcall_n(qlmdb *q, struct qreq **r, size_t n)
{
    pthread_mutex_lock(&q->mu);
    if (q->closing) {
        pthread_mutex_unlock(&q->mu);
        return IGW_ECLOSED;
    }
    append_locked(q, r, n);
    for (size_t i = 0; i < n; i++) {
        while (!r[i]->done) {
            pthread_cond_wait(&q->done_cv, &q->mu);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return r[0]->rv;
}

int
qwriter_start(qlmdb *q)
{
    if (pthread_create(&q->cb_thread, NULL, callback_main, q) != 0) {
        return IGW_ENOMEM;
    }
    q->cb_started = true;
    if (pthread_create(&q->thread, NULL, writer_main, q) != 0) {
        return IGW_ENOMEM; /* qwriter_stop (via close or open's cleanup) stops the other */
    }
    q->thread_started = true;
    return IGW_OK;
}

void
qwriter_stop(qlmdb *q)
{
    pthread_mutex_lock(&q->mu);
    q->closing = true;
    pthread_cond_signal(&q->work_cv);
    pthread_mutex_unlock(&q->mu);
    if (q->thread_started) {
        pthread_join(q->thread, NULL);
        q->thread_started = false;
    }
    pthread_mutex_lock(&q->cb_mu);
    q->cb_stop = true;
    pthread_cond_signal(&q->cb_cv);
    pthread_mutex_unlock(&q->cb_mu);
    if (q->cb_started) {
        pthread_join(q->cb_thread, NULL);
        q->cb_started = false;
    }
}
