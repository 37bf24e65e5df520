/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to in_http/: the HTTP intake's side of synchronous mediation (gateway/mediate/): a
 * request of a channel with answer: is handed to the engine instead of the queue, a GET
 * channel answers HEAD, and a committed write of a {type} channel drops the cached answers of
 * that resource type.
 */
#ifndef IGW_GATEWAY_IN_HTTP_MED_H
#define IGW_GATEWAY_IN_HTTP_MED_H

#include <stdbool.h>
#include <stddef.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "mediate/mediate.h"

/** Hands req (headers, method, target; body[0..len)) of channel ch to the engine e; answer or
 *  commit is called once with arg (mediate/mediate.h). Everything borrowed stays the caller's
 *  until then. */
void igw_in_http_mediate(igw_mediate *e, const struct igw_channel *ch, nng_http_req *req,
                         const struct igw_path_match *pm, const char *body, size_t len,
                         void (*answer)(void *, nng_http_res *),
                         void (*commit)(void *, const char *, const char *, char *, size_t),
                         void *arg);

/** After a committed write on ch: drops the cached answers tagged with its {type} parameter
 *  (nothing when the path has none or e is NULL). */
void igw_in_http_invalidate(igw_mediate *e, const struct igw_channel *ch,
                            const struct igw_path_match *pm);

/** True when a request's method selects a channel listening on chm (HEAD selects GET). */
bool igw_in_http_method_is(const char *method, const char *chm);

#endif /* IGW_GATEWAY_IN_HTTP_MED_H */
