/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Public API of the LMDB queue: open/close, request wrappers that hand work to the writer
 * thread (writer.c), and the read-only functions, which use short read transactions on the
 * caller's thread (the env is opened with MDB_NOTLS because caller threads vary).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/log.h"
#include "lmdb_int.h"
#include "../queue_round.h"

#define DEFAULT_MAP_SIZE (1ull << 30)
#define DEFAULT_MAX_BATCH 256u
#define DEFAULT_RETAIN_DELIVERED_MS 3600000ull
#define DEFAULT_RETAIN_IDEM_MS 86400000ull

static const char *const db_names[QDB_COUNT] = {"meta", "msgs",  "payloads", "deliv",
                                                "due",  "order", "dead",     "idem"};

/* ---- open / close ------------------------------------------------------------------------ */

/* mkdir -p with mode 0700 for the missing components */
static int
make_dir(const char *path, char *errbuf, size_t errlen)
{
    char *p = igw_strdup(path);
    struct stat st;
    int rv = IGW_OK;

    if (p == NULL) {
        return IGW_ENOMEM;
    }
    for (char *c = p + 1; rv == IGW_OK; c++) {
        char save = *c;
        if (save != '/' && save != '\0') {
            continue;
        }
        *c = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            igw_errbuf_set(errbuf, errlen, "queue: mkdir %s: %s", p, strerror(errno));
            rv = IGW_EIO;
        }
        *c = save;
        if (save == '\0') {
            break;
        }
    }
    if (rv == IGW_OK && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))) {
        igw_errbuf_set(errbuf, errlen, "queue: %s is not a directory", path);
        rv = IGW_EIO;
    }
    igw_free(p);
    return rv;
}

static int
env_open(igw_queue *q, const struct igw_queue_opts *opts, char *errbuf, size_t errlen)
{
    uint64_t map = opts->map_size == 0 ? DEFAULT_MAP_SIZE : opts->map_size;
    long pg = sysconf(_SC_PAGESIZE);
    unsigned flags = MDB_NOTLS | (opts->no_sync ? MDB_NOSYNC : 0);
    int dead = 0;
    int rc;

    q->sync_capable = !opts->no_sync;
    if (pg > 0 && map % (uint64_t)pg != 0) {
        map += (uint64_t)pg - map % (uint64_t)pg;
    }
    rc = mdb_env_create(&q->env);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxdbs(q->env, QDB_COUNT + 8);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_mapsize(q->env, (size_t)map);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_open(q->env, q->path, flags, 0600);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_reader_check(q->env, &dead); /* slots of a killed process */
    }
    if (rc != MDB_SUCCESS) {
        igw_errbuf_set(errbuf, errlen, "queue: cannot open LMDB env %s: %s", q->path,
                       mdb_strerror(rc));
        return rc == ENOMEM ? IGW_ENOMEM : IGW_EIO;
    }
    return IGW_OK;
}

/* Opens the named databases, loads meta, recovers in-flight deliveries; one committed txn. */
static int
open_txn(igw_queue *q, char *errbuf, size_t errlen)
{
    struct qbatch *b = &q->b;
    int rc = mdb_txn_begin(q->env, NULL, 0, &b->txn);
    int rv = IGW_OK;

    for (int i = 0; rc == MDB_SUCCESS && i < QDB_COUNT; i++) {
        rc = mdb_dbi_open(b->txn, db_names[i], MDB_CREATE, &q->dbi[i]);
    }
    if (rc != MDB_SUCCESS) {
        rv = qerr_map(rc, "open databases");
    }
    b->now_ms = igw_now_ms();
    if (rv == IGW_OK) {
        rv = qmeta_load(b);
    }
    if (rv == IGW_OK) {
        rv = qrecover_inflight(b);
    }
    if (rv == IGW_OK) {
        rv = qmeta_store(b);
    }
    if (rv == IGW_OK) {
        rv = qerr_map(mdb_txn_commit(b->txn), "open commit");
    } else if (b->txn != NULL) {
        mdb_txn_abort(b->txn);
    }
    b->txn = NULL;
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "queue: cannot initialise %s: %s", q->path,
                       igw_strerror(rv));
        return rv;
    }
    q->next_id = b->next_id;
    q->counts = b->counts;
    return IGW_OK;
}

static void
queue_free(igw_queue *q)
{
    if (q->env != NULL) {
        mdb_env_close(q->env);
    }
    pthread_cond_destroy(&q->done_cv);
    pthread_cond_destroy(&q->work_cv);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cb_cv);
    pthread_mutex_destroy(&q->cb_mu);
    qbatch_fini(&q->b);
    igw_free(q->wbatch);
    igw_free(q->welig);
    igw_free(q->known);
    igw_free(q->path);
    igw_free(q);
}

/* ---- known routes ------------------------------------------------------------------------ */

static bool
known_has(const igw_queue *q, const char *route, size_t rlen)
{
    for (unsigned i = 0; i < q->nknown; i++) {
        if (q->known[i].len == rlen && memcmp(q->known[i].name, route, rlen) == 0) {
            return true;
        }
    }
    return false;
}

int
qknown_route_add(igw_queue *q, const char *route, size_t rlen)
{
    struct qroute_name *n;
    int rv = IGW_OK;

    if (rlen == 0 || rlen > IGW_QUEUE_NAME_MAX || known_has(q, route, rlen)) {
        return IGW_OK; /* only the writer (or open) adds: reading without the lock is safe */
    }
    pthread_mutex_lock(&q->mu);
    if (q->nknown == q->known_cap) {
        unsigned cap = q->known_cap == 0 ? 8 : q->known_cap * 2;
        n = igw_realloc(q->known, cap * sizeof(*n));
        if (n == NULL) {
            rv = IGW_ENOMEM;
            goto out;
        }
        q->known = n;
        q->known_cap = cap;
    }
    n = &q->known[q->nknown];
    memcpy(n->name, route, rlen);
    n->name[rlen] = '\0';
    n->len = rlen;
    q->nknown++;
out:
    pthread_mutex_unlock(&q->mu);
    return rv;
}

static int due_routes(igw_queue *q, uint64_t now_ms, struct qquota **qt, unsigned *n);

/* Every route with a due entry at open (one scan; later ones are noted when scheduled). */
static int
known_routes_load(igw_queue *q)
{
    struct qquota *qt = NULL;
    unsigned n = 0;
    int rv = due_routes(q, UINT64_MAX, &qt, &n);

    for (unsigned i = 0; rv == IGW_OK && i < n; i++) {
        rv = qknown_route_add(q, qt[i].route, strlen(qt[i].route));
    }
    igw_free(qt);
    return rv;
}

int
igw_queue_open(igw_queue **out, const struct igw_queue_opts *opts, char *errbuf, size_t errlen)
{
    igw_queue *q;
    int rv;

    if (out == NULL || opts == NULL || opts->path == NULL || opts->path[0] == '\0') {
        igw_errbuf_set(errbuf, errlen, "queue: no path");
        return IGW_EINVAL;
    }
    *out = NULL;
    q = IGW_NEW(igw_queue);
    if (q == NULL) {
        return IGW_ENOMEM;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work_cv, NULL);
    pthread_cond_init(&q->done_cv, NULL);
    pthread_mutex_init(&q->cb_mu, NULL);
    pthread_cond_init(&q->cb_cv, NULL);
    qbatch_init(&q->b, q);
    q->max_batch = opts->max_batch == 0 ? DEFAULT_MAX_BATCH : opts->max_batch;
    q->retain_delivered_ms =
        opts->retain_delivered_ms == 0 ? DEFAULT_RETAIN_DELIVERED_MS : opts->retain_delivered_ms;
    q->retain_idem_ms =
        opts->retain_idempotency_ms == 0 ? DEFAULT_RETAIN_IDEM_MS : opts->retain_idempotency_ms;
    q->path = igw_strdup(opts->path);
    q->wbatch = igw_calloc(q->max_batch, sizeof(*q->wbatch));
    q->welig = igw_calloc(q->max_batch, sizeof(*q->welig));
    rv = q->path == NULL || q->wbatch == NULL || q->welig == NULL ? IGW_ENOMEM : IGW_OK;
    if (rv == IGW_OK) {
        rv = make_dir(q->path, errbuf, errlen);
    }
    if (rv == IGW_OK) {
        rv = env_open(q, opts, errbuf, errlen);
    }
    if (rv == IGW_OK) {
        rv = open_txn(q, errbuf, errlen);
    }
    if (rv == IGW_OK) {
        rv = known_routes_load(q);
    }
    if (rv == IGW_OK) {
        rv = qwriter_start(q);
    }
    if (rv != IGW_OK) {
        goto fail;
    }
    *out = q;
    return IGW_OK;
fail:
    qwriter_stop(q); /* threads that did start */
    queue_free(q);
    return rv;
}

void
igw_queue_close(igw_queue *q)
{
    if (q == NULL) {
        return;
    }
    qwriter_stop(q);
    IGW_DEBUG("queue: %llu commits, %llu without a metadata flush", (unsigned long long)q->commits,
              (unsigned long long)q->relaxed_commits);
    queue_free(q);
}

void
igw_queue_set_listener(igw_queue *q, igw_queue_event_fn fn, void *arg)
{
    pthread_mutex_lock(&q->mu);
    q->listener = fn;
    q->listener_arg = arg;
    pthread_mutex_unlock(&q->mu);
}

/* ---- blocking requests ------------------------------------------------------------------- */

static bool
name_ok(const char *s)
{
    size_t n = s == NULL ? 0 : strnlen(s, IGW_QUEUE_NAME_MAX + 1);
    return n >= 1 && n <= IGW_QUEUE_NAME_MAX;
}

static bool
is_closing(igw_queue *q)
{
    bool c;
    pthread_mutex_lock(&q->mu);
    c = q->closing;
    pthread_mutex_unlock(&q->mu);
    return c;
}

/* Adds route to the set qt[0..*n) unless present. */
static int
route_set_add(struct qquota **qt, unsigned *n, unsigned *cap, const char *route, size_t rlen)
{
    struct qquota *nq;

    for (unsigned i = 0; i < *n; i++) {
        if (strlen((*qt)[i].route) == rlen && memcmp((*qt)[i].route, route, rlen) == 0) {
            return IGW_OK;
        }
    }
    if (*n == *cap) {
        nq = igw_realloc(*qt, (*cap == 0 ? 8 : *cap * 2) * sizeof(*nq));
        if (nq == NULL) {
            return IGW_ENOMEM;
        }
        *qt = nq;
        *cap = *cap == 0 ? 8 : *cap * 2;
    }
    memset(&(*qt)[*n], 0, sizeof(**qt));
    memcpy((*qt)[*n].route, route, rlen);
    (*n)++;
    return IGW_OK;
}

/* Collects the distinct routes with deliveries due at now_ms (short read txn). */
static int
due_routes(igw_queue *q, uint64_t now_ms, struct qquota **qt, unsigned *n)
{
    unsigned cap = 0;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val val;
    int rv = IGW_OK;
    int rc;

    rc = mdb_txn_begin(q->env, NULL, MDB_RDONLY, &txn);
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_open(txn, q->dbi[QDB_DUE], &cur);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    }
    while (rc == MDB_SUCCESS && rv == IGW_OK && key.mv_size >= 8 &&
           qget_be64(key.mv_data) <= now_ms) {
        if (key.mv_size > 16 && key.mv_size <= 16 + IGW_QUEUE_NAME_MAX) {
            rv = route_set_add(qt, n, &cap, (const char *)key.mv_data + 16, key.mv_size - 16);
        }
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    if (rv == IGW_OK && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        rv = qerr_map(rc, "claim read");
    }
    return rv;
}

/* Copies the known route names into a new quota table (caller's thread). Cheaper than scanning
 * the due table, whose size is the backlog: a route with nothing due just claims nothing. */
static int
known_routes_copy(igw_queue *q, struct qquota **out, unsigned *n)
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
claim_quota(igw_queue *q, unsigned max, igw_queue_route_filter_fn filter, void *arg,
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
claim_prepare(igw_queue *q, struct qreq *r, const struct igw_queue_round *rd, bool after_outcomes,
              bool *skip)
{
    int rv;

    memset(r, 0, sizeof(*r));
    *skip = true;
    if (rd->max == 0 || (!after_outcomes && igw_queue_next_due(q) > rd->now_ms)) {
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
igw_queue_claim(igw_queue *q, uint64_t now_ms, unsigned max, igw_queue_route_filter_fn filter,
                void *arg, struct igw_queue_claim *out, unsigned *n)
{
    struct igw_queue_round rd;
    struct qreq r;
    bool skip = true;
    int rv;

    if (n != NULL) {
        *n = 0;
    }
    if (q == NULL || n == NULL || (out == NULL && max > 0)) {
        return IGW_EINVAL;
    }
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

void
igw_queue_claim_fini(struct igw_queue_claim *c)
{
    if (c == NULL) {
        return;
    }
    IGW_FREE(c->content_type);
    igw_buf_fini(&c->payload);
    igw_buf_fini(&c->meta);
}

static int
outcomes_check(const struct igw_queue_outcome *o, unsigned n)
{
    if (o == NULL && n > 0) {
        return IGW_EINVAL;
    }
    for (unsigned i = 0; i < n; i++) {
        if (o[i].route == NULL) {
            return IGW_EINVAL;
        }
    }
    return IGW_OK;
}

int
igw_queue_complete(igw_queue *q, const struct igw_queue_outcome *o, unsigned n)
{
    struct qreq r;

    if (q == NULL || outcomes_check(o, n) != IGW_OK) {
        return IGW_EINVAL;
    }
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
round_prepare(igw_queue *q, struct igw_queue_round *rd, struct qround **out)
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
igw_queue_round_start(igw_queue *q, struct igw_queue_round *rd, void (*notify)(void *arg),
                      void *notify_arg)
{
    struct qround *qr = NULL;
    int rv;

    if (q == NULL || rd == NULL || outcomes_check(rd->outcomes, rd->noutcomes) != IGW_OK ||
        (rd->out == NULL && rd->max > 0)) {
        return IGW_EINVAL;
    }
    rd->complete_rv = IGW_OK;
    rd->claim_rv = IGW_OK;
    rd->n = 0;
    rd->priv = NULL;
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
igw_queue_round_done(igw_queue *q, struct igw_queue_round *rd)
{
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
igw_queue_round_wait(igw_queue *q, struct igw_queue_round *rd)
{
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

int
igw_queue_round(igw_queue *q, struct igw_queue_round *rd)
{
    int rv = igw_queue_round_start(q, rd, NULL, NULL);

    if (rv == IGW_OK) {
        igw_queue_round_wait(q, rd);
    }
    return rv;
}

int
igw_queue_release(igw_queue *q, uint64_t id, const char *route)
{
    struct qreq r;

    if (q == NULL || (route != NULL && !name_ok(route))) {
        return route != NULL ? IGW_ENOENT : IGW_EINVAL;
    }
    memset(&r, 0, sizeof(r));
    r.kind = QREQ_RELEASE;
    r.u.release.id = id;
    r.u.release.route = route;
    return qcall(q, &r);
}

int
igw_queue_purge(igw_queue *q, uint64_t id)
{
    struct qreq r;

    if (q == NULL) {
        return IGW_EINVAL;
    }
    memset(&r, 0, sizeof(r));
    r.kind = QREQ_PURGE;
    r.u.purge.id = id;
    return qcall(q, &r);
}

int
igw_queue_sweep(igw_queue *q, uint64_t now_ms, unsigned limit, unsigned *removed)
{
    struct qreq r;
    int rv;

    if (removed != NULL) {
        *removed = 0;
    }
    if (q == NULL) {
        return IGW_EINVAL;
    }
    if (limit == 0) {
        return IGW_OK;
    }
    memset(&r, 0, sizeof(r));
    r.kind = QREQ_SWEEP;
    r.u.sweep.now_ms = now_ms;
    r.u.sweep.limit = limit;
    rv = qcall(q, &r);
    if (removed != NULL) {
        *removed = r.u.sweep.removed;
    }
    return rv;
}

/* ---- reads ------------------------------------------------------------------------------- */

static int
read_begin(igw_queue *q, MDB_txn **txn)
{
    int rc = mdb_txn_begin(q->env, NULL, MDB_RDONLY, txn);
    if (rc != MDB_SUCCESS) {
        *txn = NULL;
    }
    return qerr_map(rc, "read txn begin");
}

int
igw_queue_stats(igw_queue *q, struct igw_queue_stats *s)
{
    MDB_txn *txn = NULL;
    MDB_envinfo info;
    MDB_stat st;
    struct qcounts c;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rv;

    memset(s, 0, sizeof(*s));
    memset(&c, 0, sizeof(c));
    rv = read_begin(q, &txn);
    if (rv == IGW_OK) {
        qkey_str(&k, "counts");
        key.mv_size = k.len;
        key.mv_data = k.b;
        rv = qerr_map(mdb_get(txn, q->dbi[QDB_META], &key, &v), "stats");
        rv = rv == IGW_OK ? qrec_counts_decode(&v, &c) : rv == IGW_ENOENT ? IGW_OK : rv;
        mdb_txn_abort(txn);
    }
    if (rv == IGW_OK) {
        rv = qerr_map(mdb_env_info(q->env, &info), "env info");
    }
    if (rv == IGW_OK) {
        rv = qerr_map(mdb_env_stat(q->env, &st), "env stat");
    }
    if (rv != IGW_OK) {
        return IGW_EIO;
    }
    s->messages = c.messages;
    s->pending = c.pending;
    s->inflight = c.inflight;
    s->delivered = c.delivered;
    s->dead = c.dead;
    s->map_size = info.me_mapsize;
    s->map_used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    pthread_mutex_lock(&q->mu);
    s->full = q->full;
    s->commits = q->commits;
    pthread_mutex_unlock(&q->mu);
    return IGW_OK;
}

static void
info_fill(struct igw_queue_delivery_info *o, const MDB_val *key, const struct qdeliv_rec *d)
{
    size_t rlen = key->mv_size - 8;
    memset(o, 0, sizeof(*o));
    memcpy(o->route, (const char *)key->mv_data + 8, rlen);
    o->route[rlen] = '\0';
    o->state = (enum igw_delivery_state)d->state;
    o->attempts = d->attempts;
    o->next_due_ms = d->next_due_ms;
    o->last_attempt_ms = d->last_attempt_ms;
    o->last_status = d->last_status;
    memcpy(o->last_error, d->error, d->error_len + 1);
}

int
igw_queue_deliveries(igw_queue *q, uint64_t id, struct igw_queue_delivery_info *out, unsigned max,
                     unsigned *n)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    struct qdeliv_rec d;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rv;
    int rc;

    *n = 0;
    rv = read_begin(q, &txn);
    if (rv != IGW_OK) {
        return rv;
    }
    qkey_id(&k, id);
    key.mv_size = k.len;
    key.mv_data = k.b;
    rc = mdb_get(txn, q->dbi[QDB_MSGS], &key, &v);
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_open(txn, q->dbi[QDB_DELIV], &cur);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_get(cur, &key, &v, MDB_SET_RANGE);
    }
    while (rc == MDB_SUCCESS && *n < max && key.mv_size > 8 &&
           key.mv_size <= 8 + IGW_QUEUE_NAME_MAX && qget_be64(key.mv_data) == id) {
        if (qrec_deliv_decode(&v, &d) == IGW_OK) {
            info_fill(&out[(*n)++], &key, &d);
        }
        rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    if (rc == MDB_NOTFOUND && cur != NULL) {
        rc = MDB_SUCCESS; /* end of the deliveries */
    }
    return qerr_map(rc, "deliveries");
}

static int
dead_fill(struct igw_queue_dead_info *out, const MDB_val *v)
{
    struct qdead_rec dr;
    size_t n;
    int rv = qrec_dead_decode(v, &dr);

    if (rv != IGW_OK) {
        return rv;
    }
    out->dead_ms = dr.dead_ms;
    out->status = dr.status;
    n = dr.error.len < sizeof(out->error) ? dr.error.len : sizeof(out->error) - 1;
    if (n > 0) {
        memcpy(out->error, dr.error.p, n);
    }
    out->error[n] = '\0';
    igw_buf_init(&out->response, dr.response.len);
    return igw_buf_append(&out->response, dr.response.p, dr.response.len);
}

int
igw_queue_dead_get(igw_queue *q, uint64_t id, const char *route, struct igw_queue_dead_info *out)
{
    MDB_txn *txn = NULL;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rv;

    memset(out, 0, sizeof(*out));
    igw_buf_init(&out->response, 0);
    if (!name_ok(route)) {
        return IGW_ENOENT;
    }
    rv = read_begin(q, &txn);
    if (rv != IGW_OK) {
        return rv;
    }
    qkey_id_route(&k, id, route, strlen(route));
    key.mv_size = k.len;
    key.mv_data = k.b;
    rv = qerr_map(mdb_get(txn, q->dbi[QDB_DEAD], &key, &v), "dead get");
    if (rv == IGW_OK) {
        rv = dead_fill(out, &v);
    }
    mdb_txn_abort(txn);
    if (rv != IGW_OK) {
        igw_queue_dead_info_fini(out);
    }
    return rv;
}

void
igw_queue_dead_info_fini(struct igw_queue_dead_info *d)
{
    if (d != NULL) {
        igw_buf_fini(&d->response);
    }
}

uint64_t
igw_queue_next_due(igw_queue *q)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val v;
    uint64_t due = UINT64_MAX;
    int rc;

    if (read_begin(q, &txn) != IGW_OK) {
        return UINT64_MAX;
    }
    rc = mdb_cursor_open(txn, q->dbi[QDB_DUE], &cur);
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_get(cur, &key, &v, MDB_FIRST);
        if (rc == MDB_SUCCESS && key.mv_size >= 8) {
            due = qget_be64(key.mv_data);
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return due;
}

/* ---- ids --------------------------------------------------------------------------------- */

void
igw_queue_id_format(uint64_t id, char out[IGW_QUEUE_ID_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[id & 0xFu];
        id >>= 4;
    }
    out[16] = '\0';
}

int
igw_queue_id_parse(const char *s, uint64_t *id)
{
    uint64_t v = 0;

    if (s == NULL || strlen(s) != 16) {
        return IGW_EINVAL;
    }
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') {
            d = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (unsigned)(c - 'A' + 10);
        } else {
            return IGW_EINVAL;
        }
        v = (v << 4) | d;
    }
    *id = v;
    return IGW_OK;
}
