/* SPDX-License-Identifier: Apache-2.0 */
/* The mapping language, one case per feature (docs/MAPPING-LANGUAGE.md sections 4 to 7). */
#include "maptest.h"

#define HDR "map t from json to json\n"

static void
test_constants(void)
{
    MT_EQ(HDR "s = \"x\"\nn = 12.50\nb = true\nf = false\nz = null\nneg = -3", "{}",
          "{\"s\":\"x\",\"n\":12.50,\"b\":true,\"f\":false,\"z\":null,\"neg\":-3}");
}

static void
test_paths(void)
{
    MT_EQ(HDR "a = x.y.z\nb = missing.q\nc = x\n", "{\"x\":{\"y\":{\"z\":7}}}",
          "{\"a\":7,\"c\":{\"y\":{\"z\":7}}}");
    MT_EQ(HDR "code = items.code\n", "{\"items\":[{\"code\":\"a\"},{\"code\":\"b\"}]}",
          "{\"code\":[\"a\",\"b\"]}");
    MT_EQ(HDR "`first-name` = `odd key`\n", "{\"odd key\":\"v\"}", "{\"first-name\":\"v\"}");
}

static void
test_source_indexes(void)
{
    MT_EQ(HDR "a = list[0]\nb = list[-1]\nc = list[9]\nd = objs[1].k\n",
          "{\"list\":[1,2,3],\"objs\":[{\"k\":\"x\"},{\"k\":\"y\"}]}",
          "{\"a\":1,\"b\":3,\"d\":\"y\"}");
}

static void
test_target_nesting_and_index(void)
{
    MT_EQ(HDR "name[0].family = \"D\"\nname[0].given = \"J\"\nname[1].family = \"E\"\na.b.c = 1\n",
          "{}",
          "{\"name\":[{\"family\":\"D\",\"given\":\"J\"},{\"family\":\"E\"}],\"a\":{\"b\":{\"c\":1}"
          "}}");
}

static void
test_append_and_current(void)
{
    MT_EQ(HDR "identifier[+].system = \"s1\"\nidentifier[=].value = \"v1\"\n"
              "identifier[+].system = \"s2\"\nidentifier[=].value = \"v2\"\ntags[+] = \"a\"\n"
              "tags[+] = \"b\"\n",
          "{}",
          "{\"identifier\":[{\"system\":\"s1\",\"value\":\"v1\"},{\"system\":\"s2\",\"value\":"
          "\"v2\"}],\"tags\":[\"a\",\"b\"]}");
}

static void
test_blocks(void)
{
    MT_EQ(HDR
          "identifier[+] {\n  use = \"usual\"\n  type.coding[+] { system = \"s\"; code = \"C\" }\n"
          "  value = id\n}\n",
          "{\"id\":\"42\"}",
          "{\"identifier\":[{\"use\":\"usual\",\"type\":{\"coding\":[{\"system\":\"s\",\"code\":"
          "\"C\"}]},\"value\":\"42\"}]}");
}

static void
test_iteration(void)
{
    MT_EQ(
        HDR "for it in Items.Item {\n  item[+] {\n    sequence = index($it) + 1\n"
            "    code = code\n    root = $root.id\n  }\n}\n",
        "{\"id\":\"R\",\"Items\":{\"Item\":[{\"code\":\"a\"},{\"code\":\"b\"}]}}",
        "{\"item\":[{\"sequence\":1,\"code\":\"a\",\"root\":\"R\"},{\"sequence\":2,\"code\":\"b\","
        "\"root\":\"R\"}]}");
}

static void
test_nested_iteration(void)
{
    MT_EQ(HDR "for c in claims {\n  claim[+] {\n    id = $c.id\n    for d in diags {\n"
              "      dx[+] = concat($c.id, \"/\", $d)\n    }\n  }\n}\n",
          "{\"claims\":[{\"id\":\"1\",\"diags\":[\"x\",\"y\"]},{\"id\":\"2\",\"diags\":\"z\"}]}",
          "{\"claim\":[{\"id\":\"1\",\"dx\":[\"1/x\",\"1/y\"]},{\"id\":\"2\",\"dx\":[\"2/z\"]}]}");
}

static void
test_iteration_skips_missing(void)
{
    MT_EQ(HDR "for p in phone {\n  telecom[+] { system = \"phone\"; value = $p }\n}\n", "{}", "{}");
    MT_EQ(HDR "for p in phone {\n  telecom[+] { system = \"phone\"; value = $ }\n}\n",
          "{\"phone\":\"+1\"}", "{\"telecom\":[{\"system\":\"phone\",\"value\":\"+1\"}]}");
}

static void
test_conditions(void)
{
    const char *m =
        HDR "when exists(a) { hasA = true }\nwhen n >= 3 and not (s == \"x\") { big = n }\n"
            "if s == \"x\" { r = 1 } else if s == \"y\" { r = 2 } else { r = 3 }\n"
            "when a or missing { or = true }\nwhen s != \"x\" { ne = 1 }\n"
            "when n < 10 and n <= 5 and n > 1 { range = 1 }\n";
    MT_EQ(m, "{\"a\":0,\"n\":5,\"s\":\"y\"}",
          "{\"hasA\":true,\"big\":5,\"r\":2,\"ne\":1,\"range\":1}");
    MT_EQ(m, "{\"n\":1,\"s\":\"x\"}", "{\"r\":1}");
    MT_EQ(m, "{\"n\":1,\"s\":\"z\",\"a\":\"t\"}", "{\"hasA\":true,\"r\":3,\"or\":true,\"ne\":1}");
}

static void
test_defaults(void)
{
    MT_EQ(HDR "a = missing ?? \"unknown\"\nb = z ?? \"d\"\nc = v ?? \"d\"\n",
          "{\"z\":null,\"v\":\"x\"}", "{\"a\":\"unknown\",\"b\":\"d\",\"c\":\"x\"}");
}

static void
test_variables(void)
{
    MT_EQ(HDR "let sys = \"urn:x\"\nlet full = first + \" \" + last\na = $sys\nb = $full\n"
              "c { let inner = 2\n d = $inner * 3 }\n",
          "{\"first\":\"J\",\"last\":\"D\"}", "{\"a\":\"urn:x\",\"b\":\"J D\",\"c\":{\"d\":6}}");
}

static void
test_arithmetic(void)
{
    MT_EQ(HDR "a = n + 1\nb = n * 2 - 1\nc = n / 4\nd = n % 3\ne = -n\nf = \"n=\" + n\n",
          "{\"n\":10}", "{\"a\":11,\"b\":19,\"c\":2.5,\"d\":1,\"e\":-10,\"f\":\"n=10\"}");
}

static void
test_copy_subtree_and_lists(void)
{
    MT_EQ(HDR "copy = obj\nall[+] = list\nlist2 = list\n",
          "{\"obj\":{\"k\":[1,{\"z\":true}]},\"list\":[\"a\",\"b\"]}",
          "{\"copy\":{\"k\":[1,{\"z\":true}]},\"all\":[\"a\",\"b\"],\"list2\":[\"a\",\"b\"]}");
}

static void
test_submaps(void)
{
    igw_map_set *set = NULL;
    const char *dir = mt_tmpdir();
    char mdir[256];
    char err[IGW_ERRBUF_SIZE];
    snprintf(mdir, sizeof(mdir), "%s/set", dir);
    (void)!mkdir(mdir, 0700);
    snprintf(mdir, sizeof(mdir), "%s/set/main", dir);
    (void)!mkdir(mdir, 0700);
    snprintf(mdir, sizeof(mdir), "%s/set/addr", dir);
    (void)!mkdir(mdir, 0700);
    mt_write_file("set/main/map", "map main from json to json\nid = id\n"
                                  "for a in addrs { address[+] = call addr($a) }\n"
                                  "home = call addr(home)\n");
    mt_write_file("set/addr/map", "map addr from json to json\ncity = upper(c)\nline = l\n");
    snprintf(mdir, sizeof(mdir), "%s/set", dir);
    IGWT_OK(igw_map_set_load(&set, mdir, err, sizeof(err)));
    IGWT_CHECK(igw_map_set_count(set) == 2);
    const igw_map *m = igw_map_set_get(set, "main");
    IGWT_ASSERT(m != NULL);
    const char *out;
    IGWT_OK(mt_apply_lim(m, false,
                         "{\"id\":1,\"addrs\":[{\"c\":\"a\",\"l\":\"1\"},{\"c\":\"b\"}],"
                         "\"home\":{\"c\":\"h\"}}",
                         NULL, &out));
    IGWT_STREQ(out, "{\"id\":1,\"address\":[{\"city\":\"A\",\"line\":\"1\"},{\"city\":\"B\"}],"
                    "\"home\":{\"city\":\"H\"}}");
    igw_map_set_free(set);
}

static void
test_limits(void)
{
    igw_map *m = mt_compile(HDR "for i in list { out[+] = $i }\n");
    const char *out;
    IGWT_ASSERT(m != NULL);
    struct igw_map_limits lim = {.max_iterations = 2};
    IGWT_ERR(mt_apply_lim(m, false, "{\"list\":[1,2,3]}", &lim, &out), IGW_ELIMIT);
    IGWT_CHECK(strstr(out, "t.map:2:1: rule '") != NULL);
    IGWT_CHECK(strstr(out, "iteration limit 2 exceeded") != NULL);
    struct igw_map_limits lim2 = {.max_output_nodes = 3};
    IGWT_ERR(mt_apply_lim(m, false, "{\"list\":[1,2,3]}", &lim2, &out), IGW_ELIMIT);
    IGWT_CHECK(strstr(out, "output node limit 3 exceeded") != NULL);
    igw_map_free(m);
    m = mt_compile(HDR "a { b { c { d = 1 } } }\n");
    IGWT_ASSERT(m != NULL);
    struct igw_map_limits lim3 = {.max_depth = 2};
    IGWT_ERR(mt_apply_lim(m, false, "{}", &lim3, &out), IGW_ELIMIT);
    IGWT_CHECK(strstr(out, "depth limit 2 exceeded") != NULL);
    igw_map_free(m);
}

static void
test_xml_model(void)
{
    igw_map *m = mt_compile("map t from xml to xml\n"
                            "Out.@id = Doc.@id\nOut.text = Doc.p.#text\nOut.item[+] = \"a\"\n"
                            "Out.item[+] = \"b\"\nOut.lang = Doc.p.@lang\n");
    IGWT_ASSERT(m != NULL);
    const char *xml = "<Doc id=\"7\"><p lang=\"en\">hello</p></Doc>";
    struct igw_node *in = NULL;
    struct igw_node *res = NULL;
    struct igw_parse_error pe;
    struct igw_buf b;
    IGWT_ASSERT(mt_parse("{}") != NULL);
    IGWT_OK(igw_xml_parse(mt_arena, xml, strlen(xml), NULL, &in, &pe));
    IGWT_OK(igw_map_apply(m, false, mt_arena, in, NULL, &res, mt_err, sizeof(mt_err)));
    igw_buf_init(&b, 1 << 16);
    IGWT_OK(igw_xml_write(res, &b, 0));
    IGWT_CHECK(strstr(b.ptr, "<Out id=\"7\"><text>hello</text><item>a</item><item>b</item>"
                             "<lang>en</lang></Out>") != NULL);
    if (strstr(b.ptr, "<Out id=\"7\">") == NULL) {
        fprintf(stderr, "  got %s\n", b.ptr);
    }
    igw_buf_fini(&b);
    igw_map_free(m);
}

static void
test_accessors(void)
{
    igw_map *m = mt_compile("# c\nmap some-name.v2 from xml to csv\na = 1\n");
    IGWT_ASSERT(m != NULL);
    IGWT_STREQ(igw_map_name(m), "some-name.v2");
    IGWT_CHECK(igw_map_input_format(m) == IGW_FMT_XML);
    IGWT_CHECK(igw_map_output_format(m) == IGW_FMT_CSV);
    igw_map_free(m);
}

IGWT_MAIN({"constants", test_constants}, {"paths", test_paths},
          {"source_indexes", test_source_indexes},
          {"target_nesting_and_index", test_target_nesting_and_index},
          {"append_and_current", test_append_and_current}, {"blocks", test_blocks},
          {"iteration", test_iteration}, {"nested_iteration", test_nested_iteration},
          {"iteration_skips_missing", test_iteration_skips_missing},
          {"conditions", test_conditions}, {"defaults", test_defaults},
          {"variables", test_variables}, {"arithmetic", test_arithmetic},
          {"copy_subtree_and_lists", test_copy_subtree_and_lists}, {"submaps", test_submaps},
          {"limits", test_limits}, {"xml_model", test_xml_model}, {"accessors", test_accessors})
