/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw embedding API: the whole gateway (mapping set, queue, delivery engine, SP sockets, HTTP
 * intake, admin API) started from a loaded configuration and stopped in the one safe order.
 * `igw serve` (cli/serve.c) is a thin shell around it that adds signals and the sweep timer;
 * tests and other programs can run a gateway in-process the same way.
 *
 * Threads: igw_gateway_start, _reload, _sweep and _stop block and are called from one
 * controlling thread (never from an nng or queue callback). Block the signals you handle
 * before calling igw_gateway_start: every thread it starts inherits the caller's mask.
 */
#ifndef IGW_GATEWAY_H
#define IGW_GATEWAY_H

#include <stddef.h>

#include "igw/config.h"

typedef struct igw_gateway igw_gateway;

/** Checks everything igw_gateway_start would refuse that the configuration and the file system
 *  already show, without opening a listener, the queue or a thread, and without creating any
 *  file or directory (`igw config check`, and `igw serve` before it starts): the mapping set
 *  compiles and every route's map exists (and runs backwards where asked); the queue directory
 *  exists as a directory or can be created (its nearest existing ancestor is a writable
 *  directory) and its LMDB files, when present, are readable and writable; each SP address
 *  makes an nng listener and an ipc:// socket's directory can be created; each HTTP address
 *  makes an nng HTTP server; the TLS certificate and key are readable and accepted by nng's TLS
 *  engine; the admin API has credentials; no two services share a TCP address. What only a
 *  start can find (a port another process holds, a full disk) is still found by the start.
 *  cfg is borrowed for the call; errbuf (errlen may be 0) receives one line naming the option
 *  or file. The checks run in the start's order and the first failure is reported.
 *  @return IGW_OK, IGW_EINVAL (cfg NULL), IGW_ECONFIG (a map does not compile, a route names
 *          an unknown map, admin.listen without admin.auth, two services on one address),
 *          IGW_EIO (a directory cannot be created or written, a file cannot be read, an
 *          address nng refuses, TLS files nng's TLS engine refuses), IGW_ENOMEM. */
int igw_gateway_check(const struct igw_config *cfg, char *errbuf, size_t errlen);

/** Starts every service cfg asks for, in order: mappings (compiled), queue (opened; its
 *  directory's parents created 0700), delivery engine, SP sockets, HTTP intake, admin API.
 *  cfg is borrowed and must outlive the gateway. On failure everything already started is
 *  stopped again and *out is left NULL.
 *  @return IGW_OK (*out owned by the caller: igw_gateway_stop frees it), IGW_EINVAL (NULL
 *          out or cfg), IGW_ECONFIG (a map does not compile or a route names an unknown map),
 *          IGW_EIO (a listener, the queue or a thread could not start), IGW_ENOMEM; detail
 *          in errbuf (errlen may be 0). */
int igw_gateway_start(igw_gateway **out, const struct igw_config *cfg, char *errbuf, size_t errlen);

/** Recompiles the mapping set (SIGHUP); on error the old set stays in use.
 *  @return IGW_OK, IGW_ENOENT (no route names a map: nothing to do), IGW_ECONFIG (detail in
 *          errbuf), IGW_ENOMEM, IGW_EINVAL (g NULL). */
int igw_gateway_reload(igw_gateway *g, char *errbuf, size_t errlen);

/** One retention sweep of the queue (delivered messages past retention, expired idempotency
 *  keys), at most limit records. *removed (may be NULL) receives the count.
 *  @return IGW_OK, IGW_EINVAL (g NULL), or the queue's error (IGW_EIO, IGW_ENOSPC, ...). */
int igw_gateway_sweep(igw_gateway *g, unsigned limit, unsigned *removed);

/** Stops intake (new requests get 503; requests in flight get up to drain_ms to be answered),
 *  then the admin API, the delivery engine (in-flight attempts released back to pending), the
 *  queue (every submitted message committed), the SP sockets, the mapping set; frees g.
 *  NULL-safe. */
void igw_gateway_stop(igw_gateway *g, unsigned drain_ms);

#endif /* IGW_GATEWAY_H */
