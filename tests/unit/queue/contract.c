/* SPDX-License-Identifier: Apache-2.0 */
/* The queue contract suite's runner and the helpers its cases share (contract.h). */
#define IGWT_PART
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "contract.h"

static const struct qc_backend *backend;
static char loc[QC_LOC_MAX];
static uint64_t loc_retain_ms;

/* ---- runner ------------------------------------------------------------------------------ */

static size_t
count(const struct igwt_case *c)
{
    size_t n = 0;
    while (c != NULL && c[n].name != NULL) {
        n++;
    }
    return n;
}

int
qc_main(const struct qc_backend *be, const struct igwt_case *extra, int argc, char **argv)
{
    const struct igwt_case *parts[] = {qc_cases_deliver, qc_cases_store, qc_cases_replay,
                                       qc_cases_admin, extra};
    struct igwt_case *all;
    size_t n = 0;
    int rv;

    backend = be;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        n += count(parts[i]);
    }
    all = igw_calloc(n + 1, sizeof(*all));
    if (all == NULL) {
        return 1;
    }
    n = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t k = count(parts[i]);
        if (k > 0) {
            memcpy(&all[n], parts[i], k * sizeof(*all));
        }
        n += k;
    }
    printf("queue contract on backend \"%s\"\n", be->name);
    rv = igwt_run(all, argc, argv);
    igw_free(all);
    return rv;
}

/* ---- locations --------------------------------------------------------------------------- */

igw_queue *
qc_reopen(void)
{
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *q = NULL;
    int rv = backend->open(&q, loc, loc_retain_ms, err, sizeof(err));

    if (rv != IGW_OK) {
        fprintf(stderr, "  open %s: %s: %s\n", loc, igw_strerror(rv), err);
    }
    IGWT_ASSERT(rv == IGW_OK && q != NULL);
    return q;
}

igw_queue *
qc_open(uint64_t retain_ms)
{
    IGWT_OK(backend->fresh(loc, sizeof(loc)));
    loc_retain_ms = retain_ms;
    return qc_reopen();
}

void
qc_finish(igw_queue *q)
{
    igw_queue_close(q);
    backend->remove(loc);
}

/* ---- messages and deliveries ------------------------------------------------------------- */

void
qc_init_msg(struct igw_queue_msg *m, const char *channel, const char *body,
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

void
qc_idem_basics(igw_queue *q, struct igw_queue_msg *m, const struct igw_queue_route_init *r)
{
    uint64_t id1 = 0;
    uint64_t id2 = 0;
    bool dup = true;

    qc_init_msg(m, "ch", "body", r, 1);
    m->idem_key = "abc";
    m->idem_key_len = 3;
    IGWT_OK(igw_queue_put(q, m, &id1, &dup));
    IGWT_CHECK(!dup);
    IGWT_OK(igw_queue_put(q, m, &id2, &dup));
    IGWT_CHECK(dup && id2 == id1);
    m->channel = "other";
    IGWT_OK(igw_queue_put(q, m, &id2, &dup));
    IGWT_CHECK(!dup && id2 != id1);
    IGWT_CHECK(qc_stats(q).messages == 2 && qc_stats(q).pending == 2);
}

uint64_t
qc_put1(igw_queue *q, const char *route, const char *okey, const char *body)
{
    struct igw_queue_route_init r = {route, okey, okey ? strlen(okey) : 0, NULL, 0, NULL};
    struct igw_queue_msg m;
    uint64_t id = 0;
    bool dup = true;

    qc_init_msg(&m, "ch", body, &r, route ? 1 : 0);
    IGWT_OK(igw_queue_put(q, &m, &id, &dup));
    IGWT_CHECK(!dup);
    IGWT_CHECK(id != 0);
    return id;
}

unsigned
qc_claim(igw_queue *q, uint64_t now, struct igw_queue_claim *out, unsigned max)
{
    unsigned n = 99;
    IGWT_OK(igw_queue_claim(q, now, max, NULL, NULL, out, &n));
    return n;
}

void
qc_fini_claims(struct igw_queue_claim *c, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        igw_queue_claim_fini(&c[i]);
    }
}

void
qc_done(igw_queue *q, uint64_t id, const char *route, enum igw_deliver_result res, uint64_t due)
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

struct igw_queue_stats
qc_stats(igw_queue *q)
{
    struct igw_queue_stats s;
    IGWT_OK(igw_queue_stats(q, &s));
    return s;
}

/* ---- asynchronous submits ---------------------------------------------------------------- */

struct qc_async qc_async_done = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

void
qc_async_reset(void)
{
    pthread_mutex_lock(&qc_async_done.mu);
    qc_async_done.n = 0;
    qc_async_done.bad = 0;
    pthread_mutex_unlock(&qc_async_done.mu);
}

void
qc_async_cb(void *arg, int rv, uint64_t id, bool duplicate)
{
    IGW_UNUSED(arg);
    IGW_UNUSED(id);
    IGW_UNUSED(duplicate);
    pthread_mutex_lock(&qc_async_done.mu);
    qc_async_done.n++;
    qc_async_done.bad += rv != IGW_OK ? 1 : 0;
    pthread_cond_broadcast(&qc_async_done.cv);
    pthread_mutex_unlock(&qc_async_done.mu);
}

/* ---- concurrent submits of one key ------------------------------------------------------- */

struct qc_same qc_same = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void
qc_same_reset(igw_queue *q)
{
    pthread_mutex_lock(&qc_same.mu);
    qc_same.results = 0;
    pthread_mutex_unlock(&qc_same.mu);
    qc_same.q = q;
}

void
qc_same_done(void *arg, int rv, uint64_t id, bool duplicate)
{
    int i = (int)(intptr_t)arg;
    pthread_mutex_lock(&qc_same.mu);
    qc_same.ids[i] = id;
    qc_same.dups[i] = duplicate;
    qc_same.rvs[i] = rv;
    qc_same.results++;
    pthread_cond_broadcast(&qc_same.cv);
    pthread_mutex_unlock(&qc_same.mu);
}

void *
qc_same_thread(void *arg)
{
    struct igw_queue_route_init r = {"r", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;

    qc_init_msg(&m, "ch", "same", &r, 1);
    m.idem_key = "key-1";
    m.idem_key_len = 5;
    if (igw_queue_submit(qc_same.q, &m, qc_same_done, arg) != IGW_OK) {
        qc_same_done(arg, -1, 0, false);
    }
    return NULL;
}

void
qc_same_wait(int n)
{
    pthread_mutex_lock(&qc_same.mu);
    while (qc_same.results < n) {
        pthread_cond_wait(&qc_same.cv, &qc_same.mu);
    }
    pthread_mutex_unlock(&qc_same.mu);
}
