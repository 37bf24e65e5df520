/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend-neutral queue facade: igw_queue_* checks its arguments (the same for every
 * backend), then makes one call through the backend's operations (include/igw/queue_backend.h).
 * It also holds what needs no storage: the id's external form and freeing copied-out results.
 */
#include <pthread.h>
#include <string.h>

#include "igw/common.h"
#include "igw/queue_backend.h"
#include "queue_int.h"

#define DEFAULT_RETAIN_DELIVERED_MS 3600000ull
#define DEFAULT_RETAIN_IDEM_MS 86400000ull

struct listener {
    igw_queue_event_fn fn;
    void *arg;
};

struct igw_queue {
    const struct igw_queue_backend *ops;
    void *be; /* the backend's state */
    /* event listeners, fanned out here (the backend has one: dispatch); slot 0 is
     * igw_queue_set_listener's */
    pthread_mutex_t lmu;
    struct listener lis[IGW_QUEUE_LISTENERS_MAX]; /* under lmu */
    bool dispatching;                             /* under lmu: dispatch is registered */
};

/* ---- open / close ------------------------------------------------------------------------ */

int
igw_queue_open(igw_queue **out, const struct igw_queue_opts *opts, char *errbuf, size_t errlen)
{
    const struct igw_queue_backend *ops;
    struct igw_queue_opts o;
    igw_queue *q;
    int rv;

    if (out == NULL || opts == NULL) {
        igw_errbuf_set(errbuf, errlen, "queue: no options");
        return IGW_EINVAL;
    }
    *out = NULL;
    ops = igw_queue_backend_find(opts->backend);
    if (ops == NULL) {
        igw_errbuf_set(errbuf, errlen, "queue: unknown backend '%s'", opts->backend);
        return IGW_EINVAL;
    }
    o = *opts;
    o.retain_delivered_ms =
        o.retain_delivered_ms == 0 ? DEFAULT_RETAIN_DELIVERED_MS : o.retain_delivered_ms;
    o.retain_idempotency_ms =
        o.retain_idempotency_ms == 0 ? DEFAULT_RETAIN_IDEM_MS : o.retain_idempotency_ms;
    q = IGW_NEW(igw_queue);
    if (q == NULL) {
        return IGW_ENOMEM;
    }
    q->ops = ops;
    pthread_mutex_init(&q->lmu, NULL);
    rv = ops->open(&q->be, &o, errbuf, errlen);
    if (rv != IGW_OK) {
        pthread_mutex_destroy(&q->lmu);
        igw_free(q);
        return rv;
    }
    *out = q;
    return IGW_OK;
}

void
igw_queue_close(igw_queue *q)
{
    if (q == NULL) {
        return;
    }
    q->ops->close(q->be);
    pthread_mutex_destroy(&q->lmu);
    igw_free(q);
}

/* The backend's one listener: calls every registered one, under lmu (so a removal returns
 * only once no call of the removed listener runs). */
static void
dispatch(void *arg, const struct igw_queue_event *ev)
{
    igw_queue *q = arg;

    pthread_mutex_lock(&q->lmu);
    for (unsigned i = 0; i < IGW_QUEUE_LISTENERS_MAX; i++) {
        if (q->lis[i].fn != NULL) {
            q->lis[i].fn(q->lis[i].arg, ev);
        }
    }
    pthread_mutex_unlock(&q->lmu);
}

/* Registers dispatch with the backend while any listener is set (events are only collected
 * then). Under lmu. */
static void
dispatch_sync(igw_queue *q)
{
    bool any = false;

    for (unsigned i = 0; i < IGW_QUEUE_LISTENERS_MAX; i++) {
        any = any || q->lis[i].fn != NULL;
    }
    if (any != q->dispatching) {
        q->ops->set_listener(q->be, any ? dispatch : NULL, any ? q : NULL);
        q->dispatching = any;
    }
}

void
igw_queue_set_listener(igw_queue *q, igw_queue_event_fn fn, void *arg)
{
    if (q == NULL) {
        return;
    }
    pthread_mutex_lock(&q->lmu);
    q->lis[0].fn = fn;
    q->lis[0].arg = fn != NULL ? arg : NULL;
    dispatch_sync(q);
    pthread_mutex_unlock(&q->lmu);
}

int
igw_queue_listener_add(igw_queue *q, igw_queue_event_fn fn, void *arg)
{
    int rv = IGW_ENOSPC;

    if (q == NULL || fn == NULL) {
        return IGW_EINVAL;
    }
    pthread_mutex_lock(&q->lmu);
    for (unsigned i = 1; rv != IGW_OK && i < IGW_QUEUE_LISTENERS_MAX; i++) {
        if (q->lis[i].fn == NULL) {
            q->lis[i].fn = fn;
            q->lis[i].arg = arg;
            rv = IGW_OK;
        }
    }
    dispatch_sync(q);
    pthread_mutex_unlock(&q->lmu);
    return rv;
}

void
igw_queue_listener_remove(igw_queue *q, igw_queue_event_fn fn, void *arg)
{
    if (q == NULL) {
        return;
    }
    pthread_mutex_lock(&q->lmu);
    for (unsigned i = 1; i < IGW_QUEUE_LISTENERS_MAX; i++) {
        if (q->lis[i].fn == fn && q->lis[i].arg == arg) {
            q->lis[i].fn = NULL;
            q->lis[i].arg = NULL;
        }
    }
    dispatch_sync(q);
    pthread_mutex_unlock(&q->lmu);
}

/* ---- accept ------------------------------------------------------------------------------ */

int
igw_queue_submit(igw_queue *q, const struct igw_queue_msg *m, igw_queue_done_fn cb, void *arg)
{
    int rv;

    if (q == NULL || m == NULL || cb == NULL) {
        return IGW_EINVAL;
    }
    rv = qcheck_msg(m);
    return rv == IGW_OK ? q->ops->submit(q->be, m, cb, arg) : rv;
}

int
igw_queue_put(igw_queue *q, const struct igw_queue_msg *m, uint64_t *id, bool *duplicate)
{
    int rv;

    if (q == NULL || m == NULL) {
        return IGW_EINVAL;
    }
    rv = qcheck_msg(m);
    return rv == IGW_OK ? q->ops->put(q->be, m, id, duplicate) : rv;
}

/* ---- delivery ---------------------------------------------------------------------------- */

int
igw_queue_claim(igw_queue *q, uint64_t now_ms, unsigned max, igw_queue_route_filter_fn filter,
                void *arg, struct igw_queue_claim *out, unsigned *n)
{
    if (n != NULL) {
        *n = 0;
    }
    if (q == NULL || n == NULL || (out == NULL && max > 0)) {
        return IGW_EINVAL;
    }
    return q->ops->claim(q->be, now_ms, max, filter, arg, out, n);
}

void
igw_queue_claim_fini(struct igw_queue_claim *c)
{
    if (c == NULL) {
        return;
    }
    IGW_FREE(c->content_type);
    igw_buf_fini(&c->payload);
    igw_buf_fini(&c->meta);
}

uint64_t
igw_queue_next_due(igw_queue *q)
{
    return q == NULL ? UINT64_MAX : q->ops->next_due(q->be);
}

static int
outcomes_check(const struct igw_queue_outcome *o, unsigned n)
{
    if (o == NULL && n > 0) {
        return IGW_EINVAL;
    }
    for (unsigned i = 0; i < n; i++) {
        if (o[i].route == NULL) {
            return IGW_EINVAL;
        }
    }
    return IGW_OK;
}

int
igw_queue_complete(igw_queue *q, const struct igw_queue_outcome *o, unsigned n)
{
    if (q == NULL || outcomes_check(o, n) != IGW_OK) {
        return IGW_EINVAL;
    }
    return q->ops->complete(q->be, o, n);
}

/* ---- rounds ------------------------------------------------------------------------------ */

int
igw_queue_round_start(igw_queue *q, struct igw_queue_round *rd, void (*notify)(void *arg),
                      void *notify_arg)
{
    if (q == NULL || rd == NULL || outcomes_check(rd->outcomes, rd->noutcomes) != IGW_OK ||
        (rd->out == NULL && rd->max > 0)) {
        return IGW_EINVAL;
    }
    rd->complete_rv = IGW_OK;
    rd->claim_rv = IGW_OK;
    rd->n = 0;
    rd->priv = NULL;
    return q->ops->round_start(q->be, rd, notify, notify_arg);
}

bool
igw_queue_round_done(igw_queue *q, struct igw_queue_round *rd)
{
    return q == NULL || rd == NULL || q->ops->round_done(q->be, rd);
}

void
igw_queue_round_wait(igw_queue *q, struct igw_queue_round *rd)
{
    if (q != NULL && rd != NULL) {
        q->ops->round_wait(q->be, rd);
    }
}

int
igw_queue_round(igw_queue *q, struct igw_queue_round *rd)
{
    int rv = igw_queue_round_start(q, rd, NULL, NULL);

    if (rv == IGW_OK) {
        igw_queue_round_wait(q, rd);
    }
    return rv;
}

/* ---- inspection and repair --------------------------------------------------------------- */

int
igw_queue_stats(igw_queue *q, struct igw_queue_stats *s)
{
    if (s != NULL) {
        memset(s, 0, sizeof(*s));
    }
    if (q == NULL || s == NULL) {
        return IGW_EINVAL;
    }
    return q->ops->stats(q->be, s);
}

int
igw_queue_deliveries(igw_queue *q, uint64_t id, struct igw_queue_delivery_info *out, unsigned max,
                     unsigned *n)
{
    if (n != NULL) {
        *n = 0;
    }
    if (q == NULL || n == NULL || (out == NULL && max > 0)) {
        return IGW_EINVAL;
    }
    return q->ops->deliveries(q->be, id, out, max, n);
}

int
igw_queue_dead_get(igw_queue *q, uint64_t id, const char *route, struct igw_queue_dead_info *out)
{
    if (out == NULL) {
        return IGW_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    igw_buf_init(&out->response, 0);
    if (q == NULL) {
        return IGW_EINVAL;
    }
    if (!qcheck_name(route)) {
        return IGW_ENOENT;
    }
    return q->ops->dead_get(q->be, id, route, out);
}

void
igw_queue_dead_info_fini(struct igw_queue_dead_info *d)
{
    if (d != NULL) {
        igw_buf_fini(&d->response);
    }
}

int
igw_queue_release(igw_queue *q, uint64_t id, const char *route, unsigned *released)
{
    unsigned dummy = 0;

    if (released != NULL) {
        *released = 0;
    }
    if (q == NULL) {
        return IGW_EINVAL;
    }
    if (route != NULL && !qcheck_name(route)) {
        return IGW_ENOENT;
    }
    return q->ops->release(q->be, id, route, released != NULL ? released : &dummy);
}

int
igw_queue_retry_now(igw_queue *q, uint64_t id, const char *route, unsigned *changed)
{
    unsigned dummy = 0;

    if (changed != NULL) {
        *changed = 0;
    }
    if (q == NULL) {
        return IGW_EINVAL;
    }
    if (route != NULL && !qcheck_name(route)) {
        return IGW_ENOENT;
    }
    return q->ops->retry_now(q->be, id, route, changed != NULL ? changed : &dummy);
}

/* ---- listing, per-route counts, attempts -------------------------------------------------- */

int
igw_queue_list(igw_queue *q, const struct igw_queue_filter *f, uint64_t before, unsigned max,
               struct igw_queue_list_item *out, struct igw_queue_list_page *pg)
{
    static const struct igw_queue_filter none;

    if (pg != NULL) {
        memset(pg, 0, sizeof(*pg));
    }
    if (q == NULL || pg == NULL || (out == NULL && max > 0)) {
        return IGW_EINVAL;
    }
    f = f != NULL ? f : &none;
    if ((f->channel != NULL && !qcheck_name(f->channel)) ||
        (f->route != NULL && !qcheck_name(f->route)) ||
        (f->idem_key != NULL && (f->channel == NULL || f->idem_key_len == 0 ||
                                 f->idem_key_len > IGW_QUEUE_IDEM_KEY_MAX)) ||
        (f->order_key != NULL && f->order_key_len > IGW_QUEUE_ORDER_KEY_MAX) ||
        (f->text != NULL && f->text_len == 0) || (unsigned)f->state > IGW_DS_DEAD) {
        return IGW_EINVAL;
    }
    return q->ops->list(q->be, f, before, max, out, pg);
}

int
igw_queue_route_stats(igw_queue *q, struct igw_queue_route_stats *out, unsigned max, unsigned *n)
{
    if (n != NULL) {
        *n = 0;
    }
    if (q == NULL || n == NULL || (out == NULL && max > 0)) {
        return IGW_EINVAL;
    }
    return q->ops->route_stats(q->be, out, max, n);
}

int
igw_queue_channel_stats(igw_queue *q, struct igw_queue_channel_stats *out, unsigned max,
                        unsigned *n)
{
    if (n != NULL) {
        *n = 0;
    }
    if (q == NULL || n == NULL || (out == NULL && max > 0)) {
        return IGW_EINVAL;
    }
    return q->ops->channel_stats(q->be, out, max, n);
}

int
igw_queue_attempts(igw_queue *q, uint64_t id, const char *route, struct igw_queue_attempt *out,
                   unsigned max, unsigned *n, uint32_t *total)
{
    uint32_t dummy = 0;

    if (n != NULL) {
        *n = 0;
    }
    if (total != NULL) {
        *total = 0;
    }
    if (q == NULL || n == NULL || route == NULL || !qcheck_name(route) ||
        (out == NULL && max > 0)) {
        return IGW_EINVAL;
    }
    return q->ops->attempts(q->be, id, route, out, max, n, total != NULL ? total : &dummy);
}

int
igw_queue_payload_get(igw_queue *q, uint64_t id, const char *route, struct igw_queue_payload *out)
{
    if (out == NULL) {
        return IGW_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    igw_buf_init(&out->data, 0);
    if (q == NULL || route == NULL || !qcheck_name(route)) {
        return IGW_EINVAL;
    }
    int rv = q->ops->payload_get(q->be, id, route, out);
    if (rv != IGW_OK) {
        igw_queue_payload_fini(out);
        igw_buf_init(&out->data, 0);
    }
    return rv;
}

void
igw_queue_payload_fini(struct igw_queue_payload *p)
{
    if (p != NULL) {
        igw_free(p->content_type);
        p->content_type = NULL;
        igw_buf_fini(&p->data);
    }
}

int
igw_queue_purge(igw_queue *q, uint64_t id)
{
    return q == NULL ? IGW_EINVAL : q->ops->purge(q->be, id);
}

int
igw_queue_sweep(igw_queue *q, uint64_t now_ms, unsigned limit, unsigned *removed)
{
    unsigned dummy = 0;

    if (removed != NULL) {
        *removed = 0;
    }
    if (q == NULL) {
        return IGW_EINVAL;
    }
    if (limit == 0) {
        return IGW_OK;
    }
    return q->ops->sweep(q->be, now_ms, limit, removed != NULL ? removed : &dummy);
}

/* ---- message read and replay ------------------------------------------------------------- */

int
igw_queue_message_get(igw_queue *q, uint64_t id, struct igw_queue_message *out)
{
    int rv;

    if (out == NULL) {
        return IGW_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    igw_buf_init(&out->meta, 0);
    igw_buf_init(&out->body, 0);
    out->id = id;
    if (q == NULL) {
        return IGW_EINVAL;
    }
    rv = q->ops->message_get(q->be, id, out);
    if (rv != IGW_OK) {
        igw_queue_message_fini(out);
        out->id = id;
    }
    return rv;
}

void
igw_queue_message_fini(struct igw_queue_message *m)
{
    if (m != NULL) {
        IGW_FREE(m->content_type);
        igw_buf_fini(&m->meta);
        igw_buf_fini(&m->body);
    }
}

int
igw_queue_replay(igw_queue *q, uint64_t id, const struct igw_queue_replay_route *routes, unsigned n)
{
    int rv;

    if (q == NULL || routes == NULL || n == 0 || n > IGW_QUEUE_ROUTES_MAX) {
        return IGW_EINVAL;
    }
    rv = qcheck_replay(routes, n);
    return rv == IGW_OK ? q->ops->replay(q->be, id, routes, n) : rv;
}

/* ---- ids --------------------------------------------------------------------------------- */

void
igw_queue_id_format(uint64_t id, char out[IGW_QUEUE_ID_STRLEN])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[id & 0xFu];
        id >>= 4;
    }
    out[16] = '\0';
}

int
igw_queue_id_parse(const char *s, uint64_t *id)
{
    uint64_t v = 0;

    if (s == NULL || strlen(s) != 16) {
        return IGW_EINVAL;
    }
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') {
            d = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (unsigned)(c - 'A' + 10);
        } else {
            return IGW_EINVAL;
        }
        v = (v << 4) | d;
    }
    *id = v;
    return IGW_OK;
}
