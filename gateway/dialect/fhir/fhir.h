/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the FHIR dialect of a channel (dialect: fhir). Hooks called by the intake
 * (gateway/http_util.c) so that a FHIR-facing channel validates what it accepts and emits and
 * answers as a FHIR server would. Nothing here blocks.
 */
#ifndef IGW_GATEWAY_FHIR_INT_H
#define IGW_GATEWAY_FHIR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "igw/buf.h"
#include "igw/config.h"

struct igw_ingest;
struct igw_accept_resp;

/** True when the channel speaks FHIR (dialect: fhir). */
bool igw_channel_is_fhir(const struct igw_channel *ch);

/** True when the channel takes Subscription notifications (fhir.interaction notification) and
 *  body[0..len) is empty or blank: an id-only rest-hook notification, accepted unparsed. */
bool igw_fhir_empty_notification(const struct igw_channel *ch, const char *body, size_t len);

/** Validates the received resource or Bundle (in->root). On refusal fills in->errstatus,
 *  in->errtype and in->errbody (an OperationOutcome) and returns IGW_EPARSE (400) or
 *  IGW_ETRANSLATE (422). @return IGW_OK, IGW_EPARSE, IGW_ETRANSLATE, IGW_ENOMEM. */
int igw_fhir_check_input(struct igw_ingest *in, char *err, size_t errlen);

/** Validates every translated payload a route with output fhir-r4 will deliver; refusals as
 *  for igw_fhir_check_input (422). */
int igw_fhir_check_output(struct igw_ingest *in, char *err, size_t errlen);

/** The FHIR answer to a committed message: 201/200 with Location and the resource, or a
 *  batch-response/transaction-response Bundle. @return IGW_OK, IGW_ENOMEM. */
int igw_fhir_accept_response(const struct igw_ingest *in, uint64_t id, bool duplicate,
                             struct igw_accept_resp *out);

/* The delivery side (fhir.conditional on routes) is in dialect/fhir/fhir_out.h. */

#endif /* IGW_GATEWAY_FHIR_INT_H */
