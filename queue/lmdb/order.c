/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scheduling of deliveries and per-key ordering.
 *
 * `order` holds one entry per ordered delivery that is pending or in flight, keyed
 * (route, order key, id), so the first entry of a (route, key) prefix is its head. Only the head
 * of each (route, key) has a `due` entry: followers wait without one and are promoted when the
 * head leaves (delivered, dead or purged). Claims therefore never scan a blocked backlog; the
 * head check in claim (qorder_is_first) stays as the authority, because releasing an older dead
 * letter can put a new head in front of a follower that already has its due entry.
 */
#include <string.h>

#include "igw/common.h"
#include "lmdb_int.h"

/* The id of the first entry of (route, key) in `order`; *found is false when there is none. */
static int
order_head(struct qbatch *b, const char *route, size_t rlen, const char *okey, size_t olen,
           bool *found, uint64_t *head)
{
    MDB_cursor *cur = NULL;
    struct qkey pk;
    MDB_val key;
    MDB_val val;
    int rc;

    *found = false;
    qkey_order(&pk, route, rlen, okey, olen, false, 0);
    rc = mdb_cursor_open(b->txn, b->q->dbi[QDB_ORDER], &cur);
    if (rc != MDB_SUCCESS) {
        return qerr_map(rc, "cursor");
    }
    key.mv_size = pk.len;
    key.mv_data = pk.b;
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    mdb_cursor_close(cur);
    if (rc == MDB_SUCCESS && key.mv_size == pk.len + 8 && memcmp(key.mv_data, pk.b, pk.len) == 0) {
        *found = true;
        *head = qget_be64((const uint8_t *)key.mv_data + pk.len);
    }
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? IGW_OK : qerr_map(rc, "order");
}

int
qorder_is_first(struct qbatch *b, uint64_t id, const char *route, size_t rlen,
                const struct qdeliv_rec *d, bool *first)
{
    uint64_t head = id;
    bool found = false;
    int rv = order_head(b, route, rlen, d->order, d->order_len, &found, &head);

    *first = !found || head == id; /* a missing entry never blocks */
    return rv;
}

/* Makes d PENDING at due_ms and writes its record, its order entry and, when it is the head of
 * its (route, key) or unordered, its due entry. */
int
qdeliv_schedule(struct qbatch *b, uint64_t id, const char *route, size_t rlen, struct qdeliv_rec *d,
                uint64_t due_ms)
{
    struct qkey k;
    bool first = true;
    int rv;

    d->state = IGW_DS_PENDING;
    d->next_due_ms = due_ms;
    qkey_id_route(&k, id, route, rlen);
    rv = qrec_deliv_put(b, &k, d);
    if (rv == IGW_OK && d->ordered) {
        qkey_order(&k, route, rlen, d->order, d->order_len, true, id);
        rv = qdb_put_raw(b, QDB_ORDER, &k, NULL, 0, 0);
        if (rv == IGW_OK) {
            rv = qorder_is_first(b, id, route, rlen, d, &first);
        }
    }
    if (rv == IGW_OK && first) {
        qkey_due(&k, due_ms, id, route, rlen);
        rv = qdb_put_raw(b, QDB_DUE, &k, NULL, 0, 0);
    }
    if (rv == IGW_OK && first) {
        rv = qknown_route_add(b->q, route, rlen);
    }
    return rv;
}

/* Gives the new head of (route, key), if pending, its due entry. */
static int
promote(struct qbatch *b, const char *route, size_t rlen, const struct qdeliv_rec *old)
{
    struct qdeliv_rec d;
    struct qkey k;
    MDB_val v;
    uint64_t head = 0;
    bool found = false;
    int rv = order_head(b, route, rlen, old->order, old->order_len, &found, &head);

    if (rv != IGW_OK || !found) {
        return rv;
    }
    qkey_id_route(&k, head, route, rlen);
    rv = qdb_get(b, QDB_DELIV, &k, &v);
    if (rv == IGW_ENOENT) {
        return IGW_OK;
    }
    if (rv != IGW_OK || qrec_deliv_decode(&v, &d) != IGW_OK || d.state != IGW_DS_PENDING) {
        return rv;
    }
    qkey_due(&k, d.next_due_ms, head, route, rlen);
    rv = qdb_put_raw(b, QDB_DUE, &k, NULL, 0, 0);
    return rv == IGW_OK ? qknown_route_add(b->q, route, rlen) : rv;
}

/* Removes the order entry of (id, route) (delivered, dead or purged) and promotes the next. */
int
qorder_remove(struct qbatch *b, uint64_t id, const char *route, size_t rlen,
              const struct qdeliv_rec *d)
{
    struct qkey k;
    int rv;

    if (!d->ordered) {
        return IGW_OK;
    }
    qkey_order(&k, route, rlen, d->order, d->order_len, true, id);
    rv = qdb_del(b, QDB_ORDER, &k);
    if (rv == IGW_ENOENT) {
        return IGW_OK;
    }
    return rv == IGW_OK ? promote(b, route, rlen, d) : rv;
}
