/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One delivery round in one trip to the queue's writer: record the outcomes of finished
 * deliveries and claim the next ones, both in the same group commit (igw_queue_complete then
 * igw_queue_claim would wait for two commits). Used by the delivery engine
 * (gateway/deliver.c). Kept beside the queue rather than in include/igw/queue.h, whose owner
 * may move it there; the types are those of queue.h.
 */
#ifndef IGW_QUEUE_ROUND_H
#define IGW_QUEUE_ROUND_H

#include "igw/queue.h"

struct igw_queue_round {
    /* in: outcomes to record first (as igw_queue_complete; may be 0) */
    const struct igw_queue_outcome *outcomes;
    unsigned noutcomes;
    /* in: the claim (as igw_queue_claim; max 0 = no claim) */
    uint64_t now_ms;
    unsigned max;
    igw_queue_route_filter_fn filter;
    void *arg;
    struct igw_queue_claim *out; /* max entries */
    /* out */
    int complete_rv; /* igw_queue_complete's result for the outcomes (IGW_OK when none) */
    int claim_rv;    /* igw_queue_claim's result (IGW_OK when nothing was due) */
    unsigned n;      /* claims written to out (owned by the caller, igw_queue_claim_fini) */
    void *priv;      /* the queue's, while the round is in flight */
};

/** Records rd->outcomes, then claims up to rd->max due deliveries, in one committed group
 *  (complete first: a delivered head's follower can be claimed in the same round). Blocks until
 *  committed. The filter runs on the caller's thread before the trip. A group with only claims
 *  and outcomes commits without the metadata flush (MDB_NOMETASYNC: consistent, and a system
 *  crash may undo it: in-flight deliveries return to pending, a recorded outcome may be redone,
 *  which at-least-once allows); a process crash loses nothing.
 *  @return IGW_OK with the two results in rd, or IGW_EINVAL (NULL q/rd, an outcome without a
 *          route, out NULL with max > 0). */
int igw_queue_round(igw_queue *q, struct igw_queue_round *rd);

/** Starts rd without waiting. When the round is committed, notify(notify_arg) (may be NULL) runs
 *  on the writer thread while the queue's lock is held: it must be quick and must not call the
 *  queue (curl_multi_wakeup is fine). Until igw_queue_round_done returns true (or
 *  igw_queue_round_wait returns), rd, its outcomes and its out array must stay untouched.
 *  A round with nothing to send, or a closing queue, is done at once (results set).
 *  @return IGW_OK, or IGW_EINVAL as igw_queue_round (then nothing was started). */
int igw_queue_round_start(igw_queue *q, struct igw_queue_round *rd, void (*notify)(void *arg),
                          void *notify_arg);

/** True (and rd's results filled) when the round started by igw_queue_round_start is done. */
bool igw_queue_round_done(igw_queue *q, struct igw_queue_round *rd);

/** Waits until the round is done and fills rd's results. */
void igw_queue_round_wait(igw_queue *q, struct igw_queue_round *rd);

#endif /* IGW_QUEUE_ROUND_H */
