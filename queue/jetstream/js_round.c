/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Claims, outcomes and rounds on JetStream. The claim filter runs on the caller's thread before
 * the trip to the writer: it is asked once per route that has a due delivery (or an outcome in
 * the round) and its answers travel with the job as quotas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "js_int.h"
#include "js_job.h"

struct routes_scan {
    qjs *s;
    uint64_t now;
    struct jsquota *q;
    unsigned n, cap;
    int rv;
};

static int
add_route(struct routes_scan *rs, const char *route)
{
    for (unsigned i = 0; i < rs->n; i++) {
        if (strcmp(rs->q[i].route, route) == 0) {
            return IGW_OK;
        }
    }
    if (rs->n == rs->cap) {
        unsigned cap = rs->cap ? rs->cap * 2 : 8;
        struct jsquota *n = igw_realloc(rs->q, cap * sizeof(*n));
        if (n == NULL) {
            return IGW_ENOMEM;
        }
        rs->q = n;
        rs->cap = cap;
    }
    snprintf(rs->q[rs->n].route, sizeof(rs->q[0].route), "%s", route);
    rs->q[rs->n].left = UINT32_MAX;
    rs->n++;
    return IGW_OK;
}

static bool
route_one(void *arg, struct jsd *d)
{
    struct routes_scan *rs = arg;
    if (jsv_claimable(rs->s, d, rs->now) && (rs->rv = add_route(rs, d->route)) != IGW_OK) {
        return false;
    }
    return true;
}

/* Our own messages are in the view from their acknowledgement on, but ordered deliveries wait
 * until the stream's ordered consumer has delivered them too (jsv_scan): wait a little for that
 * echo, so a claim right after an accept finds them. mu held. */
static void
wait_echo(qjs *s)
{
    uint64_t until = igw_now_ms() + 100;
    uint64_t want = s->max_id;
    while (s->msg_seen < want && !s->closing && igw_now_ms() < until) {
        js_cv_wait(s, 5);
    }
}

/* Builds the job of rd; *trivial when there is nothing to do. IGW_OK or IGW_ENOMEM. */
static int
round_job(qjs *s, struct igw_queue_round *rd, struct qjs_job **out, bool *trivial)
{
    struct routes_scan rs = {s, rd->now_ms, NULL, 0, 0, IGW_OK};
    struct qjs_job *j;
    int rv = IGW_OK;

    *out = NULL;
    *trivial = false;
    if (rd->max > 0) {
        pthread_mutex_lock(&s->mu);
        wait_echo(s);
        rv = jsv_scan(s, route_one, &rs);
        pthread_mutex_unlock(&s->mu);
        rv = rv ? rv : rs.rv;
        for (unsigned i = 0; rv == IGW_OK && i < rd->noutcomes; i++) {
            rv = add_route(&rs, rd->outcomes[i].route);
        }
        if (rv != IGW_OK) {
            igw_free(rs.q);
            return rv;
        }
        for (unsigned i = 0; rd->filter != NULL && i < rs.n; i++) {
            rs.q[i].left = rd->filter(rd->arg, rs.q[i].route);
        }
    }
    if (rd->noutcomes == 0) {
        bool any = false;
        for (unsigned i = 0; i < rs.n; i++) {
            any = any || rs.q[i].left > 0;
        }
        if (!any) {
            igw_free(rs.q);
            *trivial = true;
            return IGW_OK;
        }
    }
    j = IGW_NEW(struct qjs_job);
    if (j == NULL) {
        igw_free(rs.q);
        return IGW_ENOMEM;
    }
    j->kind = JK_ROUND;
    j->rd = rd;
    j->quota = rs.q;
    j->nquota = rs.n;
    *out = j;
    return IGW_OK;
}

/* ---- on the writer ------------------------------------------------------------------------ */

/* Prepares the write of outcome o into *it (and its event kind into *ev): false when the
 * outcome is ignored (not in flight here) or cannot be encoded (*rv set). */
static bool
prepare_outcome(qjs *s, const struct igw_queue_outcome *o, struct jsw_item *it,
                enum igw_queue_event_kind *evk, int *rv)
{
    struct jsm *m;
    struct jsd *d = NULL;
    struct jsd nd;
    struct igw_buf rec;
    enum igw_queue_event_kind ev;
    uint64_t now = igw_now_ms();
    int w;

    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, o->id);
    for (unsigned i = 0; m != NULL && i < m->nroutes; i++) {
        if (strcmp(m->d[i].route, o->route) == 0) {
            d = &m->d[i];
        }
    }
    if (d == NULL || d->state != IGW_DS_INFLIGHT || strcmp(d->owner, s->instance) != 0) {
        pthread_mutex_unlock(&s->mu);
        return false; /* not in flight here: ignored */
    }
    nd = *d;
    nd.owner[0] = '\0';
    nd.lease_ms = 0;
    nd.last_status = o->status;
    nd.last_error = js_unconst(o->error);
    memset(&nd.response, 0, sizeof(nd.response));
    if (o->released) {
        nd.state = IGW_DS_PENDING;
        nd.due_ms = o->next_due_ms;
        nd.last_status = d->last_status;
        nd.last_error = d->last_error;
        ev = IGW_QEV_RELEASED;
    } else {
        nd.attempts++;
        nd.last_attempt_ms = now;
        if (o->result == IGW_DELIVER_OK) {
            nd.state = IGW_DS_DELIVERED;
            ev = IGW_QEV_DELIVERED;
        } else if (o->result == IGW_DELIVER_RETRY) {
            nd.state = IGW_DS_PENDING;
            nd.due_ms = o->next_due_ms;
            ev = IGW_QEV_RETRY;
        } else {
            nd.state = IGW_DS_DEAD;
            nd.dead_ms = now;
            nd.response.ptr = js_unconst(o->response);
            nd.response.len = o->response_len;
            ev = IGW_QEV_DEAD;
        }
    }
    w = IGW_OK;
    if (!o->released) {
        /* the attempt record: the first one and the last ones are kept (borrowed strings) */
        unsigned keep = d->natt < QJS_ATT_KEPT ? d->natt : QJS_ATT_KEPT - 1;
        struct jsatt *a = igw_calloc(keep + 1, sizeof(*a));
        if (a == NULL) {
            w = IGW_ENOMEM;
        } else {
            if (keep > 0) {
                a[0] = d->att[0];
                memcpy(&a[1], &d->att[d->natt - keep + 1], (keep - 1) * sizeof(*a));
            }
            a[keep].n = d->att_total + 1;
            a[keep].time_ms = now;
#ifdef QJS_ADMIN
            a[keep].duration_ms = o->duration_ms;
#endif
            a[keep].status = o->status;
            a[keep].result = (uint8_t)o->result;
            a[keep].error = js_unconst(o->error);
            nd.att = a;
            nd.natt = keep + 1;
            nd.att_total = d->att_total + 1;
        }
    }
    w = w ? w : jsrec_encode_deliv(&rec, &nd);
    if (nd.att != d->att) {
        igw_free(nd.att);
    }
    pthread_mutex_unlock(&s->mu);
    if (w != IGW_OK) {
        *rv = w;
        return false;
    }
    it->d = d;
    it->rec = rec;
    it->last_rev = nd.rev;
    *evk = ev;
    return true;
}

struct cand {
    struct jsd *d;
    uint64_t at;
};

struct cand_scan {
    qjs *s;
    uint64_t now;
    struct cand *c;
    size_t n, cap;
    bool oom;
};

static bool
cand_one(void *arg, struct jsd *d)
{
    struct cand_scan *cs = arg;
    uint64_t at = jsv_ready_at(cs->s, d);
    if (!jsv_claimable(cs->s, d, cs->now)) {
        return true;
    }
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 64;
        struct cand *n = igw_realloc(cs->c, cap * sizeof(*n));
        if (n == NULL) {
            cs->oom = true;
            return false;
        }
        cs->c = n;
        cs->cap = cap;
    }
    cs->c[cs->n].d = d;
    cs->c[cs->n].at = at;
    cs->n++;
    return true;
}

static int
cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a;
    const struct cand *y = b;
    if (x->at != y->at) {
        return x->at < y->at ? -1 : 1;
    }
    if (x->d->m->id != y->d->m->id) {
        return x->d->m->id < y->d->m->id ? -1 : 1;
    }
    return strcmp(x->d->route, y->d->route);
}

static struct jsquota *
quota_of(struct qjs_job *j, const char *route)
{
    for (unsigned i = 0; i < j->nquota; i++) {
        if (strcmp(j->quota[i].route, route) == 0) {
            return &j->quota[i];
        }
    }
    return NULL;
}

/* Fills c for d from the message record (fetched outside mu). IGW_OK, IGW_ENOMEM, IGW_EIO. */
static int
fill_claim(qjs *s, struct jsd *d, struct igw_queue_claim *c)
{
    struct jsrec r;
    char *raw = NULL;
    size_t len = 0;
    int rv = jsv_fetch_raw(s, d->m->id, &raw, &len);

    memset(c, 0, sizeof(*c));
    igw_buf_init(&c->payload, QJS_BUF_MAX);
    igw_buf_init(&c->meta, QJS_BUF_MAX);
    if (rv != IGW_OK) {
        return rv;
    }
    rv = jsrec_decode_msg(raw, len, &r);
    if (rv != IGW_OK) {
        igw_free(raw);
        return rv;
    }
    c->id = d->m->id;
    snprintf(c->route, sizeof(c->route), "%s", d->route);
    snprintf(c->channel, sizeof(c->channel), "%s", d->m->channel);
    c->created_ms = d->m->created_ms;
    pthread_mutex_lock(&s->mu);
    c->attempts = d->attempts;
    if (d->ovr && d->ovr_payload) {
        rv = igw_buf_append(&c->payload, d->ovr_data.ptr, d->ovr_data.len);
        if (rv == IGW_OK && (d->ovr_ct != NULL || r.ct != NULL)) {
            c->content_type = d->ovr_ct ? igw_strdup(d->ovr_ct) : igw_strndup(r.ct, r.ct_len);
            rv = c->content_type ? IGW_OK : IGW_ENOMEM;
        }
    } else {
        const struct jsrec_route *rt = d->ri < r.nroutes ? &r.routes[d->ri] : NULL;
        bool own = !d->ovr && rt != NULL && rt->payload != NULL;
        const char *p = own ? rt->payload : r.body;
        size_t pl = own ? rt->payload_len : r.body_len;
        const char *ct = own && rt->ct ? rt->ct : r.ct;
        size_t ctl = own && rt->ct ? rt->ct_len : r.ct_len;
        rv = igw_buf_append(&c->payload, p, pl);
        if (rv == IGW_OK && ct != NULL) {
            c->content_type = igw_strndup(ct, ctl);
            rv = c->content_type ? IGW_OK : IGW_ENOMEM;
        }
    }
    pthread_mutex_unlock(&s->mu);
    rv = rv ? rv : igw_buf_append(&c->meta, r.meta, r.meta_len);
    igw_free(r.routes);
    igw_free(raw);
    if (rv != IGW_OK) {
        igw_queue_claim_fini(c);
    }
    return rv;
}

static int
do_claim(qjs *s, struct qjs_job *j, bool *wrote)
{
    struct igw_queue_round *rd = j->rd;
    struct cand_scan cs = {s, rd->now_ms, NULL, 0, 0, false};
    struct jsw_item *it;
    unsigned k = 0;
    unsigned w = 0;
    int rv;

    pthread_mutex_lock(&s->mu);
    rv = jsv_scan(s, cand_one, &cs);
    pthread_mutex_unlock(&s->mu);
    it = rv == IGW_OK && !cs.oom ? igw_calloc(rd->max, sizeof(*it)) : NULL;
    if (it == NULL) {
        igw_free(cs.c);
        return IGW_ENOMEM;
    }
    if (cs.n > 1) {
        qsort(cs.c, cs.n, sizeof(*cs.c), cand_cmp);
    }
    for (size_t i = 0; i < cs.n && k < rd->max; i++) {
        struct jsd *d = cs.c[i].d;
        struct jsquota *q = quota_of(j, d->route);
        struct igw_queue_claim *c = &rd->out[k];
        struct jsd nd;
        int e;

        if (q == NULL || q->left == 0) {
            continue;
        }
        if ((e = fill_claim(s, d, c)) != IGW_OK) {
            rv = e;
            break;
        }
        pthread_mutex_lock(&s->mu);
        if (!jsv_claimable(s, d, rd->now_ms)) { /* changed by a watcher meanwhile */
            pthread_mutex_unlock(&s->mu);
            igw_queue_claim_fini(c);
            continue;
        }
        if (d->state == IGW_DS_INFLIGHT) {
            s->ctr.lease_taken++;
        }
        nd = *d;
        nd.state = IGW_DS_INFLIGHT;
        snprintf(nd.owner, sizeof(nd.owner), "%s", s->instance);
        nd.lease_ms = igw_now_ms() + s->ack_wait_ms;
        e = jsrec_encode_deliv(&it[k].rec, &nd);
        pthread_mutex_unlock(&s->mu);
        if (e != IGW_OK) {
            igw_queue_claim_fini(c);
            rv = e;
            break;
        }
        it[k].d = d;
        it[k].last_rev = nd.rev;
        c->attempts = nd.attempts;
        q->left--;
        k++;
    }
    if (k > 0) {
        jsw_write_group(s, it, k);
    }
    for (unsigned i = 0; i < k; i++) {
        if (it[i].rv == IGW_OK) {
            if (w != i) {
                rd->out[w] = rd->out[i];
            }
            w++;
            continue;
        }
        igw_queue_claim_fini(&rd->out[i]);
        if ((it[i].rv == IGW_ETIMEDOUT || it[i].rv == IGW_ENOMEM) && rv == IGW_OK) {
            rv = it[i].rv; /* the cluster or memory */
        }
    }
    rd->n = w;
    *wrote = *wrote || w > 0;
    igw_free(it);
    igw_free(cs.c);
    return w > 0 ? IGW_OK : rv;
}

void
jsw_round(qjs *s, struct qjs_job *j)
{
    struct igw_queue_round *rd = j->rd;
    bool wrote = false;

    rd->complete_rv = IGW_OK;
    rd->claim_rv = IGW_OK;
    rd->n = 0;
    if (rd->noutcomes > 0) {
        struct jsw_item *it = igw_calloc(rd->noutcomes, sizeof(*it));
        enum igw_queue_event_kind *ev = igw_calloc(rd->noutcomes, sizeof(*ev));
        const struct igw_queue_outcome **src = igw_calloc(rd->noutcomes, sizeof(*src));
        unsigned k = 0;

        if (it == NULL || ev == NULL || src == NULL) {
            rd->complete_rv = IGW_ENOMEM;
        }
        for (unsigned i = 0; rd->complete_rv == IGW_OK && i < rd->noutcomes; i++) {
            if (prepare_outcome(s, &rd->outcomes[i], &it[k], &ev[k], &rd->complete_rv)) {
                src[k++] = &rd->outcomes[i];
            }
        }
        if (k > 0) {
            jsw_write_group(s, it, k);
        }
        pthread_mutex_lock(&s->mu);
        for (unsigned i = 0; i < k; i++) {
            if (it[i].rv == IGW_OK) {
                wrote = true;
                jsw_emit(s, ev[i], it[i].d->m, it[i].d,
                         ev[i] == IGW_QEV_RELEASED ? NULL : src[i]->error);
            } else if (it[i].rv != IGW_EAGAIN && rd->complete_rv == IGW_OK) {
                rd->complete_rv = it[i].rv;
            }
        }
        pthread_mutex_unlock(&s->mu);
        for (unsigned i = k; it != NULL && i < rd->noutcomes; i++) {
            igw_buf_fini(&it[i].rec);
        }
        igw_free(it);
        igw_free(ev);
        igw_free(src);
    }
    if (rd->max > 0) {
        rd->claim_rv = do_claim(s, j, &wrote);
    }
    pthread_mutex_lock(&s->mu);
    if (wrote) {
        s->commits++;
    }
    pthread_mutex_unlock(&s->mu);
    j->rv = IGW_OK;
}

/* ---- the operations ----------------------------------------------------------------------- */

static void
closed(struct igw_queue_round *rd)
{
    rd->complete_rv = IGW_ECLOSED;
    rd->claim_rv = IGW_ECLOSED;
    rd->n = 0;
}

int
jso_round_start(void *be, struct igw_queue_round *rd, void (*notify)(void *arg), void *notify_arg)
{
    qjs *s = be;
    struct qjs_job *j;
    bool trivial;
    int rv = round_job(s, rd, &j, &trivial);

    rd->priv = NULL;
    if (rv != IGW_OK) {
        rd->complete_rv = rv;
        rd->claim_rv = rv;
        return IGW_OK;
    }
    if (trivial) {
        pthread_mutex_lock(&s->mu);
        if (s->closing) {
            closed(rd);
        }
        pthread_mutex_unlock(&s->mu);
        return IGW_OK;
    }
    j->notify = notify;
    j->notify_arg = notify_arg;
    if (jsw_queue(s, j) != IGW_OK) {
        jsjob_free(j);
        closed(rd);
        return IGW_OK;
    }
    rd->priv = j;
    return IGW_OK;
}

bool
jso_round_done(void *be, struct igw_queue_round *rd)
{
    qjs *s = be;
    struct qjs_job *j = rd->priv;
    bool done;

    if (j == NULL) {
        return true;
    }
    pthread_mutex_lock(&s->mu);
    done = j->done;
    pthread_mutex_unlock(&s->mu);
    if (done) {
        jsjob_free(j);
        rd->priv = NULL;
    }
    return done;
}

void
jso_round_wait(void *be, struct igw_queue_round *rd)
{
    qjs *s = be;
    struct qjs_job *j = rd->priv;

    if (j == NULL) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    while (!j->done) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    jsjob_free(j);
    rd->priv = NULL;
}

int
jso_claim(void *be, uint64_t now_ms, unsigned max, igw_queue_route_filter_fn filter, void *arg,
          struct igw_queue_claim *out, unsigned *n)
{
    struct igw_queue_round rd;

    memset(&rd, 0, sizeof(rd));
    rd.now_ms = now_ms;
    rd.max = max;
    rd.filter = filter;
    rd.arg = arg;
    rd.out = out;
    jso_round_start(be, &rd, NULL, NULL);
    jso_round_wait(be, &rd);
    *n = rd.claim_rv == IGW_OK ? rd.n : 0;
    return rd.claim_rv;
}

int
jso_complete(void *be, const struct igw_queue_outcome *o, unsigned n)
{
    qjs *s = be;
    struct igw_queue_round rd;

    if (n == 0) {
        int rv;
        pthread_mutex_lock(&s->mu);
        rv = s->closing ? IGW_ECLOSED : IGW_OK;
        pthread_mutex_unlock(&s->mu);
        return rv;
    }
    memset(&rd, 0, sizeof(rd));
    rd.outcomes = o;
    rd.noutcomes = n;
    jso_round_start(be, &rd, NULL, NULL);
    jso_round_wait(be, &rd);
    return rd.complete_rv;
}
