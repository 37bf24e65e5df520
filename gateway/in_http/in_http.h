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

#endif /* IGW_GATEWAY_IN_HTTP_H */
