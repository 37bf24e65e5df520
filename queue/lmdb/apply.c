/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requests applied inside the writer's write transaction: submit, claim, complete, release.
 * Each qapply_* returns IGW_OK or an error that aborts the whole transaction (IGW_ENOSPC,
 * IGW_EIO, IGW_ENOMEM); the request's own outcome goes to r->rv. A request may be applied more
 * than once (after an aborted transaction), so qreq_reset puts its outputs back first.
 */
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "lmdb_int.h"

enum claim_step { STEP_SKIPPED, STEP_CHANGED, STEP_CLAIMED };

static void
count_dec(uint64_t *c)
{
    if (*c > 0) {
        (*c)--;
    }
}

static int
evstr_add(struct qbatch *b, struct qbytes s, size_t *off)
{
    int rv;
    if (!s.present) {
        *off = QEV_NOSTR;
        return IGW_OK;
    }
    *off = b->evstr.len;
    rv = igw_buf_append(&b->evstr, s.p, s.len);
    if (rv == IGW_OK) {
        rv = igw_buf_putc(&b->evstr, '\0');
    }
    return rv;
}

int
qev_add(struct qbatch *b, enum igw_queue_event_kind kind, uint64_t id, struct qbytes channel,
        const char *route, size_t rlen, struct qbytes error, uint32_t attempts,
        uint64_t next_due_ms)
{
    struct qev *ev;
    int rv;

    if (!b->events) {
        return IGW_OK;
    }
    if (b->nev == b->evcap) {
        size_t ncap = b->evcap == 0 ? 64 : b->evcap * 2;
        struct qev *n = igw_realloc(b->ev, ncap * sizeof(*n));
        if (n == NULL) {
            return IGW_ENOMEM;
        }
        b->ev = n;
        b->evcap = ncap;
    }
    ev = &b->ev[b->nev];
    ev->kind = kind;
    ev->id = id;
    ev->attempts = attempts;
    ev->next_due_ms = next_due_ms;
    rv = evstr_add(b, channel, &ev->channel);
    if (rv == IGW_OK) {
        rv = evstr_add(b, route == NULL ? qbytes_str(NULL) : qbytes_of(route, rlen), &ev->route);
    }
    if (rv == IGW_OK) {
        rv = evstr_add(b, error, &ev->error);
    }
    if (rv == IGW_OK) {
        b->nev++;
    }
    return rv;
}

void
qreq_reset(struct qreq *r)
{
    r->rv = IGW_OK;
    switch (r->kind) {
    case QREQ_SUBMIT:
        r->u.submit.id = 0;
        r->u.submit.duplicate = false;
        break;
    case QREQ_CLAIM:
        for (unsigned i = 0; i < r->u.claim.n; i++) {
            igw_queue_claim_fini(&r->u.claim.out[i]);
        }
        r->u.claim.n = 0;
        for (unsigned i = 0; i < r->u.claim.nquota; i++) {
            r->u.claim.quota[i].left = r->u.claim.quota[i].want;
        }
        break;
    case QREQ_SWEEP:
        r->u.sweep.removed = 0;
        break;
    default:
        break;
    }
}

/* ---- submit ------------------------------------------------------------------------------ */

static int
idem_lookup(struct qbatch *b, const struct qsubmit *s, const struct qkey *ik, bool *dup,
            uint64_t *id)
{
    MDB_val v;
    struct qidem_rec rec;
    int rv = qdb_get(b, QDB_IDEM, ik, &v);

    *dup = false;
    if (rv == IGW_ENOENT) {
        return IGW_OK;
    }
    if (rv != IGW_OK) {
        return rv;
    }
    if (qrec_idem_decode(&v, &rec) != IGW_OK) {
        IGW_WARN("queue: replacing corrupt idempotency record of channel %s", s->channel);
        return IGW_OK;
    }
    if (b->now_ms > rec.created_ms && b->now_ms - rec.created_ms >= b->q->retain_idem_ms) {
        return IGW_OK; /* expired: accepted as new, the record is overwritten */
    }
    *dup = true;
    *id = rec.id;
    return IGW_OK;
}

static int
submit_route(struct qbatch *b, uint64_t id, const struct qroute *rt)
{
    struct qdeliv_rec d;
    struct qkey k;
    int rv;

    if (rt->has_payload) {
        struct qpayload_rec p = {qbytes_str(rt->content_type),
                                 qbytes_of(rt->payload, rt->payload_len)};
        qkey_id_route(&k, id, rt->name, rt->name_len);
        rv = qrec_payload_put(b, &k, &p);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    memset(&d, 0, sizeof(d));
    d.ordered = rt->ordered;
    d.order_len = rt->order_len;
    if (rt->ordered && rt->order_len > 0) {
        memcpy(d.order, rt->order_key, rt->order_len);
    }
    return qdeliv_schedule(b, id, rt->name, rt->name_len, &d, b->now_ms);
}

int
qapply_submit(struct qbatch *b, struct qreq *r)
{
    struct qsubmit *s = &r->u.submit;
    struct qmsg_rec m;
    struct qkey ik;
    struct qkey k;
    bool dup = false;
    bool room = false;
    uint64_t id = 0;
    int rv;

    if (s->has_idem) {
        qkey_idem(&ik, s->channel, s->channel_len, s->idem, s->idem_len);
        rv = idem_lookup(b, s, &ik, &dup, &id);
        if (rv != IGW_OK || dup) {
            s->id = id;
            s->duplicate = dup;
            return rv;
        }
    }
    rv = qspace_admit(b, s, &room);
    if (rv != IGW_OK || !room) {
        r->rv = IGW_ENOSPC; /* refused at the mark: the txn goes on for the others */
        b->refused = true;
        return rv;
    }
    id = b->next_id++;
    m.created_ms = b->now_ms;
    m.channel = qbytes_of(s->channel, s->channel_len);
    m.content_type = qbytes_str(s->content_type);
    m.meta = qbytes_of(s->meta, s->meta_len);
    m.nroutes = s->nroutes;
    m.body = qbytes_of(s->body, s->body_len);
    qkey_id(&k, id);
    rv = qrec_msg_put(b, &k, &m);
    for (unsigned i = 0; rv == IGW_OK && i < s->nroutes; i++) {
        rv = submit_route(b, id, &s->routes[i]);
    }
    if (rv == IGW_OK) {
        rv = qidx_msg(b, id, m.channel, true);
    }
    if (rv == IGW_OK && s->has_idem) {
        struct qidem_rec ir = {id, b->now_ms};
        rv = qrec_idem_put(b, &ik, &ir);
    }
    if (rv == IGW_OK) {
        rv = qev_add(b, IGW_QEV_ACCEPTED, id, m.channel, NULL, 0, qbytes_str(NULL), 0, 0);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    b->counts.messages++;
    b->counts.pending += s->nroutes;
    b->accepted = true;
    s->id = id;
    return IGW_OK;
}

/* ---- claim ------------------------------------------------------------------------------- */

static struct qquota *
quota_find(struct qclaim_req *c, const char *route, size_t rlen)
{
    for (unsigned i = 0; i < c->nquota; i++) {
        if (strlen(c->quota[i].route) == rlen && memcmp(c->quota[i].route, route, rlen) == 0) {
            return &c->quota[i];
        }
    }
    return NULL;
}

static int
claim_fill(struct qbatch *b, struct igw_queue_claim *c, uint64_t id, const char *route, size_t rlen,
           const struct qdeliv_rec *d)
{
    struct qmsg_rec m;
    struct qpayload_rec p;
    struct qbytes data;
    struct qbytes ct;
    struct qkey k;
    MDB_val v;
    int rv;

    memset(c, 0, sizeof(*c));
    igw_buf_init(&c->payload, 0);
    igw_buf_init(&c->meta, 0);
    qkey_id(&k, id);
    rv = qdb_get(b, QDB_MSGS, &k, &v);
    if (rv == IGW_OK) {
        rv = qrec_msg_decode(&v, &m);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    data = m.body;
    ct = m.content_type;
    qkey_id_route(&k, id, route, rlen);
    rv = qdb_get(b, QDB_PAYLOADS, &k, &v);
    if (rv == IGW_OK) {
        rv = qrec_payload_decode(&v, &p);
        if (rv != IGW_OK) {
            return rv;
        }
        data = p.data;
        if (p.content_type.present) {
            ct = p.content_type;
        }
    } else if (rv != IGW_ENOENT) {
        return rv;
    }
    c->id = id;
    memcpy(c->route, route, rlen);
    c->route[rlen] = '\0';
    if (m.channel.len <= IGW_QUEUE_NAME_MAX) {
        memcpy(c->channel, m.channel.p, m.channel.len);
        c->channel[m.channel.len] = '\0';
    }
    c->attempts = d->attempts;
    c->created_ms = m.created_ms;
    igw_buf_init(&c->payload, data.len);
    igw_buf_init(&c->meta, m.meta.len);
    rv = igw_buf_append(&c->payload, data.p, data.len);
    if (rv == IGW_OK) {
        rv = igw_buf_append(&c->meta, m.meta.p, m.meta.len);
    }
    if (rv == IGW_OK && ct.present) {
        c->content_type = igw_strndup((const char *)ct.p, ct.len);
        rv = c->content_type == NULL ? IGW_ENOMEM : IGW_OK;
    }
    if (rv != IGW_OK) {
        igw_queue_claim_fini(c);
    }
    return rv;
}

/* Drops a due entry that does not match its delivery record (never expected). */
static int
claim_drop_stale(struct qbatch *b, const struct qkey *duek, uint64_t id, const char *why)
{
    char ids[IGW_QUEUE_ID_STRLEN];
    igw_queue_id_format(id, ids);
    IGW_ERROR("queue: dropping due entry of %s: %s", ids, why);
    return qdb_del(b, QDB_DUE, duek);
}

static int
claim_one(struct qbatch *b, struct qclaim_req *c, const struct qkey *duek, enum claim_step *step)
{
    uint64_t due = qget_be64(duek->b);
    uint64_t id = qget_be64(duek->b + 8);
    const char *route = (const char *)duek->b + 16;
    size_t rlen = duek->len - 16;
    struct qdeliv_rec d;
    struct qkey k;
    MDB_val v;
    bool first = true;
    int rv;

    *step = STEP_CHANGED;
    qkey_id_route(&k, id, route, rlen);
    rv = qdb_get(b, QDB_DELIV, &k, &v);
    if (rv == IGW_ENOENT) {
        return claim_drop_stale(b, duek, id, "no delivery record");
    }
    if (rv == IGW_OK && qrec_deliv_decode(&v, &d) != IGW_OK) {
        return claim_drop_stale(b, duek, id, "corrupt delivery record");
    }
    if (rv != IGW_OK) {
        return rv;
    }
    if (d.state != IGW_DS_PENDING || d.next_due_ms != due) {
        return claim_drop_stale(b, duek, id, "delivery not pending at this time");
    }
    if (d.ordered) {
        rv = qorder_is_first(b, id, route, rlen, &d, &first);
        if (rv != IGW_OK || !first) {
            *step = STEP_SKIPPED;
            return rv;
        }
    }
    rv = claim_fill(b, &c->out[c->n], id, route, rlen, &d);
    if (rv == IGW_EIO || rv == IGW_ENOENT) {
        return claim_drop_stale(b, duek, id, "message record missing or corrupt");
    }
    if (rv == IGW_OK) {
        c->n++; /* counted now so that qreq_reset frees it if the txn aborts */
        rv = qdb_del(b, QDB_DUE, duek);
    }
    if (rv == IGW_OK) {
        d.state = IGW_DS_INFLIGHT;
        rv = qrec_deliv_put(b, &k, &d);
    }
    if (rv == IGW_OK) {
        count_dec(&b->counts.pending);
        b->counts.inflight++;
        *step = STEP_CLAIMED;
    }
    return rv;
}

/* One entry of the due scan: claims it, skips it, or stops (*stop) at the first not yet due. */
static int
claim_scan_step(struct qbatch *b, struct qclaim_req *c, const MDB_val *key, struct qkey *pos,
                enum claim_step *step, bool *stop)
{
    struct qquota *quota = NULL;
    int rv;

    *step = STEP_SKIPPED;
    *stop = false;
    if (key->mv_size <= 16 || key->mv_size > 16 + IGW_QUEUE_NAME_MAX) {
        return IGW_OK; /* not ours; never written */
    }
    if (qget_be64(key->mv_data) > c->now_ms) {
        *stop = true;
        return IGW_OK;
    }
    if (!c->all_routes) {
        quota = quota_find(c, (const char *)key->mv_data + 16, key->mv_size - 16);
        if (quota == NULL || quota->left == 0) {
            return IGW_OK;
        }
    }
    pos->len = key->mv_size;
    memcpy(pos->b, key->mv_data, key->mv_size);
    rv = claim_one(b, c, pos, step);
    if (rv == IGW_OK && *step == STEP_CLAIMED && quota != NULL) {
        quota->left--;
    }
    return rv;
}

/* Whether the claim can take more: room in out, and some route quota left (or no filter). */
static bool
claim_wants_more(const struct qclaim_req *c)
{
    if (c->n >= c->max) {
        return false;
    }
    for (unsigned i = 0; !c->all_routes && i < c->nquota; i++) {
        if (c->quota[i].left > 0) {
            return true;
        }
    }
    return c->all_routes;
}

int
qapply_claim(struct qbatch *b, struct qreq *r)
{
    struct qclaim_req *c = &r->u.claim;
    MDB_cursor *cur = NULL;
    struct qkey pos;
    enum claim_step step;
    MDB_val key;
    MDB_val val;
    bool stop = false;
    int rv = IGW_OK;
    int rc;

    rc = mdb_cursor_open(b->txn, b->q->dbi[QDB_DUE], &cur);
    if (rc != MDB_SUCCESS) {
        return qerr_map(rc, "cursor");
    }
    rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (rc == MDB_SUCCESS && claim_wants_more(c)) {
        rv = claim_scan_step(b, c, &key, &pos, &step, &stop);
        if (rv != IGW_OK || stop) {
            break;
        }
        if (step == STEP_SKIPPED) {
            rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
        } else {
            /* the entry was deleted: the next one is the first key >= it */
            key.mv_size = pos.len;
            key.mv_data = pos.b;
            rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        }
    }
    mdb_cursor_close(cur);
    if (rv == IGW_OK && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        rv = qerr_map(rc, "claim scan");
    }
    return rv;
}

/* ---- complete ---------------------------------------------------------------------------- */

/* The channel of message id copied into out (*len 0 when it is gone or does not decode): the
 * lookup of qmsg_channel (maint.c), with a missing message not an error. */
static int
msg_channel(struct qbatch *b, uint64_t id, char out[IGW_QUEUE_NAME_MAX], size_t *len)
{
    struct qbytes ch = {NULL, 0, false};
    int rv = qmsg_channel(b, id, out, &ch);

    *len = ch.len;
    return rv == IGW_ENOENT ? IGW_OK : rv;
}

static void
set_error(struct qdeliv_rec *d, const char *error, int status)
{
    size_t n = error == NULL ? 0 : strlen(error);
    if (n > QF_ERR_MAX) {
        n = QF_ERR_MAX;
    }
    if (n > 0) {
        memcpy(d->error, error, n);
    }
    d->error[n] = '\0';
    d->error_len = n;
    d->last_status = status;
}

static int
complete_dead(struct qbatch *b, const struct igw_queue_outcome *o, size_t rlen,
              struct qdeliv_rec *d)
{
    struct qdead_rec dr;
    struct qkey k;
    int rv;

    d->state = IGW_DS_DEAD;
    qkey_id_route(&k, o->id, o->route, rlen);
    rv = qrec_deliv_put(b, &k, d);
    if (rv == IGW_OK) {
        rv = qorder_remove(b, o->id, o->route, rlen, d);
    }
    if (rv == IGW_OK) {
        dr.dead_ms = b->now_ms;
        dr.status = o->status;
        dr.error = qbytes_of(d->error, d->error_len);
        dr.response = qbytes_of(o->response, o->response == NULL ? 0 : o->response_len);
        rv = qrec_dead_put(b, &k, &dr);
    }
    return rv;
}

/* Applies one outcome to an in-flight delivery d; *kind receives the event kind. */
static int
complete_apply(struct qbatch *b, const struct igw_queue_outcome *o, size_t rlen,
               struct qdeliv_rec *d, enum igw_queue_event_kind *kind)
{
    struct qkey k;
    int rv;

    if (o->released) {
        *kind = IGW_QEV_RELEASED;
        b->counts.pending++;
        return qdeliv_schedule(b, o->id, o->route, rlen, d, o->next_due_ms);
    }
    d->attempts++;
    d->last_attempt_ms = b->now_ms;
    set_error(d, o->error, o->status);
    rv = qidx_attempt_add(b, o, rlen, d);
    if (rv != IGW_OK) {
        return rv;
    }
    switch (o->result) {
    case IGW_DELIVER_OK:
        *kind = IGW_QEV_DELIVERED;
        b->counts.delivered++;
        d->state = IGW_DS_DELIVERED;
        qkey_id_route(&k, o->id, o->route, rlen);
        rv = qrec_deliv_put(b, &k, d);
        return rv == IGW_OK ? qorder_remove(b, o->id, o->route, rlen, d) : rv;
    case IGW_DELIVER_RETRY:
        *kind = IGW_QEV_RETRY;
        b->counts.pending++;
        return qdeliv_schedule(b, o->id, o->route, rlen, d, o->next_due_ms);
    default:
        *kind = IGW_QEV_DEAD;
        b->counts.dead++;
        return complete_dead(b, o, rlen, d);
    }
}

static int
complete_one(struct qbatch *b, const struct igw_queue_outcome *o)
{
    size_t rlen = o->route == NULL ? 0 : strlen(o->route);
    char channel[IGW_QUEUE_NAME_MAX];
    size_t clen = 0;
    enum igw_queue_event_kind kind;
    struct qdeliv_rec d;
    struct qkey k;
    MDB_val v;
    int rv;

    if (rlen == 0 || rlen > IGW_QUEUE_NAME_MAX) {
        return IGW_OK;
    }
    qkey_id_route(&k, o->id, o->route, rlen);
    rv = qdb_get(b, QDB_DELIV, &k, &v);
    if (rv == IGW_ENOENT) {
        return IGW_OK;
    }
    if (rv != IGW_OK) {
        return rv;
    }
    if (qrec_deliv_decode(&v, &d) != IGW_OK || d.state != IGW_DS_INFLIGHT) {
        return IGW_OK;
    }
    rv = msg_channel(b, o->id, channel, &clen);
    if (rv == IGW_OK) {
        count_dec(&b->counts.inflight);
        rv = complete_apply(b, o, rlen, &d, &kind);
    }
    if (rv == IGW_OK) {
        rv = qev_add(b, kind, o->id, qbytes_of(channel, clen), o->route, rlen,
                     d.error_len > 0 ? qbytes_of(d.error, d.error_len) : qbytes_str(NULL),
                     d.attempts,
                     kind == IGW_QEV_RETRY || kind == IGW_QEV_RELEASED ? d.next_due_ms : 0);
    }
    return rv;
}

int
qapply_complete(struct qbatch *b, struct qreq *r)
{
    int rv = IGW_OK;
    for (unsigned i = 0; rv == IGW_OK && i < r->u.complete.n; i++) {
        rv = complete_one(b, &r->u.complete.o[i]);
    }
    return rv;
}

/* ---- release ----------------------------------------------------------------------------- */

/* Retry now: a pending delivery due later than now becomes due now (its due entry moves). */
static int
retry_one(struct qbatch *b, uint64_t id, const char *route, size_t rlen, struct qbytes channel,
          struct qdeliv_rec *d, unsigned *changed)
{
    struct qkey k;
    int rv;

    if (d->state != IGW_DS_PENDING || d->next_due_ms <= b->now_ms) {
        return IGW_OK;
    }
    qkey_due(&k, d->next_due_ms, id, route, rlen);
    rv = qdb_del(b, QDB_DUE, &k);
    if (rv == IGW_OK || rv == IGW_ENOENT) {
        rv = qdeliv_schedule(b, id, route, rlen, d, b->now_ms);
    }
    if (rv == IGW_OK) {
        (*changed)++;
        rv = qev_add(b, IGW_QEV_RETRY, id, channel, route, rlen, qbytes_str(NULL), d->attempts,
                     b->now_ms);
    }
    return rv;
}

static int
release_one(struct qbatch *b, struct qrelease_req *rel, const char *route, size_t rlen,
            struct qbytes channel)
{
    uint64_t id = rel->id;
    struct qdeliv_rec d;
    struct qkey k;
    MDB_val v;
    int rv;

    qkey_id_route(&k, id, route, rlen);
    rv = qdb_get(b, QDB_DELIV, &k, &v);
    if (rv != IGW_OK) {
        return rv;
    }
    if (qrec_deliv_decode(&v, &d) != IGW_OK) {
        return IGW_OK;
    }
    if (rel->retry_now) {
        return retry_one(b, id, route, rlen, channel, &d, &rel->changed);
    }
    if (d.state != IGW_DS_DEAD) {
        return IGW_OK;
    }
    rv = qdb_del(b, QDB_DEAD, &k);
    if (rv == IGW_OK || rv == IGW_ENOENT) {
        d.attempts = 0;
        rv = qdeliv_schedule(b, id, route, rlen, &d, b->now_ms);
    }
    if (rv == IGW_OK) {
        count_dec(&b->counts.dead);
        b->counts.pending++;
        rel->changed++;
        rv = qev_add(b, IGW_QEV_RELEASED, id, channel, route, rlen, qbytes_str(NULL), 0, b->now_ms);
    }
    return rv;
}

/* Calls release_one for every delivery of message id. */
static int
release_all(struct qbatch *b, struct qrelease_req *rel, struct qbytes channel)
{
    uint64_t id = rel->id;
    MDB_cursor *cur = NULL;
    struct qkey pos;
    MDB_val key;
    MDB_val val;
    int rv = IGW_OK;
    int rc;

    qkey_id(&pos, id);
    rc = mdb_cursor_open(b->txn, b->q->dbi[QDB_DELIV], &cur);
    while (rc == MDB_SUCCESS && rv == IGW_OK) {
        key.mv_size = pos.len;
        key.mv_data = pos.b;
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc != MDB_SUCCESS || key.mv_size <= 8 || key.mv_size >= QF_KEY_MAX ||
            qget_be64(key.mv_data) != id) {
            break;
        }
        /* resume after this key: the smallest key greater than it is key + NUL */
        memcpy(pos.b, key.mv_data, key.mv_size);
        pos.b[key.mv_size] = 0;
        pos.len = key.mv_size + 1;
        rv = release_one(b, rel, (const char *)pos.b + 8, key.mv_size - 8, channel);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (rv == IGW_OK && rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        rv = qerr_map(rc, "release scan");
    }
    return rv;
}

int
qapply_release(struct qbatch *b, struct qreq *r)
{
    struct qrelease_req *rel = &r->u.release;
    char channel[IGW_QUEUE_NAME_MAX];
    size_t clen = 0;
    struct qkey k;
    MDB_val v;
    int rv;

    qkey_id(&k, rel->id);
    rv = qdb_get(b, QDB_MSGS, &k, &v);
    if (rv == IGW_ENOENT) {
        r->rv = IGW_ENOENT;
        return IGW_OK;
    }
    if (rv == IGW_OK) {
        rv = msg_channel(b, rel->id, channel, &clen);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    if (rel->route == NULL) {
        return release_all(b, rel, qbytes_of(channel, clen));
    }
    rv = release_one(b, rel, rel->route, strlen(rel->route), qbytes_of(channel, clen));
    if (rv == IGW_ENOENT) {
        r->rv = IGW_ENOENT;
        rv = IGW_OK;
    }
    return rv;
}
