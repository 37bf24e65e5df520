/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DCI notify matching (gateway/dialect/dci/dci_notify_match.c): event words of a request,
 * a stored subscription against a route's want (partner, record type, reg_type, event type,
 * start time) and the filter (idtype-value, predicate, NoSql expression) against DCI records.
 */
#include <string.h>

#include "igwt.h"
#include "igw/arena.h"
#include "igw/json.h"
#include "dialect/dci/dci_notify.h"

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
    IGWT_CHECK(!filter("\"filter_type\":\"expression\",\"filter\":{\"type\":\"ns:org:QueryType:"
                       "NoSql\",\"value\":{\"expression\":{\"query\":{\"$or\":[{\"given_name\":"
                       "\"Jane\"}]}}}}"));
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

IGWT_MAIN({"event_words", run_event_words}, {"criteria", run_criteria}, {"filters", run_filters},
          {"member_and_group", run_member_and_group})
