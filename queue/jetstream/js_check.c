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
 *     record, or none for QJS_ABSENT_MS: the writer replaces the view's copy (JK_CHECK), with a
 *     warning. The answers count only if the node answering for the leader was in touch with a
 *     majority of the replicas after the reads (leader_sound): a node cut off while it led the
 *     stream answers as its leader, from its own store, until it hears of the new one. On a
 *     replicated stream another instance's message is read QJS_FOREIGN_GRACE_MS after it came,
 *     so such a node has had the time to show it.
 * Until then the message's deliveries are not handed out, and ordered deliveries of later
 * messages wait (jsv_scan), since its order keys are not known. Messages whose deliveries are
 * all done are not read; they are checked if a replay or a release makes them active again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"
#include "js_job.h"

#define QJS_CHECK_BATCH 256
#define QJS_CHECK_THREADS 8    /* leader reads in flight at a time */
#define QJS_CHECK_IDLE_MS 1000 /* the longest wait between looks */
/* The leader answers "no such message" for a message a follower has already applied and the
 * leader not yet (it.cluster saw that, under load): asked again after QJS_ABSENT_RETRY_MS, the
 * message counts as not the leader's only after QJS_ABSENT_MS of such answers. */
#define QJS_ABSENT_RETRY_MS 100
#define QJS_ABSENT_MS 5000
/* A replicated stream: another instance's message is checked once it is this old, so that a
 * node cut off while leading the stream shows it in its replicas' last contact (leader_sound),
 * a contact older than QJS_PEER_FRESH_NS (its heartbeats come once a second). */
#define QJS_FOREIGN_GRACE_MS 2500
#define QJS_PEER_FRESH_NS 1500000000LL
#define QJS_UNSOUND_RETRY_MS 250
/* At open the first checks are made before the first claim, for at most this long (one leader
 * read each: a long queue is left to the thread, and open does not keep readiness waiting). */
#define QJS_OPEN_CHECK_MS 2000
#define QJS_HOLE_PROBE_MS 500

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

/* Is m to be read now? Else *later is lowered to when it is (ours waiting for its
 * acknowledgement, another instance's for QJS_FOREIGN_GRACE_MS, one to be asked again). */
static bool
due(const qjs *s, const struct jsm *m, uint64_t now, bool at_open, uint64_t *later)
{
    uint64_t at = m->check_ms;
    uint64_t grace = m->own ? own_grace_ms(s) : QJS_FOREIGN_GRACE_MS;
    if (!at_open && (m->own || s->msg_replicas != 1) && at < m->seen_ms + grace) {
        at = m->seen_ms + grace;
    }
    if (now < at) {
        *later = at < *later ? at : *later;
        return false;
    }
    return true;
}

/* The ids of up to max active unchecked messages that are due, in the order they came; mu
 * held. */
static size_t
collect(qjs *s, uint64_t *ids, size_t max, uint64_t now, bool at_open, uint64_t *later)
{
    size_t n = 0;
    size_t keep = 0;

    if (s->unck_lost) { /* the list missed some: list the view's unchecked again */
        s->unck_lost = false;
        s->nunck = 0;
        for (size_t i = s->lo; i < s->nms; i++) {
            if (!s->ms[i]->checked && s->ms[i]->active > 0) {
                jsv_unchecked(s, s->ms[i]->id);
            }
        }
    }
    /* the list in place: settled, done or gone ones leave it; the rest stay until settled */
    for (size_t i = 0; i < s->nunck; i++) {
        const struct jsm *m = jsv_find(s, s->unck[i]);
        if (m == NULL || m->checked || m->active == 0) {
            continue;
        }
        s->unck[keep++] = s->unck[i];
        if (n < max && due(s, m, now, at_open, later)) {
            ids[n++] = m->id;
        }
    }
    s->nunck = keep;
    return n;
}

/* Is the node that answers for the stream's leader in touch with a majority of the stream's
 * replicas? A node cut off while it led the stream goes on answering as its leader, from its
 * own store, until it hears of the new one; its replicas' last contact then grows past
 * QJS_PEER_FRESH_NS. Sets s->msg_replicas. IGW_OK, or IGW_EAGAIN (not sound, or no answer). */
static int
leader_sound(qjs *s, uint64_t *last_seq)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    jsOptions o;
    int replicas;
    int fresh = 1; /* the leader */
    int rv = IGW_EAGAIN;

    jsOptions_Init(&o);
    o.Wait = s->timeout_ms;
    if (js_GetStreamInfo(&si, s->js, s->msg_stream, &o, &jerr) != NATS_OK || si == NULL) {
        jsStreamInfo_Destroy(si);
        return IGW_EAGAIN;
    }
    replicas = si->Config != NULL && si->Config->Replicas > 0 ? (int)si->Config->Replicas : 1;
    if (last_seq != NULL) {
        *last_seq = si->State.LastSeq;
    }
    if (replicas <= 1) {
        rv = IGW_OK; /* one copy: nothing to diverge from */
    } else if (si->Cluster != NULL && si->Cluster->Leader != NULL && *si->Cluster->Leader) {
        for (int i = 0; i < si->Cluster->ReplicasLen; i++) {
            const jsPeerInfo *p = si->Cluster->Replicas[i];
            fresh += p != NULL && !p->Offline && p->Active < QJS_PEER_FRESH_NS;
        }
        rv = 2 * fresh > replicas ? IGW_OK : IGW_EAGAIN;
    }
    jsStreamInfo_Destroy(si);
    pthread_mutex_lock(&s->mu);
    s->msg_replicas = replicas;
    pthread_mutex_unlock(&s->mu);
    return rv;
}

/* A JK_CHECK job for message id: the leader's record msg (NULL: the leader has none), fill for
 * a hole; NULL when out of memory (the next look tries again). */
static struct qjs_job *
check_job(uint64_t id, natsMsg *msg, bool fill, bool detached)
{
    struct qjs_job *j = IGW_NEW(struct qjs_job);
    if (j == NULL) {
        return NULL;
    }
    j->kind = JK_CHECK;
    j->mid = id;
    j->absent = msg == NULL;
    j->fill = fill;
    j->detached = detached;
    igw_buf_init(&j->rec, QJS_BUF_MAX);
    if (msg != NULL && igw_buf_append(&j->rec, natsMsg_GetData(msg),
                                      (size_t)natsMsg_GetDataLength(msg)) != IGW_OK) {
        jsjob_free(j);
        return NULL;
    }
    return j;
}

/* Settles the view's copy of message id by the leader's answer (st, msg): checked, asked again
 * later, or a replacement job for the writer. mu held; *job is the job to run, if any. */
static void
settle(qjs *s, uint64_t id, natsStatus st, natsMsg *msg, bool wait, struct qjs_job **job)
{
    struct jsm *m = jsv_find(s, id);
    uint64_t now = igw_now_ms();

    *job = NULL;
    s->ctr.msg_checked++;
    if (m == NULL || m->checked) {
        return;
    }
    if (st == NATS_OK && jsc_same(m, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg))) {
        m->checked = true;
        pthread_cond_broadcast(&s->cv);
        return;
    }
    if (st == NATS_NOT_FOUND && (m->absent_ms == 0 || now < m->absent_ms + QJS_ABSENT_MS)) {
        m->absent_ms = m->absent_ms ? m->absent_ms : now; /* maybe not applied there yet */
        m->check_ms = now + QJS_ABSENT_RETRY_MS;
        return;
    }
    *job = check_job(id, st == NATS_OK ? msg : NULL, false, !wait);
}

/* The leader reads of one look, spread over up to QJS_CHECK_THREADS threads: each waits for
 * its answers, so the round trips overlap (a backlog taken over is read QJS_CHECK_THREADS at a
 * time, not one after the other). */
struct gets {
    qjs *s;
    const uint64_t *ids;
    natsMsg **msgs;
    natsStatus *sts;
    size_t n;
    size_t first;
    size_t step;
};

static void *
gets_main(void *arg)
{
    struct gets *g = arg;
    bool away = false; /* one read without an answer: the rest of this share is not asked */
    for (size_t i = g->first; i < g->n; i += g->step) {
        jsErrCode jerr = 0;
        jsOptions o;
        jsOptions_Init(&o);
        o.Wait = g->s->timeout_ms;
        g->msgs[i] = NULL;
        g->sts[i] = away ? NATS_TIMEOUT
                         : js_GetMsg(&g->msgs[i], g->s->js, g->s->msg_stream, g->ids[i], &o, &jerr);
        away = g->sts[i] != NATS_OK && g->sts[i] != NATS_NOT_FOUND;
    }
    return NULL;
}

static void
read_all(qjs *s, const uint64_t *ids, natsMsg **msgs, natsStatus *sts, size_t n)
{
    struct gets g[QJS_CHECK_THREADS];
    pthread_t th[QJS_CHECK_THREADS];
    bool started[QJS_CHECK_THREADS] = {false};
    size_t k = n < QJS_CHECK_THREADS ? n : QJS_CHECK_THREADS;

    for (size_t i = 0; i < k; i++) {
        g[i] = (struct gets){s, ids, msgs, sts, n, i, k};
        /* this thread takes share 0, and any share a thread could not be started for */
        started[i] = i > 0 && pthread_create(&th[i], NULL, gets_main, &g[i]) == 0;
    }
    for (size_t i = 0; i < k; i++) {
        if (!started[i]) {
            gets_main(&g[i]);
        }
    }
    for (size_t i = 0; i < k; i++) {
        if (started[i]) {
            pthread_join(th[i], NULL);
        }
    }
}

/* One look: reads what collect finds from the leader, then settles it if the leader was sound
 * after the reads (else it is asked again later). Returns how many could not be asked: the
 * cluster is away. */
static unsigned
check_pass(qjs *s, bool wait, uint64_t *later, bool *full)
{
    uint64_t ids[QJS_CHECK_BATCH];
    natsMsg *msgs[QJS_CHECK_BATCH];
    natsStatus sts[QJS_CHECK_BATCH];
    unsigned failed = 0;
    size_t n;
    bool sound;

    pthread_mutex_lock(&s->mu);
    s->check_req = false;
    n = collect(s, ids, QJS_CHECK_BATCH, igw_now_ms(), wait, later);
    pthread_mutex_unlock(&s->mu);
    *full = n == QJS_CHECK_BATCH;
    read_all(s, ids, msgs, sts, n);
    for (size_t i = 0; i < n; i++) {
        failed += sts[i] != NATS_OK && sts[i] != NATS_NOT_FOUND;
    }
    sound = n == 0 || leader_sound(s, NULL) == IGW_OK;
    for (size_t i = 0; i < n; i++) {
        struct qjs_job *j = NULL;
        bool answered = sts[i] == NATS_OK || sts[i] == NATS_NOT_FOUND;
        pthread_mutex_lock(&s->mu);
        if (sound && answered) {
            settle(s, ids[i], sts[i], msgs[i], wait, &j);
        } else {
            struct jsm *m = jsv_find(s, ids[i]);
            if (m != NULL) {
                m->check_ms = igw_now_ms() + QJS_UNSOUND_RETRY_MS;
            }
        }
        pthread_mutex_unlock(&s->mu);
        natsMsg_Destroy(msgs[i]);
        if (j != NULL && wait) {
            (void)jsw_call(s, j); /* at open: replaced before anything is handed out */
            jsjob_free(j);
        } else if (j != NULL && jsw_queue(s, j) != IGW_OK) {
            jsjob_free(j); /* closing */
        }
    }
    if (!sound || failed > 0) {
        uint64_t at = igw_now_ms() + QJS_UNSOUND_RETRY_MS;
        *later = at < *later ? at : *later;
        *full = false;
    }
    return failed;
}

/* The holes: every QJS_HOLE_PROBE_MS each is read from the leader again. The leader has it now:
 * the writer adds it to the view; none, and the leader's last message is past it: deleted
 * there, forgotten; none yet: kept. */
static void
probe_holes(qjs *s)
{
    uint64_t ids[QJS_CHECK_BATCH];
    natsMsg *msgs[QJS_CHECK_BATCH];
    natsStatus sts[QJS_CHECK_BATCH];
    uint64_t last = 0;
    size_t n;
    bool sound;

    pthread_mutex_lock(&s->mu);
    if (s->nholes == 0 || igw_now_ms() < s->holes_next_ms) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    s->holes_next_ms = igw_now_ms() + QJS_HOLE_PROBE_MS;
    n = s->nholes < QJS_CHECK_BATCH ? s->nholes : QJS_CHECK_BATCH;
    memcpy(ids, s->holes, n * sizeof(*ids));
    pthread_mutex_unlock(&s->mu);
    read_all(s, ids, msgs, sts, n);
    sound = leader_sound(s, &last) == IGW_OK;
    for (size_t i = 0; i < n; i++) {
        struct qjs_job *j = NULL;
        bool drop = false;
        pthread_mutex_lock(&s->mu);
        if (sound && sts[i] == NATS_OK && jsv_find(s, ids[i]) == NULL && !jsv_purged(s, ids[i])) {
            j = check_job(ids[i], msgs[i], true, true);
        }
        drop = j != NULL || jsv_purged(s, ids[i]) ||
               (sound && sts[i] == NATS_NOT_FOUND && last >= ids[i]);
        for (size_t k = 0; drop && k < s->nholes; k++) {
            if (s->holes[k] == ids[i]) {
                s->holes[k] = s->holes[--s->nholes];
                break;
            }
        }
        pthread_mutex_unlock(&s->mu);
        natsMsg_Destroy(msgs[i]);
        if (j != NULL && jsw_queue(s, j) != IGW_OK) {
            jsjob_free(j); /* closing */
        }
    }
}

static void *
check_main(void *arg)
{
    qjs *s = arg;

    uint64_t until = 0;

    for (;;) {
        uint64_t later = UINT64_MAX;
        bool full = false;
        unsigned failed;

        pthread_mutex_lock(&s->mu);
        while (!s->watch_stop && (!s->check_req || s->check_hold) && igw_now_ms() < until) {
            js_cv_wait(s, 50);
        }
        if (s->watch_stop) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        if (s->check_hold) {
            pthread_mutex_unlock(&s->mu);
            until = igw_now_ms() + 50;
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        failed = check_pass(s, false, &later, &full);
        probe_holes(s);
        until = igw_now_ms() + QJS_CHECK_IDLE_MS;
        until = later < until ? later : until;
        pthread_mutex_lock(&s->mu);
        if (s->nholes > 0 && s->holes_next_ms < until) {
            until = s->holes_next_ms;
        }
        pthread_mutex_unlock(&s->mu);
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
    uint64_t until = igw_now_ms() + QJS_OPEN_CHECK_MS;

    (void)leader_sound(s, NULL); /* the replica count */
    while (igw_now_ms() < until) {
        uint64_t later = UINT64_MAX;
        bool full = false;
        if (check_pass(s, true, &later, &full) > 0 || !full) {
            break; /* what is left (the cluster away, or a long queue) is the thread's */
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
    if ((m == NULL && (!j->fill || nm == NULL || jsv_purged(s, j->mid))) ||
        (m != NULL && m->checked)) {
        pthread_mutex_unlock(&s->mu);
        if (nm != NULL) {
            jsv_msg_free(nm);
        }
        return;
    }
    s->ctr.msg_diverged += !j->fill;
    if (j->fill) {
        IGW_INFO("queue jetstream: message %llu, missing from the NATS node this instance reads "
                 "from, is now the stream leader's: read from the leader",
                 (unsigned long long)j->mid);
    } else if (j->absent) {
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
    if (m != NULL) {
        jsv_remove(s, m); /* on the writer: nothing holds it */
    }
    if (nm == NULL) { /* dropped: the leader may give its id to a later message */
        if (jsv_ids_push(&s->holes, &s->nholes, &s->capholes, j->mid) == IGW_OK) {
            s->holes_next_ms = igw_now_ms() + QJS_HOLE_PROBE_MS;
        } else {
            IGW_WARN("queue jetstream: message %llu not watched for (out of memory)",
                     (unsigned long long)j->mid);
        }
    }
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
