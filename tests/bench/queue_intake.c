/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The queue writer's cost per accept, for before/after comparisons of the queue format
 * (queue_intake_bench.sh builds it against two builds' libraries):
 *   queue_intake DIR [N]
 * submits N messages (default 300,000; 4 channels, 2 routes each, one with a translated payload,
 * 120-byte bodies) asynchronously to an lmdb queue opened with no_sync (the CPU cost of the
 * writer's transactions, not the disk's), 20,000 outstanding at most, and prints the rate and the
 * microseconds per accept. Uses only the API that every queue format version has.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/queue.h"
#include "igw/queue_lmdb.h"

#define WINDOW 20000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned long outstanding;
static unsigned long failed;

static void
done(void *arg, int rv, uint64_t id, bool dup)
{
    (void)arg;
    (void)id;
    (void)dup;
    pthread_mutex_lock(&mu);
    outstanding--;
    failed += rv != IGW_OK ? 1 : 0;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

int
main(int argc, char **argv)
{
    static const char *const chans[] = {"ch0", "ch1", "ch2", "ch3"};
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 300000ul;
    struct igw_queue_lmdb_opts lo = {argc > 1 ? argv[1] : "/tmp/igw-intake", 4ull << 30, 0, true};
    struct igw_queue_opts o = {NULL, 0, 0, &lo};
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *q = NULL;
    struct timespec t0;
    struct timespec t1;
    char body[160];
    char ra[16];
    char rb[16];
    double dt;

    if (igw_queue_open(&q, &o, err, sizeof(err)) != IGW_OK) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long i = 0; i < n; i++) {
        struct igw_queue_route_init r[2];
        struct igw_queue_msg m;
        memset(r, 0, sizeof(r));
        memset(&m, 0, sizeof(m));
        snprintf(ra, sizeof(ra), "%s.a", chans[i % 4]);
        snprintf(rb, sizeof(rb), "%s.b", chans[i % 4]);
        r[0].route = ra;
        r[1].route = rb;
        r[1].payload = "{\"translated\":true}";
        r[1].payload_len = 19;
        snprintf(body, sizeof(body),
                 "{\"chfId\":\"%010lu\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
                 i);
        m.channel = chans[i % 4];
        m.content_type = "application/json";
        m.body = body;
        m.body_len = strlen(body);
        m.routes = r;
        m.nroutes = 2;
        pthread_mutex_lock(&mu);
        while (outstanding >= WINDOW) {
            pthread_cond_wait(&cv, &mu);
        }
        outstanding++;
        pthread_mutex_unlock(&mu);
        if (igw_queue_submit(q, &m, done, NULL) != IGW_OK) {
            pthread_mutex_lock(&mu);
            outstanding--;
            failed++;
            pthread_mutex_unlock(&mu);
        }
    }
    pthread_mutex_lock(&mu);
    while (outstanding > 0) {
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f msg/s %.3f us/accept failed %lu\n", (double)n / dt, dt * 1e6 / (double)n, failed);
    igw_queue_close(q);
    return failed > 0;
}
