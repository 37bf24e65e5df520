/* SPDX-License-Identifier: Apache-2.0 */
/* Queue contract, replay: igw_queue_message_get and igw_queue_replay. */
#define IGWT_PART
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "contract.h"

/* One message on route r (translated payload "v1"), plus route "raw" when two is true. */
static uint64_t
put(igw_queue *q, const char *okey, const char *body, bool two)
{
    struct igw_queue_route_init r[2] = {
        {"r", okey, okey ? strlen(okey) : 0, "v1", 2, "text/v1"},
        {"raw", NULL, 0, NULL, 0, NULL},
    };
    struct igw_queue_msg m;
    uint64_t id = 0;
    bool dup = false;

    memset(&m, 0, sizeof(m));
    m.channel = "ch";
    m.content_type = "application/json";
    m.meta = "{\"m\":1}";
    m.meta_len = 7;
    m.body = body;
    m.body_len = strlen(body);
    m.routes = r;
    m.nroutes = two ? 2 : 1;
    IGWT_OK(igw_queue_put(q, &m, &id, &dup));
    return id;
}

static unsigned
claim(igw_queue *q, struct igw_queue_claim *out, unsigned max)
{
    unsigned n = 0;
    IGWT_OK(igw_queue_claim(q, QC_FAR_FUTURE, max, NULL, NULL, out, &n));
    return n;
}

static void
done(igw_queue *q, uint64_t id, const char *route, enum igw_deliver_result res, uint64_t due)
{
    struct igw_queue_outcome o;
    memset(&o, 0, sizeof(o));
    o.id = id;
    o.route = route;
    o.result = res;
    o.next_due_ms = due;
    o.status = res == IGW_DELIVER_OK ? 200 : 400;
    IGWT_OK(igw_queue_complete(q, &o, 1));
}

/* Claims the one due delivery of (id, route) and completes it with res. */
static void
attempt(igw_queue *q, uint64_t id, const char *route, enum igw_deliver_result res)
{
    struct igw_queue_claim c[4];
    unsigned n = claim(q, c, 4);

    IGWT_ASSERT(n == 1 && c[0].id == id);
    IGWT_STREQ(c[0].route, route);
    qc_fini_claims(c, n);
    done(q, id, route, res, QC_FAR_FUTURE);
}

static struct igw_queue_stats
stats(igw_queue *q)
{
    struct igw_queue_stats s;
    IGWT_OK(igw_queue_stats(q, &s));
    return s;
}

static int
replay1(igw_queue *q, uint64_t id, const char *route, const char *payload, const char *okey)
{
    struct igw_queue_replay_route r = {route,
                                       payload,
                                       payload ? strlen(payload) : 0,
                                       payload ? "text/v2" : NULL,
                                       okey,
                                       okey ? strlen(okey) : 0};
    return igw_queue_replay(q, id, &r, 1);
}

/* ---- events ------------------------------------------------------------------------------ */

static struct {
    unsigned replayed;
    uint32_t attempts;
    char route[16];
} evs;

static void
on_event(void *arg, const struct igw_queue_event *ev)
{
    (void)arg;
    if (ev->kind == IGW_QEV_REPLAYED) {
        evs.replayed++;
        evs.attempts = ev->attempts;
        snprintf(evs.route, sizeof(evs.route), "%s", ev->route ? ev->route : "");
    }
}

/* ---- cases ------------------------------------------------------------------------------- */

static void
test_message_get(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_message m;
    uint64_t id = put(q, NULL, "{\"a\":1}", true);

    IGWT_OK(igw_queue_message_get(q, id, &m));
    IGWT_STREQ(m.channel, "ch");
    IGWT_STREQ(m.content_type, "application/json");
    IGWT_CHECK(m.id == id && m.nroutes == 2 && m.created_ms > 0);
    IGWT_CHECK(m.body.len == 7 && memcmp(m.body.ptr, "{\"a\":1}", 7) == 0);
    IGWT_CHECK(m.meta.len == 7 && memcmp(m.meta.ptr, "{\"m\":1}", 7) == 0);
    igw_queue_message_fini(&m);
    IGWT_ERR(igw_queue_message_get(q, id + 1, &m), IGW_ENOENT);
    igw_queue_message_fini(&m);
    qc_finish(q);
}

static void
test_replay_delivered(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[4];
    struct igw_queue_delivery_info di[2];
    struct igw_queue_stats s;
    uint64_t id = put(q, NULL, "orig", false);
    unsigned n;

    memset(&evs, 0, sizeof(evs));
    igw_queue_set_listener(q, on_event, NULL);
    attempt(q, id, "r", IGW_DELIVER_OK);
    IGWT_CHECK(stats(q).delivered == 1);
    IGWT_OK(replay1(q, id, "r", "v2", NULL));
    s = stats(q);
    IGWT_CHECK(s.delivered == 0 && s.pending == 1 && s.messages == 1);
    IGWT_CHECK(evs.replayed == 1 && evs.attempts == 0);
    IGWT_STREQ(evs.route, "r");
    IGWT_OK(igw_queue_deliveries(q, id, di, 2, &n));
    IGWT_CHECK(n == 1 && di[0].state == IGW_DS_PENDING && di[0].attempts == 0);
    IGWT_CHECK(di[0].next_due_ms <= igw_now_ms());
    n = claim(q, c, 4);
    IGWT_ASSERT(n == 1);
    IGWT_CHECK(c[0].payload.len == 2 && memcmp(c[0].payload.ptr, "v2", 2) == 0);
    IGWT_STREQ(c[0].content_type, "text/v2");
    IGWT_CHECK(c[0].attempts == 0);
    qc_fini_claims(c, n);
    done(q, id, "r", IGW_DELIVER_OK, 0);
    /* NULL payload: the original body from now on */
    IGWT_OK(replay1(q, id, "r", NULL, NULL));
    n = claim(q, c, 4);
    IGWT_ASSERT(n == 1);
    IGWT_CHECK(c[0].payload.len == 4 && memcmp(c[0].payload.ptr, "orig", 4) == 0);
    IGWT_STREQ(c[0].content_type, "application/json");
    qc_fini_claims(c, n);
    igw_queue_set_listener(q, NULL, NULL);
    qc_finish(q);
}

static void
test_replay_dead(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_dead_info dl;
    struct igw_queue_stats s;
    uint64_t id = put(q, NULL, "orig", false);

    attempt(q, id, "r", IGW_DELIVER_FAIL);
    IGWT_OK(igw_queue_dead_get(q, id, "r", &dl));
    igw_queue_dead_info_fini(&dl);
    IGWT_OK(replay1(q, id, "r", "v2", NULL));
    IGWT_ERR(igw_queue_dead_get(q, id, "r", &dl), IGW_ENOENT);
    s = stats(q);
    IGWT_CHECK(s.dead == 0 && s.pending == 1);
    attempt(q, id, "r", IGW_DELIVER_OK);
    IGWT_CHECK(stats(q).delivered == 1 && stats(q).pending == 0);
    qc_finish(q);
}

/* An in-flight delivery refuses the whole call; nothing changes. */
static void
test_replay_inflight(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_replay_route r[2] = {{"raw", "x", 1, NULL, NULL, 0},
                                          {"r", "y", 1, NULL, NULL, 0}};
    struct igw_queue_claim c[4];
    struct igw_queue_delivery_info di[2];
    uint64_t id = put(q, NULL, "orig", true);
    unsigned n = claim(q, c, 1); /* "r" sorts before "raw" */

    IGWT_ASSERT(n == 1);
    IGWT_STREQ(c[0].route, "r");
    qc_fini_claims(c, n);
    IGWT_ERR(igw_queue_replay(q, id, r, 2), IGW_EAGAIN);
    IGWT_OK(igw_queue_deliveries(q, id, di, 2, &n));
    IGWT_CHECK(n == 2 && di[0].state == IGW_DS_INFLIGHT && di[1].state == IGW_DS_PENDING);
    IGWT_CHECK(stats(q).inflight == 1 && stats(q).pending == 1);
    n = claim(q, c, 4);
    IGWT_ASSERT(n == 1);
    IGWT_CHECK(c[0].payload.len == 4); /* "raw" still carries the original */
    qc_fini_claims(c, n);
    qc_finish(q);
}

/* A pending delivery due later is due now; it keeps exactly one due entry. */
static void
test_replay_pending(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[4];
    uint64_t id = put(q, NULL, "orig", false);
    unsigned n;

    attempt(q, id, "r", IGW_DELIVER_RETRY); /* due QC_FAR_FUTURE */
    IGWT_CHECK(igw_queue_next_due(q) > igw_now_ms() + 1000);
    IGWT_OK(replay1(q, id, "r", "v2", NULL));
    IGWT_CHECK(igw_queue_next_due(q) <= igw_now_ms());
    IGWT_CHECK(stats(q).pending == 1);
    n = claim(q, c, 4);
    IGWT_ASSERT(n == 1);
    IGWT_CHECK(c[0].attempts == 0 && memcmp(c[0].payload.ptr, "v2", 2) == 0);
    qc_fini_claims(c, n);
    IGWT_CHECK(claim(q, c, 4) == 0); /* the old due entry is gone */
    qc_finish(q);
}

static void
test_replay_ordering(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[4];
    uint64_t a1 = put(q, "A", "a1", false);
    uint64_t a2 = put(q, "A", "a2", false);
    unsigned n;

    attempt(q, a1, "r", IGW_DELIVER_OK); /* a2 is now the pending head */
    IGWT_OK(replay1(q, a1, "r", "v2", NULL));
    n = claim(q, c, 4); /* a1 is back in front of a2 */
    IGWT_ASSERT(n == 1 && c[0].id == a1);
    qc_fini_claims(c, n);
    done(q, a1, "r", IGW_DELIVER_OK, 0);
    /* a pending follower replayed stays behind its head */
    IGWT_OK(replay1(q, a2, "r", "v3", NULL));
    n = claim(q, c, 4);
    IGWT_ASSERT(n == 1 && c[0].id == a2);
    qc_fini_claims(c, n);
    done(q, a2, "r", IGW_DELIVER_OK, 0);
    IGWT_CHECK(claim(q, c, 4) == 0);
    qc_finish(q);
}

/* A new order key moves the delivery out of the old key, which promotes the old key's next. */
static void
test_replay_order_key(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[4];
    uint64_t a1 = put(q, "A", "a1", false);
    uint64_t a2 = put(q, "A", "a2", false);
    unsigned n;

    IGWT_OK(replay1(q, a1, "r", "v2", "B"));
    n = claim(q, c, 4);
    /* both are claimable: a2 was promoted to head of key A, a1 heads key B. Their relative order
     * is the due order (a2 since its accept, a1 since the replay), which ties within one
     * millisecond and then falls back to the id: either order is right. */
    IGWT_ASSERT(n == 2);
    IGWT_CHECK((c[0].id == a2 && c[1].id == a1) || (c[0].id == a1 && c[1].id == a2));
    qc_fini_claims(c, n);
    IGWT_CHECK(stats(q).inflight == 2 && stats(q).pending == 0);
    qc_finish(q);
}

static void
test_replay_invalid(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_replay_route dup[2] = {{"r", NULL, 0, NULL, NULL, 0},
                                            {"r", NULL, 0, NULL, NULL, 0}};
    uint64_t id = put(q, NULL, "orig", false);

    IGWT_ERR(replay1(q, id + 1, "r", NULL, NULL), IGW_ENOENT);
    IGWT_ERR(replay1(q, id, "nope", NULL, NULL), IGW_ENOENT);
    IGWT_ERR(igw_queue_replay(q, id, dup, 2), IGW_EINVAL);
    IGWT_ERR(igw_queue_replay(q, id, dup, 0), IGW_EINVAL);
    IGWT_ERR(replay1(q, id, "", NULL, NULL), IGW_EINVAL);
    IGWT_CHECK(stats(q).pending == 1);
    qc_finish(q);
}

const struct igwt_case qc_cases_replay[] = {
    {"message_get", test_message_get},
    {"replay_delivered", test_replay_delivered},
    {"replay_dead", test_replay_dead},
    {"replay_inflight", test_replay_inflight},
    {"replay_pending", test_replay_pending},
    {"replay_ordering", test_replay_ordering},
    {"replay_order_key", test_replay_order_key},
    {"replay_invalid", test_replay_invalid},
    {NULL, NULL},
};
