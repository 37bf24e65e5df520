/* SPDX-License-Identifier: Apache-2.0 */
/* translators/search: query parsing, the plan to GraphQL arguments by parameter type, paging
 * with cursors over recorded upstream answers, Bundle assembly, read. Uses the repository's
 * own search maps (mappings/<name>/search) and record maps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/search.h"
#include "igw/json.h"
#include "igwt.h"

static igw_search_set *SET;
static igw_map_set *MAPS;

static void
load(void)
{
    char dir[4096], err[IGW_ERRBUF_SIZE] = "";
    const char *src = getenv("IGW_SRC");
    if (SET != NULL) {
        return;
    }
    snprintf(dir, sizeof(dir), "%s/mappings", src != NULL ? src : "..");
    int lrv = igw_search_set_load(&SET, dir, err, sizeof(err));
    if (lrv != IGW_OK) {
        fprintf(stderr, "  %s\n", err);
    }
    IGWT_OK(lrv);
    IGWT_OK(igw_map_set_load(&MAPS, dir, err, sizeof(err)));
    IGWT_OK(igw_search_set_check(SET, MAPS, err, sizeof(err)));
}

static void
unload(void)
{
    igw_search_set_free(SET);
    igw_map_set_free(MAPS);
}

/* Starts a Patient (or other) search from a query string; returns the igw error. */
static int
start(igw_arena *a, const char *type, const char *qs, unsigned flags, igw_search_op **op, char *err)
{
    struct igw_search_query q;
    int rv = igw_search_query_parse(a, qs, strlen(qs), &q, err, IGW_ERRBUF_SIZE);
    if (rv != IGW_OK) {
        return rv;
    }
    return igw_search_begin(op, a, SET, type, &q, flags, err, IGW_ERRBUF_SIZE);
}

/* The GraphQL text of the next call (unescaped enough to grep). */
static const char *
call_text(igw_arena *a, igw_search_op *op)
{
    static char text[65536];
    struct igw_buf b;
    struct igw_node *root = NULL;
    igw_buf_init(&b, 1 << 20);
    int rv = igw_search_next_call(op, &b);
    if (rv != IGW_OK) {
        igw_buf_fini(&b);
        return NULL;
    }
    IGWT_OK(igw_json_parse(a, b.ptr, b.len, NULL, &root, NULL));
    snprintf(text, sizeof(text), "%s", igw_node_get(root, "query", 5)->str);
    igw_buf_fini(&b);
    return text;
}

static void
test_query_parse(void)
{
    igw_arena *a = igwt_file_arena(0);
    struct igw_search_query q;
    char err[IGW_ERRBUF_SIZE];
    const char *qs = "?family:exact=N%C3%A9+Doe&&birthdate=ge1980&_count=5";
    IGWT_OK(igw_search_query_parse(a, qs, strlen(qs), &q, err, sizeof(err)));
    IGWT_ASSERT(q.count == 3);
    IGWT_STREQ(q.params[0].name, "family");
    IGWT_STREQ(q.params[0].modifier, "exact");
    IGWT_STREQ(q.params[0].value, "N\xc3\xa9 Doe");
    IGWT_CHECK(q.params[1].modifier == NULL);
    IGWT_ERR(igw_search_query_parse(a, "a=%4", 4, &q, err, sizeof(err)), IGW_EPARSE);
    IGWT_ERR(igw_search_query_parse(a, "a=%zz", 5, &q, err, sizeof(err)), IGW_EPARSE);
    IGWT_ERR(igw_search_query_parse(a, "a=%00", 5, &q, err, sizeof(err)), IGW_EPARSE);
    IGWT_ERR(igw_search_query_parse(a, "a=%ff", 5, &q, err, sizeof(err)), IGW_EPARSE);
    IGWT_ERR(igw_search_query_parse(a, "=x", 2, &q, err, sizeof(err)), IGW_EPARSE);
    IGWT_ERR(igw_search_query_parse(a, "a b=x", 5, &q, err, sizeof(err)), IGW_EPARSE);
    char *big = malloc(12000);
    memcpy(big, "family=", 7);
    memset(big + 7, 'x', 10300);
    IGWT_ERR(igw_search_query_parse(a, big, 10307, &q, err, sizeof(err)), IGW_ETOOBIG);
    free(big);
}

static void
test_plan_types(void)
{
    igw_arena *a = igwt_file_arena(0);
    igw_search_op *op = NULL;
    char err[IGW_ERRBUF_SIZE];
    load();
    IGWT_OK(start(a, "Patient",
                  "family=Do&given:contains=ami&birthdate=ge1980&birthdate=lt1990-06"
                  "&gender=http://hl7.org/fhir/administrative-gender|female&identifier=0707"
                  "&phone:missing=true&_count=2",
                  0, &op, err));
    const char *t = call_text(a, op);
    IGWT_ASSERT(t != NULL);
    IGWT_CHECK(strstr(t, "insurees(lastName_Istartswith: \"Do\"") != NULL);
    IGWT_CHECK(strstr(t, "otherNames_Icontains: \"ami\"") != NULL);
    IGWT_CHECK(strstr(t, "dob_Gte: \"1980-01-01\"") != NULL);
    IGWT_CHECK(strstr(t, "dob_Lt: \"1990-06-01\"") != NULL);
    IGWT_CHECK(strstr(t, "gender_Code: \"F\"") != NULL);
    IGWT_CHECK(strstr(t, "chfId: \"0707\"") != NULL);
    IGWT_CHECK(strstr(t, "phone_Isnull: true") != NULL);
    IGWT_CHECK(strstr(t, "orderBy: [\"id\"], first: 3, offset: 0") != NULL);

    a = igwt_file_arena(0);
    IGWT_OK(start(a, "Patient",
                  "birthdate=2020&family:exact=Nkosi&_lastUpdated=gt2024-01-01T10:00:00Z"
                  "&_sort=-birthdate,family&_total=accurate",
                  0, &op, err));
    t = call_text(a, op);
    IGWT_CHECK(strstr(t, "dob_Gte: \"2020-01-01\", dob_Lte: \"2020-12-31\"") != NULL);
    IGWT_CHECK(strstr(t, "lastName: \"Nkosi\"") != NULL);
    IGWT_CHECK(strstr(t, "validityFrom_Gte: \"2024-01-01T10:00:01\"") != NULL);
    IGWT_CHECK(strstr(t, "orderBy: [\"-dob\", \"lastName\", \"id\"]") != NULL);
    IGWT_CHECK(strstr(t, "totalCount") != NULL);

    a = igwt_file_arena(0);
    IGWT_OK(start(a, "Patient", "birthdate=1990-03-24&birthdate=le2000-02", 0, &op, err));
    t = call_text(a, op);
    IGWT_CHECK(strstr(t, "dob: \"1990-03-24\"") != NULL);
    IGWT_CHECK(strstr(t, "dob_Lte: \"2000-02-29\"") != NULL);
}

static void
test_plan_errors(void)
{
    igw_arena *a = igwt_file_arena(0);
    igw_search_op *op = NULL;
    char err[IGW_ERRBUF_SIZE];
    load();
    IGWT_ERR(start(a, "Patient", "birthdate=2020-13-01", 0, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Patient", "birthdate=xx2020", 0, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Patient", "birthdate=2020-02-30", 0, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Patient", "birthdate=2020-01-01T25:00Z", 0, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Patient", "birthdate=2020-01-01T10:00+1:00", 0, &op, err), IGW_EPARSE);
    IGWT_OK(start(a, "Patient", "_lastUpdated=ge2024-01-01T10:00:00", 0, &op, err));
    IGWT_ERR(start(a, "Patient", "_count=-1", 0, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Patient", "_count=5000", 0, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Patient", "_cursor=bm90IGEgY3Vyc29y", 0, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Patient", "phone:missing=maybe", 0, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Nothing", "", 0, &op, err), IGW_ENOENT);
    /* strict: unsupported parameters are errors; lenient: reported, ignored */
    IGWT_ERR(start(a, "Patient", "colour=blue", IGW_SEARCH_STRICT, &op, err), IGW_EPARSE);
    IGWT_CHECK(strstr(err, "colour") != NULL);
    IGWT_ERR(start(a, "Patient", "birthdate=ne2000", IGW_SEARCH_STRICT, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Patient", "family=a,b", IGW_SEARCH_STRICT, &op, err), IGW_EPARSE);
    IGWT_ERR(start(a, "Patient", "family=a&family=b", IGW_SEARCH_STRICT, &op, err), IGW_EPARSE);
    IGWT_OK(start(a, "Patient", "colour=blue&family=a", 0, &op, err));
    IGWT_CHECK(strstr(call_text(a, op), "colour") == NULL);
}

static void
test_token_nomatch(void)
{
    igw_arena *a = igwt_file_arena(0);
    igw_search_op *op = NULL;
    char err[IGW_ERRBUF_SIZE];
    struct igw_buf b;
    load();
    IGWT_OK(start(a, "Patient", "gender=unknown", 0, &op, err));
    igw_buf_init(&b, 1 << 20);
    IGWT_ERR(igw_search_next_call(op, &b), IGW_ENOENT);
    IGWT_OK(igw_search_bundle(op, "http://x/fhir", MAPS, &b, err, sizeof(err)));
    IGWT_CHECK(strstr(b.ptr, "\"entry\":[]") != NULL);
    igw_buf_fini(&b);
    IGWT_OK(start(a, "Patient", "gender=http://other|male", 0, &op, err));
    IGWT_CHECK(call_text(a, op) == NULL);
}

static void
test_chain_and_reference(void)
{
    igw_arena *a = igwt_file_arena(0);
    igw_search_op *op = NULL;
    char err[IGW_ERRBUF_SIZE];
    load();
    IGWT_OK(start(a, "Group", "member.family=Nk&member=Patient/abc-1&_include=Group:member", 0, &op,
                  err));
    const char *t = call_text(a, op);
    IGWT_CHECK(strstr(t, "members_LastName_Istartswith: \"Nk\"") != NULL);
    IGWT_CHECK(strstr(t, "members_Uuid: \"abc-1\"") != NULL);
    IGWT_CHECK(strstr(t, "members { edges { node { id uuid chfId lastName") != NULL);
    IGWT_OK(start(a, "Group", "member=Organization/x", 0, &op, err));
    IGWT_CHECK(call_text(a, op) == NULL); /* a reference to another type matches nothing */
}

/* A recorded insurees answer: records first..first+n-1 of a data set of total. */
static char *
insurees_answer(int first, int n, int total)
{
    struct igw_buf b;
    igw_buf_init(&b, 1 << 22);
    igw_buf_printf(&b,
                   "{\"data\":{\"insurees\":{\"totalCount\":%d,\"pageInfo\":{\"hasNextPage\":"
                   "%s},\"edges\":[",
                   total, first + n < total ? "true" : "false");
    for (int i = first; i < first + n && i < total; i++) {
        char gid[64], raw[64];
        snprintf(raw, sizeof(raw), "InsureeGQLType:%d", 1000 + i);
        (void)gid;
        igw_buf_printf(
            &b,
            "%s{\"node\":{\"id\":\"%s\",\"uuid\":\"u-%d\",\"chfId\":\"%09d\","
            "\"lastName\":\"Doe\",\"otherNames\":\"J\",\"dob\":\"1980-01-01\","
            "\"gender\":{\"code\":\"M\"},\"validityFrom\":\"2024-03-18T07:27:45\","
            "\"family\":{\"uuid\":\"f-%d\",\"headInsuree\":{\"chfId\":\"1\"},"
            "\"members\":{\"edges\":[{\"node\":{\"uuid\":\"u-%d\",\"chfId\":\"x\"}}]}}}}",
            i > first ? "," : "", "", i, i, i / 3, i);
    }
    igw_buf_puts(&b, "]}}}");
    return igw_buf_steal(&b, NULL);
}

/* Sets the relay id of every node: base64 of InsureeGQLType:<1000+i>. */
static char *
with_ids(char *s, int first)
{
    struct igw_buf b;
    igw_buf_init(&b, 1 << 22);
    int i = first;
    for (char *p = s; *p != '\0'; p++) {
        if (strncmp(p, "\"id\":\"\"", 7) == 0) {
            static const char A[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            char raw[64], enc[128];
            int n = snprintf(raw, sizeof(raw), "InsureeGQLType:%d", 1000 + i++), j = 0;
            for (int k = 0; k < n; k += 3) {
                unsigned v = (unsigned char)raw[k] << 16;
                v |= k + 1 < n ? (unsigned char)raw[k + 1] << 8 : 0;
                v |= k + 2 < n ? (unsigned char)raw[k + 2] : 0;
                enc[j++] = A[(v >> 18) & 63];
                enc[j++] = A[(v >> 12) & 63];
                enc[j++] = k + 1 < n ? A[(v >> 6) & 63] : '=';
                enc[j++] = k + 2 < n ? A[v & 63] : '=';
            }
            enc[j] = '\0';
            igw_buf_printf(&b, "\"id\":\"%s\"", enc);
            p += 6;
            continue;
        }
        igw_buf_putc(&b, *p);
    }
    free(s);
    return igw_buf_steal(&b, NULL);
}

/* The value of _cursor in the link of relation rel of a Bundle, or NULL. */
static const char *
link_cursor(igw_arena *a, const char *bundle, const char *rel)
{
    struct igw_node *root = NULL;
    IGWT_OK(igw_json_parse(a, bundle, strlen(bundle), NULL, &root, NULL));
    struct igw_node *links = igw_node_get(root, "link", 4);
    for (struct igw_node *l = links->first; l != NULL; l = l->next) {
        if (strcmp(igw_node_get(l, "relation", 8)->str, rel) == 0) {
            const char *c = strstr(igw_node_get(l, "url", 3)->str, "_cursor=");
            return c != NULL ? c + 8 : NULL;
        }
    }
    return NULL;
}

/* Runs one page: start at offset, feed the recorded data set (with `deleted` records removed
 * from the front before the page is fetched), return the Bundle text. */
static char *
page(igw_arena *a, const char *qs, int total, int shift)
{
    igw_search_op *op = NULL;
    char err[IGW_ERRBUF_SIZE];
    struct igw_buf b;
    IGWT_OK(start(a, "Patient", qs, 0, &op, err));
    for (;;) {
        const char *t = call_text(a, op);
        if (t == NULL) {
            break;
        }
        int first = 0, off = 0;
        const char *f = strstr(t, "first: ");
        const char *o = strstr(t, "offset: ");
        sscanf(f + 7, "%d", &first);
        sscanf(o + 8, "%d", &off);
        char *ans = with_ids(insurees_answer(off + shift, first, total), off + shift);
        IGWT_OK(igw_search_feed(op, ans, strlen(ans), err, sizeof(err)));
        free(ans);
    }
    igw_buf_init(&b, 1 << 24);
    IGWT_OK(igw_search_bundle(op, "http://h/fhir", MAPS, &b, err, sizeof(err)));
    return igw_buf_steal(&b, NULL);
}

static int
count_entries(const char *s, const char *mode)
{
    int n = 0;
    char pat[64];
    snprintf(pat, sizeof(pat), "\"mode\":\"%s\"", mode);
    for (const char *p = strstr(s, pat); p != NULL; p = strstr(p + 1, pat)) {
        n++;
    }
    return n;
}

static void
test_paging(void)
{
    igw_arena *a = igwt_file_arena(0);
    char qs[1024];
    load();
    /* _count 250 > the upstream's page of 100: three upstream calls */
    char *b1 = page(a, "_count=250&family=Do&_total=accurate", 600, 0);
    IGWT_CHECK(count_entries(b1, "match") == 250);
    IGWT_CHECK(strstr(b1, "\"total\":600") != NULL);
    IGWT_CHECK(strstr(b1, "\"fullUrl\":\"http://h/fhir/Patient/u-249\"") != NULL);
    const char *c = link_cursor(a, b1, "next");
    IGWT_ASSERT(c != NULL);
    IGWT_CHECK(link_cursor(a, b1, "previous") == NULL);
    /* the next page while 7 records before the position were deleted: no skip, no repeat */
    snprintf(qs, sizeof(qs), "_count=250&family=Do&_cursor=%s", c);
    char *b2 = page(a, qs, 600, 7);
    IGWT_CHECK(count_entries(b2, "match") == 250);
    IGWT_CHECK(strstr(b2, "Patient/u-250\"") != NULL);
    IGWT_CHECK(strstr(b2, "Patient/u-249\"") == NULL);
    IGWT_CHECK(strstr(b2, "Patient/u-499\"") != NULL);
    IGWT_CHECK(link_cursor(a, b2, "previous") != NULL);
    /* the last page, while 3 records were inserted before it (shift -3) */
    c = link_cursor(a, b2, "next");
    snprintf(qs, sizeof(qs), "_count=250&family=Do&_cursor=%s", c);
    char *b3 = page(a, qs, 600, -3);
    IGWT_CHECK(count_entries(b3, "match") == 100);
    IGWT_CHECK(strstr(b3, "Patient/u-500\"") != NULL);
    IGWT_CHECK(strstr(b3, "Patient/u-499\"") == NULL);
    IGWT_CHECK(link_cursor(a, b3, "next") == NULL);
    /* previous from the third page gives back the second */
    c = link_cursor(a, b3, "previous");
    IGWT_ASSERT(c != NULL);
    snprintf(qs, sizeof(qs), "_count=250&family=Do&_cursor=%s", c);
    char *b4 = page(a, qs, 600, 0);
    IGWT_CHECK(count_entries(b4, "match") == 250);
    IGWT_CHECK(strstr(b4, "Patient/u-250\"") != NULL);
    IGWT_CHECK(strstr(b4, "Patient/u-499\"") != NULL);
    free(b1);
    free(b2);
    free(b3);
    free(b4);
}

static void
test_bundle_extras(void)
{
    igw_arena *a = igwt_file_arena(0);
    load();
    char *b = page(a, "_count=4&colour=blue&_revinclude=Group:member&_elements=name", 10, 0);
    IGWT_CHECK(count_entries(b, "match") == 4);
    IGWT_CHECK(count_entries(b, "include") == 2); /* families f-0 and f-1 */
    IGWT_CHECK(count_entries(b, "outcome") == 1);
    IGWT_CHECK(strstr(b, "colour") != NULL);
    IGWT_CHECK(strstr(b, "\"birthDate\"") == NULL); /* _elements */
    IGWT_CHECK(strstr(b, "\"resourceType\":\"Group\"") != NULL);
    free(b);
    b = page(a, "_summary=count", 10, 0);
    IGWT_CHECK(strstr(b, "\"total\":10") != NULL);
    IGWT_CHECK(count_entries(b, "match") == 0);
    free(b);
}

static void
test_read(void)
{
    igw_arena *a = igwt_file_arena(0);
    igw_search_op *op = NULL;
    char err[IGW_ERRBUF_SIZE];
    struct igw_buf b;
    const char *etag = NULL, *lm = NULL;
    load();
    IGWT_ERR(igw_search_begin_read(&op, a, SET, "Patient", "bad id!", err, sizeof(err)),
             IGW_ENOENT);
    IGWT_OK(igw_search_begin_read(&op, a, SET, "Patient", "u-3", err, sizeof(err)));
    const char *t = call_text(a, op);
    IGWT_CHECK(strstr(t, "insurees(uuid: \"u-3\"") != NULL);
    char *ans = with_ids(insurees_answer(3, 1, 4), 3);
    IGWT_OK(igw_search_feed(op, ans, strlen(ans), err, sizeof(err)));
    free(ans);
    igw_buf_init(&b, 1 << 20);
    IGWT_OK(igw_search_read(op, MAPS, &b, &etag, &lm, err, sizeof(err)));
    IGWT_CHECK(strstr(b.ptr, "\"id\":\"u-3\"") != NULL);
    IGWT_STREQ(lm, "Mon, 18 Mar 2024 07:27:45 GMT");
    IGWT_CHECK(etag != NULL && strncmp(etag, "W/\"", 3) == 0);
    igw_buf_fini(&b);
    /* absent */
    IGWT_OK(igw_search_begin_read(&op, a, SET, "Patient", "nope", err, sizeof(err)));
    call_text(a, op);
    const char *none = "{\"data\":{\"insurees\":{\"pageInfo\":{\"hasNextPage\":false},"
                       "\"edges\":[]}}}";
    IGWT_OK(igw_search_feed(op, none, strlen(none), err, sizeof(err)));
    igw_buf_init(&b, 1 << 20);
    IGWT_ERR(igw_search_read(op, MAPS, &b, &etag, &lm, err, sizeof(err)), IGW_ENOENT);
    igw_buf_fini(&b);
    /* an upstream error */
    IGWT_OK(igw_search_begin_read(&op, a, SET, "Patient", "x", err, sizeof(err)));
    call_text(a, op);
    const char *bad = "{\"errors\":[{\"message\":\"unauthorized\"}],\"data\":{\"insurees\":null}}";
    IGWT_ERR(igw_search_feed(op, bad, strlen(bad), err, sizeof(err)), IGW_EIO);
    IGWT_CHECK(strstr(err, "unauthorized") != NULL);
}

static void
test_map_errors(void)
{
    igw_search_set *s = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    const char *t1 = "search Patient from insurees map m\nselect \"id\"\nid uuid\nkey id id relay\n"
                     "param x strng y\n";
    IGWT_OK(igw_search_set_new(&s));
    IGWT_ERR(igw_search_set_add(s, "f", t1, strlen(t1), err, sizeof(err)), IGW_ECONFIG);
    IGWT_STREQ(err, "f:5:9: unknown type 'strng'");
    const char *t2 = "select \"id\"\n";
    IGWT_ERR(igw_search_set_add(s, "f", t2, strlen(t2), err, sizeof(err)), IGW_EPARSE);
    const char *t3 = "search P from c map m\nselect \"id\nid u\n";
    IGWT_ERR(igw_search_set_add(s, "f", t3, strlen(t3), err, sizeof(err)), IGW_EPARSE);
    IGWT_STREQ(err, "f:2:8: unterminated string");
    IGWT_CHECK(igw_search_set_count(s) == 0);
    igw_search_set_free(s);
}

static void
test_unordered(void)
{
    igw_arena *a = igwt_file_arena(0);
    igw_search_set *s = NULL;
    igw_search_op *op = NULL;
    struct igw_search_query q;
    struct igw_buf b;
    char err[IGW_ERRBUF_SIZE] = "";
    const char *t = "search InsurancePlan from products map m\nselect \"id uuid\"\nid uuid\n"
                    "key id id relay unordered\nparam name string name\nsort name name name\n";
    IGWT_OK(igw_search_set_new(&s));
    IGWT_OK(igw_search_set_add(s, "f", t, strlen(t), err, sizeof(err)));
    IGWT_OK(igw_search_query_parse(a, "name=x&_sort=name", 17, &q, err, sizeof(err)));
    IGWT_ERR(igw_search_begin(&op, a, s, "InsurancePlan", &q, IGW_SEARCH_STRICT, err, sizeof(err)),
             IGW_EPARSE);
    IGWT_OK(igw_search_begin(&op, a, s, "InsurancePlan", &q, 0, err, sizeof(err)));
    igw_buf_init(&b, 1 << 20);
    IGWT_OK(igw_search_next_call(op, &b));
    IGWT_CHECK(strstr(b.ptr, "orderBy") == NULL);
    IGWT_CHECK(strstr(b.ptr, "products(name_Istartswith") != NULL);
    igw_buf_fini(&b);
    igw_search_set_free(s);
}

/* A uuid-keyed model (openIMIS's invoices): ids, _id and uuid=1 values that are not uuids match
 * nothing without a call; the record's relay id becomes the uuid inside it before the record
 * map runs. */
static void
test_uuid_keyed(void)
{
    igw_arena *a = igwt_file_arena(0);
    igw_search_op *op = NULL;
    char err[IGW_ERRBUF_SIZE];
    struct igw_buf b;
    const char *etag = NULL, *lm = NULL;
    const char *u = "a1000000-0000-4000-8000-000000000001";
    load();
    IGWT_ERR(igw_search_begin_read(&op, a, SET, "Invoice", "INV-0001", err, sizeof(err)),
             IGW_ENOENT);
    const char *none[] = {"_id=INV-1", "recipient=Patient/123", "recipient=x"};
    for (size_t i = 0; i < 3; i++) {
        IGWT_OK(start(a, "Invoice", none[i], 0, &op, err));
        igw_buf_init(&b, 1 << 16);
        IGWT_ERR(igw_search_next_call(op, &b), IGW_ENOENT); /* done: no call */
        igw_buf_fini(&b);
    }
    IGWT_OK(start(a, "PaymentNotice", "identifier=nope", 0, &op, err));
    igw_buf_init(&b, 1 << 16);
    IGWT_ERR(igw_search_next_call(op, &b), IGW_ENOENT);
    igw_buf_fini(&b);
    IGWT_OK(
        start(a, "Invoice", "recipient=Patient/E0000000-0000-4000-8000-000000000001", 0, &op, err));
    IGWT_CHECK(strstr(call_text(a, op), "thirdpartyId: \"E0000000-") != NULL);
    /* read: the id argument is the uuid, the answer's relay id decoded for the record map */
    IGWT_OK(igw_search_begin_read(&op, a, SET, "Invoice", u, err, sizeof(err)));
    IGWT_CHECK(strstr(call_text(a, op), "invoice(id: \"a1000000-") != NULL);
    /* base64("InvoiceGQLType:a1000000-0000-4000-8000-000000000001") */
    const char *ans =
        "{\"data\":{\"invoice\":{\"pageInfo\":{\"hasNextPage\":false},\"edges\":[{"
        "\"node\":{\"id\":\"SW52b2ljZUdRTFR5cGU6YTEwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAw"
        "MDAwMDAx\",\"code\":\"INV-0001\",\"status\":2,\"dateUpdated\":"
        "\"2024-01-15T09:00:00\"}}]}}}";
    IGWT_OK(igw_search_feed(op, ans, strlen(ans), err, sizeof(err)));
    igw_buf_init(&b, 1 << 20);
    IGWT_OK(igw_search_read(op, MAPS, &b, &etag, &lm, err, sizeof(err)));
    IGWT_CHECK(strstr(b.ptr, "\"id\":\"a1000000-0000-4000-8000-000000000001\"") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"status\":\"balanced\"") != NULL);
    IGWT_STREQ(lm, "Mon, 15 Jan 2024 09:00:00 GMT");
    igw_buf_fini(&b);
}

static void
count_params(void *arg, const char *res, const char *param, const char *type, const char *doc)
{
    (void)res;
    (void)doc;
    if (strcmp(param, "birthdate") == 0) {
        IGWT_STREQ(type, "date");
    }
    (*(int *)arg)++;
}

static void
test_params_list(void)
{
    int n = 0;
    load();
    igw_search_map_params(igw_search_set_find(SET, "Patient"), count_params, &n);
    IGWT_CHECK(n == 9);
    atexit(unload);
}

IGWT_MAIN({"query_parse", test_query_parse}, {"plan_types", test_plan_types},
          {"plan_errors", test_plan_errors}, {"token_nomatch", test_token_nomatch},
          {"chain_and_reference", test_chain_and_reference}, {"paging", test_paging},
          {"bundle_extras", test_bundle_extras}, {"read", test_read},
          {"map_errors", test_map_errors}, {"unordered", test_unordered},
          {"uuid_keyed", test_uuid_keyed}, {"params_list", test_params_list})
