/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer driver for lookup tables: the first byte picks CSV or ConceptMap JSON; a table that
 * loads is looked up forward and backward with codes taken from the input. */
#include <stddef.h>
#include <stdint.h>

#include "igw/common.h"
#include "igw/maptable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[IGW_ERRBUF_SIZE];
    igw_table *t = NULL;
    struct igw_table_entry e;
    const char *name = "fuzz.csv";

    if (size > 0) {
        name = (data[0] & 1) != 0 ? "fuzz.json" : "fuzz.csv";
        data++;
        size--;
    }
    if (igw_table_parse(&t, name, (const char *)data, size, err, sizeof(err)) != IGW_OK) {
        return 0;
    }
    for (size_t i = 0; i + 1 < size && i < 64; i += 7) {
        size_t n = size - i < 9 ? size - i : 9;
        (void)igw_table_lookup(t, false, (const char *)data + i, n, &e);
        (void)igw_table_lookup(t, true, (const char *)data + i, n, &e);
    }
    (void)igw_table_invertible(t);
    (void)igw_table_ambiguity(t);
    igw_table_free(t);
    return 0;
}
