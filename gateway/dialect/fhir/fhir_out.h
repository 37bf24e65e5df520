/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the delivery side of the FHIR dialect (fhir_out.c), the conditional update
 * of routes with fhir.conditional: identifier (docs/DELIVERY.md). out_http reaches it only
 * through the route hook igw_fhir_conditional_hook, which the route's config binds; these run
 * on the delivery thread and never block.
 */
#ifndef IGW_GATEWAY_FHIR_OUT_H
#define IGW_GATEWAY_FHIR_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "delivery/output.h"

/** The hook bound to a route with fhir.conditional: identifier: target is
 *  igw_fhir_out_target, transient igw_fhir_out_transient. Static; any thread may read it. */
extern const struct igw_route_hook igw_fhir_conditional_hook;

/** True when the route delivers by conditional update (fhir.conditional: identifier). r must
 *  not be NULL. */
bool igw_fhir_out_conditional(const struct igw_route *r);

/** The request of a conditional-update route for this payload: PUT
 *  <url>/<resourceType>?identifier=<system>|<value> (URL-encoded, FHIR token escapes), or POST
 *  <url> for a Bundle. url is initialised here (igw_buf_fini it in every case); it is
 *  NUL-terminated and owned by the caller; *method is static. payload may be NULL when len is
 *  0. @return IGW_OK, IGW_ENOENT (not a conditional route: send as configured), IGW_EINVAL (the
 *  payload cannot be sent this way: reason in err; dead-letter it), IGW_ENOMEM. */
int igw_fhir_out_target(const struct igw_route *r, const char *payload, size_t len,
                        struct igw_buf *url, const char **method, char *err, size_t errlen);

/** True when an HTTP status that is permanent by default is transient on this route (409
 *  Conflict on a conditional-update route: a concurrent version, retried). */
bool igw_fhir_out_transient(const struct igw_route *r, long status);

#endif /* IGW_GATEWAY_FHIR_OUT_H */
