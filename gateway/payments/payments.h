/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the payment flow's process-wide state (docs/PAYMENTS.md): the ledger, the
 * payments options and the counters, started by gateway.c before the delivery engine and the
 * intake, stopped after them. The dialects (payroll, g2p), the g2p output and the admin API's
 * reconciliation find them here, as the dialect finds partners through igw_partner_current.
 */
#ifndef IGW_GATEWAY_PAYMENTS_H
#define IGW_GATEWAY_PAYMENTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/queue.h"
#include "core/translate.h"
#include "delivery/deliver.h"
#include "payments/ledger.h"

/* Counters (relaxed atomics; /metrics reads them). */
struct igw_pay_counters {
    _Atomic uint64_t sent;       /* disbursements the payment system acknowledged */
    _Atomic uint64_t batches;    /* batches acknowledged */
    _Atomic uint64_t confirmed;  /* became succ */
    _Atomic uint64_t rejected;   /* became rjct */
    _Atomic uint64_t mismatches; /* callback items refused */
    _Atomic uint64_t skipped;    /* benefits left out: already in the ledger for another payroll */
    _Atomic uint64_t polls;      /* txn status requests igw sent for overdue transactions */
};

/** True when cfg uses the payment flow: a channel with dialect payroll or g2p, or a route
 *  whose url is g2p:... or g2p-ledger:. cfg not NULL. */
bool igw_payments_used(const struct igw_config *cfg);

/** The ledger directory of cfg: payments.ledger_path, else <queue.path>-ledger, into out
 *  (initialised). @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG. */
int igw_payments_ledger_path(const struct igw_config *cfg, struct igw_buf *out);

/** Opens the ledger when cfg uses payments (else does nothing) and makes it current. cfg must
 *  outlive igw_payments_stop. no_sync as the queue's (tests). @return IGW_OK, IGW_EIO (err),
 *  IGW_ENOMEM, IGW_ECONFLICT (already started). */
int igw_payments_start(const struct igw_config *cfg, bool no_sync, char *err, size_t errlen);

/** Hands the payments threads what a txn status answer needs to become a message of the
 *  callback channel (poll.c): the queue, the mapping set and the deliverer to kick. Call after
 *  igw_payments_start and before the delivery engine runs a g2p route; all three must outlive
 *  igw_payments_stop. Any may be NULL (the poll then applies answers to the ledger only). */
void igw_payments_attach(igw_queue *q, igw_maps *maps, igw_deliverer *d);

/** What igw_payments_attach gave (NULL when not attached). */
igw_queue *igw_payments_queue(void);
igw_maps *igw_payments_maps(void);
igw_deliverer *igw_payments_deliverer(void);

/** The configuration igw_payments_start was given, or NULL. */
const struct igw_config *igw_payments_config(void);

/** Closes the ledger; nothing may use it any more (call after the intake, the admin API and
 *  the delivery engine stopped). Safe when not started. */
void igw_payments_stop(void);

/** The current ledger, or NULL (not started, or payments not used). Any thread. */
igw_ledger *igw_payments_ledger(void);

/** The current configuration's payments options, or NULL when not started. */
const struct igw_payments_conf *igw_payments_conf(void);

/** The counters (static storage; always valid). */
struct igw_pay_counters *igw_payments_counters(void);

/** Appends the payments counters in the Prometheus text format to out (metrics.c).
 *  @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG. */
int igw_payments_metrics(struct igw_buf *out);

#endif /* IGW_GATEWAY_PAYMENTS_H */
