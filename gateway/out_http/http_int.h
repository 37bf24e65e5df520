/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_http internals shared by out_http.c (the transfers) and answer.c (a route's answer_from:
 * the payload answered by a mediator first, then sent). Delivery thread unless noted.
 */
#ifndef IGW_GATEWAY_OUT_HTTP_INT_H
#define IGW_GATEWAY_OUT_HTTP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "igw/buf.h"
#include "delivery/output.h"

#define HTTP_BODY_MAX (64u * 1024u * 1024u) /* a body hook's output, an answer */

/* The route's context: easy handles kept for reuse (at most `concurrency`). */
struct http_route {
    const struct igw_route *cfg;
    unsigned concurrency;
    CURLM *multi;
    CURL **easy_pool;
    unsigned easy_n;
    struct http_engine *eng; /* the output's engine context (answer_from tickets) */
};

/* Per-delivery state (behind struct igw_dlv). */
struct http_dlv {
    CURL *easy;
    struct curl_slist *headers;
    struct igw_buf body; /* the bytes sent when has_body (a body hook's or an answer's) */
    bool has_body;
    struct http_ticket *ticket; /* answer_from: the mediation in flight, else NULL */
};

/* answer_from: one payload being answered by the mediation engine (any thread answers it). The
 * ticket owns a copy of the payload, so a delivery stopped meanwhile (abort) only orphans it:
 * whoever sees it last frees it. */
struct http_ticket {
    struct http_ticket *next;
    struct http_engine *eng;
    struct igw_dlv *dl; /* NULL once orphaned (guarded by eng->mtx) */
    char *payload;
    size_t len;
    int status; /* of the answer; 0 = none could be built */
    char *answer;
    size_t alen;
    char retry_after[32];
    char qid[IGW_QUEUE_ID_STRLEN]; /* the message's queue id: X-Igw-Message-Id to the mediator */
};

/* The output's engine context: answered tickets waiting for collect. */
struct http_engine {
    pthread_mutex_t mtx;
    igw_deliverer *d;
    struct http_ticket *done;
};

/* Builds and starts dl's transfer (its body: the payload, or the answer in its h->body).
 * active: dl is linked as active already (an answer_from delivery, started from collect). */
void http_send(struct igw_dlv *dl, bool active);

/* answer_from: submits dl's payload to the route's answer_ch mediator; its answer is sent by
 * http_send from collect, a failure finishes dl (5xx, 408, 429, no engine: transient; other:
 * dead letter). */
void http_answer_start(struct igw_dlv *dl);
/* collect: the answered tickets (ectx: the output's engine context). */
void http_tickets_collect(void *ectx);
/* abort: dl's mediation in flight (if any) is orphaned: its answer is dropped when it comes. */
void http_ticket_orphan(struct http_route *rs, struct http_dlv *h);
/* The output's engine context (the answered tickets). @return IGW_OK, IGW_ENOMEM. */
int http_engine_init(igw_deliverer *d, void **ectx);
void http_engine_fini(void *ectx);

#endif /* IGW_GATEWAY_OUT_HTTP_INT_H */
