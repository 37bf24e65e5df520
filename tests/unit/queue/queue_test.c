/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the LMDB queue (queue/). Each case works in its own mkdtemp directory. */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/queue.h"
#include "igwt.h"
#include "igwt_tmp.h"
#include "igw/queue_lmdb.h"

#define FAR_FUTURE (igw_now_ms() + 1000000000ull)

/* ---- helpers ----------------------------------------------------------------------------- */

static char tmpdir[64];

static const char *
new_dir(void)
{
    IGWT_ASSERT(igwt_tmpdir(tmpdir, sizeof(tmpdir), "igwq") != NULL);
    return tmpdir;
}

static igw_queue *
open_q(const char *dir, uint64_t map_size, uint64_t retain_ms)
{
    struct igw_queue_lmdb_opts lo = {dir, map_size, 0, false};
    struct igw_queue_opts o;
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *q = NULL;
    int rv;

    memset(&o, 0, sizeof(o));
    o.backend_opts = &lo;
    o.retain_delivered_ms = retain_ms;
    o.retain_idempotency_ms = retain_ms;
    rv = igw_queue_open(&q, &o, err, sizeof(err));
    if (rv != IGW_OK) {
        fprintf(stderr, "  open: %s: %s\n", igw_strerror(rv), err);
    }
    IGWT_ASSERT(rv == IGW_OK && q != NULL);
    return q;
}

static void
init_msg(struct igw_queue_msg *m, const char *channel, const char *body,
         const struct igw_queue_route_init *routes, unsigned nroutes)
{
    memset(m, 0, sizeof(*m));
    m->channel = channel;
    m->content_type = "application/json";
    m->meta = "{\"h\":1}";
    m->meta_len = strlen(m->meta);
    m->body = body;
    m->body_len = strlen(body);
    m->routes = routes;
    m->nroutes = nroutes;
}

static uint64_t
put1(igw_queue *q, const char *route, const char *okey, const char *body)
{
    struct igw_queue_route_init r = {route, okey, okey ? strlen(okey) : 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    uint64_t id = 0;
    bool dup = true;

    init_msg(&m, "ch", body, &r, route ? 1 : 0);
    IGWT_OK(igw_queue_put(q, &m, &id, &dup));
    IGWT_CHECK(!dup);
    IGWT_CHECK(id != 0);
    return id;
}

static unsigned
claim(igw_queue *q, uint64_t now, struct igw_queue_claim *out, unsigned max)
{
    unsigned n = 99;
    IGWT_OK(igw_queue_claim(q, now, max, NULL, NULL, out, &n));
    return n;
}

static void
fini_claims(struct igw_queue_claim *c, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        igw_queue_claim_fini(&c[i]);
    }
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
    o.error = res == IGW_DELIVER_OK ? NULL : "HTTP 503";
    o.status = res == IGW_DELIVER_OK ? 200 : 503;
    o.response = res == IGW_DELIVER_FAIL ? "{\"err\":\"gone\"}" : NULL;
    o.response_len = o.response ? strlen(o.response) : 0;
    IGWT_OK(igw_queue_complete(q, &o, 1));
}

static struct igw_queue_stats
stats(igw_queue *q)
{
    struct igw_queue_stats s;
    IGWT_OK(igw_queue_stats(q, &s));
    return s;
}

/* ---- cases ------------------------------------------------------------------------------- */

static void
test_submit_claim_complete(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
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

    init_msg(&m, "openimis", "{\"a\":1}", r, 2);
    IGWT_OK(igw_queue_put(q, &m, &id, &dup));
    IGWT_CHECK(!dup && id == 1);
    IGWT_CHECK(igw_queue_next_due(q) <= igw_now_ms());
    n = claim(q, igw_now_ms(), c, 4);
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
    s = stats(q);
    IGWT_CHECK(s.messages == 1 && s.pending == 0 && s.inflight == 2);
    IGWT_CHECK(claim(q, igw_now_ms(), c + 2, 2) == 0);
    IGWT_CHECK(igw_queue_next_due(q) == UINT64_MAX);
    done(q, id, "dci", IGW_DELIVER_OK, 0);
    done(q, id, "fhir", IGW_DELIVER_OK, 0);
    fini_claims(c, n);
    s = stats(q);
    IGWT_CHECK(s.messages == 1 && s.inflight == 0 && s.delivered == 2 && s.dead == 0);
    IGWT_OK(igw_queue_deliveries(q, id, di, 4, &n));
    IGWT_CHECK(n == 2 && di[0].state == IGW_DS_DELIVERED && di[0].attempts == 1);
    IGWT_CHECK(di[1].last_status == 200 && di[1].state == IGW_DS_DELIVERED);
    IGWT_ERR(igw_queue_deliveries(q, id + 1, di, 4, &n), IGW_ENOENT);
    /* completing again is ignored */
    done(q, id, "dci", IGW_DELIVER_FAIL, 0);
    IGWT_CHECK(stats(q).dead == 0);
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static void
test_retry(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_claim c[2];
    struct igw_queue_delivery_info di[2];
    uint64_t id = put1(q, "r", NULL, "x");
    uint64_t t = igw_now_ms() + 5000;
    unsigned n;

    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 1);
    fini_claims(c, 1);
    done(q, id, "r", IGW_DELIVER_RETRY, t);
    IGWT_CHECK(igw_queue_next_due(q) == t);
    IGWT_OK(igw_queue_deliveries(q, id, di, 2, &n));
    IGWT_CHECK(n == 1 && di[0].state == IGW_DS_PENDING && di[0].attempts == 1);
    IGWT_CHECK(di[0].next_due_ms == t && di[0].last_status == 503);
    IGWT_STREQ(di[0].last_error, "HTTP 503");
    IGWT_CHECK(claim(q, t - 1, c, 2) == 0);
    IGWT_ASSERT(claim(q, t, c, 2) == 1);
    IGWT_CHECK(c[0].attempts == 1);
    fini_claims(c, 1);
    /* a release of the claim (shutdown) does not count as an attempt */
    {
        struct igw_queue_outcome o = {id, "r", IGW_DELIVER_RETRY, t + 7, NULL, NULL, 0, 0, true};
        IGWT_OK(igw_queue_complete(q, &o, 1));
    }
    IGWT_OK(igw_queue_deliveries(q, id, di, 2, &n));
    IGWT_CHECK(di[0].attempts == 1 && di[0].next_due_ms == t + 7);
    IGWT_CHECK(stats(q).pending == 1);
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static void
test_dead_release(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_claim c[2];
    struct igw_queue_delivery_info di[2];
    struct igw_queue_dead_info dead;
    uint64_t id = put1(q, "r", "k", "x");
    unsigned n;

    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 1);
    fini_claims(c, 1);
    done(q, id, "r", IGW_DELIVER_FAIL, 0);
    IGWT_CHECK(stats(q).dead == 1 && stats(q).inflight == 0);
    IGWT_OK(igw_queue_dead_get(q, id, "r", &dead));
    IGWT_CHECK(dead.status == 503 && dead.dead_ms > 0);
    IGWT_STREQ(dead.error, "HTTP 503");
    IGWT_CHECK(dead.response.len == 14 && memcmp(dead.response.ptr, "{\"err\":\"gone\"}", 14) == 0);
    igw_queue_dead_info_fini(&dead);
    IGWT_OK(igw_queue_deliveries(q, id, di, 2, &n));
    IGWT_CHECK(n == 1 && di[0].state == IGW_DS_DEAD && di[0].attempts == 1);
    IGWT_CHECK(claim(q, FAR_FUTURE, c, 2) == 0);
    IGWT_ERR(igw_queue_release(q, id + 5, NULL), IGW_ENOENT);
    IGWT_ERR(igw_queue_release(q, id, "nope"), IGW_ENOENT);
    IGWT_OK(igw_queue_release(q, id, NULL));
    IGWT_ERR(igw_queue_dead_get(q, id, "r", &dead), IGW_ENOENT);
    IGWT_CHECK(stats(q).dead == 0 && stats(q).pending == 1);
    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 1);
    IGWT_CHECK(c[0].attempts == 0);
    fini_claims(c, 1);
    done(q, id, "r", IGW_DELIVER_FAIL, 0);
    IGWT_OK(igw_queue_release(q, id, "r"));
    IGWT_CHECK(stats(q).pending == 1);
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static void
test_ordering(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_claim c[8];
    uint64_t a1 = put1(q, "r", "A", "a1");
    uint64_t a2 = put1(q, "r", "A", "a2");
    uint64_t b1 = put1(q, "r", "B", "b1");
    uint64_t u1 = put1(q, "r", NULL, "u1");
    uint64_t a3 = put1(q, "r", "A", "a3");
    uint64_t other = put1(q, "s", "A", "other route, same key");
    unsigned n = claim(q, FAR_FUTURE, c, 8);

    IGWT_ASSERT(n == 4);
    IGWT_CHECK(c[0].id == a1 && c[1].id == b1 && c[2].id == u1 && c[3].id == other);
    fini_claims(c, n);
    IGWT_CHECK(claim(q, FAR_FUTURE, c, 8) == 0);
    /* a retry keeps a1 first in line: a2 must still wait */
    done(q, a1, "r", IGW_DELIVER_RETRY, igw_now_ms() + 100000);
    IGWT_CHECK(claim(q, igw_now_ms(), c, 8) == 0);
    IGWT_ASSERT(claim(q, FAR_FUTURE, c, 8) == 1);
    IGWT_CHECK(c[0].id == a1);
    fini_claims(c, 1);
    done(q, a1, "r", IGW_DELIVER_OK, 0);
    IGWT_ASSERT(claim(q, FAR_FUTURE, c, 8) == 1);
    IGWT_CHECK(c[0].id == a2);
    fini_claims(c, 1);
    /* a dead letter does not block the key */
    done(q, a2, "r", IGW_DELIVER_FAIL, 0);
    IGWT_ASSERT(claim(q, FAR_FUTURE, c, 8) == 1);
    IGWT_CHECK(c[0].id == a3);
    fini_claims(c, 1);
    /* releasing the older dead letter puts it back in front (a3 is already in flight) */
    IGWT_OK(igw_queue_release(q, a2, NULL));
    IGWT_ASSERT(claim(q, FAR_FUTURE, c, 8) == 1);
    IGWT_CHECK(c[0].id == a2);
    fini_claims(c, 1);
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

/* Followers of a key have no due entry: a blocked backlog costs claims nothing. */
static void
test_ordering_backlog(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_claim c[4];
    uint64_t ids[50];

    for (int i = 0; i < 50; i++) {
        ids[i] = put1(q, "o", "K", "k");
    }
    IGWT_ASSERT(claim(q, FAR_FUTURE, c, 4) == 1);
    IGWT_CHECK(c[0].id == ids[0]);
    fini_claims(c, 1);
    IGWT_CHECK(igw_queue_next_due(q) == UINT64_MAX); /* 49 pending, none schedulable */
    IGWT_CHECK(stats(q).pending == 49);
    IGWT_OK(igw_queue_purge(q, ids[0])); /* purging the head promotes the next */
    IGWT_CHECK(igw_queue_next_due(q) != UINT64_MAX);
    IGWT_ASSERT(claim(q, FAR_FUTURE, c, 4) == 1);
    IGWT_CHECK(c[0].id == ids[1]);
    fini_claims(c, 1);
    IGWT_OK(igw_queue_purge(q, ids[2])); /* purging a follower changes nothing */
    done(q, ids[1], "o", IGW_DELIVER_OK, 0);
    IGWT_ASSERT(claim(q, FAR_FUTURE, c, 4) == 1);
    IGWT_CHECK(c[0].id == ids[3]);
    fini_claims(c, 1);
    igw_queue_close(q); /* recovery keeps the head and its followers */
    q = open_q(dir, 0, 0);
    IGWT_ASSERT(claim(q, FAR_FUTURE, c, 4) == 1);
    IGWT_CHECK(c[0].id == ids[3] && stats(q).pending == 46);
    fini_claims(c, 1);
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

/* ---- idempotency ------------------------------------------------------------------------- */

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered;
    bool open;
    int results;
    uint64_t ids[16];
    bool dups[16];
    int rvs[16];
};

static struct gate gate = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Listener that holds the writer thread on its first event until the gate opens. */
static void
gate_listener(void *arg, const struct igw_queue_event *ev)
{
    IGW_UNUSED(arg);
    IGW_UNUSED(ev);
    pthread_mutex_lock(&gate.mu);
    gate.entered = true;
    pthread_cond_broadcast(&gate.cv);
    while (!gate.open) {
        pthread_cond_wait(&gate.cv, &gate.mu);
    }
    pthread_mutex_unlock(&gate.mu);
}

static void
gate_done(void *arg, int rv, uint64_t id, bool duplicate)
{
    int i = (int)(intptr_t)arg;
    pthread_mutex_lock(&gate.mu);
    gate.ids[i] = id;
    gate.dups[i] = duplicate;
    gate.rvs[i] = rv;
    gate.results++;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
}

static igw_queue *idem_q;

static void *
idem_thread(void *arg)
{
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;

    init_msg(&m, "ch", "same", &r, 1);
    m.idem_key = "key-1";
    m.idem_key_len = 5;
    if (igw_queue_submit(idem_q, &m, gate_done, arg) != IGW_OK) {
        gate_done(arg, -1, 0, false);
    }
    return NULL;
}

static void
test_idempotency(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    pthread_t th[8];
    uint64_t id1 = 0;
    uint64_t id2 = 0;
    uint64_t commits;
    bool dup = true;
    int ndup = 0;

    init_msg(&m, "ch", "body", &r, 1);
    m.idem_key = "abc";
    m.idem_key_len = 3;
    IGWT_OK(igw_queue_put(q, &m, &id1, &dup));
    IGWT_CHECK(!dup);
    IGWT_OK(igw_queue_put(q, &m, &id2, &dup));
    IGWT_CHECK(dup && id2 == id1);
    m.channel = "other";
    IGWT_OK(igw_queue_put(q, &m, &id2, &dup));
    IGWT_CHECK(!dup && id2 != id1);
    IGWT_CHECK(stats(q).messages == 2 && stats(q).pending == 2);

    /* 8 threads submit the same key while the writer is held: one group, one message */
    idem_q = q;
    igw_queue_set_listener(q, gate_listener, NULL);
    m.idem_key = NULL; /* a new message: its ACCEPTED event holds the writer */
    IGWT_OK(igw_queue_submit(q, &m, gate_done, (void *)(intptr_t)15));
    pthread_mutex_lock(&gate.mu);
    while (!gate.entered) {
        pthread_cond_wait(&gate.cv, &gate.mu);
    }
    pthread_mutex_unlock(&gate.mu);
    commits = stats(q).commits;
    for (int i = 0; i < 8; i++) {
        pthread_create(&th[i], NULL, idem_thread, (void *)(intptr_t)i);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_mutex_lock(&gate.mu);
    gate.open = true;
    pthread_cond_broadcast(&gate.cv);
    while (gate.results < 9) {
        pthread_cond_wait(&gate.cv, &gate.mu);
    }
    pthread_mutex_unlock(&gate.mu);
    igw_queue_set_listener(q, NULL, NULL);
    for (int i = 0; i < 8; i++) {
        IGWT_CHECK(gate.rvs[i] == IGW_OK && gate.ids[i] == gate.ids[0]);
        ndup += gate.dups[i] ? 1 : 0;
    }
    IGWT_CHECK(ndup == 7);
    IGWT_CHECK(stats(q).commits == commits + 1); /* the 8 submits were one group */
    IGWT_CHECK(stats(q).messages == 4);          /* 2 before, the unkeyed one, one for key-1 */
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static void
test_recovery(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_claim c[2];
    struct igw_queue_stats s;
    uint64_t id = put1(q, "r", "k", "x");
    uint64_t gone = put1(q, NULL, NULL, "purged later");

    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 1);
    fini_claims(c, 1);
    IGWT_OK(igw_queue_purge(q, gone));
    igw_queue_close(q); /* the claim is never completed */
    q = open_q(dir, 0, 0);
    s = stats(q);
    IGWT_CHECK(s.inflight == 0 && s.pending == 1 && s.messages == 1);
    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 1);
    IGWT_CHECK(c[0].id == id && c[0].attempts == 0);
    fini_claims(c, 1);
    IGWT_CHECK(put1(q, NULL, NULL, "new") == gone + 1); /* ids are never reused */
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    int ok;
    int nospc;
} fill = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};

static void
fill_cb(void *arg, int rv, uint64_t id, bool duplicate)
{
    IGW_UNUSED(arg);
    IGW_UNUSED(id);
    IGW_UNUSED(duplicate);
    pthread_mutex_lock(&fill.mu);
    fill.n++;
    fill.ok += rv == IGW_OK ? 1 : 0;
    fill.nospc += rv == IGW_ENOSPC ? 1 : 0;
    pthread_cond_broadcast(&fill.cv);
    pthread_mutex_unlock(&fill.mu);
}

/* Submits groups of 16 messages (bodies of one repeated letter) until one is refused. */
static void
fill_map(igw_queue *q, struct igw_queue_msg *m, char *body, size_t len)
{
    for (int sent = 0; fill.nospc == 0 && sent < 4000;) {
        for (int i = 0; i < 16; i++, sent++) {
            memset(body, 'a' + sent % 26, len);
            IGWT_OK(igw_queue_submit(q, m, fill_cb, NULL));
        }
        pthread_mutex_lock(&fill.mu);
        while (fill.n < sent) {
            pthread_cond_wait(&fill.cv, &fill.mu);
        }
        pthread_mutex_unlock(&fill.mu);
    }
}

/* Claims everything, checks each body is intact, completes them in one call per claim. */
static unsigned
drain_all(igw_queue *q, size_t len)
{
    struct igw_queue_claim c[64];
    struct igw_queue_outcome o[64];
    unsigned seen = 0;
    unsigned n;

    memset(o, 0, sizeof(o));
    for (n = claim(q, FAR_FUTURE, c, 64); n > 0; n = claim(q, FAR_FUTURE, c, 64)) {
        for (unsigned i = 0; i < n; i++) {
            const char *p = c[i].payload.ptr;
            IGWT_CHECK(c[i].payload.len == len && p[0] >= 'a' && p[0] <= 'z' &&
                       memchr(p, p[0] == 'a' ? 'b' : 'a', len) == NULL);
            o[i].id = c[i].id;
            o[i].route = "r";
            o[i].result = IGW_DELIVER_OK;
        }
        IGWT_OK(igw_queue_complete(q, o, n));
        seen += n;
        fini_claims(c, n);
    }
    return seen;
}

static void
test_map_full(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 1 << 20, 1);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    char body[3000];
    unsigned seen;
    unsigned removed = 0;
    uint64_t id;

    init_msg(&m, "ch", "", &r, 1);
    m.body = body;
    m.body_len = sizeof(body);
    fill_map(q, &m, body, sizeof(body));
    IGWT_CHECK(fill.nospc > 0 && fill.ok > 50);
    /* a group was refused; single messages may still fit for a while */
    for (int i = 0; i < 64 && igw_queue_put(q, &m, &id, NULL) == IGW_OK; i++) {
        fill.ok++;
    }
    IGWT_CHECK(stats(q).full && stats(q).messages == (uint64_t)fill.ok);
    IGWT_ERR(igw_queue_put(q, &m, &id, NULL), IGW_ENOSPC);
    /* everything accepted is intact, and claims and completions still commit */
    seen = drain_all(q, sizeof(body));
    IGWT_CHECK(seen == (unsigned)fill.ok);
    IGWT_CHECK(stats(q).delivered == seen);
    while (igw_queue_sweep(q, FAR_FUTURE, 50, &removed) == IGW_OK && removed > 0) {
        seen -= removed;
    }
    IGWT_CHECK(seen == 0);
    IGWT_CHECK(!stats(q).full && stats(q).messages == 0);
    IGWT_OK(igw_queue_put(q, &m, &id, NULL));
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

/* ---- group commit ------------------------------------------------------------------------ */

#define GC_THREADS 8
#define GC_PUTS 100

static void *
gc_thread(void *arg)
{
    igw_queue *q = arg;
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    char body[512];

    memset(body, 'x', sizeof(body));
    init_msg(&m, "ch", "", &r, 1);
    m.body = body;
    m.body_len = sizeof(body);
    for (int i = 0; i < GC_PUTS; i++) {
        if (igw_queue_put(q, &m, NULL, NULL) != IGW_OK) {
            return (void *)1;
        }
    }
    return NULL;
}

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    int bad;
} async_done = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void
async_cb(void *arg, int rv, uint64_t id, bool duplicate)
{
    IGW_UNUSED(arg);
    IGW_UNUSED(id);
    IGW_UNUSED(duplicate);
    pthread_mutex_lock(&async_done.mu);
    async_done.n++;
    async_done.bad += rv != IGW_OK ? 1 : 0;
    pthread_cond_broadcast(&async_done.cv);
    pthread_mutex_unlock(&async_done.mu);
}

static void
test_group_commit(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    pthread_t th[GC_THREADS];
    uint64_t c0 = stats(q).commits;
    uint64_t t0 = igw_mono_ns();
    uint64_t commits;
    void *res;
    double secs;
    int total = GC_THREADS * GC_PUTS;

    for (int i = 0; i < GC_THREADS; i++) {
        pthread_create(&th[i], NULL, gc_thread, q);
    }
    for (int i = 0; i < GC_THREADS; i++) {
        pthread_join(th[i], &res);
        IGWT_CHECK(res == NULL);
    }
    secs = (double)(igw_mono_ns() - t0) / 1e9;
    commits = stats(q).commits - c0;
    printf("  group commit: %d threads x %d puts: %llu commits, %.0f msg/s\n", GC_THREADS, GC_PUTS,
           (unsigned long long)commits, total / secs);
    IGWT_CHECK(commits <= (uint64_t)total / 3);

    /* asynchronous submits from one thread: large groups */
    init_msg(&m, "ch", "async", &r, 1);
    c0 = stats(q).commits;
    t0 = igw_mono_ns();
    for (int i = 0; i < 2000; i++) {
        IGWT_OK(igw_queue_submit(q, &m, async_cb, NULL));
    }
    pthread_mutex_lock(&async_done.mu);
    while (async_done.n < 2000) {
        pthread_cond_wait(&async_done.cv, &async_done.mu);
    }
    pthread_mutex_unlock(&async_done.mu);
    secs = (double)(igw_mono_ns() - t0) / 1e9;
    commits = stats(q).commits - c0;
    printf("  group commit: 2000 async submits: %llu commits, %.0f msg/s\n",
           (unsigned long long)commits, 2000 / secs);
    IGWT_CHECK(async_done.bad == 0);
    IGWT_CHECK(commits <= 2000 / 8);
    IGWT_CHECK(stats(q).messages == (uint64_t)total + 2000);
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static void
test_purge(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
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

    init_msg(&m, "ch", "body", r, 3);
    m.idem_key = "p1";
    m.idem_key_len = 2;
    IGWT_OK(igw_queue_put(q, &m, &id, &dup));
    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 2); /* a and b in flight, c pending */
    done(q, id, "b", IGW_DELIVER_FAIL, 0);
    IGWT_OK(igw_queue_purge(q, id));
    s = stats(q);
    IGWT_CHECK(s.messages == 0 && s.pending == 0 && s.inflight == 0 && s.dead == 0);
    IGWT_ERR(igw_queue_deliveries(q, id, di, 4, &n), IGW_ENOENT);
    IGWT_ERR(igw_queue_purge(q, id), IGW_ENOENT);
    IGWT_CHECK(igw_queue_next_due(q) == UINT64_MAX);
    done(q, id, "a", IGW_DELIVER_OK, 0); /* the worker's late answer is ignored */
    IGWT_CHECK(stats(q).delivered == 0);
    fini_claims(c, 2);
    /* the idempotency key outlives the purge */
    IGWT_OK(igw_queue_put(q, &m, &id2, &dup));
    IGWT_CHECK(dup && id2 == id && stats(q).messages == 0);
    /* the order key of "a" no longer blocks a new message with the same key */
    m.idem_key = NULL;
    IGWT_OK(igw_queue_put(q, &m, &id2, &dup));
    IGWT_CHECK(claim(q, igw_now_ms(), c, 4) == 3);
    fini_claims(c, 3);
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static void
test_sweep(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 60000);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    struct igw_queue_claim c[2];
    uint64_t now = igw_now_ms();
    uint64_t a = 0;
    uint64_t a2 = 0;
    uint64_t pending;
    unsigned removed = 99;
    bool dup;

    init_msg(&m, "ch", "x", &r, 1);
    m.idem_key = "ik";
    m.idem_key_len = 2;
    IGWT_OK(igw_queue_put(q, &m, &a, &dup));
    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 1);
    fini_claims(c, 1);
    done(q, a, "r", IGW_DELIVER_OK, 0);
    put1(q, NULL, NULL, "no routes");
    pending = put1(q, "r", NULL, "pending");
    IGWT_OK(igw_queue_sweep(q, now, 100, &removed));
    IGWT_CHECK(removed == 0); /* too young */
    IGWT_OK(igw_queue_sweep(q, now + 120000, 100, &removed));
    IGWT_CHECK(removed == 3); /* a, the routeless message, the idempotency key */
    IGWT_CHECK(stats(q).messages == 1 && stats(q).delivered == 0 && stats(q).pending == 1);
    IGWT_OK(igw_queue_deliveries(q, pending, NULL, 0, &removed));
    IGWT_OK(igw_queue_put(q, &m, &a2, &dup));
    IGWT_CHECK(!dup && a2 > pending); /* the expired key was removed */
    for (int i = 0; i < 5; i++) {
        put1(q, NULL, NULL, "z");
    }
    IGWT_OK(igw_queue_sweep(q, now + 120000, 2, &removed));
    IGWT_CHECK(removed == 2);
    IGWT_OK(igw_queue_sweep(q, now + 120000, 2, &removed));
    IGWT_CHECK(removed == 2);
    IGWT_OK(igw_queue_sweep(q, now + 120000, 2, &removed));
    IGWT_CHECK(removed == 2); /* the last routeless message and the key of a2 */
    IGWT_OK(igw_queue_sweep(q, now + 120000, 2, &removed));
    IGWT_CHECK(removed == 0);
    IGWT_CHECK(stats(q).messages == 2); /* pending and a2 */
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static void
test_stats(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 8 << 20, 0);
    struct igw_queue_claim c[4];
    struct igw_queue_stats s;
    uint64_t ids[4];

    for (int i = 0; i < 4; i++) {
        ids[i] = put1(q, "r", NULL, "m");
    }
    IGWT_ASSERT(claim(q, igw_now_ms(), c, 3) == 3);
    fini_claims(c, 3);
    done(q, ids[0], "r", IGW_DELIVER_OK, 0);
    done(q, ids[1], "r", IGW_DELIVER_FAIL, 0);
    s = stats(q);
    IGWT_CHECK(s.messages == 4 && s.pending == 1 && s.inflight == 1 && s.delivered == 1 &&
               s.dead == 1);
    IGWT_CHECK(s.capacity_bytes == 8 << 20 && s.used_bytes > 0 && s.used_bytes <= s.capacity_bytes);
    IGWT_CHECK(!s.full && s.commits >= 7);
    igw_queue_close(q);
    q = open_q(dir, 8 << 20, 0); /* counters persist; the in-flight one is pending again */
    s = stats(q);
    IGWT_CHECK(s.messages == 4 && s.pending == 2 && s.inflight == 0 && s.delivered == 1 &&
               s.dead == 1);
    igw_queue_close(q);
    igwt_rm_tree(dir);
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
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_claim c[2];
    struct evlog l;
    uint64_t id;

    memset(&l, 0, sizeof(l));
    igw_queue_set_listener(q, ev_listener, &l);
    id = put1(q, "r", NULL, "x");
    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 1);
    fini_claims(c, 1);
    done(q, id, "r", IGW_DELIVER_RETRY, 0);
    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 1);
    fini_claims(c, 1);
    done(q, id, "r", IGW_DELIVER_FAIL, 0);
    IGWT_OK(igw_queue_release(q, id, NULL));
    IGWT_ASSERT(claim(q, igw_now_ms(), c, 2) == 1);
    fini_claims(c, 1);
    done(q, id, "r", IGW_DELIVER_OK, 0);
    IGWT_OK(igw_queue_purge(q, id));
    igw_queue_set_listener(q, NULL, NULL);
    put1(q, "r", NULL, "unseen");
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
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static void
test_close_pending(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;

    pthread_mutex_lock(&async_done.mu);
    async_done.n = 0;
    async_done.bad = 0;
    pthread_mutex_unlock(&async_done.mu);
    init_msg(&m, "ch", "x", &r, 1);
    for (int i = 0; i < 500; i++) {
        IGWT_OK(igw_queue_submit(q, &m, async_cb, NULL));
    }
    igw_queue_close(q);
    IGWT_CHECK(async_done.n == 500 && async_done.bad == 0);
    q = open_q(dir, 0, 0);
    IGWT_CHECK(stats(q).messages == 500 && stats(q).pending == 500);
    igw_queue_close(q);
    igwt_rm_tree(dir);
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
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_route_init r[2] = {{"a", NULL, 0, NULL, 0, NULL},
                                        {"b", NULL, 0, NULL, 0, NULL}};
    struct igw_queue_msg m;
    struct igw_queue_claim c[8];
    unsigned n = 0;
    int calls = 0;

    init_msg(&m, "ch", "x", r, 2);
    for (int i = 0; i < 3; i++) {
        IGWT_OK(igw_queue_put(q, &m, NULL, NULL));
    }
    IGWT_OK(igw_queue_claim(q, igw_now_ms(), 8, filter_a_once, &calls, c, &n));
    IGWT_ASSERT(n == 1);
    IGWT_STREQ(c[0].route, "a");
    IGWT_CHECK(calls == 2); /* once per route with due deliveries */
    fini_claims(c, n);
    IGWT_CHECK(stats(q).pending == 5 && stats(q).inflight == 1);
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

static void
test_invalid(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_route_init r[2] = {{"a", NULL, 0, NULL, 0, NULL},
                                        {"a", NULL, 0, NULL, 0, NULL}};
    struct igw_queue_msg m;
    char longname[IGW_QUEUE_NAME_MAX + 2];
    char bigkey[IGW_QUEUE_ORDER_KEY_MAX + 1];
    struct igw_queue_opts o;
    igw_queue *q2 = NULL;

    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    memset(bigkey, 'k', sizeof(bigkey));
    init_msg(&m, "ch", "x", r, 2);
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
    memset(&o, 0, sizeof(o));
    IGWT_ERR(igw_queue_open(&q2, &o, NULL, 0), IGW_EINVAL);
    igw_queue_close(q);
    igwt_rm_tree(dir);
}

/* Every allocation that fails yields IGW_ENOMEM (or success), never a crash, leak or loss. */
static void
test_oom(void)
{
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_route_init r = {"r", NULL, 0, "payload", 7, "text/plain"};
    struct igw_queue_msg m;
    struct igw_queue_claim c[2];
    unsigned ok_puts = 0;
    unsigned claimed = 0;

    init_msg(&m, "ch", "body", &r, 1);
    for (long n = 0; n < 12; n++) {
        unsigned k = 0;
        int rv;
        igw_alloc_fail_after(n);
        rv = igw_queue_put(q, &m, NULL, NULL);
        IGWT_CHECK(rv == IGW_OK || rv == IGW_ENOMEM);
        ok_puts += rv == IGW_OK ? 1 : 0;
        igw_alloc_fail_after(n);
        rv = igw_queue_claim(q, FAR_FUTURE, 2, NULL, NULL, c, &k);
        igw_alloc_fail_after(-1);
        IGWT_CHECK(rv == IGW_OK || rv == IGW_ENOMEM);
        IGWT_CHECK(rv == IGW_OK || k == 0);
        claimed += k;
        fini_claims(c, k);
    }
    igw_alloc_fail_after(-1);
    IGWT_CHECK(ok_puts > 0 && claimed > 0);
    IGWT_CHECK(stats(q).messages == ok_puts);
    IGWT_CHECK(stats(q).pending + stats(q).inflight == ok_puts && stats(q).inflight == claimed);
    igw_queue_close(q);
    igwt_rm_tree(dir);
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
    const char *dir = new_dir();
    igw_queue *q = open_q(dir, 0, 0);
    struct igw_queue_claim c[8];
    struct igw_queue_outcome o;
    struct igw_queue_round rd;
    uint64_t id1 = put1(q, "r", "k", "one");
    uint64_t id2 = put1(q, "r", "k", "two");
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
    fini_claims(c, rd.n);

    memset(&o, 0, sizeof(o));
    o.id = id1;
    o.route = "r";
    o.result = IGW_DELIVER_OK;
    commits = stats(q).commits;
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
    IGWT_CHECK(stats(q).commits == commits + 1);
    fini_claims(c, rd.n);
    IGWT_CHECK(stats(q).delivered == 1 && stats(q).inflight == 1);
    igw_queue_close(q);

    q = open_q(dir, 0, 0); /* in flight returns to pending; its route is known after reopen */
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
    fini_claims(c, rd.n);
    memset(&rd, 0, sizeof(rd)); /* nothing to do: done at once, no commit */
    commits = stats(q).commits;
    IGWT_OK(igw_queue_round_start(q, &rd, notified, &notes));
    IGWT_CHECK(igw_queue_round_done(q, &rd));
    IGWT_CHECK(stats(q).commits == commits && notes == 1);
    igw_queue_close(q);
    igwt_rm_tree(dir);
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

IGWT_MAIN({"submit_claim_complete", test_submit_claim_complete}, {"retry", test_retry},
          {"dead_release", test_dead_release}, {"ordering", test_ordering},
          {"ordering_backlog", test_ordering_backlog}, {"idempotency", test_idempotency},
          {"recovery", test_recovery}, {"map_full", test_map_full},
          {"group_commit", test_group_commit}, {"purge", test_purge}, {"sweep", test_sweep},
          {"stats", test_stats}, {"events", test_events}, {"close_pending", test_close_pending},
          {"filter", test_filter}, {"invalid", test_invalid}, {"oom", test_oom},
          {"round", test_round}, {"id_format", test_id_format})
