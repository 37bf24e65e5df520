/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the FHIR R4 validator: parse JSON with limits, validate (the first input
 * byte picks options), build the OperationOutcome and write it, and check the result's
 * invariants (counts, non-empty strings, the outcome is itself a valid R4 OperationOutcome).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "igw/fhir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_result(const struct igw_fhir_result *r, unsigned max_issues)
{
    size_t errors = 0;

    if (r->count > max_issues || (r->count > 0 && r->issues == NULL)) {
        igw_panic("fhir: %zu issues over the limit %u", r->count, max_issues);
    }
    for (size_t i = 0; i < r->count; i++) {
        const struct igw_fhir_issue *is = &r->issues[i];
        if (is->severity == NULL || is->code == NULL || is->diagnostics == NULL ||
            is->diagnostics[0] == '\0' || (is->expression != NULL && is->expression[0] == '\0')) {
            igw_panic("fhir: malformed issue %zu", i);
        }
        errors += strcmp(is->severity, "error") == 0 ? 1 : 0;
    }
    if (errors != r->errors) {
        igw_panic("fhir: errors %zu, counted %zu", r->errors, errors);
    }
}

static void
check_outcome(igw_arena *a, const struct igw_fhir_result *r)
{
    struct igw_node *oo = igw_fhir_outcome(a, r);
    struct igw_fhir_result again;
    struct igw_fhir_opts o = {"OperationOutcome", 1000, 0, 0};
    struct igw_buf out;

    if (oo == NULL) {
        return; /* arena limit */
    }
    if (igw_fhir_validate(a, oo, &o, &again) == IGW_OK && again.errors != 0) {
        igw_panic("fhir: the OperationOutcome is not valid R4: %s", again.issues[0].diagnostics);
    }
    igw_buf_init(&out, 16u << 20);
    if (igw_json_write(oo, &out, 0) != IGW_OK) {
        igw_panic("fhir: writing the OperationOutcome failed");
    }
    igw_buf_fini(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    igw_arena *a = NULL;
    struct igw_parse_limits lim = {64, 200000};
    struct igw_fhir_opts o = {NULL, 0, 0, 0};
    struct igw_fhir_result r;
    unsigned sel = size > 0 ? data[0] : 0;

    if (igw_arena_new(&a, 32u << 20) != IGW_OK) {
        return 0;
    }
    o.max_issues = (sel & 1) ? 5 : 100;
    o.flags = (sel & 2) ? IGW_FHIR_NO_BUNDLE_ENTRIES | IGW_FHIR_NO_CONTAINED : 0;
    o.max_depth = (sel & 4) ? 8 : 0;
    if (igw_fhir_validate_json(a, (const char *)data, size, &lim, &o, NULL, &r) == IGW_OK) {
        check_result(&r, o.max_issues);
        check_outcome(a, &r);
    }
    igw_arena_free(a);
    return 0;
}
