/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-route circuit breaker (delivery thread only).
 *
 *   closed --(breaker_failures consecutive failed attempts)--> open
 *   open --(breaker_open_ms elapsed)--> half-open: exactly one probe delivery is claimed
 *   half-open --probe delivered, or answered with a permanent 4xx--> closed
 *   half-open --probe failed transiently--> open again (another breaker_open_ms)
 *
 * A failed attempt is one the destination is to blame for (connection error, timeout, 5xx,
 * 408, 429, nng error or "ERR" reply, file write error). A 4xx answer proves the destination
 * is up: it resets the count. While a circuit is open nothing of the route is claimed, and
 * deliveries claimed but not started are released until the probe time. Attempts already in
 * flight when the circuit opens finish normally and do not move the breaker.
 */
#include <inttypes.h>

#include "igw/common.h"
#include "igw/log.h"
#include "delivery/deliver_int.h"

#define BREAKER_DEFAULT_OPEN_MS 30000

void
breaker_init(struct breaker *b)
{
    b->state = BREAKER_CLOSED;
    atomic_store(&b->pub, BREAKER_CLOSED);
    b->failures = 0;
    b->reopen_at_ms = 0;
    b->probe_inflight = false;
}

unsigned
breaker_capacity(const struct route_state *rs)
{
    unsigned used = rs->inflight + rs->backlog_n;

    switch (rs->br.state) {
    case BREAKER_OPEN:
        return 0;
    case BREAKER_HALF_OPEN:
        return rs->br.probe_inflight || used > 0 ? 0 : 1;
    case BREAKER_CLOSED:
    default:
        return used >= rs->concurrency ? 0 : rs->concurrency - used;
    }
}

bool
breaker_admit(struct igw_deliverer *d, struct route_state *rs, struct igw_dlv *dl)
{
    IGW_UNUSED(d);
    switch (rs->br.state) {
    case BREAKER_OPEN:
        return false;
    case BREAKER_HALF_OPEN:
        if (rs->br.probe_inflight) {
            return false;
        }
        rs->br.probe_inflight = true;
        dl->probe = true;
        return true;
    case BREAKER_CLOSED:
    default:
        return true;
    }
}

static uint64_t
open_ms(const struct route_state *rs)
{
    return rs->cfg->breaker_open_ms != 0 ? rs->cfg->breaker_open_ms : BREAKER_DEFAULT_OPEN_MS;
}

static void
breaker_open(struct igw_deliverer *d, struct route_state *rs, const struct igw_dlv *dl)
{
    bool was_closed = rs->br.state == BREAKER_CLOSED;
    rs->br.state = BREAKER_OPEN;
    atomic_store(&rs->br.pub, BREAKER_OPEN);
    rs->br.reopen_at_ms = igw_mono_ms() + open_ms(rs);
    rs->br.failures = 0;
    dlv_metrics_circuit(rs);
    if (was_closed) {
        atomic_fetch_add(&d->st_open_circuits, 1);
        IGW_WARN("circuit open route=%s failures=%u open_ms=%" PRIu64 " last_error=\"%s\"",
                 rs->cfg->name, rs->cfg->breaker_failures, open_ms(rs), dl->error);
    } else {
        IGW_WARN("circuit open again route=%s open_ms=%" PRIu64 " probe_error=\"%s\"",
                 rs->cfg->name, open_ms(rs), dl->error);
    }
}

static void
breaker_close(struct igw_deliverer *d, struct route_state *rs)
{
    rs->br.state = BREAKER_CLOSED;
    atomic_store(&rs->br.pub, BREAKER_CLOSED);
    rs->br.failures = 0;
    dlv_metrics_circuit(rs);
    atomic_fetch_sub(&d->st_open_circuits, 1);
    IGW_INFO("circuit closed route=%s (probe delivered)", rs->cfg->name);
}

static void
record_probe(struct igw_deliverer *d, struct route_state *rs, const struct igw_dlv *dl)
{
    rs->br.probe_inflight = false;
    if (rs->br.state != BREAKER_HALF_OPEN) {
        return;
    }
    if (dl->health == IGW_DLV_HEALTH_GOOD) {
        breaker_close(d, rs);
    } else if (dl->health == IGW_DLV_HEALTH_BAD) {
        breaker_open(d, rs, dl);
    }
    /* released probe: stay half-open, the next claim sends another */
}

void
breaker_record(struct igw_deliverer *d, struct route_state *rs, const struct igw_dlv *dl)
{
    if (dl->probe) {
        record_probe(d, rs, dl);
        return;
    }
    if (rs->cfg->breaker_failures == 0 || rs->br.state != BREAKER_CLOSED) {
        return;
    }
    if (dl->health == IGW_DLV_HEALTH_GOOD) {
        rs->br.failures = 0;
    } else if (dl->health == IGW_DLV_HEALTH_BAD) {
        rs->br.failures++;
        if (rs->br.failures >= rs->cfg->breaker_failures) {
            breaker_open(d, rs, dl);
        }
    }
}

uint64_t
breaker_tick(struct igw_deliverer *d, uint64_t mono_ms)
{
    uint64_t next = UINT64_MAX;

    for (size_t i = 0; i < d->nroutes; i++) {
        struct route_state *rs = &d->routes[i];
        if (rs->br.state != BREAKER_OPEN) {
            continue;
        }
        if (mono_ms >= rs->br.reopen_at_ms) {
            rs->br.state = BREAKER_HALF_OPEN;
            atomic_store(&rs->br.pub, BREAKER_HALF_OPEN);
            rs->br.probe_inflight = false;
            dlv_metrics_circuit(rs);
            d->want_claim = true;
            IGW_INFO("circuit half-open route=%s (one probe)", rs->cfg->name);
        } else if (rs->br.reopen_at_ms - mono_ms < next) {
            next = rs->br.reopen_at_ms - mono_ms;
        }
    }
    return next;
}
