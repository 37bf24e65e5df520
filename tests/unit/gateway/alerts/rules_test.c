/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/alerts/rules.c: the dead-letter window (counts inside it, forgets what fell
 * out, long windows keep their baseline), circuit open for a time, queue depth and storage. */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "alerts/alerts_int.h"
#include "stats/stats.h"
#include "igwt.h"

static struct igw_route routes[1];
static struct igw_channel chans[1];
static struct igw_config cfg;
static char rname[] = "c.r";

static void
setup(void)
{
    memset(routes, 0, sizeof(routes));
    memset(chans, 0, sizeof(chans));
    memset(&cfg, 0, sizeof(cfg));
    routes[0].name = rname;
    chans[0].routes = routes;
    chans[0].nroutes = 1;
    cfg.channels = chans;
    cfg.nchannels = 1;
    IGWT_OK(igw_stats_init(&cfg));
}

static bool
eval_at(struct rule_state *rs, uint64_t now)
{
    struct tick t;
    memset(&t, 0, sizeof(t));
    t.now_ms = now;
    return alerts_rule_eval(rs, &t);
}

static void
test_dead_letter_window(void)
{
    struct igw_alert_rule r = {rname, IGW_ALERT_DEAD_LETTERS, rname, 2, 1000};
    static struct rule_state rs;

    setup();
    memset(&rs, 0, sizeof(rs));
    rs.rule = &r;
    IGWT_CHECK(!eval_at(&rs, 10000) && rs.value == 0);
    igw_stats_delivery(&routes[0], IGW_OUTCOME_DEAD, 10);
    IGWT_CHECK(!eval_at(&rs, 10100) && rs.value == 1);
    igw_stats_delivery(&routes[0], IGW_OUTCOME_DEAD, 10);
    igw_stats_delivery(&routes[0], IGW_OUTCOME_DELIVERED, 10); /* not a dead letter */
    IGWT_CHECK(eval_at(&rs, 10200) && rs.value == 2);
    IGWT_CHECK(eval_at(&rs, 10900) && rs.value == 2);
    /* both fell out of the window */
    IGWT_CHECK(!eval_at(&rs, 11300) && rs.value == 0);
    igw_stats_delivery(&routes[0], IGW_OUTCOME_DEAD, 10);
    IGWT_CHECK(!eval_at(&rs, 11400) && rs.value == 1);
    igw_stats_fini(&cfg);
}

static void
test_long_window_many_ticks(void)
{
    /* 1 h window evaluated every 100 ms: far more ticks than ring slots */
    struct igw_alert_rule r = {rname, IGW_ALERT_DEAD_LETTERS, rname, 1, 3600000};
    static struct rule_state rs;
    uint64_t t = 1000000;

    setup();
    memset(&rs, 0, sizeof(rs));
    rs.rule = &r;
    IGWT_CHECK(!eval_at(&rs, t));
    igw_stats_delivery(&routes[0], IGW_OUTCOME_DEAD, 10);
    for (int i = 0; i < 30000; i++) { /* 50 minutes */
        t += 100;
        IGWT_ASSERT(eval_at(&rs, t));
    }
    IGWT_CHECK(rs.value == 1);
    t += 11 * 60 * 1000; /* past the hour */
    IGWT_CHECK(!eval_at(&rs, t) && rs.value == 0);
    igw_stats_fini(&cfg);
}

static void
test_circuit_depth_storage(void)
{
    struct igw_alert_rule rc = {rname, IGW_ALERT_CIRCUIT_OPEN, rname, 1, 500};
    struct igw_alert_rule rd = {rname, IGW_ALERT_QUEUE_DEPTH, NULL, 10, 0};
    struct igw_alert_rule rst = {rname, IGW_ALERT_STORAGE, NULL, 80, 0};
    static struct rule_state rs;
    struct tick t;

    setup();
    memset(&rs, 0, sizeof(rs));
    rs.rule = &rc;
    IGWT_CHECK(!eval_at(&rs, 1000));
    igw_stats_circuit(&routes[0], 1, 1000);
    IGWT_CHECK(!eval_at(&rs, 1400) && rs.value == 400);
    igw_stats_circuit(&routes[0], 2, 1450); /* half-open: still not closed */
    IGWT_CHECK(eval_at(&rs, 1500));
    igw_stats_circuit(&routes[0], 0, 1600);
    IGWT_CHECK(!eval_at(&rs, 1700));

    memset(&t, 0, sizeof(t));
    memset(&rs, 0, sizeof(rs));
    rs.rule = &rd;
    t.have_q = true;
    t.qs.pending = 8;
    t.qs.inflight = 2;
    IGWT_CHECK(!alerts_rule_eval(&rs, &t) && rs.value == 10);
    t.qs.pending = 9;
    IGWT_CHECK(alerts_rule_eval(&rs, &t));
    rs.firing = true;
    t.have_q = false; /* unknown: no change */
    IGWT_CHECK(alerts_rule_eval(&rs, &t));

    memset(&rs, 0, sizeof(rs));
    rs.rule = &rst;
    t.have_q = true;
    t.qs.capacity_bytes = 1000;
    t.qs.used_bytes = 799;
    IGWT_CHECK(!alerts_rule_eval(&rs, &t));
    t.qs.used_bytes = 800;
    IGWT_CHECK(alerts_rule_eval(&rs, &t) && rs.value == 80);
    IGWT_STREQ(alerts_kind_name(IGW_ALERT_STORAGE), "storage");
    igw_stats_fini(&cfg);
}

static void
test_per_route_depth_and_oldest_pending(void)
{
    struct igw_alert_rule rd = {rname, IGW_ALERT_QUEUE_DEPTH, rname, 3, 0};
    struct igw_alert_rule ro = {rname, IGW_ALERT_OLDEST_PENDING, rname, 0, 60000};
    struct igw_alert_rule roa = {rname, IGW_ALERT_OLDEST_PENDING, NULL, 0, 60000};
    struct igw_queue_route_stats qs[2];
    static struct rule_state rs;
    struct tick t;

    memset(qs, 0, sizeof(qs));
    snprintf(qs[0].route, sizeof(qs[0].route), "%s", "other.out");
    qs[0].pending = 50;
    qs[0].oldest_pending_ms = 1000;
    snprintf(qs[1].route, sizeof(qs[1].route), "%s", rname);
    qs[1].pending = 2;
    qs[1].inflight = 1;
    qs[1].oldest_pending_ms = 100000;
    memset(&t, 0, sizeof(t));
    t.now_ms = 150000;
    t.have_q = true;
    t.qs.pending = 52; /* every route together: over 3, but the rule watches one route */
    t.have_rs = true;
    t.rs = qs;
    t.nrs = 2;

    memset(&rs, 0, sizeof(rs));
    rs.rule = &rd;
    IGWT_CHECK(!alerts_rule_eval(&rs, &t) && rs.value == 3);
    qs[1].pending = 3;
    IGWT_CHECK(alerts_rule_eval(&rs, &t) && rs.value == 4);
    t.nrs = 1; /* the route has no deliveries at all: 0 */
    IGWT_CHECK(!alerts_rule_eval(&rs, &t) && rs.value == 0);
    t.nrs = 2;
    rs.firing = true;
    t.have_rs = false; /* unknown: no change */
    IGWT_CHECK(alerts_rule_eval(&rs, &t));
    t.have_rs = true;

    memset(&rs, 0, sizeof(rs));
    rs.rule = &ro; /* 50 s old: under a minute */
    IGWT_CHECK(!alerts_rule_eval(&rs, &t) && rs.value == 50000);
    t.now_ms = 160000;
    IGWT_CHECK(alerts_rule_eval(&rs, &t) && rs.value == 60000);
    qs[1].oldest_pending_ms = 0; /* nothing pending any more */
    IGWT_CHECK(!alerts_rule_eval(&rs, &t) && rs.value == 0);

    memset(&rs, 0, sizeof(rs));
    rs.rule = &roa; /* any route: other.out's is the oldest */
    IGWT_CHECK(alerts_rule_eval(&rs, &t) && rs.value == 159000);
    IGWT_STREQ(alerts_kind_name(IGW_ALERT_OLDEST_PENDING), "oldest_pending");
}

IGWT_MAIN({"dead_letter_window", test_dead_letter_window},
          {"long_window_many_ticks", test_long_window_many_ticks},
          {"circuit_depth_storage", test_circuit_depth_storage},
          {"per_route_depth_and_oldest_pending", test_per_route_depth_and_oldest_pending})
