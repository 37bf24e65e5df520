/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every FHIR resource igw emits must be valid R4: for every map under $IGW_SRC/mappings, every
 * golden case whose expected.json is a FHIR resource or Bundle (a root object with
 * resourceType) is validated with igw_fhir_validate (Bundle.entry.resource and contained
 * resources recursively, the validator's default). A failure lists every issue with the map,
 * the case, the FHIRPath expression and the diagnostics. Outputs that are not FHIR (openIMIS
 * objects, legacy XML) are skipped and counted.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "igw/fhir.h"
#include "lib/igwt.h"
#include "lib/igwt_fixtures.h"

#define MAX_NAMES 512

/* The file's arena (igwt_file_arena), reset at each use. */
static igw_arena *arena;

/* ---- helpers ----------------------------------------------------------------------------- */

/* buf = a + "/" + b; false (and a reported failure) when it does not fit */
static bool
join(char *buf, size_t size, const char *a, const char *b)
{
    int n = snprintf(buf, size, "%s/%s", a, b);

    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "  path too long: %s/%s\n", a, b);
        igwt_failures_++;
        return false;
    }
    return true;
}

static bool
is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sub-directories of dir, sorted (so the report is stable); returns how many, -1 when dir
 * cannot be opened. names[i] are igw_malloc'd; free with free_names. */
static int
list_dirs(const char *dir, char **names, int max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL && n < max) {
        char path[4096];

        if (e->d_name[0] == '.') {
            continue;
        }
        if (!join(path, sizeof(path), dir, e->d_name) || !is_dir(path)) {
            continue;
        }
        names[n] = igw_strdup(e->d_name);
        IGWT_ASSERT(names[n] != NULL);
        n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
    return n;
}

static void
free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) {
        IGW_FREE(names[i]);
    }
}

static const char *
mappings_dir(char *buf, size_t size)
{
    const char *src = getenv("IGW_SRC");

    snprintf(buf, size, "%s/mappings", src != NULL ? src : "../..");
    return buf;
}

static size_t
count_entries(const struct igw_node *root)
{
    const struct igw_node *entry = igw_node_get(root, "entry", 5);

    return entry != NULL && entry->type == IGW_NODE_ARRAY ? entry->count : 0;
}

/* ---- the harness checks itself ----------------------------------------------------------- */

/* An invalid resource inside a Bundle entry is reported with its Bundle path: the default
 * options recurse into entries, which the maps test relies on. */
static void
test_bundle_entries_checked(void)
{
    static const char doc[] = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
                              "{\"resource\":{\"resourceType\":\"Claim\",\"id\":\"code_ABVC\"}}]}";
    struct igw_fhir_result res;
    bool found = false;

    arena = igwt_file_arena(256u << 20);
    IGWT_OK(igw_fhir_validate_json(arena, doc, sizeof(doc) - 1, NULL, NULL, NULL, &res));
    IGWT_CHECK(res.errors > 0);
    for (size_t i = 0; i < res.count; i++) {
        if (res.issues[i].expression != NULL &&
            strcmp(res.issues[i].expression, "Bundle.entry[0].resource.id") == 0) {
            found = true;
        }
    }
    IGWT_CHECK(found);
}

/* ---- every golden output of every map ---------------------------------------------------- */

struct tally {
    int resources; /* expected.json files validated */
    int entries;   /* Bundle entries among them */
    int skipped;   /* expected.json files that are not FHIR */
    int invalid;   /* expected.json files with errors */
};

static void
check_case(const char *map, const char *tcase, const char *path, struct tally *t)
{
    struct igw_parse_error perr;
    struct igw_fhir_result res;
    struct igw_node *root = NULL;
    const struct igw_node *rt;
    size_t len;
    char *text = igwt_read_file(path, &len);

    if (text == NULL) {
        return; /* a case with expected.xml / expected.csv: not FHIR JSON */
    }
    arena = igwt_file_arena(256u << 20);
    if (igw_json_parse(arena, text, len, NULL, &root, &perr) != IGW_OK) {
        fprintf(stderr, "  %s/%s: expected.json does not parse: %u:%u: %s\n", map, tcase, perr.line,
                perr.column, perr.msg);
        igwt_failures_++;
        IGW_FREE(text);
        return;
    }
    rt = igw_node_get(root, "resourceType", 12);
    if (rt == NULL) {
        t->skipped++;
        IGW_FREE(text);
        return;
    }
    t->resources++;
    t->entries += (int)count_entries(root);
    IGWT_OK(igw_fhir_validate(arena, root, NULL, &res));
    if (res.errors != 0 || res.truncated) {
        t->invalid++;
        igwt_failures_++;
        fprintf(stderr, "  %s/%s: %zu issue(s), %zu error(s)%s\n", map, tcase, res.count,
                res.errors, res.truncated ? " (truncated)" : "");
    }
    for (size_t i = 0; i < res.count; i++) {
        /* warnings and information are listed too, they do not fail the case */
        if (res.errors != 0 || strcmp(res.issues[i].severity, IGW_FHIR_SEV_WARNING) == 0) {
            fprintf(stderr, "    map %s case %s: %s %s at %s: %s\n", map, tcase,
                    res.issues[i].severity, res.issues[i].code,
                    res.issues[i].expression != NULL ? res.issues[i].expression : "-",
                    res.issues[i].diagnostics != NULL ? res.issues[i].diagnostics : "");
        }
    }
    IGW_FREE(text);
}

static void
test_maps_valid(void)
{
    char mdir[4096];
    char *maps[MAX_NAMES];
    struct tally t = {0, 0, 0, 0};
    int nmaps = list_dirs(mappings_dir(mdir, sizeof(mdir)), maps, MAX_NAMES);

    if (nmaps < 0) {
        fprintf(stderr, "  cannot open %s (set IGW_SRC to the repository root)\n", mdir);
    }
    IGWT_ASSERT(nmaps > 0);
    for (int m = 0; m < nmaps; m++) {
        char mpath[4096];
        char tdir[4096];
        char *cases[MAX_NAMES];
        int ncases;

        if (!join(mpath, sizeof(mpath), mdir, maps[m]) ||
            !join(tdir, sizeof(tdir), mpath, "tests")) {
            continue;
        }
        ncases = list_dirs(tdir, cases, MAX_NAMES);
        for (int c = 0; c < ncases; c++) {
            char cpath[4096];
            char path[4096];

            if (join(cpath, sizeof(cpath), tdir, cases[c]) &&
                join(path, sizeof(path), cpath, "expected.json")) {
                check_case(maps[m], cases[c], path, &t);
            }
        }
        free_names(cases, ncases);
    }
    free_names(maps, nmaps);
    printf("     %d map(s): %d FHIR output(s) validated (%d Bundle entries), %d invalid, "
           "%d non-FHIR output(s) skipped\n",
           nmaps, t.resources, t.entries, t.invalid, t.skipped);
    IGWT_CHECK(t.resources > 0);
}

IGWT_MAIN({"bundle_entries_checked", test_bundle_entries_checked}, {"maps_valid", test_maps_valid})
