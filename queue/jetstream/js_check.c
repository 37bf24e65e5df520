/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JetStream backend's checker. A message reaches the view through the stream's ordered
 * consumer, which reads the store of whichever node it sits on, and that node can hold another
 * record under the same sequence than the stream leader: nats-server 2.9.10 did in it.cluster,
 * where the node leading the stream when it was cut off kept a publish it never committed,
 * under a sequence the new leader gave another message, and never dropped it after the heal.
 * The view then handed out the other body under the right id, the delivery was recorded as done
 * and the acknowledged message was never delivered. So a message is handed out only once its
 * record is known to be the leader's (struct jsm's checked):
 *   - our own accepts: the acknowledged record (js_submit.c);
 *   - a message the monitor read from the leader (js_mon.c);
 *   - any other: this thread reads it from the leader (js_GetMsg: a stream message get, which
 *     only the leader answers; never a direct get) and compares. The same: checked. Another
 *     record, or none: the writer replaces the view's copy (JK_CHECK), with a warning.
 * Until then the message's deliveries are not handed out, and ordered deliveries of later
 * messages wait (jsv_scan), since its order keys are not known. Messages whose deliveries are
 * all done are not read; they are checked if a replay or a release makes them active again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"
#include "js_job.h"

#define QJS_CHECK_BATCH 64
#define QJS_CHECK_IDLE_MS 1000 /* the longest wait between looks */

bool
jsc_same(const struct jsm *m, const char *raw, size_t len)
{
    struct jsm *t;
    bool same;

    if (m->raw != NULL) {
        return m->raw_len == len && memcmp(m->raw, raw, len) == 0;
    }
    /* the bytes are gone (all done when it was loaded): compare what the view took from them;
     * the body is read from the leader when a delivery needs it */
    t = jsv_prepare(raw, len);
    if (t == NULL) {
        return false;
    }
    same = t->created_ms == m->created_ms && t->body_len == m->body_len &&
           t->nroutes == m->nroutes && strcmp(t->channel, m->channel) == 0;
    for (unsigned i = 0; same && i < t->nroutes; i++) {
        const struct jsd *a = &t->d[i];
        const struct jsd *b = &m->d[i];
        same = strcmp(a->route, b->route) == 0 && a->ordered == b->ordered;
    }
    jsv_msg_free(t);
    return same;
}

/* Our own publish waits for its acknowledgement (which checks it) for this long. */
static uint64_t
own_grace_ms(const qjs *s)
{
    return 2u * (uint64_t)s->timeout_ms + 1000u;
}

/* The ids of up to max active unchecked messages, lowest first; *later when one of ours was
 * left for its acknowledgement. mu held. */
static size_t
collect(qjs *s, uint64_t *ids, size_t max, uint64_t now, bool *later)
{
    size_t n = 0;
    for (size_t i = s->lo; i < s->nms && n < max; i++) {
        const struct jsm *m = s->ms[i];
        if (m->checked || m->active == 0) {
            continue;
        }
        if (m->own && now < m->seen_ms + own_grace_ms(s)) {
            *later = true;
            continue;
        }
        ids[n++] = m->id;
    }
    return n;
}

/* Reads message id from the leader and settles the view's copy. IGW_OK, or IGW_EAGAIN when the
 * leader could not be asked (the cluster is away: later). Without mu. */
static int
check_one(qjs *s, uint64_t id, bool wait)
{
    natsMsg *msg = NULL;
    jsErrCode jerr = 0;
    jsOptions o;
    natsStatus st;
    struct qjs_job *j = NULL;
    struct jsm *m;

    jsOptions_Init(&o);
    o.Wait = s->timeout_ms;
    st = js_GetMsg(&msg, s->js, s->msg_stream, id, &o, &jerr);
    if (st != NATS_OK && st != NATS_NOT_FOUND) {
        return IGW_EAGAIN;
    }
    pthread_mutex_lock(&s->mu);
    s->ctr.msg_checked++;
    m = jsv_find(s, id);
    if (m != NULL && !m->checked) {
        if (st == NATS_OK &&
            jsc_same(m, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg))) {
            m->checked = true;
            pthread_cond_broadcast(&s->cv);
        } else if ((j = IGW_NEW(struct qjs_job)) != NULL) {
            j->kind = JK_CHECK;
            j->mid = id;
            j->absent = st == NATS_NOT_FOUND;
            j->detached = !wait;
            igw_buf_init(&j->rec, QJS_BUF_MAX);
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (j != NULL && !j->absent &&
        igw_buf_append(&j->rec, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg)) !=
            IGW_OK) {
        jsjob_free(j); /* out of memory: it stays unchecked, the next look tries again */
        j = NULL;
    }
    natsMsg_Destroy(msg);
    if (j != NULL) {
        if (wait) {
            (void)jsw_call(s, j); /* at open: replaced before anything is handed out */
            jsjob_free(j);
        } else if (jsw_queue(s, j) != IGW_OK) {
            jsjob_free(j); /* closing */
        }
    }
    return IGW_OK;
}

/* One look: checks what collect finds. Returns how many could not be asked (IGW_EAGAIN). */
static unsigned
check_pass(qjs *s, bool wait, bool *later, bool *full)
{
    uint64_t ids[QJS_CHECK_BATCH];
    unsigned failed = 0;
    size_t n;

    pthread_mutex_lock(&s->mu);
    s->check_req = false;
    n = collect(s, ids, QJS_CHECK_BATCH, igw_now_ms(), later);
    pthread_mutex_unlock(&s->mu);
    *full = n == QJS_CHECK_BATCH;
    for (size_t i = 0; i < n; i++) {
        if (check_one(s, ids[i], wait) != IGW_OK) {
            failed++;
            break; /* the cluster is away: the next look */
        }
    }
    return failed;
}

static void *
check_main(void *arg)
{
    qjs *s = arg;

    for (;;) {
        bool later = false;
        bool full = false;
        unsigned failed;
        uint64_t wait_ms = QJS_CHECK_IDLE_MS;
        uint64_t until;

        pthread_mutex_lock(&s->mu);
        until = igw_now_ms() + wait_ms;
        while (!s->watch_stop && (!s->check_req || s->check_hold) && igw_now_ms() < until) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        if (s->watch_stop) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        if (s->check_hold) {
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        failed = check_pass(s, false, &later, &full);
        pthread_mutex_lock(&s->mu);
        /* more to do now: a full batch; a failed ask waits for the next idle look */
        s->check_req = s->check_req || (full && failed == 0);
        pthread_mutex_unlock(&s->mu);
        if (failed > 0) {
            nats_Sleep(200);
        }
    }
    return NULL;
}

int
jsc_start(qjs *s)
{
    for (int round = 0; round < 1000; round++) {
        bool later = false;
        bool full = false;
        if (check_pass(s, true, &later, &full) > 0 || !full) {
            break; /* what is left (the cluster away) is the thread's */
        }
    }
    if (pthread_create(&s->checker, NULL, check_main, s) != 0) {
        return IGW_ENOMEM;
    }
    s->checker_started = true;
    return IGW_OK;
}

void
jsc_replace(qjs *s, struct qjs_job *j)
{
    struct jsm *m;
    struct jsm *nm = j->absent ? NULL : jsv_prepare(j->rec.ptr, j->rec.len);
    unsigned nroutes = 0;

    j->rv = IGW_OK;
    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, j->mid);
    if (m == NULL || m->checked) {
        pthread_mutex_unlock(&s->mu);
        if (nm != NULL) {
            jsv_msg_free(nm);
        }
        return;
    }
    s->ctr.msg_diverged++;
    if (j->absent) {
        IGW_WARN("queue jetstream: message %llu is stored on the NATS node this instance reads "
                 "from but not by the stream leader: that node diverged (dropped from the view)",
                 (unsigned long long)j->mid);
    } else if (nm == NULL) {
        IGW_WARN("queue jetstream: message %llu of the stream leader is unreadable (dropped "
                 "from the view)",
                 (unsigned long long)j->mid);
    } else {
        IGW_WARN("queue jetstream: message %llu as the NATS node this instance reads from "
                 "stores it is not the stream leader's: that node diverged (the leader's record "
                 "is used)",
                 (unsigned long long)j->mid);
    }
    jsv_remove(s, m); /* on the writer: nothing holds it */
    if (nm != NULL) {
        nm->checked = true;
        nm->seen_ms = igw_now_ms();
        m = jsv_link(s, nm, j->mid);
        nroutes = m != NULL ? m->nroutes : 0;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    /* the deliveries' records the view applied to the other copy: read again from the leader */
    for (unsigned ri = 0; ri < nroutes; ri++) {
        char key[64];
        char *val = NULL;
        size_t len = 0;
        uint64_t rev = 0;
        bool put = false;
        jskey_deliv(key, sizeof(key), j->mid, ri);
        if (js_get_last(s, key, &val, &len, &rev, &put) == IGW_OK && put) {
            pthread_mutex_lock(&s->mu);
            m = jsv_find(s, j->mid);
            if (m != NULL && ri < m->nroutes) {
                jsv_apply_deliv(s, &m->d[ri], val, len, rev);
            }
            pthread_mutex_unlock(&s->mu);
        }
        igw_free(val);
    }
}
