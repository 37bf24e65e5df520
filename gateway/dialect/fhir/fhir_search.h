/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: FHIR read and search over a GraphQL upstream (docs/FHIR-SEARCH.md). The
 * mediators `fhir-read` (GET [base]/{type}/{id}) and `fhir-search` (GET [base]/{type}?...,
 * POST [base]/{type}/_search) live in fhir_search.c on the mediator seam
 * (gateway/mediate/mediator.h); the search itself is translators/search (include/igw/search.h).
 */
#ifndef IGW_GATEWAY_DIALECT_FHIR_SEARCH_H
#define IGW_GATEWAY_DIALECT_FHIR_SEARCH_H

#include "igw/config.h"

struct igw_mediator_ops;

/** Called once per search parameter: resource type, parameter name, FHIR search parameter type
 *  (string, token, date, reference, number, quantity, uri) and its documentation (never NULL).
 *  Strings are borrowed for the duration of the call. */
typedef void (*igw_fhir_param_fn)(void *arg, const char *resource, const char *param,
                                  const char *type, const char *documentation);

/** Reports to fn every search parameter the search maps of the channel ch really support, for
 *  the resource types ch serves (the literal type in its path, or every type with a search map
 *  when the path has a {type} segment). Reads the search maps from ch->mappings_dir; reports
 *  nothing when ch or fn is NULL or the maps cannot be read. For the CapabilityStatement: call
 *  it at load time, not per request (it reads files). */
void igw_fhir_search_params(const struct igw_channel *ch, igw_fhir_param_fn fn, void *arg);

/** The two mediators, listed in gateway/mediate/registry.c. */
extern const struct igw_mediator_ops igw_mediator_fhir_read;
extern const struct igw_mediator_ops igw_mediator_fhir_search;

#endif /* IGW_GATEWAY_DIALECT_FHIR_SEARCH_H */
