/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alerts (docs/ALERTS.md): the rules of the configuration (alerts.rules) evaluated every
 * alerts.interval on a thread of their own against the counters (stats/stats.h) and the queue's
 * snapshot. A rule whose condition becomes true opens an incident, which fires once; when the
 * condition is false again the incident resolves once (deduplicated: never one alert per
 * message). Each firing and resolution is put into the queue as a message of alerts.channel,
 * so that channel's routes deliver it like any message (retries, dead letters, replay). The
 * last incidents are kept in memory for GET /admin/alerts.
 *
 * Threads: start and stop on the main thread; igw_alerts_json from any thread.
 */
#ifndef IGW_GATEWAY_ALERTS_H
#define IGW_GATEWAY_ALERTS_H

#include <stddef.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/queue.h"
#include "delivery/deliver.h"

typedef struct igw_alerts igw_alerts;

#define IGW_ALERTS_KEPT 200 /* incidents kept for the listing */

/** Starts evaluating cfg's rules (cfg->nalert_rules > 0 and cfg->alerts_channel set, as the
 *  loader guarantees). cfg, q and d (may be NULL: deliveries then wait for the next round) must
 *  outlive it. @return IGW_OK, IGW_ENOMEM, IGW_EIO (the thread did not start; errbuf). */
int igw_alerts_start(igw_alerts **out, const struct igw_config *cfg, igw_queue *q, igw_deliverer *d,
                     char *errbuf, size_t errlen);

/** Stops the thread and frees a. Call before the queue is closed. NULL-safe. */
void igw_alerts_stop(igw_alerts *a);

/** Appends {"rules":[{"name","kind","route","threshold","window_ms","state","value"}],
 *  "items":[incidents newest first]} to b; a NULL a gives empty lists.
 *  @return IGW_OK, IGW_ENOMEM or IGW_ETOOBIG (b's max). */
int igw_alerts_json(igw_alerts *a, struct igw_buf *b);

#endif /* IGW_GATEWAY_ALERTS_H */
