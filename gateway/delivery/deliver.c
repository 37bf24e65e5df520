/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine: one thread, one libcurl multi handle. Each round of the loop
 *   1. lets curl make progress and calls every output's collect (finished transfers, nng
 *      completions); takes the result of the queue round in flight if it is done (adopting its
 *      claims),
 *   2. starts claimed deliveries waiting in the routes' backlogs,
 *   3. when no round is in flight, starts one (igw_queue_round_start): every finished outcome
 *      and a claim of due deliveries in one group commit. The loop does not wait for it: the
 *      writer wakes the loop when it is committed, and meanwhile transfers go on and finished
 *      ones are replaced from the backlog (a filter lets each route hold up to twice its
 *      concurrency in flight plus backlog; 0 while its circuit is open). Calls every route's
 *      flush (file batches).
 *   4. sleeps in curl_multi_poll until a transfer needs attention, the next due time, a circuit
 *      turns half-open, or a kick (curl_multi_wakeup: igw_deliverer_kick, igw_deliverer_wakeup).
 * The loop names no destination: each route's output (delivery/output.h, found in the registry
 * delivery/outputs.c) starts, collects, flushes and aborts its deliveries. This file holds the
 * loop, start and stop; claiming is in deliver_round.c, finishing in deliver_finish.c.
 * Classification rules and the breaker are documented in docs/DELIVERY.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/deliver_int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rv = CURLE_OK;

static void
curl_init_once(void)
{
    curl_init_rv = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- loop --------------------------------------------------------------------------------- */

static void
collect_all(struct igw_deliverer *d)
{
    for (size_t i = 0; i < d->nouts; i++) {
        if (d->outs[i].ops->collect != NULL) {
            d->outs[i].ops->collect(d, d->outs[i].ectx);
        }
    }
}

static void
progress(struct igw_deliverer *d)
{
    int running = 0;
    (void)curl_multi_perform(d->multi, &running);
    collect_all(d);
}

/* Each route's batch (outputs with a flush, e.g. file: one write and fsync per route). */
static void
flush_routes(struct igw_deliverer *d)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        struct route_state *rs = &d->routes[i];
        if (rs->ops->flush != NULL) {
            rs->ops->flush(rs->ctx);
        }
    }
}

static int
poll_timeout(struct igw_deliverer *d, uint64_t now, uint64_t breaker_wait)
{
    uint64_t t = DLV_IDLE_POLL_MS;
    if (atomic_load(&d->kicked)) {
        return 0;
    }
    if (d->round_busy) { /* the writer wakes the loop when the round is done */
        return (int)(breaker_wait < t ? breaker_wait : t);
    }
    if (d->want_claim) {
        return 0;
    }
    if (d->done_n > 0) {
        uint64_t mono = igw_mono_ms();
        if (mono >= d->complete_retry_ms) {
            return 0;
        }
        t = d->complete_retry_ms - mono;
    }
    if (d->next_claim_ms <= now) {
        return 0;
    }
    if (d->next_claim_ms - now < t) {
        t = d->next_claim_ms - now;
    }
    if (breaker_wait < t) {
        t = breaker_wait;
    }
    return (int)t;
}

static void
loop_once(struct igw_deliverer *d)
{
    uint64_t now;
    uint64_t mono;
    uint64_t breaker_wait;
    bool claim;

    progress(d);
    if (d->round_busy && igw_queue_round_done(d->q, &d->round)) {
        dlv_round_finish(d);
    }
    now = igw_now_ms();
    mono = igw_mono_ms();
    breaker_wait = breaker_tick(d, mono);
    if (atomic_exchange(&d->kicked, false)) {
        uint64_t at = d->nactive == 0 ? now : now + DLV_KICK_DELAY_MS;
        d->next_claim_ms = at < d->next_claim_ms ? at : d->next_claim_ms;
    }
    dlv_start_routes(d, now, mono);
    if (!d->round_busy) {
        claim = d->want_claim || now >= d->next_claim_ms;
        if (claim) {
            d->want_claim = false;
        }
        dlv_round_begin(d, now, claim);
    }
    flush_routes(d);
    (void)curl_multi_poll(d->multi, NULL, 0, poll_timeout(d, igw_now_ms(), breaker_wait), NULL);
}

/* Stop: no new claims, in-flight transfers get DLV_STOP_GRACE_MS, the rest is released. */
static void
shutdown_drain(struct igw_deliverer *d)
{
    uint64_t deadline = igw_mono_ms() + DLV_STOP_GRACE_MS;
    struct igw_dlv *dl;

    if (d->round_busy) {
        igw_queue_round_wait(d->q, &d->round);
        dlv_round_finish(d);
    }
    dlv_release_backlogs(d, igw_now_ms());
    flush_routes(d);
    dlv_flush_outcomes(d);
    while (d->nactive > 0 && igw_mono_ms() < deadline) {
        uint64_t left = deadline - igw_mono_ms();
        (void)curl_multi_poll(d->multi, NULL, 0, left > 100 ? 100 : (int)left, NULL);
        progress(d);
        dlv_flush_outcomes(d);
    }
    for (dl = d->active; dl != NULL; dl = dl->active_next) {
        if (dl->rs->ops->abort != NULL) {
            dl->rs->ops->abort(dl); /* a completion may still be collected, or never will */
        }
    }
    collect_all(d);
    while (d->active != NULL) {
        igw_dlv_finish_released(d->active, igw_now_ms());
    }
    d->complete_retry_ms = 0;
    dlv_flush_outcomes(d);
    dlv_done_free_all(d); /* if recording failed, the queue recovers them at the next open */
}

static void *
deliver_main(void *arg)
{
    struct igw_deliverer *d = arg;

    igw_thread_name("igw:deliver");
    while (!atomic_load(&d->stopping)) {
        loop_once(d);
    }
    shutdown_drain(d);
    return NULL;
}

/* ---- public API --------------------------------------------------------------------------- */

static int
routes_init(igw_deliverer *d)
{
    const struct igw_config *cfg = d->cfg;
    size_t n = 0;
    size_t k = 0;

    for (size_t i = 0; i < cfg->nchannels; i++) {
        n += cfg->channels[i].nroutes;
    }
    d->routes = igw_calloc(n == 0 ? 1 : n, sizeof(*d->routes));
    if (d->routes == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = 0; i < cfg->nchannels; i++) {
        for (size_t j = 0; j < cfg->channels[i].nroutes; j++) {
            struct route_state *rs = &d->routes[k++];
            rs->cfg = &cfg->channels[i].routes[j];
            rs->ops = igw_output_of_route(rs->cfg);
            if (rs->ops == NULL) {
                rs->ops = igw_output_at(0); /* a hand-built kind out of range: as before, http */
            }
            rs->concurrency =
                rs->cfg->concurrency != 0 ? rs->cfg->concurrency : DLV_DEFAULT_CONCURRENCY;
            breaker_init(&rs->br);
        }
    }
    d->nroutes = n;
    return IGW_OK;
}

/* One slot per output some route uses; the output's engine state. */
static int
outputs_init(igw_deliverer *d, char *errbuf, size_t errlen)
{
    d->outs = igw_calloc(igw_output_count(), sizeof(*d->outs));
    if (d->outs == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = 0; i < d->nroutes; i++) {
        const struct igw_output_ops *ops = d->routes[i].ops;
        size_t k = 0;
        while (k < d->nouts && d->outs[k].ops != ops) {
            k++;
        }
        if (k < d->nouts) {
            continue;
        }
        d->outs[d->nouts++].ops = ops;
        if (ops->engine_init != NULL) {
            int rv = ops->engine_init(d, &d->outs[k].ectx);
            if (rv != IGW_OK) {
                igw_errbuf_set(errbuf, errlen, "output %s: cannot start: %s", ops->name,
                               igw_strerror(rv));
                return rv;
            }
        }
        d->outs[k].inited = true;
    }
    return IGW_OK;
}

static void *
engine_ctx(const igw_deliverer *d, const struct igw_output_ops *ops)
{
    for (size_t k = 0; k < d->nouts; k++) {
        if (d->outs[k].ops == ops) {
            return d->outs[k].ectx;
        }
    }
    return NULL;
}

/* Each route's output context. */
static int
route_ctx_init(igw_deliverer *d, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        struct route_state *rs = &d->routes[i];
        struct igw_output_route orr = {rs->cfg, rs->concurrency, d, engine_ctx(d, rs->ops)};
        int rv = rs->ops->route_init != NULL ? rs->ops->route_init(&orr, &rs->ctx) : IGW_OK;
        if (rv != IGW_OK) {
            igw_errbuf_set(errbuf, errlen, "route %s: output %s: %s", rs->cfg->name, rs->ops->name,
                           igw_strerror(rv));
            return rv;
        }
        rs->ctx_inited = true;
    }
    return IGW_OK;
}

static int
multi_init(igw_deliverer *d)
{
    long conns = 16;
    d->multi = curl_multi_init();
    if (d->multi == NULL) {
        return IGW_EIO;
    }
    for (size_t i = 0; i < d->nroutes; i++) {
        conns += (long)d->routes[i].concurrency;
    }
    /* a connection cache as large as all routes' concurrency keeps every connection alive */
    (void)curl_multi_setopt(d->multi, CURLMOPT_MAXCONNECTS, conns);
    return IGW_OK;
}

static void
deliverer_free(igw_deliverer *d)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        struct route_state *rs = &d->routes[i];
        if (rs->ctx_inited && rs->ops->route_fini != NULL) {
            rs->ops->route_fini(rs->ctx);
        }
    }
    for (size_t k = 0; k < d->nouts; k++) {
        if (d->outs[k].inited && d->outs[k].ops->engine_fini != NULL) {
            d->outs[k].ops->engine_fini(d->outs[k].ectx);
        }
    }
    if (d->multi != NULL) {
        curl_multi_cleanup(d->multi);
    }
    igw_free(d->outs);
    igw_free(d->claims);
    igw_free(d->routes);
    igw_free(d);
}

int
igw_deliverer_start(igw_deliverer **out, const struct igw_config *cfg, igw_queue *q, char *errbuf,
                    size_t errlen)
{
    igw_deliverer *d;
    int rv;

    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rv != CURLE_OK) {
        igw_errbuf_set(errbuf, errlen, "curl_global_init: %s", curl_easy_strerror(curl_init_rv));
        return IGW_EIO;
    }
    d = IGW_NEW(igw_deliverer);
    if (d == NULL) {
        return IGW_ENOMEM;
    }
    d->cfg = cfg;
    d->q = q;
    d->batch = cfg->deliver_batch != 0 ? cfg->deliver_batch : DLV_DEFAULT_BATCH;
    atomic_init(&d->stopping, false);
    atomic_init(&d->kicked, true);
    d->want_claim = true;
    rv = routes_init(d);
    if (rv != IGW_OK) {
        goto fail;
    }
    d->claims = igw_calloc(d->batch, sizeof(*d->claims));
    if (d->claims == NULL) {
        rv = IGW_ENOMEM;
        goto fail;
    }
    rv = multi_init(d);
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "curl_multi_init failed");
        goto fail;
    }
    rv = outputs_init(d, errbuf, errlen);
    if (rv == IGW_OK) {
        rv = route_ctx_init(d, errbuf, errlen);
    }
    if (rv != IGW_OK) {
        goto fail;
    }
    if (igw_random_bytes(&d->rng, sizeof(d->rng)) != IGW_OK || d->rng == 0) {
        d->rng = igw_mono_ns() | 1u;
    }
    if (pthread_create(&d->thread, NULL, deliver_main, d) != 0) {
        igw_errbuf_set(errbuf, errlen, "cannot start the delivery thread");
        rv = IGW_EIO;
        goto fail;
    }
    *out = d;
    return IGW_OK;

fail:
    deliverer_free(d);
    return rv;
}

void
igw_deliverer_kick(igw_deliverer *d)
{
    if (d == NULL) {
        return;
    }
    if (!atomic_exchange(&d->kicked, true)) {
        (void)curl_multi_wakeup(d->multi);
    }
}

void
igw_deliverer_stats(igw_deliverer *d, struct igw_deliverer_stats *s)
{
    memset(s, 0, sizeof(*s));
    if (d == NULL) {
        return;
    }
    s->attempts = atomic_load(&d->st_attempts);
    s->delivered = atomic_load(&d->st_delivered);
    s->skipped = atomic_load(&d->st_skipped);
    s->retried = atomic_load(&d->st_retried);
    s->dead = atomic_load(&d->st_dead);
    s->inflight = atomic_load(&d->st_inflight);
    s->open_circuits = atomic_load(&d->st_open_circuits);
}

const char *
igw_deliverer_circuit(igw_deliverer *d, const char *route)
{
    static const char *const names[] = {"closed", "open", "half_open"};

    for (size_t i = 0; d != NULL && route != NULL && i < d->nroutes; i++) {
        if (strcmp(d->routes[i].cfg->name, route) == 0) {
            int s = atomic_load(&d->routes[i].br.pub);
            return s >= 0 && s <= 2 ? names[s] : "none";
        }
    }
    return "none";
}

void
igw_deliverer_stop(igw_deliverer *d)
{
    if (d == NULL) {
        return;
    }
    atomic_store(&d->stopping, true);
    (void)curl_multi_wakeup(d->multi);
    pthread_join(d->thread, NULL);
    deliverer_free(d);
}

/* ---- engine services for outputs ---------------------------------------------------------- */

CURLM *
igw_deliverer_multi(igw_deliverer *d)
{
    return d->multi;
}

void
igw_deliverer_wakeup(igw_deliverer *d)
{
    (void)curl_multi_wakeup(d->multi);
}

bool
igw_deliverer_stopping(igw_deliverer *d)
{
    return atomic_load(&d->stopping);
}
