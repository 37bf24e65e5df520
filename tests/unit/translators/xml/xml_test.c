/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for translators/xml: the libxml2-based parser and the writer. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "lib/igwt.h"
#include "lib/igwt_fixtures.h"

/* The file's arena (igwt_file_arena), reset at each use. */
static igw_arena *arena;
static struct igw_parse_error perr;

static int
parse_lim(const char *s, size_t len, const struct igw_parse_limits *lim, struct igw_node **root)
{
    arena = igwt_file_arena(64u << 20);
    return igw_xml_parse(arena, s, len, lim, root, &perr);
}

static int
parse(const char *s, struct igw_node **root)
{
    return parse_lim(s, strlen(s), NULL, root);
}

static const struct igw_node *
member(const struct igw_node *obj, const char *key)
{
    return igw_node_get(obj, key, strlen(key));
}

/* parse -> write -> parse gives an equal tree (compact and pretty) */
static void
check_round_trip(const struct igw_node *r1)
{
    igw_arena *a = NULL;
    struct igw_buf out;
    struct igw_node *r2 = NULL;
    struct igw_parse_error e;

    IGWT_OK(igw_arena_new(&a, 0));
    igw_buf_init(&out, 16u << 20);
    for (unsigned flags = 0; flags <= IGW_WRITE_PRETTY; flags++) {
        igw_buf_reset(&out);
        IGWT_OK(igw_xml_write(r1, &out, flags));
        if (igw_xml_parse(a, out.ptr, out.len, NULL, &r2, &e) != IGW_OK) {
            fprintf(stderr, "  reparse failed: %s\n%s\n", e.msg, out.ptr);
            IGWT_CHECK(0);
        } else if (!igw_node_equal(r1, r2)) {
            fprintf(stderr, "  round trip differs:\n%s\n", out.ptr);
            IGWT_CHECK(0);
        }
    }
    igw_buf_fini(&out);
    igw_arena_free(a);
}

static void
test_model(void)
{
    struct igw_node *r = NULL;
    const struct igw_node *c;
    const struct igw_node *m;

    IGWT_OK(parse("<?xml version=\"1.0\"?>\n<Claim id=\"7\" status=\"new\">\n  <Code>A</Code>\n"
                  "  <Item>1</Item>\n  <Item>2</Item>\n  <Empty/>\n  <Blank>  </Blank>\n"
                  "  <!-- comment --><?pi x?>\n</Claim>\n",
                  &r));
    IGWT_ASSERT(r->type == IGW_NODE_OBJECT && r->count == 1);
    c = member(r, "Claim");
    IGWT_ASSERT(c != NULL && c->type == IGW_NODE_OBJECT && c->count == 7);
    m = member(c, "id");
    IGWT_ASSERT(m != NULL && m->type == IGW_NODE_STRING && (m->flags & IGW_NODE_ATTR));
    IGWT_STREQ(m->str, "7");
    IGWT_CHECK(igw_node_at(c, 1)->flags & IGW_NODE_ATTR);
    IGWT_STREQ(member(c, "Code")->str, "A");
    IGWT_CHECK(!(member(c, "Code")->flags & IGW_NODE_ATTR));
    m = member(c, "Item");
    IGWT_STREQ(m->str, "1");
    IGWT_STREQ(igw_node_next_same(m)->str, "2");
    IGWT_CHECK(member(c, "Empty")->type == IGW_NODE_STRING && member(c, "Empty")->len == 0);
    IGWT_STREQ(member(c, "Blank")->str, "  "); /* leaf text is kept as is */
    IGWT_CHECK(member(c, "#text") == NULL);    /* blank text between elements is dropped */
    IGWT_CHECK(c->ns == NULL && c->prefix == NULL);
    check_round_trip(r);
}

static void
test_mixed_text(void)
{
    struct igw_node *r = NULL;
    const struct igw_node *p;

    IGWT_OK(parse("<p>Hello <b>world</b> and <![CDATA[<raw>]]> <i>more</i>!</p>", &r));
    p = member(r, "p");
    IGWT_ASSERT(p != NULL && p->type == IGW_NODE_OBJECT && p->count == 5);
    IGWT_STREQ(igw_node_at(p, 0)->key, "#text");
    IGWT_STREQ(igw_node_at(p, 0)->str, "Hello ");
    IGWT_STREQ(igw_node_at(p, 1)->key, "b");
    IGWT_STREQ(igw_node_at(p, 2)->str, " and <raw> ");
    IGWT_STREQ(igw_node_at(p, 3)->key, "i");
    IGWT_STREQ(igw_node_at(p, 4)->str, "!");
    check_round_trip(r);

    IGWT_OK(parse("<a x=\"1\">text</a>", &r));
    p = member(r, "a");
    IGWT_ASSERT(p->count == 2);
    IGWT_STREQ(member(p, "#text")->str, "text");
    check_round_trip(r);
}

static void
test_namespaces(void)
{
    struct igw_node *r = NULL;
    const struct igw_node *b;
    const struct igw_node *m;
    static const char doc[] =
        "<f:Bundle xmlns:f=\"http://hl7.org/fhir\" xmlns=\"urn:default\">"
        "<f:id value=\"1\"/><plain>x</plain>"
        "<q xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"T\" a=\"b\"/>"
        "<n xmlns=\"\">none</n><f:x xml:lang=\"en\">y</f:x></f:Bundle>";

    IGWT_OK(parse(doc, &r));
    b = member(r, "Bundle");
    IGWT_ASSERT(b != NULL);
    IGWT_STREQ(b->ns, "http://hl7.org/fhir");
    IGWT_STREQ(b->prefix, "f");
    m = member(b, "id");
    IGWT_STREQ(m->ns, "http://hl7.org/fhir");
    IGWT_STREQ(member(m, "value")->str, "1");
    IGWT_CHECK(member(m, "value")->ns == NULL);
    m = member(b, "plain");
    IGWT_STREQ(m->ns, "urn:default");
    IGWT_CHECK(m->prefix == NULL);
    m = member(b, "q");
    IGWT_STREQ(member(m, "type")->ns, "http://www.w3.org/2001/XMLSchema-instance");
    IGWT_STREQ(member(m, "type")->prefix, "xsi");
    IGWT_CHECK(member(m, "a")->ns == NULL);
    IGWT_CHECK(member(b, "n")->ns == NULL);
    m = member(b, "x");
    IGWT_STREQ(member(m, "lang")->prefix, "xml");
    check_round_trip(r);
}

static void
test_encoding_latin1(void)
{
    struct igw_node *r = NULL;
    IGWT_OK(parse("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><n a=\"\xe9\">caf\xe9 \xfc"
                  "ber</n>",
                  &r));
    IGWT_STREQ(member(member(r, "n"), "#text")->str, "caf\xc3\xa9 \xc3\xbc"
                                                     "ber");
    IGWT_STREQ(member(member(r, "n"), "a")->str, "\xc3\xa9");
    check_round_trip(r);
}

static void
test_entities(void)
{
    struct igw_node *r = NULL;
    const struct igw_node *e;

    IGWT_OK(parse("<r a=\"&lt;&quot;&#65;\">&lt;&amp;&gt;&apos;&quot; &#233;&#x20AC;</r>", &r));
    e = member(r, "r");
    IGWT_STREQ(member(e, "#text")->str, "<&>'\" \xc3\xa9\xe2\x82\xac");
    IGWT_STREQ(member(e, "a")->str, "<\"A");
    check_round_trip(r);

    /* entity declarations need a DTD, and any DOCTYPE is refused (issue 13) */
    IGWT_ERR(parse("<!DOCTYPE r [<!ENTITY who \"World\"><!ENTITY el \"<b>bold</b>\">]>"
                   "<r><t>Hello &who;!</t><m>x&el;y</m></r>",
                   &r),
             IGW_EPARSE);
    IGWT_CHECK(r == NULL);
    IGWT_CHECK(strstr(perr.msg, "DOCTYPE is not allowed") != NULL);
}

/* Any DOCTYPE, whatever it holds, is refused with a clear error pointing at it. */
static void
test_doctype_refused(void)
{
    static const char *const docs[] = {
        "<!DOCTYPE r><r/>",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE r SYSTEM \"http://127.0.0.1:9/x.dtd\"><r/>",
        "<!DOCTYPE r PUBLIC \"-//X//DTD X//EN\" \"x.dtd\"><r/>",
        "<!DOCTYPE r [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><r/>",
        "<!DOCTYPE r [<!ELEMENT r ANY>]><r/>",
    };
    struct igw_node *r = NULL;

    for (size_t i = 0; i < IGW_ARRAY_LEN(docs); i++) {
        IGWT_ERR(parse(docs[i], &r), IGW_EPARSE);
        IGWT_CHECK(r == NULL);
        IGWT_CHECK(strstr(perr.msg, "DOCTYPE is not allowed") != NULL);
    }
    IGWT_ERR(parse("<?xml version=\"1.0\"?>\n<!DOCTYPE r><r/>", &r), IGW_EPARSE);
    IGWT_CHECK(perr.line == 2);
    /* the word alone, in text or a comment, is no DOCTYPE */
    IGWT_OK(parse("<r><!-- <!DOCTYPE x> -->&lt;!DOCTYPE x&gt;</r>", &r));
    IGWT_STREQ(member(r, "r")->str, "<!DOCTYPE x>");
}

static void
test_billion_laughs(void)
{
    struct igw_node *r = NULL;
    static const char doc[] =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
        "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
        "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
        "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
        "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
        "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
        "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">"
        "]><lolz>&lol9;</lolz>";
    uint64_t t0 = igw_mono_ms();
    int rv = parse(doc, &r);

    IGWT_CHECK(rv == IGW_ELIMIT || rv == IGW_EPARSE);
    IGWT_CHECK(r == NULL);
    IGWT_CHECK(igw_mono_ms() - t0 < 2000);
    IGWT_CHECK(igw_arena_used(arena) < (8u << 20));
}

static void
test_quadratic_blowup(void)
{
    /* one 20 KB entity referenced 3000 times: 60 MB of text from 80 KB of input */
    struct igw_buf doc;
    struct igw_node *r = NULL;
    int rv;

    igw_buf_init(&doc, 1u << 20);
    IGWT_OK(igw_buf_puts(&doc, "<!DOCTYPE r [<!ENTITY big \""));
    for (int i = 0; i < 2000; i++) {
        IGWT_OK(igw_buf_puts(&doc, "0123456789"));
    }
    IGWT_OK(igw_buf_puts(&doc, "\">]><r>"));
    for (int i = 0; i < 3000; i++) {
        IGWT_OK(igw_buf_puts(&doc, "&big;"));
    }
    IGWT_OK(igw_buf_puts(&doc, "</r>"));
    rv = parse_lim(doc.ptr, doc.len, NULL, &r);
    IGWT_CHECK(rv == IGW_ELIMIT || rv == IGW_EPARSE);
    IGWT_CHECK(igw_arena_used(arena) < (8u << 20));
    igw_buf_fini(&doc);
}

static void
test_xxe_not_loaded(void)
{
    char path[] = "/tmp/igw-xxe-XXXXXX";
    char doc[512];
    struct igw_node *r = NULL;
    int fd = mkstemp(path);
    int rv;

    IGWT_ASSERT(fd >= 0);
    IGWT_ASSERT(write(fd, "TOPSECRET", 9) == 9);
    close(fd);

    snprintf(doc, sizeof(doc), "<!DOCTYPE r [<!ENTITY x SYSTEM \"file://%s\">]><r>a&x;b</r>", path);
    rv = parse(doc, &r);
    IGWT_CHECK(rv == IGW_EPARSE);
    IGWT_CHECK(strstr(perr.msg, "DOCTYPE is not allowed") != NULL); /* refused before the entity */
    IGWT_CHECK(strstr(perr.msg, "TOPSECRET") == NULL);

    /* in an attribute */
    snprintf(doc, sizeof(doc), "<!DOCTYPE r [<!ENTITY x SYSTEM \"file://%s\">]><r a=\"&x;\"/>",
             path);
    rv = parse(doc, &r);
    IGWT_CHECK(rv != IGW_OK);

    /* parameter entity and external DTD subset: never fetched, and now refused */
    snprintf(doc, sizeof(doc),
             "<!DOCTYPE r SYSTEM \"file://%s\" [<!ENTITY %% p SYSTEM \"file://%s\"> %%p;]>"
             "<r>ok</r>",
             path, path);
    rv = parse(doc, &r);
    IGWT_CHECK(rv == IGW_EPARSE);
    IGWT_CHECK(strstr(perr.msg, "TOPSECRET") == NULL);
    unlink(path);
}

static void
test_errors(void)
{
    struct igw_node *r = NULL;

    IGWT_ERR(parse("<a>\n  <b></a>", &r), IGW_EPARSE);
    IGWT_CHECK(r == NULL);
    IGWT_CHECK(perr.line == 2);
    IGWT_CHECK(perr.column == 10); /* libxml2 points just after the end tag name */
    IGWT_CHECK(strncmp(perr.msg, "line 2, column 10: ", 19) == 0);
    IGWT_ERR(parse("<a x=1/>", &r), IGW_EPARSE);
    IGWT_CHECK(perr.line == 1 && perr.column == 6);
    IGWT_ERR(parse("", &r), IGW_EPARSE);
    IGWT_ERR(parse("just text", &r), IGW_EPARSE);
    IGWT_ERR(parse("<a></a><b/>", &r), IGW_EPARSE);
    IGWT_ERR(parse("<a>\xc3\x28</a>", &r), IGW_EPARSE);     /* invalid UTF-8 */
    IGWT_ERR(parse("<a>\xed\xa0\x80</a>", &r), IGW_EPARSE); /* encoded surrogate */
    IGWT_ERR(parse("<a>&undefined;</a>", &r), IGW_EPARSE);
    IGWT_ERR(parse("<a>\x01</a>", &r), IGW_EPARSE);
    IGWT_ERR(parse("<p:a>x</p:a>", &r), IGW_EPARSE); /* unbound prefix */
}

static void
test_truncated(void)
{
    static const char doc[] = "<?xml version=\"1.0\"?><a x=\"1\"><b>t&amp;</b><c/><![CDATA[z]]>"
                              "</a>";
    struct igw_node *r = NULL;
    size_t len = sizeof(doc) - 1;

    IGWT_OK(parse_lim(doc, len, NULL, &r));
    for (size_t i = 0; i < len; i++) {
        int rv = parse_lim(doc, i, NULL, &r);
        if (rv != IGW_EPARSE) {
            fprintf(stderr, "  prefix %zu: rv %d\n", i, rv);
            IGWT_CHECK(0);
        }
    }
}

static void
test_limits(void)
{
    struct igw_node *r = NULL;
    struct igw_parse_limits lim = {3, 0};

    IGWT_OK(parse_lim("<a><b><c/></b></a>", 18, &lim, &r));
    IGWT_ERR(parse_lim("<a><b><c><d/></c></b></a>", 25, &lim, &r), IGW_ELIMIT);
    lim.max_depth = 0;
    lim.max_nodes = 4;
    IGWT_OK(parse_lim("<a><b/><c/></a>", 15, &lim, &r));
    IGWT_ERR(parse_lim("<a><b/><c/><d/></a>", 19, &lim, &r), IGW_ELIMIT);
    {
        igw_arena *small = NULL;
        char doc[4096];
        size_t n = 0;
        n += (size_t)snprintf(doc, sizeof(doc), "<a>");
        for (int i = 0; i < 100; i++) {
            n += (size_t)snprintf(doc + n, sizeof(doc) - n, "<v>%d</v>", i);
        }
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, "</a>");
        IGWT_OK(igw_arena_new(&small, 2048));
        IGWT_ERR(igw_xml_parse(small, doc, n, NULL, &r, &perr), IGW_ENOMEM);
        igw_arena_free(small);
    }
}

static void
test_write(void)
{
    igw_arena *a = NULL;
    struct igw_node *root;
    struct igw_node *el;
    struct igw_node *arr;
    struct igw_node *attr;
    struct igw_node *back = NULL;
    struct igw_buf out;

    IGWT_OK(igw_arena_new(&a, 0));
    root = igw_node_new(a, IGW_NODE_OBJECT);
    el = igw_node_new(a, IGW_NODE_OBJECT);
    arr = igw_node_new(a, IGW_NODE_ARRAY);
    attr = igw_node_string(a, "4\"2<", 4);
    attr->flags |= IGW_NODE_ATTR;
    IGWT_OK(igw_node_append(a, root, "Claim", 5, el));
    IGWT_OK(igw_node_append(a, el, "id", 2, attr));
    IGWT_OK(igw_node_append(a, el, "@code", 5, igw_node_string(a, "x", 1)));
    IGWT_OK(igw_node_append(a, el, "Total", 5, igw_node_number_text(a, "12.50", 5)));
    IGWT_OK(igw_node_append(a, el, "Ok", 2, igw_node_bool(a, true)));
    IGWT_OK(igw_node_append(a, el, "Note", 4, igw_node_string(a, "a<b & c>d", 9)));
    IGWT_OK(igw_node_append(a, el, "Item", 4, arr));
    IGWT_OK(igw_node_append(a, arr, NULL, 0, igw_node_string(a, "1", 1)));
    IGWT_OK(igw_node_append(a, arr, NULL, 0, igw_node_string(a, "2", 1)));
    IGWT_OK(igw_node_append(a, el, "None", 4, igw_node_new(a, IGW_NODE_NULL)));
    igw_buf_init(&out, 4096);
    IGWT_OK(igw_xml_write(root, &out, 0));
    IGWT_STREQ(out.ptr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Claim id=\"4&quot;2&lt;\" "
                        "code=\"x\"><Total>12.50</Total><Ok>true</Ok><Note>a&lt;b &amp; "
                        "c&gt;d</Note><Item>1</Item><Item>2</Item><None/></Claim>\n");
    IGWT_OK(igw_xml_parse(a, out.ptr, out.len, NULL, &back, &perr));
    IGWT_STREQ(member(member(back, "Claim"), "id")->str, "4\"2<");

    igw_buf_reset(&out);
    IGWT_OK(igw_xml_write(back, &out, IGW_WRITE_PRETTY));
    IGWT_STREQ(out.ptr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Claim id=\"4&quot;2&lt;\" "
                        "code=\"x\">\n  <Total>12.50</Total>\n  <Ok>true</Ok>\n  <Note>a&lt;b "
                        "&amp; c&gt;d</Note>\n  <Item>1</Item>\n  <Item>2</Item>\n  <None/>\n"
                        "</Claim>\n");

    /* not representable */
    igw_buf_reset(&out);
    IGWT_ERR(igw_xml_write(el, &out, 0), IGW_EINVAL); /* root with several members */
    IGWT_OK(igw_node_append(a, el, "bad name", 8, igw_node_string(a, "x", 1)));
    IGWT_ERR(igw_xml_write(root, &out, 0), IGW_EINVAL);
    IGWT_CHECK(out.len == 0);
    root = igw_node_new(a, IGW_NODE_OBJECT);
    IGWT_OK(igw_node_append(a, root, "c", 1, igw_node_string(a, "\x01", 1)));
    IGWT_ERR(igw_xml_write(root, &out, 0), IGW_EINVAL);
    igw_buf_fini(&out);
    igw_arena_free(a);
}

static void
test_json_to_xml(void)
{
    /* a JSON document with "@" keys converts to XML attributes */
    igw_arena *a = NULL;
    struct igw_node *j = NULL;
    struct igw_buf out;
    static const char json[] = "{\"r\":{\"@v\":\"1\",\"k\":[\"a\",\"b\"],\"o\":{\"n\":2}}}";

    IGWT_OK(igw_arena_new(&a, 0));
    IGWT_OK(igw_json_parse(a, json, sizeof(json) - 1, NULL, &j, &perr));
    igw_buf_init(&out, 4096);
    IGWT_OK(igw_xml_write(j, &out, 0));
    IGWT_STREQ(out.ptr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r "
                        "v=\"1\"><k>a</k><k>b</k><o><n>2</n></o></r>\n");
    igw_buf_fini(&out);
    igw_arena_free(a);
}

static void
test_openimis_fixture(void)
{
    char dir[4096];
    char path[4200];
    size_t len = 0;
    char *text;
    struct igw_node *r = NULL;
    const struct igw_node *c;
    const struct igw_node *m;

    IGWT_FIXTURE_DIR(dir, "openimis/legacy-xml");
    snprintf(path, sizeof(path), "%s/%s", dir,
             "claim-submit.openimis-be-claim_py.test_extended_claim_submit_xml.xml");
    text = igwt_read_file(path, &len);
    IGWT_ASSERT(text != NULL);
    IGWT_OK(parse_lim(text, len, NULL, &r));
    c = member(r, "Claim");
    IGWT_ASSERT(c != NULL);
    IGWT_STREQ(member(member(c, "Details"), "ClaimCode")->str, "code_ABVC");
    IGWT_STREQ(member(member(c, "Details"), "Total")->str, "334");
    m = member(member(c, "Items"), "Item");
    IGWT_ASSERT(m != NULL && igw_node_next_same(m) != NULL);
    IGWT_STREQ(member(igw_node_next_same(m), "ItemPrice")->str, "12.3");
    m = igw_node_next_same(member(member(c, "Services"), "Service"));
    IGWT_ASSERT(m != NULL);
    IGWT_STREQ(member(m, "ServiceCode")->str, "a<a'-serv");
    check_round_trip(r);
    igw_free(text);
}

/* errors are captured per call: threads parsing bad documents see their own positions */
static void *
thread_main(void *arg)
{
    long id = (long)arg;
    igw_arena *a = NULL;
    long bad = 0;
    char doc[64];

    if (igw_arena_new(&a, 0) != IGW_OK) {
        return (void *)1;
    }
    for (int i = 0; i < 300; i++) {
        struct igw_node *r = NULL;
        struct igw_parse_error e;
        size_t pad = (size_t)(id + 1);
        int n = snprintf(doc, sizeof(doc), "<a>%.*s<b></a>", (int)pad, "          ");
        igw_arena_reset(a);
        if (igw_xml_parse(a, doc, (size_t)n, NULL, &r, &e) != IGW_EPARSE ||
            e.column != (unsigned)(11 + pad)) {
            bad++;
        }
        igw_arena_reset(a);
        if (igw_xml_parse(a, "<ok/>", 5, NULL, &r, &e) != IGW_OK) {
            bad++;
        }
    }
    igw_arena_free(a);
    return (void *)bad;
}

static void
test_threads(void)
{
    pthread_t t[4];
    for (long i = 0; i < 4; i++) {
        IGWT_ASSERT(pthread_create(&t[i], NULL, thread_main, (void *)i) == 0);
    }
    for (int i = 0; i < 4; i++) {
        void *res = NULL;
        pthread_join(t[i], &res);
        IGWT_CHECK(res == NULL);
    }
}

IGWT_MAIN({"model", test_model}, {"mixed_text", test_mixed_text}, {"namespaces", test_namespaces},
          {"encoding_latin1", test_encoding_latin1}, {"entities", test_entities},
          {"doctype_refused", test_doctype_refused}, {"billion_laughs", test_billion_laughs},
          {"quadratic_blowup", test_quadratic_blowup}, {"xxe_not_loaded", test_xxe_not_loaded},
          {"errors", test_errors}, {"truncated", test_truncated}, {"limits", test_limits},
          {"write", test_write}, {"json_to_xml", test_json_to_xml},
          {"openimis_fixture", test_openimis_fixture}, {"threads", test_threads})
