/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to gateway/alerts/: alerts.c (the thread, incidents, the messages, the listing) and
 * rules.c (measuring each rule's value and deciding whether its condition holds).
 */
#ifndef IGW_GATEWAY_ALERTS_INT_H
#define IGW_GATEWAY_ALERTS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "igw/config.h"
#include "igw/queue.h"

#define RULE_SAMPLES 1024      /* dead_letters: counter samples kept per rule (ring) */
#define ALERTS_ROUTES_MAX 1024 /* routes whose queue counters a tick reads */

struct sample {
    uint64_t t_ms;
    uint64_t count;
};

/* A rule's evaluation state (alerts thread only). */
struct rule_state {
    const struct igw_alert_rule *rule;
    struct sample ring[RULE_SAMPLES];
    unsigned head, n;
    uint64_t value; /* last measured */
    bool firing;
    int incident; /* index of its open incident in the listing, -1 when none */
};

/* One evaluation's view of the queue (taken once per tick). */
struct tick {
    uint64_t now_ms;
    bool have_q;
    struct igw_queue_stats qs;
    bool have_rs; /* rs: the queue's per-route counters (igw_queue_route_stats) */
    const struct igw_queue_route_stats *rs;
    unsigned nrs;
};

/** Measures rs's value at t and returns whether its condition holds. */
bool alerts_rule_eval(struct rule_state *rs, const struct tick *t);

/** The kind's name in the configuration ("dead_letters", ...). */
const char *alerts_kind_name(int kind);

#endif /* IGW_GATEWAY_ALERTS_INT_H */
