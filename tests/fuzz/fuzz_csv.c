/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer driver for the CSV codec: parse (header/delimiter from the first byte), write back,
 * and the output must parse again. */
#include <stddef.h>
#include <stdint.h>

#include "igw/common.h"
#include "igw/doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = {',', ';', '\t', '|'};
    igw_arena *a = NULL;
    struct igw_node *r1 = NULL;
    struct igw_node *r2 = NULL;
    struct igw_parse_error err;
    struct igw_buf out;
    struct igw_csv_opts opts = {',', true};

    if (size > 0) {
        opts.delimiter = delims[data[0] & 3];
        opts.header = (data[0] & 4) == 0;
        data++;
        size--;
    }
    if (igw_arena_new(&a, 16u << 20) != IGW_OK) {
        return 0;
    }
    igw_buf_init(&out, 64u << 20);
    if (igw_csv_parse(a, (const char *)data, size, &opts, NULL, &r1, &err) == IGW_OK) {
        if (igw_csv_write(r1, &opts, &out) != IGW_OK) {
            igw_panic("csv: writing a parsed tree failed");
        }
        if (igw_csv_parse(a, out.ptr, out.len, &opts, NULL, &r2, &err) != IGW_OK) {
            igw_panic("csv: output does not parse: %s", err.msg);
        }
    }
    igw_buf_fini(&out);
    igw_arena_free(a);
    return 0;
}
