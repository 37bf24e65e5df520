/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JetStream backend's writer thread and the operations that change the queue. One job runs
 * at a time; consecutive submits are published as one group (asynchronous publishes, then one
 * wait for all their acknowledgements). A delivery changes by compare-and-set on its key in the
 * bucket (kvStore_Update with the revision the view holds), so of two instances only one wins;
 * the loser refreshes its view and skips that delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"
#include "js_job.h"

/* ---- events ------------------------------------------------------------------------------ */

void
jsw_emit(qjs *s, enum igw_queue_event_kind k, const struct jsm *m, const struct jsd *d,
         const char *error)
{
    struct igw_queue_event ev;
    igw_queue_event_fn fn;
    void *arg;
    pthread_mutex_lock(&s->lis_mu);
    fn = s->listener;
    arg = s->listener_arg;
    pthread_mutex_unlock(&s->lis_mu);
    if (fn == NULL) {
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.kind = k;
    ev.id = m->id;
    ev.channel = m->channel;
    if (d != NULL) {
        ev.route = d->route;
        ev.attempts = d->attempts;
        ev.next_due_ms = d->due_ms;
    }
    ev.error = error;
    fn(arg, &ev);
}

void
jso_set_listener(void *be, igw_queue_event_fn fn, void *arg)
{
    qjs *s = be;
    pthread_mutex_lock(&s->lis_mu);
    s->listener = fn;
    s->listener_arg = arg;
    pthread_mutex_unlock(&s->lis_mu);
}

/* ---- delivery writes ---------------------------------------------------------------------- */

/* refresh_deliv's answer when only the view's revision was off (no igw error code: private) */
#define QJS_REV_OFF 0x7ffe

void
js_cv_wait(qjs *s, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

int
js_get_last(qjs *s, const char *key, char **val, size_t *len, uint64_t *rev, bool *put)
{
    char subj[128 + QJS_NAME_MAX];
    natsMsg *msg = NULL;
    const char *op = NULL;
    jsErrCode jerr = 0;
    jsOptions o;
    natsStatus st;

    *val = NULL;
    *len = 0;
    *rev = 0;
    *put = false;
    snprintf(subj, sizeof(subj), "$KV.%s.%s", s->bucket, key);
    jsOptions_Init(&o);
    o.Wait = s->timeout_ms;
    JS_RETRY(s, st, js_GetLastMsg(&msg, s->js, s->kv_stream, subj, &o, &jerr));
    if (st == NATS_NOT_FOUND) {
        return IGW_ENOENT;
    }
    if (st != NATS_OK) {
        return js_err(st, jerr, "read record");
    }
    *rev = natsMsg_GetSequence(msg);
    *put = natsMsgHeader_Get(msg, "KV-Operation", &op) != NATS_OK || op == NULL ||
           (strcmp(op, "DEL") != 0 && strcmp(op, "PURGE") != 0);
    *len = (size_t)natsMsg_GetDataLength(msg);
    *val = igw_malloc(*len ? *len : 1);
    if (*val == NULL) {
        natsMsg_Destroy(msg);
        return IGW_ENOMEM;
    }
    memcpy(*val, natsMsg_GetData(msg), *len);
    natsMsg_Destroy(msg);
    return IGW_OK;
}

/* After a compare-and-set on d against sent_rev failed: d takes the record the stream leader
 * holds (also when its revision is below the view's: a failed compare-and-set proves the view
 * wrong, e.g. after a lagging replica's answer), unless a watcher applied a newer one meanwhile.
 * IGW_OK: the stored record is exactly rec (our own write whose answer was lost); IGW_EAGAIN;
 * IGW_ECONFLICT: the leader holds sent_rev as the latest, so the refusal was not a lost race;
 * QJS_REV_OFF: the leader holds, under revision *lrev, exactly the record the view held when the
 * write was prepared (base), only under another revision than sent_rev: nobody changed the
 * delivery, the view's revision was wrong (a replica whose sequences are off, e.g. one that
 * diverged from its leader after a kill -9, feeds the bucket watcher), so the same write is
 * valid against *lrev. */
static int
refresh_deliv(qjs *s, struct jsd *d, const char *key, uint64_t sent_rev, const struct igw_buf *rec,
              const struct igw_buf *base, uint64_t *lrev)
{
    bool ours = false;
    bool refused = false;
    bool same = false;
    char *val = NULL;
    size_t len = 0;
    uint64_t rev = 0;
    bool put = false;
    int rv = js_get_last(s, key, &val, &len, &rev, &put);

    pthread_mutex_lock(&s->mu);
    s->ctr.cas_lost++;
    if (rv == IGW_OK && put) {
        ours = len == rec->len && memcmp(val, rec->ptr, len) == 0;
        /* stored at the revision we sent: the write was refused for another reason */
        refused = !ours && rev == sent_rev && sent_rev != 0;
        same = !ours && !refused && rev != sent_rev && base != NULL && base->len == len &&
               memcmp(val, base->ptr, len) == 0;
        *lrev = rev;
        if (rev != d->rev && d->rev == sent_rev) {
            if (rev < d->rev) {
                s->ctr.stale_fixed++;
            }
            d->rev = 0; /* the leader's record wins */
        }
        jsv_apply_deliv(s, d, val, len, rev);
    } else if (rv != IGW_OK) {
        s->ctr.refresh_failed++;
    }
    pthread_mutex_unlock(&s->mu);
    igw_free(val);
    if (refused) {
        return IGW_ECONFLICT; /* the caller decides */
    }
    if (same) {
        return QJS_REV_OFF;
    }
    return ours ? IGW_OK : IGW_EAGAIN;
}

/* One compare-and-set of rec on key against last_rev (0: the key must not exist yet). */
static natsStatus
cas_write(qjs *s, const char *key, const struct igw_buf *rec, uint64_t last_rev, uint64_t *rev)
{
    natsStatus st;
    if (last_rev == 0) {
        JS_RETRY(s, st, kvStore_Create(rev, s->kv, key, rec->ptr, (int)rec->len));
    } else {
        JS_RETRY(s, st, kvStore_Update(rev, s->kv, key, rec->ptr, (int)rec->len, last_rev));
    }
    return st;
}

/* The end of a write whose compare-and-set failed, after refresh_deliv answered rv (consumes
 * rec). */
static int
finish_refused(qjs *s, struct jsd *d, const char *key, struct igw_buf *rec, int rv)
{
    uint64_t rev = 0;
    natsStatus st;

    if (rv == IGW_ECONFLICT) {
        /* the leader stores last_rev as the latest revision and still refused the
         * compare-and-set: its expected-sequence bookkeeping is off (seen with nats-server
         * 2.9 after leader changes under conditional writes). Every compare-and-set on this
         * key would fail the same way, for every instance; write plainly, so the delivery
         * does not stall (at-least-once: two instances doing so at once both deliver). */
        JS_RETRY(s, st, kvStore_Put(&rev, s->kv, key, rec->ptr, (int)rec->len));
        pthread_mutex_lock(&s->mu);
        s->ctr.cas_refused++;
        if (st == NATS_OK) {
            jsv_apply_deliv(s, d, rec->ptr, rec->len, rev);
        }
        pthread_mutex_unlock(&s->mu);
        IGW_WARN("queue jetstream: compare-and-set on message %llu refused at the stored "
                 "revision; written without it",
                 (unsigned long long)d->m->id);
        rv = st == NATS_OK ? IGW_OK : js_err(st, 0, "write delivery");
    }
    igw_buf_fini(rec);
    return rv;
}

/* Writes rec (a delivery record encoded under mu; consumed) for d by compare-and-set against
 * last_rev (0 = d has no record yet) and, on success, applies it to d under mu. IGW_OK,
 * IGW_EAGAIN (someone else changed it first: the view is refreshed from the stream leader),
 * IGW_ETIMEDOUT, IGW_EIO. Called without mu, on the writer
 * thread (only the writer frees messages, so d stays valid). */
int
jsw_write_deliv(qjs *s, struct jsd *d, struct igw_buf *rec, uint64_t last_rev)
{
    char key[64];
    uint64_t rev = 0;
    struct igw_buf base;
    int b;
    natsStatus st;

    /* the view's record as the write was prepared: what a refresh compares the leader's with */
    pthread_mutex_lock(&s->mu);
    b = d->rev == last_rev ? jsrec_encode_deliv(&base, d) : IGW_EINVAL;
    pthread_mutex_unlock(&s->mu);
    jskey_deliv(key, sizeof(key), d->m->id, d->ri);
    st = cas_write(s, key, rec, last_rev, &rev);
    if (st == NATS_ERR) {
        uint64_t lrev = 0;
        int rv = refresh_deliv(s, d, key, last_rev, rec, b == IGW_OK ? &base : NULL, &lrev);
        if (rv == QJS_REV_OFF) {
            /* the delivery is unchanged at the leader, only our revision was off: the same
             * write against the leader's revision (once; a second failure is a lost race) */
            pthread_mutex_lock(&s->mu);
            s->ctr.rev_fixed++;
            pthread_mutex_unlock(&s->mu);
            last_rev = lrev;
            st = cas_write(s, key, rec, last_rev, &rev);
        } else {
            if (b == IGW_OK) {
                igw_buf_fini(&base);
            }
            return finish_refused(s, d, key, rec, rv);
        }
    }
    if (b == IGW_OK) {
        igw_buf_fini(&base);
    }
    if (st == NATS_OK) {
        pthread_mutex_lock(&s->mu);
        /* the bytes written, decoded: the same change a watcher applies */
        jsv_apply_deliv(s, d, rec->ptr, rec->len, rev);
        pthread_mutex_unlock(&s->mu);
        igw_buf_fini(rec);
        return IGW_OK;
    }
    if (st == NATS_ERR) {
        /* wrong last sequence: another instance wrote first, or our own write whose answer
         * was lost (a retry after a timeout); take the stored record */
        uint64_t lrev = 0;
        return finish_refused(s, d, key, rec, refresh_deliv(s, d, key, last_rev, rec, NULL, &lrev));
    }
    igw_buf_fini(rec);
    return js_err(st, 0, "write delivery");
}

/* The bucket's subject of a delivery key (what kvStore_Update publishes to). */
static void
kv_subject(qjs *s, char *out, size_t len, const struct jsd *d)
{
    char key[64];
    jskey_deliv(key, sizeof(key), d->m->id, d->ri);
    snprintf(out, len, "$KV.%s.%s", s->bucket, key);
}

void
jsw_write_group(qjs *s, struct jsw_item *it, unsigned n)
{
    struct ackbatch ab = {0, NULL, it, n, 0};
    uint64_t deadline = igw_now_ms() + (uint64_t)s->timeout_ms;

    if (n == 1) { /* nothing to overlap */
        it[0].rv = jsw_write_deliv(s, it[0].d, &it[0].rec, it[0].last_rev);
        return;
    }
    pthread_mutex_lock(&s->mu);
    ab.gen = ++s->ack_gen;
    s->ackbatch = &ab;
    pthread_mutex_unlock(&s->mu);
    for (unsigned i = 0; i < n; i++) {
        natsMsg *msg = NULL;
        char subj[128 + QJS_NAME_MAX];
        char slot[48];
        char rev[24];
        natsStatus st;

        it[i].acked = false;
        it[i].st = NATS_TIMEOUT;
        it[i].jerr = 0;
        kv_subject(s, subj, sizeof(subj), it[i].d);
        snprintf(slot, sizeof(slot), "%llu.%u", (unsigned long long)ab.gen, i);
        snprintf(rev, sizeof(rev), "%llu", (unsigned long long)it[i].last_rev);
        st = natsMsg_Create(&msg, subj, NULL, it[i].rec.ptr, (int)it[i].rec.len);
        if (st == NATS_OK) {
            st = natsMsgHeader_Set(msg, "Igw-Slot", slot);
        }
        if (st == NATS_OK) {
            st = natsMsgHeader_Set(msg, "Nats-Expected-Last-Subject-Sequence", rev);
        }
        pthread_mutex_lock(&s->mu);
        ab.left++;
        pthread_mutex_unlock(&s->mu);
        if (st == NATS_OK) {
            jsPubOptions po;
            jsPubOptions_Init(&po);
            po.MaxWait = s->timeout_ms; /* a lost acknowledgement frees its slot */
            st = js_PublishMsgAsync(s->js, &msg, &po);
        }
        if (st != NATS_OK) {
            natsMsg_Destroy(msg);
            pthread_mutex_lock(&s->mu);
            ab.left--;
            it[i].st = st;
            pthread_mutex_unlock(&s->mu);
        }
    }
    pthread_mutex_lock(&s->mu);
    while (ab.left > 0 && igw_now_ms() < deadline) {
        js_cv_wait(s, 20);
    }
    s->ackbatch = NULL;
    for (unsigned i = 0; i < n; i++) {
        if (it[i].acked) {
            jsv_apply_deliv(s, it[i].d, it[i].rec.ptr, it[i].rec.len, it[i].seq);
        }
    }
    pthread_mutex_unlock(&s->mu);
    for (unsigned i = 0; i < n; i++) {
        if (it[i].acked) {
            it[i].rv = IGW_OK;
            igw_buf_fini(&it[i].rec);
        } else if (it[i].st == NATS_TIMEOUT) {
            pthread_mutex_lock(&s->mu);
            s->ctr.group_timeout++;
            pthread_mutex_unlock(&s->mu);
            /* no answer at all: the cluster is slow or away; one by one would wait again per
             * write. A claim that landed anyway comes back when its lease runs out; an
             * outcome is recorded again by the engine. */
            it[i].rv = IGW_ETIMEDOUT;
            igw_buf_fini(&it[i].rec);
        } else {
            /* a lost race (wrong last sequence), a passing failure or no answer: the one-by-one
             * path retries, and tells our own landed write from another instance's */
            it[i].rv = jsw_write_deliv(s, it[i].d, &it[i].rec, it[i].last_rev);
        }
    }
}

/* ---- the writer thread -------------------------------------------------------------------- */

static void
finish(qjs *s, struct qjs_job *j)
{
    /* mu held */
    if (j->kind == JK_SUBMIT && j->cb != NULL) {
        igw_queue_done_fn cb = j->cb;
        void *arg = j->arg;
        int rv = j->rv;
        uint64_t id = j->id;
        bool dup = j->dup;
        jsjob_free(j);
        pthread_mutex_unlock(&s->mu);
        cb(arg, rv, id, dup);
        pthread_mutex_lock(&s->mu);
        return;
    }
    if (j->detached) {
        jsjob_free(j);
        return;
    }
    if (j->kind == JK_ROUND && j->notify != NULL && j->rv == IGW_OK) {
        j->notify(j->notify_arg);
    }
    j->done = true;
    pthread_cond_broadcast(&s->cv);
}

static void *
writer_main(void *arg)
{
    qjs *s = arg;
    struct qjs_job *batch[1024];

    pthread_mutex_lock(&s->mu);
    for (;;) {
        unsigned n = 0;
        while (s->head == NULL && !s->stop) {
            pthread_cond_wait(&s->cv, &s->mu);
        }
        if (s->head == NULL) {
            break;
        }
        do {
            struct qjs_job *j = s->head;
            if (n > 0 && (j->kind != JK_SUBMIT || batch[0]->kind != JK_SUBMIT)) {
                break;
            }
            s->head = j->next;
            if (s->head == NULL) {
                s->tail = NULL;
            }
            j->next = NULL;
            batch[n++] = j;
        } while (s->head != NULL && n < s->max_batch && n < 1024);
        pthread_mutex_unlock(&s->mu);
        if (batch[0]->kind == JK_SUBMIT) {
            jsw_run_submits(s, batch, n);
        } else {
            jsw_run(s, batch[0]);
        }
        pthread_mutex_lock(&s->mu);
        for (unsigned i = 0; i < n; i++) {
            finish(s, batch[i]);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int
jsw_start(qjs *s)
{
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        return IGW_ENOMEM;
    }
    s->writer_started = true;
    return IGW_OK;
}

void
jsw_stop(qjs *s)
{
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->writer_started) {
        pthread_join(s->writer, NULL);
        s->writer_started = false;
    }
}

/* Queues j (mu not held). IGW_OK or IGW_ECLOSED (j not queued). */
int
jsw_queue(qjs *s, struct qjs_job *j)
{
    pthread_mutex_lock(&s->mu);
    if (s->closing) {
        pthread_mutex_unlock(&s->mu);
        return IGW_ECLOSED;
    }
    if (s->tail != NULL) {
        s->tail->next = j;
    } else {
        s->head = j;
    }
    s->tail = j;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return IGW_OK;
}

/* Queues j and waits until it is done; returns j->rv (IGW_ECLOSED when refused). */
int
jsw_call(qjs *s, struct qjs_job *j)
{
    int rv = jsw_queue(s, j);
    if (rv != IGW_OK) {
        return rv;
    }
    pthread_mutex_lock(&s->mu);
    while (!j->done) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return j->rv;
}

/* ---- recovery at open --------------------------------------------------------------------- */

int
jsw_recover(qjs *s)
{
    uint64_t now = igw_now_ms();
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nms; i++) {
        struct jsm *m = s->ms[i];
        for (unsigned r = 0; m->active > 0 && r < m->nroutes; r++) {
            struct jsd *d = &m->d[r];
            struct jsd nd;
            struct igw_buf rec;
            int rv;
            if (d->state != IGW_DS_INFLIGHT || strcmp(d->owner, s->instance) != 0) {
                continue;
            }
            nd = *d;
            nd.state = IGW_DS_PENDING;
            nd.due_ms = now;
            nd.owner[0] = '\0';
            nd.lease_ms = 0;
            rv = jsrec_encode_deliv(&rec, &nd);
            pthread_mutex_unlock(&s->mu);
            rv = rv ? rv : jsw_write_deliv(s, d, &rec, nd.rev);
            if (rv != IGW_OK && rv != IGW_EAGAIN) {
                return rv;
            }
            pthread_mutex_lock(&s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return IGW_OK;
}
