/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Queue contract, storage: idempotency, restart recovery, purge, sweep, stats, events, close
 * with requests pending, refused messages, allocation failures, the id's external form.
 */
#define IGWT_PART
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "contract.h"

static void
test_idempotency(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;

    qc_idem_basics(q, &m, &r);
    qc_finish(q);
}

/* ---- idempotency under concurrency ------------------------------------------------------- */

/* 8 threads submit the same key at once: one message, 7 duplicates with its id. */
static void
test_idempotency_concurrent(void)
{
    igw_queue *q = qc_open(0);
    pthread_t th[8];
    int ndup = 0;

    qc_same_reset(q);
    for (int i = 0; i < 8; i++) {
        pthread_create(&th[i], NULL, qc_same_thread, (void *)(intptr_t)i);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
    }
    qc_same_wait(8);
    for (int i = 0; i < 8; i++) {
        IGWT_CHECK(qc_same.rvs[i] == IGW_OK && qc_same.ids[i] == qc_same.ids[0]);
        ndup += qc_same.dups[i] ? 1 : 0;
    }
    IGWT_CHECK(ndup == 7);
    IGWT_CHECK(qc_stats(q).messages == 1);
    qc_finish(q);
}

static void
test_recovery(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[2];
    struct igw_queue_stats s;
    uint64_t id = qc_put1(q, "r", "k", "x");
    uint64_t gone = qc_put1(q, NULL, NULL, "purged later");

    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 1);
    qc_fini_claims(c, 1);
    IGWT_OK(igw_queue_purge(q, gone));
    igw_queue_close(q); /* the claim is never completed */
    q = qc_reopen();
    s = qc_stats(q);
    IGWT_CHECK(s.inflight == 0 && s.pending == 1 && s.messages == 1);
    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 1);
    IGWT_CHECK(c[0].id == id && c[0].attempts == 0);
    qc_fini_claims(c, 1);
    IGWT_CHECK(qc_put1(q, NULL, NULL, "new") == gone + 1); /* ids are never reused */
    qc_finish(q);
}

static void
test_purge(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_init r[3] = {
        {"a", "k", 1, "pa", 2, NULL}, {"b", NULL, 0, NULL, 0, NULL}, {"c", NULL, 0, NULL, 0, NULL}};
    struct igw_queue_msg m;
    struct igw_queue_claim c[4];
    struct igw_queue_delivery_info di[4];
    struct igw_queue_stats s;
    uint64_t id = 0;
    uint64_t id2 = 0;
    bool dup = false;
    unsigned n;

    qc_init_msg(&m, "ch", "body", r, 3);
    m.idem_key = "p1";
    m.idem_key_len = 2;
    IGWT_OK(igw_queue_put(q, &m, &id, &dup));
    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 2); /* a and b in flight, c pending */
    qc_done(q, id, "b", IGW_DELIVER_FAIL, 0);
    IGWT_OK(igw_queue_purge(q, id));
    s = qc_stats(q);
    IGWT_CHECK(s.messages == 0 && s.pending == 0 && s.inflight == 0 && s.dead == 0);
    IGWT_ERR(igw_queue_deliveries(q, id, di, 4, &n), IGW_ENOENT);
    IGWT_ERR(igw_queue_purge(q, id), IGW_ENOENT);
    IGWT_CHECK(igw_queue_next_due(q) == UINT64_MAX);
    qc_done(q, id, "a", IGW_DELIVER_OK, 0); /* the worker's late answer is ignored */
    IGWT_CHECK(qc_stats(q).delivered == 0);
    qc_fini_claims(c, 2);
    /* the idempotency key outlives the purge */
    IGWT_OK(igw_queue_put(q, &m, &id2, &dup));
    IGWT_CHECK(dup && id2 == id && qc_stats(q).messages == 0);
    /* the order key of "a" no longer blocks a new message with the same key */
    m.idem_key = NULL;
    IGWT_OK(igw_queue_put(q, &m, &id2, &dup));
    IGWT_CHECK(qc_claim(q, igw_now_ms(), c, 4) == 3);
    qc_fini_claims(c, 3);
    qc_finish(q);
}

static void
test_sweep(void)
{
    igw_queue *q = qc_open(60000);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    struct igw_queue_claim c[2];
    uint64_t now = igw_now_ms();
    uint64_t a = 0;
    uint64_t a2 = 0;
    uint64_t pending;
    unsigned removed = 99;
    bool dup;

    qc_init_msg(&m, "ch", "x", &r, 1);
    m.idem_key = "ik";
    m.idem_key_len = 2;
    IGWT_OK(igw_queue_put(q, &m, &a, &dup));
    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 1);
    qc_fini_claims(c, 1);
    qc_done(q, a, "r", IGW_DELIVER_OK, 0);
    qc_put1(q, NULL, NULL, "no routes");
    pending = qc_put1(q, "r", NULL, "pending");
    IGWT_OK(igw_queue_sweep(q, now, 100, &removed));
    IGWT_CHECK(removed == 0); /* too young */
    IGWT_OK(igw_queue_sweep(q, now + 120000, 100, &removed));
    IGWT_CHECK(removed == 3); /* a, the routeless message, the idempotency key */
    IGWT_CHECK(qc_stats(q).messages == 1 && qc_stats(q).delivered == 0 && qc_stats(q).pending == 1);
    IGWT_OK(igw_queue_deliveries(q, pending, NULL, 0, &removed));
    IGWT_OK(igw_queue_put(q, &m, &a2, &dup));
    IGWT_CHECK(!dup && a2 > pending); /* the expired key was removed */
    for (int i = 0; i < 5; i++) {
        qc_put1(q, NULL, NULL, "z");
    }
    IGWT_OK(igw_queue_sweep(q, now + 120000, 2, &removed));
    IGWT_CHECK(removed == 2);
    IGWT_OK(igw_queue_sweep(q, now + 120000, 2, &removed));
    IGWT_CHECK(removed == 2);
    IGWT_OK(igw_queue_sweep(q, now + 120000, 2, &removed));
    IGWT_CHECK(removed == 2); /* the last routeless message and the key of a2 */
    IGWT_OK(igw_queue_sweep(q, now + 120000, 2, &removed));
    IGWT_CHECK(removed == 0);
    IGWT_CHECK(qc_stats(q).messages == 2); /* pending and a2 */
    qc_finish(q);
}

static void
test_stats(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[4];
    struct igw_queue_stats s;
    uint64_t ids[4];

    for (int i = 0; i < 4; i++) {
        ids[i] = qc_put1(q, "r", NULL, "m");
    }
    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 3) == 3);
    qc_fini_claims(c, 3);
    qc_done(q, ids[0], "r", IGW_DELIVER_OK, 0);
    qc_done(q, ids[1], "r", IGW_DELIVER_FAIL, 0);
    s = qc_stats(q);
    IGWT_CHECK(s.messages == 4 && s.pending == 1 && s.inflight == 1 && s.delivered == 1 &&
               s.dead == 1);
    IGWT_CHECK(!s.full && s.commits >= 7);
    igw_queue_close(q);
    q = qc_reopen(); /* counters persist; the in-flight one is pending again */
    s = qc_stats(q);
    IGWT_CHECK(s.messages == 4 && s.pending == 2 && s.inflight == 0 && s.delivered == 1 &&
               s.dead == 1);
    qc_finish(q);
}

/* ---- events ------------------------------------------------------------------------------ */

struct evlog {
    int n;
    enum igw_queue_event_kind kind[32];
    uint32_t attempts[32];
    char text[32][64];
};

static void
ev_listener(void *arg, const struct igw_queue_event *ev)
{
    struct evlog *l = arg;
    if (l->n < 32) {
        l->kind[l->n] = ev->kind;
        l->attempts[l->n] = ev->attempts;
        snprintf(l->text[l->n], sizeof(l->text[0]), "%s/%s/%s", ev->channel ? ev->channel : "-",
                 ev->route ? ev->route : "-", ev->error ? ev->error : "-");
        l->n++;
    }
}

static void
test_events(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[2];
    struct evlog l;
    uint64_t id;

    memset(&l, 0, sizeof(l));
    igw_queue_set_listener(q, ev_listener, &l);
    id = qc_put1(q, "r", NULL, "x");
    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 1);
    qc_fini_claims(c, 1);
    qc_done(q, id, "r", IGW_DELIVER_RETRY, 0);
    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 1);
    qc_fini_claims(c, 1);
    qc_done(q, id, "r", IGW_DELIVER_FAIL, 0);
    IGWT_OK(igw_queue_release(q, id, NULL, NULL));
    IGWT_ASSERT(qc_claim(q, igw_now_ms(), c, 2) == 1);
    qc_fini_claims(c, 1);
    qc_done(q, id, "r", IGW_DELIVER_OK, 0);
    IGWT_OK(igw_queue_purge(q, id));
    igw_queue_set_listener(q, NULL, NULL);
    qc_put1(q, "r", NULL, "unseen");
    IGWT_ASSERT(l.n == 6);
    IGWT_CHECK(l.kind[0] == IGW_QEV_ACCEPTED);
    IGWT_STREQ(l.text[0], "ch/-/-");
    IGWT_CHECK(l.kind[1] == IGW_QEV_RETRY && l.attempts[1] == 1);
    IGWT_STREQ(l.text[1], "ch/r/HTTP 503");
    IGWT_CHECK(l.kind[2] == IGW_QEV_DEAD && l.attempts[2] == 2);
    IGWT_CHECK(l.kind[3] == IGW_QEV_RELEASED && l.attempts[3] == 0);
    IGWT_CHECK(l.kind[4] == IGW_QEV_DELIVERED && l.attempts[4] == 1);
    IGWT_STREQ(l.text[4], "ch/r/-");
    IGWT_CHECK(l.kind[5] == IGW_QEV_PURGED);
    IGWT_STREQ(l.text[5], "ch/-/-");
    qc_finish(q);
}

static void
test_close_pending(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;

    qc_async_reset();
    qc_init_msg(&m, "ch", "x", &r, 1);
    for (int i = 0; i < 500; i++) {
        IGWT_OK(igw_queue_submit(q, &m, qc_async_cb, NULL));
    }
    igw_queue_close(q);
    IGWT_CHECK(qc_async_done.n == 500 && qc_async_done.bad == 0);
    q = qc_reopen();
    IGWT_CHECK(qc_stats(q).messages == 500 && qc_stats(q).pending == 500);
    qc_finish(q);
}

static void
test_invalid(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_init r[2] = {{"a", NULL, 0, NULL, 0, NULL},
                                        {"a", NULL, 0, NULL, 0, NULL}};
    struct igw_queue_msg m;
    char longname[IGW_QUEUE_NAME_MAX + 2];
    char bigkey[IGW_QUEUE_ORDER_KEY_MAX + 1];

    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    memset(bigkey, 'k', sizeof(bigkey));
    qc_init_msg(&m, "ch", "x", r, 2);
    IGWT_ERR(igw_queue_put(q, &m, NULL, NULL), IGW_EINVAL); /* duplicate route */
    m.nroutes = 1;
    m.channel = longname;
    IGWT_ERR(igw_queue_put(q, &m, NULL, NULL), IGW_EINVAL);
    m.channel = "";
    IGWT_ERR(igw_queue_put(q, &m, NULL, NULL), IGW_EINVAL);
    m.channel = "ch";
    r[0].order_key = bigkey;
    r[0].order_key_len = sizeof(bigkey);
    IGWT_ERR(igw_queue_put(q, &m, NULL, NULL), IGW_ETOOBIG);
    r[0].order_key_len = sizeof(bigkey) - 1;
    IGWT_OK(igw_queue_put(q, &m, NULL, NULL));
    qc_finish(q);
}

/* Every allocation that fails yields IGW_ENOMEM (or success), never a crash, leak or loss. */
static void
test_oom(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_init r = {"r", NULL, 0, "payload", 7, "text/plain"};
    struct igw_queue_msg m;
    struct igw_queue_claim c[2];
    unsigned ok_puts = 0;
    unsigned claimed = 0;

    qc_init_msg(&m, "ch", "body", &r, 1);
    for (long n = 0; n < 12; n++) {
        unsigned k = 0;
        int rv;
        igw_alloc_fail_after(n);
        rv = igw_queue_put(q, &m, NULL, NULL);
        IGWT_CHECK(rv == IGW_OK || rv == IGW_ENOMEM);
        ok_puts += rv == IGW_OK ? 1 : 0;
        igw_alloc_fail_after(n);
        rv = igw_queue_claim(q, QC_FAR_FUTURE, 2, NULL, NULL, c, &k);
        igw_alloc_fail_after(-1);
        IGWT_CHECK(rv == IGW_OK || rv == IGW_ENOMEM);
        IGWT_CHECK(rv == IGW_OK || k == 0);
        claimed += k;
        qc_fini_claims(c, k);
    }
    igw_alloc_fail_after(-1);
    IGWT_CHECK(ok_puts > 0 && claimed > 0);
    IGWT_CHECK(qc_stats(q).messages == ok_puts);
    IGWT_CHECK(qc_stats(q).pending + qc_stats(q).inflight == ok_puts &&
               qc_stats(q).inflight == claimed);
    qc_finish(q);
}

static void
test_id_format(void)
{
    char s[IGW_QUEUE_ID_STRLEN];
    uint64_t id = 0;

    igw_queue_id_format(0x0123456789abcdefull, s);
    IGWT_STREQ(s, "0123456789abcdef");
    IGWT_OK(igw_queue_id_parse(s, &id));
    IGWT_CHECK(id == 0x0123456789abcdefull);
    igw_queue_id_format(UINT64_MAX, s);
    IGWT_OK(igw_queue_id_parse(s, &id));
    IGWT_CHECK(id == UINT64_MAX);
    IGWT_ERR(igw_queue_id_parse("123", &id), IGW_EINVAL);
    IGWT_ERR(igw_queue_id_parse("0123456789abcdeg", &id), IGW_EINVAL);
    IGWT_ERR(igw_queue_id_parse("0123456789abcdef0", &id), IGW_EINVAL);
    IGWT_ERR(igw_queue_id_parse(NULL, &id), IGW_EINVAL);
}

const struct igwt_case qc_cases_store[] = {
    {"idempotency", test_idempotency},
    {"idempotency_concurrent", test_idempotency_concurrent},
    {"recovery", test_recovery},
    {"purge", test_purge},
    {"sweep", test_sweep},
    {"stats", test_stats},
    {"events", test_events},
    {"close_pending", test_close_pending},
    {"invalid", test_invalid},
    {"oom", test_oom},
    {"id_format", test_id_format},
    {NULL, NULL},
};
