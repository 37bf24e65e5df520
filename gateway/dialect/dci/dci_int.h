/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCI dialect internal: what its intake files share (docs/DCI.md, docs/internals/DIALECTS.md).
 *
 *   dci_dialect.c  the ops table (igw_dialect_dci), channel state (dci.action resolved once),
 *                  which endpoint a request is, the refusal shapes
 *   dci_check.c    message_key (sender_id + message_id) and check_input (the envelope against
 *                  the endpoint's schema, include/igw/dci.h)
 *   dci_answer.c   answer: the Response ACK, or NACK rjct.message_id.duplicate for a repeat
 *   dci_query.c    what the search mediators share: the walk over an item's query, the loop
 *                  over a request's items (each mediator runs one item), the answer envelope
 *                  (dci_search.c: over openIMIS GraphQL; dci_fhir_search.c: over FHIR)
 *
 * Everything here is CPU only and runs on the intake's threads (core/dialect.h); nothing
 * blocks.
 */
#ifndef IGW_GATEWAY_DIALECT_DCI_INT_H
#define IGW_GATEWAY_DIALECT_DCI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/dci.h"
#include "core/ingest.h"

#define DCI_CT "application/json"
#define DCI_CORR_MAX 99 /* correlation_id maxLength */

/* What channel_init built: the channel's endpoint, NULL for dci.action auto. */
struct dci_state {
    const struct igw_dci_endpoint *ep;
};

/* ---- dci_dialect.c ------------------------------------------------------------------------ */

/** The endpoint of a request: the channel's, or for dci.action auto the one whose DCI path
 *  ends the request path (before any query). NULL when none does. */
const struct igw_dci_endpoint *dci_endpoint_of(const struct igw_ingest *in);

/** Now as an ISO 8601 UTC date-time with milliseconds ("2026-12-03T10:00:00.000Z"). */
void dci_now(char *out, size_t outlen);

/** Appends a DCI Response {"message":{"ack_status","timestamp","correlation_id"[,"error":
 *  {"code","message"}]}} to b; code NULL = no error member. Strings are escaped; correlation
 *  is clipped to 99 bytes. @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG (b's max). */
int dci_response(struct igw_buf *b, const char *ack, const char *correlation, const char *code,
                 const char *message);

/** Appends the spec's transport error body {"errors":[{"code","message"}]} to b. */
int dci_http_errors(struct igw_buf *b, const char *code, const char *message);

/* ---- dci_check.c -------------------------------------------------------------------------- */

/** message_key: "dci:<sender_id>:<message_id>" (bytes outside printable ASCII, '%' and ':'
 *  percent-encoded; a key that would be too long becomes "dci#<64-bit hash>"). IGW_ENOENT
 *  when the header lacks either (check_input then refuses it with the precise code). */
int dci_message_key(const struct igw_ingest *in, char *key, size_t keylen);

/** check_input: the envelope against the endpoint's schema; a refusal is HTTP 400 with a
 *  Response ERR naming the code (404 err.request.not_found when the path is no DCI
 *  endpoint). @return IGW_OK, IGW_EPARSE, IGW_ENOMEM. */
int dci_check_input(struct igw_ingest *in, char *err, size_t errlen);

/* ---- dci_answer.c ------------------------------------------------------------------------- */

/** answer: HTTP 200 with a Response ACK whose correlation_id is the message id, or for a
 *  repeated message_id NACK with rjct.message_id.duplicate and the first message's id.
 *  @return IGW_OK, IGW_ENOMEM. */
int dci_answer(const struct igw_ingest *in, uint64_t id, bool duplicate,
               struct igw_accept_resp *out);

/* ---- dci_query.c -------------------------------------------------------------------------- */

struct igw_node;
struct igw_med;

#define DCI_QUERY_VALUES_MAX 64 /* values of one in list */

/** One condition of a query: attribute name, operator, values (vals[0..n), n >= 1; each any
 *  node, NULL when absent). Operators: eq gt ge lt le with one value; in with two or more (any
 *  of them: a DCI `in`, `$in`, or an `or` / `$or` of eq/in conditions on one attribute); ne
 *  with one (a negated eq: condition `not`, `$ne`, `$not`). Anything else the sender wrote is
 *  passed as given. Sets *why (static text) and returns IGW_EPARSE for a condition it cannot
 *  translate; IGW_ENOMEM/IGW_ETOOBIG stop the walk. */
typedef int (*dci_cond_fn)(void *arg, const char *attr, const char *op,
                           const struct igw_node *const *vals, size_t n, const char **why);

/* ---- dci_query.c: small tree and answer helpers the search mediators share ------------------ */

/** The member key of obj when obj is an object, else NULL. NULL-safe (obj, a missing key). */
const struct igw_node *dci_mem(const struct igw_node *obj, const char *key);
/** The string member key of obj, else dflt (absent, not a string, obj NULL). Borrowed. */
const char *dci_str_of(const struct igw_node *obj, const char *key, const char *dflt);
/** Appends `,"key":"val"` (no comma when !comma) to b, val JSON-escaped. IGW_OK, IGW_ENOMEM or
 *  IGW_ETOOBIG (b's limit). */
int dci_kv(struct igw_buf *b, const char *key, const char *val, bool comma);
/** Opens one search_response item in b (a comma before it unless *first, which it clears):
 *  reference_id of the request item it, timestamp now, status. Errors as dci_kv. */
int dci_item_head(struct igw_buf *b, bool *first, const struct igw_node *it, const char *status);
/** Closes an item opened by dci_item_head with the request item's locale ("eng" by default). */
int dci_item_locale(struct igw_buf *b, const struct igw_node *it);
/** One whole refused item: status rjct, status_reason_code code, status_reason_message msg. */
int dci_item_reject(struct igw_buf *b, bool *first, const struct igw_node *it, const char *code,
                    const char *msg);

/** Walks the query of one search_criteria and hands fn conditions that are all to hold (the
 *  upstream searches AND them): idtype-value {type, value} is one eq; a predicate item
 *  {expression1, condition, expression2} is both expressions for `and`, one in condition with
 *  both values for `or` (both on one attribute, eq or in), expression1 and the negation of
 *  expression2 for `not` (without expression2: expression1 negated; not gt = le ..., not eq =
 *  ne); the items of the list are and-ed. NoSql expression documents: $and, $or (members on one
 *  attribute, eq or in: one in condition), {attr: v}, {attr: {"$eq|$ne|$gt|$gte|$lt|$lte|$in":
 *  v}}, {attr: {"$not": {"$op": v}}}. Refuses (IGW_EPARSE, *why set) an or across attributes or
 *  of ordered operators, not in, a list without in, more than DCI_QUERY_VALUES_MAX values,
 *  $nor and unknown `$` operators, and expressions given as query text.
 *  @return IGW_OK, IGW_EPARSE or what fn returned. */
int dci_query_walk(const struct igw_node *crit, dci_cond_fn fn, void *arg, const char **why);

/* ---- dci_query.c: the item loop of the search mediators ------------------------------------- */

#define DCI_ITEMS_MAX 64u                       /* search_request items in one message */
#define DCI_ITEMS_OUT_MAX (16u * 1024u * 1024u) /* the search_response items of one answer */

/** A sync search request being answered item by item: the envelope, its search_request
 *  items, the item under way (i) and the search_response items written so far (out). The
 *  first member of each search mediator's request state. */
struct dci_items {
    const struct igw_node *req;
    const struct igw_node *items[DCI_ITEMS_MAX];
    size_t n, i;
    bool first;  /* no search_response item written yet */
    bool nosign; /* the asking partner has sign: false: its answer goes unsigned */
    struct igw_buf out;
};

/** A mediator's "run item": starts item d->items[d->i]; sets *calling when it filled m->call
 *  (the answer comes to the mediator's step, which finishes the item, increments d->i and
 *  calls dci_items_advance), else the item was answered at once into d->out (refused, or
 *  nothing to call). @return IGW_OK or a (positive) igw error code. */
typedef int (*dci_item_fn)(struct igw_med *m, struct dci_items *d, bool *calling);

/** The partner checks of a mediation's request (igw_partner_intake: credentials, signature)
 *  when its channel names partners; none for igw's own requests (m->internal: checked at
 *  intake). mid: the request's message_id for a refusal's correlation_id (may be NULL). who
 *  (may be NULL) gets the partner the credentials belong to, or NULL.
 *  @return IGW_OK (go on), IGW_MED_ANSWER (refused in DCI's shape, m->answer set) or
 *  -IGW_ENOMEM. */
int dci_partner_check(struct igw_med *m, const char *mid, const struct igw_partner **who);

/** Starts a search mediator on its request: the body parsed as JSON, the partner checks when
 *  the channel names partners (not for igw's own requests, m->internal: checked at intake),
 *  the envelope against the sync search schema, an encrypted message refused, the
 *  search_request items collected (one object is a one-item batch; more than DCI_ITEMS_MAX
 *  rjct.total_count.limit_exceeded). The request state (size bytes, struct dci_items first)
 *  is zeroed from m->arena, d->out initialised, m->state set to it. @return IGW_OK with *out
 *  set (go on: dci_items_advance), IGW_MED_ANSWER (refused in DCI's shape, m->answer set) or
 *  -IGW_ENOMEM. */
int dci_items_start(struct igw_med *m, size_t size, struct dci_items **out);

/** Runs the items from d->i on through run until one needs a call (IGW_MED_CALL), and writes
 *  the answer when all are done (dci_search_envelope: IGW_MED_ANSWER). @return those or a
 *  negative igw error code (run's). */
int dci_items_advance(struct igw_med *m, struct dci_items *d, dci_item_fn run);

/** Frees what dci_items_start set up (d->out). NULL-safe. */
void dci_items_fini(struct dci_items *d);

/** A number member, also as a numeric string (drift 7.1); dflt when absent or not one. */
long dci_num_of(const struct igw_node *obj, const char *key, long dflt);

/** Answers m with a DCI Response ERR (status, correlation corr, code, msg).
 *  @return IGW_MED_ANSWER or -IGW_ENOMEM. */
int dci_answer_err(struct igw_med *m, int status, const char *corr, const char *code,
                   const char *msg);

/** Writes the sync search answer into m->answer (HTTP 200): {signature, header, message}, the
 *  header a callback header (action on-search, message_id "<request's>-on-search", sender and
 *  receiver swapped, n items), the message transaction_id, correlation_id (the request's
 *  message_id) and search_response = the items (comma-joined JSON objects, borrowed).
 *  Signed with igw's key when sign and a key is configured (else "signature":"").
 *  @return IGW_MED_ANSWER or -IGW_ENOMEM. */
int dci_search_envelope(struct igw_med *m, const struct igw_node *req, size_t n,
                        const struct igw_buf *items, bool sign);

#endif /* IGW_GATEWAY_DIALECT_DCI_INT_H */
