/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the admin HTTP API (docs/ADMIN-API.md), a second nng HTTP server on
 * admin.listen with its own credentials (admin.auth). JSON endpoints under /admin: health,
 * stats, message info, replay (re-translation with the current mapping set), release, purge.
 *
 * Threads: nng's task threads only check the request (framing, credentials, route) and queue
 * a job; one admin worker thread does every queue call (some block until a group commit) and
 * finishes nng's handler aio from there, so an admin request never stalls nng's task threads.
 */
#ifndef IGW_GATEWAY_ADMIN_INT_H
#define IGW_GATEWAY_ADMIN_INT_H

#include <stddef.h>

#include "igw/config.h"
#include "igw/queue.h"
#include "delivery/deliver.h"
#include "core/translate.h"
#include "alerts/alerts.h"

typedef struct igw_admin igw_admin;

/** Starts the admin API on cfg->admin_listen (must be set, with cfg->admin_credentials or
 *  cfg->admin_auth). cfg, q, d, maps and al must outlive it (d may be NULL: replays are then
 *  picked up by the next round; al may be NULL: no alert rules, GET /admin/alerts lists none).
 *  @return IGW_OK, IGW_ENOMEM, IGW_EINVAL (no listen or no credentials), IGW_EIO (cannot
 *  listen; detail in errbuf). */
int igw_admin_start(igw_admin **out, const struct igw_config *cfg, igw_queue *q, igw_deliverer *d,
                    igw_maps *maps, igw_alerts *al, char *errbuf, size_t errlen);

/** Stops the admin API: new requests get 503, queued jobs are finished (their queue calls
 *  complete: call before igw_queue_close), the worker is joined, the server closed and a
 *  freed. NULL-safe. Blocks: main thread only. */
void igw_admin_stop(igw_admin *a);

#endif /* IGW_GATEWAY_ADMIN_INT_H */
