/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to gateway/mediate/: the pieces the engine (engine.c, engine_call.c) is built from,
 * pure enough to be unit-tested alone (tests/unit/gateway/mediate/): the response cache
 * (cache.c), and the upstream helpers (upstream.c): token bucket, login body and answer, JWT
 * expiry, the call-path check and the normalised cache key.
 */
#ifndef IGW_GATEWAY_MEDIATE_INT_H
#define IGW_GATEWAY_MEDIATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/config.h"

/* ---- cache.c: one channel's response cache ---------------------------------------------- */

typedef struct igw_mcache igw_mcache;

/* A cached answer; every string NUL-terminated, NULL when absent. */
struct igw_mcache_val {
    int status;
    const char *content_type;
    const char *etag;
    const char *last_modified;
    const char *body;
    size_t body_len;
};

/** A cache of at most max_entries answers and max_bytes bytes, each fresh for ttl_ms.
 *  @return IGW_OK, IGW_ENOMEM, IGW_EINVAL (a zero limit). */
int igw_mcache_new(igw_mcache **out, unsigned max_entries, uint64_t max_bytes, uint64_t ttl_ms);

/** Frees the cache; NULL-safe. */
void igw_mcache_free(igw_mcache *c);

/** Looks key up at time now_ms; on a fresh hit calls fn with the value (valid during the call
 *  only, under the cache's lock: fn must not call the cache) and returns true. A stale entry is
 *  dropped. Thread-safe. */
bool igw_mcache_get(igw_mcache *c, const char *key, size_t klen, uint64_t now_ms,
                    void (*fn)(void *arg, const struct igw_mcache_val *v), void *arg);

/** Stores a copy of v under key with tag (may be NULL), evicting the least recently used
 *  entries to stay within the limits; an answer larger than a quarter of max_bytes is not
 *  kept. Thread-safe. @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG (not kept). */
int igw_mcache_put(igw_mcache *c, const char *key, size_t klen, const char *tag, uint64_t now_ms,
                   const struct igw_mcache_val *v);

/** Drops every entry tagged tag; returns how many. Thread-safe. */
unsigned igw_mcache_invalidate(igw_mcache *c, const char *tag);

/** Entries and bytes held (for tests and stats). */
void igw_mcache_usage(igw_mcache *c, unsigned *entries, uint64_t *bytes);

/* ---- upstream.c: limits, credentials, addresses ---------------------------------------- */

/* A token bucket: rate_per_minute calls per minute, at most burst at once. */
struct igw_bucket {
    double tokens;
    double per_ms;
    double burst;
    uint64_t last_ms;
};

/** Fills b full at time now_ms; rate_per_minute 0 = unlimited. */
void igw_bucket_init(struct igw_bucket *b, unsigned rate_per_minute, unsigned burst,
                     uint64_t now_ms);

/** Takes one token at now_ms: false when the bucket is empty (the call must not be made). */
bool igw_bucket_take(struct igw_bucket *b, uint64_t now_ms);

/** Milliseconds until a token is back (0 when one is there). */
uint64_t igw_bucket_wait_ms(const struct igw_bucket *b, uint64_t now_ms);

/** The `exp` claim (seconds since the epoch) of a JWT (header.payload.signature, base64url),
 *  not verified: igw only needs to know when to log in again. @return IGW_OK, IGW_EPARSE. */
int igw_jwt_exp(const char *tok, size_t len, uint64_t *exp_s);

/** Appends the login body: tmpl with {user} and {password} replaced by the two halves of
 *  secret ("user:password"), JSON-string-escaped (form false) or percent-encoded (form true).
 *  @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG, IGW_EINVAL (no ':' in secret). */
int igw_login_body(struct igw_buf *b, const char *tmpl, const char *secret, size_t slen, bool form);

/** Reads the token at token_path (dotted) of a JSON login answer, and its lifetime: the number
 *  at expires_path (seconds) when set, else the JWT's exp relative to now_ms (wall clock),
 *  else 0. *tok is igw_malloc'd (the caller wipes and frees it). @return IGW_OK, IGW_EPARSE (no
 *  JSON, no token there), IGW_ENOMEM. */
int igw_login_parse(const char *body, size_t len, const char *token_path, const char *expires_path,
                    uint64_t now_ms, char **tok, uint64_t *ttl_ms);

/** True when path is a plain absolute path with an optional query a call may use under an
 *  upstream's base: starts with one '/', no "." or ".." segment, no '\\', '#', blanks or
 *  control bytes, no "//" (so no scheme or host can be smuggled in). */
bool igw_med_path_ok(const char *path);

/** Appends the cache key of a request: channel name, method (HEAD as GET), the path, the
 *  query parameters sorted (stable on equal names), and Accept (may be NULL).
 *  @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG. */
int igw_med_cache_key(struct igw_buf *b, const char *channel, const char *method,
                      const char *target, const char *accept);

/** Percent-encodes s[0..n) (RFC 3986 unreserved kept) onto b. @return IGW_OK, IGW_ENOMEM,
 *  IGW_ETOOBIG. */
int igw_med_pct_encode(struct igw_buf *b, const char *s, size_t n);

/** Finds query parameter name in target's query and percent-decodes its first value into out
 *  ('+' is a blank). @return IGW_OK, IGW_ENOENT (absent), IGW_EPARSE (bad escape), IGW_ETOOBIG. */
int igw_med_query_get(const char *target, const char *name, char *out, size_t outlen, size_t *len);

#endif /* IGW_GATEWAY_MEDIATE_INT_H */
