/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine, claiming: the queue round (outcomes and a claim in one group commit), how
 * many deliveries each route may claim (twice its concurrency in flight plus backlog while the
 * circuit is closed, what the breaker allows otherwise), adopting claims into the routes'
 * backlogs, and starting backlog deliveries on their route's output.
 */
#include <inttypes.h>
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/deliver_int.h"

#define DLV_CLAIM_AHEAD 2 /* a route holds up to this many times its concurrency claimed */

static struct route_state *
route_find(struct igw_deliverer *d, const char *name)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        if (strcmp(d->routes[i].cfg->name, name) == 0) {
            return &d->routes[i];
        }
    }
    return NULL;
}

/* Deliveries rs may claim now: up to DLV_CLAIM_AHEAD x concurrency in flight plus backlog
 * while the circuit is closed (the backlog refills finished transfers at once), else what the
 * breaker allows. */
static unsigned
claim_capacity(const struct route_state *rs)
{
    unsigned used = rs->inflight + rs->backlog_n;
    unsigned limit = rs->concurrency * DLV_CLAIM_AHEAD;

    if (rs->br.state != BREAKER_CLOSED) {
        return breaker_capacity(rs);
    }
    return used >= limit ? 0 : limit - used;
}

static unsigned
claim_filter(void *arg, const char *route)
{
    struct route_state *rs = route_find(arg, route);
    return rs != NULL ? claim_capacity(rs) : 0;
}

static void
backlog_push(struct route_state *rs, struct igw_dlv *dl)
{
    dl->next = NULL;
    if (rs->backlog_tail == NULL) {
        rs->backlog_head = dl;
    } else {
        rs->backlog_tail->next = dl;
    }
    rs->backlog_tail = dl;
    rs->backlog_n++;
}

static struct igw_dlv *
backlog_pop(struct route_state *rs)
{
    struct igw_dlv *dl = rs->backlog_head;
    if (dl != NULL) {
        rs->backlog_head = dl->next;
        if (rs->backlog_head == NULL) {
            rs->backlog_tail = NULL;
        }
        rs->backlog_n--;
        dl->next = NULL;
    }
    return dl;
}

/* Gives a claim back at once when no memory is left to track it. */
static void
release_claim_now(struct igw_deliverer *d, struct igw_queue_claim *c, uint64_t now)
{
    struct igw_queue_outcome o;
    memset(&o, 0, sizeof(o));
    o.id = c->id;
    o.route = c->route;
    o.result = IGW_DELIVER_RETRY;
    o.next_due_ms = now + 1000;
    o.released = true;
    (void)igw_queue_complete(d->q, &o, 1);
    igw_queue_claim_fini(c);
}

static void
adopt_claim(struct igw_deliverer *d, struct igw_queue_claim *c, uint64_t now)
{
    struct route_state *rs = route_find(d, c->route);
    size_t extra = rs != NULL ? rs->ops->dlv_size : 0;
    struct igw_dlv *dl = igw_calloc(1, sizeof(*dl) + extra); /* the output's state behind it */

    if (dl == NULL) {
        release_claim_now(d, c, now);
        return;
    }
    dl->owner = d;
    dl->claim = *c;
    memset(c, 0, sizeof(*c)); /* ownership moved to dl */
    igw_buf_init(&dl->response, DLV_RESPONSE_MAX);
    dl->rs = rs;
    if (rs == NULL) {
        IGW_WARN("deliver: claim for unknown route %s released", dl->claim.route);
        igw_dlv_finish_released(dl, now + 60000);
        return;
    }
    backlog_push(dl->rs, dl);
}

static unsigned
total_capacity(struct igw_deliverer *d)
{
    unsigned total = 0;
    for (size_t i = 0; i < d->nroutes; i++) {
        total += claim_capacity(&d->routes[i]);
    }
    return total;
}

/* How many deliveries to claim now (0: none; then the next claim waits for a completion). */
static unsigned
claim_max(struct igw_deliverer *d, uint64_t now)
{
    unsigned cap = total_capacity(d);
    unsigned max = cap < d->batch ? cap : d->batch;

    if (max == 0) {
        d->next_claim_ms = now + DLV_IDLE_POLL_MS; /* a completion sets want_claim */
    }
    return max;
}

/* Adopts n claims of a claim for max and schedules the next claim. */
static void
claim_result(struct igw_deliverer *d, uint64_t now, unsigned max, unsigned n, int rv)
{
    uint64_t due;

    if (rv != IGW_OK) {
        IGW_ERROR("deliver: claim failed: %s", igw_strerror(rv));
        d->next_claim_ms = now + DLV_IDLE_POLL_MS;
    }
    for (unsigned i = 0; i < n; i++) {
        adopt_claim(d, &d->claims[i], now);
    }
    if (rv != IGW_OK) {
        return;
    }
    if (n == max) {
        d->next_claim_ms = now; /* there may be more */
        return;
    }
    due = igw_queue_next_due(d->q);
    if (due <= now) {
        due = now + DLV_BLOCKED_POLL_MS; /* due work waits on capacity, order or a circuit */
    }
    d->next_claim_ms = due < now + DLV_IDLE_POLL_MS ? due : now + DLV_IDLE_POLL_MS;
}

static void
round_notify(void *arg)
{
    struct igw_deliverer *d = arg;
    (void)curl_multi_wakeup(d->multi);
}

/* Starts a round: the finished outcomes and, when want_claim, a claim (one group commit). */
void
dlv_round_begin(struct igw_deliverer *d, uint64_t now, bool want_claim)
{
    struct igw_queue_round *rd = &d->round;
    unsigned max = want_claim ? claim_max(d, now) : 0;
    unsigned no = 0;
    struct igw_queue_outcome *o = dlv_outcomes_build(d, &no);

    if (o == NULL && max == 0) {
        return;
    }
    if (o != NULL) {
        dlv_done_to_rec(d);
    }
    memset(rd, 0, sizeof(*rd));
    rd->outcomes = o;
    rd->noutcomes = no;
    rd->now_ms = now;
    rd->max = max;
    rd->filter = claim_filter;
    rd->arg = d;
    rd->out = d->claims;
    d->round_o = o;
    d->round_max = max;
    d->round_now = now;
    d->round_busy = true;
    (void)igw_queue_round_start(d->q, rd, round_notify, d); /* EINVAL excluded by the args */
}

/* Takes the results of the finished round: frees recorded deliveries, adopts the claims. */
void
dlv_round_finish(struct igw_deliverer *d)
{
    struct igw_queue_round *rd = &d->round;

    d->round_busy = false;
    dlv_rec_done(d, rd->noutcomes, rd->complete_rv);
    igw_free(d->round_o);
    d->round_o = NULL;
    if (d->round_max > 0) {
        claim_result(d, d->round_now, d->round_max, rd->n, rd->claim_rv);
    }
}

static void
start_one(struct igw_deliverer *d, struct igw_dlv *dl)
{
    struct route_state *rs = dl->rs;
    dl->started = true;
    dl->started_us = dlv_clock_us();
    rs->inflight++;
    atomic_fetch_add(&d->st_inflight, 1);
    rs->ops->start(dl);
}

static void
start_route(struct igw_deliverer *d, struct route_state *rs, uint64_t now, uint64_t mono)
{
    while (rs->backlog_head != NULL) {
        if (rs->br.state == BREAKER_OPEN) {
            uint64_t wait = rs->br.reopen_at_ms > mono ? rs->br.reopen_at_ms - mono : 0;
            igw_dlv_finish_released(backlog_pop(rs), now + wait);
            continue;
        }
        if (rs->inflight >= rs->concurrency || !breaker_admit(d, rs, rs->backlog_head)) {
            return;
        }
        start_one(d, backlog_pop(rs));
    }
}

void
dlv_start_routes(struct igw_deliverer *d, uint64_t now, uint64_t mono)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        start_route(d, &d->routes[i], now, mono);
    }
}

void
dlv_release_backlogs(struct igw_deliverer *d, uint64_t now)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        while (d->routes[i].backlog_head != NULL) {
            igw_dlv_finish_released(backlog_pop(&d->routes[i]), now);
        }
    }
}
