/* SPDX-License-Identifier: Apache-2.0 */
/* Every load-time error with its exact file:line:column, rule and message. */
#include "maptest.h"

#define HDR "map t from json to json\n"

struct bad {
    const char *text;
    int rv;
    const char *msg;
};

static const struct bad bad_cases[] = {
    {"a = 1\n", IGW_EPARSE, "t.map:1:1: a map starts with: map <name> from <format> to <format>"},
    {"map t from yaml to json\n", IGW_EPARSE, "t.map:1:12: expected json, xml or csv"},
    {HDR "a b\n", IGW_EPARSE, "t.map:2:3: rule 'a': expected '=' or '{'"},
    {HDR "a = \"abc\n", IGW_EPARSE, "t.map:2:5: unterminated string"},
    {HDR "a = x ^ 2\n", IGW_EPARSE, "t.map:2:7: unexpected character"},
    {HDR "a = x.\n", IGW_EPARSE, "t.map:2:7: rule 'a': expected a path step"},
    {HDR "a = (x\n", IGW_EPARSE, "t.map:3:1: rule 'a': expected ')'"},
    {HDR "a = x y\n", IGW_EPARSE, "t.map:2:7: unexpected 'y' after the rule"},
    {HDR "}\n", IGW_EPARSE, "t.map:2:1: unexpected '}'"},
    {HDR "a {\n b = 1\n", IGW_EPARSE, "t.map:4:1: rule 'a': expected '}'"},
    {HDR "a[x] = 1\n", IGW_EPARSE, "t.map:2:3: expected [n], [+], [=] or [key = value]"},
    {HDR "a[\"x\"] = 1\n", IGW_EPARSE, "t.map:2:3: expected [n], [+], [=] or [key = value]"},
    {HDR "a = lookp(x)\n", IGW_ECONFIG, "t.map:2:5: rule 'a': unknown function 'lookp'"},
    {HDR "a = upper(x, y)\n", IGW_ECONFIG,
     "t.map:2:5: rule 'a': upper() takes 1 to 1 arguments, not 2"},
    {HDR "b.c = $nope\n", IGW_ECONFIG, "t.map:2:7: rule 'b.c': undeclared variable '$nope'"},
    {HDR "a = lookup(nope, x)\n", IGW_ECONFIG, "t.map:2:12: rule 'a': undeclared table 'nope'"},
    {HDR "a = \"x\" * 2\n", IGW_ECONFIG, "t.map:2:5: rule 'a': arithmetic on a string constant"},
    {HDR "a = -\"x\"\n", IGW_ECONFIG, "t.map:2:6: rule 'a': arithmetic on a string constant"},
    {HDR "a = upper(3)\n", IGW_ECONFIG,
     "t.map:2:11: rule 'a': argument 1 of upper() must be a string, not a number"},
    {HDR "a = matches(x, \"(\")\n", IGW_ECONFIG, "t.map:2:16: rule 'a': bad regex: "},
    {HDR "a = matches(x, y)\n", IGW_ECONFIG,
     "t.map:2:16: rule 'a': matches() needs a constant regex string"},
    {HDR "a = date(x, \"yyyy-QQ\")\n", IGW_ECONFIG,
     "t.map:2:13: rule 'a': bad date pattern \"yyyy-QQ\""},
    {HDR "a = date(x, \"yyyy\", \"yyyy\", \"+25:00\")\n", IGW_ECONFIG,
     "t.map:2:29: rule 'a': time zone must be \"Z\" or \"+hh:mm\""},
    {HDR "a = uuid5(\"nope\", x)\n", IGW_ECONFIG,
     "t.map:2:11: rule 'a': uuid5() namespace must be a UUID or dns, url, oid, x500"},
    {HDR "a = call nope(x)\n", IGW_ECONFIG, "t.map:2:10: rule 'a': unknown map 'nope'"},
    {HDR "let v = 1\na = index($v)\n", IGW_ECONFIG,
     "t.map:3:11: rule 'a': index() takes a loop variable ($v)"},
    {HDR "let root = 1\n", IGW_ECONFIG, "t.map:2:5: 'root' is reserved ($root is the input)"},
    {HDR "a = x < y < z\n", IGW_EPARSE,
     "t.map:2:11: rule 'a': comparisons do not chain; use 'and'"},
    {HDR "table g = \"/nonexistent/g.csv\"\n", IGW_ECONFIG, "t.map:2:11: table 'g': "},
    {HDR "table g = x\n", IGW_EPARSE, "t.map:2:11: expected the table file as a string"},
    {HDR "a { table g = \"x\" }\n", IGW_EPARSE,
     "t.map:2:5: rule 'a': 'table' only at the top level"},
    {HDR "for x of y { }\n", IGW_EPARSE, "t.map:2:7: expected 'in'"},
    {HDR "when x { a = 1 } else { b = 1 }\n", IGW_EPARSE,
     "t.map:2:18: unexpected 'else' after the rule"},
    {HDR "a = iif(x, y)\n", IGW_ECONFIG, "t.map:2:5: rule 'a': iif() takes 3 arguments"},
    {HDR "a = x[1.5]\n", IGW_EPARSE, "t.map:2:7: rule 'a': expected an integer index"},
    {HDR "a = `unterminated\n", IGW_EPARSE, "t.map:2:5: unterminated or empty `key`"},
    {HDR "a = \"\\q\"\n", IGW_EPARSE, "t.map:2:6: bad escape in string"},
    {HDR "map u\n", IGW_EPARSE, "t.map:2:1: 'map' must be the first statement only"},
    {HDR "schema \"/nonexistent/schema\"\n", IGW_ECONFIG,
     "t.map:2:8: cannot read schema '/nonexistent/schema'"},
};

static void
test_every_compile_error(void)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        int rv = mt_compile_err(bad_cases[i].text);
        bool ok = rv == bad_cases[i].rv &&
                  strncmp(mt_err, bad_cases[i].msg, strlen(bad_cases[i].msg)) == 0;
        if (!ok) {
            fprintf(stderr, "  case %zu: rv %d want %d\n    got  '%s'\n    want '%s'\n", i, rv,
                    bad_cases[i].rv, mt_err, bad_cases[i].msg);
        }
        IGWT_CHECK(ok);
    }
}

static void
test_schema(void)
{
    igw_map *m = NULL;
    mt_write_file("p.schema", "# patient subset\nresourceType required\nidentifier[].system\n"
                              "identifier[].value\nname[].given[]\n");
    m = mt_compile_dir(HDR "schema \"p.schema\"\nresourceType = \"Patient\"\n"
                           "identifier[+] { system = \"s\"; value = v }\n"
                           "name[+].given = split(n, \" \")\n",
                       mt_tmpdir());
    IGWT_CHECK(m != NULL);
    igw_map_free(m);
    m = NULL;
    const char *bad = HDR "schema \"p.schema\"\nresourceType = 1\nidentifier[+].use = 1\n";
    int rv =
        igw_map_compile(&m, "t.map", bad, strlen(bad), mt_tmpdir(), NULL, mt_err, sizeof(mt_err));
    IGWT_CHECK(rv == IGW_ECONFIG);
    IGWT_STREQ(mt_err, "t.map:4:1: rule 'identifier[+].use': target 'identifier[].use' is not in "
                       "schema 'p.schema'");
    const char *req = HDR "schema \"p.schema\"\nidentifier[+].value = 1\n";
    rv = igw_map_compile(&m, "t.map", req, strlen(req), mt_tmpdir(), NULL, mt_err, sizeof(mt_err));
    IGWT_CHECK(rv == IGW_ECONFIG);
    IGWT_STREQ(mt_err, "t.map:2:8: required target 'resourceType' (schema 'p.schema', line 2) is "
                       "never written");
}

static void
test_garbage_never_crashes(void)
{
    static const char *inputs[] = {"",
                                   "map",
                                   "map t from",
                                   "\"",
                                   "`",
                                   "$",
                                   "@",
                                   "#",
                                   "map t\n{",
                                   "map t\na[",
                                   "map t\na[+",
                                   "map t\nfor",
                                   "map t\nif",
                                   "map t\na = ((((",
                                   "map t\na = call",
                                   "map t\na = call x",
                                   "map t\nlet",
                                   "map t\nlet x",
                                   "map t\nwhen x {"};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        int rv = mt_compile_err(inputs[i]);
        bool ok = (rv == IGW_EPARSE || rv == IGW_ECONFIG) && strncmp(mt_err, "t.map:", 6) == 0;
        if (!ok) {
            fprintf(stderr, "  input %zu: rv %d '%s'\n", i, rv, mt_err);
        }
        IGWT_CHECK(ok);
    }
}

/* Out-of-memory torture: fail the n-th allocation of a compile and of an apply, for every n. */
static void
test_oom_torture(void)
{
    const char *text = HDR "let s = \"x\"\na.b[+] { c = upper(x) + $s; d = split(y, \" \") }\n"
                           "for i in l { o[+] = date($i, \"yyyy\") }\nm = matches(x, \"^a\")\n";
    int rv = IGW_ENOMEM;
    long n;
    for (n = 0; n < 10000 && rv != IGW_OK; n++) {
        igw_map *m = NULL;
        igw_alloc_fail_after(n);
        rv = igw_map_compile(&m, "t.map", text, strlen(text), NULL, NULL, mt_err, sizeof(mt_err));
        igw_alloc_fail_after(-1);
        IGWT_CHECK(rv == IGW_OK || rv == IGW_ENOMEM);
        IGWT_CHECK(rv == IGW_OK || m == NULL);
        igw_map_free(m);
    }
    IGWT_CHECK(rv == IGW_OK);
    igw_map *m = mt_compile(text);
    IGWT_ASSERT(m != NULL);
    for (size_t lim = 64; lim < 65536; lim *= 2) {
        igw_arena *a = NULL;
        struct igw_node *out = NULL;
        struct igw_node *in = mt_parse("{\"x\":\"ab\",\"y\":\"1 2 3\",\"l\":[\"2001\",\"2002\"]}");
        IGWT_ASSERT(in != NULL);
        IGWT_OK(igw_arena_new(&a, lim));
        rv = igw_map_apply(m, false, a, in, NULL, &out, mt_err, sizeof(mt_err));
        IGWT_CHECK(rv == IGW_OK || rv == IGW_ENOMEM);
        igw_arena_free(a);
    }
    igw_map_free(m);
}

IGWT_MAIN({"every_compile_error", test_every_compile_error}, {"schema", test_schema},
          {"oom_torture", test_oom_torture}, {"garbage_never_crashes", test_garbage_never_crashes})
