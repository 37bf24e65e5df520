/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The payroll dialect (dialect: payroll; docs/PAYMENTS.md, 1): openIMIS's payroll.approved
 * event. Refuses at intake, in the plain JSON error shape, what is certain to fail: no
 * event_id or payroll uuid, no benefits, a benefit without a code, an amount that is not a
 * decimal with 1..13 integer digits and at most 2 places (or has a fraction in a currency
 * without minor units), an unknown ISO 4217 currency, two benefits with one code, totals that
 * overflow. Amounts are rewritten in the tree, before the route's map runs, in the G2P
 * Connect form (^\d{1,13}\.\d{2}$), exactly (integer minor units). The message's idempotency
 * key is payroll:<event_id>. Answers are plain's (202 {"id","status"}).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/common.h"
#include "igw/decimal.h"
#include "igw/err.h"
#include "http/http.h"
#include "core/ingest.h"
#include "dialect/dialect.h"
#include "payments/ledger.h"
#include "payments/pay_int.h"

#define EVENT_ID_MAX 200

static bool
id_ok(const struct igw_node *n, size_t max)
{
    if (n == NULL || n->type != IGW_NODE_STRING || n->len == 0 || n->len > max) {
        return false;
    }
    for (size_t i = 0; i < n->len; i++) {
        char c = n->str[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':')) {
            return false;
        }
    }
    return true;
}

static int
payroll_key(const struct igw_ingest *in, char *key, size_t keylen)
{
    const struct igw_node *ev = igw_node_get(in->root, "event_id", 8);

    if (!id_ok(ev, EVENT_ID_MAX)) {
        return IGW_ENOENT; /* check_input refuses it with a reason */
    }
    snprintf(key, keylen, "payroll:%.*s", (int)ev->len, ev->str);
    return IGW_OK;
}

static int
refuse(struct igw_ingest *in, const char *code, const char *msg, char *err, size_t errlen)
{
    igw_buf_reset(&in->errbody);
    if (igw_http_error_json(&in->errbody, 400, code, msg) != IGW_OK) {
        igw_buf_reset(&in->errbody);
        return IGW_ENOMEM;
    }
    in->errstatus = 400;
    in->errtype = "application/json";
    igw_errbuf_set(err, errlen, "%s: %s", code, msg);
    return IGW_EPARSE;
}

static int
cmp_code(const void *a, const void *b)
{
    const struct igw_node *x = *(const struct igw_node *const *)a;
    const struct igw_node *y = *(const struct igw_node *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->str, y->str, n);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* The amount of benefit b checked and rewritten as "<int>.<2 digits>" (a STRING node). */
static int
amount(struct igw_ingest *in, struct igw_node *b, const struct igw_node *code, int minor,
       int64_t *total, char *msg, size_t msglen)
{
    struct igw_node *a = igw_node_get(b, "amount", 6);
    char txt[IGW_DEC_STRLEN];
    int64_t v;
    int rv;

    if (a == NULL || (a->type != IGW_NODE_STRING && a->type != IGW_NODE_NUMBER)) {
        snprintf(msg, msglen, "benefit %.*s: amount must be a decimal string such as \"50.00\"",
                 (int)code->len, code->str);
        return IGW_EINVAL;
    }
    rv = igw_dec_parse(a->str, a->len, &v);
    if (rv != IGW_OK) {
        snprintf(msg, msglen,
                 "benefit %.*s: amount \"%.*s\" is not a decimal with 1 to 13 integer digits and "
                 "at most 2 decimal places",
                 (int)code->len, code->str, (int)(a->len > 40 ? 40 : a->len), a->str);
        return IGW_EINVAL;
    }
    if (minor == 0 && v % 100 != 0) {
        snprintf(msg, msglen, "benefit %.*s: the currency has no minor unit; amount \"%.*s\"",
                 (int)code->len, code->str, (int)a->len, a->str);
        return IGW_EINVAL;
    }
    if (igw_dec_add(total, v) != IGW_OK) {
        snprintf(msg, msglen, "the payroll's total overflows");
        return IGW_EINVAL;
    }
    (void)igw_dec_format(v, txt);
    {
        char *s = igw_arena_strndup(in->x.arena, txt, strlen(txt));
        if (s == NULL) {
            return IGW_ENOMEM;
        }
        a->type = IGW_NODE_STRING;
        a->str = s;
        a->len = (uint32_t)strlen(s);
    }
    return IGW_OK;
}

static int
payroll_check(struct igw_ingest *in, char *err, size_t errlen)
{
    /* the tree is this request's, in its arena: amounts are normalised in place */
    struct igw_node *root = (struct igw_node *)(uintptr_t)in->root;
    const struct igw_node *pr = igw_node_get(root, "payroll", 7);
    const struct igw_node *cur = igw_node_get(pr, "currency", 8);
    struct igw_node *list = igw_node_get(root, "benefits", 8);
    const struct igw_node **codes;
    char msg[256];
    int64_t total = 0;
    int minor = 2;
    size_t n = 0;
    int rv = IGW_OK;

    if (root == NULL || root->type != IGW_NODE_OBJECT) {
        return refuse(in, "invalid_payroll", "the body must be a JSON object (a payroll event)",
                      err, errlen);
    }
    {
        const struct igw_node *ev = igw_node_get(root, "event", 5);
        if (ev != NULL && (ev->type != IGW_NODE_STRING || ev->len != 16 ||
                           memcmp(ev->str, "payroll.approved", 16) != 0)) {
            return refuse(in, "unsupported_event",
                          "event must be payroll.approved (the only payroll event igw pays)", err,
                          errlen);
        }
    }
    if (!id_ok(igw_node_get(root, "event_id", 8), EVENT_ID_MAX)) {
        return refuse(in, "invalid_payroll",
                      "event_id is required: 1 to 200 characters of [A-Za-z0-9._:-]", err, errlen);
    }
    if (!id_ok(igw_node_get(pr, "uuid", 4), IGW_LEDGER_ID_MAX - 1)) {
        return refuse(in, "invalid_payroll",
                      "payroll.uuid is required: 1 to 63 characters of [A-Za-z0-9._:-]", err,
                      errlen);
    }
    if (cur == NULL || cur->type != IGW_NODE_STRING ||
        !igw_currency_known(cur->str, cur->len, &minor)) {
        return refuse(in, "invalid_currency",
                      "payroll.currency must be an ISO 4217 code such as \"TZS\"", err, errlen);
    }
    if (list == NULL || list->type != IGW_NODE_ARRAY || list->count == 0) {
        return refuse(in, "invalid_payroll", "benefits must be a non-empty array", err, errlen);
    }
    codes = igw_arena_alloc(in->x.arena, list->count * sizeof(*codes));
    if (codes == NULL) {
        return IGW_ENOMEM;
    }
    for (struct igw_node *b = list->first; b != NULL; b = b->next) {
        const struct igw_node *code = igw_node_get(b, "code", 4);
        if (b->type != IGW_NODE_OBJECT || code == NULL || code->type != IGW_NODE_STRING ||
            code->len == 0 || code->len >= IGW_LEDGER_REF_MAX) {
            snprintf(msg, sizeof(msg), "benefits[%zu]: code is required (1 to 99 characters)", n);
            return refuse(in, "invalid_payroll", msg, err, errlen);
        }
        rv = amount(in, b, code, minor, &total, msg, sizeof(msg));
        if (rv == IGW_ENOMEM) {
            return rv;
        }
        if (rv != IGW_OK) {
            return refuse(in, "invalid_amount", msg, err, errlen);
        }
        codes[n++] = code;
    }
    qsort(codes, n, sizeof(*codes), cmp_code);
    for (size_t i = 1; i < n; i++) {
        if (cmp_code(&codes[i - 1], &codes[i]) == 0) {
            snprintf(msg, sizeof(msg), "benefit code %.*s appears more than once",
                     (int)codes[i]->len, codes[i]->str);
            return refuse(in, "duplicate_benefit", msg, err, errlen);
        }
    }
    return IGW_OK;
}

const struct igw_dialect_ops igw_dialect_payroll = {
    .name = "payroll",
    .description = "openIMIS payroll events for the payment flow: amounts, currency and benefit "
                   "checks, event_id idempotency, plain JSON answers",
    .message_key = payroll_key,
    .check_input = payroll_check,
};
