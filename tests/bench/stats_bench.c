/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hot-path cost of the /metrics counters (gateway/stats/, docs/METRICS.md): THREADS threads
 * (default 2) each bump what one accepted and delivered message bumps (accepted, an HTTP 202,
 * one delivery outcome with its histogram) N times (default 10,000,000) on a config of 8
 * channels with 4 routes each, all threads on the same channel and route (the worst case:
 * one shared cache line). Prints ns per message per thread.
 *   build/tests/bench/stats_bench [N] [THREADS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "stats/stats.h"

static struct igw_channel chans[8];
static struct igw_route routes[8][4];
static long iters = 10000000;

static void *
run(void *arg)
{
    (void)arg;
    for (long i = 0; i < iters; i++) {
        igw_stats_accepted(&chans[7]);
        igw_stats_http(&chans[7], 202);
        igw_stats_delivery(&routes[7][3], IGW_OUTCOME_DELIVERED, (uint64_t)(i & 4095) * 10u);
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    struct igw_config cfg;
    pthread_t th[64];
    struct timespec a, b;
    long nth = argc > 2 ? strtol(argv[2], NULL, 10) : 2;
    double ns;

    iters = argc > 1 ? strtol(argv[1], NULL, 10) : iters;
    nth = nth < 1 ? 1 : nth > 64 ? 64 : nth;
    memset(&cfg, 0, sizeof(cfg));
    for (int c = 0; c < 8; c++) {
        chans[c].routes = routes[c];
        chans[c].nroutes = 4;
    }
    cfg.channels = chans;
    cfg.nchannels = 8;
    if (igw_stats_init(&cfg) != IGW_OK) {
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long t = 0; t < nth; t++) {
        pthread_create(&th[t], NULL, run, NULL);
    }
    for (long t = 0; t < nth; t++) {
        pthread_join(th[t], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)iters;
    printf("stats_bench: %ld threads x %ld messages: %.1f ns per message per thread\n", nth, iters,
           ns);
    igw_stats_fini(&cfg);
    return 0;
}
