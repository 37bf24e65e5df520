/* SPDX-License-Identifier: Apache-2.0 */
/* The function library: strings, regex, dates and time zones, numbers, lists, uuid5, lookup. */
#include "maptest.h"
#include "../../../../translators/map/map_int.h"

#define HDR "map t from json to json\n"

static void
test_concat_and_plus(void)
{
    MT_EQ(HDR "a = concat(f, \" \", l)\nb = f + \"-\" + l\nc = concat(f, missing)\n",
          "{\"f\":\"J\",\"l\":\"D\"}", "{\"a\":\"J D\",\"b\":\"J-D\",\"c\":\"J\"}");
}

static void
test_split_join(void)
{
    MT_EQ(HDR
          "a = split(s, \" \")\nb = join(a, \"+\")\nc = split(\"x\", \",\")\nd = split(s, \"\")\n"
          "e = join(split(csv, \";\"), \"|\")\n",
          "{\"s\":\"a b c\",\"a\":[\"x\",\"y\"],\"csv\":\"1;;2\"}",
          "{\"a\":[\"a\",\"b\",\"c\"],\"b\":\"x+y\",\"c\":[\"x\"],\"d\":\"a b c\",\"e\":\"1||2\"}");
}

static void
test_trim_case_length(void)
{
    MT_EQ(HDR "a = trim(s)\nb = upper(s)\nc = lower(\"MiX\")\nd = length(trim(s))\n",
          "{\"s\":\"  Ab c \\t\"}", "{\"a\":\"Ab c\",\"b\":\"  AB C \\t\",\"c\":\"mix\",\"d\":4}");
}

static void
test_substring_replace(void)
{
    MT_EQ(HDR "a = substring(s, 2)\nb = substring(s, 1, 3)\nc = substring(s, -2)\n"
              "d = substring(s, 99)\ne = replace(s, \"l\", \"L\")\nf = replace(s, \"\", \"x\")\n",
          "{\"s\":\"hello\"}",
          "{\"a\":\"llo\",\"b\":\"ell\",\"c\":\"lo\",\"d\":\"\",\"e\":\"heLLo\",\"f\":\"hello\"}");
}

static void
test_contains_starts_ends(void)
{
    MT_EQ(HDR "a = contains(s, \"ll\")\nb = startsWith(s, \"he\")\nc = endsWith(s, \"x\")\n",
          "{\"s\":\"hello\"}", "{\"a\":true,\"b\":true,\"c\":false}");
}

static void
test_matches(void)
{
    MT_EQ(HDR "a = matches(s, \"^[0-9]{3}-[0-9]+$\")\nb = matches(t, \"^[0-9]{3}\")\n"
              "c = matches(missing, \"x\")\n",
          "{\"s\":\"123-45\",\"t\":\"12a\"}", "{\"a\":true,\"b\":false}");
}

static void
test_date_patterns(void)
{
    MT_EQ(HDR "a = date(d, \"dd/MM/yyyy\")\nb = date(d, \"dd/MM/yyyy\", \"yyyyMMdd\")\n"
              "c = date(bad, \"dd/MM/yyyy\")\nd = date(feb, \"dd/MM/yyyy\")\n"
              "e = date(short, \"d/M/yyyy\", \"yyyy-MM-dd\")\n"
              "f = date(ts, \"yyyy-MM-dd'T'HH:mm:ss\")\n"
              "g = date(ms, \"yyyy-MM-dd HH:mm:ss.SSS\", \"HH'h'mm ss.SSS\")\n",
          "{\"d\":\"31/12/1999\",\"bad\":\"31/13/1999\",\"feb\":\"29/02/2001\",\"short\":\"1/2/"
          "2020\","
          "\"ts\":\"2020-01-02T03:04:05\",\"ms\":\"2020-01-02 03:04:05.678\"}",
          "{\"a\":\"1999-12-31\",\"b\":\"19991231\",\"e\":\"2020-02-01\","
          "\"f\":\"2020-01-02T03:04:05Z\",\"g\":\"03h04 05.678\"}");
}

static void
test_date_time_zones(void)
{
    MT_EQ(HDR "a = date(t, \"yyyy-MM-dd'T'HH:mmXXX\", \"yyyy-MM-dd'T'HH:mmXXX\", \"Z\")\n"
              "b = date(t, \"yyyy-MM-dd'T'HH:mmXXX\", \"dd.MM.yyyy HH:mm Z\", \"-05:30\")\n"
              "c = date(u, \"yyyy-MM-dd HH:mm\", \"yyyy-MM-dd'T'HH:mmXXX\", \"+03:00\")\n"
              "d = date(t, \"yyyy-MM-dd'T'HH:mmXXX\")\n"
              "e = date(z, \"yyyyMMddHHmmZ\", \"yyyy-MM-dd'T'HH:mmXXX\", \"Z\")\n",
          "{\"t\":\"2024-01-01T01:30+02:00\",\"u\":\"2023-12-31 22:15\","
          "\"z\":\"202402290100-0130\"}",
          "{\"a\":\"2023-12-31T23:30Z\",\"b\":\"31.12.2023 18:00 -0530\","
          "\"c\":\"2024-01-01T01:15+03:00\",\"d\":\"2024-01-01T01:30:00+02:00\","
          "\"e\":\"2024-02-29T02:30Z\"}");
}

static void
test_now_frozen(void)
{
    MT_EQ(HDR "a = now()\nb = now()\n", "{}",
          "{\"a\":\"2023-11-14T22:13:20.123Z\",\"b\":\"2023-11-14T22:13:20.123Z\"}");
}

static void
test_numbers(void)
{
    MT_EQ(HDR "a = number(s)\nb = number(\"x\")\nc = round(n, 1)\nd = round(n)\n"
              "e = format(n, \"0.00\")\nf = format(7, \"000\")\ng = string(n)\nh = number(true)\n",
          "{\"s\":\"12.5\",\"n\":2.345}",
          "{\"a\":12.5,\"c\":2.3,\"d\":2,\"e\":\"2.35\",\"f\":\"007\",\"g\":\"2.345\",\"h\":1}");
}

static void
test_lists(void)
{
    MT_EQ(HDR "a = count(l)\nb = sum(l)\nc = first(l)\nd = last(l)\ne = distinct(d)\n"
              "f = count(missing)\ng = count(one)\nh = exists(z)\ni = empty(missing)\n"
              "j = iif(count(l) > 2, \"many\", \"few\")\n",
          "{\"l\":[1,2,3],\"d\":[\"a\",\"b\",\"a\"],\"one\":\"x\",\"z\":null}",
          "{\"a\":3,\"b\":6,\"c\":1,\"d\":3,\"e\":[\"a\",\"b\"],\"f\":0,\"g\":1,\"h\":true,"
          "\"i\":true,\"j\":\"many\"}");
}

static void
test_uuid5_rfc_vectors(void)
{
    MT_EQ(HDR "a = uuid5(\"dns\", \"www.example.com\")\n"
              "b = uuid5(\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\", \"www.example.com\")\n"
              "c = uuid5(ns, name)\nd = uuid5(\"url\", \"http://python.org/\")\n",
          "{\"ns\":\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\",\"name\":\"python.org\"}",
          "{\"a\":\"2ed6657d-e927-568b-95e1-2665a8aea6a2\","
          "\"b\":\"2ed6657d-e927-568b-95e1-2665a8aea6a2\","
          "\"c\":\"886313e1-3b8a-5372-9b90-0c9aee199e5d\","
          "\"d\":\"4c565f0d-3f5a-5890-b41b-20cf47701c5e\"}");
}

static void
hex20(const uint8_t *h, char *out)
{
    for (int i = 0; i < 20; i++) {
        snprintf(out + 2 * i, 3, "%02x", h[i]);
    }
}

static void
test_sha1_rfc3174(void)
{
    uint8_t h[20];
    char hex[41];
    map_sha1("abc", 3, h);
    hex20(h, hex);
    IGWT_STREQ(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    map_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, h);
    hex20(h, hex);
    IGWT_STREQ(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    struct map_sha1_ctx c;
    map_sha1_init(&c);
    for (int i = 0; i < 1000000 / 50; i++) {
        map_sha1_update(&c, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 50);
    }
    map_sha1_final(&c, h);
    hex20(h, hex);
    IGWT_STREQ(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void
test_required_fail(void)
{
    const char *out = NULL;
    igw_map *m = mt_compile(HDR "id = required(chfId, \"chfId is required\")\n"
                                "when kind == \"bad\" {\n  x = fail(\"kind bad is refused\")\n}\n");
    struct igw_map_limits lim = {.now_ms = 1};
    IGWT_ASSERT(m != NULL);
    IGWT_OK(mt_apply_lim(m, false, "{\"chfId\":\"1\"}", &lim, &out));
    IGWT_STREQ(out, "{\"id\":\"1\"}");
    IGWT_ERR(mt_apply_lim(m, false, "{\"name\":\"x\"}", &lim, &out), IGW_ETRANSLATE);
    IGWT_CHECK(strstr(out, "chfId is required") != NULL);
    IGWT_CHECK(strstr(out, ":2:6:") != NULL || strstr(out, ":2:") != NULL);
    IGWT_ERR(mt_apply_lim(m, false, "{\"chfId\":\"1\",\"kind\":\"bad\"}", &lim, &out),
             IGW_ETRANSLATE);
    IGWT_CHECK(strstr(out, "kind bad is refused") != NULL);
    igw_map_free(m);
}

static void
test_lookup(void)
{
    mt_write_file("g.csv", "source,target,system,display\nM,male,http://g,Male\nF,female,http://g,"
                           "Female\n");
    igw_map *m =
        mt_compile_dir(HDR "table g = \"g.csv\"\na = lookup(g, s)\n"
                           "b = lookup(g, \"F\", \"display\")\n"
                           "c = lookup(g, s, \"system\")\nd = lookup(g, \"X\") ?? \"unknown\"\n",
                       mt_tmpdir());
    const char *out;
    IGWT_ASSERT(m != NULL);
    IGWT_OK(mt_apply_lim(m, false, "{\"s\":\"M\"}", NULL, &out));
    IGWT_STREQ(out, "{\"a\":\"male\",\"b\":\"Female\",\"c\":\"http://g\",\"d\":\"unknown\"}");
    igw_map_free(m);
}

IGWT_MAIN({"required_fail", test_required_fail}, {"concat_and_plus", test_concat_and_plus},
          {"split_join", test_split_join}, {"trim_case_length", test_trim_case_length},
          {"substring_replace", test_substring_replace},
          {"contains_starts_ends", test_contains_starts_ends}, {"matches", test_matches},
          {"date_patterns", test_date_patterns}, {"date_time_zones", test_date_time_zones},
          {"now_frozen", test_now_frozen}, {"numbers", test_numbers}, {"lists", test_lists},
          {"uuid5_rfc_vectors", test_uuid5_rfc_vectors}, {"sha1_rfc3174", test_sha1_rfc3174},
          {"lookup", test_lookup})
