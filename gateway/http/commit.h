/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: handing a prepared message to the queue and answering once it is stored,
 * shared by the HTTP intake (in_http/) and the SP intake (in_sp/). The transport says how it
 * answers (struct igw_commit_ops); this piece submits, maps a failure through the intake rows
 * of the status table (http/status.h), logs the outcome and kicks the delivery engine for a new
 * message that has routes. No allocation; nothing blocks.
 */
#ifndef IGW_GATEWAY_HTTP_COMMIT_H
#define IGW_GATEWAY_HTTP_COMMIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "igw/config.h"
#include "igw/queue.h"
#include "delivery/deliver.h"
#include "http/status.h"

/* How a transport answers a submitted message. Exactly one of refuse and accept is called per
 * igw_commit_submit or igw_commit_fail, either before that call returns or later on the
 * queue's writer thread; neither may block. After it is called the igw_commit is no longer
 * touched, so the callback may free or reuse the memory holding it. */
struct igw_commit_ops {
    const char *name; /* the transport in the failure log line: "http", "sp" */
    const char *via;  /* appended to the accepted log line: "" or " via=sp" */
    /* The message was not stored: answer v (static strings; v lives for the call only). */
    void (*refuse)(void *arg, const struct igw_http_verdict *v);
    /* The message is stored under id (duplicate: it was already, under its idempotency key). */
    void (*accept)(void *arg, uint64_t id, bool duplicate);
};

/* One message on its way into the queue; the caller's storage (e.g. inside its request), filled
 * before igw_commit_submit. Every pointer is borrowed and must stay valid until ops is called. */
struct igw_commit {
    const struct igw_commit_ops *ops;
    void *arg;                    /* passed to ops */
    const struct igw_channel *ch; /* the message's channel (name logged, routes counted) */
    igw_deliverer *d;             /* kicked for a new message with routes; may be NULL */
    size_t bytes;                 /* body length, logged */
};

/** Submits m (igw_queue_submit copies it before return, so m may be freed afterwards) and
 *  answers through c->ops: accept after the group commit, refuse on failure (the intake row of
 *  the error: IGW_ENOSPC 503 queue_full, IGW_ECLOSED 503 shutting_down with close, IGW_ENOMEM
 *  503 overloaded, IGW_ETOOBIG 413, anything else 500 internal, logged as an error). c, q and m
 *  must not be NULL. Returns nothing: every outcome goes to c->ops. */
void igw_commit_submit(struct igw_commit *c, igw_queue *q, const struct igw_queue_msg *m);

/** Answers c through c->ops->refuse with the intake row of err (as igw_commit_submit does on
 *  failure): for a message that failed before it reached the queue (e.g. IGW_ENOMEM while
 *  preparing it). c must not be NULL. */
void igw_commit_fail(struct igw_commit *c, int err);

#endif /* IGW_GATEWAY_HTTP_COMMIT_H */
