/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR search benchmark, library part: what igw's CPU adds to one search besides the HTTP
 * calls. For each iteration: parse a query string, plan it, write the GraphQL call, parse a
 * recorded upstream answer of ANSWER.json (one page), turn every record into a resource through
 * the record map and write the searchset Bundle. Prints one JSON line
 * {"searches","secs","per_s","p50_us","p99_us","bundle_bytes"}.
 *
 *   search_bench MAPPINGS_DIR TYPE QUERY ANSWER.json [ITERATIONS]
 *   search_bench MAPPINGS_DIR TYPE QUERY --call     prints the first GraphQL call's body
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/search.h"

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int
one(igw_arena *a, const igw_search_set *s, const igw_map_set *maps, const char *type,
    const char *qs, const struct igw_buf *ans, size_t *bytes)
{
    struct igw_search_query q;
    igw_search_op *op = NULL;
    struct igw_buf call, out;
    char err[IGW_ERRBUF_SIZE];
    int rv = igw_search_query_parse(a, qs, strlen(qs), &q, err, sizeof(err));
    rv = rv == IGW_OK ? igw_search_begin(&op, a, s, type, &q, 0, err, sizeof(err)) : rv;
    igw_buf_init(&call, 1u << 20);
    igw_buf_init(&out, 64u << 20);
    rv = rv == IGW_OK ? igw_search_next_call(op, &call) : rv;
    rv = rv == IGW_OK ? igw_search_feed(op, ans->ptr, ans->len, err, sizeof(err)) : rv;
    while (rv == IGW_OK && igw_search_next_call(op, &call) == IGW_OK) {
        rv = igw_search_feed(op, ans->ptr, ans->len, err, sizeof(err));
    }
    rv = rv == IGW_OK
             ? igw_search_bundle(op, "http://127.0.0.1:7400/fhir", maps, &out, err, sizeof(err))
             : rv;
    if (rv != IGW_OK) {
        fprintf(stderr, "search_bench: %s (%s)\n", err, igw_strerror(rv));
    }
    *bytes = out.len;
    igw_buf_fini(&call);
    igw_buf_fini(&out);
    return rv;
}

static int
print_call(const char *dir, const char *type, const char *qs)
{
    igw_search_set *s = NULL;
    igw_arena *a = NULL;
    struct igw_search_query q;
    igw_search_op *op = NULL;
    struct igw_buf call;
    char err[IGW_ERRBUF_SIZE] = "";
    int rv = igw_search_set_load(&s, dir, err, sizeof(err));
    rv = rv == IGW_OK ? igw_arena_new(&a, 0) : rv;
    rv = rv == IGW_OK ? igw_search_query_parse(a, qs, strlen(qs), &q, err, sizeof(err)) : rv;
    rv = rv == IGW_OK ? igw_search_begin(&op, a, s, type, &q, 0, err, sizeof(err)) : rv;
    igw_buf_init(&call, 1u << 20);
    rv = rv == IGW_OK ? igw_search_next_call(op, &call) : rv;
    if (rv == IGW_OK) {
        fwrite(call.ptr, 1, call.len, stdout);
    } else {
        fprintf(stderr, "search_bench: %s\n", err);
    }
    igw_buf_fini(&call);
    igw_arena_free(a);
    igw_search_set_free(s);
    return rv == IGW_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
    igw_search_set *s = NULL;
    igw_map_set *maps = NULL;
    igw_arena *a = NULL;
    struct igw_buf ans;
    char err[IGW_ERRBUF_SIZE] = "";
    size_t bytes = 0;
    if (argc < 5) {
        fprintf(stderr, "usage: search_bench MAPPINGS_DIR TYPE QUERY ANSWER.json [N]\n");
        return 2;
    }
    if (strcmp(argv[4], "--call") == 0) {
        return print_call(argv[1], argv[2], argv[3]);
    }
    long n = argc > 5 ? strtol(argv[5], NULL, 10) : 20000;
    igw_buf_init(&ans, 64u << 20);
    if (igw_search_set_load(&s, argv[1], err, sizeof(err)) != IGW_OK ||
        igw_map_set_load(&maps, argv[1], err, sizeof(err)) != IGW_OK ||
        igw_buf_read_file(&ans, argv[4]) != IGW_OK || igw_arena_new(&a, 0) != IGW_OK) {
        fprintf(stderr, "search_bench: %s\n", err[0] ? err : "cannot read the answer");
        return 1;
    }
    double *lat = malloc((size_t)n * sizeof(*lat));
    for (long i = 0; i < 200; i++) { /* warm up */
        igw_arena_reset(a);
        if (one(a, s, maps, argv[2], argv[3], &ans, &bytes) != IGW_OK) {
            return 1;
        }
    }
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        double t = now_us();
        igw_arena_reset(a);
        (void)one(a, s, maps, argv[2], argv[3], &ans, &bytes);
        lat[i] = now_us() - t;
    }
    double secs = (now_us() - t0) / 1e6;
    qsort(lat, (size_t)n, sizeof(*lat), cmp_d);
    printf("{\"searches\":%ld,\"secs\":%.3f,\"per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
           "\"bundle_bytes\":%zu}\n",
           n, secs, (double)n / secs, lat[n / 2], lat[n * 99 / 100], bytes);
    free(lat);
    igw_buf_fini(&ans);
    igw_arena_free(a);
    igw_map_set_free(maps);
    igw_search_set_free(s);
    return 0;
}
