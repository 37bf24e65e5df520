/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the synchronous mediation engine (docs/internals/MEDIATORS.md). A channel
 * whose `answer` option names a mediator hands each request here instead of to the queue: the
 * mediator (mediate/mediator.h) decides which upstream calls to make and what to answer; the
 * engine runs every call on its own thread with one libcurl multi loop, applies the upstream's
 * credentials (bearer, basic, a login token it obtains, caches and renews), its concurrency
 * and rate limits, the channel's timeout and concurrency limit and its response cache, and
 * answers in the channel dialect's shape (502, 503 with Retry-After, 504 ...).
 *
 * Threads: igw_mediate_submit and igw_mediate_invalidate are called from nng task threads (and
 * the queue's writer thread); the answer and commit callbacks run on the calling thread (an
 * early answer: cache hit, limit, a mediator answering at once) or on the engine's thread.
 * start, stop and free on the thread that starts the gateway.
 */
#ifndef IGW_GATEWAY_MEDIATE_MEDIATE_H
#define IGW_GATEWAY_MEDIATE_MEDIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "igw/config.h"
#include "igw/queue.h"
#include "core/translate.h"
#include "http/http.h"

typedef struct igw_mediate igw_mediate;

/* One inbound request handed to the engine. Every pointer is borrowed and must stay valid
 * until answer or commit is called (exactly one of them, exactly once). */
struct igw_mediate_req {
    const struct igw_channel *ch; /* a channel with mediator_ops set */
    const char *method;           /* inbound method: GET, HEAD, POST ... */
    const char *target;           /* raw request target (path and query) */
    const struct igw_path_match *pm;
    const char *(*header)(void *arg, const char *name); /* inbound headers; may be NULL */
    void *header_arg;
    const char *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    /* The answer: res is the response to send (ownership passes to the callee), or NULL when
     * none could be built (out of memory: close the connection). */
    void (*answer)(void *arg, nng_http_res *res);
    /* IGW_MED_COMMIT: ingest the request as a write (method, body: igw_malloc'd, owned by the
     * callee from here; body NULL = the inbound body, method NULL = the inbound method;
     * content_type: the body's media type, valid during the call only, NULL = the inbound
     * Content-Type). */
    void (*commit)(void *arg, const char *method, const char *content_type, char *body, size_t len);
    void *arg;
    /* true: the request is igw's own (a route's answer_from at delivery time, answering a
     * message that was checked and committed at intake): the mediator skips the partner checks
     * (credentials, signature) that apply to inbound requests (igw_med.internal). */
    bool internal;
};

/** Starts the engine thread when cfg has a mediating channel (otherwise *out is an idle engine
 *  that answers nothing and costs nothing). cfg and maps must outlive the engine.
 *  @return IGW_OK, IGW_ENOMEM, IGW_EIO (libcurl or thread setup failed; detail in errbuf). */
int igw_mediate_start(igw_mediate **out, const struct igw_config *cfg, igw_maps *maps, char *errbuf,
                      size_t errlen);

/** Gives the engine the gateway's queue, which mediators may read (igw_med.queue). Call after
 *  igw_mediate_start, before the intake starts; q must outlive the engine. NULL-safe (e). */
void igw_mediate_set_queue(igw_mediate *e, igw_queue *q);

/** Mediates one request: answers from the cache, refuses with 503 when the channel's
 *  max_inflight is reached or the engine is stopped, else runs the channel's mediator. e and rq
 *  must not be NULL (rq itself is copied). Never blocks. */
void igw_mediate_submit(igw_mediate *e, const struct igw_mediate_req *rq);

/** Drops every cached answer tagged tag (a resource type, e.g. "Patient") from every channel's
 *  cache. NULL-safe (e and tag). Thread-safe; takes each cache's lock briefly. */
void igw_mediate_invalidate(igw_mediate *e, const char *tag);

/** Makes e the engine igw_mediate_submit_current uses (NULL: none; the gateway sets it after
 *  igw_mediate_start and clears it before igw_mediate_stop). Any thread. */
void igw_mediate_set_current(igw_mediate *e);

/** igw_mediate_submit on the current engine (for the delivery thread: a route's answer_from).
 *  rq as igw_mediate_submit; rq->ch must be a channel of the configuration the engine was
 *  started with. Never blocks beyond a mutex held while submitting.
 *  @return IGW_OK (rq's answer or commit callback will be called exactly once, perhaps before
 *  this returns), IGW_ECLOSED (no engine: rq's callbacks are never called). */
int igw_mediate_submit_current(const struct igw_mediate_req *rq);

/** Stops the engine thread: every request in flight or waiting is answered 503
 *  (shutting_down), new ones are refused likewise. NULL-safe. Blocks until the thread ended. */
void igw_mediate_stop(igw_mediate *e);

/** Frees the engine once no submit can happen any more (after the HTTP intake stopped).
 *  NULL-safe. */
void igw_mediate_free(igw_mediate *e);

#endif /* IGW_GATEWAY_MEDIATE_MEDIATE_H */
