/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer driver for the JSON codec: parse, write, and check parse(write(parse(x))) equals. */
#include <stddef.h>
#include <stdint.h>

#include "igw/common.h"
#include "igw/doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    igw_arena *a = NULL;
    struct igw_node *r1 = NULL;
    struct igw_node *r2 = NULL;
    struct igw_parse_error err;
    struct igw_buf out;
    struct igw_parse_limits lim = {0, 0};

    if (igw_arena_new(&a, 16u << 20) != IGW_OK) {
        return 0;
    }
    igw_buf_init(&out, 64u << 20);
    if (igw_json_parse(a, (const char *)data, size, &lim, &r1, &err) == IGW_OK) {
        unsigned flags = size > 0 && (data[0] & 1) ? IGW_WRITE_PRETTY : 0;
        if (igw_json_write(r1, &out, flags) != IGW_OK) {
            igw_panic("json: writing a parsed tree failed");
        }
        if (igw_json_parse(a, out.ptr, out.len, &lim, &r2, &err) != IGW_OK) {
            igw_panic("json: output does not parse: %s", err.msg);
        }
        if (!igw_node_equal(r1, r2)) {
            igw_panic("json: round trip differs");
        }
    }
    igw_buf_fini(&out);
    igw_arena_free(a);
    return 0;
}
