/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine: one thread running a libcurl multi loop that claims due deliveries from the
 * queue, sends them to each route's destination (http/https, file://, nng tcp:// or ipc://),
 * and records the outcome (delivered, retry at a backoff time, or dead-letter).
 */
#ifndef IGW_GATEWAY_DELIVER_H
#define IGW_GATEWAY_DELIVER_H

#include "igw/config.h"
#include "igw/queue.h"

typedef struct igw_deliverer igw_deliverer;

/** Starts the delivery thread. cfg and q must outlive the deliverer.
 *  @return IGW_OK, IGW_ENOMEM, IGW_EIO (curl or thread start failed; detail in errbuf). */
int igw_deliverer_start(igw_deliverer **out, const struct igw_config *cfg, igw_queue *q,
                        char *errbuf, size_t errlen);

/** Tells the engine that new deliveries may be due now (called after an accept). Thread-safe,
 *  never blocks; cheap enough to call for every message. */
void igw_deliverer_kick(igw_deliverer *d);

struct igw_deliverer_stats {
    uint64_t attempts;      /* finished attempts (releases are not attempts) */
    uint64_t delivered;     /* attempts that delivered */
    uint64_t skipped;       /* of those, finished with nothing to send (a DCI notify no
                               subscription matches: igw_dlv_finish_skipped) */
    uint64_t retried;       /* attempts that failed and were scheduled again */
    uint64_t dead;          /* deliveries dead-lettered (4xx or exhausted) */
    unsigned inflight;      /* attempts running now */
    unsigned open_circuits; /* routes whose circuit is open or half-open */
};
/** Copies the engine's counters (atomic; any thread). */
void igw_deliverer_stats(igw_deliverer *d, struct igw_deliverer_stats *s);

/** The circuit state of route (full name): "closed", "open", "half_open", or "none" when d is
 *  NULL or the engine has no such route. Static strings; any thread (an atomic mirror of the
 *  breaker's state, docs/DELIVERY.md). */
const char *igw_deliverer_circuit(igw_deliverer *d, const char *route);

/** Stops the engine: in-flight transfers get up to 2 s to finish, then are released back to
 *  pending (not counted as attempts). Frees d. NULL-safe. Call it before igw_queue_close: the
 *  outcomes are recorded in the queue (if it is already closed they are lost, and the queue
 *  returns those deliveries to pending at its next open). Behaviour: docs/DELIVERY.md. */
void igw_deliverer_stop(igw_deliverer *d);

#endif /* IGW_GATEWAY_DELIVER_H */
