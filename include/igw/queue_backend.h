/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The queue backend seam: what a storage engine implements to sit behind include/igw/queue.h.
 *
 * A backend is one const struct igw_queue_backend (a table of operations, like nng's protocol
 * ops or Fluent Bit's output plugins) in its own folder queue/<name>/, and one line in the
 * registry (queue/registry/registry.c). The facade (queue/queue.c) owns the igw_queue handle,
 * checks the arguments every backend would check the same way (NULL pointers, names, lengths and
 * limits, see each operation) and then makes exactly one indirect call; it copies nothing and
 * allocates nothing per message. The backend's state is an opaque pointer (be) that its open
 * returns.
 *
 * What every backend must guarantee (durable before the callback, at-least-once, per-key order,
 * idempotency, in-flight back to pending at open, events after commit) is written in
 * docs/internals/QUEUE-BACKEND.md, and tests/unit/queue/contract*.c checks it: a new backend
 * runs that suite unchanged by handing it an open function (see tests/unit/queue/contract.h).
 *
 * Unless said otherwise an operation has the contract of the igw_queue_* function of the same
 * name in queue.h (same results, same errors, same ownership, same threads), with be in place
 * of q and the facade's checks already done: be is never NULL, and the pointers and values the
 * facade checks are valid when the operation runs. Every operation is mandatory.
 */
#ifndef IGW_QUEUE_BACKEND_H
#define IGW_QUEUE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/queue.h"

struct igw_queue_backend {
    const char *name;        /* registry name ("lmdb"), the value of igw_queue_opts.backend */
    const char *description; /* one line for humans */

    /** Opens the backend's storage. opts is never NULL; its retention times are resolved (never
     *  0: the facade fills the defaults of queue.h); opts->backend_opts is the caller's pointer
     *  as given (may be NULL: the backend decides whether it has defaults). Nothing in opts is
     *  kept after the call. On IGW_OK *be is the backend's state, owned by the facade until it
     *  calls close. Errors: as igw_queue_open (IGW_EINVAL for refused options, IGW_EIO,
     *  IGW_ENOMEM), with one line in errbuf (may be NULL with errlen 0); *be is then unset. */
    int (*open)(void **be, const struct igw_queue_opts *opts, char *errbuf, size_t errlen);
    /** igw_queue_close: commits what was submitted, stops threads, frees be. */
    void (*close)(void *be);

    /** igw_queue_submit. The facade checked m against every limit of queue.h (names, lengths,
     *  distinct routes, route count), m and cb are not NULL. */
    int (*submit)(void *be, const struct igw_queue_msg *m, igw_queue_done_fn cb, void *arg);
    /** igw_queue_put, checked as submit; id and duplicate may be NULL. */
    int (*put)(void *be, const struct igw_queue_msg *m, uint64_t *id, bool *duplicate);

    /** igw_queue_claim. n is not NULL and *n is 0; out is not NULL when max > 0. */
    int (*claim)(void *be, uint64_t now_ms, unsigned max, igw_queue_route_filter_fn filter,
                 void *arg, struct igw_queue_claim *out, unsigned *n);
    /** igw_queue_complete. o is not NULL when n > 0 and every o[i].route is not NULL; n 0
     *  asks nothing (IGW_OK, or IGW_ECLOSED when closing; no commit). */
    int (*complete)(void *be, const struct igw_queue_outcome *o, unsigned n);
    /** igw_queue_round_start. rd was checked as igw_queue_round documents; its results are
     *  reset (complete_rv, claim_rv IGW_OK, n 0, priv NULL). rd->priv is the backend's until
     *  round_done returns true or round_wait returns. */
    int (*round_start)(void *be, struct igw_queue_round *rd, void (*notify)(void *arg),
                       void *notify_arg);
    /** igw_queue_round_done (rd not NULL). */
    bool (*round_done)(void *be, struct igw_queue_round *rd);
    /** igw_queue_round_wait (rd not NULL). */
    void (*round_wait)(void *be, struct igw_queue_round *rd);
    /** igw_queue_next_due. */
    uint64_t (*next_due)(void *be);

    /** igw_queue_stats. s is not NULL and already zeroed. */
    int (*stats)(void *be, struct igw_queue_stats *s);
    /** igw_queue_deliveries. n is not NULL and *n is 0; out is not NULL when max > 0. */
    int (*deliveries)(void *be, uint64_t id, struct igw_queue_delivery_info *out, unsigned max,
                      unsigned *n);
    /** igw_queue_dead_get. route is a valid name; *out is zeroed with an empty response. */
    int (*dead_get)(void *be, uint64_t id, const char *route, struct igw_queue_dead_info *out);
    /** igw_queue_release. route is NULL (all routes) or a valid name; released is not NULL
     *  and *released is 0. */
    int (*release)(void *be, uint64_t id, const char *route, unsigned *released);
    /** igw_queue_retry_now, checked as release (changed not NULL, 0). */
    int (*retry_now)(void *be, uint64_t id, const char *route, unsigned *changed);
    /** igw_queue_list. f is not NULL (zeroed when the caller gave none), its names valid,
     *  idem_key only with channel; pg is zeroed; out is not NULL when max > 0. */
    int (*list)(void *be, const struct igw_queue_filter *f, uint64_t before, unsigned max,
                struct igw_queue_list_item *out, struct igw_queue_list_page *pg);
    /** igw_queue_route_stats (n not NULL, *n 0). */
    int (*route_stats)(void *be, struct igw_queue_route_stats *out, unsigned max, unsigned *n);
    /** igw_queue_channel_stats (n not NULL, *n 0). */
    int (*channel_stats)(void *be, struct igw_queue_channel_stats *out, unsigned max, unsigned *n);
    /** igw_queue_attempts. route is a valid name, n not NULL (*n 0), total not NULL. */
    int (*attempts)(void *be, uint64_t id, const char *route, struct igw_queue_attempt *out,
                    unsigned max, unsigned *n, uint32_t *total);
    /** igw_queue_payload_get. route is a valid name; *out is zeroed with an empty buffer. */
    int (*payload_get)(void *be, uint64_t id, const char *route, struct igw_queue_payload *out);
    /** igw_queue_purge. */
    int (*purge)(void *be, uint64_t id);
    /** igw_queue_sweep. limit > 0, removed is not NULL and *removed is 0. */
    int (*sweep)(void *be, uint64_t now_ms, unsigned limit, unsigned *removed);

    /** igw_queue_message_get. *out is zeroed with empty buffers and out->id = id; on error the
     *  facade finalises it again (the backend may leave partial copies). */
    int (*message_get)(void *be, uint64_t id, struct igw_queue_message *out);
    /** igw_queue_replay. 1 <= n <= IGW_QUEUE_ROUTES_MAX and every route was checked against
     *  the limits of queue.h (valid distinct names, lengths). */
    int (*replay)(void *be, uint64_t id, const struct igw_queue_replay_route *routes, unsigned n);
    /** igw_queue_set_listener (fn NULL removes it). */
    void (*set_listener)(void *be, igw_queue_event_fn fn, void *arg);
};

/** The registered backend called name (NULL = "lmdb", the default), or NULL when there is none.
 *  The result is a static table: never freed. */
const struct igw_queue_backend *igw_queue_backend_find(const char *name);

/** The i-th registered backend (0-based, in registry order), or NULL when i is past the end:
 *  for listing them (`igw --help`, docs). Static, never freed. */
const struct igw_queue_backend *igw_queue_backend_at(unsigned i);

#endif /* IGW_QUEUE_BACKEND_H */
