/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: DCI message signatures, igw's own key and JWKS, the partners' JWKS cache,
 * partner credentials and callback addresses (docs/DCI.md, "Signatures and partners"). The
 * JOSE work (JWK from PEM, JWS sign and verify, thumbprints) is done by libjose on OpenSSL;
 * this module only assembles and splits the compact serialisation and decides what is signed.
 *
 * What is signed (the DCI `signature` field). DCI says "signature of {header}+{message}" and
 * defines no canonical form; igw does what OpenCRVS's DCI implementation does: the signature
 * is a compact JWS (RFC 7515, RS256 or ES256, protected header {"alg","kid","typ":"JWT"},
 * kid the RFC 7638 thumbprint unless signing.kid says otherwise) whose attached payload is
 * a JSON object {"header": H, "message": M}. A verifier decodes the payload, parses it and
 * requires it to be JSON-equal to the envelope's own header and message (so whitespace and key
 * order of the envelope do not matter, but every value does). igw never re-serialises what it
 * verified: the received bytes are what it stores and forwards.
 *
 * Runtime state: igw_sign_start builds one context from a loaded configuration (igw's keys,
 * the JWKS files, the JWKS cache) and starts its fetch thread, which fetches every partner's
 * jwks_url with libcurl at start, refreshes each after partners.<p>.jwks_ttl and fetches again
 * at once (at most every jwks_min_refetch) when a message names a kid it does not know. The
 * first context started in the process is the current one: the functions below that take no
 * context use it (dialects and route hooks have no other way to reach it); when none is
 * started they answer IGW_EAGAIN (verify, sign) or nothing (jwks). Never on nng's threads:
 * the fetch thread is igw's own; every function below only reads the cache under a lock held
 * for microseconds and never blocks on the network.
 *
 * Threads: igw_sign_start/stop on the gateway's start/stop thread; everything else on any
 * thread (nng task threads, the delivery thread, the queue writer).
 *
 * Secrets: no function logs a key, a token, a client secret or a body.
 */
#ifndef IGW_GATEWAY_SIGN_H
#define IGW_GATEWAY_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/err.h"

typedef struct igw_sign igw_sign;

/* DCI error codes (Error.code of a Response, dci.md section 2.5) that the functions below
 * hand back through their code out-parameter. Static strings. */
#define IGW_DCI_ERR_SIG_MISSING "err.signature.missing"
#define IGW_DCI_ERR_SIG_INVALID "err.signature.invalid"
#define IGW_DCI_ERR_SENDER_URI "err.sender_uri.invalid"
#define IGW_DCI_ERR_UNAUTHORIZED "err.request.unauthorized"
#define IGW_DCI_ERR_UNAVAILABLE "err.service.unavailable"
#define IGW_DCI_ERR_BAD "err.request.bad"

#define IGW_SIGN_MAX 16384 /* longest `signature` value considered (bytes) */
#define IGW_JWKS_MAX 65536 /* largest JWKS document fetched or read */

/* ---- lifecycle ------------------------------------------------------------------------------ */

/** Loads igw's signing keys (signing.key_file, and signing.previous_key_file during a
 *  rotation), every partner's jwks_file, and starts the fetch thread for the jwks_urls. The
 *  fetches run in the background: a partner whose JWKS is not in yet gets IGW_EAGAIN from
 *  igw_sign_verify. cfg must outlive the context. A configuration without `signing` and
 *  without partners gets a context that signs nothing (igw_sign_compact: IGW_ENOENT).
 *  *out (not NULL) is the caller's; free with igw_sign_stop.
 *  @return IGW_OK, IGW_ECONFIG (a key or JWKS file that cannot be read or used: one line in
 *  err), IGW_ENOMEM, IGW_EIO (the thread could not start). */
int igw_sign_start(const struct igw_config *cfg, igw_sign **out, char *err, size_t errlen);

/** Stops the fetch thread (an in-flight fetch is cut within 1 s), frees the context and, when
 *  it was the current one, clears it. NULL-safe. */
void igw_sign_stop(igw_sign *s);

/** What `igw config check` runs: loads the keys and JWKS files as igw_sign_start would, without
 *  starting anything. @return IGW_OK, IGW_ECONFIG (err), IGW_ENOMEM. cfg not NULL. */
int igw_sign_check(const struct igw_config *cfg, char *err, size_t errlen);

/* ---- igw's own key -------------------------------------------------------------------------- */

/** Signs payload[0..len) as a compact JWS with igw's current key (signing.alg, kid). out must
 *  be initialised by the caller (igw_buf_init); the JWS text (no NUL counted) is appended.
 *  payload may be NULL only when len is 0. @return IGW_OK, IGW_ENOENT (no signing key
 *  configured), IGW_EAGAIN (no context started), IGW_ETOOBIG (out's max), IGW_ENOMEM,
 *  IGW_EINTERNAL (libjose refused: a bug or a broken key; detail in err). */
int igw_sign_compact(const void *payload, size_t len, struct igw_buf *out, char *err,
                     size_t errlen);

/** Builds the DCI `signature` value for an envelope: the JWS over {"header":H,"message":M}
 *  where H and M are the raw JSON texts of the header and the message (copied as they are, so
 *  the caller puts the same bytes in its envelope); mlen 0 (an envelope without a message, a
 *  callback may have none) signs {"header":H}. header not NULL; message may be NULL when mlen
 *  is 0. Errors as igw_sign_compact, plus IGW_EINVAL when hlen is 0. */
int igw_sign_envelope(const char *header, size_t hlen, const char *message, size_t mlen,
                      struct igw_buf *out, char *err, size_t errlen);

/** Appends igw's public JWKS ({"keys":[...]}: public parts only, kty, kid, alg, use "sig";
 *  the current key first, then the previous one during a rotation) to out (initialised).
 *  Without a context or a key it appends {"keys":[]}. @return IGW_OK, IGW_ENOMEM,
 *  IGW_ETOOBIG. */
int igw_sign_jwks(struct igw_buf *out);

/* ---- partners ------------------------------------------------------------------------------- */

/** The partner named name (exact match), or NULL. cfg and name may be NULL (then NULL). */
const struct igw_partner *igw_partner_find(const struct igw_config *cfg, const char *name);

/** The partner named name in the current context's configuration (igw_sign_start's cfg), or
 *  NULL (no context, no such partner, name NULL). For code that has no configuration at hand
 *  (route hooks). */
const struct igw_partner *igw_partner_current(const char *name);

/** The DCI path of an action: "on-search" -> "/registry/on-search", "notify" ->
 *  "/registry/notify", "txn-on-status" -> "/registry/txn/on-status", "search" ->
 *  "/registry/search", ... (static string), or NULL for an unknown or NULL action. */
const char *igw_dci_action_path(const char *action);

/** Checks an Authorization header value ("Bearer <token>"; NULL = missing) against partner p:
 *  one of its static tokens (partners.<p>.auth, constant time) or an access token igw issued
 *  to it at the token endpoint, still valid. p not NULL. @return IGW_OK, IGW_EAUTH (missing,
 *  unknown, expired or issued to another partner). */
int igw_partner_auth(const struct igw_partner *p, const char *authorization);

/** Verifies the DCI signature of an envelope body[0..len) from partner p (p not NULL, body
 *  may be NULL only when len is 0). When p->verify is false it returns IGW_OK without looking.
 *  Otherwise the body's `signature` must be a compact JWS (RS256 or ES256; `none`, HMAC and
 *  any other alg are refused) by a key of p's JWKS picked by the protected header's kid, over
 *  a payload JSON-equal to {"header": body.header, "message": body.message}; a protected
 *  header `exp` (NumericDate) must not be past (60 s skew). An unknown kid asks the fetch
 *  thread for p's JWKS again (rate-limited) and is refused this time. *code (not NULL) gets
 *  the DCI error code on a refusal (static), err a short reason without secrets.
 *  @return IGW_OK; IGW_ENOENT (no or empty signature: err.signature.missing); IGW_EAUTH
 *  (invalid, forged, expired, unknown kid: err.signature.invalid); IGW_EPARSE (body is not a
 *  JSON object with header: err.request.bad); IGW_EAGAIN (p's JWKS not fetched yet, or no
 *  context: err.service.unavailable); IGW_ENOMEM. */
int igw_sign_verify(const struct igw_partner *p, const char *body, size_t len, const char **code,
                    char *err, size_t errlen);

/* What igw_partner_intake decided about an inbound DCI request. */
struct igw_partner_verdict {
    const struct igw_partner *partner; /* the partner the credentials belong to, or NULL */
    int status;                        /* 0 = accepted; else 400, 401 or 503 */
    const char *code;                  /* DCI Error.code when refused (static), else NULL */
    char msg[128];                     /* short reason when refused, without secrets */
};

/** The partner checks of an inbound DCI request to a channel serving the partners named in
 *  names[0..n) (the channel's dci.partner), in this order: credentials (authorization, the
 *  Authorization value, NULL = none: a partner with static tokens or a client_id must present
 *  one of them, else 401 err.request.unauthorized; a partner with neither is identified as
 *  the only one named or by header.sender_id = its name), the signature (igw_sign_verify: 401
 *  err.signature.missing / err.signature.invalid, 400 err.request.bad, 503
 *  err.service.unavailable) and header.sender_uri when present (igw_partner_callback_url: 400
 *  err.sender_uri.invalid), so that nothing that cannot be answered is acknowledged. cfg NULL
 *  = the current context's configuration (igw_partner_current: for the dialect, which has no
 *  configuration at hand); v not NULL; names may be NULL when n is 0 (then v->status 0 and no
 * partner). body is the received body, never modified. @return IGW_OK (v filled, whatever
 * v->status), IGW_ENOMEM. */
int igw_partner_intake(const struct igw_config *cfg, char *const *names, size_t n,
                       const char *authorization, const char *body, size_t len,
                       struct igw_partner_verdict *v);

/* ---- OAuth2 client credentials (POST /oauth2/client/token) --------------------------------- */

/** Answers a token request: form is the application/x-www-form-urlencoded body (client_id,
 *  client_secret, grant_type=client_credentials, optional scope). On success appends
 *  {"access_token":..., "token_type":"bearer", "expires_in":N} to out and sets *status 200;
 *  otherwise appends the RFC 6749 error object ({"error":"invalid_client"} ...) and sets
 *  *status 400 or 401. The token is a JWT signed with igw's key (sub = the partner's name,
 *  exp = now + signing.token_ttl) that igw_partner_auth checks. cfg, status, out not NULL.
 *  @return IGW_OK (an answer is in out, whatever *status), IGW_ENOMEM, IGW_ETOOBIG. */
int igw_sign_token_answer(const struct igw_config *cfg, const char *form, size_t len, int *status,
                          struct igw_buf *out);

/* ---- callback addresses --------------------------------------------------------------------- */

/** The URL a callback to p goes to: the base URL of p that sender_uri is under, joined with
 *  dci_path ("/registry/on-search"). sender_uri NULL or "" picks p's first base URL. A
 *  sender_uri is under a base URL when scheme, host and port are equal (case-insensitive,
 *  default ports made explicit) and its path starts with the base's path at a segment
 *  boundary; userinfo, a fragment, "..", "." or encoded-dot segments, backslashes, control
 *  characters and blanks refuse it. The result is always the configured base + dci_path,
 *  never text from sender_uri. url must be initialised. p and dci_path not NULL.
 *  @return IGW_OK, IGW_EINVAL (refused: *code = err.sender_uri.invalid, reason in err),
 *  IGW_ENOENT (p has no base_urls), IGW_ENOMEM. */
int igw_partner_callback_url(const struct igw_partner *p, const char *sender_uri,
                             const char *dci_path, struct igw_buf *url, const char **code,
                             char *err, size_t errlen);

/** Checks an absolute http(s) URL the way base_urls and sender_uri are read: scheme http or
 *  https, a host (name, IPv4 or [IPv6]) and optional port, no user info, query, fragment,
 *  backslash, blanks, dot segments or encoded dots and slashes. The config loader uses it for
 *  partners.<p>.base_urls and jwks_url. url may be NULL (refused).
 *  @return IGW_OK, IGW_EINVAL (reason in err). */
int igw_partner_url_check(const char *url, char *err, size_t errlen);

/* The route hook of a route whose url is `callback:<partner>` (bound by the config loader):
 * per payload (a DCI envelope) the URL is igw_partner_callback_url(partner,
 * header.sender_uri or else header.meta.sender_uri, the DCI path of header.action); a payload
 * whose address is refused is dead-lettered, never sent. Defined in out_http/callback.c. */
struct igw_route_hook;
extern const struct igw_route_hook igw_dci_callback_hook;

/* The signing body hook (delivery/output.h, struct igw_route_body), bound to a route by its
 * option sign (true; auto on a callback:<partner> route whose partner has sign: true): a
 * payload that is a DCI envelope with no signature (absent, null or "") is sent as
 * {"signature": JWS, "header": H, "message": M}, signed with igw_sign_envelope over exactly
 * the H and M bytes sent; one that carries a signature (igw's, or a relayed sender's) is sent
 * byte for byte (IGW_ENOENT), and so is every payload while igw has no signing key. A payload
 * that is not a JSON object with a header object is refused (IGW_EINVAL: dead letter).
 * Defined in out_http/callback.c. */
struct igw_route_body;
extern const struct igw_route_body igw_dci_sign_body;

#endif /* IGW_GATEWAY_SIGN_H */
