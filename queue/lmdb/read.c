/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LMDB backend's reads: stats, the deliveries of a message, a dead letter and the next due
 * time, each in one short read transaction on the caller's thread, values copied out before it
 * ends (message_get is in replay.c). They never wait for the writer.
 */
#include <string.h>

#include "igw/common.h"
#include "lmdb_int.h"

static int
read_begin(qlmdb *q, MDB_txn **txn)
{
    int rc = mdb_txn_begin(q->env, NULL, MDB_RDONLY, txn);
    if (rc != MDB_SUCCESS) {
        *txn = NULL;
    }
    return qerr_map(rc, "read txn begin");
}

int
qlmdb_stats(void *be, struct igw_queue_stats *s)
{
    qlmdb *q = be;
    MDB_txn *txn = NULL;
    MDB_envinfo info;
    MDB_stat st;
    struct qcounts c;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rv;

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
    s->capacity_bytes = info.me_mapsize;
    s->used_bytes = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
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
qlmdb_deliveries(void *be, uint64_t id, struct igw_queue_delivery_info *out, unsigned max,
                 unsigned *n)
{
    qlmdb *q = be;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    struct qdeliv_rec d;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rv;
    int rc;

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
qlmdb_dead_get(void *be, uint64_t id, const char *route, struct igw_queue_dead_info *out)
{
    qlmdb *q = be;
    MDB_txn *txn = NULL;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rv;

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

uint64_t
qlmdb_next_due(void *be)
{
    qlmdb *q = be;
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
