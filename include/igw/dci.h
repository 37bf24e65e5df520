/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPDCI (DCI) 1.0.0 message checks (translators/dci/): the envelope (`signature`, `header`,
 * `message`) of every registry endpoint, validated against schema tables generated from the
 * SPDCI OpenAPI text (translators/dci/gen/, docs/DCI.md), and the DCI reason codes a failure is
 * reported with. A pure library: no I/O, no allocation, no global state; the tables are
 * immutable, so every function may run on several threads at once.
 *
 * What is checked per endpoint: required members, JSON types, string lengths (maxLength),
 * enums (header.action per endpoint, query_type, version 1.0.0...), ISO 8601 date-times with a
 * zone, ISO 639-3 locales (three lowercase letters), absolute URIs (sender_uri), numbers
 * (integers, page_size/page_number >= 1), oneOf/anyOf alternatives (a SearchRequest or an
 * EncryptedMessage; the query shapes), and `sender_uri` on the asynchronous requests. Unknown
 * members are allowed, as the schema allows them. Tolerated drift (docs/DCI.md): a numeric
 * string for an integer (`"total_count": "1"`), one object for an array of objects
 * (`"search_request": {...}`).
 */
#ifndef IGW_DCI_H
#define IGW_DCI_H

#include <stdbool.h>
#include <stddef.h>

#include "igw/node.h"

/* A few codes callers use by name (all codes are static strings of the spec's enums). */
#define IGW_DCI_REQUEST_BAD "err.request.bad"
#define IGW_DCI_VERSION_INVALID "rjct.version.invalid"
#define IGW_DCI_MESSAGE_ID_DUPLICATE "rjct.message_id.duplicate"
#define IGW_DCI_ACTION_INVALID "rjct.action.invalid"
#define IGW_DCI_ACTION_NOT_SUPPORTED "rjct.action.not_supported"

/* igw_dci_endpoint_info flags */
#define IGW_DCI_EP_SYNC 0x01u     /* answered in the HTTP response (/registry/sync/...) */
#define IGW_DCI_EP_CALLBACK 0x02u /* the header is a callback header (status required) */
#define IGW_DCI_EP_ASYNC 0x04u    /* asynchronous request: answered by a callback */

/** One endpoint of the spec (opaque index into the generated table). */
struct igw_dci_endpoint;

/** What an endpoint is; strings are static. */
struct igw_dci_endpoint_info {
    const char *path;   /* "/registry/sync/search" (relative to the registry's base) */
    const char *action; /* header.action it takes: "search", "on-search", "txn-status"... */
    unsigned flags;     /* IGW_DCI_EP_* */
};

/** The first validation failure. code is a static string (an SPDCI reason or error code),
 *  where a JSON-pointer-like location ("header.message_ts", "message.search_request[0]
 *  .search_criteria.pagination.page_size"), message one human sentence; both NUL-terminated
 *  and clipped to their size. */
struct igw_dci_error {
    const char *code;
    char where[160];
    char message[256];
};

/** The endpoint taking header.action `action` (NUL-terminated), the synchronous variant when
 *  sync is true. NULL when action is NULL or the spec has no such endpoint (sync is honoured
 *  only for search and txn-status, the two with a sync variant). */
const struct igw_dci_endpoint *igw_dci_endpoint_find(const char *action, bool sync);

/** The i-th endpoint of the spec (0-based, for docs and tests); NULL past the end. */
const struct igw_dci_endpoint *igw_dci_endpoint_at(size_t i);

/** Fills *out with what ep is. ep and out must not be NULL. */
void igw_dci_endpoint_info(const struct igw_dci_endpoint *ep, struct igw_dci_endpoint_info *out);

/** Validates envelope (the parsed body: any tree igw_json_parse built; NULL is reported as a
 *  failure) against endpoint ep. Stops at the first failure and describes it in *err.
 *  When header.action is a DCI action of another endpoint the code is
 *  rjct.action.not_supported; any other value of action is rjct.action.invalid.
 *  @return true when valid (err->code is then NULL), false otherwise (err filled). ep and err
 *  must not be NULL. Reentrant; only reads the tree. */
bool igw_dci_validate(const struct igw_node *envelope, const struct igw_dci_endpoint *ep,
                      struct igw_dci_error *err);

/** True when s[0..len) is an ISO 8601 date-time with a zone: YYYY-MM-DDThh:mm:ss, optional
 *  fraction, then Z or +hh:mm / -hh:mm (also +hhmm); fields in range. s may be NULL (false). */
bool igw_dci_datetime_ok(const char *s, size_t len);

/** True when s[0..len) is an ISO 639-3 code: exactly three lowercase ASCII letters. */
bool igw_dci_locale_ok(const char *s, size_t len);

/** True when code (NUL-terminated) is one of the spec's reason or error codes. NULL: false. */
bool igw_dci_code_known(const char *code);

#endif /* IGW_DCI_H */
