/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process-wide counters for /metrics and alerts (docs/METRICS.md): accepted messages and HTTP
 * answers per channel, mapping errors, delivery outcomes and a duration histogram per route,
 * circuit state per route. The services bump them on their hot paths (one relaxed atomic add
 * each, no lock, no allocation); the admin API reads a snapshot.
 *
 * One table per process, sized from the configuration by igw_stats_init and owned by that
 * configuration until igw_stats_fini(cfg): a second gateway started in the same process while
 * the first runs gets IGW_EAGAIN and no counters (its bumps are no-ops, as before init and for
 * a channel or route of another configuration). Every function may be called from any
 * thread.
 */
#ifndef IGW_GATEWAY_STATS_H
#define IGW_GATEWAY_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "igw/config.h"

/* HTTP statuses counted apart; others are counted as "other" (status 0 in the snapshot). */
/* clang-format off */
#define IGW_STATS_CODES                                                                     \
    X(200) X(201) X(202) X(204) X(400) X(401) X(403) X(404) X(405) X(408) X(409) X(411)    \
    X(412) X(413) X(415) X(422) X(429) X(431) X(500) X(501) X(502) X(503) X(504)
#define IGW_STATS_NCODES 24 /* the codes above plus "other" */

/* Upper bounds of the delivery duration histogram, in seconds (+Inf implied). */
#define IGW_STATS_BUCKETS                                                                   \
    X(0.005) X(0.01) X(0.025) X(0.05) X(0.1) X(0.25) X(0.5) X(1) X(2.5) X(5) X(10) X(30)
#define IGW_STATS_NBUCKETS 13 /* the bounds above plus +Inf */
/* clang-format on */

enum igw_stats_outcome { IGW_OUTCOME_DELIVERED = 0, IGW_OUTCOME_RETRY, IGW_OUTCOME_DEAD };
#define IGW_STATS_NOUTCOMES 3

/** Sizes the table for cfg's channels and routes, counts at 0 (cfg must outlive the table).
 *  @return IGW_OK, IGW_ENOMEM, IGW_EAGAIN (another configuration's table is in place); on an
 *  error the counters of cfg are off (bumps are no-ops). */
int igw_stats_init(const struct igw_config *cfg);
/** Drops the table when it is cfg's (else nothing). Only when no service of cfg bumps or reads
 *  any more (after they stopped). */
void igw_stats_fini(const struct igw_config *cfg);

/** A message of ch committed (duplicates excluded). ch may be NULL (no-op). */
void igw_stats_accepted(const struct igw_channel *ch);
/** An HTTP answer of the intake; ch NULL when no channel matched. */
void igw_stats_http(const struct igw_channel *ch, unsigned status);
/** A mapping (translation) error at intake or replay. ch may be NULL (no-op). */
void igw_stats_map_error(const struct igw_channel *ch);
/** A finished delivery attempt of r: its outcome and how long it took. r may be NULL. */
void igw_stats_delivery(const struct igw_route *r, enum igw_stats_outcome o, uint64_t dur_us);
/** r's circuit is now state (0 closed, 1 open, 2 half-open); wall-clock time now_ms. */
void igw_stats_circuit(const struct igw_route *r, unsigned state, uint64_t now_ms);

/** The process is shutting down (intake drains): /readyz answers 503 from now on. */
void igw_stats_set_stopping(void);
/** True after igw_stats_set_stopping (until the next igw_stats_init). */
bool igw_stats_stopping(void);

struct igw_stats_route {
    const struct igw_route *route;
    uint64_t outcomes[IGW_STATS_NOUTCOMES];
    uint64_t buckets[IGW_STATS_NBUCKETS]; /* not cumulative: attempts in each bucket */
    uint64_t dur_sum_us;
    uint64_t dur_count;
    unsigned circuit;          /* 0 closed, 1 open, 2 half-open */
    uint64_t circuit_since_ms; /* wall clock when it last left closed; 0 while closed */
};

struct igw_stats_channel {
    const struct igw_channel *channel; /* NULL: requests no channel matched */
    uint64_t accepted;
    uint64_t map_errors;
    uint64_t http[IGW_STATS_NCODES];
};

/** The status of HTTP slot i (0 for "other"). */
unsigned igw_stats_code_at(unsigned i);
/** The upper bound of histogram bucket i in seconds (a negative value for +Inf). */
double igw_stats_bucket_le(unsigned i);

/** Number of channel slots (channels + 1 for "no channel"), or 0 before init. */
unsigned igw_stats_nchannels(void);
/** Number of route slots, or 0 before init. */
unsigned igw_stats_nroutes(void);
/** Copies channel slot i (< igw_stats_nchannels()) into *out; false when i is out of range. */
bool igw_stats_channel_at(unsigned i, struct igw_stats_channel *out);
/** Copies route slot i (< igw_stats_nroutes()) into *out; false when i is out of range. */
bool igw_stats_route_at(unsigned i, struct igw_stats_route *out);

#endif /* IGW_GATEWAY_STATS_H */
