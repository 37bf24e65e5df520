/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR dialect internal: what the CapabilityStatement (fhir_caps.c) needs from the search
 * engine: the search parameters a channel's search maps really support. The declaration is
 * the search engine's (dialect/fhir/fhir_search.h) when it is built in, else the same one here.
 */
#ifndef IGW_GATEWAY_DIALECT_FHIR_CAPS_INT_H
#define IGW_GATEWAY_DIALECT_FHIR_CAPS_INT_H

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/config.h"

#if defined(__has_include)
#if __has_include("dialect/fhir/fhir_search.h")
#include "dialect/fhir/fhir_search.h"
#define IGW_FHIR_SEARCH_DECLARED 1
#endif
#endif

#ifndef IGW_FHIR_SEARCH_DECLARED
/** One search parameter: resource type, parameter name, FHIR search param type (string,
 *  token, date, reference, number, quantity, uri) and a line of documentation. */
typedef void (*igw_fhir_param_fn)(void *arg, const char *resource, const char *param,
                                  const char *type, const char *documentation);

/** Calls fn for every search parameter the channel's search maps really support. */
void igw_fhir_search_params(const struct igw_channel *ch, igw_fhir_param_fn fn, void *arg);
#endif

/** Appends the CapabilityStatement (JSON) of the FHIR channels of cfg on the base of target
 *  (a `[base]/metadata` request target) to out; ch is the metadata channel (its
 *  fhir.base_url becomes implementation.url). Scratch and strings in a. cfg may be NULL (no
 *  channel listed). @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG (out's max). */
int igw_fhir_capabilities(const struct igw_config *cfg, const struct igw_channel *ch,
                          const char *target, igw_arena *a, struct igw_buf *out);

#endif /* IGW_GATEWAY_DIALECT_FHIR_CAPS_INT_H */
