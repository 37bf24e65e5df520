/* SPDX-License-Identifier: Apache-2.0 */
/* Release, purge, sweep and replay on JetStream (writer jobs), and the writer's dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"
#include "js_job.h"

static struct jsd *
route_of(struct jsm *m, const char *route)
{
    for (unsigned i = 0; m != NULL && i < m->nroutes; i++) {
        if (strcmp(m->d[i].route, route) == 0) {
            return &m->d[i];
        }
    }
    return NULL;
}

/* One admin change of the deliveries of message j->mid (all routes, or route j->route): pick
 * says which deliveries it applies to, change edits a copy of one (mu held for both). Each is
 * written by compare-and-set and emits ev; one that another instance changed first is skipped
 * (IGW_EAGAIN). j->removed counts the deliveries changed; j->rv IGW_OK, IGW_ENOENT (no such
 * message or route) or the first write error. */
static void
change_deliveries(qjs *s, struct qjs_job *j, bool (*pick)(const struct jsd *d, uint64_t now),
                  void (*change)(struct jsd *nd, uint64_t now), enum igw_queue_event_kind ev)
{
    struct jsm *m;
    uint64_t now = igw_now_ms();
    bool wrote = false;

    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, j->mid);
    if (m == NULL || (j->route != NULL && route_of(m, j->route) == NULL)) {
        pthread_mutex_unlock(&s->mu);
        j->rv = IGW_ENOENT;
        return;
    }
    j->rv = IGW_OK;
    for (unsigned i = 0; i < m->nroutes; i++) {
        struct jsd *d = &m->d[i];
        struct jsd nd;
        struct igw_buf rec;
        int w;
        if (!pick(d, now) || (j->route != NULL && strcmp(d->route, j->route) != 0)) {
            continue;
        }
        nd = *d;
        change(&nd, now);
        w = jsrec_encode_deliv(&rec, &nd);
        pthread_mutex_unlock(&s->mu);
        w = w ? w : jsw_write_deliv(s, d, &rec, nd.rev);
        pthread_mutex_lock(&s->mu);
        if (w == IGW_OK) {
            wrote = true;
            j->removed++; /* the count of changed deliveries */
            jsw_emit(s, ev, m, d, NULL);
        } else if (w != IGW_EAGAIN) {
            j->rv = w;
        }
    }
    s->commits += wrote ? 1 : 0;
    pthread_mutex_unlock(&s->mu);
}

/* Retry now: pending deliveries due later become due now (attempts kept). */
static bool
pick_due_later(const struct jsd *d, uint64_t now)
{
    return d->state == IGW_DS_PENDING && d->due_ms > now;
}

static void
make_due(struct jsd *nd, uint64_t now)
{
    nd->due_ms = now;
}

static void
do_retry_now(qjs *s, struct qjs_job *j)
{
    change_deliveries(s, j, pick_due_later, make_due, IGW_QEV_RETRY);
}

/* Release: dead letters become pending again, due now, with their attempts reset. */
static bool
pick_dead(const struct jsd *d, uint64_t now)
{
    IGW_UNUSED(now);
    return d->state == IGW_DS_DEAD;
}

static void
make_released(struct jsd *nd, uint64_t now)
{
    nd->state = IGW_DS_PENDING;
    nd->attempts = 0;
    nd->due_ms = now;
    nd->dead_ms = 0;
    memset(&nd->response, 0, sizeof(nd->response));
}

static void
do_release(qjs *s, struct qjs_job *j)
{
    change_deliveries(s, j, pick_dead, make_released, IGW_QEV_RELEASED);
}

/* Removes every record of bucket subject filter `keys` (a key, or a pattern with '*') from the
 * bucket's stream: no tombstone is left (mu not held). */
static natsStatus
purge_subject(qjs *s, const char *keys)
{
    char subj[128 + QJS_NAME_MAX];
    jsErrCode jerr = 0;
    jsOptions o;
    natsStatus st;

    snprintf(subj, sizeof(subj), "$KV.%s.%s", s->bucket, keys);
    jsOptions_Init(&o);
    o.Wait = s->timeout_ms;
    o.Stream.Purge.Subject = subj;
    JS_RETRY(s, st, js_PurgeStream(s->js, s->kv_stream, &o, &jerr));
    return st;
}

/* Deletes m's record and its delivery keys from JetStream (mu not held). The delivery keys go
 * with one purge of their subjects (d.<id>.*), which leaves no tombstones; the other instances
 * drop the message through the purge marker or their own sweep, not through these keys. */
static int
drop_stored(qjs *s, struct jsm *m)
{
    jsErrCode jerr = 0;
    natsStatus st;
    bool any = false;

    JS_RETRY(s, st, js_DeleteMsg(s->js, s->msg_stream, m->id, NULL, &jerr));

    if (st != NATS_OK && st != NATS_NOT_FOUND && jerr != 10037) {
        return js_err(st, jerr, "delete message");
    }
    for (unsigned i = 0; i < m->nroutes; i++) {
        any = any || m->d[i].rev != 0;
    }
    if (any) {
        char keys[48];
        snprintf(keys, sizeof(keys), "d.%016llx.*", (unsigned long long)m->id);
        if (purge_subject(s, keys) != NATS_OK) {
            /* a leftover key is only garbage: its message is gone */
        }
    }
    return IGW_OK;
}

/* Removes the due tombs (purge markers, swept idempotency keys' tombstones), at most limit.
 * Returns how many. */
static unsigned
drop_tombs(qjs *s, uint64_t now, unsigned limit)
{
    unsigned n = 0;
    natsStatus st;

    while (n < limit) {
        struct jstomb *t = NULL;
        pthread_mutex_lock(&s->mu);
        if (s->ntombs > 0 && s->tombs[0]->at_ms <= now) {
            t = s->tombs[0];
            memmove(&s->tombs[0], &s->tombs[1], (s->ntombs - 1) * sizeof(*s->tombs));
            s->ntombs--;
        }
        pthread_mutex_unlock(&s->mu);
        if (t == NULL) {
            break;
        }
        st = purge_subject(s, t->key);
        igw_free(t); /* not removed: garbage, which no view reads again */
        n++;
        if (st != NATS_OK) {
            break; /* the cluster is away: do not hold the writer for the rest */
        }
    }
    return n;
}

static void
do_purge(qjs *s, struct qjs_job *j)
{
    struct jsm *m;
    char key[64];
    uint64_t rev = 0;
    natsStatus st;

    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, j->mid);
    if (j->remote) {
        jsv_mark_purged(s, j->mid);
        if (m != NULL) {
            jsv_remove(s, m);
        }
        pthread_mutex_unlock(&s->mu);
        j->rv = IGW_OK;
        return;
    }
    pthread_mutex_unlock(&s->mu);
    if (m == NULL) {
        j->rv = IGW_ENOENT;
        return;
    }
    jskey_purge(key, sizeof(key), j->mid);
    JS_RETRY(s, st, kvStore_Put(&rev, s->kv, key, "p", 1)); /* the others learn it first */
    if (st != NATS_OK) {
        j->rv = js_err(st, 0, "purge marker");
        return;
    }
    pthread_mutex_lock(&s->mu);
    jsv_tomb_add(s, key, igw_now_ms()); /* the marker goes once every instance has seen it */
    pthread_mutex_unlock(&s->mu);
    j->rv = drop_stored(s, m);
    if (j->rv != IGW_OK) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    jsw_emit(s, IGW_QEV_PURGED, m, NULL, NULL);
    jsv_mark_purged(s, j->mid);
    jsv_remove(s, m);
    s->commits++;
    pthread_mutex_unlock(&s->mu);
}

static bool
sweepable(qjs *s, const struct jsm *m, uint64_t now)
{
    if (m->created_ms + s->retain_delivered_ms > now) {
        return false;
    }
    for (unsigned i = 0; i < m->nroutes; i++) {
        if (m->d[i].state != IGW_DS_DELIVERED) {
            return false;
        }
    }
    return m->nroutes == 0 || m->done_ms + s->retain_delivered_ms <= now;
}

static void
do_sweep(qjs *s, struct qjs_job *j)
{
    struct jsm *pick[256];
    struct jsidem *keys[256]; /* copies: the watcher may drop the view's entry meanwhile */
    unsigned np = 0;
    unsigned nk = 0;
    unsigned limit = j->limit < 256 ? j->limit : 256;
    uint64_t now = j->now_ms;
    size_t i;

    pthread_mutex_lock(&s->mu);
    for (i = 0; i < s->nms && np < limit; i++) {
        if (s->ms[i]->id >= s->sweep_from && sweepable(s, s->ms[i], now)) {
            pick[np++] = s->ms[i];
        }
    }
    if (np < limit) {
        s->sweep_from = 0; /* the messages are covered: on to the keys, then round again */
        for (size_t b = 0; b < QJS_IDEM_BUCKETS && np + nk < limit; b++) {
            for (struct jsidem *e = s->idem[b]; e != NULL && np + nk < limit; e = e->next) {
                if (e->created_ms + s->retain_idem_ms <= now) {
                    struct jsidem *c = igw_malloc(sizeof(*c) + e->klen);
                    if (c == NULL) {
                        break;
                    }
                    memcpy(c, e, sizeof(*c) + e->klen);
                    keys[nk++] = c;
                }
            }
        }
    } else {
        s->sweep_from = pick[np - 1]->id + 1;
    }
    pthread_mutex_unlock(&s->mu);
    j->rv = IGW_OK;
    for (unsigned k = 0; k < np; k++) {
        if (drop_stored(s, pick[k]) != IGW_OK) {
            j->rv = IGW_EIO;
            break;
        }
        pthread_mutex_lock(&s->mu);
        jsv_remove(s, pick[k]);
        j->removed++;
        pthread_mutex_unlock(&s->mu);
    }
    for (unsigned k = 0; j->rv == IGW_OK && k < nk; k++) {
        struct igw_buf key;
        if (jskey_idem(&key, keys[k]->key, keys[k]->klen) != IGW_OK) {
            j->rv = IGW_ENOMEM;
            break;
        }
        if (kvStore_Purge(s->kv, key.ptr, NULL) != NATS_OK) {
            igw_buf_fini(&key);
            j->rv = IGW_EIO;
            break;
        }
        pthread_mutex_lock(&s->mu);
        jsv_tomb_add(s, key.ptr, now); /* the tombstone goes once every instance has seen it */
        pthread_mutex_unlock(&s->mu);
        igw_buf_fini(&key);
        pthread_mutex_lock(&s->mu);
        {
            struct jsidem *e = jsv_idem_find(s, keys[k]->key, keys[k]->klen);
            if (e != NULL && e->rev == keys[k]->rev) {
                jsv_idem_del(s, e);
            }
        }
        j->removed++;
        pthread_mutex_unlock(&s->mu);
    }
    for (unsigned k = 0; k < nk; k++) {
        igw_free(keys[k]);
    }
    if (j->rv == IGW_OK && np + nk < limit) {
        (void)drop_tombs(s, now, limit - np - nk); /* not counted: no message or key removed */
    }
    pthread_mutex_lock(&s->mu);
    s->commits += j->removed > 0 ? 1 : 0;
    pthread_mutex_unlock(&s->mu);
}

static void
do_replay(qjs *s, struct qjs_job *j)
{
    struct jsm *m;
    struct jsd *ds[IGW_QUEUE_ROUTES_MAX];
    bool wrote = false;

    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, j->mid);
    j->rv = m == NULL ? IGW_ENOENT : IGW_OK;
    for (unsigned i = 0; j->rv == IGW_OK && i < j->nroutes; i++) {
        ds[i] = route_of(m, j->routes[i].route);
        if (ds[i] == NULL) {
            j->rv = IGW_ENOENT;
        } else if (ds[i]->state == IGW_DS_INFLIGHT) {
            j->rv = IGW_EAGAIN;
        }
    }
    for (unsigned i = 0; j->rv == IGW_OK && i < j->nroutes; i++) {
        const struct igw_queue_replay_route *r = &j->routes[i];
        struct jsd *d = ds[i];
        struct jsd nd = *d;
        struct igw_buf rec;
        int w;

        nd.state = IGW_DS_PENDING;
        nd.attempts = 0;
        nd.due_ms = igw_now_ms();
        nd.dead_ms = 0;
        memset(&nd.response, 0, sizeof(nd.response));
        nd.ovr = true;
        nd.ovr_payload = r->payload != NULL;
        memset(&nd.ovr_data, 0, sizeof(nd.ovr_data));
        nd.ovr_data.ptr = js_unconst(r->payload);
        nd.ovr_data.len = r->payload ? r->payload_len : 0;
        nd.ovr_ct = r->payload ? js_unconst(r->content_type) : NULL;
        if (r->order_key != NULL) {
            nd.ordered = true;
            nd.okey = js_unconst(r->order_key);
            nd.okey_len = r->order_key_len;
        }
        w = jsrec_encode_deliv(&rec, &nd);
        pthread_mutex_unlock(&s->mu);
        w = w ? w : jsw_write_deliv(s, d, &rec, nd.rev);
        pthread_mutex_lock(&s->mu);
        if (w == IGW_OK) {
            wrote = true;
            jsw_emit(s, IGW_QEV_REPLAYED, m, d, NULL);
        } else {
            j->rv = w == IGW_EAGAIN ? IGW_EAGAIN : w;
        }
    }
    s->commits += wrote ? 1 : 0;
    pthread_mutex_unlock(&s->mu);
}

void
jsw_run(qjs *s, struct qjs_job *j)
{
    switch (j->kind) {
    case JK_ROUND:
        jsw_round(s, j);
        break;
    case JK_RELEASE:
        do_release(s, j);
        break;
    case JK_PURGE:
        do_purge(s, j);
        break;
    case JK_SWEEP:
        do_sweep(s, j);
        break;
    case JK_REPLAY:
        do_replay(s, j);
        break;
    case JK_RETRY_NOW:
        do_retry_now(s, j);
        break;
    case JK_CHECK:
        jsc_replace(s, j);
        break;
    default:
        j->rv = IGW_EINVAL;
        break;
    }
}

/* ---- the operations ----------------------------------------------------------------------- */

static int
call(qjs *s, struct qjs_job *j)
{
    int rv = jsw_call(s, j);
    jsjob_free(j);
    return rv;
}

/* Release (kind JK_RELEASE) or retry now (JK_RETRY_NOW); *count what changed. */
static int
route_job(void *be, enum jsjob_kind kind, uint64_t id, const char *route, unsigned *count)
{
    struct qjs_job *j = IGW_NEW(struct qjs_job);
    int rv;
    if (j == NULL) {
        return IGW_ENOMEM;
    }
    j->kind = kind;
    j->mid = id;
    j->route = route;
    rv = jsw_call(be, j);
    *count = j->removed;
    jsjob_free(j);
    return rv;
}

#ifdef QJS_ADMIN
int
jso_release(void *be, uint64_t id, const char *route, unsigned *released)
{
    return route_job(be, JK_RELEASE, id, route, released);
}

int
jso_retry_now(void *be, uint64_t id, const char *route, unsigned *changed)
{
    return route_job(be, JK_RETRY_NOW, id, route, changed);
}
#else
int
jso_release(void *be, uint64_t id, const char *route)
{
    unsigned n = 0;
    return route_job(be, JK_RELEASE, id, route, &n);
}
#endif

int
jso_purge(void *be, uint64_t id)
{
    struct qjs_job *j = IGW_NEW(struct qjs_job);
    if (j == NULL) {
        return IGW_ENOMEM;
    }
    j->kind = JK_PURGE;
    j->mid = id;
    return call(be, j);
}

int
jso_sweep(void *be, uint64_t now_ms, unsigned limit, unsigned *removed)
{
    struct qjs_job *j = IGW_NEW(struct qjs_job);
    int rv;
    if (j == NULL) {
        return IGW_ENOMEM;
    }
    j->kind = JK_SWEEP;
    j->now_ms = now_ms;
    j->limit = limit;
    rv = jsw_call(be, j);
    *removed = j->removed;
    jsjob_free(j);
    return rv;
}

int
jso_replay(void *be, uint64_t id, const struct igw_queue_replay_route *routes, unsigned n)
{
    struct qjs_job *j = IGW_NEW(struct qjs_job);
    if (j == NULL) {
        return IGW_ENOMEM;
    }
    j->kind = JK_REPLAY;
    j->mid = id;
    j->routes = routes;
    j->nroutes = n;
    return call(be, j);
}
