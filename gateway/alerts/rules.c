/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert rules (alerts_int.h): each kind's value and condition. dead_letters counts the route's
 * dead letters within the window from samples of the dead-letter counter (a ring; the value is
 * the counter now minus the last sample at or before the window's start); queue_depth of a
 * route and oldest_pending read the queue's per-route counters of the tick.
 */
#include <string.h>

#include "igw/common.h"
#include "alerts/alerts_int.h"
#include "stats/stats.h"

const char *
alerts_kind_name(int kind)
{
    switch (kind) {
    case IGW_ALERT_DEAD_LETTERS:
        return "dead_letters";
    case IGW_ALERT_QUEUE_DEPTH:
        return "queue_depth";
    case IGW_ALERT_CIRCUIT_OPEN:
        return "circuit_open";
    case IGW_ALERT_OLDEST_PENDING:
        return "oldest_pending";
    default:
        return "storage";
    }
}

/* The stats slot of a route by name; false when the table has none. */
static bool
route_stats(const char *name, struct igw_stats_route *out)
{
    unsigned n = igw_stats_nroutes();
    for (unsigned i = 0; i < n; i++) {
        if (igw_stats_route_at(i, out) && strcmp(out->route->name, name) == 0) {
            return true;
        }
    }
    return false;
}

static void
ring_push(struct rule_state *rs, uint64_t t, uint64_t count)
{
    unsigned at = (rs->head + rs->n) % RULE_SAMPLES;
    if (rs->n == RULE_SAMPLES) {
        rs->head = (rs->head + 1) % RULE_SAMPLES;
        at = (rs->head + RULE_SAMPLES - 1) % RULE_SAMPLES;
    } else {
        rs->n++;
    }
    rs->ring[at].t_ms = t;
    rs->ring[at].count = count;
}

/* Dead letters within the window: the counter now minus the newest sample at or before the
 * window's start (the counters start at 0 with the process: the first sample is (now, 0)).
 * Samples are at least window/512 apart, so the ring always spans the window. */
static uint64_t
dead_in_window(struct rule_state *rs, uint64_t now, uint64_t count)
{
    uint64_t start = now > rs->rule->window_ms ? now - rs->rule->window_ms : 0;
    uint64_t gap = rs->rule->window_ms / (RULE_SAMPLES / 2);
    const struct sample *last;

    if (rs->n == 0) {
        ring_push(rs, now, 0);
    }
    while (rs->n > 1 && rs->ring[(rs->head + 1) % RULE_SAMPLES].t_ms <= start) {
        rs->head = (rs->head + 1) % RULE_SAMPLES;
        rs->n--;
    }
    last = &rs->ring[(rs->head + rs->n - 1) % RULE_SAMPLES];
    if (now - last->t_ms >= gap && now > last->t_ms) {
        ring_push(rs, now, count);
    }
    return count >= rs->ring[rs->head].count ? count - rs->ring[rs->head].count : 0;
}

/* The queue's counters of route, or NULL when it has none (no delivery yet: all zero). */
static const struct igw_queue_route_stats *
queue_route(const struct tick *t, const char *route)
{
    for (unsigned i = 0; i < t->nrs; i++) {
        if (strcmp(t->rs[i].route, route) == 0) {
            return &t->rs[i];
        }
    }
    return NULL;
}

/* Age in ms of the oldest pending delivery of route (NULL: of any route); 0 when none. */
static uint64_t
oldest_pending_age(const struct tick *t, const char *route)
{
    uint64_t oldest = 0;

    for (unsigned i = 0; i < t->nrs; i++) {
        uint64_t o = t->rs[i].oldest_pending_ms;
        if ((route == NULL || strcmp(t->rs[i].route, route) == 0) && o != 0 &&
            (oldest == 0 || o < oldest)) {
            oldest = o;
        }
    }
    return oldest != 0 && t->now_ms > oldest ? t->now_ms - oldest : 0;
}

bool
alerts_rule_eval(struct rule_state *rs, const struct tick *t)
{
    const struct igw_alert_rule *r = rs->rule;
    struct igw_stats_route sr;

    switch (r->kind) {
    case IGW_ALERT_DEAD_LETTERS:
        if (!route_stats(r->route, &sr)) {
            return false;
        }
        rs->value = dead_in_window(rs, t->now_ms, sr.outcomes[IGW_OUTCOME_DEAD]);
        return rs->value >= r->threshold;
    case IGW_ALERT_CIRCUIT_OPEN:
        if (!route_stats(r->route, &sr) || sr.circuit_since_ms == 0) {
            rs->value = 0;
            return false;
        }
        rs->value = t->now_ms > sr.circuit_since_ms ? t->now_ms - sr.circuit_since_ms : 0;
        return rs->value >= r->window_ms;
    case IGW_ALERT_QUEUE_DEPTH:
        if (r->route != NULL) {
            const struct igw_queue_route_stats *q = t->have_rs ? queue_route(t, r->route) : NULL;
            if (!t->have_rs) {
                return rs->firing; /* unknown: no change */
            }
            rs->value = q != NULL ? q->pending + q->inflight : 0;
            return rs->value > r->threshold;
        }
        if (!t->have_q) {
            return rs->firing; /* unknown: no change */
        }
        rs->value = t->qs.pending + t->qs.inflight;
        return rs->value > r->threshold;
    case IGW_ALERT_OLDEST_PENDING:
        if (!t->have_rs) {
            return rs->firing;
        }
        rs->value = oldest_pending_age(t, r->route);
        return rs->value >= r->window_ms;
    default:
        if (!t->have_q || t->qs.capacity_bytes == 0) {
            return rs->firing;
        }
        rs->value = t->qs.used_bytes * 100 / t->qs.capacity_bytes;
        return t->qs.used_bytes * 100 >= r->threshold * t->qs.capacity_bytes;
    }
}
