/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Submit and put of the LMDB backend: copy a message (checked by the facade) into one
 * allocation (the request, its route table and every byte string), then hand it to the writer
 * thread.
 */
#include <string.h>

#include "igw/common.h"
#include "lmdb_int.h"

/* The facade checked every limit (queue/check.c); here only the size of the request block. */
static int
add_size(size_t *total, size_t n)
{
    if (*total > SIZE_MAX - n - 1) {
        return IGW_ETOOBIG;
    }
    *total += n + 1; /* + NUL */
    return IGW_OK;
}

static size_t
ostr_len(const char *s)
{
    return s == NULL ? 0 : strlen(s);
}

static int
route_size(const struct igw_queue_route_init *rt, size_t *total)
{
    int rv = add_size(total, strlen(rt->route));

    if (rv == IGW_OK && rt->order_key != NULL) {
        rv = add_size(total, rt->order_key_len);
    }
    if (rv == IGW_OK && rt->payload != NULL) {
        rv = add_size(total, rt->payload_len);
    }
    return rv == IGW_OK ? add_size(total, ostr_len(rt->content_type)) : rv;
}

/* *total receives the size of the request block for m (already checked). */
static int
msg_size(const struct igw_queue_msg *m, size_t *total)
{
    int rv;

    *total = sizeof(struct qreq);
    rv = add_size(total, strlen(m->channel));
    if (rv == IGW_OK && m->idem_key != NULL) {
        rv = add_size(total, m->idem_key_len);
    }
    if (rv == IGW_OK) {
        rv = add_size(total, ostr_len(m->content_type));
    }
    if (rv == IGW_OK) {
        rv = add_size(total, m->meta_len);
    }
    if (rv == IGW_OK) {
        rv = add_size(total, m->body_len);
    }
    if (rv == IGW_OK) {
        rv = add_size(total, m->nroutes * sizeof(struct qroute));
    }
    for (unsigned i = 0; rv == IGW_OK && i < m->nroutes; i++) {
        rv = route_size(&m->routes[i], total);
    }
    return rv;
}

/* Copies n bytes (plus a NUL) to *dst and advances it; returns the copy. */
static const char *
copy(char **dst, const void *src, size_t n)
{
    char *r = *dst;
    if (n > 0) {
        memcpy(r, src, n);
    }
    r[n] = '\0';
    *dst += n + 1;
    return r;
}

static void
copy_route(struct qroute *d, const struct igw_queue_route_init *s, char **pos)
{
    d->name_len = strlen(s->route);
    d->name = copy(pos, s->route, d->name_len);
    d->ordered = s->order_key != NULL;
    d->order_len = d->ordered ? s->order_key_len : 0;
    d->order_key = d->ordered ? copy(pos, s->order_key, d->order_len) : NULL;
    d->has_payload = s->payload != NULL;
    d->payload_len = d->has_payload ? s->payload_len : 0;
    d->payload = d->has_payload ? copy(pos, s->payload, d->payload_len) : NULL;
    d->content_type =
        s->content_type != NULL ? copy(pos, s->content_type, strlen(s->content_type)) : NULL;
}

static void
copy_msg(struct qsubmit *s, const struct igw_queue_msg *m, char *pos)
{
    s->routes = (struct qroute *)(void *)pos;
    pos += m->nroutes * sizeof(struct qroute);
    s->channel_len = strlen(m->channel);
    s->channel = copy(&pos, m->channel, s->channel_len);
    s->has_idem = m->idem_key != NULL;
    s->idem_len = s->has_idem ? m->idem_key_len : 0;
    s->idem = s->has_idem ? copy(&pos, m->idem_key, s->idem_len) : NULL;
    s->content_type =
        m->content_type != NULL ? copy(&pos, m->content_type, strlen(m->content_type)) : NULL;
    s->meta_len = m->meta_len;
    s->meta = copy(&pos, m->meta, m->meta_len);
    s->body_len = m->body_len;
    s->body = copy(&pos, m->body, m->body_len);
    s->nroutes = m->nroutes;
    for (unsigned i = 0; i < m->nroutes; i++) {
        copy_route(&s->routes[i], &m->routes[i], &pos);
    }
}

int
qlmdb_submit(void *be, const struct igw_queue_msg *m, igw_queue_done_fn cb, void *arg)
{
    qlmdb *q = be;
    struct qreq *r;
    size_t total;
    int rv;

    rv = msg_size(m, &total);
    if (rv != IGW_OK) {
        return rv;
    }
    r = igw_malloc(total);
    if (r == NULL) {
        return IGW_ENOMEM;
    }
    memset(r, 0, sizeof(*r));
    r->kind = QREQ_SUBMIT;
    r->u.submit.cb = cb;
    r->u.submit.arg = arg;
    copy_msg(&r->u.submit, m, (char *)(r + 1));
    rv = qenqueue(q, r);
    if (rv != IGW_OK) {
        igw_free(r);
    }
    return rv;
}

struct put_wait {
    qlmdb *q;
    bool done;
    int rv;
    uint64_t id;
    bool duplicate;
};

static void
put_done(void *arg, int rv, uint64_t id, bool duplicate)
{
    struct put_wait *w = arg;
    pthread_mutex_lock(&w->q->mu);
    w->rv = rv;
    w->id = id;
    w->duplicate = duplicate;
    w->done = true;
    pthread_cond_broadcast(&w->q->done_cv);
    pthread_mutex_unlock(&w->q->mu);
}

int
qlmdb_put(void *be, const struct igw_queue_msg *m, uint64_t *id, bool *duplicate)
{
    qlmdb *q = be;
    struct put_wait w = {q, false, IGW_OK, 0, false};
    int rv = qlmdb_submit(q, m, put_done, &w);

    if (rv != IGW_OK) {
        return rv;
    }
    pthread_mutex_lock(&q->mu);
    while (!w.done) {
        pthread_cond_wait(&q->done_cv, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    if (w.rv == IGW_OK && id != NULL) {
        *id = w.id;
    }
    if (w.rv == IGW_OK && duplicate != NULL) {
        *duplicate = w.duplicate;
    }
    return w.rv;
}
