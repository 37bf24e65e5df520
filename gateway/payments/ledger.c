/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The payments ledger (ledger.h): an LMDB environment of its own with four databases:
 *   ref      reference_id -> struct igw_ledger_entry (the record, fixed layout, version 1)
 *   batch    transaction_id -> uint64 ack time (the batches the payment system acknowledged)
 *   payroll  payroll uuid NUL reference_id -> "" (the per-payroll index of reconciliation)
 *   mismatch big-endian uint64 sequence -> struct igw_ledger_mismatch
 *   open     reference_id -> "" for every entry not final (the overdue scan and the pending
 *            gauge walk only these, not the whole history)
 * Records are the host's struct layout behind a 4-byte version: the file is local to this
 * machine like the queue's (docs/QUEUE-FORMAT.md makes the same choice).
 */
#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "igw/err.h"
#include "payments/ledger.h"

#define LEDGER_VERSION 1u
#define DEFAULT_MAP (256ull << 20)

struct igw_ledger {
    MDB_env *env;
    MDB_dbi ref, batch, payroll, mismatch, open;
    uint64_t seq; /* last mismatch key */
};

/* An MDB_val over read-only bytes: LMDB's struct has no const, and never writes through a key
 * or a value it is given. */
static MDB_val
mv(const void *p, size_t n)
{
    MDB_val v;
    v.mv_size = n;
    v.mv_data = (void *)(uintptr_t)p;
    return v;
}

static void
cpy(char *dst, size_t size, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= size) {
        n = size - 1;
    }
    if (n > 0) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
}

static int
mkdirs(const char *dir, char *err, size_t errlen)
{
    char p[4096];
    size_t n = strlen(dir);

    if (n >= sizeof(p)) {
        igw_errbuf_set(err, errlen, "payments: ledger path too long");
        return IGW_EINVAL;
    }
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (mkdir(p, 0700) != 0 && errno != EEXIST) {
                igw_errbuf_set(err, errlen, "payments: mkdir %s: %s", p, strerror(errno));
                return IGW_EIO;
            }
            p[i] = c;
        }
    }
    return IGW_OK;
}

static int
lmdb_err(int rc)
{
    if (rc == MDB_NOTFOUND) {
        return IGW_ENOENT;
    }
    if (rc == MDB_MAP_FULL) {
        return IGW_ENOSPC;
    }
    return rc == ENOMEM ? IGW_ENOMEM : IGW_EIO;
}

int
igw_ledger_open(igw_ledger **out, const char *dir, uint64_t map_size, bool no_sync, char *err,
                size_t errlen)
{
    igw_ledger *l;
    MDB_txn *t = NULL;
    int rc, rv;

    *out = NULL;
    if (dir == NULL || dir[0] == '\0') {
        igw_errbuf_set(err, errlen, "payments: no ledger path");
        return IGW_EINVAL;
    }
    rv = mkdirs(dir, err, errlen);
    if (rv != IGW_OK) {
        return rv;
    }
    l = igw_calloc(1, sizeof(*l));
    if (l == NULL) {
        return IGW_ENOMEM;
    }
    rc = mdb_env_create(&l->env);
    if (rc == 0) {
        rc = mdb_env_set_maxdbs(l->env, 8);
    }
    if (rc == 0) {
        rc = mdb_env_set_mapsize(l->env, (size_t)(map_size != 0 ? map_size : DEFAULT_MAP));
    }
    if (rc == 0) {
        rc = mdb_env_open(l->env, dir, MDB_NOTLS | (no_sync ? MDB_NOSYNC : 0), 0600);
    }
    if (rc == 0) {
        int dead = 0;
        rc = mdb_reader_check(l->env, &dead);
    }
    if (rc == 0) {
        rc = mdb_txn_begin(l->env, NULL, 0, &t);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(t, "ref", MDB_CREATE, &l->ref);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(t, "batch", MDB_CREATE, &l->batch);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(t, "payroll", MDB_CREATE, &l->payroll);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(t, "mismatch", MDB_CREATE, &l->mismatch);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(t, "open", MDB_CREATE, &l->open);
    }
    if (rc == 0) {
        MDB_cursor *c;
        MDB_val k, v;
        rc = mdb_cursor_open(t, l->mismatch, &c);
        if (rc == 0) {
            if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8) {
                const unsigned char *b = k.mv_data;
                for (int i = 0; i < 8; i++) {
                    l->seq = l->seq << 8 | b[i];
                }
            }
            mdb_cursor_close(c);
        }
    }
    if (rc == 0) {
        rc = mdb_txn_commit(t);
        t = NULL;
    }
    if (rc != 0) {
        if (t != NULL) {
            mdb_txn_abort(t);
        }
        igw_errbuf_set(err, errlen, "payments: cannot open the ledger %s: %s", dir,
                       mdb_strerror(rc));
        if (l->env != NULL) {
            mdb_env_close(l->env);
        }
        igw_free(l);
        return rc == ENOMEM ? IGW_ENOMEM : IGW_EIO;
    }
    *out = l;
    return IGW_OK;
}

void
igw_ledger_close(igw_ledger *l)
{
    if (l != NULL) {
        mdb_env_close(l->env);
        igw_free(l);
    }
}

/* ---- records ------------------------------------------------------------------------------- */

struct rec {
    uint32_t version;
    struct igw_ledger_entry e;
};

static int
get_in(MDB_txn *t, igw_ledger *l, const char *ref, struct igw_ledger_entry *e)
{
    MDB_val k = mv(ref, strlen(ref)), v;
    int rc = mdb_get(t, l->ref, &k, &v);
    struct rec r;

    if (rc != 0) {
        return lmdb_err(rc);
    }
    if (v.mv_size != sizeof(r)) {
        return IGW_EIO;
    }
    memcpy(&r, v.mv_data, sizeof(r));
    if (r.version != LEDGER_VERSION) {
        return IGW_EIO;
    }
    *e = r.e;
    return IGW_OK;
}

static int
put_in(MDB_txn *t, igw_ledger *l, const struct igw_ledger_entry *e)
{
    struct rec r;
    MDB_val k = mv(e->ref, strlen(e->ref)), v = {sizeof(r), &r};

    memset(&r, 0, sizeof(r));
    r.version = LEDGER_VERSION;
    r.e = *e;
    return mdb_put(t, l->ref, &k, &v, 0);
}

int
igw_ledger_get(igw_ledger *l, const char *ref, struct igw_ledger_entry *e)
{
    MDB_txn *t;
    int rc, rv;

    if (strlen(ref) == 0 || strlen(ref) >= IGW_LEDGER_REF_MAX) {
        return IGW_ENOENT;
    }
    rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t);
    if (rc != 0) {
        return lmdb_err(rc);
    }
    rv = get_in(t, l, ref, e);
    mdb_txn_abort(t);
    return rv;
}

int
igw_ledger_batch_acked(igw_ledger *l, const char *txn, bool *acked)
{
    MDB_txn *t;
    MDB_val k = mv(txn, strlen(txn)), v;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t);

    *acked = false;
    if (rc != 0) {
        return lmdb_err(rc);
    }
    rc = mdb_get(t, l->batch, &k, &v);
    mdb_txn_abort(t);
    if (rc == 0) {
        *acked = true;
        return IGW_OK;
    }
    return rc == MDB_NOTFOUND ? IGW_OK : lmdb_err(rc);
}

static int
index_put(MDB_txn *t, igw_ledger *l, const char *payroll, const char *ref)
{
    char key[IGW_LEDGER_ID_MAX + IGW_LEDGER_REF_MAX];
    size_t pl = strlen(payroll), rl = strlen(ref);
    MDB_val k = {pl + 1 + rl, key}, v = mv("", 0);

    memcpy(key, payroll, pl);
    key[pl] = '\0';
    memcpy(key + pl + 1, ref, rl);
    return mdb_put(t, l->payroll, &k, &v, 0);
}

static int
record(igw_ledger *l, const char *txn, const struct igw_ledger_entry *e, size_t n, uint64_t now_ms,
       bool ack)
{
    MDB_txn *t;
    int rc = mdb_txn_begin(l->env, NULL, 0, &t);

    if (rc != 0) {
        return lmdb_err(rc);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct igw_ledger_entry old, ne = e[i];
        int g = get_in(t, l, ne.ref, &old);
        if (g == IGW_OK) {
            continue; /* already recorded: a repeat of this batch, kept as it is */
        }
        if (g != IGW_ENOENT) {
            rc = EIO;
            break;
        }
        ne.status = IGW_PAY_SENT;
        ne.created_ms = ne.updated_ms = now_ms;
        cpy(ne.txn, sizeof(ne.txn), txn);
        rc = put_in(t, l, &ne);
        if (rc == 0) {
            rc = index_put(t, l, ne.payroll, ne.ref);
        }
        if (rc == 0) {
            MDB_val k = mv(ne.ref, strlen(ne.ref)), v = mv("", 0);
            rc = mdb_put(t, l->open, &k, &v, 0);
        }
    }
    if (rc == 0 && ack) {
        MDB_val k = mv(txn, strlen(txn)), v = {sizeof(now_ms), &now_ms};
        rc = mdb_put(t, l->batch, &k, &v, 0);
    }
    if (rc != 0) {
        mdb_txn_abort(t);
        return lmdb_err(rc);
    }
    rc = mdb_txn_commit(t);
    return rc == 0 ? IGW_OK : lmdb_err(rc);
}

int
igw_ledger_record_batch(igw_ledger *l, const char *txn, const struct igw_ledger_entry *e, size_t n,
                        uint64_t now_ms)
{
    return record(l, txn, e, n, now_ms, true);
}

int
igw_ledger_record_sent(igw_ledger *l, const char *txn, const struct igw_ledger_entry *e, size_t n,
                       uint64_t now_ms)
{
    return record(l, txn, e, n, now_ms, false);
}

int
igw_ledger_batch_ack(igw_ledger *l, const char *txn, uint64_t now_ms)
{
    return record(l, txn, NULL, 0, now_ms, true);
}

/* ---- statuses ------------------------------------------------------------------------------ */

static bool
is_final(unsigned s)
{
    return s == IGW_PAY_SUCC || s == IGW_PAY_RJCT;
}

enum igw_ledger_verdict
igw_ledger_judge(const struct igw_ledger_entry *e, const struct igw_ledger_report *rp, char *why,
                 size_t whylen)
{
    if (e == NULL) {
        snprintf(why, whylen, "unknown reference_id");
        return IGW_LEDGER_MISMATCH;
    }
    if (rp->txn != NULL && rp->txn[0] != '\0' && strcmp(rp->txn, e->txn) != 0) {
        snprintf(why, whylen, "reference_id belongs to another transaction");
        return IGW_LEDGER_MISMATCH;
    }
    if (rp->has_amount && rp->amount != e->amount) {
        snprintf(why, whylen, "amount differs from the amount sent");
        return IGW_LEDGER_MISMATCH;
    }
    if (rp->currency != NULL && rp->currency[0] != '\0' && strcmp(rp->currency, e->currency) != 0) {
        snprintf(why, whylen, "currency differs from the currency sent");
        return IGW_LEDGER_MISMATCH;
    }
    if (is_final(e->status)) {
        if (rp->status == e->status || !is_final(rp->status)) {
            return IGW_LEDGER_SAME;
        }
        snprintf(why, whylen, "final status %s reported after %s", igw_pay_status_name(rp->status),
                 igw_pay_status_name(e->status));
        return IGW_LEDGER_MISMATCH;
    }
    return rp->status > e->status ? IGW_LEDGER_APPLY : IGW_LEDGER_SAME;
}

static int
mismatch_put(MDB_txn *t, igw_ledger *l, const struct igw_ledger_report *rp,
             const struct igw_ledger_entry *e, const char *why, uint64_t now_ms, uint64_t *seq)
{
    struct igw_ledger_mismatch m;
    unsigned char key[8];
    uint64_t s = ++*seq;
    MDB_val k = {8, key}, v = {sizeof(m), &m};

    memset(&m, 0, sizeof(m));
    m.ts_ms = now_ms;
    cpy(m.ref, sizeof(m.ref), rp->ref);
    cpy(m.txn, sizeof(m.txn), rp->txn);
    cpy(m.payroll, sizeof(m.payroll), e != NULL ? e->payroll : "");
    cpy(m.why, sizeof(m.why), why);
    cpy(m.amount, sizeof(m.amount), rp->amount_text);
    cpy(m.currency, sizeof(m.currency), rp->currency);
    cpy(m.status, sizeof(m.status), igw_pay_status_name(rp->status));
    for (int i = 7; i >= 0; i--) {
        key[i] = (unsigned char)(s & 0xff);
        s >>= 8;
    }
    return mdb_put(t, l->mismatch, &k, &v, 0);
}

int
igw_ledger_apply(igw_ledger *l, const struct igw_ledger_report *rp, size_t n, uint64_t now_ms,
                 struct igw_ledger_applied *counts)
{
    struct igw_ledger_applied c = {0};
    uint64_t seq = l->seq;
    MDB_txn *t;
    int rc = mdb_txn_begin(l->env, NULL, 0, &t);

    if (rc != 0) {
        return lmdb_err(rc);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct igw_ledger_entry e;
        char why[128];
        int g = IGW_ENOENT;
        enum igw_ledger_verdict vd;

        if (rp[i].ref != NULL && rp[i].ref[0] != '\0' && strlen(rp[i].ref) < IGW_LEDGER_REF_MAX) {
            g = get_in(t, l, rp[i].ref, &e);
        }
        if (g != IGW_OK && g != IGW_ENOENT) {
            rc = EIO;
            break;
        }
        vd = igw_ledger_judge(g == IGW_OK ? &e : NULL, &rp[i], why, sizeof(why));
        if (vd == IGW_LEDGER_SAME) {
            c.same++;
        } else if (vd == IGW_LEDGER_MISMATCH) {
            c.mismatches++;
            rc = mismatch_put(t, l, &rp[i], g == IGW_OK ? &e : NULL, why, now_ms, &seq);
        } else {
            c.applied++;
            e.status = rp[i].status;
            cpy(e.reason, sizeof(e.reason), rp[i].reason);
            e.updated_ms = now_ms;
            c.final_succ += e.status == IGW_PAY_SUCC;
            c.final_rjct += e.status == IGW_PAY_RJCT;
            rc = put_in(t, l, &e);
            if (rc == 0 && is_final(e.status)) {
                MDB_val k = mv(e.ref, strlen(e.ref));
                rc = mdb_del(t, l->open, &k, NULL);
                rc = rc == MDB_NOTFOUND ? 0 : rc;
            }
        }
    }
    if (rc != 0) {
        mdb_txn_abort(t);
        return lmdb_err(rc);
    }
    rc = mdb_txn_commit(t);
    if (rc != 0) {
        return lmdb_err(rc);
    }
    l->seq = seq; /* writers are serialised by LMDB's lock */
    if (counts != NULL) {
        *counts = c;
    }
    return IGW_OK;
}

/* ---- listings ------------------------------------------------------------------------------ */

int
igw_ledger_payroll_each(igw_ledger *l, const char *payroll,
                        int (*fn)(void *arg, const struct igw_ledger_entry *e), void *arg)
{
    size_t pl = strlen(payroll);
    MDB_txn *t;
    MDB_cursor *c;
    MDB_val k = mv(payroll, pl + 1), v;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t), rv = IGW_OK, op = MDB_SET_RANGE;

    if (rc != 0) {
        return lmdb_err(rc);
    }
    rc = mdb_cursor_open(t, l->payroll, &c);
    if (rc != 0) {
        mdb_txn_abort(t);
        return lmdb_err(rc);
    }
    /* the key payroll NUL: the first key of this payroll sorts at or after it */
    while (rv == IGW_OK && mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op) == 0) {
        const char *kb = k.mv_data;
        char ref[IGW_LEDGER_REF_MAX];
        struct igw_ledger_entry e;
        size_t rl;

        op = MDB_NEXT;
        if (k.mv_size <= pl + 1 || memcmp(kb, payroll, pl) != 0 || kb[pl] != '\0') {
            break;
        }
        rl = k.mv_size - pl - 1;
        if (rl >= sizeof(ref)) {
            continue;
        }
        memcpy(ref, kb + pl + 1, rl);
        ref[rl] = '\0';
        if (get_in(t, l, ref, &e) == IGW_OK) {
            rv = fn(arg, &e);
        }
    }
    mdb_cursor_close(c);
    mdb_txn_abort(t);
    return rv;
}

int
igw_ledger_mismatch_each(igw_ledger *l, const char *payroll, unsigned max,
                         int (*fn)(void *arg, const struct igw_ledger_mismatch *m), void *arg)
{
    MDB_txn *t;
    MDB_cursor *c;
    MDB_val k, v;
    unsigned seen = 0;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t), rv = IGW_OK, op = MDB_LAST;

    if (rc != 0) {
        return lmdb_err(rc);
    }
    rc = mdb_cursor_open(t, l->mismatch, &c);
    if (rc != 0) {
        mdb_txn_abort(t);
        return lmdb_err(rc);
    }
    while (rv == IGW_OK && (max == 0 || seen < max) &&
           mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op) == 0) {
        struct igw_ledger_mismatch m;
        op = MDB_PREV;
        if (v.mv_size != sizeof(m)) {
            continue;
        }
        memcpy(&m, v.mv_data, sizeof(m));
        if (payroll != NULL && strcmp(m.payroll, payroll) != 0) {
            continue;
        }
        seen++;
        rv = fn(arg, &m);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(t);
    return rv;
}

int
igw_ledger_open_each(igw_ledger *l, uint64_t before_ms,
                     int (*fn)(void *arg, const struct igw_ledger_entry *e), void *arg)
{
    MDB_txn *t;
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t), rv = IGW_OK, op = MDB_FIRST;

    if (rc != 0) {
        return lmdb_err(rc);
    }
    rc = mdb_cursor_open(t, l->open, &c);
    if (rc != 0) {
        mdb_txn_abort(t);
        return lmdb_err(rc);
    }
    while (rv == IGW_OK && mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op) == 0) {
        char ref[IGW_LEDGER_REF_MAX];
        struct igw_ledger_entry e;
        op = MDB_NEXT;
        if (k.mv_size == 0 || k.mv_size >= sizeof(ref)) {
            continue;
        }
        memcpy(ref, k.mv_data, k.mv_size);
        ref[k.mv_size] = '\0';
        if (get_in(t, l, ref, &e) == IGW_OK && !is_final(e.status) && e.updated_ms < before_ms) {
            rv = fn(arg, &e);
        }
    }
    mdb_cursor_close(c);
    mdb_txn_abort(t);
    return rv;
}

static const char *const names[IGW_PAY_STATUS_COUNT] = {"", "sent", "rcvd", "pdng", "succ", "rjct"};

const char *
igw_pay_status_name(unsigned status)
{
    return status < IGW_PAY_STATUS_COUNT ? names[status] : "";
}

uint8_t
igw_pay_status_parse(const char *s, size_t len)
{
    for (unsigned i = 1; s != NULL && i < IGW_PAY_STATUS_COUNT; i++) {
        if (len == 4 && memcmp(s, names[i], 4) == 0) {
            return (uint8_t)i;
        }
    }
    return IGW_PAY_NONE;
}
