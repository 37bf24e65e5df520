/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of dci_query_walk (gateway/dialect/dci/dci_query.c): the conditions a DCI query becomes,
 * written as "attr op v1|v2 ..." lines: idtype-value, predicates with and / or / not, the
 * operator in (a comma-separated string in a predicate, an array in $in), NoSql $and / $or /
 * $ne / $not, and the refusals with their reasons (an or across attributes or of ordered
 * operators, not in, $nor, query text). */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/common.h"
#include "igw/json.h"
#include "dialect/dci/dci_int.h"
#include "igwt.h"

static char OUT[2048];

static int
collect(void *arg, const char *attr, const char *op, const struct igw_node *const *vals, size_t n,
        const char **why)
{
    size_t len = strlen(OUT);
    (void)arg;
    (void)why;
    len +=
        (size_t)snprintf(OUT + len, sizeof(OUT) - len, "%s%s %s ", len > 0 ? "; " : "", attr, op);
    for (size_t i = 0; i < n && len < sizeof(OUT); i++) {
        const struct igw_node *v = vals[i];
        len += (size_t)snprintf(OUT + len, sizeof(OUT) - len, "%s%.*s", i > 0 ? "|" : "",
                                v != NULL ? (int)v->len : 4, v != NULL ? v->str : "null");
    }
    return IGW_OK;
}

/* Walks the search_criteria JSON crit; OUT gets the conditions, *why the refusal. */
static int
walk(const char *crit, const char **why)
{
    igw_arena *a = NULL;
    struct igw_node *root = NULL;
    int rv;

    OUT[0] = '\0';
    *why = NULL;
    IGWT_ERR(igw_arena_new(&a, 1u << 20), IGW_OK);
    IGWT_ERR(igw_json_parse(a, crit, strlen(crit), NULL, &root, NULL), IGW_OK);
    rv = dci_query_walk(root, collect, NULL, why);
    igw_arena_free(a);
    return rv;
}

#define E(a, o, v) "{\"attribute_name\":\"" a "\",\"operator\":\"" o "\",\"attribute_value\":" v "}"
#define PRED(...) "{\"query_type\":\"predicate\",\"query\":[" __VA_ARGS__ "]}"
#define NOSQL(q)                                                                                   \
    "{\"query_type\":\"expression\",\"query\":{\"type\":\"ns:org:QueryType:NoSql\",\"value\":"     \
    "{\"expression\":{\"collection\":\"Person\",\"query\":" q "}}}}"

static void
ok(const char *crit, const char *want)
{
    const char *why = NULL;
    int rv = walk(crit, &why);
    if (rv != IGW_OK || strcmp(OUT, want) != 0) {
        fprintf(stderr, "  %s\n  -> %d %s [%s], want [%s]\n", crit, rv, why ? why : "", OUT, want);
    }
    IGWT_CHECK(rv == IGW_OK && strcmp(OUT, want) == 0);
}

static void
refused(const char *crit, const char *reason)
{
    const char *why = NULL;
    int rv = walk(crit, &why);
    if (rv != IGW_EPARSE || why == NULL || strstr(why, reason) == NULL) {
        fprintf(stderr, "  %s\n  -> %d %s, want a refusal with \"%s\"\n", crit, rv,
                why ? why : "(no reason)", reason);
    }
    IGWT_CHECK(rv == IGW_EPARSE && why != NULL && strstr(why, reason) != NULL);
}

static void
test_and(void)
{
    ok("{\"query_type\":\"idtype-value\",\"query\":{\"type\":\"UIN\",\"value\":\"1\"}}",
       "UIN eq 1");
    ok(PRED("{\"expression1\":" E("surname", "eq",
                                  "\"Doe\"") ",\"condition\":\"and\","
                                             "\"expression2\":" E("birth_date", "ge",
                                                                  "\"1980-01-01\"") "}"),
       "surname eq Doe; birth_date ge 1980-01-01");
    ok(PRED("{\"expression1\":" E("a", "eq", "\"1\"") "},{\"expression1\":" E("b", "lt",
                                                                              "\"2\"") "}"),
       "a eq 1; b lt 2");
    ok(NOSQL("{\"$and\":[{\"surname\":\"Doe\"},{\"birth_date\":{\"$gte\":\"1980-01-01\"}}]}"),
       "surname eq Doe; birth_date ge 1980-01-01");
}

static void
test_in_and_or(void)
{
    ok(PRED("{\"expression1\":" E("UIN", "in", "\"1, 2 ,3\"") "}"), "UIN in 1|2|3");
    ok(PRED("{\"expression1\":" E("UIN", "in", "\"7\"") "}"), "UIN eq 7");
    ok(PRED("{\"expression1\":" E("UIN", "eq", "\"1\"") ",\"condition\":\"or\","
                                                        "\"expression2\":" E("UIN", "in",
                                                                             "\"2,3\"") "}"),
       "UIN in 1|2|3");
    ok(NOSQL("{\"UIN\":{\"$in\":[\"1\",\"2\"]}}"), "UIN in 1|2");
    ok(NOSQL("{\"$or\":[{\"surname\":\"A\"},{\"surname\":{\"$in\":[\"B\",\"C\"]}}],"
             "\"sex\":\"male\"}"),
       "surname in A|B|C; sex eq male");
    /* an or without a second expression is its first (the samples' tolerance) */
    ok(PRED("{\"expression1\":" E("a", "eq", "\"1\"") ",\"condition\":\"or\"}"), "a eq 1");
}

static void
test_not(void)
{
    ok(PRED("{\"expression1\":" E("sex", "eq", "\"male\"") ",\"condition\":\"not\","
                                                           "\"expression2\":" E("UIN", "eq",
                                                                                "\"1\"") "}"),
       "sex eq male; UIN ne 1");
    ok(PRED("{\"expression1\":" E("birth_date", "gt", "\"1970-01-01\"") ",\"condition\":\"not\"}"),
       "birth_date le 1970-01-01");
    ok(PRED("{\"expression1\":" E("d", "ge", "\"x\"") ",\"condition\":\"NOT\"}"), "d lt x");
    ok(NOSQL("{\"sex\":{\"$ne\":\"male\"},\"d\":{\"$not\":{\"$lt\":\"x\"}}}"),
       "sex ne male; d ge x");
}

static void
test_refusals(void)
{
    refused(PRED("{\"expression1\":" E("a", "eq", "\"1\"") ",\"condition\":\"or\","
                                                           "\"expression2\":" E("b", "eq",
                                                                                "\"2\"") "}"),
            "same attribute");
    refused(PRED("{\"expression1\":" E("d", "gt", "\"1\"") ",\"condition\":\"or\","
                                                           "\"expression2\":" E("d", "lt",
                                                                                "\"0\"") "}"),
            "eq or in only");
    refused(PRED("{\"expression1\":" E("a", "in", "\"1,2\"") ",\"condition\":\"not\"}"), "not in");
    refused(PRED("{\"expression1\":" E("a", "in", "\" , \"") "}"), "at least one value");
    refused(PRED("{\"expression1\":" E("a", "eq", "\"1\"") ",\"condition\":\"xor\"}"),
            "and, or or not");
    refused(NOSQL("{\"$nor\":[{\"a\":\"1\"}]}"), "$and and $or");
    refused(NOSQL("{\"$or\":[{\"a\":\"1\"},{\"b\":\"2\"}]}"), "same attribute");
    refused(NOSQL("{\"$or\":[{\"a\":\"1\",\"b\":\"2\"}]}"), "each member of $or");
    refused(NOSQL("{\"a\":{\"$nin\":[\"1\"]}}"), "unknown operator");
    refused(NOSQL("{\"a\":[\"1\",\"2\"]}"), "needs the operator in");
    refused("{\"query_type\":\"expression\",\"query\":{\"value\":{\"expression\":\"a = 1\"}}}",
            "not query text");
}

static void
test_too_many_values(void)
{
    char crit[4096], list[1024];
    size_t n = 0;
    for (int i = 0; i < 65; i++) {
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d", i > 0 ? "," : "", i);
    }
    snprintf(crit, sizeof(crit), PRED("{\"expression1\":" E("a", "in", "\"%s\"") "}"), list);
    refused(crit, "at most 64");
}

IGWT_MAIN({"and", test_and}, {"in_and_or", test_in_and_or}, {"not", test_not},
          {"refusals", test_refusals}, {"too_many_values", test_too_many_values})
