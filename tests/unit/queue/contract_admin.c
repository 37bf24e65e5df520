/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Contract cases of the admin operations (include/igw/queue.h "listing, per-route counts,
 * attempts"; igw_queue_retry_now, igw_queue_release's count, several listeners): what every
 * backend must do, whatever its indexes.
 */
#define IGWT_PART
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "contract.h"

#define LMAX 64

/* Lists with f (all pages, 500 at a time) into ids; returns how many. */
static unsigned
list_all(igw_queue *q, const struct igw_queue_filter *f, uint64_t *ids, unsigned max)
{
    struct igw_queue_list_item it[LMAX];
    struct igw_queue_list_page pg;
    uint64_t before = 0;
    unsigned n = 0;

    do {
        IGWT_OK(igw_queue_list(q, f, before, LMAX, it, &pg));
        for (unsigned i = 0; i < pg.n && n < max; i++) {
            ids[n++] = it[i].id;
        }
        before = pg.next;
    } while (before != 0);
    return n;
}

/* A message on channel with routes r1 (order key okey, may be NULL) and r2, body. */
static uint64_t
put2(igw_queue *q, const char *channel, const char *okey, const char *body, const char *idem)
{
    struct igw_queue_route_init r[2] = {{"r1", okey, okey ? strlen(okey) : 0, "P1", 2, "text/x"},
                                        {"r2", NULL, 0, NULL, 0, NULL}};
    struct igw_queue_msg m;
    uint64_t id = 0;
    bool dup = true;

    qc_init_msg(&m, channel, body, r, 2);
    m.idem_key = idem;
    m.idem_key_len = idem != NULL ? strlen(idem) : 0;
    IGWT_OK(igw_queue_put(q, &m, &id, &dup));
    IGWT_CHECK(!dup);
    return id;
}

/* Claims everything due now and completes (id, route) with res; the other claims go back. */
static void
finish_one(igw_queue *q, uint64_t id, const char *route, enum igw_deliver_result res)
{
    struct igw_queue_claim c[LMAX];
    unsigned n = qc_claim(q, igw_now_ms() + 1, c, LMAX);
    bool found = false;

    for (unsigned i = 0; i < n; i++) {
        if (c[i].id == id && strcmp(c[i].route, route) == 0) {
            found = true;
            qc_done(q, id, route, res, QC_FAR_FUTURE);
        } else {
            struct igw_queue_outcome o;
            memset(&o, 0, sizeof(o));
            o.id = c[i].id;
            o.route = c[i].route;
            o.result = IGW_DELIVER_RETRY;
            o.released = true;
            o.next_due_ms = 0;
            IGWT_OK(igw_queue_complete(q, &o, 1));
        }
    }
    qc_fini_claims(c, n);
    IGWT_CHECK(found);
}

static void
test_list_filters(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_filter f;
    uint64_t ids[LMAX];
    uint64_t a = put2(q, "ch", "k1", "alpha needle", "i-a");
    uint64_t b = put2(q, "ch", "k2", "beta", NULL);
    uint64_t c = put2(q, "other", "k1", "gamma needle", "i-c");
    uint64_t d = put2(q, "other", NULL, "delta", NULL);
    unsigned n;

    finish_one(q, b, "r1", IGW_DELIVER_FAIL); /* b: r1 dead */
    finish_one(q, c, "r2", IGW_DELIVER_OK);   /* c: r2 delivered */
    memset(&f, 0, sizeof(f));
    n = list_all(q, &f, ids, LMAX); /* everything, newest first */
    IGWT_CHECK(n == 4 && ids[0] == d && ids[1] == c && ids[2] == b && ids[3] == a);
    f.channel = "other";
    n = list_all(q, &f, ids, LMAX);
    IGWT_CHECK(n == 2 && ids[0] == d && ids[1] == c);
    memset(&f, 0, sizeof(f));
    f.state = IGW_DS_DEAD;
    n = list_all(q, &f, ids, LMAX);
    IGWT_CHECK(n == 1 && ids[0] == b);
    f.route = "r2";
    IGWT_CHECK(list_all(q, &f, ids, LMAX) == 0); /* b's r2 is not dead */
    f.state = IGW_DS_DELIVERED;
    n = list_all(q, &f, ids, LMAX);
    IGWT_CHECK(n == 1 && ids[0] == c);
    f.state = 0;
    IGWT_CHECK(list_all(q, &f, ids, LMAX) == 4); /* every message has r2 */
    f.route = "nope";
    IGWT_CHECK(list_all(q, &f, ids, LMAX) == 0);
    memset(&f, 0, sizeof(f));
    f.order_key = "k1";
    f.order_key_len = 2;
    n = list_all(q, &f, ids, LMAX);
    IGWT_CHECK(n == 2 && ids[0] == c && ids[1] == a);
    f.channel = "ch";
    n = list_all(q, &f, ids, LMAX);
    IGWT_CHECK(n == 1 && ids[0] == a);
    memset(&f, 0, sizeof(f));
    f.channel = "other";
    f.idem_key = "i-c";
    f.idem_key_len = 3;
    n = list_all(q, &f, ids, LMAX);
    IGWT_CHECK(n == 1 && ids[0] == c);
    f.channel = "ch"; /* the key is per channel */
    IGWT_CHECK(list_all(q, &f, ids, LMAX) == 0);
    f.channel = NULL;
    {
        struct igw_queue_list_item it[4];
        struct igw_queue_list_page pg;
        IGWT_ERR(igw_queue_list(q, &f, 0, 4, it, &pg), IGW_EINVAL); /* idem without channel */
    }
    memset(&f, 0, sizeof(f));
    f.text = "needle";
    f.text_len = 6;
    n = list_all(q, &f, ids, LMAX);
    IGWT_CHECK(n == 2 && ids[0] == c && ids[1] == a);
    f.state = IGW_DS_PENDING;
    f.channel = "ch";
    n = list_all(q, &f, ids, LMAX);
    IGWT_CHECK(n == 1 && ids[0] == a);
    memset(&f, 0, sizeof(f));
    f.since_ms = igw_now_ms() + 100000; /* nothing created in the future */
    IGWT_CHECK(list_all(q, &f, ids, LMAX) == 0);
    f.since_ms = 1;
    f.until_ms = igw_now_ms() + 100000;
    IGWT_CHECK(list_all(q, &f, ids, LMAX) == 4);
    f.until_ms = 1; /* nothing before 1970 + 1 ms */
    IGWT_CHECK(list_all(q, &f, ids, LMAX) == 0);
    qc_finish(q);
}

/* The overall state of an item, and paging with new messages arriving between pages. */
static void
test_list_paging(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_list_item it[7];
    struct igw_queue_list_page pg;
    uint64_t first[30];
    uint64_t seen[LMAX];
    uint64_t before = 0;
    unsigned nseen = 0;

    for (int i = 0; i < 30; i++) {
        first[i] = put2(q, "ch", NULL, "x", NULL);
    }
    do {
        IGWT_OK(igw_queue_list(q, NULL, before, 7, it, &pg));
        for (unsigned i = 0; i < pg.n; i++) {
            IGWT_CHECK(it[i].state == IGW_DS_PENDING && strcmp(it[i].channel, "ch") == 0 &&
                       it[i].body_len == 1);
            IGWT_CHECK(nseen == 0 || it[i].id < seen[nseen - 1]); /* strictly older: no dup */
            seen[nseen++] = it[i].id;
        }
        before = pg.next;
        (void)put2(q, "ch", NULL, "new", NULL); /* arrivals never shift the next page */
    } while (before != 0 && nseen < LMAX);
    IGWT_CHECK(nseen == 30);
    for (unsigned i = 0; i < 30 && nseen == 30; i++) {
        IGWT_CHECK(seen[i] == first[29 - i]); /* no gap */
    }
    IGWT_OK(igw_queue_list(q, NULL, 0, 1, it, &pg));
    IGWT_CHECK(pg.n == 1 && pg.next == it[0].id && !pg.partial);
    finish_one(q, first[0], "r2", IGW_DELIVER_FAIL);
    IGWT_OK(igw_queue_list(q, NULL, first[0] + 1, 1, it, &pg));
    IGWT_CHECK(pg.n == 1 && it[0].id == first[0] && it[0].state == IGW_DS_DEAD && pg.next == 0);
    qc_finish(q);
}

/* Attempts: the first and the last ones kept, the total counted; survives a restart. */
static void
test_attempts(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_attempt at[IGW_QUEUE_ATTEMPTS_KEPT + 4];
    uint64_t id = qc_put1(q, "r", NULL, "b");
    uint32_t total = 0;
    unsigned n = 0;

    IGWT_OK(igw_queue_attempts(q, id, "r", at, 4, &n, &total));
    IGWT_CHECK(n == 0 && total == 0);
    for (int i = 0; i < 20; i++) {
        struct igw_queue_claim c[2];
        struct igw_queue_outcome o;
        IGWT_ASSERT(qc_claim(q, igw_now_ms() + 1, c, 2) == 1);
        qc_fini_claims(c, 1);
        memset(&o, 0, sizeof(o));
        o.id = id;
        o.route = "r";
        o.result = IGW_DELIVER_RETRY;
        o.next_due_ms = 0;
        o.error = "HTTP 503";
        o.status = 503;
        o.duration_ms = (uint32_t)(100 + i);
        IGWT_OK(igw_queue_complete(q, &o, 1));
    }
    igw_queue_close(q);
    q = qc_reopen();
    IGWT_OK(igw_queue_attempts(q, id, "r", at, IGW_QUEUE_ATTEMPTS_KEPT + 4, &n, &total));
    IGWT_CHECK(n == IGW_QUEUE_ATTEMPTS_KEPT && total == 20);
    IGWT_CHECK(at[0].n == 1 && at[0].duration_ms == 100 && at[0].status == 503 &&
               at[0].result == IGW_DELIVER_RETRY && strcmp(at[0].error, "HTTP 503") == 0 &&
               at[0].time_ms > 0);
    IGWT_CHECK(at[1].n == 20 - IGW_QUEUE_ATTEMPTS_KEPT + 2 && at[n - 1].n == 20 &&
               at[n - 1].duration_ms == 119);
    IGWT_OK(igw_queue_attempts(q, id, "other", at, 4, &n, &total));
    IGWT_CHECK(n == 0 && total == 0);
    IGWT_ERR(igw_queue_attempts(q, id, NULL, at, 4, &n, &total), IGW_EINVAL);
    IGWT_OK(igw_queue_purge(q, id));
    IGWT_OK(igw_queue_attempts(q, id, "r", at, 4, &n, &total));
    IGWT_CHECK(n == 0 && total == 0); /* purged with the message */
    qc_finish(q);
}

/* retry_now and release count what they changed; nothing to do is 0, not an error. */
static void
test_retry_release_counts(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_claim c[4];
    uint64_t id = put2(q, "ch", NULL, "b", NULL);
    unsigned n = 9;

    IGWT_OK(igw_queue_retry_now(q, id, NULL, &n));
    IGWT_CHECK(n == 0); /* both due now already */
    IGWT_OK(igw_queue_release(q, id, NULL, &n));
    IGWT_CHECK(n == 0); /* nothing dead */
    IGWT_ASSERT(qc_claim(q, igw_now_ms() + 1, c, 4) == 2);
    qc_fini_claims(c, 2);
    qc_done(q, id, "r1", IGW_DELIVER_RETRY, QC_FAR_FUTURE);
    qc_done(q, id, "r2", IGW_DELIVER_FAIL, 0);
    IGWT_CHECK(qc_claim(q, igw_now_ms() + 1, c, 4) == 0); /* r1 waits for its backoff */
    IGWT_OK(igw_queue_retry_now(q, id, "r2", &n));
    IGWT_CHECK(n == 0); /* r2 is dead, not pending */
    IGWT_OK(igw_queue_retry_now(q, id, NULL, &n));
    IGWT_CHECK(n == 1);
    IGWT_ASSERT(qc_claim(q, igw_now_ms() + 1, c, 4) == 1);
    IGWT_CHECK(strcmp(c[0].route, "r1") == 0 && c[0].attempts == 1); /* attempts kept */
    qc_fini_claims(c, 1);
    IGWT_OK(igw_queue_release(q, id, "r1", &n));
    IGWT_CHECK(n == 0);
    IGWT_OK(igw_queue_release(q, id, NULL, &n));
    IGWT_CHECK(n == 1);
    IGWT_OK(igw_queue_release(q, id, NULL, &n));
    IGWT_CHECK(n == 0); /* a second release finds nothing */
    IGWT_ERR(igw_queue_retry_now(q, id + 100, NULL, &n), IGW_ENOENT);
    IGWT_ERR(igw_queue_retry_now(q, id, "nope", &n), IGW_ENOENT);
    IGWT_ERR(igw_queue_retry_now(NULL, id, NULL, &n), IGW_EINVAL);
    qc_finish(q);
}

static struct igw_queue_route_stats *
rstat(struct igw_queue_route_stats *rs, unsigned n, const char *route)
{
    for (unsigned i = 0; i < n; i++) {
        if (strcmp(rs[i].route, route) == 0) {
            return &rs[i];
        }
    }
    return NULL;
}

/* Per-route and per-channel counters follow every transition, also across a restart. */
static void
test_route_stats(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_route_stats rs[8];
    struct igw_queue_channel_stats cs[8];
    struct igw_queue_route_stats *r1;
    struct igw_queue_route_stats *r2;
    uint64_t t0 = igw_now_ms();
    uint64_t a = put2(q, "ch", NULL, "a", NULL);
    uint64_t b = put2(q, "ch", NULL, "b", NULL);
    unsigned n = 0;

    (void)put2(q, "other", NULL, "c", NULL);
    finish_one(q, a, "r1", IGW_DELIVER_OK);
    finish_one(q, b, "r1", IGW_DELIVER_FAIL);
    igw_queue_close(q);
    q = qc_reopen();
    IGWT_OK(igw_queue_route_stats(q, rs, 8, &n));
    r1 = rstat(rs, n, "r1");
    r2 = rstat(rs, n, "r2");
    IGWT_ASSERT(n == 2 && r1 != NULL && r2 != NULL);
    IGWT_CHECK(r1->pending == 1 && r1->inflight == 0 && r1->delivered == 1 && r1->dead == 1);
    IGWT_CHECK(r2->pending == 3 && r2->delivered == 0 && r2->dead == 0);
    IGWT_CHECK(r2->oldest_pending_ms >= t0 && r2->oldest_pending_ms <= igw_now_ms());
    IGWT_OK(igw_queue_channel_stats(q, cs, 8, &n));
    IGWT_CHECK(n == 2 && strcmp(cs[0].channel, "ch") == 0 && cs[0].messages == 2 &&
               strcmp(cs[1].channel, "other") == 0 && cs[1].messages == 1);
    IGWT_OK(igw_queue_purge(q, b));
    IGWT_OK(igw_queue_route_stats(q, rs, 8, &n));
    r1 = rstat(rs, n, "r1");
    IGWT_CHECK(r1 != NULL && r1->dead == 0 && r1->delivered == 1 && r1->pending == 1);
    IGWT_OK(igw_queue_channel_stats(q, cs, 8, &n));
    IGWT_CHECK(n == 2 && cs[0].messages == 1);
    IGWT_OK(igw_queue_route_stats(q, rs, 1, &n));
    IGWT_CHECK(n == 1);
    IGWT_ERR(igw_queue_route_stats(q, NULL, 1, &n), IGW_EINVAL);
    qc_finish(q);
}

static void
test_payload_get(void)
{
    igw_queue *q = qc_open(0);
    struct igw_queue_payload p;
    uint64_t id = put2(q, "ch", NULL, "orig", NULL);

    IGWT_OK(igw_queue_payload_get(q, id, "r1", &p));
    IGWT_CHECK(p.data.len == 2 && memcmp(p.data.ptr, "P1", 2) == 0 && p.content_type != NULL &&
               strcmp(p.content_type, "text/x") == 0);
    igw_queue_payload_fini(&p);
    IGWT_ERR(igw_queue_payload_get(q, id, "r2", &p), IGW_ENOENT); /* delivers the original */
    igw_queue_payload_fini(&p);
    IGWT_ERR(igw_queue_payload_get(q, id + 1, "r1", &p), IGW_ENOENT);
    igw_queue_payload_fini(&p);
    qc_finish(q);
}

struct lcount {
    int n;
    pthread_mutex_t mu;
};

static void
count_ev(void *arg, const struct igw_queue_event *ev)
{
    struct lcount *c = arg;
    pthread_mutex_lock(&c->mu);
    c->n += ev->kind == IGW_QEV_ACCEPTED ? 1 : 0;
    pthread_mutex_unlock(&c->mu);
}

static int
lcount_get(struct lcount *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Waits up to 2 s until c has seen n events (the events of a commit are dispatched on the
 * backend's thread, maybe just after the blocking put returned). */
static bool
lcount_wait(struct lcount *c, int n)
{
    for (int i = 0; i < 200 && lcount_get(c) < n; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return lcount_get(c) == n;
}

/* Several listeners see every event; a removed one none. */
static void
test_listeners(void)
{
    igw_queue *q = qc_open(0);
    struct lcount a = {0, PTHREAD_MUTEX_INITIALIZER};
    struct lcount b = {0, PTHREAD_MUTEX_INITIALIZER};
    struct lcount c = {0, PTHREAD_MUTEX_INITIALIZER};

    igw_queue_set_listener(q, count_ev, &a);
    IGWT_OK(igw_queue_listener_add(q, count_ev, &b));
    IGWT_OK(igw_queue_listener_add(q, count_ev, &c));
    (void)qc_put1(q, "r", NULL, "1");
    IGWT_CHECK(lcount_wait(&a, 1) && lcount_wait(&b, 1) && lcount_wait(&c, 1));
    igw_queue_listener_remove(q, count_ev, &c);
    (void)qc_put1(q, "r", NULL, "2");
    IGWT_CHECK(lcount_wait(&a, 2) && lcount_wait(&b, 2));
    igw_queue_set_listener(q, NULL, NULL);
    (void)qc_put1(q, "r", NULL, "3");
    IGWT_CHECK(lcount_wait(&b, 3));
    IGWT_CHECK(lcount_get(&a) == 2 && lcount_get(&c) == 1);
    for (int i = 0; i < IGW_QUEUE_LISTENERS_MAX - 2; i++) {
        (void)igw_queue_listener_add(q, count_ev, &c);
    }
    IGWT_ERR(igw_queue_listener_add(q, count_ev, &c), IGW_ENOSPC);
    IGWT_ERR(igw_queue_listener_add(q, NULL, &c), IGW_EINVAL);
    igw_queue_listener_remove(q, count_ev, &c);
    igw_queue_listener_remove(q, count_ev, &b);
    qc_finish(q);
}

/* A text search over more bodies than one call may search: the pages come back partial with
 * a cursor that goes on where the search stopped, and following it finds every match once. */
static void
test_list_text_budget(void)
{
    igw_queue *q = qc_open(0);
    unsigned total = IGW_QUEUE_TEXT_BUDGET + 300;
    struct igw_queue_list_item it[8];
    struct igw_queue_list_page pg;
    struct igw_queue_filter f;
    struct igw_queue_msg m;
    uint64_t found[8];
    uint64_t before = 0;
    unsigned nfound = 0;
    unsigned partials = 0;
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};

    qc_async_reset();
    for (unsigned i = 0; i < total; i++) {
        qc_init_msg(&m, "ch", i == 0 || i == total - 1 || i == 1000 ? "a needle" : "hay", &r, 1);
        IGWT_OK(igw_queue_submit(q, &m, qc_async_cb, NULL));
    }
    pthread_mutex_lock(&qc_async_done.mu);
    while (qc_async_done.n < (int)total) {
        pthread_cond_wait(&qc_async_done.cv, &qc_async_done.mu);
    }
    pthread_mutex_unlock(&qc_async_done.mu);
    IGWT_ASSERT(qc_async_done.bad == 0);
    memset(&f, 0, sizeof(f));
    f.text = "needle";
    f.text_len = 6;
    for (int call = 0; call < 20; call++) {
        IGWT_OK(igw_queue_list(q, &f, before, 8, it, &pg));
        for (unsigned i = 0; i < pg.n && nfound < 8; i++) {
            found[nfound++] = it[i].id;
        }
        partials += pg.partial ? 1 : 0;
        before = pg.next;
        if (before == 0) {
            break;
        }
    }
    IGWT_CHECK(before == 0 && partials >= 1);
    IGWT_CHECK(nfound == 3 && found[0] > found[1] && found[1] > found[2]);
    qc_finish(q);
}

const struct igwt_case qc_cases_admin[] = {
    {"list_text_budget", test_list_text_budget},
    {"list_filters", test_list_filters},
    {"list_paging", test_list_paging},
    {"attempts", test_attempts},
    {"retry_release_counts", test_retry_release_counts},
    {"route_stats", test_route_stats},
    {"payload_get", test_payload_get},
    {"listeners", test_listeners},
    {NULL, NULL},
};
