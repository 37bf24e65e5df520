/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR dialect internal: what its three intake files share.
 *
 *   fhir_dialect.c  the ops table (igw_dialect_fhir), channel state, what a request is, the
 *                   refusal shape (one-issue OperationOutcomes)
 *   fhir_check.c    check_input / check_output: validation of resources, Bundles, payloads
 *   fhir_answer.c   answer: 201/200 with Location and the resource, Bundle responses
 *
 * Everything here is CPU only and runs on the intake's threads (core/dialect.h); nothing
 * blocks.
 */
#ifndef IGW_GATEWAY_DIALECT_FHIR_IN_INT_H
#define IGW_GATEWAY_DIALECT_FHIR_IN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/config.h"
#include "igw/doc.h"
#include "http/http.h"
#include "core/ingest.h"

#define FHIR_CT "application/fhir+json"
#define FHIR_ID_MAX 64

/* What a request is (fhir.interaction, resolved for auto per request). */
enum fhir_op { OP_NONE, OP_CREATE, OP_UPDATE, OP_BUNDLE, OP_NOTIFY, OP_AUTO };

static inline bool
str_is(const struct igw_node *n, const char *s)
{
    size_t len = strlen(s);
    return n != NULL && n->type == IGW_NODE_STRING && n->len == len && memcmp(n->str, s, len) == 0;
}

static inline const struct igw_node *
member(const struct igw_node *obj, const char *key)
{
    return igw_node_get(obj, key, strlen(key));
}

static inline const struct igw_node *
str_member(const struct igw_node *obj, const char *key)
{
    const struct igw_node *n = member(obj, key);
    return n != NULL && n->type == IGW_NODE_STRING ? n : NULL;
}

/* ---- fhir_dialect.c ----------------------------------------------------------------------- */

/** The path parameters of the request, matched again from in->target into pm: in->pm's values
 *  may point into storage that is gone by now (a copied igw_path_match keeps pointers into the
 *  original). */
void fhir_in_match_params(const struct igw_ingest *in, struct igw_path_match *pm);

/** The parameter called name when it is present and not empty, else NULL. */
const struct igw_path_param *fhir_in_param(const struct igw_path_match *pm, const char *name);

/** What the request is: the channel's fhir.interaction, or for auto PUT update / POST create
 *  when the path has a {type} parameter, else OP_NONE. Never OP_AUTO. */
enum fhir_op fhir_in_op(const struct igw_ingest *in, const struct igw_path_match *pm);

/** accept_unparsed: true on a notification channel (fhir.interaction notification) when the
 *  body is empty or blank, an id-only rest-hook notification. */
bool fhir_in_accept_unparsed(const struct igw_channel *ch, const char *body, size_t len);

/** The resource type of a create/update: the {type} parameter, else the body's resourceType,
 *  written NUL-terminated into out; false when it is not an R4 resource type (out then holds
 *  what was asked for, clipped). */
bool fhir_in_target_type(const struct igw_ingest *in, const struct igw_path_match *pm, char *out,
                         size_t outlen);

/** Appends an OperationOutcome of one issue (igw_fhir_outcome_simple) to b: severity, code,
 *  then details.text (when details is not NULL) and diagnostics (when diag is not NULL). The
 *  tree is built in a (the request's arena), or in a temporary arena when a is NULL.
 *  @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG (b's max). */
int fhir_in_outcome(igw_arena *a, struct igw_buf *b, const char *severity, const char *code,
                    const char *details, const char *diag);

/** The refusal op: an OperationOutcome with one error issue whose code is the FHIR IssueType
 *  of status, details.text the machine code and diagnostics the message. */
int fhir_in_refusal(const struct igw_channel *ch, struct igw_buf *b, int status, const char *code,
                    const char *message, const char **content_type);

/* ---- fhir_check.c ------------------------------------------------------------------------- */

/** check_input: validates the received resource or Bundle (in->root). A refusal is an
 *  OperationOutcome in in->errbody listing every issue. @return IGW_OK, IGW_EPARSE (400, 404
 *  for an unknown resource type), IGW_ETRANSLATE (422), IGW_ENOMEM. */
int fhir_in_check_input(struct igw_ingest *in, char *err, size_t errlen);

/** check_output: validates every translated payload a route with output fhir-r4 will deliver;
 *  a refusal is a 422 OperationOutcome. @return IGW_OK, IGW_ETRANSLATE, IGW_ENOMEM. */
int fhir_in_check_output(struct igw_ingest *in, char *err, size_t errlen);

/* ---- fhir_answer.c ------------------------------------------------------------------------ */

/** answer: 201/200 with Location and the stored resource, a batch-/transaction-response
 *  Bundle, an information OperationOutcome (notifications), or the plain 202 for interaction
 *  none. @return IGW_OK, IGW_ENOMEM. */
int fhir_in_answer(const struct igw_ingest *in, uint64_t id, bool duplicate,
                   struct igw_accept_resp *out);

/* ---- fhir_rest.c -------------------------------------------------------------------------- */

/* What `Prefer: return=` asks a write to answer with. */
enum fhir_return { RET_REPRESENTATION, RET_MINIMAL, RET_OUTCOME };

/** check_request: 406 when Accept or `_format` asks for anything but FHIR JSON, 415 when a
 *  write's Content-Type is not FHIR JSON (a PATCH's not a JSON Patch); else 0. */
int fhir_in_check_request(const struct igw_channel *ch, const char *method, const char *target,
                          const char *(*header)(void *arg, const char *name), void *arg,
                          const char **code, const char **msg);

/** True when an Accept value (NULL or blank: anything) admits FHIR JSON. */
bool fhir_rest_accept_ok(const char *accept);

/** The request's `Prefer: return=` (representation when absent or unknown). */
enum fhir_return fhir_rest_prefer(const struct igw_ingest *in);

/** Sets out->etag to W/"<vid>" and out->last_modified to the HTTP-date of ms (Unix ms). */
void fhir_rest_validators(struct igw_accept_resp *out, const char *vid, uint64_t ms);

#endif /* IGW_GATEWAY_DIALECT_FHIR_IN_INT_H */
