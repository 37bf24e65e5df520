/* SPDX-License-Identifier: Apache-2.0 */
/* The JetStream backend's read-only operations: from the in-memory view under mu. */
#include <stdlib.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"

int
jsv_stats(void *be, struct igw_queue_stats *st)
{
    qjs *s = be;
    pthread_mutex_lock(&s->mu);
    st->messages = s->nms;
    st->pending = s->counts[IGW_DS_PENDING];
    st->inflight = s->counts[IGW_DS_INFLIGHT];
    st->delivered = s->counts[IGW_DS_DELIVERED];
    st->dead = s->counts[IGW_DS_DEAD];
    st->commits = s->commits;
    st->capacity_bytes = s->cap_bytes;
    st->used_bytes = s->used_bytes;
    st->full = s->full;
    pthread_mutex_unlock(&s->mu);
    return IGW_OK;
}

struct due_scan {
    qjs *s;
    uint64_t min;
};

static bool
due_one(void *arg, struct jsd *d)
{
    struct due_scan *ds = arg;
    uint64_t t = jsv_ready_at(ds->s, d);
    if (d->state == IGW_DS_INFLIGHT && strcmp(d->owner, ds->s->instance) == 0 &&
        d->lease_ms > igw_now_ms()) {
        return true; /* our own claim, its lease running: its worker reports it */
    }
    if (t < ds->min) {
        ds->min = t;
    }
    return true;
}

uint64_t
jsv_next_due(void *be)
{
    qjs *s = be;
    struct due_scan ds = {s, UINT64_MAX};
    pthread_mutex_lock(&s->mu);
    if (jsv_scan(s, due_one, &ds) != IGW_OK) {
        ds.min = UINT64_MAX;
    }
    pthread_mutex_unlock(&s->mu);
    return ds.min;
}

int
jsv_deliveries(void *be, uint64_t id, struct igw_queue_delivery_info *out, unsigned max,
               unsigned *n)
{
    qjs *s = be;
    struct jsm *m;

    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, id);
    if (m == NULL) {
        pthread_mutex_unlock(&s->mu);
        return IGW_ENOENT;
    }
    for (unsigned i = 0; i < m->nroutes && *n < max; i++) {
        const struct jsd *d = &m->d[i];
        struct igw_queue_delivery_info *di = &out[*n];
        unsigned at = *n;
        memset(di, 0, sizeof(*di));
        /* route-name byte order: insertion into the sorted prefix */
        while (at > 0 && strcmp(out[at - 1].route, d->route) > 0) {
            out[at] = out[at - 1];
            at--;
        }
        di = &out[at];
        memset(di, 0, sizeof(*di));
        snprintf(di->route, sizeof(di->route), "%s", d->route);
        di->state = (enum igw_delivery_state)d->state;
        di->attempts = d->attempts;
        di->next_due_ms = d->due_ms;
        di->last_attempt_ms = d->last_attempt_ms;
        di->last_status = d->last_status;
        snprintf(di->last_error, sizeof(di->last_error), "%s", d->last_error ? d->last_error : "");
        (*n)++;
    }
    pthread_mutex_unlock(&s->mu);
    return IGW_OK;
}

int
jsv_dead_get(void *be, uint64_t id, const char *route, struct igw_queue_dead_info *out)
{
    qjs *s = be;
    struct jsm *m;
    int rv = IGW_ENOENT;

    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, id);
    for (unsigned i = 0; m != NULL && i < m->nroutes; i++) {
        const struct jsd *d = &m->d[i];
        if (strcmp(d->route, route) != 0 || d->state != IGW_DS_DEAD) {
            continue;
        }
        out->dead_ms = d->dead_ms;
        out->status = d->last_status;
        snprintf(out->error, sizeof(out->error), "%s", d->last_error ? d->last_error : "");
        igw_buf_init(&out->response, d->response.len);
        rv = d->response.len > 0 ? igw_buf_append(&out->response, d->response.ptr, d->response.len)
                                 : IGW_OK;
        break;
    }
    pthread_mutex_unlock(&s->mu);
    return rv;
}

int
jsv_fetch_raw(qjs *s, uint64_t id, char **raw, size_t *len)
{
    struct jsm *m;
    natsMsg *msg = NULL;
    jsErrCode jerr = 0;
    jsOptions o;
    natsStatus st;

    *raw = NULL;
    *len = 0;
    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, id);
    if (m == NULL) {
        pthread_mutex_unlock(&s->mu);
        return IGW_ENOENT;
    }
    if (m->raw != NULL) {
        *raw = igw_malloc(m->raw_len);
        if (*raw == NULL) {
            pthread_mutex_unlock(&s->mu);
            return IGW_ENOMEM;
        }
        memcpy(*raw, m->raw, m->raw_len);
        *len = m->raw_len;
        pthread_mutex_unlock(&s->mu);
        return IGW_OK;
    }
    pthread_mutex_unlock(&s->mu);
    jsOptions_Init(&o);
    o.Wait = s->timeout_ms;
    JS_RETRY(s, st, js_GetMsg(&msg, s->js, s->msg_stream, id, &o, &jerr));
    if (st != NATS_OK) {
        return js_err(st, jerr, "read message");
    }
    *len = (size_t)natsMsg_GetDataLength(msg);
    *raw = igw_malloc(*len ? *len : 1);
    if (*raw == NULL) {
        natsMsg_Destroy(msg);
        return IGW_ENOMEM;
    }
    memcpy(*raw, natsMsg_GetData(msg), *len);
    natsMsg_Destroy(msg);
    return IGW_OK;
}

static int
copy_out(struct igw_buf *b, const char *p, size_t n)
{
    /* non-NULL ptr followed by a NUL on success */
    int rv;
    igw_buf_init(b, n + 1);
    rv = igw_buf_reserve(b, n + 1);
    if (rv == IGW_OK && n > 0) {
        rv = igw_buf_append(b, p, n);
    }
    if (rv == IGW_OK) {
        b->ptr[b->len] = '\0';
    }
    return rv;
}

int
jsv_message_get(void *be, uint64_t id, struct igw_queue_message *out)
{
    qjs *s = be;
    struct jsrec r;
    char *raw = NULL;
    size_t len = 0;
    int rv = jsv_fetch_raw(s, id, &raw, &len);

    if (rv != IGW_OK) {
        return rv;
    }
    rv = jsrec_decode_msg(raw, len, &r);
    if (rv == IGW_OK) {
        out->created_ms = r.created_ms;
        memcpy(out->channel, r.channel, r.channel_len);
        out->channel[r.channel_len] = '\0';
        out->nroutes = r.nroutes;
        if (r.ct != NULL && (out->content_type = igw_strndup(r.ct, r.ct_len)) == NULL) {
            rv = IGW_ENOMEM;
        }
        rv = rv ? rv : copy_out(&out->meta, r.meta, r.meta_len);
        rv = rv ? rv : copy_out(&out->body, r.body, r.body_len);
        igw_free(r.routes);
    }
    igw_free(raw);
    return rv;
}
