/* SPDX-License-Identifier: Apache-2.0 */
/* Gateway-internal: the HTTP intake's own structs, shared by in_http.c (the request path) and
 * in_http_start.c (start, drain, stop). Nothing outside in_http/ includes this. */
#ifndef IGW_GATEWAY_IN_HTTP_INT_H
#define IGW_GATEWAY_IN_HTTP_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

#include "core/ingest.h"
#include "in_http/in_http.h"
#include "in_http/in_http_face.h"
#include "in_http/in_http_med.h"
#include "http/commit.h"
#include "http/server.h"
#include "http/status.h"
#include "http/throttle.h"

#define DRAIN_MAX (64 * 1024) /* bodies read and dropped before an early error reply */
#define BODY_TIMEOUT_MS 30000 /* a body must arrive within this, else the connection closes */
#define ALLOW_MAX 64
#define BODY_INLINE 4096 /* bodies up to this (minus the NUL) use the request's own buffer */
#define POOL_MAX 1024    /* idle request structs kept */

struct igw_http_in {
    const struct igw_config *cfg;
    igw_queue *q;
    igw_deliverer *d;
    igw_maps *maps;
    igw_mediate *med; /* channels with answer: (gateway/mediate/) */
    igw_http_srv *srv;
    bool guarded; /* the guard is in front: X-Igw-Peer is the guard's (set before start) */
    nng_mtx *mtx; /* with cv: drain and stop wait for inflight to reach 0 */
    nng_cv *cv;
    atomic_uint inflight; /* requests between handle() and finish() */
    atomic_bool closing;
    nng_mtx *pool_mtx;
    struct request *pool; /* idle requests (pool_next), at most POOL_MAX */
    unsigned npool;
    igw_throttle *thr; /* failed authentications per client address */
};

enum phase { PH_CONTINUE, PH_BODY };

struct request {
    struct igw_http_in *hi;
    nng_aio *haio; /* nng's handler aio: finished exactly once, by finish() */
    nng_http_req *req;
    nng_http_conn *conn;
    const struct igw_channel *ch;
    enum igw_http_builtin builtin;    /* a fixed route (wellknown.c) instead of a channel */
    const struct igw_channel *family; /* error shape when ch is NULL (in_http_face.h) */
    struct igw_path_match pm;
    uint64_t clen;
    bool has_clen; /* a Content-Length header was sent */
    bool expect;
    bool rejected;                   /* drain the body, then answer with verdict */
    struct igw_http_verdict verdict; /* close: the connection cannot be reused */
    char allow[ALLOW_MAX];
    enum phase phase;
    char cont[32];
    char *body; /* small, or allocated */
    struct igw_ingest in;
    struct igw_commit commit;
    char wmethod[8];  /* a mediator's commit: the method ingested ("" = the request's) */
    char wctype[128]; /* and its body's media type ("" = the request's Content-Type) */
    /* kept across uses of a pooled request (not cleared by request_reset) */
    struct request *pool_next;
    nng_aio *io; /* our body read (and 100 Continue write); allocated on first use */
    char small[BODY_INLINE];
};

/* nng's handler for every request (in_http.c): runs on a task thread after the headers. */
void igw_in_http_handle(nng_aio *aio);

#endif /* IGW_GATEWAY_IN_HTTP_INT_H */
