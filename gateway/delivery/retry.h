/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal (delivery engine): the retry policy of a route (struct igw_retry_policy, in
 * include/igw/config.h, read from the route's retry section): exponential backoff with full jitter
 * (AWS architecture blog, Fluent Bit scheduler): the wait before attempt n+1 is uniform(base,
 * min(cap, base * 2^n)). A delivery is exhausted when it has made max_attempts attempts (0 = no
 * limit) or when the message is older than max_age_ms (0 = no limit). Pure functions; thread-safe.
 */
#ifndef IGW_GATEWAY_DELIVERY_RETRY_H
#define IGW_GATEWAY_DELIVERY_RETRY_H

#include <stdint.h>
#include <stdbool.h>

#include "igw/config.h"

/** Wait in ms before the next attempt after `attempts` failed attempts (attempts >= 1), using
 *  rnd (any 64-bit random value) for the jitter. Never overflows; result in [base, cap]. */
uint64_t igw_retry_delay_ms(const struct igw_retry_policy *p, uint32_t attempts, uint64_t rnd);

/** True when no further attempt is allowed: attempts >= max_attempts, or the next attempt at
 *  next_ms would be later than created_ms + max_age_ms. */
bool igw_retry_exhausted(const struct igw_retry_policy *p, uint32_t attempts, uint64_t created_ms,
                         uint64_t next_ms);

/** Parses an HTTP Retry-After value (delta-seconds or an IMF-fixdate) relative to now_ms into a
 *  wait in ms. @return IGW_OK or IGW_EINVAL. */
int igw_retry_after_parse(const char *value, uint64_t now_ms, uint64_t *wait_ms);

#endif /* IGW_GATEWAY_DELIVERY_RETRY_H */
