/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The g2p output (docs/PAYMENTS.md; the seam: docs/internals/OUTPUTS.md). Two schemes:
 *   g2p:<partner>         the payload is a payroll's DisburseRequest: its batches are sent to
 *                         the partner's first base URL + /disburse (disburse.c);
 *   g2p-ledger:<partner>  the payload is an on-disburse callback: its statuses go into the
 *                         ledger (apply.c).
 * Each route has a payments thread of its own: start queues the delivery for it, the thread
 * runs it with blocking calls (bounded by payments.timeout) and posts the result, and collect
 * finishes it on the delivery thread (the way out_nng hands back its aio completions). The
 * g2p: route's thread also runs the overdue scan (poll.c) every payments.poll_interval.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/log.h"
#include "payments/out_g2p.h"
#include "payments/pay_int.h"
#include "payments/payments.h"
#include "sign/sign.h"

#define LEDGER_SCHEME "g2p-ledger:"
#define G2P_SCHEME "g2p:"

struct g2p_dlv;

struct g2p_engine {
    igw_deliverer *d;
    pthread_mutex_t mu;
    struct g2p_dlv *done, *done_tail; /* finished on a payments thread, for collect */
};

struct g2p_route {
    struct g2p_engine *eng;
    const struct igw_route *cfg;
    const struct igw_partner *partner;
    bool ledger; /* g2p-ledger: */
    pthread_t th;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct g2p_dlv *q, *q_tail; /* waiting for the thread */
    struct g2p_dlv *running;
    bool stop;
    atomic_bool abort;
};

struct g2p_dlv {
    struct igw_dlv *dl;
    struct g2p_dlv *next;
    struct pay_result res;
};

static void
push(struct g2p_dlv **head, struct g2p_dlv **tail, struct g2p_dlv *s)
{
    s->next = NULL;
    if (*tail != NULL) {
        (*tail)->next = s;
    } else {
        *head = s;
    }
    *tail = s;
}

static void
post_done(struct g2p_engine *e, struct g2p_dlv *s)
{
    pthread_mutex_lock(&e->mu);
    push(&e->done, &e->done_tail, s);
    pthread_mutex_unlock(&e->mu);
    igw_deliverer_wakeup(e->d);
}

static void
run_one(struct g2p_route *r, struct g2p_dlv *s)
{
    const struct igw_queue_claim *c = igw_dlv_claim(s->dl);
    const struct igw_payments_conf *pc = igw_payments_conf();

    if (r->ledger) {
        pay_ledger_run(c->payload.ptr != NULL ? c->payload.ptr : "", c->payload.len, &s->res);
        return;
    }
    {
        struct pay_disburse d = {.partner = r->partner,
                                 .route = r->cfg,
                                 .payload = c->payload.ptr != NULL ? c->payload.ptr : "",
                                 .len = c->payload.len,
                                 .batch_size = pc != NULL ? pc->batch_size : 500,
                                 .sender_uri = pc != NULL ? pc->sender_uri : NULL,
                                 .timeout_ms = pc != NULL ? pc->timeout_ms : 30000,
                                 .abort = &r->abort,
                                 .first_attempt = c->attempts == 0};
        pay_disburse_run(&d, &s->res);
    }
}

static void *
worker(void *arg)
{
    struct g2p_route *r = arg;
    const struct igw_payments_conf *pc = igw_payments_conf();
    uint64_t every = pc != NULL && pc->poll_interval_ms > 0 ? pc->poll_interval_ms : 30000;
    uint64_t next_poll = igw_mono_ms() + every;

    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct g2p_dlv *s = r->q;
        if (s == NULL) {
            uint64_t now = igw_mono_ms();
            if (!r->ledger && now >= next_poll) {
                pthread_mutex_unlock(&r->mu);
                pay_poll_overdue(r->partner, r->cfg, 0, &r->abort);
                pthread_mutex_lock(&r->mu);
                next_poll = igw_mono_ms() + every;
                continue;
            }
            {
                struct timespec ts;
                uint64_t wait = r->ledger ? 1000 : next_poll - now;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += (time_t)(wait / 1000);
                ts.tv_nsec += (long)(wait % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&r->cv, &r->mu, &ts);
            }
            continue;
        }
        r->q = s->next;
        if (r->q == NULL) {
            r->q_tail = NULL;
        }
        r->running = s;
        pthread_mutex_unlock(&r->mu);
        run_one(r, s);
        post_done(r->eng, s);
        pthread_mutex_lock(&r->mu);
        r->running = NULL;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- ops ----------------------------------------------------------------------------------- */

static int
g2p_engine_init(igw_deliverer *d, void **ectx)
{
    struct g2p_engine *e = igw_calloc(1, sizeof(*e));
    if (e == NULL) {
        return IGW_ENOMEM;
    }
    e->d = d;
    pthread_mutex_init(&e->mu, NULL);
    *ectx = e;
    return IGW_OK;
}

static void
g2p_engine_fini(void *ectx)
{
    struct g2p_engine *e = ectx;
    if (e != NULL) {
        pthread_mutex_destroy(&e->mu);
        igw_free(e);
    }
}

static int
g2p_route_init(const struct igw_output_route * or, void **rctx)
{
    const char *url = or->cfg->url;
    bool ledger = strncmp(url, LEDGER_SCHEME, strlen(LEDGER_SCHEME)) == 0;
    const char *name = url + (ledger ? strlen(LEDGER_SCHEME) : strlen(G2P_SCHEME));
    struct g2p_route *r;

    if (igw_payments_ledger() == NULL) {
        igw_log(IGW_LOG_ERROR, "payments: route %s: the payments ledger is not open",
                or->cfg->name);
        return IGW_EIO;
    }
    r = igw_calloc(1, sizeof(*r));
    if (r == NULL) {
        return IGW_ENOMEM;
    }
    r->eng = or->engine_ctx;
    r->cfg = or->cfg;
    r->ledger = ledger;
    r->partner = igw_partner_current(name);
    if (r->partner == NULL || (!ledger && r->partner->nbase_urls == 0)) {
        igw_log(IGW_LOG_ERROR, "payments: route %s: partner %s unknown or without base_urls",
                or->cfg->name, name);
        igw_free(r);
        return IGW_EIO;
    }
    atomic_init(&r->abort, false);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->th, NULL, worker, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        igw_free(r);
        return IGW_EIO;
    }
    r->started = true;
    *rctx = r;
    return IGW_OK;
}

static void
g2p_route_fini(void *rctx)
{
    struct g2p_route *r = rctx;
    if (r == NULL) {
        return;
    }
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    atomic_store(&r->abort, true);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->started) {
        pthread_join(r->th, NULL);
    }
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    igw_free(r);
}

static void
g2p_start(struct igw_dlv *dl)
{
    struct g2p_route *r = igw_dlv_route_ctx(dl);
    struct g2p_dlv *s = igw_dlv_state(dl);

    s->dl = dl;
    igw_dlv_active_add(dl);
    pthread_mutex_lock(&r->mu);
    push(&r->q, &r->q_tail, s);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void
g2p_collect(igw_deliverer *d, void *ectx)
{
    struct g2p_engine *e = ectx;
    struct g2p_dlv *s;
    IGW_UNUSED(d);

    pthread_mutex_lock(&e->mu);
    s = e->done;
    e->done = e->done_tail = NULL;
    pthread_mutex_unlock(&e->mu);
    while (s != NULL) {
        struct g2p_dlv *next = s->next;
        struct igw_dlv *dl = s->dl;
        if (s->res.outcome == PAY_OK) {
            if (s->res.status > 0) {
                igw_dlv_set_status(dl, s->res.status);
            }
            igw_dlv_finish_ok(dl);
        } else if (s->res.outcome == PAY_TRANSIENT) {
            igw_dlv_finish_transient(dl, s->res.status, s->res.what);
        } else {
            igw_dlv_finish_fail(dl, s->res.status, s->res.what,
                                s->res.status > 0 ? IGW_DLV_HEALTH_GOOD : IGW_DLV_HEALTH_NONE);
        }
        s = next;
    }
}

/* Stop: a delivery still waiting is handed back as stopped; the one running is told to stop
 * (its transfer ends within ~100 ms) and waited for, so no thread holds it afterwards. */
static void
g2p_abort(struct igw_dlv *dl)
{
    struct g2p_route *r = igw_dlv_route_ctx(dl);
    struct g2p_dlv *s = igw_dlv_state(dl), **pp, *prev = NULL;

    pthread_mutex_lock(&r->mu);
    for (pp = &r->q; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            if (r->q_tail == s) {
                r->q_tail = prev;
            }
            s->res.outcome = PAY_TRANSIENT;
            s->res.status = 0;
            snprintf(s->res.what, sizeof(s->res.what), "stopped");
            pthread_mutex_unlock(&r->mu);
            post_done(r->eng, s);
            return;
        }
    }
    if (r->running == s) {
        atomic_store(&r->abort, true);
        while (r->running == s) {
            pthread_cond_wait(&r->cv, &r->mu);
        }
    }
    pthread_mutex_unlock(&r->mu);
}

static const struct igw_output_scheme g2p_schemes[] = {{G2P_SCHEME, false}, {LEDGER_SCHEME, false}};

const struct igw_output_ops igw_output_g2p = {
    .name = "g2p",
    .description = "G2P Connect disbursements to a partner (g2p:<partner>) and their statuses "
                   "into the payments ledger (g2p-ledger:<partner>)",
    .schemes = g2p_schemes,
    .nschemes = IGW_ARRAY_LEN(g2p_schemes),
    .config_map = &igw_g2p_config_map,
    .url_check = igw_g2p_url_check,
    .dlv_size = sizeof(struct g2p_dlv),
    .engine_init = g2p_engine_init,
    .engine_fini = g2p_engine_fini,
    .route_init = g2p_route_init,
    .route_fini = g2p_route_fini,
    .start = g2p_start,
    .collect = g2p_collect,
    .abort = g2p_abort,
};
