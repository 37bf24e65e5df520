/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden cases of the shipped maps (mappings/<name>/tests/<case>/{input,expected}.json, and
 * the benchmark's tests/bench/maps/) and the
 * throughput of insuree-to-patient (JSON text in, JSON text out). The records are generated
 * deterministically, the same way the peer benchmark generates its openIMIS-like insurees:
 * record i cycles through fixed first/last names, genders M F O M F, birth dates from 1950,
 * a family head every fourth record, 50 health facilities, and a phone on four records of five.
 */
#include <dirent.h>
#include <stdlib.h>

#include "lib/igwt_fixtures.h"
#include "maptest.h"

/* The map set of rel under the source tree: "mappings" (the shipped maps) or
 * "tests/bench/maps" (the benchmark's flat-record map). */
static igw_map_set *
load_set(const char *rel)
{
    char dir[1024];
    char err[IGW_ERRBUF_SIZE];
    igw_map_set *s = NULL;
    const char *src = getenv("IGW_SRC");
    snprintf(dir, sizeof(dir), "%s/%s", src != NULL ? src : "../..", rel);
    if (igw_map_set_load(&s, dir, err, sizeof(err)) != IGW_OK) {
        fprintf(stderr, "  load: %s\n", err);
        return NULL;
    }
    return s;
}

static int
run_case(const igw_map *m, const char *dir)
{
    char path[1600];
    size_t n1 = 0;
    size_t n2 = 0;
    const char *got = NULL;
    snprintf(path, sizeof(path), "%s/input.json", dir);
    char *in = igwt_read_file(path, &n1);
    snprintf(path, sizeof(path), "%s/expected.json", dir);
    char *want = igwt_read_file(path, &n2);
    int ok = 0;
    if (in == NULL || want == NULL) {
        fprintf(stderr, "  %s: cannot read input.json or expected.json\n", dir);
    }
    if (in != NULL && want != NULL) {
        struct igw_map_limits lim = {.now_ms = 1700000000000ull};
        if (mt_apply_lim(m, false, in, &lim, &got) == IGW_OK) {
            struct igw_node *g = mt_parse(got);
            struct igw_node *w = mt_parse(want);
            ok = g != NULL && w != NULL && igw_node_equal(g, w);
        }
        if (!ok) {
            fprintf(stderr, "  %s: got %s\n", dir, got != NULL ? got : "?");
        }
    }
    igw_free(in);
    igw_free(want);
    return ok;
}

/* Runs the JSON golden cases of every map of the set under rel; returns how many ran. */
static unsigned
golden_cases(const char *rel)
{
    igw_map_set *s = load_set(rel);
    unsigned cases = 0;
    IGWT_ASSERT(s != NULL);
    for (size_t i = 0; i < igw_map_set_count(s); i++) {
        const igw_map *m = igw_map_set_at(s, i);
        char tdir[1024];
        const char *src = getenv("IGW_SRC");
        snprintf(tdir, sizeof(tdir), "%s/%s/%s/tests", src != NULL ? src : "../..", rel,
                 igw_map_name(m));
        DIR *d = opendir(tdir);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            char cdir[1400];
            if (e->d_name[0] == '.') {
                continue;
            }
            snprintf(cdir, sizeof(cdir), "%s/%s", tdir, e->d_name);
            char probe[1600];
            struct stat st;
            snprintf(probe, sizeof(probe), "%s/input.json", cdir);
            if (stat(probe, &st) != 0) {
                continue; /* XML/CSV cases: run by `igw map test` (golden.mappings) */
            }
            snprintf(probe, sizeof(probe), "%s/expected.json", cdir);
            if (stat(probe, &st) != 0) {
                continue; /* JSON in, XML/CSV out: also run by `igw map test` */
            }
            IGWT_CHECK(run_case(m, cdir));
            cases++;
        }
        if (d != NULL) {
            closedir(d);
        }
    }
    igw_map_set_free(s);
    return cases;
}

static void
test_golden_cases(void)
{
    unsigned cases = golden_cases("mappings");
    unsigned bench = golden_cases("tests/bench/maps");

    printf("  %u golden cases, %u of the benchmark's map\n", cases, bench);
    IGWT_CHECK(cases > 0 && bench > 0);
}

static const char *first_names[] = {"John", "Jane",   "Amina",  "Baraka", "Neema",
                                    "Juma", "Rehema", "Hassan", "Zawadi", "Musa"};
static const char *last_names[] = {"Doe",   "Mushi",   "Kimaro", "Mwakyusa",
                                   "Temba", "Massawe", "Lyimo",  "Shirima"};
static const char genders[] = "MFOMF";

static int
gen_record(char *buf, size_t cap, long i)
{
    char chf[24];
    char head[24];
    char names[64];
    char phone[48] = "";
    snprintf(chf, sizeof(chf), "%09ld", 70707070 + i);
    snprintf(head, sizeof(head), "%09ld", 70707070 + i - (i % 4));
    snprintf(names, sizeof(names), "%s%s%s", first_names[i % 10], i % 3 == 0 ? " " : "",
             i % 3 == 0 ? first_names[(i + 3) % 10] : "");
    if (i % 5 != 4) {
        snprintf(phone, sizeof(phone), ",\"phone\":\"+255%ld\"", 700000000 + i);
    }
    return snprintf(buf, cap,
                    "{\"chfId\":\"%s\",\"lastName\":\"%s\",\"otherNames\":\"%s\",\"dob\":\""
                    "%ld-%02ld-%02ld\",\"gender\":\"%c\",\"family\":{\"headChfId\":\"%s\"},"
                    "\"healthFacility\":{\"code\":\"HF%03ld\"}%s}",
                    chf, last_names[i % 8], names, 1950 + i % 60, 1 + i % 12, 1 + i % 28,
                    genders[i % 5], i % 4 == 0 ? chf : head, 1 + i % 50, phone);
}

static void
test_throughput(void)
{
    igw_map_set *s = load_set("tests/bench/maps");
    const igw_map *m = igw_map_set_get(s, "insuree-to-patient");
    const char *env = getenv("IGW_MAP_BENCH_N");
    long n = env != NULL ? atol(env) : 20000;
    size_t cap = (size_t)n * 400 + 1;
    char *text = igw_malloc(cap);
    size_t *offs = igw_malloc(((size_t)n + 1) * sizeof(size_t));
    igw_arena *a = NULL;
    struct igw_buf out;
    size_t pos = 0;
    IGWT_ASSERT(m != NULL && text != NULL && offs != NULL);
    for (long i = 0; i < n; i++) {
        offs[i] = pos;
        pos += (size_t)gen_record(text + pos, cap - pos, i);
    }
    offs[n] = pos;
    IGWT_OK(igw_arena_new(&a, 0));
    igw_buf_init(&out, 1u << 20);
    uint64_t t0 = igw_mono_ns();
    size_t bytes = 0;
    for (long i = 0; i < n; i++) {
        struct igw_node *in = NULL;
        struct igw_node *res = NULL;
        struct igw_parse_error pe;
        struct igw_map_limits lim = {.now_ms = 1};
        IGWT_OK(igw_json_parse(a, text + offs[i], offs[i + 1] - offs[i], NULL, &in, &pe));
        IGWT_OK(igw_map_apply(m, false, a, in, &lim, &res, mt_err, sizeof(mt_err)));
        IGWT_OK(igw_json_write(res, &out, 0));
        bytes += out.len;
        igw_buf_reset(&out);
        igw_arena_reset(a);
    }
    double secs = (double)(igw_mono_ns() - t0) / 1e9;
    printf("  insuree-to-patient: %ld records in %.3f s = %.0f records/s (%zu bytes out)\n", n,
           secs, (double)n / secs, bytes);
    igw_buf_fini(&out);
    igw_arena_free(a);
    igw_free(offs);
    igw_free(text);
    igw_map_set_free(s);
}

IGWT_MAIN({"golden_cases", test_golden_cases}, {"throughput", test_throughput})
