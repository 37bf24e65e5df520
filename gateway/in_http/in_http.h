/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the HTTP intake transport: nng's HTTP server, channels matched by method and
 * path, auth, limits, bodies committed to the queue before the answer (docs/HTTP-INGEST.md).
 * Started by gateway/gateway.c after the queue and the delivery engine, stopped before them.
 */
#ifndef IGW_GATEWAY_IN_HTTP_H
#define IGW_GATEWAY_IN_HTTP_H

#include "igw/config.h"
#include "igw/queue.h"
#include "core/translate.h"
#include "delivery/deliver.h"
#include "mediate/mediate.h"

typedef struct igw_http_in igw_http_in;

/** Starts the HTTP listener (cfg->http_listen must be set). cfg, q, d and med (the mediation
 *  engine answering channels with answer:, may be NULL without such channels) must outlive it.
 *  @return IGW_OK, IGW_ENOMEM, IGW_EIO (cannot listen; detail in errbuf). */
int igw_http_in_start(igw_http_in **out, const struct igw_config *cfg, igw_queue *q,
                      igw_deliverer *d, igw_maps *maps, igw_mediate *med, char *errbuf,
                      size_t errlen);

/** Stops intake: new requests get 503 with Connection: close; waits up to timeout_ms for the
 *  requests in flight (reading bodies or committing) to be answered. Blocks: call from the
 *  main thread only. */
void igw_http_in_drain(igw_http_in *h, unsigned timeout_ms);

/** Closes the listener and every connection, waits until every request callback is done, and
 *  frees h. NULL-safe. Blocks. */
void igw_http_in_stop(igw_http_in *h);

/* ---- the fixed DCI routes (wellknown.c) ---------------------------------------------------- */

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

enum igw_http_builtin {
    IGW_HTTP_BUILTIN_NONE = 0,
    IGW_HTTP_BUILTIN_JWKS,  /* GET /.well-known/jwks.json, when signing.key_file is set */
    IGW_HTTP_BUILTIN_TOKEN, /* POST /oauth2/client/token, when a partner has a client_id */
    IGW_HTTP_BUILTIN_405    /* one of those paths with another method */
};

#define IGW_HTTP_TOKEN_BODY_MAX 8192 /* largest token request body */

/** Which fixed route method and uri (not NULL) are, given cfg. Pure. */
enum igw_http_builtin igw_http_builtin_of(const struct igw_config *cfg, const char *method,
                                          const char *uri);
/** igw's JWKS as a 200 response (caller hands it to nng), NULL when out of memory. */
nng_http_res *igw_http_builtin_jwks(void);
/** The token endpoint's answer to a request body[0..len) (content_type may be NULL): 200 with a
 *  token, or 400/401/503 with an RFC 6749 error object; *status is the status. NULL when out of
 *  memory. */
nng_http_res *igw_http_builtin_token(const struct igw_config *cfg, const char *content_type,
                                     const char *body, size_t len, int *status);

#endif /* IGW_GATEWAY_IN_HTTP_H */
