/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The queue contract suite: what every queue backend must do, written once against
 * include/igw/queue.h (docs/internals/QUEUE-BACKEND.md says it in words).
 *
 * A backend runs it from its own test file (lmdb_test.c for "lmdb") by describing how to make
 * a fresh location and how to open a queue there, and handing that to qc_main with its own
 * backend-only cases:
 *
 *   static const struct qc_backend be = {"lmdb", my_fresh, my_open, my_remove};
 *   int main(int argc, char **argv)
 *   {
 *       static const struct igwt_case own[] = {{"map_full", test_map_full}, {NULL, NULL}};
 *       return qc_main(&be, own, argc, argv);
 *   }
 *
 * Every case makes its own location, so no case depends on another or on the order they run
 * in; `./gw.queue.lmdb_test name` runs one case. Cases that restart the queue (recovery) close it
 * and open the same location again: a backend's open must find what the previous one stored.
 * The suite's files are contract*.c (linked into every test of this folder by
 * tests/CMakeLists.txt).
 */
#ifndef IGW_TEST_QUEUE_CONTRACT_H
#define IGW_TEST_QUEUE_CONTRACT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/queue.h"
#include "igwt.h"

#define QC_LOC_MAX 256
#define QC_FAR_FUTURE (igw_now_ms() + 1000000000ull)

/* How the suite reaches a backend. */
struct qc_backend {
    const char *name;
    /* Makes a new, empty location (a directory, a stream prefix) and writes its name into loc
     * (len bytes, NUL-terminated). Returns IGW_OK or an igw error (the case then fails). */
    int (*fresh)(char *loc, size_t len);
    /* Opens the queue at loc with both retention times set to retain_ms (0 = the defaults of
     * queue.h). Called again with the same loc after igw_queue_close to restart the queue.
     * Returns igw_queue_open's result; *q is the caller's on IGW_OK. */
    int (*open)(igw_queue **q, const char *loc, uint64_t retain_ms, char *errbuf, size_t errlen);
    /* Removes loc and everything stored there (the queue is closed). */
    void (*remove)(const char *loc);
};

/* Runs the contract cases and then extra (the backend's own cases, {NULL, NULL}-terminated; may
 * be NULL) on be, with igwt's runner: the body of the backend test's main(). */
int qc_main(const struct qc_backend *be, const struct igwt_case *extra, int argc, char **argv);

/* ---- helpers for the cases (contract.c) --------------------------------------------------- */

/* A fresh location and a queue opened there (the case fails if either fails). */
igw_queue *qc_open(uint64_t retain_ms);
/* Opens the current case's location again (after igw_queue_close): a restart. */
igw_queue *qc_reopen(void);
/* Closes q and removes the current case's location. */
void qc_finish(igw_queue *q);

/* A message on channel with body and routes, content type application/json, meta {"h":1}. */
void qc_init_msg(struct igw_queue_msg *m, const char *channel, const char *body,
                 const struct igw_queue_route_init *routes, unsigned nroutes);
/* The idempotency basics on a fresh q: key "abc" on channel "ch" stored once (a repeat is the
 * same id, marked duplicate), the same key on channel "other" a second message; leaves *m
 * initialised (channel "other", key "abc", route r) and 2 messages pending. */
void qc_idem_basics(igw_queue *q, struct igw_queue_msg *m, const struct igw_queue_route_init *r);
/* Puts one message on channel "ch" with one route (none when route is NULL); checks it is new. */
uint64_t qc_put1(igw_queue *q, const char *route, const char *okey, const char *body);
/* Claims up to max deliveries due at now (all routes). */
unsigned qc_claim(igw_queue *q, uint64_t now, struct igw_queue_claim *out, unsigned max);
void qc_fini_claims(struct igw_queue_claim *c, unsigned n);
/* Completes (id, route) with res (error "HTTP 503" and status 503 unless OK; a FAIL keeps the
 * response {"err":"gone"}). */
void qc_done(igw_queue *q, uint64_t id, const char *route, enum igw_deliver_result res,
             uint64_t due);
struct igw_queue_stats qc_stats(igw_queue *q);

/* Counts the results of asynchronous submits: qc_async_cb is an igw_queue_submit callback
 * (arg unused) that adds one to n, and one to bad when rv is not IGW_OK, under mu, and
 * broadcasts cv. Reset it with qc_async_reset before a case submits. */
struct qc_async {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    int bad;
};
extern struct qc_async qc_async_done;
void qc_async_reset(void);
void qc_async_cb(void *arg, int rv, uint64_t id, bool duplicate);

/* The results of concurrent submits of one idempotency key: qc_same_thread (a pthread start
 * routine, arg = a slot below 16 as (void *)(intptr_t)) submits body "same" with key "key-1"
 * on channel "ch" (route "r") to q; qc_same_done (an igw_queue_submit callback, arg = the slot)
 * records the result in that slot and counts it in results, under mu, and broadcasts cv.
 * qc_same_reset sets q and zeroes results; qc_same_wait waits until results reaches n. */
struct qc_same {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    igw_queue *q;
    int results;
    uint64_t ids[16];
    bool dups[16];
    int rvs[16];
};
extern struct qc_same qc_same;
void qc_same_reset(igw_queue *q);
void qc_same_done(void *arg, int rv, uint64_t id, bool duplicate);
void *qc_same_thread(void *arg);
void qc_same_wait(int n);

/* ---- the suite's case tables (one per contract file) --------------------------------------- */

extern const struct igwt_case qc_cases_deliver[]; /* contract_deliver.c */
extern const struct igwt_case qc_cases_store[];   /* contract_store.c */
extern const struct igwt_case qc_cases_replay[];  /* contract_replay.c */
extern const struct igwt_case qc_cases_admin[];   /* contract_admin.c */

#endif /* IGW_TEST_QUEUE_CONTRACT_H */
