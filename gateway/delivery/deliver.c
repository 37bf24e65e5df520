/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine: one thread, one libcurl multi handle. Each round of the loop
 *   1. lets curl make progress and collects finished transfers (and nng completions); takes the
 *      result of the queue round in flight if it is done (adopting its claims),
 *   2. starts claimed deliveries waiting in the routes' backlogs,
 *   3. when no round is in flight, starts one (igw_queue_round_start): every finished outcome
 *      and a claim of due deliveries in one group commit. The loop does not wait for it: the
 *      writer wakes the loop when it is committed, and meanwhile transfers go on and finished
 *      ones are replaced from the backlog (a filter lets each route hold up to twice its
 *      concurrency in flight plus backlog; 0 while its circuit is open). Writes file batches.
 *   4. sleeps in curl_multi_poll until a transfer needs attention, the next due time, a circuit
 *      turns half-open, or a kick (curl_multi_wakeup, from igw_deliverer_kick or nng).
 * Classification rules and the breaker are documented in docs/DELIVERY.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/retry.h"
#include "delivery/deliver_int.h"

#define DLV_CLAIM_AHEAD 2 /* a route holds up to this many times its concurrency claimed */
/* A kick (new messages) while transfers run claims with their outcomes, or after this long:
 * under load every round is one commit (outcomes + claim), not one more per accepted group. An
 * idle engine claims at once. */
#define DLV_KICK_DELAY_MS 2

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rv = CURLE_OK;

static void
curl_init_once(void)
{
    curl_init_rv = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t
rng_next(struct igw_deliverer *d)
{
    /* xorshift64*: jitter only, not security */
    uint64_t x = d->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- lists -------------------------------------------------------------------------------- */

static void
done_push(struct igw_deliverer *d, struct dlv *dl)
{
    dl->next = NULL;
    if (d->done_tail == NULL) {
        d->done_head = dl;
    } else {
        d->done_tail->next = dl;
    }
    d->done_tail = dl;
    d->done_n++;
}

void
dlv_active_add(struct igw_deliverer *d, struct dlv *dl)
{
    dl->active_prev = NULL;
    dl->active_next = d->active;
    if (d->active != NULL) {
        d->active->active_prev = dl;
    }
    d->active = dl;
    dl->on_active = true;
    d->nactive++;
}

void
dlv_active_remove(struct igw_deliverer *d, struct dlv *dl)
{
    if (!dl->on_active) {
        return;
    }
    if (dl->active_prev != NULL) {
        dl->active_prev->active_next = dl->active_next;
    } else {
        d->active = dl->active_next;
    }
    if (dl->active_next != NULL) {
        dl->active_next->active_prev = dl->active_prev;
    }
    dl->active_prev = NULL;
    dl->active_next = NULL;
    dl->on_active = false;
    d->nactive--;
}

void
dlv_keep_response(struct dlv *dl, const void *p, size_t n)
{
    size_t room = DLV_RESPONSE_MAX - dl->response.len;
    if (n > room) {
        n = room;
    }
    if (n > 0) {
        (void)igw_buf_append(&dl->response, p, n);
    }
}

/* ---- finishing ---------------------------------------------------------------------------- */

static void
finish_common(struct igw_deliverer *d, struct dlv *dl)
{
    struct route_state *rs = dl->rs;
    if (dl->started) {
        dl->started = false;
        rs->inflight--;
        atomic_fetch_sub(&d->st_inflight, 1);
        d->want_claim = true; /* capacity freed, or the next message of a key unblocked */
    }
    dlv_active_remove(d, dl);
    if (rs != NULL) {
        breaker_record(d, rs, dl);
    }
    done_push(d, dl);
}

static void
log_dead(const struct dlv *dl)
{
    char id[IGW_QUEUE_ID_STRLEN];
    igw_queue_id_format(dl->claim.id, id);
    IGW_WARN("dead-letter id=%s route=%s attempts=%" PRIu32 " status=%d error=\"%s\"", id,
             dl->claim.route, dl->claim.attempts + 1, dl->status, dl->error);
}

void
dlv_finish_ok(struct igw_deliverer *d, struct dlv *dl)
{
    dl->result = IGW_DELIVER_OK;
    dl->health = DLV_HEALTH_GOOD;
    dl->error[0] = '\0';
    atomic_fetch_add(&d->st_attempts, 1);
    atomic_fetch_add(&d->st_delivered, 1);
    finish_common(d, dl);
}

void
dlv_finish_fail(struct igw_deliverer *d, struct dlv *dl, int status, const char *what,
                enum dlv_health health)
{
    dl->result = IGW_DELIVER_FAIL;
    dl->health = health;
    dl->status = status;
    snprintf(dl->error, sizeof(dl->error), "%s", what);
    atomic_fetch_add(&d->st_attempts, 1);
    atomic_fetch_add(&d->st_dead, 1);
    log_dead(dl);
    finish_common(d, dl);
}

/* Wait before the next attempt: the policy's backoff, lengthened by Retry-After. */
static uint64_t
retry_wait_ms(struct igw_deliverer *d, const struct dlv *dl, uint32_t attempts)
{
    const struct igw_retry_policy *p = &dl->rs->cfg->retry;
    uint64_t wait = igw_retry_delay_ms(p, attempts, rng_next(d));
    if (dl->has_retry_after) {
        uint64_t ra = dl->retry_after_ms;
        if (p->max_age_ms == 0 && ra > DLV_RETRY_AFTER_MAX_MS) {
            ra = DLV_RETRY_AFTER_MAX_MS;
        }
        if (ra > wait) {
            wait = ra;
        }
    }
    return wait;
}

void
dlv_finish_transient(struct igw_deliverer *d, struct dlv *dl, int status, const char *what)
{
    uint32_t attempts = dl->claim.attempts + 1;
    uint64_t now = igw_now_ms();
    uint64_t next = now + retry_wait_ms(d, dl, attempts);

    dl->status = status;
    dl->health = DLV_HEALTH_BAD;
    atomic_fetch_add(&d->st_attempts, 1);
    if (igw_retry_exhausted(&dl->rs->cfg->retry, attempts, dl->claim.created_ms, next)) {
        dl->result = IGW_DELIVER_FAIL;
        snprintf(dl->error, sizeof(dl->error), "retries exhausted: %s", what);
        atomic_fetch_add(&d->st_dead, 1);
        log_dead(dl);
    } else {
        dl->result = IGW_DELIVER_RETRY;
        dl->next_due_ms = next;
        snprintf(dl->error, sizeof(dl->error), "%s", what);
        atomic_fetch_add(&d->st_retried, 1);
        IGW_DEBUG("retry route=%s attempt=%" PRIu32 " in_ms=%" PRIu64 " error=\"%s\"",
                  dl->claim.route, attempts, next - now, what);
    }
    finish_common(d, dl);
}

void
dlv_finish_released(struct igw_deliverer *d, struct dlv *dl, uint64_t next_due_ms)
{
    dl->result = IGW_DELIVER_RETRY;
    dl->released = true;
    dl->health = DLV_HEALTH_NONE;
    dl->next_due_ms = next_due_ms;
    dl->error[0] = '\0';
    finish_common(d, dl);
}

/* ---- outcomes ----------------------------------------------------------------------------- */

static void
dlv_free(struct dlv *dl)
{
    dest_http_release(dl);
    dest_nng_release(dl);
    igw_queue_claim_fini(&dl->claim);
    igw_buf_fini(&dl->response);
    igw_free(dl);
}

static void
outcome_fill(struct igw_queue_outcome *o, const struct dlv *dl)
{
    memset(o, 0, sizeof(*o));
    o->id = dl->claim.id;
    o->route = dl->claim.route;
    o->result = dl->result;
    o->next_due_ms = dl->next_due_ms;
    o->error = dl->error[0] != '\0' ? dl->error : NULL;
    o->status = dl->status;
    o->released = dl->released;
    if (dl->result == IGW_DELIVER_FAIL && dl->response.len > 0) {
        o->response = dl->response.ptr;
        o->response_len = dl->response.len;
    }
}

static void
done_free_all(struct igw_deliverer *d)
{
    struct dlv *dl = d->done_head;
    while (dl != NULL) {
        struct dlv *next = dl->next;
        dlv_free(dl);
        dl = next;
    }
    d->done_head = NULL;
    d->done_tail = NULL;
    d->done_n = 0;
}

/* The outcomes of every finished delivery, or NULL when there are none to record now. */
static struct igw_queue_outcome *
outcomes_build(struct igw_deliverer *d, unsigned *n)
{
    struct igw_queue_outcome *o;
    unsigned i = 0;

    *n = 0;
    if (d->done_n == 0 || igw_mono_ms() < d->complete_retry_ms) {
        return NULL;
    }
    o = igw_calloc(d->done_n, sizeof(*o));
    if (o == NULL) {
        d->complete_retry_ms = igw_mono_ms() + 100;
        return NULL;
    }
    for (struct dlv *dl = d->done_head; dl != NULL; dl = dl->next) {
        outcome_fill(&o[i++], dl);
    }
    *n = i;
    return o;
}

/* Frees the recorded deliveries; on a transient queue error keeps them for a second try. */
static void
outcomes_done(struct igw_deliverer *d, unsigned n, int rv)
{
    if (rv == IGW_OK || rv == IGW_ECLOSED) {
        if (rv == IGW_ECLOSED) {
            IGW_ERROR("deliver: queue closed, %u outcomes not recorded (they return to pending "
                      "at the next start)",
                      n);
        }
        done_free_all(d);
        return;
    }
    IGW_ERROR("deliver: recording %u outcomes failed: %s; retrying", n, igw_strerror(rv));
    d->complete_retry_ms = igw_mono_ms() + 1000;
}

/* Records every finished delivery in one igw_queue_complete call (shutdown). */
static void
flush_outcomes(struct igw_deliverer *d)
{
    unsigned n = 0;
    struct igw_queue_outcome *o = outcomes_build(d, &n);

    if (o == NULL) {
        return;
    }
    outcomes_done(d, n, igw_queue_complete(d->q, o, n));
    igw_free(o);
}

/* Moves the done list to the list the next round records. */
static void
done_to_rec(struct igw_deliverer *d)
{
    d->rec_head = d->done_head;
    d->rec_tail = d->done_tail;
    d->done_head = NULL;
    d->done_tail = NULL;
    d->done_n = 0;
}

/* After the round: frees the recorded deliveries, or puts them back in front of the done list
 * for a later try when recording failed. */
static void
rec_done(struct igw_deliverer *d, unsigned n, int rv)
{
    struct dlv *dl;

    if (d->rec_head == NULL) {
        return;
    }
    if (rv == IGW_OK || rv == IGW_ECLOSED) {
        if (rv == IGW_ECLOSED) {
            IGW_ERROR("deliver: queue closed, %u outcomes not recorded (they return to pending "
                      "at the next start)",
                      n);
        }
        for (dl = d->rec_head; dl != NULL;) {
            struct dlv *next = dl->next;
            dlv_free(dl);
            dl = next;
        }
    } else {
        IGW_ERROR("deliver: recording %u outcomes failed: %s; retrying", n, igw_strerror(rv));
        d->complete_retry_ms = igw_mono_ms() + 1000;
        d->rec_tail->next = d->done_head;
        if (d->done_tail == NULL) {
            d->done_tail = d->rec_tail;
        }
        d->done_head = d->rec_head;
        d->done_n += n;
    }
    d->rec_head = NULL;
    d->rec_tail = NULL;
}

/* ---- claiming and starting ---------------------------------------------------------------- */

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
backlog_push(struct route_state *rs, struct dlv *dl)
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

static struct dlv *
backlog_pop(struct route_state *rs)
{
    struct dlv *dl = rs->backlog_head;
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
    struct dlv *dl = IGW_NEW(struct dlv);
    if (dl == NULL) {
        release_claim_now(d, c, now);
        return;
    }
    dl->owner = d;
    dl->claim = *c;
    memset(c, 0, sizeof(*c)); /* ownership moved to dl */
    igw_buf_init(&dl->response, DLV_RESPONSE_MAX);
    dl->rs = route_find(d, dl->claim.route);
    if (dl->rs == NULL) {
        IGW_WARN("deliver: claim for unknown route %s released", dl->claim.route);
        dlv_finish_released(d, dl, now + 60000);
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
static void
round_begin(struct igw_deliverer *d, uint64_t now, bool want_claim)
{
    struct igw_queue_round *rd = &d->round;
    unsigned max = want_claim ? claim_max(d, now) : 0;
    unsigned no = 0;
    struct igw_queue_outcome *o = outcomes_build(d, &no);

    if (o == NULL && max == 0) {
        return;
    }
    if (o != NULL) {
        done_to_rec(d);
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
static void
round_finish(struct igw_deliverer *d)
{
    struct igw_queue_round *rd = &d->round;

    d->round_busy = false;
    rec_done(d, rd->noutcomes, rd->complete_rv);
    igw_free(d->round_o);
    d->round_o = NULL;
    if (d->round_max > 0) {
        claim_result(d, d->round_now, d->round_max, rd->n, rd->claim_rv);
    }
}

static enum igw_dest_kind
route_kind(const struct igw_route *r)
{
    if (r->kind != 0) {
        return r->kind;
    }
    if (strncmp(r->url, "file://", 7) == 0) {
        return IGW_DEST_FILE;
    }
    if (strncmp(r->url, "tcp://", 6) == 0 || strncmp(r->url, "ipc://", 6) == 0) {
        return IGW_DEST_NNG;
    }
    return IGW_DEST_HTTP;
}

static void
start_one(struct igw_deliverer *d, struct dlv *dl)
{
    struct route_state *rs = dl->rs;
    dl->started = true;
    rs->inflight++;
    atomic_fetch_add(&d->st_inflight, 1);
    switch (rs->kind) {
    case IGW_DEST_FILE:
        dest_file_start(d, dl);
        break;
    case IGW_DEST_NNG:
        dest_nng_start(d, dl);
        break;
    case IGW_DEST_HTTP:
    default:
        dest_http_start(d, dl);
        break;
    }
}

static void
start_route(struct igw_deliverer *d, struct route_state *rs, uint64_t now, uint64_t mono)
{
    while (rs->backlog_head != NULL) {
        if (rs->br.state == BREAKER_OPEN) {
            uint64_t wait = rs->br.reopen_at_ms > mono ? rs->br.reopen_at_ms - mono : 0;
            dlv_finish_released(d, backlog_pop(rs), now + wait);
            continue;
        }
        if (rs->inflight >= rs->concurrency || !breaker_admit(d, rs, rs->backlog_head)) {
            return;
        }
        start_one(d, backlog_pop(rs));
    }
}

static void
release_backlogs(struct igw_deliverer *d, uint64_t now)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        while (d->routes[i].backlog_head != NULL) {
            dlv_finish_released(d, backlog_pop(&d->routes[i]), now);
        }
    }
}

/* ---- loop --------------------------------------------------------------------------------- */

static void
progress(struct igw_deliverer *d)
{
    int running = 0;
    (void)curl_multi_perform(d->multi, &running);
    dest_http_collect(d);
    dest_nng_collect(d);
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
start_routes(struct igw_deliverer *d, uint64_t now, uint64_t mono)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        start_route(d, &d->routes[i], now, mono);
    }
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
        round_finish(d);
    }
    now = igw_now_ms();
    mono = igw_mono_ms();
    breaker_wait = breaker_tick(d, mono);
    if (atomic_exchange(&d->kicked, false)) {
        uint64_t at = d->nactive == 0 ? now : now + DLV_KICK_DELAY_MS;
        d->next_claim_ms = at < d->next_claim_ms ? at : d->next_claim_ms;
    }
    start_routes(d, now, mono);
    if (!d->round_busy) {
        claim = d->want_claim || now >= d->next_claim_ms;
        if (claim) {
            d->want_claim = false;
        }
        round_begin(d, now, claim);
    }
    dest_file_flush(d);
    (void)curl_multi_poll(d->multi, NULL, 0, poll_timeout(d, igw_now_ms(), breaker_wait), NULL);
}

/* Stop: no new claims, in-flight transfers get DLV_STOP_GRACE_MS, the rest is released. */
static void
shutdown_drain(struct igw_deliverer *d)
{
    uint64_t deadline = igw_mono_ms() + DLV_STOP_GRACE_MS;
    struct dlv *dl;

    if (d->round_busy) {
        igw_queue_round_wait(d->q, &d->round);
        round_finish(d);
    }
    release_backlogs(d, igw_now_ms());
    dest_file_flush(d);
    flush_outcomes(d);
    while (d->nactive > 0 && igw_mono_ms() < deadline) {
        uint64_t left = deadline - igw_mono_ms();
        (void)curl_multi_poll(d->multi, NULL, 0, left > 100 ? 100 : (int)left, NULL);
        progress(d);
        flush_outcomes(d);
    }
    for (dl = d->active; dl != NULL; dl = dl->active_next) {
        if (dl->aio != NULL) {
            dest_nng_abort(dl); /* its callback posts it, or it never will */
        }
    }
    dest_nng_collect(d);
    while (d->active != NULL) {
        dl = d->active;
        if (dl->easy != NULL) {
            dest_http_abort(d, dl);
        }
        dlv_finish_released(d, dl, igw_now_ms());
    }
    d->complete_retry_ms = 0;
    flush_outcomes(d);
    done_free_all(d); /* if recording failed, the queue recovers them at the next open */
}

static void *
deliver_main(void *arg)
{
    struct igw_deliverer *d = arg;
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
            rs->kind = route_kind(rs->cfg);
            rs->concurrency =
                rs->cfg->concurrency != 0 ? rs->cfg->concurrency : DLV_DEFAULT_CONCURRENCY;
            rs->fd = -1;
            breaker_init(&rs->br);
        }
    }
    d->nroutes = n;
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
        dest_http_route_fini(&d->routes[i]);
        dest_file_route_fini(&d->routes[i]);
        dest_nng_route_fini(&d->routes[i]);
    }
    if (d->multi != NULL) {
        curl_multi_cleanup(d->multi);
    }
    pthread_mutex_destroy(&d->mtx);
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
    pthread_mutex_init(&d->mtx, NULL);
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
    s->retried = atomic_load(&d->st_retried);
    s->dead = atomic_load(&d->st_dead);
    s->inflight = atomic_load(&d->st_inflight);
    s->open_circuits = atomic_load(&d->st_open_circuits);
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
