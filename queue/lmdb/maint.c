/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Maintenance inside the writer's write transaction: purge, sweep, the meta records (schema,
 * next id, counters) and open-time recovery of in-flight deliveries.
 */
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "lmdb_int.h"

static void
count_dec(uint64_t *c)
{
    if (*c > 0) {
        (*c)--;
    }
}

static int
ignore_enoent(int rv)
{
    return rv == IGW_ENOENT ? IGW_OK : rv;
}

/*
 * Finds the first key >= pos in db; when it starts with the 8-byte prefix `id` (want_id) or in
 * any case (!want_id), copies it to cur_key and sets pos to the smallest key after it.
 * *found is false at the end of the range.
 */
static int
seek_next(struct qbatch *b, enum qdb db, struct qkey *pos, bool want_id, uint64_t id,
          struct qkey *cur_key, MDB_val *val, bool *found)
{
    MDB_cursor *cur = NULL;
    MDB_val key;
    int rc;

    *found = false;
    rc = mdb_cursor_open(b->txn, b->q->dbi[db], &cur);
    if (rc != MDB_SUCCESS) {
        return qerr_map(rc, "cursor");
    }
    key.mv_size = pos->len;
    key.mv_data = pos->b;
    rc = mdb_cursor_get(cur, &key, val, pos->len == 0 ? MDB_FIRST : MDB_SET_RANGE);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        return IGW_OK;
    }
    if (rc != MDB_SUCCESS) {
        return qerr_map(rc, "seek");
    }
    if (key.mv_size >= QF_KEY_MAX ||
        (want_id && (key.mv_size < 8 || qget_be64(key.mv_data) != id))) {
        return IGW_OK;
    }
    memcpy(cur_key->b, key.mv_data, key.mv_size);
    cur_key->len = key.mv_size;
    memcpy(pos->b, key.mv_data, key.mv_size);
    pos->b[key.mv_size] = 0;
    pos->len = key.mv_size + 1;
    *found = true;
    return IGW_OK;
}

/* ---- purge ------------------------------------------------------------------------------- */

/* Removes one delivery of a message being removed, with its index entries. */
static int
remove_delivery(struct qbatch *b, const struct qkey *dk, const MDB_val *val)
{
    uint64_t id = qget_be64(dk->b);
    const char *route = (const char *)dk->b + 8;
    size_t rlen = dk->len - 8;
    struct qdeliv_rec d;
    struct qkey k;
    int rv = IGW_OK;

    if (qrec_deliv_decode(val, &d) != IGW_OK) {
        d.state = 0; /* unknown: remove the record, leave the counters */
        d.ordered = false;
    }
    if (d.state == IGW_DS_PENDING) {
        qkey_due(&k, d.next_due_ms, id, route, rlen);
        rv = ignore_enoent(qdb_del(b, QDB_DUE, &k));
    }
    if (rv == IGW_OK) {
        rv = qorder_remove(b, id, route, rlen, &d);
    }
    if (rv == IGW_OK) {
        rv = ignore_enoent(qdb_del(b, QDB_DEAD, dk));
    }
    if (rv == IGW_OK) {
        rv = ignore_enoent(qdb_del(b, QDB_PAYLOADS, dk));
    }
    if (rv == IGW_OK) {
        rv = qdb_del(b, QDB_DELIV, dk);
    }
    if (rv == IGW_OK && d.state != 0) {
        rv = qidx_deliv_move(b, id, route, rlen, d.state, 0);
    }
    if (rv == IGW_OK) {
        switch (d.state) {
        case IGW_DS_PENDING:
            count_dec(&b->counts.pending);
            break;
        case IGW_DS_INFLIGHT:
            count_dec(&b->counts.inflight);
            break;
        case IGW_DS_DELIVERED:
            count_dec(&b->counts.delivered);
            break;
        case IGW_DS_DEAD:
            count_dec(&b->counts.dead);
            break;
        default:
            break;
        }
    }
    return rv;
}

/* Removes message id and all its records. */
static int
remove_message(struct qbatch *b, uint64_t id)
{
    struct qkey pos;
    struct qkey dk;
    MDB_val val;
    bool found = true;
    int rv = IGW_OK;

    qkey_id(&pos, id);
    while (rv == IGW_OK) {
        rv = seek_next(b, QDB_DELIV, &pos, true, id, &dk, &val, &found);
        if (rv != IGW_OK || !found) {
            break;
        }
        rv = remove_delivery(b, &dk, &val);
    }
    if (rv == IGW_OK) {
        char channel[IGW_QUEUE_NAME_MAX];
        struct qbytes ch = {NULL, 0, false};
        rv = qmsg_channel(b, id, channel, &ch);
        rv = rv == IGW_OK ? qidx_msg(b, id, ch, false) : rv;
    }
    if (rv == IGW_OK) {
        qkey_id(&dk, id);
        rv = qdb_del(b, QDB_MSGS, &dk);
    }
    if (rv == IGW_OK) {
        count_dec(&b->counts.messages);
        b->freed = true;
    }
    return rv;
}

int
qmsg_channel(struct qbatch *b, uint64_t id, char channel[IGW_QUEUE_NAME_MAX], struct qbytes *ch)
{
    struct qmsg_rec m;
    struct qkey k;
    MDB_val v;
    int rv;

    qkey_id(&k, id);
    rv = qdb_get(b, QDB_MSGS, &k, &v);
    if (rv != IGW_OK) {
        return rv;
    }
    if (qrec_msg_decode(&v, &m) == IGW_OK && m.channel.len <= IGW_QUEUE_NAME_MAX) {
        memcpy(channel, m.channel.p, m.channel.len);
        *ch = qbytes_of(channel, m.channel.len);
    }
    return IGW_OK;
}

int
qapply_purge(struct qbatch *b, struct qreq *r)
{
    uint64_t id = r->u.purge.id;
    char channel[IGW_QUEUE_NAME_MAX];
    struct qbytes ch = {NULL, 0, false};
    int rv;

    rv = qmsg_channel(b, id, channel, &ch);
    if (rv == IGW_ENOENT) {
        r->rv = IGW_ENOENT;
        return IGW_OK;
    }
    if (rv != IGW_OK) {
        return rv;
    }
    rv = remove_message(b, id);
    if (rv == IGW_OK) {
        rv = qev_add(b, IGW_QEV_PURGED, id, ch, NULL, 0, qbytes_str(NULL), 0, 0);
    }
    return rv;
}

/* ---- sweep ------------------------------------------------------------------------------- */

static bool
older(uint64_t t, uint64_t now, uint64_t retain)
{
    return now >= t && now - t >= retain;
}

/* Whether every delivery of id is delivered, each last attempt older than the retention. */
static int
all_delivered(struct qbatch *b, uint64_t id, uint64_t now, bool *yes)
{
    struct qkey pos;
    struct qkey dk;
    struct qdeliv_rec d;
    MDB_val val;
    bool found = true;
    int rv = IGW_OK;

    *yes = true;
    qkey_id(&pos, id);
    while (*yes) {
        rv = seek_next(b, QDB_DELIV, &pos, true, id, &dk, &val, &found);
        if (rv != IGW_OK || !found) {
            break;
        }
        if (qrec_deliv_decode(&val, &d) != IGW_OK || d.state != IGW_DS_DELIVERED ||
            !older(d.last_attempt_ms, now, b->q->retain_delivered_ms)) {
            *yes = false;
        }
    }
    return rv;
}

/* Sweeps delivered messages from q->sweep_msg_from on. */
static int
sweep_messages(struct qbatch *b, struct qsweep_req *s, unsigned *budget)
{
    qlmdb *q = b->q;
    struct qkey pos;
    struct qkey k;
    struct qmsg_rec m;
    MDB_val val;
    bool found;
    bool yes;
    int rv = IGW_OK;

    qkey_id(&pos, q->sweep_msg_from);
    while (rv == IGW_OK && s->removed<s->limit && * budget> 0) {
        (*budget)--;
        rv = seek_next(b, QDB_MSGS, &pos, false, 0, &k, &val, &found);
        if (rv != IGW_OK || !found || k.len != 8) {
            q->sweep_msg_from = 0; /* wrap around */
            break;
        }
        if (qrec_msg_decode(&val, &m) != IGW_OK) {
            m.created_ms = 0;
        }
        if (!older(m.created_ms, s->now_ms, q->retain_delivered_ms)) {
            q->sweep_msg_from = 0; /* ids grow with time: the rest is younger */
            break;
        }
        q->sweep_msg_from = qget_be64(k.b) + 1;
        qkey_id(&pos, q->sweep_msg_from);
        rv = all_delivered(b, qget_be64(k.b), s->now_ms, &yes);
        if (rv == IGW_OK && yes) {
            rv = remove_message(b, qget_be64(k.b));
            s->removed += rv == IGW_OK ? 1 : 0;
        }
    }
    return rv;
}

/* Removes expired idempotency keys from q->sweep_idem_from on. */
static int
sweep_idem(struct qbatch *b, struct qsweep_req *s, unsigned *budget)
{
    qlmdb *q = b->q;
    struct qkey k;
    struct qidem_rec ir;
    MDB_val val;
    bool found;
    int rv = IGW_OK;

    while (rv == IGW_OK && s->removed<s->limit && * budget> 0) {
        (*budget)--;
        rv = seek_next(b, QDB_IDEM, &q->sweep_idem_from, false, 0, &k, &val, &found);
        if (rv != IGW_OK || !found) {
            q->sweep_idem_from.len = 0;
            break;
        }
        if (qrec_idem_decode(&val, &ir) != IGW_OK ||
            older(ir.created_ms, s->now_ms, q->retain_idem_ms)) {
            rv = qdb_del(b, QDB_IDEM, &k);
            s->removed += rv == IGW_OK ? 1 : 0;
        }
    }
    return rv;
}

int
qapply_sweep(struct qbatch *b, struct qreq *r)
{
    struct qsweep_req *s = &r->u.sweep;
    /* bound the work of one call even when nothing is removable */
    unsigned budget = s->limit > 100000 ? 1000000 : 64 + 8 * s->limit;
    int rv = sweep_messages(b, s, &budget);

    if (rv == IGW_OK) {
        budget = s->limit > 100000 ? 1000000 : 64 + 8 * s->limit;
        rv = sweep_idem(b, s, &budget);
    }
    return rv;
}

/* ---- meta and recovery ------------------------------------------------------------------- */

static int
load_schema(struct qbatch *b)
{
    struct qkey k;
    MDB_val v;
    uint64_t schema;
    int rv;

    qkey_str(&k, "schema");
    rv = qdb_get(b, QDB_META, &k, &v);
    if (rv == IGW_ENOENT) {
        return qrec_u64_put(b, "schema", QF_SCHEMA);
    }
    if (rv == IGW_OK) {
        rv = qrec_u64_decode(&v, &schema);
    }
    if (rv == IGW_OK && schema == 1) {
        /* upgrade: the admin indexes are built from the records in this (open) txn; a failure
         * aborts it and leaves the schema 1 queue as it was */
        IGW_INFO("queue: upgrading the queue format from schema 1 to %u (building indexes)",
                 QF_SCHEMA);
        rv = qidx_build(b);
        rv = rv == IGW_OK ? qrec_u64_put(b, "schema", QF_SCHEMA) : rv;
        return rv;
    }
    if (rv == IGW_OK && schema != QF_SCHEMA) {
        IGW_ERROR("queue: unsupported queue format schema %llu (want %u)",
                  (unsigned long long)schema, QF_SCHEMA);
        rv = IGW_EIO;
    }
    return rv;
}

/* next id = max(meta next_id, last msgs key + 1, 1) */
static int
load_next_id(struct qbatch *b)
{
    MDB_cursor *cur = NULL;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rv;
    int rc;

    b->next_id = 1;
    qkey_str(&k, "next_id");
    rv = qdb_get(b, QDB_META, &k, &v);
    if (rv == IGW_OK) {
        rv = qrec_u64_decode(&v, &b->next_id);
    }
    if (rv != IGW_OK && rv != IGW_ENOENT) {
        return rv;
    }
    rc = mdb_cursor_open(b->txn, b->q->dbi[QDB_MSGS], &cur);
    if (rc == MDB_SUCCESS) {
        rc = mdb_cursor_get(cur, &key, &v, MDB_LAST);
        mdb_cursor_close(cur);
    }
    if (rc == MDB_SUCCESS && key.mv_size == 8 && qget_be64(key.mv_data) >= b->next_id) {
        b->next_id = qget_be64(key.mv_data) + 1;
    }
    return rc == MDB_NOTFOUND ? IGW_OK : qerr_map(rc, "msgs last");
}

int
qmeta_load(struct qbatch *b)
{
    struct qkey k;
    MDB_val v;
    int rv = load_schema(b);

    if (rv == IGW_OK) {
        rv = load_next_id(b);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    memset(&b->counts, 0, sizeof(b->counts));
    qkey_str(&k, "counts");
    rv = qdb_get(b, QDB_META, &k, &v);
    if (rv == IGW_OK) {
        rv = qrec_counts_decode(&v, &b->counts);
    }
    return rv == IGW_ENOENT ? IGW_OK : rv;
}

/* Writes next_id and counts when they differ from the committed values (an unchanged txn then
 * stays empty and its commit costs no fsync). */
int
qmeta_store(struct qbatch *b)
{
    int rv = qidx_flush(b);
    if (rv == IGW_OK && b->next_id != b->q->next_id) {
        rv = qrec_u64_put(b, "next_id", b->next_id);
    }
    if (rv == IGW_OK && memcmp(&b->counts, &b->q->counts, sizeof(b->counts)) != 0) {
        rv = qrec_counts_put(b, &b->counts);
    }
    return rv;
}

/* Every in-flight delivery returns to pending, due now (after a crash or kill -9). */
int
qrecover_inflight(struct qbatch *b)
{
    struct qkey pos;
    struct qkey dk;
    struct qdeliv_rec d;
    MDB_val val;
    bool found = true;
    unsigned long n = 0;
    int rv = IGW_OK;

    pos.len = 0;
    while (rv == IGW_OK && b->counts.inflight > 0) {
        rv = seek_next(b, QDB_DELIV, &pos, false, 0, &dk, &val, &found);
        if (rv != IGW_OK || !found) {
            break;
        }
        if (dk.len <= 8 || qrec_deliv_decode(&val, &d) != IGW_OK || d.state != IGW_DS_INFLIGHT) {
            continue;
        }
        rv = qdeliv_schedule(b, qget_be64(dk.b), (const char *)dk.b + 8, dk.len - 8, &d, b->now_ms);
        count_dec(&b->counts.inflight);
        b->counts.pending++;
        n++;
    }
    if (n > 0) {
        IGW_INFO("queue: %lu in-flight deliveries returned to pending", n);
    }
    return rv;
}
