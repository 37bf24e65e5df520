/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Message get (a copy of a stored message) and replay of the LMDB backend: a delivery, in any
 * state but in flight, gets a new payload and returns to pending, due now, attempts reset.
 *
 * Replay keeps the scheduling invariants of order.c: the old due entry (a pending head's) is
 * removed before the delivery is scheduled again; a delivered or dead delivery has no order
 * entry, so scheduling re-inserts it at its own id (it may become the head of its key again, and
 * the claim's head check keeps a newer follower waiting); a changed order key removes the entry
 * under the old key first, which promotes the old key's next delivery.
 */
#include <string.h>

#include "igw/common.h"
#include "lmdb_int.h"

static void
count_dec(uint64_t *c)
{
    if (*c > 0) {
        (*c)--;
    }
}

/* ---- message read ------------------------------------------------------------------------ */

/* Copies s and a NUL byte after it (not counted in len). */
static int
copy_nul(struct igw_buf *b, struct qbytes s)
{
    int rv = igw_buf_append(b, s.p, s.len);

    if (rv == IGW_OK) {
        rv = igw_buf_putc(b, '\0');
    }
    if (rv == IGW_OK) {
        b->len--;
    }
    return rv;
}

static int
message_fill(struct igw_queue_message *out, const MDB_val *v)
{
    struct qmsg_rec m;
    int rv = qrec_msg_decode(v, &m);

    if (rv != IGW_OK) {
        return rv;
    }
    if (m.channel.len > IGW_QUEUE_NAME_MAX) {
        return IGW_EIO;
    }
    memcpy(out->channel, m.channel.p, m.channel.len);
    out->channel[m.channel.len] = '\0';
    out->created_ms = m.created_ms;
    out->nroutes = m.nroutes;
    if (m.content_type.present) {
        out->content_type = igw_strndup((const char *)m.content_type.p, m.content_type.len);
        if (out->content_type == NULL) {
            return IGW_ENOMEM;
        }
    }
    igw_buf_init(&out->meta, m.meta.len + 1);
    igw_buf_init(&out->body, m.body.len + 1);
    rv = copy_nul(&out->meta, m.meta);
    return rv == IGW_OK ? copy_nul(&out->body, m.body) : rv;
}

int
qlmdb_message_get(void *be, uint64_t id, struct igw_queue_message *out)
{
    qlmdb *q = be;
    MDB_txn *txn = NULL;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rv;

    rv = qerr_map(mdb_txn_begin(q->env, NULL, MDB_RDONLY, &txn), "read txn begin");
    if (rv != IGW_OK) {
        return rv;
    }
    qkey_id(&k, id);
    key.mv_size = k.len;
    key.mv_data = k.b;
    rv = qerr_map(mdb_get(txn, q->dbi[QDB_MSGS], &key, &v), "message get");
    if (rv == IGW_OK) {
        rv = message_fill(out, &v);
    }
    mdb_txn_abort(txn);
    return rv; /* the facade finalises *out on error */
}

/* ---- replay: request --------------------------------------------------------------------- */

static void
route_from(struct qroute *d, const struct igw_queue_replay_route *s)
{
    memset(d, 0, sizeof(*d));
    d->name = s->route;
    d->name_len = strlen(s->route);
    d->ordered = s->order_key != NULL;
    d->order_key = s->order_key;
    d->order_len = s->order_key != NULL ? s->order_key_len : 0;
    d->has_payload = s->payload != NULL;
    d->payload = s->payload;
    d->payload_len = s->payload != NULL ? s->payload_len : 0;
    d->content_type = s->content_type;
}

int
qlmdb_replay(void *be, uint64_t id, const struct igw_queue_replay_route *routes, unsigned n)
{
    qlmdb *q = be;
    struct qroute *rts = NULL;
    struct qreq r;
    int rv;

    rts = igw_calloc(n, sizeof(*rts));
    if (rts == NULL) {
        return IGW_ENOMEM;
    }
    for (unsigned i = 0; i < n; i++) {
        route_from(&rts[i], &routes[i]);
    }
    memset(&r, 0, sizeof(r));
    r.kind = QREQ_REPLAY;
    r.u.replay.id = id;
    r.u.replay.n = n;
    r.u.replay.routes = rts;
    rv = qcall(q, &r); /* blocking: the caller's strings outlive the request */
    igw_free(rts);
    return rv;
}

/* ---- replay: apply (writer thread) -------------------------------------------------------- */

static int
deliv_load(struct qbatch *b, uint64_t id, const struct qroute *rt, struct qdeliv_rec *d)
{
    struct qkey k;
    MDB_val v;
    int rv;

    qkey_id_route(&k, id, rt->name, rt->name_len);
    rv = qdb_get(b, QDB_DELIV, &k, &v);
    if (rv == IGW_OK && qrec_deliv_decode(&v, d) != IGW_OK) {
        rv = IGW_EIO;
    }
    return rv;
}

/* Request-level check before anything changes: every route exists and none is in flight. */
static int
replay_check(struct qbatch *b, const struct qreplay_req *rp, int *req_rv)
{
    struct qdeliv_rec d;
    int rv = IGW_OK;

    *req_rv = IGW_OK;
    for (unsigned i = 0; rv == IGW_OK && *req_rv == IGW_OK && i < rp->n; i++) {
        rv = deliv_load(b, rp->id, &rp->routes[i], &d);
        if (rv == IGW_ENOENT || rv == IGW_EIO) {
            *req_rv = rv; /* an unknown route, or a corrupt record: refuse, keep the txn */
            rv = IGW_OK;
        } else if (rv == IGW_OK && d.state == IGW_DS_INFLIGHT) {
            *req_rv = IGW_EAGAIN;
        }
    }
    return rv;
}

static bool
key_changes(const struct qroute *rt, const struct qdeliv_rec *d)
{
    if (!rt->ordered) {
        return false;
    }
    return !d->ordered || d->order_len != rt->order_len ||
           (rt->order_len > 0 && memcmp(d->order, rt->order_key, rt->order_len) != 0);
}

static int
del_opt(struct qbatch *b, enum qdb db, const struct qkey *k)
{
    int rv = qdb_del(b, db, k);
    return rv == IGW_ENOENT ? IGW_OK : rv;
}

/* Takes d out of its old state: due entry, order entry (when the key changes), dead letter,
 * counters. */
static int
unschedule(struct qbatch *b, uint64_t id, const struct qroute *rt, const struct qdeliv_rec *d)
{
    struct qkey k;
    int rv = IGW_OK;

    switch (d->state) {
    case IGW_DS_PENDING:
        qkey_due(&k, d->next_due_ms, id, rt->name, rt->name_len);
        rv = del_opt(b, QDB_DUE, &k);
        if (rv == IGW_OK && d->ordered && key_changes(rt, d)) {
            rv = qorder_remove(b, id, rt->name, rt->name_len, d);
        }
        count_dec(&b->counts.pending);
        break;
    case IGW_DS_DELIVERED:
        count_dec(&b->counts.delivered);
        break;
    case IGW_DS_DEAD:
        qkey_id_route(&k, id, rt->name, rt->name_len);
        rv = del_opt(b, QDB_DEAD, &k);
        count_dec(&b->counts.dead);
        break;
    default:
        rv = IGW_EINTERNAL; /* in flight: refused by replay_check */
        break;
    }
    return rv;
}

static int
payload_set(struct qbatch *b, uint64_t id, const struct qroute *rt)
{
    struct qkey k;
    struct qpayload_rec p;

    qkey_id_route(&k, id, rt->name, rt->name_len);
    if (!rt->has_payload) {
        return del_opt(b, QDB_PAYLOADS, &k);
    }
    p.content_type = qbytes_str(rt->content_type);
    p.data = qbytes_of(rt->payload, rt->payload_len);
    return qrec_payload_put(b, &k, &p);
}

static int
replay_one(struct qbatch *b, uint64_t id, const struct qroute *rt, struct qbytes channel)
{
    struct qdeliv_rec d;
    int rv = deliv_load(b, id, rt, &d);

    if (rv == IGW_OK) {
        rv = unschedule(b, id, rt, &d);
    }
    if (rv == IGW_OK) {
        rv = payload_set(b, id, rt);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    if (key_changes(rt, &d)) {
        d.ordered = true;
        d.order_len = rt->order_len;
        if (rt->order_len > 0) {
            memcpy(d.order, rt->order_key, rt->order_len);
        }
    }
    d.attempts = 0;
    rv = qdeliv_schedule(b, id, rt->name, rt->name_len, &d, b->now_ms);
    if (rv == IGW_OK) {
        b->counts.pending++;
        rv = qev_add(b, IGW_QEV_REPLAYED, id, channel, rt->name, rt->name_len, qbytes_str(NULL), 0,
                     b->now_ms);
    }
    return rv;
}

int
qapply_replay(struct qbatch *b, struct qreq *r)
{
    const struct qreplay_req *rp = &r->u.replay;
    char channel[IGW_QUEUE_NAME_MAX];
    struct qbytes ch = {NULL, 0, false};
    int rv;

    rv = qmsg_channel(b, rp->id, channel, &ch);
    if (rv == IGW_ENOENT) {
        r->rv = IGW_ENOENT;
        return IGW_OK;
    }
    if (rv != IGW_OK) {
        return rv;
    }
    rv = replay_check(b, rp, &r->rv);
    for (unsigned i = 0; rv == IGW_OK && r->rv == IGW_OK && i < rp->n; i++) {
        rv = replay_one(b, rp->id, &rp->routes[i], ch);
    }
    return rv;
}
