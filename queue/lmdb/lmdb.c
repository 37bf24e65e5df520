/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LMDB queue backend: open/close, the routes known to the claim filter, and the operations
 * table registered as "lmdb" (include/igw/queue_lmdb.h). Requests that write go to the writer
 * thread (claim.c, submit.c, replay.c, writer.c); reads run short read transactions on the
 * caller's thread (read.c; the env is opened with MDB_NOTLS because caller threads vary).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/log.h"
#include "igw/queue_lmdb.h"
#include "lmdb_int.h"

#define DEFAULT_MAP_SIZE (1ull << 30)
#define DEFAULT_MAX_BATCH 256u

static const char *const db_names[QDB_COUNT] = {"meta",   "msgs",   "payloads", "deliv", "due",
                                                "order",  "dead",   "idem",     "ichan", "iroute",
                                                "rstats", "cstats", "attempts"};

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
env_open(qlmdb *q, const struct igw_queue_lmdb_opts *opts, char *errbuf, size_t errlen)
{
    uint64_t map = opts->map_size == 0 ? DEFAULT_MAP_SIZE : opts->map_size;
    long pg = sysconf(_SC_PAGESIZE);
    unsigned flags = MDB_NOTLS | (opts->no_sync ? MDB_NOSYNC : 0);
    MDB_stat st;
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
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_stat(q->env, &st);
        q->psize = st.ms_psize;
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
open_txn(qlmdb *q, char *errbuf, size_t errlen)
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
queue_free(qlmdb *q)
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
known_has(const qlmdb *q, const char *route, size_t rlen)
{
    for (unsigned i = 0; i < q->nknown; i++) {
        if (q->known[i].len == rlen && memcmp(q->known[i].name, route, rlen) == 0) {
            return true;
        }
    }
    return false;
}

int
qknown_route_add(qlmdb *q, const char *route, size_t rlen)
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

static int due_routes(qlmdb *q, uint64_t now_ms, struct qquota **qt, unsigned *n);

/* Every route with a due entry at open (one scan; later ones are noted when scheduled). */
static int
known_routes_load(qlmdb *q)
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

static int
lmdb_open(void **out, const struct igw_queue_opts *gopts, char *errbuf, size_t errlen)
{
    const struct igw_queue_lmdb_opts *opts = gopts->backend_opts;
    qlmdb *q;
    int rv;

    if (opts == NULL || opts->path == NULL || opts->path[0] == '\0') {
        igw_errbuf_set(errbuf, errlen, "queue: no path");
        return IGW_EINVAL;
    }
    *out = NULL;
    q = IGW_NEW(qlmdb);
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
    q->retain_delivered_ms = gopts->retain_delivered_ms; /* the facade resolved the defaults */
    q->retain_idem_ms = gopts->retain_idempotency_ms;
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
        rv = qspace_full_at_open(q, &q->full);
    }
    if (rv == IGW_OK) {
        qspace_preallocate(q, 0);
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

static void
lmdb_close(void *be)
{
    qlmdb *q = be;

    qwriter_stop(q);
    IGW_DEBUG("queue: %llu commits, %llu without a metadata flush", (unsigned long long)q->commits,
              (unsigned long long)q->relaxed_commits);
    queue_free(q);
}

static void
lmdb_set_listener(void *be, igw_queue_event_fn fn, void *arg)
{
    qlmdb *q = be;

    pthread_mutex_lock(&q->mu);
    q->listener = fn;
    q->listener_arg = arg;
    pthread_mutex_unlock(&q->mu);
}

/* ---- due routes at open ------------------------------------------------------------------ */

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
due_routes(qlmdb *q, uint64_t now_ms, struct qquota **qt, unsigned *n)
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

/* ---- the operations ---------------------------------------------------------------------- */

const struct igw_queue_backend igw_queue_backend_lmdb = {
    .name = "lmdb",
    .description = "LMDB in a local directory, one writer thread with group commit",
    .open = lmdb_open,
    .close = lmdb_close,
    .submit = qlmdb_submit,
    .put = qlmdb_put,
    .claim = qlmdb_claim,
    .complete = qlmdb_complete,
    .round_start = qlmdb_round_start,
    .round_done = qlmdb_round_done,
    .round_wait = qlmdb_round_wait,
    .next_due = qlmdb_next_due,
    .stats = qlmdb_stats,
    .deliveries = qlmdb_deliveries,
    .dead_get = qlmdb_dead_get,
    .release = qlmdb_release,
    .retry_now = qlmdb_retry_now,
    .list = qlmdb_list,
    .route_stats = qlmdb_route_stats,
    .channel_stats = qlmdb_channel_stats,
    .attempts = qlmdb_attempts,
    .payload_get = qlmdb_payload_get,
    .purge = qlmdb_purge,
    .sweep = qlmdb_sweep,
    .message_get = qlmdb_message_get,
    .replay = qlmdb_replay,
    .set_listener = lmdb_set_listener,
};
