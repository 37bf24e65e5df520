/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Queue contract, delivery: submit, claim and complete; retries, dead letters and release;
 * per-key ordering; the claim filter; rounds (outcomes and claims in one commit).
 */
#define IGWT_PART
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "igw/common.h"
#include "contract.h"

static void
test_submit_claim_complete(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_init r[2] = {
        {"fhir", NULL, 0, "<Patient/>", 10, "application/fhir+xml"},
        {"dci", NULL, 0, NULL, 0, NULL},
    };
    struct igw_queue_msg m;
    struct igw_queue_claim c[4];
    struct igw_queue_delivery_info di[4];
    struct igw_queue_stats s;
    uint64_t t0 = igw_now_ms();
    uint64_t id = 0;
    bool dup = true;
    unsigned n;

    qc_init_msg(&m, "openimis", "{\"a\":1}", r, 2);
    IGWT_OK(igw_queue_put(q, &m, &id, &dup));
    IGWT_CHECK(!dup && id == 1);
    IGWT_CHECK(igw_queue_next_due(q) <= igw_now_ms());
    n = qc_claim(q, igw_now_ms(), c, 4);
    IGWT_ASSERT(n == 2);
    /* due keys sort by (time, id, route): "dci" before "fhir" */
    IGWT_STREQ(c[0].route, "dci");
    IGWT_STREQ(c[0].channel, "openimis");
    IGWT_STREQ(c[0].content_type, "application/json");
    IGWT_CHECK(c[0].payload.len == 7 && memcmp(c[0].payload.ptr, "{\"a\":1}", 7) == 0);
    IGWT_CHECK(c[0].meta.len == 7 && memcmp(c[0].meta.ptr, "{\"h\":1}", 7) == 0);
    IGWT_CHECK(c[0].attempts == 0 && c[0].id == id && c[0].created_ms >= t0);
    IGWT_STREQ(c[1].route, "fhir");
    IGWT_STREQ(c[1].content_type, "application/fhir+xml");
    IGWT_CHECK(c[1].payload.len == 10 && memcmp(c[1].payload.ptr, "<Patient/>", 10) == 0);
    s = qc_stats(q);
    IGWT_CHECK(s.messages == 1 && s.pending == 0 && s.inflight == 2);
    IGWT_CHECK(qc_claim(q, igw_now_ms(), c + 2, 2) == 0);
    IGWT_CHECK(igw_queue_next_due(q) == UINT64_MAX);
    qc_done(q, id, "dci", IGW_DELIVER_OK, 0);
    qc_done(q, id, "fhir", IGW_DELIVER_OK, 0);
    qc_fini_claims(c, n);
    s = qc_stats(q);
    IGWT_CHECK(s.messages == 1 && s.inflight == 0 && s.delivered == 2 && s.dead == 0);
    IGWT_OK(igw_queue_deliveries(q, id, di, 4, &n));
    IGWT_CHECK(n == 2 && di[0].state == IGW_DS_DELIVERED && di[0].attempts == 1);
    IGWT_CHECK(di[1].last_status == 200 && di[1].state == IGW_DS_DELIVERED);
    IGWT_ERR(igw_queue_deliveries(q, id + 1, di, 4, &n), IGW_ENOENT);
    /* completing again is ignored */
    qc_done(q, id, "dci", IGW_DELIVER_FAIL, 0);
    IGWT_CHECK(qc_stats(q).dead == 0);
    qc_finish(q);
}

static void
test_retry(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[2];
    struct igw_queue_delivery_info di[2];
    uint64_t id = qc_put1(q, "r", NULL, "x");
    uint64_t t = igw_now_ms() + 5000;
    unsigned n;

    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 1);
    qc_fini_claims(c, 1);
    qc_done(q, id, "r", IGW_DELIVER_RETRY, t);
    IGWT_CHECK(igw_queue_next_due(q) == t);
    IGWT_OK(igw_queue_deliveries(q, id, di, 2, &n));
    IGWT_CHECK(n == 1 && di[0].state == IGW_DS_PENDING && di[0].attempts == 1);
    IGWT_CHECK(di[0].next_due_ms == t && di[0].last_status == 503);
    IGWT_STREQ(di[0].last_error, "HTTP 503");
    IGWT_CHECK(qc_claim(q, t - 1, c, 2) == 0);
    IGWT_ASSERT(qc_claim(q, t, c, 2) == 1);
    IGWT_CHECK(c[0].attempts == 1);
    qc_fini_claims(c, 1);
    /* a release of the claim (shutdown) does not count as an attempt */
    {
        struct igw_queue_outcome o = {id, "r", IGW_DELIVER_RETRY, t + 7, NULL, NULL, 0, 0, true, 0};
        IGWT_OK(igw_queue_complete(q, &o, 1));
    }
    IGWT_OK(igw_queue_deliveries(q, id, di, 2, &n));
    IGWT_CHECK(di[0].attempts == 1 && di[0].next_due_ms == t + 7);
    IGWT_CHECK(qc_stats(q).pending == 1);
    qc_finish(q);
}

static void
test_dead_release(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[2];
    struct igw_queue_delivery_info di[2];
    struct igw_queue_dead_info dead;
    uint64_t id = qc_put1(q, "r", "k", "x");
    unsigned n;

    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 1);
    qc_fini_claims(c, 1);
    qc_done(q, id, "r", IGW_DELIVER_FAIL, 0);
    IGWT_CHECK(qc_stats(q).dead == 1 && qc_stats(q).inflight == 0);
    IGWT_OK(igw_queue_dead_get(q, id, "r", &dead));
    IGWT_CHECK(dead.status == 503 && dead.dead_ms > 0);
    IGWT_STREQ(dead.error, "HTTP 503");
    IGWT_CHECK(dead.response.len == 14 && memcmp(dead.response.ptr, "{\"err\":\"gone\"}", 14) == 0);
    igw_queue_dead_info_fini(&dead);
    IGWT_OK(igw_queue_deliveries(q, id, di, 2, &n));
    IGWT_CHECK(n == 1 && di[0].state == IGW_DS_DEAD && di[0].attempts == 1);
    IGWT_CHECK(qc_claim(q, QC_FAR_FUTURE, c, 2) == 0);
    IGWT_ERR(igw_queue_release(q, id + 5, NULL, NULL), IGW_ENOENT);
    IGWT_ERR(igw_queue_release(q, id, "nope", NULL), IGW_ENOENT);
    IGWT_OK(igw_queue_release(q, id, NULL, NULL));
    IGWT_ERR(igw_queue_dead_get(q, id, "r", &dead), IGW_ENOENT);
    IGWT_CHECK(qc_stats(q).dead == 0 && qc_stats(q).pending == 1);
    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 1);
    IGWT_CHECK(c[0].attempts == 0);
    qc_fini_claims(c, 1);
    qc_done(q, id, "r", IGW_DELIVER_FAIL, 0);
    IGWT_OK(igw_queue_release(q, id, "r", NULL));
    IGWT_CHECK(qc_stats(q).pending == 1);
    qc_finish(q);
}

static void
test_ordering(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[8];
    uint64_t a1 = qc_put1(q, "r", "A", "a1");
    uint64_t a2 = qc_put1(q, "r", "A", "a2");
    uint64_t b1 = qc_put1(q, "r", "B", "b1");
    uint64_t u1 = qc_put1(q, "r", NULL, "u1");
    uint64_t a3 = qc_put1(q, "r", "A", "a3");
    uint64_t other = qc_put1(q, "s", "A", "other route, same key");
    unsigned n = qc_claim(q, QC_FAR_FUTURE, c, 8);

    IGWT_ASSERT(n == 4);
    IGWT_CHECK(c[0].id == a1 && c[1].id == b1 && c[2].id == u1 && c[3].id == other);
    qc_fini_claims(c, n);
    IGWT_CHECK(qc_claim(q, QC_FAR_FUTURE, c, 8) == 0);
    /* a retry keeps a1 first in line: a2 must still wait */
    qc_done(q, a1, "r", IGW_DELIVER_RETRY, igw_now_ms() + 100000);
    IGWT_CHECK(qc_claim(q, igw_now_ms(), c, 8) == 0);
    IGWT_ASSERT(qc_claim(q, QC_FAR_FUTURE, c, 8) == 1);
    IGWT_CHECK(c[0].id == a1);
    qc_fini_claims(c, 1);
    qc_done(q, a1, "r", IGW_DELIVER_OK, 0);
    IGWT_ASSERT(qc_claim(q, QC_FAR_FUTURE, c, 8) == 1);
    IGWT_CHECK(c[0].id == a2);
    qc_fini_claims(c, 1);
    /* a dead letter does not block the key */
    qc_done(q, a2, "r", IGW_DELIVER_FAIL, 0);
    IGWT_ASSERT(qc_claim(q, QC_FAR_FUTURE, c, 8) == 1);
    IGWT_CHECK(c[0].id == a3);
    qc_fini_claims(c, 1);
    /* releasing the older dead letter puts it back in front (a3 is already in flight) */
    IGWT_OK(igw_queue_release(q, a2, NULL, NULL));
    IGWT_ASSERT(qc_claim(q, QC_FAR_FUTURE, c, 8) == 1);
    IGWT_CHECK(c[0].id == a2);
    qc_fini_claims(c, 1);
    qc_finish(q);
}

/* Followers of a key have no due entry: a blocked backlog costs claims nothing. */
static void
test_ordering_backlog(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[4];
    uint64_t ids[50];

    for (int i = 0; i < 50; i++) {
        ids[i] = qc_put1(q, "o", "K", "k");
    }
    IGWT_ASSERT(qc_claim(q, QC_FAR_FUTURE, c, 4) == 1);
    IGWT_CHECK(c[0].id == ids[0]);
    qc_fini_claims(c, 1);
    IGWT_CHECK(igw_queue_next_due(q) == UINT64_MAX); /* 49 pending, none schedulable */
    IGWT_CHECK(qc_stats(q).pending == 49);
    IGWT_OK(igw_queue_purge(q, ids[0])); /* purging the head promotes the next */
    IGWT_CHECK(igw_queue_next_due(q) != UINT64_MAX);
    IGWT_ASSERT(qc_claim(q, QC_FAR_FUTURE, c, 4) == 1);
    IGWT_CHECK(c[0].id == ids[1]);
    qc_fini_claims(c, 1);
    IGWT_OK(igw_queue_purge(q, ids[2])); /* purging a follower changes nothing */
    qc_done(q, ids[1], "o", IGW_DELIVER_OK, 0);
    IGWT_ASSERT(qc_claim(q, QC_FAR_FUTURE, c, 4) == 1);
    IGWT_CHECK(c[0].id == ids[3]);
    qc_fini_claims(c, 1);
    igw_queue_close(q); /* recovery keeps the head and its followers */
    q = qc_reopen();
    IGWT_ASSERT(qc_claim(q, QC_FAR_FUTURE, c, 4) == 1);
    IGWT_CHECK(c[0].id == ids[3] && qc_stats(q).pending == 46);
    qc_fini_claims(c, 1);
    qc_finish(q);
}

static unsigned
filter_a_once(void *arg, const char *route)
{
    int *calls = arg;
    (*calls)++;
    return strcmp(route, "a") == 0 ? 1 : 0;
}

static void
test_filter(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_init r[2] = {{"a", NULL, 0, NULL, 0, NULL},
                                        {"b", NULL, 0, NULL, 0, NULL}};
    struct igw_queue_msg m;
    struct igw_queue_claim c[8];
    unsigned n = 0;
    int calls = 0;

    qc_init_msg(&m, "ch", "x", r, 2);
    for (int i = 0; i < 3; i++) {
        IGWT_OK(igw_queue_put(q, &m, NULL, NULL));
    }
    IGWT_OK(igw_queue_claim(q, igw_now_ms(), 8, filter_a_once, &calls, c, &n));
    IGWT_ASSERT(n == 1);
    IGWT_STREQ(c[0].route, "a");
    IGWT_CHECK(calls == 2); /* once per route with due deliveries */
    qc_fini_claims(c, n);
    IGWT_CHECK(qc_stats(q).pending == 5 && qc_stats(q).inflight == 1);
    qc_finish(q);
}

static unsigned
filter_all(void *arg, const char *route)
{
    IGW_UNUSED(arg);
    IGW_UNUSED(route);
    return 8;
}

static void
notified(void *arg)
{
    (*(int *)arg)++;
}

/* igw_queue_round: outcomes first, then the claim, in one commit; the async form notifies. */
static void
test_round(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[8];
    struct igw_queue_outcome o;
    struct igw_queue_round rd;
    uint64_t id1 = qc_put1(q, "r", "k", "one");
    uint64_t id2 = qc_put1(q, "r", "k", "two");
    uint64_t commits;
    int notes = 0;

    memset(&rd, 0, sizeof(rd));
    rd.now_ms = igw_now_ms();
    rd.max = 8;
    rd.filter = filter_all;
    rd.out = c;
    IGWT_OK(igw_queue_round(q, &rd));
    IGWT_OK(rd.complete_rv);
    IGWT_OK(rd.claim_rv);
    IGWT_ASSERT(rd.n == 1 && c[0].id == id1); /* the follower waits for its head */
    qc_fini_claims(c, rd.n);

    memset(&o, 0, sizeof(o));
    o.id = id1;
    o.route = "r";
    o.result = IGW_DELIVER_OK;
    commits = qc_stats(q).commits;
    memset(&rd, 0, sizeof(rd));
    rd.outcomes = &o;
    rd.noutcomes = 1;
    rd.now_ms = igw_now_ms();
    rd.max = 8;
    rd.filter = filter_all;
    rd.out = c;
    IGWT_OK(igw_queue_round_start(q, &rd, notified, &notes));
    igw_queue_round_wait(q, &rd);
    IGWT_CHECK(notes == 1);
    IGWT_OK(rd.complete_rv);
    IGWT_ASSERT(rd.n == 1 && c[0].id == id2); /* promoted by the outcome in the same round */
    IGWT_CHECK(qc_stats(q).commits == commits + 1);
    qc_fini_claims(c, rd.n);
    IGWT_CHECK(qc_stats(q).delivered == 1 && qc_stats(q).inflight == 1);
    igw_queue_close(q);

    q = qc_reopen(); /* in flight returns to pending; its route is known after reopen */
    memset(&rd, 0, sizeof(rd));
    rd.now_ms = igw_now_ms();
    rd.max = 8;
    rd.filter = filter_all;
    rd.out = c;
    IGWT_OK(igw_queue_round_start(q, &rd, NULL, NULL));
    while (!igw_queue_round_done(q, &rd)) {
        usleep(1000);
    }
    IGWT_ASSERT(rd.n == 1 && c[0].id == id2);
    qc_fini_claims(c, rd.n);
    memset(&rd, 0, sizeof(rd)); /* nothing to do: done at once, no commit */
    commits = qc_stats(q).commits;
    IGWT_OK(igw_queue_round_start(q, &rd, notified, &notes));
    IGWT_CHECK(igw_queue_round_done(q, &rd));
    IGWT_CHECK(qc_stats(q).commits == commits && notes == 1);
    qc_finish(q);
}

const struct igwt_case qc_cases_deliver[] = {
    {"submit_claim_complete", test_submit_claim_complete},
    {"retry", test_retry},
    {"dead_release", test_dead_release},
    {"ordering", test_ordering},
    {"ordering_backlog", test_ordering_backlog},
    {"filter", test_filter},
    {"round", test_round},
    {NULL, NULL},
};
