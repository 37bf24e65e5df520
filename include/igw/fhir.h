/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR R4 (4.0.1) structural validation of a neutral document tree (include/igw/doc.h) and
 * OperationOutcome building (translators/fhir/). The element tables are generated from the
 * official R4 StructureDefinitions and ValueSets (docs/FHIR-VALIDATION.md says how).
 *
 * What is checked: the resource type is known (and the expected one); every element is defined
 * for its type (unknown members are errors, except extension, modifierExtension, resourceType
 * at the resource root and "_name" primitive-extension siblings); cardinality (required
 * elements present, a max "*" element is a JSON array and a max "1" element is not, arrays not
 * empty, no null items except aligned with a "_name" sibling); choice elements value[x] (one
 * typed name, allowed types only); primitive formats (the R4 regexes: date, dateTime, instant,
 * time, id, uri, url, canonical, oid, uuid, code, decimal, integer, positiveInt, unsignedInt,
 * boolean, string, markdown, base64Binary); required bindings with a closed code list
 * (AdministrativeGender, ClaimUse, FinancialResourceStatusCodes, IdentifierUse, ...); reference
 * format (Type/id, Type/id/_history/v, urn:uuid:, urn:oid:, #contained, absolute URL);
 * Extension.url required; contained resources and Bundle.entry.resource recursively; the
 * member fhir_comments is rejected. Not checked: FHIRPath invariants, profiles other than the
 * base spec, codes of extensible/preferred bindings, terminology servers.
 *
 * Issues carry a FHIRPath-like expression: "Patient.name[0].given[1]", and inside a Bundle
 * "Bundle.entry[1].resource.name[0].family" (an array element always has its index; a single
 * element never has one; a choice element is named as written, "Observation.valueQuantity").
 *
 * Memory: every issue, string and outcome node is allocated from the caller's arena and lives
 * until the arena is reset; nothing else is allocated. The generated tables are immutable, so
 * all functions here may run on several threads at once, each with its own arena and tree.
 */
#ifndef IGW_FHIR_H
#define IGW_FHIR_H

#include <stddef.h>
#include <stdbool.h>

#include "igw/arena.h"
#include "igw/doc.h"

/* FHIR IssueSeverity and IssueType codes used by the validator (static strings). */
#define IGW_FHIR_SEV_FATAL "fatal"
#define IGW_FHIR_SEV_ERROR "error"
#define IGW_FHIR_SEV_WARNING "warning"
#define IGW_FHIR_SEV_INFO "information"

#define IGW_FHIR_IT_INVALID "invalid"           /* generic: wrong JSON type, empty array */
#define IGW_FHIR_IT_STRUCTURE "structure"       /* unknown element, array vs single, choice */
#define IGW_FHIR_IT_REQUIRED "required"         /* a required element is missing */
#define IGW_FHIR_IT_VALUE "value"               /* a primitive does not match its format */
#define IGW_FHIR_IT_CODE_INVALID "code-invalid" /* a code not in a required value set */
#define IGW_FHIR_IT_TOO_COSTLY "too-costly"     /* a validator limit was reached */
#define IGW_FHIR_IT_NOT_SUPPORTED "not-supported"
#define IGW_FHIR_IT_NOT_FOUND "not-found"
#define IGW_FHIR_IT_PROCESSING "processing"
#define IGW_FHIR_IT_EXCEPTION "exception"
#define IGW_FHIR_IT_INFORMATIONAL "informational"

/** One OperationOutcome.issue. All strings are NUL-terminated; severity and code are static
 *  (the IGW_FHIR_SEV_* and IGW_FHIR_IT_* strings), expression and diagnostics live in the arena
 *  (expression may be NULL for an issue about the whole document). */
struct igw_fhir_issue {
    const char *severity;
    const char *code;
    const char *expression;
    const char *diagnostics;
};

/** Result of a validation, allocated in the caller's arena. issues[0..count) in document order.
 *  errors counts issues of severity error or fatal (0 means the resource is valid). truncated is
 *  set when more issues were found than opts->max_issues allowed (they are not recorded). */
struct igw_fhir_result {
    struct igw_fhir_issue *issues;
    size_t count;
    size_t errors;
    bool truncated;
};

/* igw_fhir_opts.flags */
#define IGW_FHIR_NO_BUNDLE_ENTRIES 0x01u /* do not validate Bundle.entry.resource contents */
#define IGW_FHIR_NO_CONTAINED 0x02u      /* do not validate contained resources' contents */

/** Options; a zeroed struct (or a NULL pointer) gives the defaults. */
struct igw_fhir_opts {
    const char *expected_type; /* NUL-terminated resourceType the root must have, or NULL */
    unsigned max_issues;       /* stop recording after this many issues; 0 = 100 */
    unsigned max_depth;        /* nesting of elements and resources; 0 = 64 (too-costly) */
    unsigned flags;            /* IGW_FHIR_* */
};

/** Validates resource (the root of a parsed FHIR JSON document) against the R4 base spec.
 *  On IGW_OK, *out holds the issues (out->errors == 0 means valid); issues, their strings and
 *  the array live in arena a. resource is only read; it must be a tree as igw_json_parse builds
 *  it (any shape: a non-object root is reported as an issue, not an error return).
 *  @param a arena for the result; the only memory used.
 *  @param resource root node; NULL is reported as an issue.
 *  @param opts options or NULL for the defaults.
 *  @param out result, always initialised (empty) before anything else.
 *  @return IGW_OK (whatever the resource's validity); IGW_EINVAL (a or out NULL, or
 *          opts->expected_type is not a concrete R4 resource type); IGW_ENOMEM (arena exhausted;
 *          *out holds the issues recorded so far).
 *  Thread rules: reentrant; the tree and arena must not be shared with a concurrent writer. */
int igw_fhir_validate(igw_arena *a, const struct igw_node *resource,
                      const struct igw_fhir_opts *opts, struct igw_fhir_result *out);

/** Parses len bytes of JSON text (borrowed, only read during the call; igw_json_parse with
 *  lim, NULL = defaults) into arena a and validates it as igw_fhir_validate does. A parse
 *  failure becomes one issue (code structure, or too-costly for a limit, diagnostics with
 *  line:column) and still returns IGW_OK, so the caller answers with an OperationOutcome.
 *  *root (if root is not NULL) receives the tree (in a), or NULL when parsing failed. *out is
 *  cleared first whenever out is not NULL; the result lives in a.
 *  @return IGW_OK; IGW_EINVAL (a, text or out NULL; bad expected_type); IGW_ENOMEM (arena
 *          exhausted while parsing or validating). */
int igw_fhir_validate_json(igw_arena *a, const char *text, size_t len,
                           const struct igw_parse_limits *lim, const struct igw_fhir_opts *opts,
                           struct igw_node **root, struct igw_fhir_result *out);

/** Builds an OperationOutcome tree in arena a for r (borrowed):
 * {"resourceType":"OperationOutcome","issue":[{
 *  "severity","code","diagnostics","expression":[...]}...]}; with r->truncated a last
 *  information issue (code too-costly) says so. An empty result gives one information issue
 *  (code informational, diagnostics "validation passed"), since issue is required (1..*).
 *  Strings are shared with r (same arena). Write it with igw_json_write.
 *  @return the OBJECT root, or NULL when the arena is exhausted or a/r is NULL. */
struct igw_node *igw_fhir_outcome(igw_arena *a, const struct igw_fhir_result *r);

/** Builds an OperationOutcome with one issue, for gateway errors (400 structure, 404 not-found,
 *  415 not-supported, 422 processing, 500 exception ...). severity and code are required;
 *  diagnostics and expression may be NULL (then left out). All strings are copied into a.
 *  @return the OBJECT root, or NULL (arena exhausted, or severity/code NULL). */
struct igw_node *igw_fhir_outcome_simple(igw_arena *a, const char *severity, const char *code,
                                         const char *diagnostics, const char *expression);

/** True when type[0..len) is an R4 resource type name ("Patient", "Bundle"; case-sensitive,
 *  abstract Resource and DomainResource excluded). type need not be NUL-terminated; NULL gives
 *  false. Allocates nothing. */
bool igw_fhir_resource_type_known(const char *type, size_t len);

/** The i-th R4 resource type name in byte order ("Account", ...; the ones
 *  igw_fhir_resource_type_known accepts), or NULL past the last. Static strings; allocates
 *  nothing. */
const char *igw_fhir_resource_type_at(unsigned i);

/** Applies a JSON Patch (RFC 6902: add, remove, replace, move, copy, test; JSON Pointers of
 *  RFC 6901) to doc in place, in order, as FHIR PATCH with application/json-patch+json does.
 *  patch (borrowed, only read) is the parsed patch document, an array of operations; values
 *  are cloned into arena a (not NULL), so doc may then outlive patch within a. Number text is
 *  kept as written (a FHIR decimal's precision). On error doc is left partly patched (patch a
 *  tree you discard on error) and err gets "operation <i>: <reason>".
 *  @return IGW_OK; IGW_EINVAL (a, doc or patch NULL, not an array, a malformed operation or
 *  pointer, an array index out of range, a move into itself); IGW_ENOENT (a path or from that
 *  does not exist); IGW_ECONFLICT (a test operation failed); IGW_ENOMEM (arena exhausted). */
int igw_json_patch_apply(igw_arena *a, struct igw_node *doc, const struct igw_node *patch,
                         char *err, size_t errlen);

#endif /* IGW_FHIR_H */
