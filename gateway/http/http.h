/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal HTTP helpers: channel path patterns ("/events/openimis/{event}"), media type
 * comparison and header parsing. Pure functions, no nng (igw_http_peer only reads an nng
 * request), thread-safe; unit-tested by tests/unit/gateway/http/route_match_test.c, auth_test.c
 * and peer_test.c.
 */
#ifndef IGW_GATEWAY_HTTP_INT_H
#define IGW_GATEWAY_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define IGW_PATH_MAX_PARAMS 8  /* most {name} segments in one pattern */
#define IGW_PATH_MAX_LEN 2048  /* longest request path considered */
#define IGW_PATH_PARAM_MAX 256 /* longest decoded parameter value */

/* One captured path parameter. name points into the pattern, value into the caller's scratch
 * buffer given to igw_path_match (decoded, NUL-terminated). */
struct igw_path_param {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct igw_path_match {
    struct igw_path_param params[IGW_PATH_MAX_PARAMS];
    unsigned nparams;
    unsigned literals; /* literal segments matched: the more, the more specific */
    char scratch[IGW_PATH_MAX_LEN + IGW_PATH_MAX_PARAMS];
};

/** Checks a pattern: starts with '/', non-empty segments, each a literal of URL-safe characters
 *  or a whole "{name}" segment ([A-Za-z0-9_], unique). @return IGW_OK or IGW_EINVAL with a
 *  short reason in err. */
int igw_path_pattern_check(const char *pattern, char *err, size_t errlen);

/** Matches a request target (path, optionally followed by "?query", which is ignored) against
 *  a checked pattern. Each path segment is percent-decoded before comparison; a segment that
 *  decodes to a NUL or '/' never matches. On a match fills *m and returns true. */
bool igw_path_match(const char *pattern, const char *target, size_t target_len,
                    struct igw_path_match *m);

/** True when every captured parameter of m (not NULL) decodes to valid UTF-8 (RFC 3629). A
 *  request whose parameters are not is refused at intake with 400, so that no stored metadata
 *  or answer carries bytes that are not text. */
bool igw_path_params_utf8(const struct igw_path_match *m);

/** True when the pattern has a "{name}" segment. */
bool igw_path_has_param(const char *pattern, const char *name);

/** True when two patterns match exactly the same paths ("{a}" and "{b}" are the same shape). */
bool igw_path_same_shape(const char *a, const char *b);

/** Finds a captured parameter by name; NULL if none. */
const struct igw_path_param *igw_path_param_get(const struct igw_path_match *m, const char *name);

/** Compares the media type of a Content-Type value (parameters after ';' and surrounding
 *  blanks ignored, case-insensitive) with want ("application/json"). */
bool igw_media_type_is(const char *content_type, const char *want);

/** Parses a Content-Length value: digits only, no sign, no blanks inside, <= UINT64_MAX/2.
 *  @return IGW_OK or IGW_EINVAL. */
int igw_content_length_parse(const char *s, uint64_t *out);

/** True when a comma-separated header value contains token (case-insensitive), e.g.
 *  Expect: 100-continue. */
bool igw_header_has_token(const char *value, const char *token);

/* ---- request helpers shared by HTTP and SP intake (auth.c; the reply bodies, json key and
 *      idempotency key helpers are in core/ingest.c) --------------------------------------- */

struct igw_config;
struct igw_channel;
struct igw_buf;

/** Checks an Authorization header value against the channel's credentials: "Basic <base64
 *  user:password>" for auth type basic, "Bearer <token>" for bearer, compared in constant time
 *  with every configured secret (gateway/http/auth.c). cfg and ch are borrowed and must not be
 *  NULL; authorization may be NULL (no header). Nothing is kept or allocated; thread-safe.
 *  @return IGW_OK (allowed, or the channel has no auth), IGW_EAUTH (missing, malformed or
 *  unknown credentials: answer 401), IGW_EPERM (credentials of another channel in cfg, not of
 *  this one: answer 403). */
int igw_http_auth_check(const struct igw_config *cfg, const struct igw_channel *ch,
                        const char *authorization);

struct nng_http_req;

/** The client address of req: the value of the X-Igw-Peer header that igw's connection guard
 *  sets in front of nng's HTTP server (it strips any such header a client sends), or "-" when
 *  the header is absent (no guard: all clients share that one address), empty, longer than 64
 *  bytes or not made of address characters (letters, digits, '.', ':', '[', ']', '%', '-', '_';
 *  so it cannot forge fields of a log line). req is
 *  borrowed and may be NULL ("-"). The result is borrowed from req (valid while req is) or
 *  static; never NULL; nothing is allocated and nothing can fail (gateway/http/peer.c). */
const char *igw_http_peer(struct nng_http_req *req);

/** Decodes standard base64 (with padding) of s[0..len) into out (outlen bytes; no NUL is
 *  added), setting *n to the decoded length. s, out and n must not be NULL (s may be any bytes).
 *  @return IGW_OK, IGW_EINVAL (not base64: length not a multiple of 4, bad character or
 *  padding), IGW_ETOOBIG (out too small). */
int igw_base64_decode(const char *s, size_t len, char *out, size_t outlen, size_t *n);

/** Appends {"error":{"status":N,"code":"...","message":"..."}}. */
int igw_http_error_json(struct igw_buf *b, int status, const char *code, const char *message);

/** Appends {"id":"<16 hex>","status":"accepted"[,"duplicate":true]}. */
int igw_http_accept_json(struct igw_buf *b, uint64_t id, bool duplicate);

struct igw_node;
/** Looks up a dotted path (a.b.c) in a parsed document tree and appends the string or number
 *  found there to b (numbers as written). @return IGW_OK, IGW_ENOENT (absent, or not a string
 *  or number), IGW_ENOMEM, IGW_ETOOBIG. */
int igw_json_key(const struct igw_node *root, const char *path, struct igw_buf *b);

/** Checks an Idempotency-Key value: 1..255 printable ASCII bytes. */
bool igw_idem_key_ok(const char *s);

#endif /* IGW_GATEWAY_HTTP_INT_H */
