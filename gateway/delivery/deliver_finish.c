/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine, finishing: how an attempt ends (delivered, retried at a backoff time, dead,
 * or released untried), the outcome lists, recording them in the queue, and the engine
 * services outputs call on a delivery (delivery/output.h). Classification rules:
 * docs/DELIVERY.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/retry.h"
#include "delivery/deliver_int.h"

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

static void
done_push(struct igw_deliverer *d, struct igw_dlv *dl)
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
igw_dlv_active_add(struct igw_dlv *dl)
{
    struct igw_deliverer *d = dl->owner;

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
dlv_active_remove(struct igw_deliverer *d, struct igw_dlv *dl)
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
igw_dlv_keep_response(struct igw_dlv *dl, const void *p, size_t n)
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
finish_common(struct igw_deliverer *d, struct igw_dlv *dl)
{
    struct route_state *rs = dl->rs;
    if (dl->started && !dl->released) {
        dlv_metrics_outcome(dl);
    }
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

void
igw_dlv_finish_ok(struct igw_dlv *dl)
{
    struct igw_deliverer *d = dl->owner;

    dl->result = IGW_DELIVER_OK;
    dl->health = IGW_DLV_HEALTH_GOOD;
    dl->error[0] = '\0';
    atomic_fetch_add(&d->st_attempts, 1);
    atomic_fetch_add(&d->st_delivered, 1);
    finish_common(d, dl);
}

void
igw_dlv_finish_skipped(struct igw_dlv *dl, const char *why)
{
    struct igw_deliverer *d = dl->owner;

    dl->result = IGW_DELIVER_OK;
    dl->health = IGW_DLV_HEALTH_NONE;
    dl->skipped = true;
    snprintf(dl->error, sizeof(dl->error), "skipped: %s", why != NULL ? why : "nothing to send");
    atomic_fetch_add(&d->st_attempts, 1);
    atomic_fetch_add(&d->st_delivered, 1);
    atomic_fetch_add(&d->st_skipped, 1);
    finish_common(d, dl);
}

void
igw_dlv_finish_fail(struct igw_dlv *dl, int status, const char *what, enum igw_dlv_health health)
{
    struct igw_deliverer *d = dl->owner;

    dl->result = IGW_DELIVER_FAIL;
    dl->health = health;
    dl->status = status;
    snprintf(dl->error, sizeof(dl->error), "%s", what);
    atomic_fetch_add(&d->st_attempts, 1);
    atomic_fetch_add(&d->st_dead, 1);
    finish_common(d, dl);
}

/* Wait before the next attempt: the policy's backoff, lengthened by Retry-After. */
static uint64_t
retry_wait_ms(struct igw_deliverer *d, const struct igw_dlv *dl, uint32_t attempts)
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
igw_dlv_finish_transient(struct igw_dlv *dl, int status, const char *what)
{
    igw_dlv_finish_transient_health(dl, status, what, IGW_DLV_HEALTH_BAD);
}

void
igw_dlv_finish_transient_health(struct igw_dlv *dl, int status, const char *what,
                                enum igw_dlv_health health)
{
    struct igw_deliverer *d = dl->owner;
    uint32_t attempts = dl->claim.attempts + 1;
    uint64_t now = igw_now_ms();
    uint64_t next = now + retry_wait_ms(d, dl, attempts);

    dl->status = status;
    dl->health = health;
    atomic_fetch_add(&d->st_attempts, 1);
    if (igw_retry_exhausted(&dl->rs->cfg->retry, attempts, dl->claim.created_ms, next)) {
        dl->result = IGW_DELIVER_FAIL;
        snprintf(dl->error, sizeof(dl->error), "retries exhausted: %s", what);
        atomic_fetch_add(&d->st_dead, 1);
    } else {
        dl->result = IGW_DELIVER_RETRY;
        dl->next_due_ms = next;
        snprintf(dl->error, sizeof(dl->error), "%s", what);
        atomic_fetch_add(&d->st_retried, 1);
    }
    finish_common(d, dl);
}

void
igw_dlv_finish_released(struct igw_dlv *dl, uint64_t next_due_ms)
{
    dl->result = IGW_DELIVER_RETRY;
    dl->released = true;
    dl->health = IGW_DLV_HEALTH_NONE;
    dl->next_due_ms = next_due_ms;
    dl->error[0] = '\0';
    finish_common(dl->owner, dl);
}

/* ---- outcomes ----------------------------------------------------------------------------- */

void
dlv_free(struct igw_dlv *dl)
{
    if (dl->rs != NULL && dl->rs->ops->release != NULL) {
        dl->rs->ops->release(dl);
    }
    igw_queue_claim_fini(&dl->claim);
    igw_buf_fini(&dl->response);
    igw_free(dl);
}

static void
outcome_fill(struct igw_queue_outcome *o, const struct igw_dlv *dl)
{
    memset(o, 0, sizeof(*o));
    o->id = dl->claim.id;
    o->route = dl->claim.route;
    o->result = dl->result;
    o->next_due_ms = dl->next_due_ms;
    o->error = dl->error[0] != '\0' ? dl->error : NULL;
    o->status = dl->status;
    o->released = dl->released;
    if (dl->started && !dl->released) {
        uint64_t now = dlv_clock_us();
        uint64_t ms = (now > dl->started_us ? now - dl->started_us : 0) / 1000u;
        o->duration_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    }
    if (dl->result == IGW_DELIVER_FAIL && dl->response.len > 0) {
        o->response = dl->response.ptr;
        o->response_len = dl->response.len;
    }
}

void
dlv_done_free_all(struct igw_deliverer *d)
{
    struct igw_dlv *dl = d->done_head;
    while (dl != NULL) {
        struct igw_dlv *next = dl->next;
        dlv_free(dl);
        dl = next;
    }
    d->done_head = NULL;
    d->done_tail = NULL;
    d->done_n = 0;
}

/* The outcomes of every finished delivery, or NULL when there are none to record now. */
struct igw_queue_outcome *
dlv_outcomes_build(struct igw_deliverer *d, unsigned *n)
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
    for (struct igw_dlv *dl = d->done_head; dl != NULL; dl = dl->next) {
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
        dlv_done_free_all(d);
        return;
    }
    IGW_ERROR("deliver: recording %u outcomes failed: %s; retrying", n, igw_strerror(rv));
    d->complete_retry_ms = igw_mono_ms() + 1000;
}

/* Records every finished delivery in one igw_queue_complete call (shutdown). */
void
dlv_flush_outcomes(struct igw_deliverer *d)
{
    unsigned n = 0;
    struct igw_queue_outcome *o = dlv_outcomes_build(d, &n);

    if (o == NULL) {
        return;
    }
    outcomes_done(d, n, igw_queue_complete(d->q, o, n));
    igw_free(o);
}

/* Moves the done list to the list the next round records. */
void
dlv_done_to_rec(struct igw_deliverer *d)
{
    d->rec_head = d->done_head;
    d->rec_tail = d->done_tail;
    d->done_head = NULL;
    d->done_tail = NULL;
    d->done_n = 0;
}

/* After the round: frees the recorded deliveries, or puts them back in front of the done list
 * for a later try when recording failed. */
void
dlv_rec_done(struct igw_deliverer *d, unsigned n, int rv)
{
    struct igw_dlv *dl;

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
            struct igw_dlv *next = dl->next;
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

/* ---- engine services for outputs ------------------------------------------------------- */

void *
igw_dlv_state(struct igw_dlv *dl)
{
    return dl->state;
}

const struct igw_queue_claim *
igw_dlv_claim(const struct igw_dlv *dl)
{
    return &dl->claim;
}

const struct igw_route *
igw_dlv_route(const struct igw_dlv *dl)
{
    return dl->rs->cfg;
}

void *
igw_dlv_route_ctx(const struct igw_dlv *dl)
{
    return dl->rs->ctx;
}

void
igw_dlv_retry_after(struct igw_dlv *dl, bool has, uint64_t wait_ms)
{
    dl->has_retry_after = has;
    dl->retry_after_ms = has ? wait_ms : 0;
}
