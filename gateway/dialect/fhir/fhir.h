/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the FHIR dialect's delivery side (fhir_out.c). The intake side of the
 * dialect is reached only through its ops table igw_dialect_fhir (dialect/dialect.h,
 * core/dialect.h; files fhir_dialect.c, fhir_check.c, fhir_answer.c).
 */
#ifndef IGW_GATEWAY_FHIR_INT_H
#define IGW_GATEWAY_FHIR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "igw/buf.h"
#include "igw/config.h"

/* ---- delivery (gateway/fhir_out.c, called from dest_http.c on the delivery thread) ------- */

/** True when the route delivers by conditional update (fhir.conditional: identifier). */
bool igw_fhir_out_conditional(const struct igw_route *r);

/** The request of a conditional-update route for this payload: PUT
 *  <url>/<resourceType>?identifier=<system>|<value> (URL-encoded, FHIR token escapes), or POST
 *  <url> for a Bundle. url is initialised here (igw_buf_fini it in every case); it is
 *  NUL-terminated. @return IGW_OK, IGW_ENOENT (not a conditional route: send as configured),
 *  IGW_EINVAL (the payload cannot be sent this way: reason in err; dead-letter it),
 *  IGW_ENOMEM. */
int igw_fhir_out_target(const struct igw_route *r, const char *payload, size_t len,
                        struct igw_buf *url, const char **method, char *err, size_t errlen);

/** True when an HTTP status that is permanent by default is transient on this route (409
 *  Conflict on a conditional-update route: a concurrent version, retried). */
bool igw_fhir_out_transient(const struct igw_route *r, long status);

#endif /* IGW_GATEWAY_FHIR_INT_H */
