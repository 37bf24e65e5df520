/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the mapping-language compiler and engine: compile arbitrary map text;
 * when it compiles, apply it to a small fixed JSON document with tight limits, write the result,
 * run the lint, and when the map is invertible run it backwards on its own output.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "igw/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char input[] =
    "{\"chfId\":\"070707070\",\"lastName\":\"Doe\",\"otherNames\":\"John Paul\","
    "\"dob\":\"1980-02-29\",\"gender\":\"M\",\"phone\":\"+255700000000\","
    "\"family\":{\"headChfId\":\"070707070\"},\"healthFacility\":{\"code\":\"HF001\"},"
    "\"n\":12.5,\"flag\":true,\"none\":null,\"list\":[1,2,3,\"x\",{\"k\":[\"a\",\"b\"]}],"
    "\"Items\":{\"Item\":[{\"code\":\"a\",\"qty\":2},{\"code\":\"b\",\"qty\":\"3\"}]},"
    "\"d\":\"31/12/1999\",\"t\":\"2024-01-01T01:30+02:00\"}";

static void
count_finding(void *arg, const struct igw_map_finding *f)
{
    unsigned *n = arg;
    if (f->message == NULL || f->file == NULL) {
        igw_panic("map lint: finding without message");
    }
    (*n)++;
}

/* Table and schema files are read from disk: keep the fuzzer away from device files. */
static bool
touches_devices(const uint8_t *data, size_t size)
{
    return memmem(data, size, "/dev", 4) != NULL || memmem(data, size, "/proc", 5) != NULL ||
           memmem(data, size, "/sys", 4) != NULL;
}

static void
run(const igw_map *m, igw_arena *a, const struct igw_node *in)
{
    struct igw_map_limits lim = {.max_depth = 16,
                                 .max_iterations = 2000,
                                 .max_output_nodes = 4000,
                                 .now_ms = 1700000000000ull};
    struct igw_node *out = NULL;
    struct igw_node *back = NULL;
    struct igw_buf b;
    char err[IGW_ERRBUF_SIZE];
    unsigned n = 0;

    igw_map_lint(m, count_finding, &n);
    if (igw_map_apply(m, false, a, in, &lim, &out, err, sizeof(err)) != IGW_OK) {
        return;
    }
    igw_buf_init(&b, 1u << 20);
    (void)igw_json_write(out, &b, 0);
    igw_buf_fini(&b);
    if (igw_map_invertible(m)) {
        (void)igw_map_apply(m, true, a, out, &lim, &back, err, sizeof(err));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    igw_arena *a = NULL;
    igw_map *m = NULL;
    struct igw_node *in = NULL;
    struct igw_parse_error perr;
    char err[IGW_ERRBUF_SIZE];

    if (size > 8192 || touches_devices(data, size)) {
        return 0;
    }
    if (igw_map_compile(&m, "fuzz.map", (const char *)data, size, NULL, NULL, err, sizeof(err)) !=
        IGW_OK) {
        if (strncmp(err, "fuzz.map", 8) != 0) {
            igw_panic("map: error message without location: %s", err);
        }
        return 0;
    }
    if (igw_arena_new(&a, 8u << 20) == IGW_OK &&
        igw_json_parse(a, input, sizeof(input) - 1, NULL, &in, &perr) == IGW_OK) {
        run(m, a, in);
    }
    igw_arena_free(a);
    igw_map_free(m);
    return 0;
}
