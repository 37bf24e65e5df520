/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record and key encoding of the LMDB queue (docs/QUEUE-FORMAT.md is the reference), LMDB error
 * mapping and small txn helpers. Integers are big-endian; every value starts with QF_VERSION.
 * Each record has one encode function that runs twice: once without a destination to size the
 * value, once into space reserved in the map with MDB_RESERVE (no intermediate copy).
 */
#include <errno.h>
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "lmdb_int.h"

/* ---- integers ---------------------------------------------------------------------------- */

uint64_t
qget_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

void
qput_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xFFu);
        v >>= 8;
    }
}

struct qbytes
qbytes_of(const void *p, size_t len)
{
    struct qbytes b = {(const uint8_t *)p, len, true};
    return b;
}

struct qbytes
qbytes_str(const char *s)
{
    struct qbytes b = {(const uint8_t *)s, s == NULL ? 0 : strlen(s), s != NULL};
    return b;
}

/* ---- keys -------------------------------------------------------------------------------- */

static void
key_add(struct qkey *k, const void *p, size_t n)
{
    IGW_ASSERT(k->len + n <= sizeof(k->b));
    if (n > 0) {
        memcpy(k->b + k->len, p, n);
    }
    k->len += n;
}

static void
key_add64(struct qkey *k, uint64_t v)
{
    IGW_ASSERT(k->len + 8 <= sizeof(k->b));
    qput_be64(k->b + k->len, v);
    k->len += 8;
}

void
qkey_id(struct qkey *k, uint64_t id)
{
    k->len = 0;
    key_add64(k, id);
}

void
qkey_id_route(struct qkey *k, uint64_t id, const char *route, size_t rlen)
{
    k->len = 0;
    key_add64(k, id);
    key_add(k, route, rlen);
}

void
qkey_due(struct qkey *k, uint64_t due_ms, uint64_t id, const char *route, size_t rlen)
{
    k->len = 0;
    key_add64(k, due_ms);
    key_add64(k, id);
    key_add(k, route, rlen);
}

void
qkey_order(struct qkey *k, const char *route, size_t rlen, const char *okey, size_t olen,
           bool with_id, uint64_t id)
{
    uint8_t l[2] = {(uint8_t)(olen >> 8), (uint8_t)(olen & 0xFFu)};
    uint8_t nul = 0;

    k->len = 0;
    key_add(k, route, rlen);
    key_add(k, &nul, 1);
    key_add(k, l, 2);
    key_add(k, okey, olen);
    if (with_id) {
        key_add64(k, id);
    }
}

void
qkey_idem(struct qkey *k, const char *channel, size_t clen, const char *ikey, size_t ilen)
{
    uint8_t nul = 0;

    k->len = 0;
    key_add(k, channel, clen);
    key_add(k, &nul, 1);
    key_add(k, ikey, ilen);
}

void
qkey_str(struct qkey *k, const char *s)
{
    k->len = 0;
    key_add(k, s, strlen(s));
}

/* ---- errors and txn helpers -------------------------------------------------------------- */

int
qerr_map(int rc, const char *what)
{
    switch (rc) {
    case MDB_SUCCESS:
        return IGW_OK;
    case MDB_NOTFOUND:
        return IGW_ENOENT;
    case MDB_MAP_FULL:
        return IGW_ENOSPC;
    case ENOMEM:
        return IGW_ENOMEM;
    default:
        IGW_ERROR("queue: %s: %s", what, mdb_strerror(rc));
        return IGW_EIO;
    }
}

static MDB_val
kval(const struct qkey *k)
{
    MDB_val v = {k->len, (void *)(uintptr_t)k->b};
    return v;
}

int
qdb_get(struct qbatch *b, enum qdb db, const struct qkey *k, MDB_val *val)
{
    MDB_val key = kval(k);
    return qerr_map(mdb_get(b->txn, b->q->dbi[db], &key, val), "get");
}

int
qdb_del(struct qbatch *b, enum qdb db, const struct qkey *k)
{
    MDB_val key = kval(k);
    return qerr_map(mdb_del(b->txn, b->q->dbi[db], &key, NULL), "del");
}

int
qdb_put_raw(struct qbatch *b, enum qdb db, const struct qkey *k, const void *v, size_t n,
            unsigned flags)
{
    MDB_val key = kval(k);
    MDB_val val = {n, (void *)(uintptr_t)v};
    return qerr_map(mdb_put(b->txn, b->q->dbi[db], &key, &val, flags), "put");
}

/* ---- encoder / decoder ------------------------------------------------------------------- */

struct qenc {
    uint8_t *p; /* NULL: size only */
    size_t off;
};

static void
enc_raw(struct qenc *e, const void *p, size_t n)
{
    if (e->p != NULL && n > 0) {
        memcpy(e->p + e->off, p, n);
    }
    e->off += n;
}

static void
enc_uint(struct qenc *e, uint64_t v, unsigned nbytes)
{
    uint8_t t[8];
    for (unsigned i = 0; i < nbytes; i++) {
        t[nbytes - 1 - i] = (uint8_t)(v >> (8 * i));
    }
    enc_raw(e, t, nbytes);
}

/* u16 length (QF_OSTR_NONE = absent) + bytes; callers keep len < QF_OSTR_NONE */
static void
enc_ostr(struct qenc *e, struct qbytes s)
{
    if (!s.present) {
        enc_uint(e, QF_OSTR_NONE, 2);
        return;
    }
    enc_uint(e, s.len, 2);
    enc_raw(e, s.p, s.len);
}

/* u32 length + bytes */
static void
enc_blob(struct qenc *e, struct qbytes s)
{
    enc_uint(e, s.len, 4);
    enc_raw(e, s.p, s.len);
}

struct qdec {
    const uint8_t *p;
    size_t len;
    size_t off;
    bool bad;
};

static void
dec_init(struct qdec *d, const MDB_val *v)
{
    d->p = v->mv_data;
    d->len = v->mv_size;
    d->off = 0;
    d->bad = false;
    if (d->len < 1 || d->p[0] != QF_VERSION) {
        d->bad = true;
    } else {
        d->off = 1;
    }
}

static const uint8_t *
dec_raw(struct qdec *d, size_t n)
{
    const uint8_t *r;
    if (d->bad || d->len - d->off < n) {
        d->bad = true;
        return NULL;
    }
    r = d->p + d->off;
    d->off += n;
    return r;
}

static uint64_t
dec_uint(struct qdec *d, unsigned nbytes)
{
    const uint8_t *p = dec_raw(d, nbytes);
    uint64_t v = 0;
    if (p == NULL) {
        return 0;
    }
    for (unsigned i = 0; i < nbytes; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static struct qbytes
dec_ostr(struct qdec *d)
{
    struct qbytes s = {NULL, 0, false};
    uint64_t n = dec_uint(d, 2);
    if (d->bad || n == QF_OSTR_NONE) {
        return s;
    }
    s.p = dec_raw(d, (size_t)n);
    s.len = (size_t)n;
    s.present = s.p != NULL || n == 0;
    return s;
}

static struct qbytes
dec_blob(struct qdec *d)
{
    struct qbytes s = {NULL, 0, true};
    uint64_t n = dec_uint(d, 4);
    s.p = dec_raw(d, (size_t)n);
    s.len = (size_t)n;
    return s;
}

static int
dec_end(struct qdec *d, const char *what)
{
    if (d->bad || d->off != d->len) {
        IGW_ERROR("queue: corrupt %s record (%zu bytes)", what, d->len);
        return IGW_EIO;
    }
    return IGW_OK;
}

/* Sizes the record with enc(NULL), reserves the space in the map, encodes into it. */
typedef void (*qenc_fn)(struct qenc *e, const void *rec);

static int
put_rec(struct qbatch *b, enum qdb db, const struct qkey *k, qenc_fn fn, const void *rec,
        unsigned flags)
{
    struct qenc e = {NULL, 0};
    MDB_val key = kval(k);
    MDB_val val;
    int rc;

    fn(&e, rec);
    val.mv_size = e.off;
    val.mv_data = NULL;
    rc = mdb_put(b->txn, b->q->dbi[db], &key, &val, flags | MDB_RESERVE);
    if (rc != MDB_SUCCESS) {
        return qerr_map(rc, "put");
    }
    e.p = val.mv_data;
    e.off = 0;
    fn(&e, rec);
    return IGW_OK;
}

/* ---- msgs -------------------------------------------------------------------------------- */

static void
msg_enc(struct qenc *e, const void *rec)
{
    const struct qmsg_rec *r = rec;
    enc_uint(e, QF_VERSION, 1);
    enc_uint(e, r->created_ms, 8);
    enc_ostr(e, r->channel);
    enc_ostr(e, r->content_type);
    enc_blob(e, r->meta);
    enc_uint(e, r->nroutes, 2);
    enc_blob(e, r->body);
}

int
qrec_msg_put(struct qbatch *b, const struct qkey *k, const struct qmsg_rec *r)
{
    /* ids only grow: appending keeps the msgs tree dense */
    return put_rec(b, QDB_MSGS, k, msg_enc, r, MDB_APPEND);
}

int
qrec_msg_decode(const MDB_val *v, struct qmsg_rec *r)
{
    struct qdec d;
    dec_init(&d, v);
    r->created_ms = dec_uint(&d, 8);
    r->channel = dec_ostr(&d);
    r->content_type = dec_ostr(&d);
    r->meta = dec_blob(&d);
    r->nroutes = (uint32_t)dec_uint(&d, 2);
    r->body = dec_blob(&d);
    return dec_end(&d, "msgs");
}

/* ---- deliv ------------------------------------------------------------------------------- */

static void
deliv_enc(struct qenc *e, const void *rec)
{
    const struct qdeliv_rec *r = rec;
    enc_uint(e, QF_VERSION, 1);
    enc_uint(e, r->state, 1);
    enc_uint(e, r->attempts, 4);
    enc_uint(e, r->next_due_ms, 8);
    enc_uint(e, r->last_attempt_ms, 8);
    enc_uint(e, (uint32_t)r->last_status, 4);
    enc_ostr(e, r->ordered ? qbytes_of(r->order, r->order_len) : qbytes_str(NULL));
    enc_ostr(e, qbytes_of(r->error, r->error_len));
}

/* Writes a delivery record; when its state differs from the stored one (r->stored; 0 = new)
 * the route index and the route's counters follow in the same txn (index.c). */
int
qrec_deliv_put(struct qbatch *b, const struct qkey *k, struct qdeliv_rec *r)
{
    int rv = put_rec(b, QDB_DELIV, k, deliv_enc, r, 0);

    if (rv == IGW_OK && r->stored != r->state && k->len > 8) {
        rv = qidx_deliv_move(b, qget_be64(k->b), (const char *)k->b + 8, k->len - 8, r->stored,
                             r->state);
    }
    if (rv == IGW_OK) {
        r->stored = r->state;
    }
    return rv;
}

int
qrec_deliv_decode(const MDB_val *v, struct qdeliv_rec *r)
{
    struct qdec d;
    struct qbytes order;
    struct qbytes err;

    dec_init(&d, v);
    r->state = (uint8_t)dec_uint(&d, 1);
    r->attempts = (uint32_t)dec_uint(&d, 4);
    r->next_due_ms = dec_uint(&d, 8);
    r->last_attempt_ms = dec_uint(&d, 8);
    r->last_status = (int32_t)(uint32_t)dec_uint(&d, 4);
    order = dec_ostr(&d);
    err = dec_ostr(&d);
    if (order.len > sizeof(r->order) || err.len > QF_ERR_MAX || r->state < IGW_DS_PENDING ||
        r->state > IGW_DS_DEAD) {
        d.bad = true;
    }
    if (dec_end(&d, "deliv") != IGW_OK) {
        return IGW_EIO;
    }
    r->stored = r->state;
    r->ordered = order.present;
    r->order_len = order.len;
    if (order.len > 0) {
        memcpy(r->order, order.p, order.len);
    }
    r->error_len = err.len;
    if (err.len > 0) {
        memcpy(r->error, err.p, err.len);
    }
    r->error[err.len] = '\0';
    return IGW_OK;
}

/* ---- payloads ---------------------------------------------------------------------------- */

static void
payload_enc(struct qenc *e, const void *rec)
{
    const struct qpayload_rec *r = rec;
    enc_uint(e, QF_VERSION, 1);
    enc_ostr(e, r->content_type);
    enc_blob(e, r->data);
}

int
qrec_payload_put(struct qbatch *b, const struct qkey *k, const struct qpayload_rec *r)
{
    return put_rec(b, QDB_PAYLOADS, k, payload_enc, r, 0);
}

int
qrec_payload_decode(const MDB_val *v, struct qpayload_rec *r)
{
    struct qdec d;
    dec_init(&d, v);
    r->content_type = dec_ostr(&d);
    r->data = dec_blob(&d);
    return dec_end(&d, "payloads");
}

/* ---- dead -------------------------------------------------------------------------------- */

static void
dead_enc(struct qenc *e, const void *rec)
{
    const struct qdead_rec *r = rec;
    enc_uint(e, QF_VERSION, 1);
    enc_uint(e, r->dead_ms, 8);
    enc_uint(e, (uint32_t)r->status, 4);
    enc_ostr(e, r->error);
    enc_blob(e, r->response);
}

int
qrec_dead_put(struct qbatch *b, const struct qkey *k, const struct qdead_rec *r)
{
    return put_rec(b, QDB_DEAD, k, dead_enc, r, 0);
}

int
qrec_dead_decode(const MDB_val *v, struct qdead_rec *r)
{
    struct qdec d;
    dec_init(&d, v);
    r->dead_ms = dec_uint(&d, 8);
    r->status = (int32_t)(uint32_t)dec_uint(&d, 4);
    r->error = dec_ostr(&d);
    r->response = dec_blob(&d);
    return dec_end(&d, "dead");
}

/* ---- idem -------------------------------------------------------------------------------- */

static void
idem_enc(struct qenc *e, const void *rec)
{
    const struct qidem_rec *r = rec;
    enc_uint(e, QF_VERSION, 1);
    enc_uint(e, r->id, 8);
    enc_uint(e, r->created_ms, 8);
}

int
qrec_idem_put(struct qbatch *b, const struct qkey *k, const struct qidem_rec *r)
{
    return put_rec(b, QDB_IDEM, k, idem_enc, r, 0);
}

int
qrec_idem_decode(const MDB_val *v, struct qidem_rec *r)
{
    struct qdec d;
    dec_init(&d, v);
    r->id = dec_uint(&d, 8);
    r->created_ms = dec_uint(&d, 8);
    return dec_end(&d, "idem");
}

/* ---- meta -------------------------------------------------------------------------------- */

static void
counts_enc(struct qenc *e, const void *rec)
{
    const struct qcounts *c = rec;
    enc_uint(e, QF_VERSION, 1);
    enc_uint(e, c->messages, 8);
    enc_uint(e, c->pending, 8);
    enc_uint(e, c->inflight, 8);
    enc_uint(e, c->delivered, 8);
    enc_uint(e, c->dead, 8);
}

int
qrec_counts_put(struct qbatch *b, const struct qcounts *c)
{
    struct qkey k;
    qkey_str(&k, "counts");
    return put_rec(b, QDB_META, &k, counts_enc, c, 0);
}

int
qrec_counts_decode(const MDB_val *v, struct qcounts *c)
{
    struct qdec d;
    dec_init(&d, v);
    c->messages = dec_uint(&d, 8);
    c->pending = dec_uint(&d, 8);
    c->inflight = dec_uint(&d, 8);
    c->delivered = dec_uint(&d, 8);
    c->dead = dec_uint(&d, 8);
    return dec_end(&d, "meta counts");
}

static void
u64_enc(struct qenc *e, const void *rec)
{
    enc_uint(e, QF_VERSION, 1);
    enc_uint(e, *(const uint64_t *)rec, 8);
}

int
qrec_u64_put(struct qbatch *b, const char *name, uint64_t v)
{
    struct qkey k;
    qkey_str(&k, name);
    return put_rec(b, QDB_META, &k, u64_enc, &v, 0);
}

int
qrec_u64_decode(const MDB_val *v, uint64_t *out)
{
    struct qdec d;
    dec_init(&d, v);
    *out = dec_uint(&d, 8);
    return dec_end(&d, "meta");
}
