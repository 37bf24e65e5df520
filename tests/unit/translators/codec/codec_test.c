/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for translators/codec/codec.c: the codec table, format names and the dispatch. */
#include <string.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "lib/igwt.h"

static void
test_formats(void)
{
    IGWT_CHECK(igw_format_parse("json") == IGW_FMT_JSON);
    IGWT_CHECK(igw_format_parse("fhir-r4") == IGW_FMT_JSON);
    IGWT_CHECK(igw_format_parse("dci") == IGW_FMT_JSON);
    IGWT_CHECK(igw_format_parse("XML") == IGW_FMT_XML);
    IGWT_CHECK(igw_format_parse("csv") == IGW_FMT_CSV);
    IGWT_CHECK(igw_format_parse("hl7") == IGW_FMT_NONE);
    IGWT_CHECK(igw_format_parse("") == IGW_FMT_NONE);
    IGWT_CHECK(igw_format_parse(NULL) == IGW_FMT_NONE);
    IGWT_CHECK(igw_format_from_path("/a/b/claim.json") == IGW_FMT_JSON);
    IGWT_CHECK(igw_format_from_path("up.XML") == IGW_FMT_XML);
    IGWT_CHECK(igw_format_from_path("x.tar.csv") == IGW_FMT_CSV);
    IGWT_CHECK(igw_format_from_path("dir.json/file") == IGW_FMT_NONE);
    IGWT_CHECK(igw_format_from_path("noext") == IGW_FMT_NONE);
    IGWT_CHECK(igw_format_from_path("a.dci") == IGW_FMT_NONE);
    IGWT_CHECK(igw_format_from_path(NULL) == IGW_FMT_NONE);
}

static void
test_dispatch(void)
{
    igw_arena *a = igwt_arena_new(0);
    struct igw_node *root = NULL;
    struct igw_parse_error err;
    struct igw_buf out;

    igw_buf_init(&out, 4096);
    IGWT_OK(igw_doc_parse(IGW_FMT_JSON, a, "[1, \"x\"]", 8, NULL, &root, &err));
    IGWT_OK(igw_doc_write(IGW_FMT_JSON, root, &out, 0));
    IGWT_STREQ(out.ptr, "[1,\"x\"]");
    IGWT_ERR(igw_doc_parse(IGW_FMT_NONE, a, "x", 1, NULL, &root, &err), IGW_EINVAL);
    IGWT_ERR(igw_doc_write(IGW_FMT_NONE, root, &out, 0), IGW_EINVAL);
    igw_buf_fini(&out);
    igw_arena_free(a);
}

/* every format has a complete codec whose position in the table is its format id */
static void
test_table(void)
{
    IGWT_CHECK(igw_codec_get(IGW_FMT_NONE) == NULL);
    IGWT_CHECK(igw_codec_get(IGW_FMT_COUNT) == NULL);
    IGWT_CHECK(igw_codec_get((enum igw_format) - 1) == NULL);
    IGWT_CHECK(igw_codec_get(IGW_FMT_JSON) == &igw_codec_json);
    IGWT_CHECK(igw_codec_get(IGW_FMT_XML) == &igw_codec_xml);
    IGWT_CHECK(igw_codec_get(IGW_FMT_CSV) == &igw_codec_csv);
    for (unsigned f = IGW_FMT_NONE + 1; f < IGW_FMT_COUNT; f++) {
        const struct igw_codec *c = igw_codec_get((enum igw_format)f);
        IGWT_ASSERT(c != NULL);
        IGWT_CHECK(c->name != NULL && c->media_type != NULL);
        IGWT_CHECK(c->parse != NULL && c->write != NULL);
        IGWT_CHECK(igw_codec_format(c) == (enum igw_format)f);
        IGWT_CHECK(igw_format_parse(c->name) == (enum igw_format)f);
    }
    IGWT_CHECK(igw_codec_format(NULL) == IGW_FMT_NONE);
    IGWT_STREQ(igw_codec_json.media_type, "application/json");
    IGWT_STREQ(igw_codec_xml.media_type, "application/xml");
    IGWT_STREQ(igw_codec_csv.media_type, "text/csv");
}

static void
test_media_types(void)
{
    IGWT_CHECK(igw_format_from_media_type("application/xml") == IGW_FMT_XML);
    IGWT_CHECK(igw_format_from_media_type("application/fhir+xml; charset=utf-8") == IGW_FMT_XML);
    IGWT_CHECK(igw_format_from_media_type("text/csv") == IGW_FMT_CSV);
    IGWT_CHECK(igw_format_from_media_type("application/json") == IGW_FMT_NONE);
    IGWT_CHECK(igw_format_from_media_type("xml") == IGW_FMT_NONE);
    IGWT_CHECK(igw_format_from_media_type(NULL) == IGW_FMT_NONE);
}

/* the dispatch reaches each codec: XML and CSV (default options) through the table */
static void
test_dispatch_all(void)
{
    igw_arena *a = igwt_arena_new(0);
    struct igw_node *root = NULL;
    struct igw_parse_error err;
    struct igw_buf out;

    igw_buf_init(&out, 4096);
    IGWT_OK(igw_doc_parse(IGW_FMT_XML, a, "<a><b>x</b></a>", 15, NULL, &root, &err));
    IGWT_OK(igw_doc_write(IGW_FMT_JSON, root, &out, 0));
    IGWT_STREQ(out.ptr, "{\"a\":{\"b\":\"x\"}}");
    igw_buf_reset(&out);
    IGWT_OK(igw_doc_parse(IGW_FMT_CSV, a, "k,v\r\n1,2\r\n", 10, NULL, &root, &err));
    IGWT_OK(igw_doc_write(IGW_FMT_CSV, root, &out, IGW_WRITE_PRETTY));
    IGWT_STREQ(out.ptr, "k,v\r\n1,2\r\n");
    IGWT_ERR(igw_doc_parse(IGW_FMT_COUNT, a, "x", 1, NULL, &root, &err), IGW_EINVAL);
    IGWT_ERR(igw_doc_write(IGW_FMT_COUNT, root, &out, 0), IGW_EINVAL);
    igw_buf_fini(&out);
    igw_arena_free(a);
}

IGWT_MAIN({"formats", test_formats}, {"dispatch", test_dispatch}, {"table", test_table},
          {"media_types", test_media_types}, {"dispatch_all", test_dispatch_all})
