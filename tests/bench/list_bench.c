/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin listing on a large queue (docs/PERFORMANCE.md, "Admin listing"):
 *   list_bench DIR [N]
 * fills an lmdb queue in DIR with N messages (default 1,000,000; 4 channels, 2 routes each,
 * 120-byte bodies, one in 1000 containing "needle", every 100th with an idempotency key),
 * makes the oldest deliveries delivered or dead (20,000 claims, one in ten dead: they fall on
 * the ".b" routes), then times
 * igw_queue_list's first page (50 items) for each filter, 200 times each, and prints p50/p99.
 * The queue is left in DIR for list_bench.sh, which measures the same through `igw serve`.
 * Intake is timed too (asynchronous submits, no_sync: the writer's CPU cost per accept with
 * the admin indexes, not the disk's).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/queue.h"
#include "igw/queue_lmdb.h"

#define REPS 200
#define PAGE 50
#define WINDOW 20000 /* submits outstanding */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned long outstanding;
static unsigned long failed;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

static void
fill(igw_queue *q, unsigned long n)
{
    static const char *const chans[] = {"ch0", "ch1", "ch2", "ch3"};
    char body[160];
    char ra[16];
    char rb[16];
    char idem[32];
    double t0 = now_s();

    for (unsigned long i = 0; i < n; i++) {
        struct igw_queue_route_init r[2];
        struct igw_queue_msg m;
        const char *ch = chans[i % 4];
        memset(r, 0, sizeof(r));
        memset(&m, 0, sizeof(m));
        snprintf(ra, sizeof(ra), "%s.a", ch);
        snprintf(rb, sizeof(rb), "%s.b", ch);
        r[0].route = ra;
        r[1].route = rb;
        r[1].payload = "{\"translated\":true}";
        r[1].payload_len = 19;
        snprintf(
            body, sizeof(body),
            "{\"chfId\":\"%010lu\",\"name\":\"%s\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
            i, i % 1000 == 777 ? "needle" : "haystack");
        m.channel = ch;
        m.content_type = "application/json";
        m.meta = "{\"v\":1}";
        m.meta_len = 7;
        m.body = body;
        m.body_len = strlen(body);
        m.routes = r;
        m.nroutes = 2;
        if (i % 100 == 0) {
            snprintf(idem, sizeof(idem), "key-%lu", i);
            m.idem_key = idem;
            m.idem_key_len = strlen(idem);
        }
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
    double dt = now_s() - t0;
    printf("intake: %lu messages in %.2f s: %.0f msg/s, %.2f us per accept (failed %lu)\n", n, dt,
           (double)n / dt, dt * 1e6 / (double)n, failed);
}

/* Claims the oldest due deliveries and records outcomes: one in ten dead, the rest delivered. */
static void
settle(igw_queue *q, unsigned want)
{
    struct igw_queue_claim c[500];
    struct igw_queue_outcome o[500];
    unsigned got = 0;

    while (got < want) {
        unsigned n = 0;
        if (igw_queue_claim(q, igw_now_ms() + 1, 500, NULL, NULL, c, &n) != IGW_OK || n == 0) {
            break;
        }
        for (unsigned i = 0; i < n; i++) {
            memset(&o[i], 0, sizeof(o[i]));
            o[i].id = c[i].id;
            o[i].route = c[i].route;
            o[i].result = (got + i) % 10 == 3 ? IGW_DELIVER_FAIL : IGW_DELIVER_OK;
            o[i].status = o[i].result == IGW_DELIVER_OK ? 200 : 400;
            o[i].error = o[i].result == IGW_DELIVER_OK ? NULL : "HTTP 400";
            o[i].duration_ms = 3;
        }
        (void)igw_queue_complete(q, o, n);
        for (unsigned i = 0; i < n; i++) {
            igw_queue_claim_fini(&c[i]);
        }
        got += n;
    }
    printf("settled: %u deliveries (one in ten dead)\n", got);
}

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
timed(igw_queue *q, const char *name, const struct igw_queue_filter *f, uint64_t before)
{
    static struct igw_queue_list_item items[PAGE];
    double ms[REPS];
    struct igw_queue_list_page pg;

    memset(&pg, 0, sizeof(pg));
    for (int i = 0; i < REPS; i++) {
        double t0 = now_s();
        if (igw_queue_list(q, f, before, PAGE, items, &pg) != IGW_OK) {
            printf("%-34s list failed\n", name);
            return;
        }
        ms[i] = (now_s() - t0) * 1e3;
    }
    qsort(ms, REPS, sizeof(ms[0]), cmp_d);
    printf("%-34s items %2u examined %6llu%s  p50 %7.3f ms  p99 %7.3f ms\n", name, pg.n,
           (unsigned long long)pg.examined, pg.partial ? " partial" : "        ", ms[REPS / 2],
           ms[REPS * 99 / 100]);
}

int
main(int argc, char **argv)
{
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000ul;
    struct igw_queue_lmdb_opts lo = {argc > 1 ? argv[1] : "/tmp/igw-list-bench", 16ull << 30, 0,
                                     true};
    struct igw_queue_opts o = {NULL, 0, 0, &lo};
    struct igw_queue_filter f;
    struct igw_queue_list_item mid[PAGE];
    struct igw_queue_list_page pg;
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *q = NULL;
    uint64_t t_half;

    if (igw_queue_open(&q, &o, err, sizeof(err)) != IGW_OK) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    fill(q, n);
    settle(q, 20000);
    t_half = igw_now_ms();
    printf("first page (%d items), %d runs each, %lu messages:\n", PAGE, REPS, n);
    memset(&f, 0, sizeof(f));
    timed(q, "no filter", &f, 0);
    f.channel = "ch2";
    timed(q, "channel=ch2", &f, 0);
    memset(&f, 0, sizeof(f));
    f.state = IGW_DS_DEAD;
    timed(q, "state=dead", &f, 0);
    f.route = "ch1.b";
    timed(q, "route=ch1.b&state=dead", &f, 0);
    memset(&f, 0, sizeof(f));
    f.state = IGW_DS_DELIVERED;
    f.channel = "ch3";
    timed(q, "channel=ch3&state=delivered", &f, 0);
    memset(&f, 0, sizeof(f));
    f.route = "ch0.b";
    timed(q, "route=ch0.b", &f, 0);
    memset(&f, 0, sizeof(f));
    f.channel = "ch0";
    f.idem_key = "key-400";
    f.idem_key_len = 7;
    timed(q, "channel=ch0&idempotency_key", &f, 0);
    memset(&f, 0, sizeof(f));
    f.text = "needle";
    f.text_len = 6;
    timed(q, "q=needle (bounded scan)", &f, 0);
    memset(&f, 0, sizeof(f));
    f.order_key = "no-such-key";
    f.order_key_len = 11;
    timed(q, "order_key=no-such-key (budget)", &f, 0);
    memset(&f, 0, sizeof(f));
    f.until_ms = t_half - 1; /* everything: the bisection runs */
    timed(q, "until=<now>", &f, 0);
    memset(&f, 0, sizeof(f));
    memset(&pg, 0, sizeof(pg));
    if (igw_queue_list(q, &f, n / 2, PAGE, mid, &pg) == IGW_OK) {
        timed(q, "no filter, a page in the middle", &f, n / 2);
    }
    igw_queue_close(q);
    return 0;
}
