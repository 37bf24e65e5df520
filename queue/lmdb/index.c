/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin indexes of the LMDB queue (schema 2, docs/QUEUE-FORMAT.md "Admin indexes"), kept by
 * the writer in the same transaction as the records they index:
 *   ichan    channel, 0x00, id                  messages by channel (listing)
 *   iroute   route, 0x00, state, id             deliveries by route and state (listing, oldest
 *                                               pending)
 *   rstats   route -> deliveries by state       per-route counters (stats without a scan)
 *   cstats   channel -> messages                per-channel counter
 *   attempts id, route, 0x00, seq -> attempt    the first and the last attempts of a delivery
 * and the upgrade of a schema 1 queue (every index built from the records at open).
 */
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "lmdb_int.h"

#define ATT_KEEP_LAST (IGW_QUEUE_ATTEMPTS_KEPT - 1) /* plus the first one */

/* ---- keys -------------------------------------------------------------------------------- */

static void
kadd(struct qkey *k, const void *p, size_t n)
{
    IGW_ASSERT(k->len + n <= sizeof(k->b));
    if (n > 0) {
        memcpy(k->b + k->len, p, n);
    }
    k->len += n;
}

static void
kadd_nul(struct qkey *k)
{
    uint8_t z = 0;
    kadd(k, &z, 1);
}

static void
kadd64(struct qkey *k, uint64_t v)
{
    IGW_ASSERT(k->len + 8 <= sizeof(k->b));
    qput_be64(k->b + k->len, v);
    k->len += 8;
}

void
qkey_iroute(struct qkey *k, const char *route, size_t rlen, uint8_t state, bool with_id,
            uint64_t id)
{
    k->len = 0;
    kadd(k, route, rlen);
    kadd_nul(k);
    kadd(k, &state, 1);
    if (with_id) {
        kadd64(k, id);
    }
}

void
qkey_ichan(struct qkey *k, const char *ch, size_t clen, bool with_id, uint64_t id)
{
    k->len = 0;
    kadd(k, ch, clen);
    kadd_nul(k);
    if (with_id) {
        kadd64(k, id);
    }
}

void
qkey_att(struct qkey *k, uint64_t id, const char *route, size_t rlen, bool with_seq, uint32_t seq)
{
    uint8_t s[4] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq};

    k->len = 0;
    kadd64(k, id);
    kadd(k, route, rlen);
    kadd_nul(k);
    if (with_seq) {
        kadd(k, s, 4);
    }
}

static int
del_opt(struct qbatch *b, enum qdb db, const struct qkey *k)
{
    int rv = qdb_del(b, db, k);
    return rv == IGW_ENOENT ? IGW_OK : rv;
}

/* ---- counters ---------------------------------------------------------------------------- */

int
qrec_rstats_decode(const MDB_val *v, uint64_t c[4])
{
    const uint8_t *p = v->mv_data;

    if (v->mv_size != 33 || p[0] != QF_VERSION) {
        return IGW_EIO;
    }
    for (int i = 0; i < 4; i++) {
        c[i] = qget_be64(p + 1 + 8 * i);
    }
    return IGW_OK;
}

/* The delta record of (channel or route, name) in b, added when new; NULL without memory. */
static struct qdelta *
delta_of(struct qbatch *b, bool channel, const void *name, size_t len)
{
    struct qdelta *d;

    for (unsigned i = b->ndl; i-- > 0;) { /* the newest first: usually the same route again */
        d = &b->dl[i];
        if (d->channel == channel && d->len == len && memcmp(d->name, name, len) == 0) {
            return d;
        }
    }
    if (b->ndl == b->dlcap) {
        unsigned cap = b->dlcap == 0 ? 16 : b->dlcap * 2;
        struct qdelta *n = igw_realloc(b->dl, cap * sizeof(*n));
        if (n == NULL) {
            return NULL;
        }
        b->dl = n;
        b->dlcap = cap;
    }
    d = &b->dl[b->ndl++];
    memset(d, 0, sizeof(*d));
    d->channel = channel;
    d->len = (uint8_t)len;
    memcpy(d->name, name, len);
    return d;
}

static int
rstats_add(struct qbatch *b, const char *route, size_t rlen, uint8_t old, uint8_t new_state)
{
    struct qdelta *d = delta_of(b, false, route, rlen);

    if (d == NULL) {
        return IGW_ENOMEM;
    }
    if (old >= IGW_DS_PENDING && old <= IGW_DS_DEAD) {
        d->d[old - 1]--;
    }
    if (new_state >= IGW_DS_PENDING && new_state <= IGW_DS_DEAD) {
        d->d[new_state - 1]++;
    }
    return IGW_OK;
}

static int
cstats_add(struct qbatch *b, struct qbytes ch, bool add)
{
    struct qdelta *d = delta_of(b, true, ch.p, ch.len);

    if (d == NULL) {
        return IGW_ENOMEM;
    }
    d->d[0] += add ? 1 : -1;
    return IGW_OK;
}

static uint64_t
add_clamped(uint64_t v, int64_t d)
{
    if (d < 0 && (uint64_t)(-d) > v) {
        return 0;
    }
    return d < 0 ? v - (uint64_t)(-d) : v + (uint64_t)d;
}

/* One route's counters: read, change by d, write (deleted when all are 0). */
static int
rstats_apply(struct qbatch *b, const struct qdelta *d)
{
    uint64_t c[4] = {0, 0, 0, 0};
    uint8_t rec[33];
    struct qkey k;
    MDB_val v;
    int rv;

    k.len = 0;
    kadd(&k, d->name, d->len);
    rv = qdb_get(b, QDB_RSTATS, &k, &v);
    if (rv == IGW_OK && qrec_rstats_decode(&v, c) != IGW_OK) {
        IGW_ERROR("queue: corrupt route counters of %.*s: reset", (int)d->len, d->name);
    } else if (rv != IGW_OK && rv != IGW_ENOENT) {
        return rv;
    }
    for (int i = 0; i < 4; i++) {
        c[i] = add_clamped(c[i], d->d[i]);
    }
    if (c[0] == 0 && c[1] == 0 && c[2] == 0 && c[3] == 0) {
        return del_opt(b, QDB_RSTATS, &k); /* a route without deliveries leaves the stats */
    }
    rec[0] = QF_VERSION;
    for (int i = 0; i < 4; i++) {
        qput_be64(rec + 1 + 8 * i, c[i]);
    }
    return qdb_put_raw(b, QDB_RSTATS, &k, rec, sizeof(rec), 0);
}

static int
cstats_apply(struct qbatch *b, const struct qdelta *d)
{
    uint64_t n = 0;
    uint8_t rec[9];
    struct qkey k;
    MDB_val v;
    int rv;

    k.len = 0;
    kadd(&k, d->name, d->len);
    rv = qdb_get(b, QDB_CSTATS, &k, &v);
    if (rv == IGW_OK && v.mv_size == 9 && ((const uint8_t *)v.mv_data)[0] == QF_VERSION) {
        n = qget_be64((const uint8_t *)v.mv_data + 1);
    } else if (rv != IGW_OK && rv != IGW_ENOENT) {
        return rv;
    }
    n = add_clamped(n, d->d[0]);
    if (n == 0) {
        return del_opt(b, QDB_CSTATS, &k);
    }
    rec[0] = QF_VERSION;
    qput_be64(rec + 1, n);
    return qdb_put_raw(b, QDB_CSTATS, &k, rec, sizeof(rec), 0);
}

int
qidx_flush(struct qbatch *b)
{
    int rv = IGW_OK;

    for (unsigned i = 0; rv == IGW_OK && i < b->ndl; i++) {
        const struct qdelta *d = &b->dl[i];
        if (d->d[0] != 0 || d->d[1] != 0 || d->d[2] != 0 || d->d[3] != 0) {
            rv = d->channel ? cstats_apply(b, d) : rstats_apply(b, d);
        }
    }
    b->ndl = 0;
    return rv;
}

/* ---- maintained by the writer ------------------------------------------------------------ */

int
qidx_deliv_move(struct qbatch *b, uint64_t id, const char *route, size_t rlen, uint8_t old,
                uint8_t new_state)
{
    struct qkey k;
    int rv = IGW_OK;

    if (old == new_state || rlen == 0 || rlen > IGW_QUEUE_NAME_MAX) {
        return IGW_OK;
    }
    if (old != 0) {
        qkey_iroute(&k, route, rlen, old, true, id);
        rv = del_opt(b, QDB_IROUTE, &k);
    }
    if (rv == IGW_OK && new_state != 0) {
        qkey_iroute(&k, route, rlen, new_state, true, id);
        rv = qdb_put_raw(b, QDB_IROUTE, &k, NULL, 0, 0);
    }
    return rv == IGW_OK ? rstats_add(b, route, rlen, old, new_state) : rv;
}

/* Deletes every attempt record of message id. */
static int
attempts_drop(struct qbatch *b, uint64_t id)
{
    MDB_cursor *cur = NULL;
    struct qkey k;
    MDB_val key;
    MDB_val val;
    int rc;

    qkey_id(&k, id);
    rc = mdb_cursor_open(b->txn, b->q->dbi[QDB_ATTEMPTS], &cur);
    if (rc != MDB_SUCCESS) {
        return qerr_map(rc, "cursor");
    }
    key.mv_size = k.len;
    key.mv_data = k.b;
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && key.mv_size > 8 && qget_be64(key.mv_data) == id) {
        rc = mdb_cursor_del(cur, 0);
        if (rc == MDB_SUCCESS) {
            key.mv_size = k.len; /* seek again: the cursor after a delete is not portable */
            key.mv_data = k.b;
            rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? IGW_OK : qerr_map(rc, "attempts drop");
}

int
qidx_msg(struct qbatch *b, uint64_t id, struct qbytes channel, bool add)
{
    struct qkey k;
    int rv;

    if (channel.len == 0 || channel.len > IGW_QUEUE_NAME_MAX) {
        return add ? IGW_OK : attempts_drop(b, id);
    }
    qkey_ichan(&k, (const char *)channel.p, channel.len, true, id);
    rv = add ? qdb_put_raw(b, QDB_ICHAN, &k, NULL, 0, 0) : del_opt(b, QDB_ICHAN, &k);
    rv = rv == IGW_OK ? cstats_add(b, channel, add) : rv;
    return rv == IGW_OK && !add ? attempts_drop(b, id) : rv;
}

/* The sequence number the next attempt of (id, route) gets: one after the last record. */
static int
attempt_next_seq(struct qbatch *b, uint64_t id, const char *route, size_t rlen, uint32_t *seq)
{
    MDB_cursor *cur = NULL;
    struct qkey pre;
    struct qkey hi;
    MDB_val key;
    MDB_val val;
    int rc;

    *seq = 0;
    qkey_att(&pre, id, route, rlen, false, 0);
    qkey_att(&hi, id, route, rlen, true, UINT32_MAX);
    rc = mdb_cursor_open(b->txn, b->q->dbi[QDB_ATTEMPTS], &cur);
    if (rc != MDB_SUCCESS) {
        return qerr_map(rc, "cursor");
    }
    key.mv_size = hi.len;
    key.mv_data = hi.b;
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    rc = rc == MDB_SUCCESS    ? mdb_cursor_get(cur, &key, &val, MDB_PREV)
         : rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &key, &val, MDB_LAST)
                              : rc;
    if (rc == MDB_SUCCESS && key.mv_size == pre.len + 4 &&
        memcmp(key.mv_data, pre.b, pre.len) == 0) {
        const uint8_t *s = (const uint8_t *)key.mv_data + pre.len;
        *seq = (((uint32_t)s[0] << 24) | ((uint32_t)s[1] << 16) | ((uint32_t)s[2] << 8) | s[3]) + 1;
    }
    mdb_cursor_close(cur);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? IGW_OK : qerr_map(rc, "attempts seek");
}

int
qidx_attempt_add(struct qbatch *b, const struct igw_queue_outcome *o, size_t rlen,
                 const struct qdeliv_rec *d)
{
    uint8_t rec[1 + 8 + 4 + 4 + 1 + 2 + QF_ERR_MAX];
    size_t elen = d->error_len;
    struct qkey k;
    uint32_t seq;
    bool room = false;
    int rv;

    /* Attempt records are the one thing outcomes add to the store: above the high-water mark
     * (the store full, intake stopped) they are not written, so the reserve stays for
     * deliveries, sweeps and purges (docs/QUEUE-FORMAT.md, "Room for deliveries"). Measured
     * once per transaction. */
    if (b->att_room < 0) {
        rv = qspace_below_mark(b, &room);
        if (rv != IGW_OK) {
            return rv;
        }
        b->att_room = room ? 1 : 0;
    }
    if (b->att_room == 0) {
        return IGW_OK;
    }
    rv = attempt_next_seq(b, o->id, o->route, rlen, &seq);
    if (rv != IGW_OK || seq == UINT32_MAX) {
        return rv;
    }
    rec[0] = QF_VERSION;
    qput_be64(rec + 1, b->now_ms);
    for (int i = 0; i < 4; i++) {
        rec[9 + i] = (uint8_t)(o->duration_ms >> (24 - 8 * i));
        rec[13 + i] = (uint8_t)((uint32_t)o->status >> (24 - 8 * i));
    }
    rec[17] = (uint8_t)o->result;
    rec[18] = (uint8_t)(elen >> 8);
    rec[19] = (uint8_t)elen;
    if (elen > 0) {
        memcpy(rec + 20, d->error, elen);
    }
    qkey_att(&k, o->id, o->route, rlen, true, seq);
    rv = qdb_put_raw(b, QDB_ATTEMPTS, &k, rec, 20 + elen, 0);
    if (rv == IGW_OK && seq > ATT_KEEP_LAST) {
        qkey_att(&k, o->id, o->route, rlen, true, seq - ATT_KEEP_LAST); /* never the first */
        rv = del_opt(b, QDB_ATTEMPTS, &k);
    }
    return rv;
}

/* ---- upgrade from schema 1 --------------------------------------------------------------- */

static int
build_from(struct qbatch *b, enum qdb db)
{
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val val;
    uint64_t n = 0;
    int rv = IGW_OK;
    int rc = mdb_cursor_open(b->txn, b->q->dbi[db], &cur);

    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur, &key, &val, MDB_FIRST) : rc;
    while (rc == MDB_SUCCESS && rv == IGW_OK) {
        if (db == QDB_MSGS && key.mv_size == 8) {
            struct qmsg_rec m;
            if (qrec_msg_decode(&val, &m) == IGW_OK) {
                rv = qidx_msg(b, qget_be64(key.mv_data), m.channel, true);
            }
        } else if (db == QDB_DELIV && key.mv_size > 8) {
            struct qdeliv_rec d;
            if (qrec_deliv_decode(&val, &d) == IGW_OK) {
                rv = qidx_deliv_move(b, qget_be64(key.mv_data), (const char *)key.mv_data + 8,
                                     key.mv_size - 8, 0, d.state);
            }
        }
        n++;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (rv == IGW_OK && rc != MDB_NOTFOUND) {
        rv = qerr_map(rc, "index build");
    }
    IGW_INFO("queue: indexed %llu %s records", (unsigned long long)n,
             db == QDB_MSGS ? "message" : "delivery");
    return rv;
}

int
qidx_build(struct qbatch *b)
{
    int rv = build_from(b, QDB_MSGS);
    return rv == IGW_OK ? build_from(b, QDB_DELIV) : rv;
}
