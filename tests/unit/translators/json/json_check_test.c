/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for translators/json/json_check.c: igw_json_check gives igw_json_parse's verdict
 * (accepted, malformed, too deep) on hand-picked cases, on every JSON fixture and on a
 * bounded number of mutations of them. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "igw/json.h"
#include "lib/igwt.h"
#include "lib/igwt_fixtures.h"

static igw_arena *arena;

/* igw_json_parse's verdict as igw_json_check reports it. */
static int
parse_verdict(const char *s, size_t len, unsigned depth)
{
    struct igw_parse_limits lim = {.max_depth = depth};
    struct igw_parse_error perr;
    struct igw_node *root = NULL;

    arena = igwt_file_arena(64u << 20);
    return igw_json_parse(arena, s, len, &lim, &root, &perr);
}

static int mismatches;

static void
same(const char *s, size_t len, unsigned depth)
{
    int want = parse_verdict(s, len, depth);
    int got = igw_json_check(s, len, depth);

    if (want != got && mismatches++ < 10) {
        fprintf(stderr, "  input \"%.*s\" (%zu bytes): check %d, parse %d\n",
                (int)(len < 80 ? len : 80), s, len, got, want);
    }
    IGWT_CHECK(want == got);
}

static void
expect(const char *s, int rv)
{
    IGWT_ERR(igw_json_check(s, strlen(s), 0), rv);
    same(s, strlen(s), 0);
}

static void
test_cases(void)
{
    static const char *const good[] = {
        "{}",
        "[]",
        " {\"s\":\"x\", \"n\" : 12.50, \"t\":true,\"f\":false,\"z\":null}\n",
        "0",
        "-0",
        "-0.5e-7",
        "1E+9",
        "\"\"",
        "\"\\u00e9\\ud83d\\ude00\\n\\/\\\\\\\"\"",
        "\xef\xbb\xbf{\"bom\":1}",
        "[[[]],{}]",
        "{\"a\":{\"b\":[1,{\"c\":\"\xc3\xa9\"}]}}",
        "\"\xf0\x9f\x98\x80 and more than eight bytes of text\"",
        " [ 1 , 2 ] ",
        "true",
        "null",
        "{\"dup\":1,\"dup\":2}"};
    static const char *const bad[] = {"",
                                      " ",
                                      "{",
                                      "}",
                                      "[1,]",
                                      "{\"a\":1,}",
                                      "{\"a\" 1}",
                                      "{a:1}",
                                      "01",
                                      "1.",
                                      "1e",
                                      "-",
                                      ".5",
                                      "+1",
                                      "tru",
                                      "nul",
                                      "truex",
                                      "[1 2]",
                                      "\"abc",
                                      "\"a\\x\"",
                                      "\"\\u12\"",
                                      "\"\\ud800\"",
                                      "\"\\udc00\"",
                                      "\"\\ud800\\u0041\"",
                                      "\"\x01\"",
                                      "\"\xc3\"",
                                      "\"\xed\xa0\x80\"",
                                      "\"\xff\"",
                                      "{} {}",
                                      "[1]]",
                                      "{\"a\":1]",
                                      "[1}",
                                      "\xef\xbb",
                                      "NaN",
                                      "[\"\\u00\"]",
                                      "{\"k\"}",
                                      "\"tab\there\""};

    for (size_t i = 0; i < IGW_ARRAY_LEN(good); i++) {
        expect(good[i], IGW_OK);
    }
    for (size_t i = 0; i < IGW_ARRAY_LEN(bad); i++) {
        expect(bad[i], IGW_EPARSE);
    }
    IGWT_ERR(igw_json_check(NULL, 1, 0), IGW_EINVAL);
    IGWT_ERR(igw_json_check("[]", 2, IGW_JSON_CHECK_MAX_DEPTH + 1), IGW_EINVAL);
    IGWT_ERR(igw_json_check(NULL, 0, 0), IGW_EPARSE);
    /* the length is respected: no NUL needed, nothing read past it */
    IGWT_OK(igw_json_check("[1]xyz", 3, 0));
    IGWT_ERR(igw_json_check("\"abc\"", 4, 0), IGW_EPARSE);
}

static void
test_depth(void)
{
    char deep[2 * 300 + 1];

    for (unsigned n = 254; n <= 258; n++) {
        memset(deep, '[', n);
        memset(deep + n, ']', n);
        same(deep, 2 * n, 0);
    }
    memset(deep, '[', 256);
    memset(deep + 256, ']', 256);
    IGWT_OK(igw_json_check(deep, 512, 0));
    IGWT_ERR(igw_json_check(deep, 512, 255), IGW_ELIMIT);
    same(deep, 512, 255);
    for (unsigned n = 1; n <= 70; n++) { /* objects and arrays mixed across a 64-level word */
        size_t k = 0;
        for (unsigned i = 0; i < n; i++) {
            k += (size_t)sprintf(deep + k, i % 3 == 0 ? "{\"k\":" : "[");
        }
        k += (size_t)sprintf(deep + k, "0");
        for (unsigned i = n; i-- > 0;) {
            deep[k++] = i % 3 == 0 ? '}' : ']';
        }
        IGWT_OK(igw_json_check(deep, k, 0));
        same(deep, k, 3);
    }
}

/* A small deterministic generator (xorshift), so a failure reproduces. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static int fixtures_seen;
static size_t mutations_accepted;

/* The file and 40 mutations of it: a byte changed, inserted or removed, or the text cut. */
static void
check_file(const char *path)
{
    static const char interesting[] = "{}[]\",:\\u0e-+.tfn \x01\x80\xc3\xed\xff";
    size_t len = 0;
    char *buf = igwt_read_file(path, &len);
    char *m;

    IGWT_ASSERT(buf != NULL);
    fixtures_seen++;
    same(buf, len, 0);
    m = igw_malloc(len + 2);
    IGWT_ASSERT(m != NULL);
    for (int i = 0; i < 40 && len > 0; i++) {
        size_t at = (size_t)(rnd() % len);
        size_t ml = len;
        char c = interesting[rnd() % (sizeof(interesting) - 1)];
        memcpy(m, buf, len);
        switch (rnd() % 4) {
        case 0:
            m[at] = c;
            break;
        case 1:
            memmove(m + at + 1, m + at, len - at);
            m[at] = c;
            ml++;
            break;
        case 2:
            memmove(m + at, m + at + 1, len - at - 1);
            ml--;
            break;
        default:
            ml = at;
            break;
        }
        same(m, ml, 0);
        mutations_accepted += igw_json_check(m, ml, 0) == IGW_OK;
    }
    igw_free(m);
    igw_free(buf);
}

static void
walk(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        size_t nl = strlen(e->d_name);
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            walk(path);
        } else if (nl > 5 && strcmp(e->d_name + nl - 5, ".json") == 0) {
            check_file(path);
        }
    }
    closedir(d);
}

static void
test_fixtures_and_mutations(void)
{
    char dir[4096];

    IGWT_FIXTURE_DIR(dir, "");
    walk(dir);
    printf("  %d JSON fixtures and %d mutations: same verdict as igw_json_parse (%zu mutations "
           "still valid)\n",
           fixtures_seen, fixtures_seen * 40, mutations_accepted);
    IGWT_CHECK(fixtures_seen >= 50);
}

IGWT_MAIN({"cases", test_cases}, {"depth", test_depth},
          {"fixtures_and_mutations", test_fixtures_and_mutations})
