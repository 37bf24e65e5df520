/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the nng SP intake transport (rep0 requests) and the pub0 queue-event stream
 * (docs/SP-PROTOCOL.md).
 * Started by gateway/gateway.c after the queue and the delivery engine, stopped before them.
 */
#ifndef IGW_GATEWAY_IN_SP_H
#define IGW_GATEWAY_IN_SP_H

#include "igw/config.h"
#include "igw/queue.h"
#include "core/translate.h"
#include "delivery/deliver.h"

typedef struct igw_sp_in igw_sp_in;

/** Starts the rep0 intake (cfg->sp_listen) and/or the pub0 event publisher (cfg->pub_listen);
 *  either may be unset. Registers the queue event listener when publishing.
 *  @return IGW_OK, IGW_ENOMEM, IGW_EIO (detail in errbuf). */
int igw_sp_in_start(igw_sp_in **out, const struct igw_config *cfg, igw_queue *q, igw_deliverer *d,
                    igw_maps *maps, char *errbuf, size_t errlen);

/** Stops taking new SP requests and waits up to timeout_ms for replies in flight. Blocks. */
void igw_sp_in_drain(igw_sp_in *s, unsigned timeout_ms);

/** Closes the sockets and frees s. NULL-safe. Blocks. Call after igw_queue_close: until the
 *  queue is closed it may still call the event listener and the commit callbacks, which use s
 *  (igw_queue_set_listener(NULL) does not wait for a call in progress). */
void igw_sp_in_stop(igw_sp_in *s);

#endif /* IGW_GATEWAY_IN_SP_H */
