/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the mediation engine: what engine.c (requests, answers, cache, the thread) and
 * engine_call.c (upstream calls and logins on the curl multi handle) share.
 *
 * Threads: a request (struct mreq) is touched by one thread at a time: the nng thread that
 * submitted it until it is pushed on the incoming list (under e->mtx), then the engine thread
 * only. Upstream state (struct up) and the multi handle belong to the engine thread.
 */
#ifndef IGW_GATEWAY_MEDIATE_ENGINE_INT_H
#define IGW_GATEWAY_MEDIATE_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <curl/curl.h>

#include "mediate/mediate.h"
#include "mediate/mediate_int.h"
#include "mediate/mediator.h"

#define MED_BODY_MAX (16u << 20) /* an upstream answer, and an answer built by a mediator */

struct mreq;

/* The engine's state of one upstream (engine thread only). */
struct up {
    const struct igw_upstream *cfg;
    unsigned inflight;
    struct igw_bucket bucket;
    char *token;               /* login: the current token (wiped when freed); NULL = none */
    uint64_t token_renew_ms;   /* monotonic: log in again from then on */
    uint64_t login_after_ms;   /* after a failed login: none before then (monotonic) */
    uint64_t login_backoff_ms; /* doubles after each failure, reset by a success */
    CURL *login_easy;          /* a login in progress */
    struct curl_slist *login_hdrs;
    struct igw_buf login_req, login_resp;
    unsigned logins;                    /* logins done (for the log) */
    struct mreq *wait_head, *wait_tail; /* calls waiting for a slot or a token */
    struct mreq *calls;                 /* calls in flight (cprev/cnext) */
};

struct chan {
    igw_mcache *cache; /* NULL: no cache */
    atomic_uint inflight;
};

struct igw_mediate {
    const struct igw_config *cfg;
    igw_maps *maps;
    igw_queue *q;       /* igw_mediate_set_queue; NULL = none */
    struct chan *chans; /* cfg->nchannels */
    struct up *ups;     /* cfg->nupstreams */
    CURLM *multi;
    pthread_t thr;
    bool running;
    pthread_mutex_t mtx; /* incoming and closing */
    struct mreq *in_head, *in_tail;
    atomic_bool closing;
};

struct mreq {
    struct igw_med m;
    struct igw_mediate_req rq;
    igw_mediate *e;
    struct chan *cs;
    struct up *up; /* of the call being made or waited for */
    struct igw_maps_ref *mref;
    uint64_t deadline_ms;       /* monotonic */
    struct mreq *next;          /* incoming or wait list */
    struct mreq *cprev, *cnext; /* the upstream's calls in flight */
    CURL *easy;
    struct curl_slist *hdrs;
    char *url;
    struct igw_buf rbody, rhdrs;
    bool retried; /* a 401 was answered by a new login once */
    char retry_after[24];
    struct igw_buf key; /* cache key; len 0 = not cached */
    char *cache_tag;    /* of the last call (m.arena) */
};

/* engine.c */
/** Acts on a mediator's decision rv for r, on the engine thread. */
void eng_dispatch(struct mreq *r, int rv);
/** Answers r with the error err (detail may be NULL) and frees it. */
void eng_fail(struct mreq *r, int err, const char *detail);

/* engine_call.c */
/** Queues r's call (r->m.call) on its upstream (engine thread). */
void eng_call_queue(igw_mediate *e, struct mreq *r);
/** Starts what can start on every upstream; answers waiters whose deadline passed. */
void eng_pump(igw_mediate *e, uint64_t now_ms);
/** A transfer on the multi handle ended. */
void eng_transfer_done(igw_mediate *e, CURL *easy, CURLcode rc);
/** Aborts every transfer and waiter with err (at stop). */
void eng_abort_all(igw_mediate *e, int err);
/** Frees the engine's state of upstream u. */
void eng_up_fini(struct up *u);
/** Earliest deadline of a waiting call, or UINT64_MAX. */
uint64_t eng_next_deadline(igw_mediate *e);

#endif /* IGW_GATEWAY_MEDIATE_ENGINE_INT_H */
