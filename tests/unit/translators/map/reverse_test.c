/* SPDX-License-Identifier: Apache-2.0 */
/* Reverse maps: invertibility, running backwards, round trips and the lint. */
#include <stdlib.h>

#include "maptest.h"

#define HDR "map t from json to json\n"

static const char *round_trip_map =
    HDR "table g = \"rg.csv\"\n"
        "let sys = \"urn:sys\"\n"
        "resourceType = \"Patient\"\n"
        "identifier[+] {\n  system = $sys\n  value = chfId\n}\n"
        "name[+] {\n  family = lastName\n  given = split(otherNames, \" \")\n}\n"
        "birthDate = date(dob, \"dd/MM/yyyy\", \"yyyy-MM-dd\")\n"
        "when exists(gender) {\n  gender = lookup(g, gender) ?? \"unknown\"\n}\n"
        "managingOrganization.reference = \"Organization/\" + hf.code\n"
        "address.city = addr.city\n";

static void
write_table(void)
{
    mt_write_file("rg.csv", "source,target\nM,male\nF,female\n");
}

static void
test_invertible_round_trip(void)
{
    const char *in = "{\"chfId\":\"0001\",\"lastName\":\"Doe\",\"otherNames\":\"John Paul\","
                     "\"dob\":\"31/12/1999\",\"gender\":\"F\",\"hf\":{\"code\":\"HF1\"},"
                     "\"addr\":{\"city\":\"Dar\"}}";
    const char *fwd;
    const char *back;
    static char saved[sizeof(mt_out)];
    write_table();
    igw_map *m = mt_compile_dir(round_trip_map, mt_tmpdir());
    IGWT_ASSERT(m != NULL);
    IGWT_CHECK(igw_map_invertible(m));
    IGWT_OK(mt_apply_lim(m, false, in, NULL, &fwd));
    IGWT_STREQ(fwd,
               "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:sys\",\"value\":"
               "\"0001\"}],\"name\":[{\"family\":\"Doe\",\"given\":[\"John\",\"Paul\"]}],"
               "\"birthDate\":\"1999-12-31\",\"gender\":\"female\",\"managingOrganization\":"
               "{\"reference\":\"Organization/HF1\"},\"address\":{\"city\":\"Dar\"}}");
    snprintf(saved, sizeof(saved), "%s", fwd);
    IGWT_OK(mt_apply_lim(m, true, saved, NULL, &back));
    struct igw_node *a = mt_parse(back);
    struct igw_node *b = mt_parse(in);
    IGWT_CHECK(a != NULL && b != NULL && igw_node_equal(a, b));
    if (!(a != NULL && b != NULL && igw_node_equal(a, b))) {
        fprintf(stderr, "  back: %s\n", back);
    }
    igw_map_free(m);
}

static void
test_reverse_defaults_and_missing(void)
{
    const char *back;
    write_table();
    igw_map *m = mt_compile_dir(round_trip_map, mt_tmpdir());
    IGWT_ASSERT(m != NULL);
    IGWT_OK(mt_apply_lim(m, true, "{\"resourceType\":\"Patient\",\"gender\":\"unknown\"}", NULL,
                         &back));
    IGWT_STREQ(back, "{}");
    igw_map_free(m);
}

static void
test_reverse_constant_checked(void)
{
    const char *back;
    write_table();
    igw_map *m = mt_compile_dir(round_trip_map, mt_tmpdir());
    IGWT_ASSERT(m != NULL);
    IGWT_ERR(mt_apply_lim(m, true, "{\"resourceType\":\"Organization\"}", NULL, &back),
             IGW_ETRANSLATE);
    IGWT_CHECK(strstr(back, "t.map:4:1: rule 'resourceType': value 'Organization' differs") !=
               NULL);
    IGWT_ERR(
        mt_apply_lim(m, true, "{\"managingOrganization\":{\"reference\":\"Org/1\"}}", NULL, &back),
        IGW_ETRANSLATE);
    IGWT_CHECK(strstr(back, "does not start with \"Organization/\"") != NULL);
    IGWT_ERR(mt_apply_lim(m, true, "{\"gender\":\"other\"}", NULL, &back), IGW_ETRANSLATE);
    IGWT_CHECK(strstr(back, "'other' has no inverse in table 'g'") != NULL);
    igw_map_free(m);
}

static void
test_join_and_xml_style(void)
{
    const char *back;
    igw_map *m = mt_compile(HDR "full = join(parts, \"-\")\nout.@id = id\nlist[1] = b\n");
    IGWT_ASSERT(m != NULL);
    IGWT_CHECK(igw_map_invertible(m));
    IGWT_OK(mt_apply_lim(m, true, "{\"full\":\"a-b\",\"out\":{\"id\":\"7\"},\"list\":[{},\"x\"]}",
                         NULL, &back));
    IGWT_STREQ(back, "{\"parts\":[\"a\",\"b\"],\"id\":\"7\",\"b\":\"x\"}");
    igw_map_free(m);
}

static void
test_not_invertible_and_lint(void)
{
    struct mt_lint_seen seen = {{0}, 0};
    const char *out;
    igw_map *m = mt_compile(HDR "table_unused = 1\nlet unused = 3\n"
                                "name[0].given = concat(a, b)\nflag = a == b\nn = x + 1\n"
                                "for i in l { o[+] = $i }\nname[0].given = a\n");
    IGWT_ASSERT(m != NULL);
    IGWT_CHECK(!igw_map_invertible(m));
    IGWT_ERR(mt_apply_lim(m, true, "{}", NULL, &out), IGW_EINVAL);
    unsigned n = igw_map_lint(m, mt_lint_collect, &seen);
    IGWT_CHECK(n == seen.n && n == 6);
    IGWT_CHECK(strstr(seen.text, "t.map:4:1 rule 'name[0].given' line 4: concat of two fields "
                                 "cannot be inverted|") != NULL);
    IGWT_CHECK(strstr(seen.text, "t.map:5:1 rule 'flag' line 5: comparison cannot be inverted|") !=
               NULL);
    IGWT_CHECK(strstr(seen.text, "rule 'n' line 6: arithmetic cannot be inverted") != NULL);
    IGWT_CHECK(strstr(seen.text, "rule 'for' line 7: a for loop cannot be inverted") != NULL);
    IGWT_CHECK(strstr(seen.text, "t.map:8:1 overwrites the value written at line 4") != NULL);
    IGWT_CHECK(strstr(seen.text, "variable '$unused' is never used") != NULL);
    if (n != 6) {
        fprintf(stderr, "  lint: %s\n", seen.text);
    }
    igw_map_free(m);
}

static void
test_shipped_map_lint(void)
{
    struct mt_lint_seen seen = {{0}, 0};
    igw_map_set *s = NULL;
    char dir[1024];
    char err[IGW_ERRBUF_SIZE];
    const char *src = getenv("IGW_SRC");
    snprintf(dir, sizeof(dir), "%s/tests/bench/maps", src != NULL ? src : "../..");
    IGWT_OK(igw_map_set_load(&s, dir, err, sizeof(err)));
    const igw_map *m = igw_map_set_get(s, "insuree-to-patient");
    IGWT_ASSERT(m != NULL);
    IGWT_CHECK(!igw_map_invertible(m));
    IGWT_CHECK(igw_map_lint(m, mt_lint_collect, &seen) >= 1);
    IGWT_CHECK(strstr(seen.text, "extension[+].valueBoolean") != NULL);
    IGWT_CHECK(strstr(seen.text, "comparison cannot be inverted") != NULL);
    igw_map_set_free(s);
}

IGWT_MAIN({"invertible_round_trip", test_invertible_round_trip},
          {"reverse_defaults_and_missing", test_reverse_defaults_and_missing},
          {"reverse_constant_checked", test_reverse_constant_checked},
          {"join_and_xml_style", test_join_and_xml_style},
          {"not_invertible_and_lint", test_not_invertible_and_lint},
          {"shipped_map_lint", test_shipped_map_lint})
