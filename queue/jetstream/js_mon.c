/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JetStream backend's monitor thread. Once a second it reads the state of the message stream
 * and of the bucket's stream (one request each, never under mu):
 *   - capacity: the limits an operator set on them (max_bytes, max_msgs) and their use give the
 *     stats' capacity_bytes / used_bytes / full. Accepts stop (IGW_ENOSPC, intake 503
 *     queue_full) at the high-water mark, early enough that the deliveries of what is stored
 *     still find room in the bucket; they resume below the low-water mark.
 *   - the watchdog: when the bucket holds revisions the watcher has not delivered and the watcher
 *     made no progress for QJS_WATCH_STUCK_S checks, the watcher is recreated (by its own
 *     thread); when the stream's ordered consumer stops short of the stream's last message, the
 *     missing messages are read one by one. Nothing waits forever for what a watcher missed.
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

#define QJS_MON_PERIOD_MS 1000
#define QJS_WATCH_STUCK_S 3
#define QJS_HIGH_PCT 90 /* accepts stop at this share of a limit */
#define QJS_LOW_PCT 80  /* and resume below this one */

struct lim {
    bool ok;
    uint64_t msgs, bytes, last_seq;
    int64_t max_msgs, max_bytes;
};

static struct lim
read_limits(qjs *s, const char *stream)
{
    struct lim l = {false, 0, 0, 0, -1, -1};
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    jsOptions o;

    jsOptions_Init(&o);
    o.Wait = s->timeout_ms;
    if (js_GetStreamInfo(&si, s->js, stream, &o, &jerr) == NATS_OK && si != NULL) {
        l.ok = true;
        l.msgs = si->State.Msgs;
        l.bytes = si->State.Bytes;
        l.last_seq = si->State.LastSeq;
        if (si->Config != NULL) {
            l.max_msgs = si->Config->MaxMsgs;
            l.max_bytes = si->Config->MaxBytes;
        }
    }
    jsStreamInfo_Destroy(si);
    return l;
}

/* used at or above pct percent of limit (a limit <= 0 is none)? */
static bool
above(uint64_t used, int64_t limit, uint64_t pct)
{
    return limit > 0 && used * 100 >= (uint64_t)limit * pct;
}

static bool
over(const struct lim *m, const struct lim *k, uint64_t reserve, uint64_t pct)
{
    /* the bucket must keep room for the records the stored deliveries will still write */
    return above(m->msgs, m->max_msgs, pct) || above(m->bytes, m->max_bytes, pct) ||
           above(k->msgs + reserve, k->max_msgs, pct) ||
           above(k->bytes + reserve * 256, k->max_bytes, pct);
}

static void
jsm_update(qjs *s, const struct lim *m, const struct lim *k)
{
    uint64_t reserve;
    bool hi, lo;

    pthread_mutex_lock(&s->mu);
    reserve = s->counts[IGW_DS_PENDING] + s->counts[IGW_DS_INFLIGHT];
    s->cap_bytes = (m->max_bytes > 0 ? (uint64_t)m->max_bytes : 0) +
                   (k->max_bytes > 0 ? (uint64_t)k->max_bytes : 0);
    s->used_bytes = s->cap_bytes > 0 ? m->bytes + k->bytes : 0;
    hi = over(m, k, reserve, QJS_HIGH_PCT);
    lo = !over(m, k, reserve, QJS_LOW_PCT);
    if (hi && !s->full) {
        IGW_WARN("queue jetstream: the stream or the bucket is at %d%% of its limit: accepts "
                 "refused until it is below %d%%",
                 QJS_HIGH_PCT, QJS_LOW_PCT);
        s->full = true;
    } else if (s->full && lo) {
        IGW_INFO("queue jetstream: below %d%% of the limits again: accepting", QJS_LOW_PCT);
        s->full = false;
    }
    /* the watchdog */
    if (k->last_seq > s->kv_seen && s->kv_seen == s->kv_seen_prev) {
        if (++s->kv_stuck >= QJS_WATCH_STUCK_S && !s->watch_reset_req) {
            s->watch_reset_req = true;
            s->kv_stuck = 0;
        }
    } else {
        s->kv_stuck = 0;
    }
    s->kv_seen_prev = s->kv_seen;
    pthread_mutex_unlock(&s->mu);
}

/* The stream's ordered consumer delivers every message in order; if it stops short of the
 * stream's last message for QJS_WATCH_STUCK_S checks, the missing messages are read one by one
 * (at most 256 a check), so nothing waits for a consumer that does not recover. */
static void
msgs_catch_up(qjs *s, uint64_t last_seq)
{
    uint64_t from;
    uint64_t to;
    bool go;

    pthread_mutex_lock(&s->mu);
    if (s->msg_seen < last_seq && s->msg_seen == s->msg_seen_prev) {
        s->msg_stuck++;
    } else {
        s->msg_stuck = 0;
    }
    s->msg_seen_prev = s->msg_seen;
    go = s->msg_stuck >= QJS_WATCH_STUCK_S;
    from = s->msg_seen + 1;
    pthread_mutex_unlock(&s->mu);
    if (!go) {
        return;
    }
    to = last_seq - from < 256 ? last_seq : from + 255;
    for (uint64_t seq = from; seq <= to; seq++) {
        natsMsg *msg = NULL;
        jsErrCode jerr = 0;
        jsOptions o;
        natsStatus st;

        jsOptions_Init(&o);
        o.Wait = s->timeout_ms;
        st = js_GetMsg(&msg, s->js, s->msg_stream, seq, &o, &jerr);
        if (st != NATS_OK && st != NATS_NOT_FOUND) {
            break; /* the cluster is away: next check */
        }
        pthread_mutex_lock(&s->mu);
        if (st == NATS_OK && !jsv_purged(s, seq) && jsv_find(s, seq) == NULL &&
            jsv_add(s, seq, natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), true) ==
                NULL) {
            IGW_WARN("queue jetstream: message %llu not loaded", (unsigned long long)seq);
        }
        if (seq > s->msg_seen) {
            s->msg_seen = seq; /* read, or deleted (not found) */
        }
        s->msg_seen_prev = s->msg_seen;
        s->ctr.msg_catchup++;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        natsMsg_Destroy(msg);
    }
}

static void *
mon_main(void *arg)
{
    qjs *s = arg;

    pthread_mutex_lock(&s->mu);
    while (!s->watch_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += QJS_MON_PERIOD_MS / 1000;
        /* cv is broadcast on every change of the view: wait for the deadline itself */
        while (!s->watch_stop && pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT) {
        }
        if (s->watch_stop) {
            break;
        }
        pthread_mutex_unlock(&s->mu);
        {
            struct lim m = read_limits(s, s->msg_stream);
            struct lim k = read_limits(s, s->kv_stream);
            if (m.ok && k.ok) {
                jsm_update(s, &m, &k);
            }
            if (m.ok) {
                msgs_catch_up(s, m.last_seq);
            }
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int
jsm_start(qjs *s)
{
    struct lim m = read_limits(s, s->msg_stream);
    struct lim k = read_limits(s, s->kv_stream);

    if (m.ok && k.ok) {
        jsm_update(s, &m, &k); /* full at once after a restart in the full state */
    }
    if (pthread_create(&s->mon, NULL, mon_main, s) != 0) {
        return IGW_ENOMEM;
    }
    s->mon_started = true;
    return IGW_OK;
}

bool
js_full_error(jsErrCode jerr, const char *text)
{
    /* a stream at its max_msgs/max_bytes with discard new: "maximum messages exceeded" */
    return jerr == JSStorageResourcesExceededErr || jerr == JSInsufficientResourcesErr ||
           (jerr == JSStreamStoreFailedErr && text != NULL && strstr(text, "maximum") != NULL);
}
