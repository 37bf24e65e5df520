/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LMDB backend's admin reads (one short read txn each, on the caller's thread): the
 * listing (igw_queue_list) over the indexes of index.c, per-route and per-channel counters,
 * the attempts of a delivery and a route's payload.
 *
 * Listing: one or more "streams", each a prefix of an index whose keys end in a big-endian id,
 * walked backwards from `before`; several streams (a route in every state, a state in every
 * route) are merged on the id, newest first, equal ids once. The other filters are checked on
 * each candidate's message and delivery records, within a budget.
 */
#include <string.h>

#include "igw/common.h"
#include "lmdb_int.h"

#define STREAMS_MAX 512 /* state over all routes: beyond this many routes, walk the messages */

struct stream {
    MDB_cursor *cur;
    struct qkey pre; /* the keys are pre + id (8 bytes) */
    uint64_t id;
    bool valid;
};

struct lister {
    MDB_txn *txn;
    qlmdb *q;
    const struct igw_queue_filter *f;
    struct stream *st;
    unsigned nst;
    unsigned text_left;
    uint64_t since_id; /* ids below this are older than since (0 = none) */
};

static int
read_begin(qlmdb *q, MDB_txn **txn)
{
    int rc = mdb_txn_begin(q->env, NULL, MDB_RDONLY, txn);
    if (rc != MDB_SUCCESS) {
        *txn = NULL;
    }
    return qerr_map(rc, "read txn begin");
}

/* ---- streams ----------------------------------------------------------------------------- */

static void
stream_check(struct stream *s, int rc, const MDB_val *key)
{
    s->valid = rc == MDB_SUCCESS && key->mv_size == s->pre.len + 8 &&
               (s->pre.len == 0 || memcmp(key->mv_data, s->pre.b, s->pre.len) == 0);
    s->id = s->valid ? qget_be64((const uint8_t *)key->mv_data + s->pre.len) : 0;
}

/* Positions s on its last entry with an id below `before`. */
static int
stream_seek(struct lister *l, struct stream *s, enum qdb db, uint64_t before)
{
    struct qkey k = s->pre;
    MDB_val key;
    MDB_val val;
    int rc = mdb_cursor_open(l->txn, l->q->dbi[db], &s->cur);

    if (rc != MDB_SUCCESS) {
        s->cur = NULL;
        return qerr_map(rc, "cursor");
    }
    qput_be64(k.b + k.len, before);
    k.len += 8;
    key.mv_size = k.len;
    key.mv_data = k.b;
    rc = mdb_cursor_get(s->cur, &key, &val, MDB_SET_RANGE);
    rc = rc == MDB_SUCCESS    ? mdb_cursor_get(s->cur, &key, &val, MDB_PREV)
         : rc == MDB_NOTFOUND ? mdb_cursor_get(s->cur, &key, &val, MDB_LAST)
                              : rc;
    stream_check(s, rc, &key);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? IGW_OK : qerr_map(rc, "list seek");
}

static int
stream_prev(struct stream *s)
{
    MDB_val key;
    MDB_val val;
    int rc = mdb_cursor_get(s->cur, &key, &val, MDB_PREV);

    stream_check(s, rc, &key);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? IGW_OK : qerr_map(rc, "list walk");
}

/* The newest id of every stream (0 when all are done); streams at it move on. */
static int
merge_next(struct lister *l, uint64_t *id)
{
    int rv = IGW_OK;

    *id = 0;
    for (unsigned i = 0; i < l->nst; i++) {
        if (l->st[i].valid && l->st[i].id > *id) {
            *id = l->st[i].id;
        }
    }
    for (unsigned i = 0; rv == IGW_OK && *id != 0 && i < l->nst; i++) {
        while (rv == IGW_OK && l->st[i].valid && l->st[i].id >= *id) {
            rv = stream_prev(&l->st[i]);
        }
    }
    return rv;
}

static bool
merge_more(const struct lister *l)
{
    for (unsigned i = 0; i < l->nst; i++) {
        if (l->st[i].valid) {
            return true;
        }
    }
    return false;
}

/* ---- estimates and the choice of streams -------------------------------------------------- */

static uint64_t
route_count(MDB_txn *txn, qlmdb *q, const char *route, enum igw_delivery_state st)
{
    uint64_t c[4] = {0, 0, 0, 0};
    struct qkey k;
    MDB_val key;
    MDB_val v;

    qkey_str(&k, route);
    key.mv_size = k.len;
    key.mv_data = k.b;

    if (mdb_get(txn, q->dbi[QDB_RSTATS], &key, &v) != MDB_SUCCESS ||
        qrec_rstats_decode(&v, c) != IGW_OK) {
        return 0;
    }
    return st != 0 ? c[st - 1] : c[0] + c[1] + c[2] + c[3];
}

static uint64_t
channel_count(MDB_txn *txn, qlmdb *q, const char *ch)
{
    struct qkey k;
    MDB_val key;
    MDB_val v;

    qkey_str(&k, ch);
    key.mv_size = k.len;
    key.mv_data = k.b;

    if (mdb_get(txn, q->dbi[QDB_CSTATS], &key, &v) != MDB_SUCCESS || v.mv_size != 9) {
        return 0;
    }
    return qget_be64((const uint8_t *)v.mv_data + 1);
}

/* Deliveries in state st over every route, and the routes that have any (up to max). */
static uint64_t
state_count(MDB_txn *txn, qlmdb *q, enum igw_delivery_state st, struct qkey *routes, unsigned max,
            unsigned *nroutes)
{
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val v;
    uint64_t sum = 0;
    uint64_t c[4];
    int rc = mdb_cursor_open(txn, q->dbi[QDB_RSTATS], &cur);

    *nroutes = 0;
    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur, &key, &v, MDB_FIRST) : rc;
    while (rc == MDB_SUCCESS) {
        if (key.mv_size <= IGW_QUEUE_NAME_MAX && qrec_rstats_decode(&v, c) == IGW_OK &&
            c[st - 1] > 0) {
            sum += c[st - 1];
            if (*nroutes < max) {
                routes[*nroutes].len = key.mv_size;
                memcpy(routes[*nroutes].b, key.mv_data, key.mv_size);
            }
            (*nroutes)++;
        }
        rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    return *nroutes > max ? UINT64_MAX : sum;
}

static int
add_stream(struct lister *l, enum qdb db, const struct qkey *pre, uint64_t before)
{
    struct stream *s = &l->st[l->nst++];

    s->pre = *pre;
    return stream_seek(l, s, db, before);
}

/* Sets up the streams of the cheapest index for f (none when a counter says nothing can
 * match). */
static int
choose(struct lister *l, uint64_t before)
{
    const struct igw_queue_filter *f = l->f;
    struct qkey *routes = NULL;
    uint64_t best = UINT64_MAX;
    uint64_t est;
    unsigned nroutes = 0;
    enum { BY_ALL, BY_ROUTE, BY_CHANNEL, BY_STATE, BY_NONE } by = BY_ALL;
    struct qkey k;
    int rv = IGW_OK;

    if (f->route != NULL && (est = route_count(l->txn, l->q, f->route, f->state)) < best) {
        best = est;
        by = BY_ROUTE;
    }
    if (f->channel != NULL && (est = channel_count(l->txn, l->q, f->channel)) < best) {
        best = est;
        by = BY_CHANNEL;
    }
    if (f->state != 0 && f->route == NULL) {
        routes = igw_calloc(STREAMS_MAX, sizeof(*routes));
        if (routes == NULL) {
            return IGW_ENOMEM;
        }
        est = state_count(l->txn, l->q, f->state, routes, STREAMS_MAX, &nroutes);
        if (est < best) {
            best = est;
            by = BY_STATE;
        }
    }
    if (by != BY_ALL && best == 0) {
        by = BY_NONE; /* nothing matches: no stream */
    }
    if (by == BY_ROUTE) {
        for (uint8_t s = IGW_DS_PENDING; rv == IGW_OK && s <= IGW_DS_DEAD; s++) {
            if (f->state == 0 || f->state == s) {
                qkey_iroute(&k, f->route, strlen(f->route), s, false, 0);
                rv = add_stream(l, QDB_IROUTE, &k, before);
            }
        }
    } else if (by == BY_CHANNEL) {
        qkey_ichan(&k, f->channel, strlen(f->channel), false, 0);
        rv = add_stream(l, QDB_ICHAN, &k, before);
    } else if (by == BY_STATE) {
        for (unsigned i = 0; rv == IGW_OK && i < nroutes; i++) {
            qkey_iroute(&k, (const char *)routes[i].b, routes[i].len, (uint8_t)f->state, false, 0);
            rv = add_stream(l, QDB_IROUTE, &k, before);
        }
    } else if (by == BY_ALL) {
        k.len = 0;
        rv = add_stream(l, QDB_MSGS, &k, before);
    }
    igw_free(routes);
    return rv;
}

/* ---- time bounds ------------------------------------------------------------------------- */

/* The smallest stored id whose message was created at or after t (UINT64_MAX when none):
 * bisection on the id space, ids growing with time. */
static int
id_at(struct lister *l, uint64_t t, uint64_t *out)
{
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val v;
    uint64_t lo;
    uint64_t hi;
    int rc = mdb_cursor_open(l->txn, l->q->dbi[QDB_MSGS], &cur);

    *out = UINT64_MAX;
    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur, &key, &v, MDB_LAST) : rc;
    if (rc != MDB_SUCCESS || key.mv_size != 8) {
        goto done;
    }
    hi = qget_be64(key.mv_data) + 1; /* answer in [lo, hi]; hi = none */
    lo = 0;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        struct qkey k;
        struct qmsg_rec m;
        qkey_id(&k, mid);
        key.mv_size = k.len;
        key.mv_data = k.b;
        rc = mdb_cursor_get(cur, &key, &v, MDB_SET_RANGE);
        if (rc != MDB_SUCCESS || key.mv_size != 8) {
            hi = mid; /* nothing at or after mid */
            rc = MDB_SUCCESS;
            continue;
        }
        if (qrec_msg_decode(&v, &m) == IGW_OK && m.created_ms >= t) {
            hi = mid; /* the id found is an answer, and so may be one below mid */
            if (qget_be64(key.mv_data) < *out) {
                *out = qget_be64(key.mv_data);
            }
        } else {
            lo = qget_be64(key.mv_data) + 1;
        }
    }
done:
    mdb_cursor_close(cur);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? IGW_OK : qerr_map(rc, "list time");
}

/* ---- candidates -------------------------------------------------------------------------- */

static bool
contains(const uint8_t *p, size_t n, const uint8_t *w, size_t wn)
{
    if (n > IGW_QUEUE_TEXT_SCAN) {
        n = IGW_QUEUE_TEXT_SCAN;
    }
    for (size_t i = 0; wn <= n && i <= n - wn; i++) {
        const uint8_t *c = memchr(p + i, w[0], n - wn - i + 1);
        if (c == NULL) {
            return false;
        }
        i = (size_t)(c - p);
        if (memcmp(c, w, wn) == 0) {
            return true;
        }
    }
    return false;
}

static bool
name_eq(struct qbytes b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.p, s, b.len) == 0;
}

/* Delivery-level filters of one delivery record. */
static bool
deliv_matches(const struct igw_queue_filter *f, const MDB_val *key, const struct qdeliv_rec *d)
{
    if (f->route != NULL &&
        !name_eq(qbytes_of((const uint8_t *)key->mv_data + 8, key->mv_size - 8), f->route)) {
        return false;
    }
    if (f->state != 0 && d->state != f->state) {
        return false;
    }
    return f->order_key == NULL || (d->ordered && d->order_len == f->order_key_len &&
                                    memcmp(d->order, f->order_key, d->order_len) == 0);
}

static enum igw_delivery_state
state_merge(enum igw_delivery_state acc, uint8_t s)
{
    static const int rank[5] = {0, 2, 3, 1, 4}; /* delivered < pending < inflight < dead */
    return s <= IGW_DS_DEAD && rank[s] > rank[acc] ? (enum igw_delivery_state)s : acc;
}

/* Checks candidate id; *match with *it filled, *stop when the text budget is spent before
 * this candidate's body was searched (then *match is false and the caller ends the page). */
static int
check(struct lister *l, uint64_t id, struct igw_queue_list_item *it, bool *match, bool *stop)
{
    const struct igw_queue_filter *f = l->f;
    bool want_deliv = f->route != NULL || f->state != 0 || f->order_key != NULL;
    bool deliv_ok = !want_deliv;
    enum igw_delivery_state agg = 0;
    MDB_cursor *cur = NULL;
    struct qmsg_rec m;
    struct qdeliv_rec d;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rc;

    *match = false;
    *stop = false;
    qkey_id(&k, id);
    key.mv_size = k.len;
    key.mv_data = k.b;
    rc = mdb_get(l->txn, l->q->dbi[QDB_MSGS], &key, &v);
    if (rc == MDB_NOTFOUND || (rc == MDB_SUCCESS && qrec_msg_decode(&v, &m) != IGW_OK)) {
        return IGW_OK;
    }
    if (rc != MDB_SUCCESS) {
        return qerr_map(rc, "list msg");
    }
    if ((f->since_ms != 0 && m.created_ms < f->since_ms) ||
        (f->until_ms != 0 && m.created_ms >= f->until_ms) ||
        (f->channel != NULL && !name_eq(m.channel, f->channel))) {
        return IGW_OK;
    }
    rc = mdb_cursor_open(l->txn, l->q->dbi[QDB_DELIV], &cur);
    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur, &key, &v, MDB_SET_RANGE) : rc;
    while (rc == MDB_SUCCESS && key.mv_size > 8 && qget_be64(key.mv_data) == id) {
        if (qrec_deliv_decode(&v, &d) == IGW_OK) {
            agg = state_merge(agg, d.state);
            deliv_ok = deliv_ok || deliv_matches(f, &key, &d);
        }
        rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
        return qerr_map(rc, "list deliveries");
    }
    if (!deliv_ok) {
        return IGW_OK;
    }
    if (f->text != NULL) {
        if (l->text_left == 0) {
            *stop = true;
            return IGW_OK;
        }
        l->text_left--;
        if (!contains(m.body.p, m.body.len, f->text, f->text_len)) {
            return IGW_OK;
        }
    }
    memset(it, 0, sizeof(*it));
    it->id = id;
    it->created_ms = m.created_ms;
    memcpy(it->channel, m.channel.p, m.channel.len < IGW_QUEUE_NAME_MAX ? m.channel.len : 128);
    it->body_len = m.body.len;
    it->state = agg != 0 ? agg : IGW_DS_DELIVERED;
    *match = true;
    return IGW_OK;
}

/* The one candidate of an idempotency key (0 = none). */
static uint64_t
idem_id(struct lister *l)
{
    struct qkey k;
    struct qidem_rec ir;
    MDB_val key;
    MDB_val v;

    qkey_idem(&k, l->f->channel, strlen(l->f->channel), l->f->idem_key, l->f->idem_key_len);
    key.mv_size = k.len;
    key.mv_data = k.b;
    if (mdb_get(l->txn, l->q->dbi[QDB_IDEM], &key, &v) != MDB_SUCCESS ||
        qrec_idem_decode(&v, &ir) != IGW_OK) {
        return 0;
    }
    return ir.id;
}

static int
walk(struct lister *l, uint64_t before, unsigned max, struct igw_queue_list_item *out,
     struct igw_queue_list_page *pg)
{
    uint64_t id = 0;
    bool match;
    bool stop = false;
    int rv = choose(l, before);

    while (rv == IGW_OK && pg->n < max) {
        if (pg->examined >= IGW_QUEUE_LIST_BUDGET) {
            pg->partial = true;
            pg->next = id; /* ids below the last one examined */
            return IGW_OK;
        }
        rv = merge_next(l, &id);
        if (rv != IGW_OK || id == 0 || (l->f->since_ms != 0 && id < l->since_id)) {
            return rv; /* the end: next 0 */
        }
        pg->examined++;
        rv = check(l, id, &out[pg->n], &match, &stop);
        if (rv == IGW_OK && stop) {
            pg->partial = true;
            pg->next = id + 1; /* out of text budget: this one is searched on the next call */
            return IGW_OK;
        }
        pg->n += rv == IGW_OK && match ? 1 : 0;
    }
    if (rv == IGW_OK && merge_more(l)) {
        pg->next = id;
    }
    return rv;
}

int
qlmdb_list(void *be, const struct igw_queue_filter *f, uint64_t before, unsigned max,
           struct igw_queue_list_item *out, struct igw_queue_list_page *pg)
{
    struct lister l;
    uint64_t b = before == 0 ? UINT64_MAX : before;
    uint64_t u;
    int rv;

    memset(&l, 0, sizeof(l));
    l.q = be;
    l.f = f;
    l.text_left = IGW_QUEUE_TEXT_BUDGET;
    if (max == 0) {
        return IGW_OK;
    }
    l.st = igw_calloc(STREAMS_MAX, sizeof(*l.st));
    if (l.st == NULL) {
        return IGW_ENOMEM;
    }
    rv = read_begin(l.q, &l.txn);
    if (rv == IGW_OK && f->until_ms != 0) {
        rv = id_at(&l, f->until_ms, &u);
        b = rv == IGW_OK && u < b ? u : b;
    }
    if (rv == IGW_OK && f->since_ms != 0) {
        rv = id_at(&l, f->since_ms, &l.since_id);
    }
    if (rv == IGW_OK && f->idem_key != NULL) {
        uint64_t id = idem_id(&l);
        bool match = false;
        bool stop = false;
        if (id != 0 && id < b) {
            pg->examined = 1;
            rv = check(&l, id, &out[0], &match, &stop);
            pg->n = match ? 1 : 0;
        }
    } else if (rv == IGW_OK && b > 1) {
        rv = walk(&l, b, max, out, pg);
    }
    for (unsigned i = 0; i < l.nst; i++) {
        if (l.st[i].cur != NULL) {
            mdb_cursor_close(l.st[i].cur);
        }
    }
    if (l.txn != NULL) {
        mdb_txn_abort(l.txn);
    }
    igw_free(l.st);
    return rv;
}

/* ---- counters ---------------------------------------------------------------------------- */

/* created_ms of the oldest pending delivery of route (0 = none): the first iroute entry. */
static uint64_t
oldest_pending(MDB_txn *txn, qlmdb *q, const char *route, size_t rlen)
{
    MDB_cursor *cur = NULL;
    struct qkey k;
    struct qmsg_rec m;
    MDB_val key;
    MDB_val v;
    uint64_t t = 0;
    int rc = mdb_cursor_open(txn, q->dbi[QDB_IROUTE], &cur);

    qkey_iroute(&k, route, rlen, IGW_DS_PENDING, false, 0);
    key.mv_size = k.len;
    key.mv_data = k.b;
    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur, &key, &v, MDB_SET_RANGE) : rc;
    if (rc == MDB_SUCCESS && key.mv_size == k.len + 8 && memcmp(key.mv_data, k.b, k.len) == 0) {
        qkey_id(&k, qget_be64((const uint8_t *)key.mv_data + k.len));
        key.mv_size = k.len;
        key.mv_data = k.b;
        if (mdb_get(txn, q->dbi[QDB_MSGS], &key, &v) == MDB_SUCCESS &&
            qrec_msg_decode(&v, &m) == IGW_OK) {
            t = m.created_ms > 0 ? m.created_ms : 1;
        }
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    return t;
}

static int
stats_walk(qlmdb *q, enum qdb db, void *out, unsigned max, unsigned *n)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val key;
    MDB_val v;
    int rv = read_begin(q, &txn);
    int rc = rv == IGW_OK ? mdb_cursor_open(txn, q->dbi[db], &cur) : MDB_NOTFOUND;

    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur, &key, &v, MDB_FIRST) : rc;
    while (rv == IGW_OK && rc == MDB_SUCCESS && *n < max) {
        if (key.mv_size >= 1 && key.mv_size <= IGW_QUEUE_NAME_MAX && db == QDB_RSTATS) {
            struct igw_queue_route_stats *r = &((struct igw_queue_route_stats *)out)[*n];
            uint64_t c[4];
            if (qrec_rstats_decode(&v, c) == IGW_OK) {
                memset(r, 0, sizeof(*r));
                memcpy(r->route, key.mv_data, key.mv_size);
                r->pending = c[0];
                r->inflight = c[1];
                r->delivered = c[2];
                r->dead = c[3];
                r->oldest_pending_ms = c[0] > 0 ? oldest_pending(txn, q, r->route, key.mv_size) : 0;
                (*n)++;
            }
        } else if (key.mv_size >= 1 && key.mv_size <= IGW_QUEUE_NAME_MAX && v.mv_size == 9) {
            struct igw_queue_channel_stats *c = &((struct igw_queue_channel_stats *)out)[*n];
            memset(c, 0, sizeof(*c));
            memcpy(c->channel, key.mv_data, key.mv_size);
            c->messages = qget_be64((const uint8_t *)v.mv_data + 1);
            (*n)++;
        }
        rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    return rv == IGW_OK && rc != MDB_SUCCESS && rc != MDB_NOTFOUND ? qerr_map(rc, "stats") : rv;
}

int
qlmdb_route_stats(void *be, struct igw_queue_route_stats *out, unsigned max, unsigned *n)
{
    return stats_walk(be, QDB_RSTATS, out, max, n);
}

int
qlmdb_channel_stats(void *be, struct igw_queue_channel_stats *out, unsigned max, unsigned *n)
{
    return stats_walk(be, QDB_CSTATS, out, max, n);
}

/* ---- attempts and payloads --------------------------------------------------------------- */

static bool
attempt_decode(const MDB_val *v, uint32_t seq, struct igw_queue_attempt *a)
{
    const uint8_t *p = v->mv_data;
    size_t elen;

    if (v->mv_size < 20 || p[0] != QF_VERSION) {
        return false;
    }
    elen = ((size_t)p[18] << 8) | p[19];
    if (v->mv_size != 20 + elen || elen >= sizeof(a->error)) {
        return false;
    }
    memset(a, 0, sizeof(*a));
    a->n = seq + 1;
    a->time_ms = qget_be64(p + 1);
    a->duration_ms =
        ((uint32_t)p[9] << 24) | ((uint32_t)p[10] << 16) | ((uint32_t)p[11] << 8) | p[12];
    a->status =
        (int)(((uint32_t)p[13] << 24) | ((uint32_t)p[14] << 16) | ((uint32_t)p[15] << 8) | p[16]);
    a->result = (enum igw_deliver_result)p[17];
    if (elen > 0) {
        memcpy(a->error, p + 20, elen);
    }
    return true;
}

int
qlmdb_attempts(void *be, uint64_t id, const char *route, struct igw_queue_attempt *out,
               unsigned max, unsigned *n, uint32_t *total)
{
    qlmdb *q = be;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    struct qkey pre;
    MDB_val key;
    MDB_val v;
    int rv = read_begin(q, &txn);
    int rc = rv == IGW_OK ? mdb_cursor_open(txn, q->dbi[QDB_ATTEMPTS], &cur) : MDB_NOTFOUND;

    qkey_att(&pre, id, route, strlen(route), false, 0);
    key.mv_size = pre.len;
    key.mv_data = pre.b;
    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur, &key, &v, MDB_SET_RANGE) : rc;
    while (rv == IGW_OK && rc == MDB_SUCCESS && key.mv_size == pre.len + 4 &&
           memcmp(key.mv_data, pre.b, pre.len) == 0) {
        const uint8_t *s = (const uint8_t *)key.mv_data + pre.len;
        uint32_t seq =
            ((uint32_t)s[0] << 24) | ((uint32_t)s[1] << 16) | ((uint32_t)s[2] << 8) | s[3];
        *total = seq + 1;
        if (*n < max && attempt_decode(&v, seq, &out[*n])) {
            (*n)++;
        }
        rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT);
    }
    if (cur != NULL) {
        mdb_cursor_close(cur);
    }
    if (txn != NULL) {
        mdb_txn_abort(txn);
    }
    return rv == IGW_OK && rc != MDB_SUCCESS && rc != MDB_NOTFOUND ? qerr_map(rc, "attempts") : rv;
}

int
qlmdb_payload_get(void *be, uint64_t id, const char *route, struct igw_queue_payload *out)
{
    qlmdb *q = be;
    MDB_txn *txn = NULL;
    struct qpayload_rec p;
    struct qkey k;
    MDB_val key;
    MDB_val v;
    int rv = read_begin(q, &txn);

    if (rv != IGW_OK) {
        return rv;
    }
    qkey_id_route(&k, id, route, strlen(route));
    key.mv_size = k.len;
    key.mv_data = k.b;
    rv = qerr_map(mdb_get(txn, q->dbi[QDB_PAYLOADS], &key, &v), "payload get");
    rv = rv == IGW_OK ? qrec_payload_decode(&v, &p) : rv;
    if (rv == IGW_OK && p.content_type.present) {
        out->content_type = igw_strndup((const char *)p.content_type.p, p.content_type.len);
        rv = out->content_type == NULL ? IGW_ENOMEM : IGW_OK;
    }
    if (rv == IGW_OK) {
        igw_buf_init(&out->data, p.data.len + 1);
        rv = igw_buf_append(&out->data, p.data.p, p.data.len);
    }
    mdb_txn_abort(txn);
    return rv;
}
