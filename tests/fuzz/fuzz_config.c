/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer driver for the config loader: igw_config_parse on arbitrary bytes, then free.
 * Seeds: tests/fuzz/corpus/config/ (the example config and variants). Secrets paths in the
 * input are resolved against the working directory and usually fail to open: that error path
 * is part of what is fuzzed. */
#include <stddef.h>
#include <stdint.h>

#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct igw_config *cfg = NULL;
    char err[IGW_ERRBUF_SIZE];

    if (igw_config_parse(&cfg, "fuzz/igw.conf", (const char *)data, size, err, sizeof(err)) ==
        IGW_OK) {
        (void)igw_config_route(cfg, "a.b");
        igw_config_free(cfg);
    }
    return 0;
}
