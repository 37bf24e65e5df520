/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of translators/map/table.c: CSV and ConceptMap lookup tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igwt.h"
#include "igw/common.h"
#include "igw/buf.h"
#include "igw/maptable.h"

static const char *
data_path(const char *name)
{
    static char path[4096];
    const char *src = getenv("IGW_SRC");
    snprintf(path, sizeof(path), "%s/tests/unit/translators/map/data/%s",
             src != NULL ? src : "../..", name);
    return path;
}

static igw_table *
load(const char *name)
{
    igw_table *t = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    int rv = igw_table_load(&t, data_path(name), err, sizeof(err));
    if (rv != IGW_OK) {
        fprintf(stderr, "  load %s: %s (%s)\n", name, igw_strerror(rv), err);
    }
    return t;
}

/* Looks code up and returns the result as a NUL-terminated string (static), or NULL. */
static const char *
look(const igw_table *t, bool inverse, const char *code)
{
    static char out[256];
    struct igw_table_entry e;
    if (!igw_table_lookup(t, inverse, code, strlen(code), &e)) {
        return NULL;
    }
    snprintf(out, sizeof(out), "%.*s", (int)e.code_len, e.code);
    return out;
}

/* Parses text as file; expects failure and returns the message (static). */
static const char *
parse_err(const char *file, const char *text, int want)
{
    static char err[IGW_ERRBUF_SIZE];
    igw_table *t = NULL;
    int rv;

    err[0] = '\0';
    rv = igw_table_parse(&t, file, text, strlen(text), err, sizeof(err));
    if (rv != want) {
        fprintf(stderr, "  %s: got %s, want %s (%s)\n", file, igw_strerror(rv), igw_strerror(want),
                err);
        igw_table_free(t);
        return "";
    }
    return err;
}

static void
test_csv_gender(void)
{
    igw_table *t = load("gender.csv");
    struct igw_table_entry e;

    IGWT_ASSERT(t != NULL);
    IGWT_STREQ(igw_table_name(t), "gender");
    IGWT_CHECK(igw_table_size(t) == 3);
    IGWT_STREQ(look(t, false, "M"), "male");
    IGWT_STREQ(look(t, false, "F"), "female");
    IGWT_STREQ(look(t, false, "O"), "other");
    IGWT_CHECK(look(t, false, "X") == NULL);
    IGWT_CHECK(look(t, false, "") == NULL);
    IGWT_CHECK(look(t, false, "male") == NULL);
    IGWT_STREQ(look(t, true, "male"), "M");
    IGWT_STREQ(look(t, true, "other"), "O");
    IGWT_CHECK(look(t, true, "M") == NULL);
    IGWT_CHECK(igw_table_invertible(t));
    IGWT_CHECK(igw_table_ambiguity(t) == NULL);
    IGWT_CHECK(igw_table_unmapped(t, NULL) == IGW_UNMAPPED_ERROR);
    IGWT_ASSERT(igw_table_lookup(t, false, "F", 1, &e));
    IGWT_STREQ(e.system, "http://hl7.org/fhir/administrative-gender");
    IGWT_STREQ(e.display, "Female");
    igw_table_free(t);
}

static void
test_conceptmap_gender(void)
{
    igw_table *t = load("gender-conceptmap.json");
    struct igw_table_entry e;

    IGWT_ASSERT(t != NULL);
    IGWT_STREQ(igw_table_name(t), "gender-conceptmap");
    IGWT_CHECK(igw_table_size(t) == 3);
    IGWT_STREQ(look(t, false, "M"), "male");
    IGWT_STREQ(look(t, false, "F"), "female");
    IGWT_STREQ(look(t, false, "O"), "other");
    IGWT_CHECK(look(t, false, "U") == NULL);
    IGWT_STREQ(look(t, true, "female"), "F");
    IGWT_CHECK(igw_table_invertible(t));
    IGWT_ASSERT(igw_table_lookup(t, false, "O", 1, &e));
    IGWT_STREQ(e.system, "http://hl7.org/fhir/administrative-gender");
    IGWT_STREQ(e.display, "Other");
    IGWT_ASSERT(igw_table_lookup(t, true, "other", 5, &e));
    IGWT_STREQ(e.system, "https://openimis.github.io/openimis_fhir_r4_ig/CodeSystem/gender");
    IGWT_CHECK(e.display == NULL);
    igw_table_free(t);
}

static void
test_conceptmap_fhir_example(void)
{
    /* modelled on the FHIR R4 example cm-administrative-gender-v2 (no ConceptMap ships in the
     * openIMIS and DCI fixtures); "other" has two targets: forward takes the first, both map back
     */
    igw_table *t = load("cm-administrative-gender-v2.json");
    struct igw_table_entry e;

    IGWT_ASSERT(t != NULL);
    IGWT_CHECK(igw_table_size(t) == 4);
    IGWT_STREQ(look(t, false, "other"), "A");
    IGWT_STREQ(look(t, false, "unknown"), "U");
    IGWT_STREQ(look(t, true, "A"), "other");
    IGWT_STREQ(look(t, true, "O"), "other");
    IGWT_CHECK(igw_table_invertible(t));
    IGWT_ASSERT(igw_table_lookup(t, false, "male", 4, &e));
    IGWT_STREQ(e.system, "http://terminology.hl7.org/CodeSystem/v2-0001");
    igw_table_free(t);
}

static void
test_ambiguous_inverse(void)
{
    igw_table *t = load("ambiguous.csv");
    const char *why;

    IGWT_ASSERT(t != NULL);
    IGWT_STREQ(look(t, false, "X"), "male");
    IGWT_STREQ(look(t, false, "M"), "male");
    IGWT_CHECK(!igw_table_invertible(t));
    why = igw_table_ambiguity(t);
    IGWT_ASSERT(why != NULL);
    IGWT_CHECK(strstr(why, "target 'male' comes from 'M'") != NULL);
    IGWT_CHECK(strstr(why, "and 'X'") != NULL);
    IGWT_CHECK(strstr(why, "ambiguous.csv:2:1") != NULL);
    IGWT_CHECK(strstr(why, "ambiguous.csv:4:1") != NULL);
    /* the inverse keeps the first source */
    IGWT_STREQ(look(t, true, "male"), "M");
    IGWT_STREQ(look(t, true, "other"), "O");
    igw_table_free(t);
}

static void
test_ambiguous_conceptmap(void)
{
    const char *text = "{\"resourceType\":\"ConceptMap\",\"group\":[{\"element\":[\n"
                       "{\"code\":\"a\",\"target\":[{\"code\":\"x\"}]},\n"
                       "{\"code\":\"b\",\"target\":[{\"code\":\"x\"}]},\n"
                       "{\"code\":\"c\",\"target\":[{\"code\":\"y\"}]},\n"
                       "{\"code\":\"d\",\"target\":[{\"code\":\"y\"}]}]}]}";
    char err[IGW_ERRBUF_SIZE];
    igw_table *t = NULL;
    const char *why;

    IGWT_OK(igw_table_parse(&t, "amb.json", text, strlen(text), err, sizeof(err)));
    IGWT_CHECK(!igw_table_invertible(t));
    why = igw_table_ambiguity(t);
    IGWT_ASSERT(why != NULL);
    IGWT_CHECK(strstr(why, "target 'x' comes from 'a' (amb.json:2:1) and 'b' (amb.json:3:1)") !=
               NULL);
    IGWT_CHECK(strstr(why, "1 more ambiguous target") != NULL);
    igw_table_free(t);
}

static void
test_unmapped_provided(void)
{
    igw_table *t = load("unmapped-provided.json");
    const char *fixed = "x";

    IGWT_ASSERT(t != NULL);
    IGWT_CHECK(igw_table_unmapped(t, &fixed) == IGW_UNMAPPED_PROVIDED);
    IGWT_CHECK(fixed == NULL);
    IGWT_CHECK(igw_table_size(t) == 2); /* z is "unmatched": no mapping */
    IGWT_STREQ(look(t, false, "a"), "alpha");
    IGWT_STREQ(look(t, false, "q"), "q");
    IGWT_STREQ(look(t, false, "z"), "z");
    IGWT_STREQ(look(t, true, "beta"), "b");
    IGWT_STREQ(look(t, true, "q"), "q");
    igw_table_free(t);
}

static void
check_fixed(const char *name)
{
    igw_table *t = load(name);
    struct igw_table_entry e;
    const char *fixed = NULL;

    IGWT_ASSERT(t != NULL);
    IGWT_CHECK(igw_table_unmapped(t, &fixed) == IGW_UNMAPPED_FIXED);
    IGWT_STREQ(fixed, "unknown");
    IGWT_STREQ(look(t, false, "M"), "male");
    IGWT_STREQ(look(t, false, "X"), "unknown");
    IGWT_STREQ(look(t, false, ""), "unknown");
    IGWT_ASSERT(igw_table_lookup(t, false, "Q", 1, &e));
    IGWT_STREQ(e.display, "Unknown");
    /* a fixed default has no inverse */
    IGWT_STREQ(look(t, true, "male"), "M");
    IGWT_CHECK(look(t, true, "unknown") == NULL);
    IGWT_CHECK(igw_table_invertible(t));
    igw_table_free(t);
}

static void
test_unmapped_fixed(void)
{
    check_fixed("unmapped-fixed.json");
    check_fixed("unmapped-fixed.csv");
}

static void
test_csv_quoting(void)
{
    igw_table *t = load("quoted.csv");
    struct igw_table_entry e;

    IGWT_ASSERT(t != NULL);
    IGWT_CHECK(igw_table_size(t) == 3);
    IGWT_STREQ(look(t, false, "a"), "x,1");
    IGWT_STREQ(look(t, false, "b"), "y\"2");
    IGWT_STREQ(look(t, true, "z3"), "c");
    IGWT_ASSERT(igw_table_lookup(t, false, "a", 1, &e));
    IGWT_STREQ(e.display, "Comma, inside");
    IGWT_CHECK(e.system == NULL);
    IGWT_ASSERT(igw_table_lookup(t, false, "b", 1, &e));
    IGWT_STREQ(e.display, "Quote \"q\"");
    IGWT_ASSERT(igw_table_lookup(t, false, "c", 1, &e));
    IGWT_STREQ(e.display, "Two\r\nlines");
    igw_table_free(t);
}

static void
test_csv_errors(void)
{
    IGWT_STREQ(parse_err("t.csv", "source,target\nM,male\nF,\"fem\n", IGW_EPARSE),
               "t.csv:3:3: unterminated quoted field");
    IGWT_STREQ(parse_err("t.csv", "source,target\nM,ma\"le\n", IGW_EPARSE),
               "t.csv:2:5: quote inside an unquoted field");
    IGWT_STREQ(parse_err("t.csv", "source,target\n\"M\"x,male\n", IGW_EPARSE),
               "t.csv:2:4: unexpected character after a closing quote");
    IGWT_STREQ(parse_err("t.csv", "source,target\nM,male\nF,female,extra\n", IGW_EPARSE),
               "t.csv:3:1: 3 fields, the header has 2");
    IGWT_STREQ(parse_err("t.csv", "source,code\nM,male\n", IGW_EPARSE),
               "t.csv:1:8: unknown column (want source,target[,system,display]) 'code'");
    IGWT_STREQ(parse_err("t.csv", "source,system\n", IGW_EPARSE),
               "t.csv:1:1: the header needs columns source and target");
    IGWT_STREQ(parse_err("t.csv", "# only a comment\n\n", IGW_EPARSE),
               "t.csv:1:1: no header (want source,target[,system,display])");
    IGWT_STREQ(parse_err("t.csv", "source,target\nM,male\n,female\n", IGW_EPARSE),
               "t.csv:3:1: empty 'source'");
    IGWT_STREQ(parse_err("t.csv", "source,target\nM,male\nF,female\nM,man\n", IGW_EPARSE),
               "t.csv:4:1: source 'M' is mapped twice (first at t.csv:2:1)");
    IGWT_STREQ(parse_err("t.csv", "# unmapped: other-map\nsource,target\n", IGW_EPARSE),
               "t.csv:1:13: unknown unmapped mode (want 'provided' or 'fixed CODE')");
}

static void
test_json_errors(void)
{
    IGWT_STREQ(parse_err("t.json", "{\n  \"resourceType\": \"ConceptMap\",\n  \"group\": [,]\n}",
                         IGW_EPARSE),
               "t.json:3:13: invalid JSON");
    IGWT_STREQ(parse_err("t.json", "{\"resourceType\":\"ValueSet\"}", IGW_EPARSE),
               "t.json:1:1: not a FHIR ConceptMap (resourceType)");
    IGWT_STREQ(parse_err("t.json", "{\"resourceType\":\"ConceptMap\"}", IGW_EPARSE),
               "t.json:1:1: ConceptMap has no group");
    IGWT_STREQ(parse_err("t.json",
                         "{\"resourceType\":\"ConceptMap\",\"group\":[{\"element\":[\n"
                         "  {\"code\":\"a\",\"target\":[{\"code\":\"x\"}]},\n"
                         "  {\"display\":\"no code\"}]}]}",
                         IGW_EPARSE),
               "t.json:3:3: group[0].element[1]: element has no code");
    IGWT_STREQ(parse_err("t.json",
                         "{\"resourceType\":\"ConceptMap\",\"group\":[{\"element\":[\n"
                         "  {\"code\":\"a\",\"target\":[{\"code\":\"x\"},\n"
                         "    {\"display\":\"x\", \"equivalence\":\"wider\"}]}]}]}",
                         IGW_EPARSE),
               "t.json:3:5: group[0].element[0].target[1]: target has no code");
    IGWT_STREQ(parse_err("t.json",
                         "{\"resourceType\":\"ConceptMap\",\"group\":[{},\n"
                         " {\"unmapped\":{\"mode\":\"other-map\",\"url\":\"x\"}}]}",
                         IGW_EPARSE),
               "t.json:2:2: group[1]: unmapped mode 'other-map' is not supported (merge the maps "
               "instead)");
    IGWT_STREQ(parse_err("t.json",
                         "{\"resourceType\":\"ConceptMap\",\"group\":[\n"
                         " {\"unmapped\":{\"mode\":\"provided\"}},\n"
                         " {\"unmapped\":{\"mode\":\"fixed\",\"code\":\"u\"}}]}",
                         IGW_EPARSE),
               "t.json:3:2: group[1]: groups disagree on unmapped (lookups are by code only)");
}

static void
test_missing_file(void)
{
    igw_table *t = NULL;
    char err[IGW_ERRBUF_SIZE];

    IGWT_ERR(igw_table_load(&t, data_path("no-such-table.csv"), err, sizeof(err)), IGW_EIO);
    IGWT_CHECK(strstr(err, "no-such-table.csv: ") != NULL);
    IGWT_CHECK(t == NULL);
}

static void
test_large_table(void)
{
    struct igw_buf b;
    igw_table *t = NULL;
    char err[IGW_ERRBUF_SIZE];
    char code[32];
    char want[32];
    int bad = 0;

    igw_buf_init(&b, 16u << 20);
    IGWT_OK(igw_buf_puts(&b, "source,target\n"));
    for (int i = 0; i < 100000; i++) {
        IGWT_OK(igw_buf_printf(&b, "s%d,t%d\n", i, i));
    }
    IGWT_OK(igw_table_parse(&t, "big.csv", b.ptr, b.len, err, sizeof(err)));
    IGWT_CHECK(igw_table_size(t) == 100000);
    for (int i = 0; i < 100000; i++) {
        const char *r;
        snprintf(code, sizeof(code), "s%d", i);
        snprintf(want, sizeof(want), "t%d", i);
        r = look(t, false, code);
        if (r == NULL || strcmp(r, want) != 0) {
            bad++;
        }
    }
    IGWT_CHECK(bad == 0);
    IGWT_CHECK(look(t, false, "s100000") == NULL);
    IGWT_STREQ(look(t, true, "t99999"), "s99999");
    igw_table_free(t);
    igw_buf_fini(&b);
}

static void
test_out_of_memory(void)
{
    const char *text = "source,target,system,display\nM,male,sys,Male\nF,female,sys,Female\n";
    int ok = 0;

    for (long n = 0; n < 200 && !ok; n++) {
        igw_table *t = NULL;
        char err[IGW_ERRBUF_SIZE];
        int rv;
        igw_alloc_fail_after(n);
        rv = igw_table_parse(&t, "oom.csv", text, strlen(text), err, sizeof(err));
        igw_alloc_fail_after(-1);
        IGWT_CHECK(rv == IGW_OK || rv == IGW_ENOMEM);
        if (rv == IGW_OK) {
            IGWT_STREQ(look(t, false, "F"), "female");
            ok = 1;
        }
        igw_table_free(t);
    }
    IGWT_CHECK(ok);
}

IGWT_MAIN({"csv_gender", test_csv_gender}, {"conceptmap_gender", test_conceptmap_gender},
          {"conceptmap_fhir_example", test_conceptmap_fhir_example},
          {"ambiguous_inverse", test_ambiguous_inverse},
          {"ambiguous_conceptmap", test_ambiguous_conceptmap},
          {"unmapped_provided", test_unmapped_provided}, {"unmapped_fixed", test_unmapped_fixed},
          {"csv_quoting", test_csv_quoting}, {"csv_errors", test_csv_errors},
          {"json_errors", test_json_errors}, {"missing_file", test_missing_file},
          {"large_table", test_large_table}, {"out_of_memory", test_out_of_memory})
