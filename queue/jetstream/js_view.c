/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JetStream backend's in-memory view of the queue: messages sorted by id, their
 * deliveries, the counters, the idempotency keys; and the read-only operations, which read the
 * view under mu and never wait for the writer (a message's body not kept in memory is read back
 * from the stream, outside mu).
 */
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"
#include "js_job.h"

struct jsm *
jsv_find(qjs *s, uint64_t id)
{
    size_t lo = 0;
    size_t hi = s->nms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ms[mid]->id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < s->nms && s->ms[lo]->id == id ? s->ms[lo] : NULL;
}

static size_t
index_of(qjs *s, uint64_t id)
{
    size_t lo = 0;
    size_t hi = s->nms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ms[mid]->id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static void
deliv_fini(struct jsd *d)
{
    IGW_FREE(d->last_error);
    IGW_FREE(d->okey);
    IGW_FREE(d->ovr_ct);
    igw_buf_fini(&d->ovr_data);
    igw_buf_fini(&d->response);
    jsatt_free(d->att, d->natt);
    d->att = NULL;
    d->natt = 0;
}

static void
msg_free(struct jsm *m)
{
    for (unsigned i = 0; i < m->nroutes; i++) {
        deliv_fini(&m->d[i]);
    }
    igw_free(m->d);
    igw_free(m->raw);
    igw_free(m);
}

int
jsv_reserve(qjs *s, size_t n)
{
    if (s->nms + n > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        struct jsm **nm;
        while (cap < s->nms + n) {
            cap *= 2;
        }
        nm = igw_realloc(s->ms, cap * sizeof(*nm));
        if (nm == NULL) {
            return IGW_ENOMEM;
        }
        s->ms = nm;
        s->cap = cap;
    }
    return IGW_OK;
}

void
jsv_msg_free(struct jsm *m)
{
    msg_free(m);
}

struct jsm *
jsv_prepare(const char *raw, size_t len)
{
    struct jsm *m;
    struct jsrec r;

    if (jsrec_decode_msg(raw, len, &r) != IGW_OK) {
        return NULL;
    }
    m = IGW_NEW(struct jsm);
    if (m == NULL || (m->d = igw_calloc(r.nroutes ? r.nroutes : 1, sizeof(*m->d))) == NULL) {
        igw_free(m);
        igw_free(r.routes);
        return NULL;
    }
    m->created_ms = r.created_ms;
    m->body_len = r.body_len;
    memcpy(m->channel, r.channel, r.channel_len);
    for (unsigned i = 0; i < r.nroutes; i++) {
        struct jsd *d = &m->d[i];
        m->nroutes = i + 1;
        d->m = m;
        d->ri = (uint16_t)i;
        d->state = IGW_DS_PENDING;
        d->due_ms = r.created_ms;
        memcpy(d->route, r.routes[i].name, r.routes[i].name_len);
        igw_buf_init(&d->ovr_data, QJS_BUF_MAX);
        igw_buf_init(&d->response, QJS_BUF_MAX);
        if (r.routes[i].okey != NULL) {
            d->ordered = true;
            d->okey_len = r.routes[i].okey_len;
            d->okey = igw_strndup(r.routes[i].okey, r.routes[i].okey_len);
            if (d->okey == NULL) {
                msg_free(m);
                igw_free(r.routes);
                return NULL;
            }
        }
    }
    m->nroutes = r.nroutes;
    igw_free(r.routes);
    if (m->nroutes > 0) {
        m->raw = igw_malloc(len);
        if (m->raw == NULL) {
            msg_free(m);
            return NULL;
        }
        memcpy(m->raw, raw, len);
        m->raw_len = len;
    }
    m->active = m->nroutes;
    return m;
}

struct jsm *
jsv_link(qjs *s, struct jsm *m, uint64_t id)
{
    struct jsm *old = jsv_find(s, id);
    size_t at;

    if (old != NULL) {
        msg_free(m);
        return old;
    }
    if (jsv_reserve(s, 1) != IGW_OK) {
        msg_free(m);
        return NULL;
    }
    m->id = id;
    s->counts[IGW_DS_PENDING] += m->nroutes;
    at = index_of(s, id);
    memmove(&s->ms[at + 1], &s->ms[at], (s->nms - at) * sizeof(*s->ms));
    s->ms[at] = m;
    s->nms++;
    if (id > s->max_id) {
        s->max_id = id;
    }
    if (m->active > 0 && at < s->lo) {
        s->lo = at;
    }
    pthread_cond_broadcast(&s->cv);
    return m;
}

int
jsv_ids_push(uint64_t **ids, size_t *n, size_t *cap, uint64_t id)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        uint64_t *a = igw_realloc(*ids, c * sizeof(*a));
        if (a == NULL) {
            return IGW_ENOMEM;
        }
        *ids = a;
        *cap = c;
    }
    (*ids)[(*n)++] = id;
    return IGW_OK;
}

void
jsv_unchecked(qjs *s, uint64_t id)
{
    s->check_req = true;
    if (jsv_ids_push(&s->unck, &s->nunck, &s->capunck, id) != IGW_OK) {
        s->unck_lost = true;
    }
}

struct jsm *
jsv_add(qjs *s, uint64_t id, const char *raw, size_t len, bool checked)
{
    struct jsm *m = jsv_find(s, id);
    if (m != NULL) {
        return m;
    }
    m = jsv_prepare(raw, len);
    if (m == NULL) {
        return NULL;
    }
    m->checked = checked || m->nroutes == 0; /* nothing to hand out: nothing to check */
    m->seen_ms = igw_now_ms();
    if (!m->checked) {
        jsv_unchecked(s, id);
    }
    return jsv_link(s, m, id);
}

void
jsv_remove(qjs *s, struct jsm *m)
{
    size_t at = index_of(s, m->id);
    for (unsigned i = 0; i < m->nroutes; i++) {
        s->counts[m->d[i].state]--;
    }
    memmove(&s->ms[at], &s->ms[at + 1], (s->nms - at - 1) * sizeof(*s->ms));
    s->nms--;
    if (s->lo > at) {
        s->lo--;
    }
    msg_free(m);
}

void
jsv_lower(qjs *s, struct jsm *m)
{
    size_t at = index_of(s, m->id);
    if (at < s->lo) {
        s->lo = at;
    }
}

void
jsv_set_state(qjs *s, struct jsd *d, uint8_t state)
{
    bool was = d->state == IGW_DS_PENDING || d->state == IGW_DS_INFLIGHT;
    bool now = state == IGW_DS_PENDING || state == IGW_DS_INFLIGHT;

    s->counts[d->state]--;
    s->counts[state]++;
    d->state = state;
    if (was && !now) {
        d->m->active--;
        if (d->m->active == 0) {
            IGW_FREE(d->m->raw); /* read back from the stream when needed again */
            d->m->raw_len = 0;
        }
    } else if (!was && now) {
        d->m->active++;
        jsv_lower(s, d->m);
        if (!d->m->checked) {
            jsv_unchecked(s, d->m->id); /* loaded done, now to do again */
        }
    }
}

void
jsv_apply_deliv(qjs *s, struct jsd *d, const char *raw, size_t len, uint64_t rev)
{
    uint8_t old = d->state;
    uint8_t want;

    if (rev <= d->rev) {
        return;
    }
    if (jsrec_decode_deliv(raw, len, d) != IGW_OK) {
        IGW_WARN("queue jetstream: delivery record of message %llu unreadable",
                 (unsigned long long)d->m->id);
        d->state = old;
        return;
    }
    want = d->state;
    d->state = old;
    jsv_set_state(s, d, want);
    d->rev = rev;
    if (want == IGW_DS_DELIVERED && d->last_attempt_ms > d->m->done_ms) {
        d->m->done_ms = d->last_attempt_ms;
    }
}

uint64_t
jsv_ready_at(qjs *s, const struct jsd *d)
{
    IGW_UNUSED(s);
    if (d->state == IGW_DS_PENDING) {
        return d->due_ms;
    }
    if (d->state == IGW_DS_INFLIGHT && d->lease_ms > 0) {
        return d->lease_ms; /* taken over (by any instance) when the lease runs out */
    }
    return UINT64_MAX;
}

bool
jsv_claimable(qjs *s, const struct jsd *d, uint64_t now_ms)
{
    uint64_t at = jsv_ready_at(s, d);
    /* a lease runs out in real time, whatever time the caller claims for */
    return at <= now_ms && (d->state != IGW_DS_INFLIGHT || d->lease_ms <= igw_now_ms());
}

static uint64_t
key_hash(const struct jsd *d)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = d->route; *p != '\0'; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    }
    h = (h ^ 0xff) * 1099511628211ull;
    for (size_t i = 0; i < d->okey_len; i++) {
        h = (h ^ (unsigned char)d->okey[i]) * 1099511628211ull;
    }
    return h;
}

static bool
same_key(const struct jsd *a, const struct jsd *b)
{
    return a->okey_len == b->okey_len && strcmp(a->route, b->route) == 0 &&
           (a->okey_len == 0 || memcmp(a->okey, b->okey, a->okey_len) == 0);
}

/* Visits every delivery that is pending or in flight and heads its (route, key), in id order:
 * fn returns false to stop. The key table is s-local scratch. IGW_OK or IGW_ENOMEM. */
int
jsv_scan(qjs *s, bool (*fn)(void *arg, struct jsd *d), void *arg)
{
    uint64_t active = s->counts[IGW_DS_PENDING] + s->counts[IGW_DS_INFLIGHT];
    size_t cap = 64;
    bool first = true;
    bool unchecked = false; /* an earlier message's record is not known to be the leader's */

    while (cap < active * 2) {
        cap *= 2;
    }
    if (cap > s->scratch_cap) {
        const struct jsd **n = igw_realloc((void *)s->scratch, cap * sizeof(*n));
        if (n == NULL) {
            return IGW_ENOMEM;
        }
        s->scratch = n;
        s->scratch_cap = cap;
    }
    cap = s->scratch_cap;
    memset((void *)s->scratch, 0, cap * sizeof(*s->scratch));
    for (size_t i = s->lo; i < s->nms; i++) {
        struct jsm *m = s->ms[i];
        if (m->active == 0) {
            if (first) {
                s->lo = i + 1;
            }
            continue;
        }
        first = false;
        if (!m->checked) {
            unchecked = true; /* its keys may not be the ones the view read */
            continue;
        }
        for (unsigned r = 0; r < m->nroutes; r++) {
            struct jsd *d = &m->d[r];
            bool head = true;
            if (d->state != IGW_DS_PENDING && d->state != IGW_DS_INFLIGHT) {
                continue;
            }
            if (d->ordered) {
                size_t h = (size_t)key_hash(d) & (cap - 1);
                while (s->scratch[h] != NULL && !same_key(s->scratch[h], d)) {
                    h = (h + 1) & (cap - 1);
                }
                head = s->scratch[h] == NULL;
                s->scratch[h] = d;
                /* our own message is in the view from its acknowledgement on; an earlier one of
                 * its key accepted by another instance may not be yet */
                head = head && m->id <= s->msg_seen && !unchecked;
            }
            if (head && !fn(arg, d)) {
                return IGW_OK;
            }
        }
    }
    return IGW_OK;
}

bool
jsv_is_head(qjs *s, const struct jsd *d)
{
    if (!d->ordered) {
        return true;
    }
    for (size_t i = s->lo; i < s->nms && s->ms[i]->id < d->m->id; i++) {
        struct jsm *m = s->ms[i];
        if (m->active > 0 && !m->checked) {
            return false; /* its key is not known yet */
        }
        for (unsigned r = 0; m->active > 0 && r < m->nroutes; r++) {
            const struct jsd *o = &m->d[r];
            if ((o->state == IGW_DS_PENDING || o->state == IGW_DS_INFLIGHT) && o->ordered &&
                same_key(o, d)) {
                return false;
            }
        }
    }
    return true;
}

/* ---- idempotency keys and purge markers --------------------------------------------------- */

static size_t
idem_bucket(const char *key, size_t klen)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < klen; i++) {
        h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    }
    return (size_t)(h % QJS_IDEM_BUCKETS);
}

struct jsidem *
jsv_idem_find(qjs *s, const char *key, size_t klen)
{
    for (struct jsidem *e = s->idem[idem_bucket(key, klen)]; e != NULL; e = e->next) {
        if (e->klen == klen && memcmp(e->key, key, klen) == 0) {
            return e;
        }
    }
    return NULL;
}

int
jsv_idem_put(qjs *s, const char *key, size_t klen, uint64_t id, uint64_t created, uint64_t rev)
{
    struct jsidem *e = jsv_idem_find(s, key, klen);
    size_t b = idem_bucket(key, klen);

    if (e != NULL) {
        if (rev > e->rev) {
            e->id = id;
            e->created_ms = created;
            e->rev = rev;
        }
        return IGW_OK;
    }
    e = igw_malloc(sizeof(*e) + klen);
    if (e == NULL) {
        return IGW_ENOMEM;
    }
    e->id = id;
    e->created_ms = created;
    e->rev = rev;
    e->klen = klen;
    memcpy(e->key, key, klen);
    e->next = s->idem[b];
    s->idem[b] = e;
    s->nidem++;
    return IGW_OK;
}

void
jsv_idem_link(qjs *s, struct jsidem *e)
{
    size_t b = idem_bucket(e->key, e->klen);
    if (jsv_idem_find(s, e->key, e->klen) != NULL) {
        igw_free(e);
        return;
    }
    e->next = s->idem[b];
    s->idem[b] = e;
    s->nidem++;
}

void
jsv_idem_del(qjs *s, struct jsidem *e)
{
    struct jsidem **pp = &s->idem[idem_bucket(e->key, e->klen)];
    while (*pp != NULL && *pp != e) {
        pp = &(*pp)->next;
    }
    if (*pp == e) {
        *pp = e->next;
        s->nidem--;
        igw_free(e);
    }
}

bool
jsv_purged(qjs *s, uint64_t id)
{
    size_t lo = 0;
    size_t hi = s->npurged;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->purged[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < s->npurged && s->purged[lo] == id;
}

void
jsv_mark_purged(qjs *s, uint64_t id)
{
    size_t at = s->npurged;
    if (jsv_purged(s, id)) {
        return;
    }
    if (s->npurged == s->cappurged) {
        size_t cap = s->cappurged ? s->cappurged * 2 : 64;
        uint64_t *n = igw_realloc(s->purged, cap * sizeof(*n));
        if (n == NULL) {
            return; /* the marker is only a guard against late records */
        }
        s->purged = n;
        s->cappurged = cap;
    }
    while (at > 0 && s->purged[at - 1] > id) {
        s->purged[at] = s->purged[at - 1];
        at--;
    }
    s->purged[at] = id;
    s->npurged++;
}

void
jsv_tomb_add(qjs *s, const char *key, uint64_t now_ms)
{
    size_t kl = strlen(key);
    struct jstomb *t;

    if (s->ntombs >= QJS_TOMBS_MAX) {
        return;
    }
    if (s->ntombs == s->captombs) {
        size_t cap = s->captombs ? s->captombs * 2 : 64;
        struct jstomb **n = igw_realloc(s->tombs, cap * sizeof(*n));
        if (n == NULL) {
            return;
        }
        s->tombs = n;
        s->captombs = cap;
    }
    t = igw_malloc(sizeof(*t) + kl + 1);
    if (t == NULL) {
        return;
    }
    t->at_ms = now_ms + QJS_TOMB_KEEP_MS;
    memcpy(t->key, key, kl + 1);
    s->tombs[s->ntombs++] = t;
}

void
jsv_free(qjs *s)
{
    for (size_t i = 0; i < s->ntombs; i++) {
        igw_free(s->tombs[i]);
    }
    IGW_FREE(s->tombs);
    s->ntombs = 0;
    for (size_t i = 0; i < s->nms; i++) {
        msg_free(s->ms[i]);
    }
    IGW_FREE(s->ms);
    s->nms = 0;
    for (size_t b = 0; b < QJS_IDEM_BUCKETS; b++) {
        while (s->idem[b] != NULL) {
            struct jsidem *e = s->idem[b];
            s->idem[b] = e->next;
            igw_free(e);
        }
    }
    IGW_FREE(s->purged);
    IGW_FREE(s->unck);
    IGW_FREE(s->holes);
    s->nholes = 0;
    s->nunck = 0;
    igw_free((void *)s->scratch);
    s->scratch = NULL;
}
