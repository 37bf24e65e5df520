/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failed-authentication throttle (gateway/http/throttle.c): one token bucket per client address
 * in a table of fixed size, so a spray of addresses costs no memory beyond it. Each failed
 * authentication takes a token; tokens come back at a steady rate up to the burst; an address
 * without a token is refused (429 with Retry-After) before its credentials are checked, so a
 * guesser learns nothing while throttled. Thread-safe (one mutex); never blocks otherwise.
 * docs/HTTP-INGEST.md ("Brute force") explains the choices.
 */
#ifndef IGW_GATEWAY_HTTP_THROTTLE_H
#define IGW_GATEWAY_HTTP_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct igw_throttle igw_throttle;

#define IGW_THROTTLE_ADDR_MAX 64 /* longest address kept (longer ones are cut; still one key) */
#define IGW_THROTTLE_WAIT_MAX 60 /* the longest Retry-After given, seconds */

/** Creates a throttle. burst: failures an address may make at once (0: the throttle is off and
 *  every call below allows everything); per_minute: tokens an address gets back per minute
 *  (>= 1 when burst > 0); slots: addresses tracked at once (rounded up to a power of two, at
 *  least 16). On success *out belongs to the caller (igw_throttle_free).
 *  @return IGW_OK, IGW_EINVAL (out NULL, or burst > 0 with per_minute 0), IGW_ENOMEM. */
int igw_throttle_new(igw_throttle **out, unsigned burst, unsigned per_minute, unsigned slots);

/** Frees t; NULL-safe. No call on t may be running or follow. */
void igw_throttle_free(igw_throttle *t);

/** Before a credential check: 0 when addr may try, else the seconds it must wait (1 ..
 *  IGW_THROTTLE_WAIT_MAX). t NULL or off: always 0. addr (borrowed, not kept; NULL counts as
 *  "-") is the client address of igw_http_peer. now_ms is a monotonic clock (igw_mono_ms). */
unsigned igw_throttle_wait(igw_throttle *t, const char *addr, uint64_t now_ms);

/** After a failed credential check: takes one of addr's tokens (tracking addr if it was not
 *  yet; when the table is full the address with the most tokens left is forgotten). Returns
 *  true when addr has no token left (its next attempt will wait). t NULL or off: false. */
bool igw_throttle_fail(igw_throttle *t, const char *addr, uint64_t now_ms);

/** Addresses tracked now (for tests and stats). 0 when t is NULL. */
unsigned igw_throttle_tracked(igw_throttle *t);

/** The decimal text of secs for a Retry-After header: static, never NULL; secs is clamped to
 *  1 .. IGW_THROTTLE_WAIT_MAX. */
const char *igw_throttle_retry_after(unsigned secs);

#endif /* IGW_GATEWAY_HTTP_THROTTLE_H */
