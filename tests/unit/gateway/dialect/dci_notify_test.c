/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DCI notify matching (gateway/dialect/dci/dci_notify_match.c): event words of a request,
 * a stored subscription against a route's want (partner, record type, reg_type, event type,
 * start time) and the filter (idtype-value, predicate, NoSql expression) against DCI records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "igwt.h"
#include "igw/arena.h"
#include "igw/config.h"
#include "igw/json.h"
#include "igw/queue.h"
#include "delivery/output.h"
#include "dialect/dci/dci_notify.h"
#include "dialect/dci/dci_subs.h"

static igw_arena *A;

static const struct igw_node *
J(const char *text)
{
    struct igw_node *n = NULL;
    IGWT_ASSERT(igw_json_parse(A, text, strlen(text), NULL, &n, NULL) == IGW_OK);
    return n;
}

static const char PERSON[] =
    "{\"identifier\":[{\"identifier_type\":\"CHFID\",\"identifier_value\":\"070707070\"},"
    "{\"identifier_type\":\"openimis_uuid\",\"identifier_value\":\"u-1\"}],"
    "\"name\":{\"surname\":\"Doe\",\"given_name\":\"Jane\"},\"sex\":\"female\","
    "\"birth_date\":\"1990-04-01\",\"phone_number\":[\"+2551\",\"+2552\"]}";

/* A stored subscription of spmis.example.org with the given criteria members. */
static const struct igw_node *
sub(const char *criteria)
{
    char buf[2048];
    snprintf(buf, sizeof(buf),
             "{\"version\":\"1.0.0\",\"code\":\"c-1\",\"status\":\"subscribe\","
             "\"timestamp\":\"2026-01-01T00:00:00Z\",\"partner\":\"spmis.example.org\"%s%s}",
             criteria[0] != '\0' ? "," : "", criteria);
    return J(buf);
}

static const struct dci_notify_want WANT = {"spmis.example.org", "Person",
                                            "ns:org:RegistryType:Social", "UPDATE"};
#define NOW 1796000000 /* 2026-11-29 */

static void
test_event_words(void)
{
    IGWT_STREQ(dci_notify_event_word("insuree-created", 15), "REGISTER");
    IGWT_STREQ(dci_notify_event_word("Created", 7), "REGISTER");
    IGWT_STREQ(dci_notify_event_word("register", 8), "REGISTER");
    IGWT_STREQ(dci_notify_event_word("family_updated", 14), "UPDATE");
    IGWT_STREQ(dci_notify_event_word("UPDATE", 6), "UPDATE");
    IGWT_STREQ(dci_notify_event_word("insuree-deleted", 15), "DEREGISTER");
    IGWT_STREQ(dci_notify_event_word("deregister", 10), "DEREGISTER");
    IGWT_CHECK(dci_notify_event_word("insuree", 7) == NULL);
    IGWT_CHECK(dci_notify_event_word("", 0) == NULL);
    IGWT_CHECK(dci_notify_event_word(NULL, 3) == NULL);
    IGWT_CHECK(dci_notify_event_word("x-", 2) == NULL);
}

static void
test_criteria(void)
{
    const struct igw_node *rec = J(PERSON);
    struct dci_notify_want other = WANT;

    IGWT_CHECK(dci_notify_match(&WANT, sub(""), rec, NOW)); /* no criteria: any */
    IGWT_CHECK(dci_notify_match(&WANT, sub("\"notify_record_type\":\"person\""), rec, NOW));
    IGWT_CHECK(!dci_notify_match(&WANT, sub("\"notify_record_type\":\"Group\""), rec, NOW));
    IGWT_CHECK(
        !dci_notify_match(&WANT, sub("\"reg_type\":\"ns:org:RegistryType:CRVS\""), rec, NOW));
    IGWT_CHECK(
        dci_notify_match(&WANT, sub("\"reg_type\":\"ns:org:RegistryType:Social\""), rec, NOW));
    IGWT_CHECK(dci_notify_match(&WANT, sub("\"reg_event_type\":\"ALL\""), rec, NOW));
    IGWT_CHECK(dci_notify_match(&WANT, sub("\"reg_event_type\":\"update\""), rec, NOW));
    IGWT_CHECK(dci_notify_match(&WANT, sub("\"reg_event_type\":\"spdci:RegistryEventType:UPDATE\""),
                                rec, NOW));
    IGWT_CHECK(!dci_notify_match(&WANT, sub("\"reg_event_type\":\"REGISTER\""), rec, NOW));
    /* not started yet; started */
    IGWT_CHECK(!dci_notify_match(
        &WANT, sub("\"frequency\":{\"start_time\":\"2099-01-01T00:00:00Z\"}"), rec, NOW));
    IGWT_CHECK(dci_notify_match(
        &WANT, sub("\"frequency\":{\"start_time\":\"2026-01-01T00:00:00+01:00\"}"), rec, NOW));
    /* another partner's subscription */
    other.subscriber = "other.example.org";
    IGWT_CHECK(!dci_notify_match(&other, sub(""), rec, NOW));
    IGWT_CHECK(!dci_notify_match(&WANT, NULL, rec, NOW));
    IGWT_CHECK(!dci_notify_match(&WANT, sub(""), NULL, NOW));
}

static bool
filter(const char *crit)
{
    return dci_notify_filter(sub(crit), J(PERSON));
}

static void
test_filters(void)
{
    /* idtype-value: UIN names the CHFID; other identifier types by name */
    IGWT_CHECK(filter("\"filter_type\":\"idtype-value\","
                      "\"filter\":{\"type\":\"UIN\",\"value\":\"070707070\"}"));
    IGWT_CHECK(!filter("\"filter_type\":\"idtype-value\","
                       "\"filter\":{\"type\":\"UIN\",\"value\":\"080808080\"}"));
    IGWT_CHECK(filter("\"filter_type\":\"idtype-value\","
                      "\"filter\":{\"type\":\"openimis_uuid\",\"value\":\"u-1\"}"));
    IGWT_CHECK(!filter("\"filter_type\":\"idtype-value\","
                       "\"filter\":{\"type\":\"PPN\",\"value\":\"u-1\"}"));
    /* predicate with and */
    IGWT_CHECK(filter("\"filter_type\":\"predicate\",\"filter\":[{\"expression1\":"
                      "{\"attribute_name\":\"surname\",\"operator\":\"eq\","
                      "\"attribute_value\":\"Doe\"},\"condition\":\"and\",\"expression2\":"
                      "{\"attribute_name\":\"birth_date\",\"operator\":\"ge\","
                      "\"attribute_value\":\"1990-01-01\"}}]"));
    IGWT_CHECK(!filter("\"filter_type\":\"predicate\",\"filter\":[{\"expression1\":"
                       "{\"attribute_name\":\"surname\",\"operator\":\"eq\","
                       "\"attribute_value\":\"Doe\"},\"condition\":\"and\",\"expression2\":"
                       "{\"attribute_name\":\"birth_date\",\"operator\":\"lt\","
                       "\"attribute_value\":\"1990-01-01T00:00:00Z\"}}]"));
    /* or is not evaluated: matches nothing */
    IGWT_CHECK(!filter("\"filter_type\":\"predicate\",\"filter\":[{\"expression1\":"
                       "{\"attribute_name\":\"surname\",\"operator\":\"eq\","
                       "\"attribute_value\":\"Doe\"},\"condition\":\"or\",\"expression2\":"
                       "{\"attribute_name\":\"sex\",\"operator\":\"eq\","
                       "\"attribute_value\":\"male\"}}]"));
    /* in; a list member (any phone number); an attribute the record lacks */
    IGWT_CHECK(filter("\"filter\":[{\"expression1\":{\"attribute_name\":\"sex\",\"operator\":"
                      "\"in\",\"attribute_value\":[\"male\",\"female\"]}}]"));
    IGWT_CHECK(filter("\"filter\":[{\"expression1\":{\"attribute_name\":\"phone_number\","
                      "\"operator\":\"eq\",\"attribute_value\":\"+2552\"}}]"));
    IGWT_CHECK(!filter("\"filter\":[{\"expression1\":{\"attribute_name\":\"email\","
                       "\"operator\":\"eq\",\"attribute_value\":\"a@b\"}}]"));
    /* NoSql expression */
    IGWT_CHECK(filter("\"filter_type\":\"expression\",\"filter\":{\"type\":\"ns:org:QueryType:"
                      "NoSql\",\"value\":{\"expression\":{\"collection\":\"Person\",\"query\":"
                      "{\"$and\":[{\"given_name\":\"Jane\"},{\"birth_date\":{\"$lte\":"
                      "\"1990-04-01\"}}]}}}}"));
    /* $or on one attribute is its list of values; across attributes it is refused: no match */
    IGWT_CHECK(filter("\"filter_type\":\"expression\",\"filter\":{\"type\":\"ns:org:QueryType:"
                      "NoSql\",\"value\":{\"expression\":{\"query\":{\"$or\":[{\"given_name\":"
                      "\"Ann\"},{\"given_name\":\"Jane\"}]}}}}"));
    IGWT_CHECK(!filter("\"filter_type\":\"expression\",\"filter\":{\"type\":\"ns:org:QueryType:"
                       "NoSql\",\"value\":{\"expression\":{\"query\":{\"$or\":[{\"given_name\":"
                       "\"Jane\"},{\"sex\":\"male\"}]}}}}"));
    /* $ne: the record's value differs */
    IGWT_CHECK(filter("\"filter_type\":\"expression\",\"filter\":{\"type\":\"ns:org:QueryType:"
                      "NoSql\",\"value\":{\"expression\":{\"query\":{\"sex\":{\"$ne\":"
                      "\"male\"}}}}}"));
    IGWT_CHECK(!filter("\"filter_type\":\"expression\",\"filter\":{\"type\":\"ns:org:QueryType:"
                       "NoSql\",\"value\":{\"expression\":{\"query\":{\"sex\":{\"$ne\":"
                       "\"female\"}}}}}"));
    /* query text is not evaluated */
    IGWT_CHECK(!filter("\"filter_type\":\"expression\",\"filter\":{\"type\":\"ns:org:QueryType:"
                       "GraphQl\",\"value\":{\"expression\":\"{ insurees { id } }\"}}"));
    /* no filter: any */
    IGWT_CHECK(filter("\"filter\":null"));
}

static void
test_member_and_group(void)
{
    const struct igw_node *member = J("{\"member_identifier\":[{\"identifier_type\":\"CHFID\","
                                      "\"identifier_value\":\"1\"}],\"demographic_info\":"
                                      "{\"name\":{\"surname\":\"Roe\"}}}");
    const struct igw_node *group =
        J("{\"group_identifier\":[{\"identifier_type\":\"openimis_uuid\",\"identifier_value\":"
          "\"g-1\"}],\"group_head_info\":{\"demographic_info\":{\"name\":{\"surname\":\"Poe\"}}}}");
    const struct igw_node *by_uin =
        sub("\"filter_type\":\"idtype-value\",\"filter\":{\"type\":\"UIN\",\"value\":\"1\"}");
    const struct igw_node *by_name = sub("\"filter\":[{\"expression1\":{\"attribute_name\":"
                                         "\"surname\",\"operator\":\"eq\",\"attribute_value\":"
                                         "\"Poe\"}}]");

    IGWT_CHECK(dci_notify_filter(by_uin, member));
    IGWT_CHECK(!dci_notify_filter(by_uin, group));
    IGWT_CHECK(dci_notify_filter(by_name, group));
    IGWT_CHECK(!dci_notify_filter(by_name, member));
}

static void
setup(void)
{
    IGWT_ASSERT(igw_arena_new(&A, 1u << 20) == IGW_OK);
}

static void
run_event_words(void)
{
    test_event_words();
}

static void
run_criteria(void)
{
    setup();
    test_criteria();
    igw_arena_free(A);
}

static void
run_filters(void)
{
    setup();
    test_filters();
    igw_arena_free(A);
}

static void
run_member_and_group(void)
{
    setup();
    test_member_and_group();
    igw_arena_free(A);
}

/* ---- the body hook over a real store ------------------------------------------------------- */

static const char SUBSCRIBE[] =
    "{\"header\":{\"message_id\":\"m-1\",\"action\":\"subscribe\",\"sender_id\":"
    "\"spmis.example.org\"},\"message\":{\"transaction_id\":\"t-1\",\"subscribe_request\":["
    "{\"reference_id\":\"r-1\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"subscribe_criteria\":"
    "{\"reg_event_type\":\"ALL\",\"notify_record_type\":\"Person\",\"filter_type\":"
    "\"idtype-value\",\"filter\":{\"type\":\"UIN\",\"value\":\"070707070\"},\"frequency\":"
    "{\"start_time\":\"2026-01-01T00:00:00Z\",\"end_time\":\"2099-01-01T00:00:00Z\"}}},"
    "{\"reference_id\":\"r-2\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"subscribe_criteria\":"
    "{\"reg_event_type\":\"REGISTER\",\"notify_record_type\":\"Person\",\"filter\":null}}]}}";

static int
hook(struct igw_route *r, const char *meta, const char *payload, struct igw_buf *out, char *err)
{
    struct igw_queue_claim c;
    int rv;

    memset(&c, 0, sizeof(c));
    c.id = 0x2a;
    igw_buf_init(&c.meta, 4096);
    IGWT_ASSERT(igw_buf_puts(&c.meta, meta) == IGW_OK);
    igw_buf_init(out, 1u << 20);
    rv = igw_dci_notify_body.body(r, &c, payload, strlen(payload), out, err, IGW_ERRBUF_SIZE);
    igw_buf_fini(&c.meta);
    return rv;
}

static void
run_body_hook(void)
{
    char dir[] = "/tmp/igw-dcin-XXXXXX", path[64], err[IGW_ERRBUF_SIZE] = "", code1[37];
    char url[] = "callback:spmis", shortn[] = "n", rt[] = "Person", subr[] = "spmis.example.org";
    char store[64];
    struct igw_route r;
    struct igw_buf out;
    struct igw_node *env = NULL;
    dci_subs *s = NULL;

    IGWT_ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/subs", dir);
    snprintf(store, sizeof(store), "%s", path);
    IGWT_ASSERT(dci_subs_open(path, &s, err, sizeof(err)) == IGW_OK);
    IGWT_ASSERT(dci_subs_apply(s, SUBSCRIBE, strlen(SUBSCRIBE), err, sizeof(err)) == IGW_OK);
    IGWT_ASSERT(dci_subs_code("spmis.example.org", "m-1", "r-1", code1) == IGW_OK);
    memset(&r, 0, sizeof(r));
    r.url = url;
    r.short_name = shortn;
    r.notify_store = store;
    r.notify_record_type = rt;
    r.notify_subscriber = subr;
    setup();

    /* an update of the subscribed CHFID: one item (the REGISTER-only subscription is left out) */
    IGWT_CHECK(hook(&r, "{\"method\":\"POST\",\"target\":\"/ev/insuree-updated\"}", PERSON, &out,
                    err) == IGW_OK);
    IGWT_ASSERT(igw_json_parse(A, out.ptr, out.len, NULL, &env, NULL) == IGW_OK);
    const struct igw_node *h = igw_node_get(env, "header", 6);
    const struct igw_node *items =
        igw_node_get(igw_node_get(env, "message", 7), "notify_event", 12);
    IGWT_STREQ(igw_node_get(h, "action", 6)->str, "notify");
    IGWT_STREQ(igw_node_get(h, "message_id", 10)->str, "notify-000000000000002a-n");
    IGWT_STREQ(igw_node_get(h, "receiver_id", 11)->str, "spmis.example.org");
    IGWT_CHECK(igw_node_get(env, "signature", 9) == NULL); /* the route does not sign */
    IGWT_ASSERT(items != NULL && items->count == 1);
    IGWT_STREQ(igw_node_get(items->first, "subscription_code", 17)->str, code1);
    const struct igw_node *data = igw_node_get(items->first, "data", 4);
    IGWT_STREQ(igw_node_get(data, "reg_event_type", 14)->str, "UPDATE");
    IGWT_STREQ(igw_node_get(data, "reg_record_type", 15)->str, "Person");
    IGWT_CHECK(igw_node_get(data, "reg_records", 11)->count == 1);
    igw_buf_fini(&out);

    /* a REGISTER (path parameter) matches both */
    IGWT_CHECK(hook(&r, "{\"method\":\"POST\",\"params\":{\"event\":\"created\"}}", PERSON, &out,
                    err) == IGW_OK);
    IGWT_ASSERT(igw_json_parse(A, out.ptr, out.len, NULL, &env, NULL) == IGW_OK);
    items = igw_node_get(igw_node_get(env, "message", 7), "notify_event", 12);
    IGWT_CHECK(items != NULL && items->count == 2);
    IGWT_CHECK(igw_node_get(igw_node_get(env, "header", 6), "total_count", 11)->num == 2);
    igw_buf_fini(&out);

    /* another record, an UPDATE: nothing matches, skip */
    IGWT_CHECK(hook(&r, "{\"method\":\"PUT\",\"target\":\"/ev/x\"}",
                    "{\"identifier\":[{\"identifier_type\":\"CHFID\",\"identifier_value\":"
                    "\"1\"}]}",
                    &out, err) == IGW_BODY_SKIP);
    IGWT_STREQ(err, "no subscription");
    igw_buf_fini(&out);

    /* another partner's route: skip */
    char other[] = "other.example.org";
    r.notify_subscriber = other;
    IGWT_CHECK(hook(&r, "{\"target\":\"/ev/insuree-created\"}", PERSON, &out, err) ==
               IGW_BODY_SKIP);
    igw_buf_fini(&out);
    r.notify_subscriber = subr;

    /* no event type; not a record */
    IGWT_CHECK(hook(&r, "{\"method\":\"POST\",\"target\":\"/ev/insuree\"}", PERSON, &out, err) ==
               IGW_EINVAL);
    igw_buf_fini(&out);
    IGWT_CHECK(hook(&r, "{\"target\":\"/ev/created\"}", "[1,2]", &out, err) == IGW_EINVAL);
    igw_buf_fini(&out);

    /* unsubscribed: the next attempt skips */
    char unsub[512];
    snprintf(unsub, sizeof(unsub),
             "{\"header\":{\"message_id\":\"m-2\",\"action\":\"unsubscribe\",\"sender_id\":"
             "\"spmis.example.org\"},\"message\":{\"subscription_codes\":[\"%s\"]}}",
             code1);
    IGWT_ASSERT(dci_subs_apply(s, unsub, strlen(unsub), err, sizeof(err)) == IGW_OK);
    IGWT_CHECK(hook(&r, "{\"target\":\"/ev/insuree-updated\"}", PERSON, &out, err) ==
               IGW_BODY_SKIP);
    igw_buf_fini(&out);

    igw_arena_free(A);
    dci_subs_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    IGWT_CHECK(system(cmd) == 0);
}

IGWT_MAIN({"event_words", run_event_words}, {"criteria", run_criteria}, {"filters", run_filters},
          {"member_and_group", run_member_and_group}, {"body_hook", run_body_hook})
