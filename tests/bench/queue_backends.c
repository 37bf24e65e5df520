/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable accepts per second and end to end (accept, claim, complete) per second through the
 * queue API, on one backend, for the JetStream comparison (tests/bench/jetstream_bench.sh):
 *
 *   queue_backends lmdb DIR N INFLIGHT
 *   queue_backends jetstream NATS_URLS NAME REPLICAS N INFLIGHT
 *
 * accept: N submits of a 512-byte body with one route, at most INFLIGHT waiting for their
 * callbacks (as the HTTP intake keeps many requests open). e2e: a delivery loop claims up to 64
 * due deliveries per round and completes them as delivered (an instant destination) while the
 * accepts run; measured until every message is delivered. takeover (JetStream only): N more
 * are accepted and left; the instance closes, and another instance opens the queue and delivers
 * them all (a backlog taken over: the view loaded, every message checked against the stream
 * leader, claimed and completed), measured from its open. One JSON line per phase on stdout.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/queue.h"
#include "igw/queue_jetstream.h"
#include "igw/queue_lmdb.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long inflight;
static long done;
static long bad;

static void
on_done(void *arg, int rv, uint64_t id, bool dup)
{
    IGW_UNUSED(arg);
    IGW_UNUSED(id);
    IGW_UNUSED(dup);
    pthread_mutex_lock(&mu);
    inflight--;
    done++;
    bad += rv != IGW_OK;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static double
now_s(void)
{
    return (double)igw_now_ms() / 1000.0;
}

static void
accept_all(igw_queue *q, long n, long window)
{
    static char body[512];
    struct igw_queue_route_init r = {"sink", NULL, 0, NULL, 0, NULL};
    struct igw_queue_msg m;

    memset(body, 'x', sizeof(body));
    memset(&m, 0, sizeof(m));
    m.channel = "bench";
    m.content_type = "application/json";
    m.body = body;
    m.body_len = sizeof(body);
    m.routes = &r;
    m.nroutes = 1;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&mu);
        while (inflight >= window) {
            pthread_cond_wait(&cv, &mu);
        }
        inflight++;
        pthread_mutex_unlock(&mu);
        if (igw_queue_submit(q, &m, on_done, NULL) != IGW_OK) {
            on_done(NULL, IGW_EIO, 0, false);
        }
    }
    pthread_mutex_lock(&mu);
    while (inflight > 0) {
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
}

struct drain {
    igw_queue *q;
    long want;
    long delivered;
};

static void *
drain_main(void *arg)
{
    struct drain *dr = arg;
    struct igw_queue_claim c[64];
    struct igw_queue_outcome o[64];
    struct igw_queue_round rd;
    unsigned no = 0;

    while (dr->delivered < dr->want) {
        memset(&rd, 0, sizeof(rd));
        rd.outcomes = o;
        rd.noutcomes = no;
        rd.now_ms = igw_now_ms();
        rd.max = 64;
        rd.out = c;
        if (igw_queue_round(dr->q, &rd) != IGW_OK || rd.claim_rv != IGW_OK) {
            usleep(1000);
        }
        dr->delivered += no;
        no = rd.n;
        for (unsigned i = 0; i < rd.n; i++) {
            memset(&o[i], 0, sizeof(o[i]));
            o[i].id = c[i].id;
            o[i].route = "sink";
            o[i].result = IGW_DELIVER_OK;
            o[i].status = 200;
            igw_queue_claim_fini(&c[i]);
        }
        if (rd.n == 0 && no == 0) {
            usleep(500);
        }
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    struct igw_queue_lmdb_opts lo;
    struct igw_queue_jetstream_opts jo;
    struct igw_queue_opts o;
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *q = NULL;
    struct drain dr;
    pthread_t th;
    long n, window;
    double t0, t1, t2;
    bool js = argc == 7 && strcmp(argv[1], "jetstream") == 0;

    if (!js && !(argc == 5 && strcmp(argv[1], "lmdb") == 0)) {
        fprintf(stderr, "usage: %s lmdb DIR N INFLIGHT | jetstream URLS NAME REPLICAS N INFLIGHT\n",
                argv[0]);
        return 2;
    }
    memset(&o, 0, sizeof(o));
    memset(&lo, 0, sizeof(lo));
    memset(&jo, 0, sizeof(jo));
    if (js) {
        jo.servers = argv[2];
        jo.name = argv[3];
        jo.instance = "bench";
        jo.replicas = (unsigned)atoi(argv[4]);
        jo.timeout_ms = 20000;
        n = atol(argv[5]);
        window = atol(argv[6]);
        o.backend = "jetstream";
        o.backend_opts = &jo;
    } else {
        lo.path = argv[2];
        n = atol(argv[3]);
        window = atol(argv[4]);
        o.backend = "lmdb";
        o.backend_opts = &lo;
    }
    if (igw_queue_open(&q, &o, err, sizeof(err)) != IGW_OK) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    t0 = now_s();
    accept_all(q, n, window);
    t1 = now_s();
    printf("{\"backend\":\"%s\",\"phase\":\"accept\",\"n\":%ld,\"inflight\":%ld,\"seconds\":%.3f,"
           "\"per_s\":%.0f,\"failed\":%ld}\n",
           js ? "jetstream" : "lmdb", n, window, t1 - t0, (double)n / (t1 - t0), bad);
    fflush(stdout);
    /* the first n are delivered as part of e2e: accept n more while the loop drains all */
    dr.q = q;
    dr.want = 2 * n;
    dr.delivered = 0;
    t1 = now_s();
    pthread_create(&th, NULL, drain_main, &dr);
    accept_all(q, n, window);
    pthread_join(th, NULL);
    t2 = now_s();
    printf("{\"backend\":\"%s\",\"phase\":\"e2e\",\"n\":%ld,\"seconds\":%.3f,\"per_s\":%.0f,"
           "\"failed\":%ld}\n",
           js ? "jetstream" : "lmdb", 2 * n, t2 - t1, (double)(2 * n) / (t2 - t1), bad);
    if (js) {
        accept_all(q, n, window);
        igw_queue_close(q);
        q = NULL;
        jo.instance = "bench-b";
        t1 = now_s();
        if (igw_queue_open(&q, &o, err, sizeof(err)) != IGW_OK) {
            fprintf(stderr, "open: %s\n", err);
            return 1;
        }
        dr.q = q;
        dr.want = n;
        dr.delivered = 0;
        drain_main(&dr);
        t2 = now_s();
        printf("{\"backend\":\"jetstream\",\"phase\":\"takeover\",\"n\":%ld,\"seconds\":%.3f,"
               "\"per_s\":%.0f,\"failed\":%ld}\n",
               n, t2 - t1, (double)n / (t2 - t1), bad);
    }
    igw_queue_close(q);
    return bad > 0;
}
