/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LMDB backend's requests that go through the writer thread, apart from submit (submit.c)
 * and replay (replay.c): claim (with the route filter asked on the caller's thread), complete,
 * the asynchronous round (complete + claim in one group), release, purge and sweep. The facade
 * (queue/queue.c) has checked the arguments.
 */
#include <string.h>

#include "igw/common.h"
#include "lmdb_int.h"

static bool
is_closing(qlmdb *q)
{
    bool c;
    pthread_mutex_lock(&q->mu);
    c = q->closing;
    pthread_mutex_unlock(&q->mu);
    return c;
}

/* Copies the known route names into a new quota table (caller's thread). Cheaper than scanning
 * the due table, whose size is the backlog: a route with nothing due just claims nothing. */
static int
known_routes_copy(qlmdb *q, struct qquota **out, unsigned *n)
{
    struct qquota *qt;

    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&q->mu);
    qt = igw_calloc(q->nknown == 0 ? 1 : q->nknown, sizeof(*qt));
    for (unsigned i = 0; qt != NULL && i < q->nknown; i++) {
        memcpy(qt[i].route, q->known[i].name, q->known[i].len + 1);
    }
    *n = qt != NULL ? q->nknown : 0;
    pthread_mutex_unlock(&q->mu);
    *out = qt;
    return qt == NULL ? IGW_ENOMEM : IGW_OK;
}

/* Asks the filter (caller's thread, outside any txn) about every known route; keeps the routes
 * it takes, with their quotas capped at max. */
static int
claim_quota(qlmdb *q, unsigned max, igw_queue_route_filter_fn filter, void *arg,
            struct qquota **out, unsigned *nout)
{
    struct qquota *qt = NULL;
    unsigned n = 0;
    unsigned kept = 0;
    int rv = known_routes_copy(q, &qt, &n);

    if (rv != IGW_OK) {
        return rv;
    }
    for (unsigned i = 0; i < n; i++) {
        unsigned want = filter(arg, qt[i].route);
        if (want > 0) {
            qt[kept] = qt[i];
            qt[kept].want = want > max ? max : want;
            qt[kept].left = qt[kept].want;
            kept++;
        }
    }
    *out = qt;
    *nout = kept;
    return IGW_OK;
}

/* Prepares a claim request; *skip when there is nothing to ask the writer for. after_outcomes:
 * outcomes go first in the same group and may make deliveries due (a promoted follower), so
 * the "nothing due now" shortcut does not apply. */
static int
claim_prepare(qlmdb *q, struct qreq *r, const struct igw_queue_round *rd, bool after_outcomes,
              bool *skip)
{
    int rv;

    memset(r, 0, sizeof(*r));
    *skip = true;
    if (rd->max == 0 || (!after_outcomes && qlmdb_next_due(q) > rd->now_ms)) {
        return IGW_OK; /* nothing due: no trip to the writer */
    }
    r->kind = QREQ_CLAIM;
    r->u.claim.now_ms = rd->now_ms;
    r->u.claim.max = rd->max;
    r->u.claim.out = rd->out;
    r->u.claim.all_routes = rd->filter == NULL;
    if (rd->filter != NULL) {
        rv = claim_quota(q, rd->max, rd->filter, rd->arg, &r->u.claim.quota, &r->u.claim.nquota);
        if (rv != IGW_OK || r->u.claim.nquota == 0) {
            IGW_FREE(r->u.claim.quota);
            return rv;
        }
    }
    *skip = false;
    return IGW_OK;
}

int
qlmdb_claim(void *be, uint64_t now_ms, unsigned max, igw_queue_route_filter_fn filter, void *arg,
            struct igw_queue_claim *out, unsigned *n)
{
    qlmdb *q = be;
    struct igw_queue_round rd;
    struct qreq r;
    bool skip = true;
    int rv;

    if (is_closing(q)) {
        return IGW_ECLOSED;
    }
    memset(&rd, 0, sizeof(rd));
    rd.now_ms = now_ms;
    rd.max = max;
    rd.filter = filter;
    rd.arg = arg;
    rd.out = out;
    rv = claim_prepare(q, &r, &rd, false, &skip);
    if (rv != IGW_OK || skip) {
        return rv;
    }
    rv = qcall(q, &r);
    *n = r.u.claim.n;
    igw_free(r.u.claim.quota);
    return rv;
}

int
qlmdb_complete(void *be, const struct igw_queue_outcome *o, unsigned n)
{
    qlmdb *q = be;
    struct qreq r;

    if (n == 0) {
        return is_closing(q) ? IGW_ECLOSED : IGW_OK;
    }
    memset(&r, 0, sizeof(r));
    r.kind = QREQ_COMPLETE;
    r.u.complete.o = o;
    r.u.complete.n = n;
    return qcall(q, &r);
}

/* A round in flight: its two requests (complete first, then claim). */
struct qround {
    struct qreq c;
    struct qreq cl;
    struct qreq *reqs[2];
    size_t n;
};

static void
round_closed(struct igw_queue_round *rd)
{
    rd->complete_rv = rd->noutcomes > 0 ? IGW_ECLOSED : IGW_OK;
    rd->claim_rv = rd->max > 0 ? IGW_ECLOSED : IGW_OK;
}

/* Builds the requests of rd; *qr NULL when there is nothing to send. */
static int
round_prepare(qlmdb *q, struct igw_queue_round *rd, struct qround **out)
{
    struct qround *qr = IGW_NEW(struct qround);
    bool skip = true;
    int rv;

    *out = NULL;
    if (qr == NULL) {
        return IGW_ENOMEM;
    }
    qr->c.kind = QREQ_COMPLETE;
    qr->c.u.complete.o = rd->outcomes;
    qr->c.u.complete.n = rd->noutcomes;
    rv = claim_prepare(q, &qr->cl, rd, rd->noutcomes > 0, &skip);
    if (rv != IGW_OK) {
        rd->claim_rv = rv;
        skip = true;
    }
    if (rd->noutcomes > 0) {
        qr->reqs[qr->n++] = &qr->c;
    }
    if (!skip) {
        qr->reqs[qr->n++] = &qr->cl;
    }
    if (qr->n == 0) {
        igw_free(qr);
        return IGW_OK;
    }
    *out = qr;
    return IGW_OK;
}

/* Copies the results of a finished round into rd and frees it. */
static void
round_collect(struct igw_queue_round *rd)
{
    struct qround *qr = rd->priv;

    rd->priv = NULL;
    if (qr == NULL) {
        return;
    }
    if (rd->noutcomes > 0) {
        rd->complete_rv = qr->c.rv;
    }
    if (qr->cl.kind == QREQ_CLAIM) {
        rd->claim_rv = qr->cl.rv;
        rd->n = qr->cl.u.claim.n;
        igw_free(qr->cl.u.claim.quota);
    }
    igw_free(qr);
}

int
qlmdb_round_start(void *be, struct igw_queue_round *rd, void (*notify)(void *arg), void *notify_arg)
{
    qlmdb *q = be;
    struct qround *qr = NULL;
    int rv;

    if (is_closing(q)) {
        round_closed(rd);
        return IGW_OK;
    }
    rv = round_prepare(q, rd, &qr);
    if (rv != IGW_OK || qr == NULL) {
        rd->complete_rv = rv != IGW_OK && rd->noutcomes > 0 ? rv : rd->complete_rv;
        return IGW_OK;
    }
    qr->reqs[qr->n - 1]->notify = notify; /* the last one finishes last */
    qr->reqs[qr->n - 1]->notify_arg = notify_arg;
    if (qenqueue_n(q, qr->reqs, qr->n) != IGW_OK) {
        igw_free(qr->cl.u.claim.quota);
        igw_free(qr);
        round_closed(rd);
        return IGW_OK;
    }
    rd->priv = qr;
    return IGW_OK;
}

bool
qlmdb_round_done(void *be, struct igw_queue_round *rd)
{
    qlmdb *q = be;
    struct qround *qr = rd->priv;
    bool done = true;

    if (qr != NULL) {
        pthread_mutex_lock(&q->mu);
        done = qr->reqs[qr->n - 1]->done;
        pthread_mutex_unlock(&q->mu);
    }
    if (done) {
        round_collect(rd);
    }
    return done;
}

void
qlmdb_round_wait(void *be, struct igw_queue_round *rd)
{
    qlmdb *q = be;
    struct qround *qr = rd->priv;

    if (qr != NULL) {
        pthread_mutex_lock(&q->mu);
        while (!qr->reqs[qr->n - 1]->done) {
            pthread_cond_wait(&q->done_cv, &q->mu);
        }
        pthread_mutex_unlock(&q->mu);
    }
    round_collect(rd);
}

static int
release_call(qlmdb *q, uint64_t id, const char *route, bool retry_now, unsigned *changed)
{
    struct qreq r;
    int rv;

    memset(&r, 0, sizeof(r));
    r.kind = QREQ_RELEASE;
    r.u.release.id = id;
    r.u.release.route = route;
    r.u.release.retry_now = retry_now;
    rv = qcall(q, &r);
    *changed = rv == IGW_OK ? r.u.release.changed : 0;
    return rv;
}

int
qlmdb_release(void *be, uint64_t id, const char *route, unsigned *released)
{
    return release_call(be, id, route, false, released);
}

int
qlmdb_retry_now(void *be, uint64_t id, const char *route, unsigned *changed)
{
    return release_call(be, id, route, true, changed);
}

int
qlmdb_purge(void *be, uint64_t id)
{
    qlmdb *q = be;
    struct qreq r;

    memset(&r, 0, sizeof(r));
    r.kind = QREQ_PURGE;
    r.u.purge.id = id;
    return qcall(q, &r);
}

int
qlmdb_sweep(void *be, uint64_t now_ms, unsigned limit, unsigned *removed)
{
    qlmdb *q = be;
    struct qreq r;
    int rv;

    /* A large removal in a nearly full map needs free pages for every tree it rewrites (more
     * trees since the admin indexes): when it does not fit, the same sweep in smaller
     * transactions does, since each one frees pages for the next. */
    for (;;) {
        memset(&r, 0, sizeof(r));
        r.kind = QREQ_SWEEP;
        r.u.sweep.now_ms = now_ms;
        r.u.sweep.limit = limit;
        rv = qcall(q, &r);
        *removed = r.u.sweep.removed;
        if (rv != IGW_ENOSPC || limit <= 16) {
            return rv;
        }
        limit /= 4;
    }
}
