/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gateway/sign internal: the context shared by its files.
 *   keys.c    igw's keys from PEM, compact signing, the served JWKS, start/stop/check
 *   verify.c  compact JWS verification against a JWK set, the DCI envelope check
 *   fetch.c   the partners' JWKS cache and the fetch thread (libcurl)
 *   token.c   OAuth2 client-credentials tokens and partner credentials
 *   url.c     callback addresses
 * Locking: mu guards the partners' key sets (keys, fetched_ms, want, ...) and stop; igw's own
 * keys are written once at start and read-only afterwards.
 */
#ifndef IGW_GATEWAY_SIGN_INT_H
#define IGW_GATEWAY_SIGN_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sign/sign.h"

#define SIGN_KID_MAX 128
#define SIGN_SKEW_S 60 /* clock skew allowed on exp */

struct sign_key {
    json_t *jwk; /* private JWK (NULL = none) with alg, kid, use */
    json_t *pub; /* its public part */
    char kid[SIGN_KID_MAX];
    char alg[8];
};

/* One partner's verification keys. */
struct sign_jwks {
    json_t *keys;         /* JSON array of JWKs (NULL = not loaded yet) */
    uint64_t fetched_ms;  /* mono time of the last good fetch */
    uint64_t last_try_ms; /* mono time of the last attempt (0 = never) */
    bool want;            /* an unknown kid asked for a refetch */
    bool failing;         /* the last attempt failed (logged once per streak) */
};

struct igw_sign {
    const struct igw_config *cfg;
    struct sign_key cur, prev;
    struct sign_jwks *jwks; /* one per cfg->partners[i] */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool has_thread;
    bool stop;
};

/* The current context (keys.c); NULL when none is started. */
igw_sign *sign_current(void);

/* keys.c: loads a PEM private key for alg into k (kid NULL = thumbprint). */
int sign_key_load(const char *path, const char *alg, const char *kid, struct sign_key *k, char *err,
                  size_t errlen);
void sign_key_fini(struct sign_key *k);
/* Signs payload with k into out (compact JWS, protected header alg, kid, typ JWT). */
int sign_key_compact(const struct sign_key *k, const void *payload, size_t len, struct igw_buf *out,
                     char *err, size_t errlen);

/* verify.c: verifies compact jws[0..n) with the key of keys (array) its kid names. On success
 * *payload (caller decrefs) is the parsed payload when parse_payload, and *hdr the protected
 * header (caller decrefs). @return IGW_OK, IGW_EAUTH (err), IGW_ENOENT (kid not in keys),
 * IGW_ENOMEM. */
int sign_verify_compact(const char *jws, size_t n, const json_t *keys, json_t **hdr,
                        json_t **payload, char *err, size_t errlen);
/* Parses a JWK set document into a new array of usable signature keys (RSA, EC P-256). */
int sign_jwks_parse(const char *text, size_t len, json_t **keys, char *err, size_t errlen);

/* fetch.c */
int sign_fetch_start(igw_sign *s, char *err, size_t errlen);
void sign_fetch_stop(igw_sign *s);
/* The partner's key set (a new reference, NULL when not loaded); kick: ask for a refetch. */
json_t *sign_jwks_get(igw_sign *s, const struct igw_partner *p);
void sign_jwks_kick(igw_sign *s, const struct igw_partner *p);

/* b64url without padding of n bytes into out. */
int sign_b64url(const void *p, size_t n, struct igw_buf *out);

#endif /* IGW_GATEWAY_SIGN_INT_H */
