/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer driver for igw_json_check (translators/json/json_check.c): its verdict must be
 * igw_json_parse's on every input (the intake trusts an accepting check without a parse). The
 * first byte picks the depth limit, so the limit's edge is fuzzed too. */
#include <stddef.h>
#include <stdint.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "igw/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    igw_arena *a = NULL;
    struct igw_node *root = NULL;
    struct igw_parse_error err;
    unsigned depth = size > 0 && (data[0] & 0x80) ? (data[0] & 0x0f) : 0;
    struct igw_parse_limits lim = {.max_depth = depth};
    int want;
    int got;

    if (igw_arena_new(&a, 64u << 20) != IGW_OK) {
        return 0;
    }
    want = igw_json_parse(a, (const char *)data, size, &lim, &root, &err);
    got = igw_json_check((const char *)data, size, depth);
    if (want != IGW_ENOMEM && want != got) {
        igw_panic("json_check: %d but igw_json_parse %d (%s)", got, want, err.msg);
    }
    igw_arena_free(a);
    return 0;
}
