/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer driver for the FHIR search query-string parser and the plan it feeds: parse the
 * input as a query string, start a Patient and a Group search on built-in search maps, build
 * the GraphQL call, and decode any _cursor it carries. Nothing may crash or leak; every
 * accepted query must give a call that is valid JSON. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "igw/common.h"
#include "igw/doc.h"
#include "igw/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char PATIENT[] =
    "search Patient from insurees map p\n"
    "select \"id uuid lastName dob family { uuid }\"\n"
    "id uuid\nkey id id relay\nupdated validityFrom\n"
    "param family string lastName\nparam birthdate date dob\n"
    "param gender token gender_Code values=male:M,female:F system=http://x\n"
    "param phone token phone text=phone_Icontains in=phone_In\n"
    "param amount quantity claimed system=TZS\nparam n number value\n"
    "param org reference healthFacility_Uuid target=Group chain=family\n"
    "sort family lastName lastName\nsort birthdate dob dob\n"
    "revinclude Group:member family Group\n";
static const char GROUP[] =
    "search Group from families map g\nselect \"id uuid\"\nid uuid\nkey id id relay\n"
    "param name string headInsuree_LastName\n"
    "param member reference members_Uuid target=Patient chain=members\n"
    "include Group:member members* Patient\n";

static igw_search_set *SET;

static void
run(igw_arena *a, const struct igw_search_query *q, const char *type, unsigned flags)
{
    igw_search_op *op = NULL;
    char err[IGW_ERRBUF_SIZE];
    struct igw_buf b;
    struct igw_node *root = NULL;
    if (igw_search_begin(&op, a, SET, type, q, flags, err, sizeof(err)) != IGW_OK) {
        return;
    }
    igw_buf_init(&b, 4u << 20);
    if (igw_search_next_call(op, &b) == IGW_OK &&
        igw_json_parse(a, b.ptr, b.len, NULL, &root, NULL) != IGW_OK) {
        igw_panic("search: the GraphQL call is not JSON");
    }
    igw_buf_fini(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    igw_arena *a = NULL;
    struct igw_search_query q;
    char err[IGW_ERRBUF_SIZE];
    if (SET == NULL) {
        if (igw_search_set_new(&SET) != IGW_OK ||
            igw_search_set_add(SET, "p", PATIENT, strlen(PATIENT), err, sizeof(err)) != IGW_OK ||
            igw_search_set_add(SET, "g", GROUP, strlen(GROUP), err, sizeof(err)) != IGW_OK) {
            igw_panic("search: built-in maps do not compile: %s", err);
        }
    }
    if (igw_arena_new(&a, 64u << 20) != IGW_OK) {
        return 0;
    }
    if (igw_search_query_parse(a, (const char *)data, size, &q, err, sizeof(err)) == IGW_OK) {
        run(a, &q, "Patient", 0);
        run(a, &q, "Group", IGW_SEARCH_STRICT);
    }
    igw_arena_free(a);
    return 0;
}
