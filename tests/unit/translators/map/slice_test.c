/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slices (`extension[url = "u"] { ... }`), `oneway` rules and the `when` conditions that run
 * backwards (docs/MAPPING-LANGUAGE.md sections 4, 6 and 9).
 */
#include "maptest.h"

#define HDR "map t from json to json\n"

static const char *slice_map =
    HDR "let head = \"urn:head\"\n"
        "when exists(uuid) {\n"
        "  identifier[type.coding[0].code = \"UUID\"] {\n"
        "    type.coding[0].system = \"urn:ids\"\n    value = uuid\n  }\n}\n"
        "identifier[type.coding[0].code = \"Code\"].value = chfId\n"
        "when exists(isHead) { extension[url = $head].valueBoolean = isHead }\n"
        "when exists(n) { extension[url = \"urn:n\"].valueInteger = n }\n"
        "when empty(village) { address[use = \"home\"].text = family.address }\n"
        "when not empty(village) { address[use = \"temp\"].text = address }\n";

static void
test_slice_forward(void)
{
    /* elements are created in rule order, each with its discriminator first */
    MT_EQ(slice_map,
          "{\"uuid\":\"u1\",\"chfId\":\"c1\",\"isHead\":false,\"family\":{\"address\":"
          "\"A\"}}",
          "{\"identifier\":[{\"type\":{\"coding\":[{\"code\":\"UUID\",\"system\":\"urn:ids\"}]},"
          "\"value\":\"u1\"},{\"type\":{\"coding\":[{\"code\":\"Code\"}]},\"value\":\"c1\"}],"
          "\"extension\":[{\"url\":\"urn:head\",\"valueBoolean\":false}],\"address\":[{\"use\":"
          "\"home\",\"text\":\"A\"}]}");
    /* nothing to write: no element */
    MT_EQ(slice_map, "{\"chfId\":\"c1\",\"village\":\"v\",\"address\":\"B\"}",
          "{\"identifier\":[{\"type\":{\"coding\":[{\"code\":\"Code\"}]},\"value\":\"c1\"}],"
          "\"address\":[{\"use\":\"temp\",\"text\":\"B\"}]}");
    /* two rules on one slice share the element; number discriminators compare by value */
    MT_EQ(HDR "ext[url = \"a\"].x = 1\next[url = \"b\"].x = 2\next[url = \"a\"].y = 3\n"
              "v[n = 1.0].k = \"one\"\nv[n = 1].j = \"same\"\nv[on = true].k = \"t\"\n",
          "{}",
          "{\"ext\":[{\"url\":\"a\",\"x\":1,\"y\":3},{\"url\":\"b\",\"x\":2}],\"v\":[{\"n\":1.0,"
          "\"k\":\"one\",\"j\":\"same\"},{\"on\":true,\"k\":\"t\"}]}");
}

static void
test_slice_reverse(void)
{
    const char *back;
    igw_map *m = mt_compile(slice_map);
    IGWT_ASSERT(m != NULL);
    IGWT_CHECK(igw_map_invertible(m));
    /* found by discriminator whatever the order; unknown elements are ignored */
    IGWT_OK(mt_apply_lim(m, true,
                         "{\"identifier\":[{\"type\":{\"coding\":[{\"code\":\"Code\"}]},\"value\":"
                         "\"c9\"},{\"type\":{\"coding\":[{\"code\":\"PPN\"}]},\"value\":\"p\"},"
                         "{\"type\":{\"coding\":[{\"code\":\"UUID\"}]},\"value\":\"U9\"}],"
                         "\"extension\":[{\"url\":\"zz\"},{\"url\":\"urn:head\",\"valueBoolean\":"
                         "true}],\"address\":[{\"use\":\"temp\",\"text\":\"T\"}]}",
                         NULL, &back));
    IGWT_STREQ(back, "{\"uuid\":\"U9\",\"chfId\":\"c9\",\"isHead\":true,\"address\":\"T\"}");
    /* a missing slice writes nothing */
    IGWT_OK(mt_apply_lim(m, true, "{\"identifier\":[{\"value\":\"x\"}],\"extension\":{}}", NULL,
                         &back));
    IGWT_STREQ(back, "{}");
    igw_map_free(m);
}

static void
test_slice_errors(void)
{
    IGWT_ERR(mt_compile_err(HDR "ext[url = \"a\"] = 1\n"), IGW_ECONFIG);
    IGWT_CHECK(strstr(mt_err, "a slice [key = value] is an element") != NULL);
    IGWT_ERR(mt_compile_err(HDR "ext[url = code].x = 1\n"), IGW_ECONFIG);
    IGWT_CHECK(strstr(mt_err, "must be a constant") != NULL);
    IGWT_ERR(mt_compile_err(HDR "ext[url[+] = \"a\"].x = 1\n"), IGW_EPARSE);
    IGWT_CHECK(strstr(mt_err, "only [n] indexes") != NULL);
    IGWT_ERR(mt_compile_err(HDR "ext[url \"a\"].x = 1\n"), IGW_EPARSE);
    IGWT_ERR(mt_compile_err(HDR "ext[url = \"a\".x = 1\n"), IGW_EPARSE);
    /* a value there already that is not an array */
    igw_map *m = mt_compile(HDR "ext = 1\next[url = \"a\"].x = 2\n");
    const char *out;
    IGWT_ASSERT(m != NULL);
    IGWT_ERR(mt_apply_lim(m, false, "{}", NULL, &out), IGW_ETRANSLATE);
    igw_map_free(m);
}

static void
test_slice_xml(void)
{
    MT_EQ("map t from json to xml\nr.f[@k = \"a\"].#text = a\nr.f[@k = \"b\"].#text = b\n"
          "r.f[@k = \"a\"].@x = \"1\"\n",
          "{\"a\":\"A\",\"b\":\"B\"}",
          "{\"r\":{\"f\":{\"@k\":\"a\",\"#text\":\"A\",\"@x\":\"1\"},\"f\":{\"@k\":\"b\","
          "\"#text\":\"B\"}}}"); /* repeated members: the XML model of an array */
}

static void
test_oneway(void)
{
    struct mt_lint_seen seen = {{0}, 0};
    const char *back;
    igw_map *m = mt_compile(HDR "code = code\noneway display = \"Name \" + code + \"!\"\n"
                                "oneway for i in list { o[+] = $i }\n"
                                "oneway when a == b { flag = true }\n"
                                "when exists(c) { x { oneway y = \"Y \" + c } }\n");
    IGWT_ASSERT(m != NULL);
    IGWT_CHECK(igw_map_invertible(m));
    IGWT_OK(mt_apply_lim(m, false, "{\"code\":\"X\",\"list\":[1,2],\"a\":1,\"b\":1}", NULL, &back));
    IGWT_STREQ(back, "{\"code\":\"X\",\"display\":\"Name X!\",\"o\":[1,2],\"flag\":true}");
    IGWT_OK(mt_apply_lim(m, true, "{\"code\":\"X\",\"display\":\"other\",\"o\":[1]}", NULL, &back));
    IGWT_STREQ(back, "{\"code\":\"X\"}");
    IGWT_CHECK(igw_map_lint(m, mt_lint_collect, &seen) == 4);
    IGWT_CHECK(strstr(seen.text, "t.map:3:8 rule 'display' line 3: oneway: runs forward only, "
                                 "skipped in reverse|") != NULL);
    IGWT_CHECK(strstr(seen.text, "rule 'for' line 4: oneway") != NULL);
    IGWT_CHECK(strstr(seen.text, "rule 'when' line 5: oneway") != NULL);
    IGWT_CHECK(strstr(seen.text, "t.map:6:29 rule 'x.y' line 6: oneway") != NULL);
    if (seen.n != 4 || strstr(seen.text, "t.map:6:29 ") == NULL) {
        fprintf(stderr, "  lint: %s\n", seen.text);
    }
    igw_map_free(m);
    IGWT_ERR(mt_compile_err(HDR "oneway let x = 1\n"), IGW_EPARSE);
    IGWT_ERR(mt_compile_err(HDR "oneway oneway a = 1\n"), IGW_EPARSE);
    /* `oneway` is a key when a path follows */
    MT_EQ(HDR "oneway = 1\nx.oneway = 2\n", "{}", "{\"oneway\":1,\"x\":{\"oneway\":2}}");
}

static void
test_when_not_and_empty_invert(void)
{
    igw_map *m = mt_compile(HDR "when not a { x = b }\nwhen empty(c) { y = d }\n"
                                "when not exists(e) { z = f }\nwhen not a == 1 { w = g }\n");
    struct mt_lint_seen seen = {{0}, 0};
    IGWT_ASSERT(m != NULL);
    IGWT_CHECK(!igw_map_invertible(m));
    IGWT_CHECK(igw_map_lint(m, mt_lint_collect, &seen) == 1);
    IGWT_CHECK(strstr(seen.text, "line 5: a condition other than exists(path)") != NULL);
    igw_map_free(m);
}

IGWT_MAIN({"slice_forward", test_slice_forward}, {"slice_reverse", test_slice_reverse},
          {"slice_errors", test_slice_errors}, {"slice_xml", test_slice_xml},
          {"oneway", test_oneway}, {"when_not_and_empty_invert", test_when_not_and_empty_invert})
