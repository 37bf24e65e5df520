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

/* Writes rec (a delivery record encoded under mu; consumed) for d by compare-and-set against
 * last_rev (0 = d has no record yet) and, on success, applies it to d under mu. IGW_OK,
 * IGW_EAGAIN (someone else changed it first: the view is refreshed), IGW_EIO. Called without
 * mu, on the writer thread (only the writer frees messages, so d stays valid). */
int
jsw_write_deliv(qjs *s, struct jsd *d, struct igw_buf *rec, uint64_t last_rev)
{
    char key[64];
    uint64_t rev = 0;
    natsStatus st;

    jskey_deliv(key, sizeof(key), d->m->id, d->ri);
    if (last_rev == 0) {
        JS_RETRY(s, st, kvStore_Create(&rev, s->kv, key, rec->ptr, (int)rec->len));
    } else {
        JS_RETRY(s, st, kvStore_Update(&rev, s->kv, key, rec->ptr, (int)rec->len, last_rev));
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
        kvEntry *e = NULL;
        natsStatus gs;
        bool ours = false;
        /* wrong last sequence: another instance wrote first, or our own write whose answer
         * was lost (a retry after a timeout); take the stored record */
        JS_RETRY(s, gs, kvStore_Get(&e, s->kv, key));
        if (gs == NATS_OK && e != NULL) {
            ours = kvEntry_Operation(e) == kvOp_Put && (size_t)kvEntry_ValueLen(e) == rec->len &&
                   memcmp(kvEntry_Value(e), rec->ptr, rec->len) == 0;
            pthread_mutex_lock(&s->mu);
            if (kvEntry_Operation(e) == kvOp_Put) {
                jsv_apply_deliv(s, d, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e),
                                kvEntry_Revision(e));
            }
            pthread_mutex_unlock(&s->mu);
            kvEntry_Destroy(e);
        }
        igw_buf_fini(rec);
        return ours ? IGW_OK : IGW_EAGAIN;
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
            st = js_PublishMsgAsync(s->js, &msg, NULL);
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
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
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
