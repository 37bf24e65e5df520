/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR dialect internal: the CapabilityStatement (fhir_caps.c), for its tests. The search
 * parameters it lists come from the search engine (dialect/fhir/fhir_search.h).
 */
#ifndef IGW_GATEWAY_DIALECT_FHIR_CAPS_INT_H
#define IGW_GATEWAY_DIALECT_FHIR_CAPS_INT_H

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/config.h"

#include "dialect/fhir/fhir_search.h"

/** Appends the CapabilityStatement (JSON) of the FHIR channels of cfg on the base of target
 *  (a `[base]/metadata` request target or the metadata channel's path) to out; the search
 *  parameters are read from the search maps on disk (igw_fhir_search_params); ch is the metadata
 * channel (its fhir.base_url becomes implementation.url). Scratch and strings in a. cfg may be NULL
 * (no channel listed). @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG (out's max). */
int igw_fhir_capabilities(const struct igw_config *cfg, const struct igw_channel *ch,
                          const char *target, igw_arena *a, struct igw_buf *out);

#endif /* IGW_GATEWAY_DIALECT_FHIR_CAPS_INT_H */
