/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer driver for the XML codec: parse, write back, and the output must parse again. */
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

    if (igw_arena_new(&a, 16u << 20) != IGW_OK) {
        return 0;
    }
    igw_buf_init(&out, 64u << 20);
    if (igw_xml_parse(a, (const char *)data, size, NULL, &r1, &err) == IGW_OK) {
        int rv = igw_xml_write(r1, &out, 0);
        /* a parsed tree is always representable */
        if (rv != IGW_OK) {
            igw_panic("xml: writing a parsed tree failed: %d", rv);
        }
        if (igw_xml_parse(a, out.ptr, out.len, NULL, &r2, &err) != IGW_OK) {
            igw_panic("xml: output does not parse: %s", err.msg);
        }
        igw_buf_reset(&out);
        (void)igw_json_write(r1, &out, IGW_WRITE_PRETTY);
    }
    igw_buf_fini(&out);
    igw_arena_free(a);
    return 0;
}
