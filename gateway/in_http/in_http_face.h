/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP intake internal (in_http_face.c): what a protocol family's clients expect of the paths
 * around its channels, kept out of the request state machine of in_http.c. A FHIR client
 * posts transactions to `[base]/` as well as `[base]`, expects the family's error shape (an
 * OperationOutcome) on a path under its base that no channel listens on, and negotiates media
 * types (Accept, _format, Content-Type) before it sends a body. Also the small header helpers
 * of the intake (Allow, content_types, the answer's headers), to keep in_http.c in bounds.
 * Everything here is dialect neutral: the channel's dialect decides through its check_request op
 * (core/dialect.h). CPU only; runs on nng's task threads.
 */
#ifndef IGW_GATEWAY_IN_HTTP_FACE_H
#define IGW_GATEWAY_IN_HTTP_FACE_H

#include <stdbool.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "igw/config.h"
#include "core/ingest.h"
#include "http/status.h"

/** When the path of req's target ends in '/' (and is not "/"), rewrites the target without
 *  it (query kept) and returns true; false when there is nothing to trim or the rewrite
 *  failed (out of memory: the request then routes as sent). */
bool igw_in_http_trim_slash(nng_http_req *req);

/** The channel whose error shape a request on target that no channel's pattern matches gets:
 *  the channel with the longest literal pattern prefix that is a whole-segment prefix of the
 *  target's path (`/fhir/Nope/1` under `/fhir/{type}`), or NULL (plain errors). */
const struct igw_channel *igw_in_http_family(const struct igw_config *cfg, const char *target);

/** Runs the channel dialect's check_request op (media type negotiation) on req. True when the
 *  request may go on; false with *v filled (status, code, message) to refuse it. */
bool igw_in_http_negotiate(const struct igw_channel *ch, nng_http_req *req,
                           struct igw_http_verdict *v);

/** Sets the Location, ETag and Last-Modified headers of res from an accepted message's answer
 *  (those the dialect set; empty ones are left out). */
void igw_in_http_answer_headers(nng_http_res *res, const struct igw_accept_resp *resp);

/** Appends method to the comma-separated Allow list allow (size bytes, NUL-terminated) unless
 *  it is there already or does not fit. No printf: this runs for every request. */
void igw_in_http_allow_add(char *allow, size_t size, const char *method);

/** True when ct is one of the channel's content_types (or the channel lists none). */
bool igw_in_http_content_type_ok(const struct igw_channel *ch, const char *ct);

/** The connection guard's head_refusal hook (http/guard.h), arg the config (borrowed for the
 *  server's life): a request line over the guard's limit on a path under a family's base gets
 *  400 in that family's error shape (a FHIR base: an OperationOutcome), headers over it 431 in
 *  that shape; outside every family 0 (the guard's own plain JSON 431). Allocates and frees
 *  its body within the call; never blocks. */
size_t igw_in_http_head_refusal(const void *arg, const char *line, size_t n, bool line_whole,
                                char *buf, size_t cap);

#endif /* IGW_GATEWAY_IN_HTTP_FACE_H */
