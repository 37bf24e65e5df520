/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: reconciliation (docs/PAYMENTS.md, 5), the bodies of the admin API's
 * GET /admin/payments/... from the ledger. Reads only (never wait for a writer): any thread.
 * Each returns the HTTP status of the body it wrote into b (initialised by the caller):
 * 200, 404 (payroll unknown: {"error":...} written by the caller), 503 (payments not in use),
 * 500 (ledger read failed or b's limit reached).
 */
#ifndef IGW_GATEWAY_PAYMENTS_RECON_H
#define IGW_GATEWAY_PAYMENTS_RECON_H

#include <stdbool.h>
#include <stddef.h>

#include "igw/buf.h"

/** JSON: count, per status and per currency the counts and totals (decimal strings, exact),
 *  and the payroll's mismatches. payroll not NULL. */
int igw_pay_recon_json(const char *payroll, struct igw_buf *b);

/** CSV (RFC 4180, header row): code,reference_id,transaction_id,amount,currency,status,
 *  reason_code,updated, one row per benefit of payroll. */
int igw_pay_recon_csv(const char *payroll, struct igw_buf *b);

/** JSON {"mismatches":[...]}: every recorded mismatch, newest first, at most 1000. */
int igw_pay_mismatches_json(struct igw_buf *b);

/** The replay guard (docs/PAYMENTS.md, "Replays"): whether body[0..len), a payroll event,
 *  has a payment the ledger holds as confirmed (succ). When it has, writes why (the count)
 *  into why. Any thread. @return true when a replay must be refused unless forced. */
bool igw_pay_replay_confirmed(const char *body, size_t len, char *why, size_t whylen);

#endif /* IGW_GATEWAY_PAYMENTS_RECON_H */
