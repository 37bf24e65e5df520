/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin operations on JetStream: listing (newest first, keyset paging, bounded per call),
 * per-route and per-channel counts, attempt records, a route's payload, retry now. All read the
 * in-memory view (no index in JetStream is needed: the view is the index); retry now is a
 * writer job. Built with the admin interface of queue.h only (QJS_ADMIN).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"
#include "js_job.h"

#ifdef QJS_ADMIN

static size_t
first_below(qjs *s, uint64_t before)
{
    size_t lo = 0;
    size_t hi = s->nms;
    if (before == 0) {
        return s->nms;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ms[mid]->id < before) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo; /* ms[0..lo) are below before */
}

static enum igw_delivery_state
overall(const struct jsm *m)
{
    bool infl = false;
    bool pend = false;
    for (unsigned i = 0; i < m->nroutes; i++) {
        if (m->d[i].state == IGW_DS_DEAD) {
            return IGW_DS_DEAD;
        }
        infl = infl || m->d[i].state == IGW_DS_INFLIGHT;
        pend = pend || m->d[i].state == IGW_DS_PENDING;
    }
    return infl ? IGW_DS_INFLIGHT : pend ? IGW_DS_PENDING : IGW_DS_DELIVERED;
}

/* The filters other than text. */
static bool
matches(const struct jsm *m, const struct igw_queue_filter *f)
{
    bool any = f->route == NULL && f->state == 0 && f->order_key == NULL;

    if ((f->channel != NULL && strcmp(m->channel, f->channel) != 0) ||
        (f->since_ms != 0 && m->created_ms < f->since_ms) ||
        (f->until_ms != 0 && m->created_ms >= f->until_ms)) {
        return false;
    }
    for (unsigned i = 0; !any && i < m->nroutes; i++) {
        const struct jsd *d = &m->d[i];
        any = (f->route == NULL || strcmp(d->route, f->route) == 0) &&
              (f->state == 0 || d->state == f->state) &&
              (f->order_key == NULL ||
               (d->ordered && d->okey_len == f->order_key_len &&
                (d->okey_len == 0 || memcmp(d->okey, f->order_key, d->okey_len) == 0)));
    }
    return any;
}

static bool
body_has(const char *raw, size_t len, const struct igw_queue_filter *f)
{
    struct jsrec r;
    bool found = false;
    size_t n;

    if (jsrec_decode_msg(raw, len, &r) != IGW_OK) {
        return false;
    }
    n = r.body_len < IGW_QUEUE_TEXT_SCAN ? r.body_len : IGW_QUEUE_TEXT_SCAN;
    for (size_t i = 0; !found && n >= f->text_len && i <= n - f->text_len; i++) {
        found = memcmp(r.body + i, f->text, f->text_len) == 0;
    }
    igw_free(r.routes);
    return found;
}

static void
item(struct igw_queue_list_item *it, const struct jsm *m)
{
    memset(it, 0, sizeof(*it));
    it->id = m->id;
    it->created_ms = m->created_ms;
    snprintf(it->channel, sizeof(it->channel), "%s", m->channel);
    it->body_len = m->body_len;
    it->state = overall(m);
}

int
jsa_list(void *be, const struct igw_queue_filter *f, uint64_t before, unsigned max,
         struct igw_queue_list_item *out, struct igw_queue_list_page *pg)
{
    qjs *s = be;
    uint64_t only = 0;
    unsigned texts = 0;
    size_t i;

    pthread_mutex_lock(&s->mu);
    if (f->idem_key != NULL) {
        size_t cl = strlen(f->channel);
        char key[IGW_QUEUE_NAME_MAX + 1 + IGW_QUEUE_IDEM_KEY_MAX];
        struct jsidem *e;
        memcpy(key, f->channel, cl + 1);
        memcpy(key + cl + 1, f->idem_key, f->idem_key_len);
        e = jsv_idem_find(s, key, cl + 1 + f->idem_key_len);
        if (e == NULL || (before != 0 && e->id >= before)) {
            pthread_mutex_unlock(&s->mu);
            return IGW_OK;
        }
        only = e->id;
    }
    i = first_below(s, before);
    while (i > 0 && pg->n < max) {
        struct jsm *m = s->ms[i - 1];
        uint64_t id = m->id;
        if (pg->examined >= IGW_QUEUE_LIST_BUDGET || texts >= IGW_QUEUE_TEXT_BUDGET) {
            pg->partial = true;
            pg->next = id + 1; /* go on with this one */
            pthread_mutex_unlock(&s->mu);
            return IGW_OK;
        }
        pg->examined++;
        i--;
        if ((only != 0 && id != only) || !matches(m, f)) {
            continue;
        }
        if (f->text != NULL) {
            bool hit;
            texts++;
            if (m->raw != NULL) {
                hit = body_has(m->raw, m->raw_len, f);
            } else {
                char *raw = NULL;
                size_t len = 0;
                pthread_mutex_unlock(&s->mu);
                hit = jsv_fetch_raw(s, id, &raw, &len) == IGW_OK && body_has(raw, len, f);
                igw_free(raw);
                pthread_mutex_lock(&s->mu);
                i = first_below(s, id); /* the view may have changed meanwhile */
                if ((m = jsv_find(s, id)) == NULL) {
                    continue;
                }
            }
            if (!hit) {
                continue;
            }
        }
        item(&out[pg->n++], m);
    }
    pg->next = pg->n == max && max > 0 && i > 0 ? out[pg->n - 1].id : 0;
    pthread_mutex_unlock(&s->mu);
    return IGW_OK;
}

/* ---- counts ------------------------------------------------------------------------------- */

static int
cmp_route(const void *a, const void *b)
{
    return strcmp(((const struct igw_queue_route_stats *)a)->route,
                  ((const struct igw_queue_route_stats *)b)->route);
}

int
jsa_route_stats(void *be, struct igw_queue_route_stats *out, unsigned max, unsigned *n)
{
    qjs *s = be;
    struct igw_queue_route_stats *all = NULL;
    unsigned nall = 0, cap = 0;

    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nms; i++) {
        const struct jsm *m = s->ms[i];
        for (unsigned r = 0; r < m->nroutes; r++) {
            const struct jsd *d = &m->d[r];
            struct igw_queue_route_stats *rs = NULL;
            for (unsigned k = 0; k < nall && rs == NULL; k++) {
                rs = strcmp(all[k].route, d->route) == 0 ? &all[k] : NULL;
            }
            if (rs == NULL) {
                if (nall == cap) {
                    unsigned nc = cap ? cap * 2 : 16;
                    struct igw_queue_route_stats *na = igw_realloc(all, nc * sizeof(*na));
                    if (na == NULL) {
                        pthread_mutex_unlock(&s->mu);
                        igw_free(all);
                        return IGW_ENOMEM;
                    }
                    all = na;
                    cap = nc;
                }
                rs = &all[nall++];
                memset(rs, 0, sizeof(*rs));
                snprintf(rs->route, sizeof(rs->route), "%s", d->route);
            }
            rs->pending += d->state == IGW_DS_PENDING;
            rs->inflight += d->state == IGW_DS_INFLIGHT;
            rs->delivered += d->state == IGW_DS_DELIVERED;
            rs->dead += d->state == IGW_DS_DEAD;
            if (d->state == IGW_DS_PENDING &&
                (rs->oldest_pending_ms == 0 || m->created_ms < rs->oldest_pending_ms)) {
                rs->oldest_pending_ms = m->created_ms;
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (nall > 0) {
        qsort(all, nall, sizeof(*all), cmp_route);
    }
    for (unsigned k = 0; k < nall && *n < max; k++) {
        out[(*n)++] = all[k];
    }
    igw_free(all);
    return IGW_OK;
}

static int
cmp_channel(const void *a, const void *b)
{
    return strcmp(((const struct igw_queue_channel_stats *)a)->channel,
                  ((const struct igw_queue_channel_stats *)b)->channel);
}

int
jsa_channel_stats(void *be, struct igw_queue_channel_stats *out, unsigned max, unsigned *n)
{
    qjs *s = be;
    struct igw_queue_channel_stats *all = NULL;
    unsigned nall = 0, cap = 0;

    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nms; i++) {
        const struct jsm *m = s->ms[i];
        struct igw_queue_channel_stats *cs = NULL;
        for (unsigned k = 0; k < nall && cs == NULL; k++) {
            cs = strcmp(all[k].channel, m->channel) == 0 ? &all[k] : NULL;
        }
        if (cs == NULL) {
            if (nall == cap) {
                unsigned nc = cap ? cap * 2 : 16;
                struct igw_queue_channel_stats *na = igw_realloc(all, nc * sizeof(*na));
                if (na == NULL) {
                    pthread_mutex_unlock(&s->mu);
                    igw_free(all);
                    return IGW_ENOMEM;
                }
                all = na;
                cap = nc;
            }
            cs = &all[nall++];
            memset(cs, 0, sizeof(*cs));
            snprintf(cs->channel, sizeof(cs->channel), "%s", m->channel);
        }
        cs->messages++;
    }
    pthread_mutex_unlock(&s->mu);
    if (nall > 0) {
        qsort(all, nall, sizeof(*all), cmp_channel);
    }
    for (unsigned k = 0; k < nall && *n < max; k++) {
        out[(*n)++] = all[k];
    }
    igw_free(all);
    return IGW_OK;
}

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

int
jsa_attempts(void *be, uint64_t id, const char *route, struct igw_queue_attempt *out, unsigned max,
             unsigned *n, uint32_t *total)
{
    qjs *s = be;
    const struct jsd *d;

    pthread_mutex_lock(&s->mu);
    d = route_of(jsv_find(s, id), route);
    if (d != NULL) {
        *total = d->att_total;
        for (unsigned i = 0; i < d->natt && *n < max; i++) {
            struct igw_queue_attempt *a = &out[(*n)++];
            memset(a, 0, sizeof(*a));
            a->n = d->att[i].n;
            a->time_ms = d->att[i].time_ms;
            a->duration_ms = d->att[i].duration_ms;
            a->status = d->att[i].status;
            a->result = (enum igw_deliver_result)d->att[i].result;
            snprintf(a->error, sizeof(a->error), "%s", d->att[i].error ? d->att[i].error : "");
        }
    }
    pthread_mutex_unlock(&s->mu);
    return IGW_OK;
}

int
jsa_payload_get(void *be, uint64_t id, const char *route, struct igw_queue_payload *out)
{
    qjs *s = be;
    struct jsd *d;
    struct jsrec r;
    char *raw = NULL;
    size_t len = 0;
    unsigned ri;
    int rv;

    pthread_mutex_lock(&s->mu);
    d = route_of(jsv_find(s, id), route);
    if (d == NULL) {
        pthread_mutex_unlock(&s->mu);
        return IGW_ENOENT;
    }
    if (d->ovr) {
        rv = IGW_ENOENT;
        if (d->ovr_payload) {
            igw_buf_init(&out->data, d->ovr_data.len);
            rv = igw_buf_append(&out->data, d->ovr_data.ptr, d->ovr_data.len);
            if (rv == IGW_OK && d->ovr_ct != NULL &&
                (out->content_type = igw_strdup(d->ovr_ct)) == NULL) {
                rv = IGW_ENOMEM;
            }
        }
        pthread_mutex_unlock(&s->mu);
        return rv;
    }
    ri = d->ri;
    pthread_mutex_unlock(&s->mu);
    if ((rv = jsv_fetch_raw(s, id, &raw, &len)) != IGW_OK) {
        return rv;
    }
    rv = jsrec_decode_msg(raw, len, &r);
    if (rv == IGW_OK) {
        const struct jsrec_route *rt = ri < r.nroutes ? &r.routes[ri] : NULL;
        if (rt == NULL || rt->payload == NULL) {
            rv = IGW_ENOENT;
        } else {
            igw_buf_init(&out->data, rt->payload_len);
            rv = igw_buf_append(&out->data, rt->payload, rt->payload_len);
            if (rv == IGW_OK && rt->ct != NULL &&
                (out->content_type = igw_strndup(rt->ct, rt->ct_len)) == NULL) {
                rv = IGW_ENOMEM;
            }
        }
        igw_free(r.routes);
    }
    igw_free(raw);
    return rv;
}

#endif /* QJS_ADMIN */
