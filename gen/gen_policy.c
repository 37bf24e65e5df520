/* SPDX-License-Identifier: Apache-2.0 */
/* igw gen: a family's policies (with premiums, the invoice and the payment of each) and its
 * members' claims with their items and services. Distributions: docs/SYNTHETIC-DATA.md. */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "gen_int.h"

/* claims per covered insuree: Poisson(1), per million, capped at 12 */
static const unsigned claims_w[] = {367879, 367879, 183940, 61313, 15328, 3066, 511,
                                    73,     9,      1,      1,     1,     1};

static uint32_t
pick_product(struct igw_gen *g, const struct gen_family *f)
{
    static const unsigned w[] = {40, 25, 35};
    uint32_t region = g->loc[1][f->district].parent;
    size_t k = gen_rng_weighted(&g->rng, w, 3);

    if (k < 2 || region + 2 >= g->nproduct) {
        return (uint32_t)(k < 2 ? k : 0);
    }
    return region + 2;
}

static void
cover(struct igw_gen *g, struct gen_family *f, struct gen_policy *p)
{
    const struct gen_product *pr = &g->product[p->product];
    unsigned n = 0;

    p->covered = 0;
    p->value = pr->lump_sum;
    for (unsigned i = 0; i < f->n && n < pr->max_members; i++) {
        if (f->m[i].status != GEN_ST_AC) {
            continue;
        }
        p->covered |= 1u << i;
        n++;
        if (pr->lump_sum == 0) {
            p->value += f->m[i].age >= 18 ? pr->premium_adult : pr->premium_child;
        }
    }
}

static void
set_status(struct igw_gen *g, struct gen_policy *p)
{
    if (p->effective < 0) {
        p->status = 1;
    } else if (p->expiry < gen_ref_day()) {
        p->status = 8;
    } else {
        p->status = gen_rng_chance(&g->rng, 20) ? 4 : 2;
    }
}

static void
draw_policies(struct igw_gen *g, struct gen_family *f)
{
    int32_t first = gen_days(2023, 1, 1);
    int32_t last = gen_ref_day() - 30;
    struct gen_policy *p = &f->p[0];

    f->npol = 0;
    if (!gen_rng_chance(&g->rng, 850)) {
        return;
    }
    memset(p, 0, sizeof(*p));
    gen_rng_uuid(&g->rng, p->uuid);
    p->product = pick_product(g, f);
    p->officer = 2 * f->district + (uint32_t)gen_rng_below(&g->rng, 2);
    p->enroll = first + (int32_t)gen_rng_below(&g->rng, (uint64_t)(last - first));
    p->start = p->enroll + (int32_t)gen_rng_below(&g->rng, 31);
    p->expiry = p->start + 364;
    p->effective = gen_rng_chance(&g->rng, 40) ? -1 : p->start;
    p->stage = 'N';
    set_status(g, p);
    cover(g, f, p);
    f->npol = 1;
    if (p->status == 8 && gen_rng_chance(&g->rng, 300)) {
        struct gen_policy *q = &f->p[1];

        *q = *p;
        gen_rng_uuid(&g->rng, q->uuid);
        q->stage = 'R';
        q->start = p->expiry + 1;
        q->enroll = p->expiry - (int32_t)gen_rng_below(&g->rng, 31);
        q->expiry = q->start + 364;
        q->effective = q->start;
        set_status(g, q);
        f->npol = 2;
    }
}

static void
w_premiums(struct igw_gen *g, const struct gen_family *f, const struct gen_policy *p,
           int32_t *last_pay)
{
    static const char *const pay[] = {"C", "M", "B"};
    static const unsigned pay_w[] = {60, 30, 10};
    struct gen_w *w = &g->w;
    unsigned n = p->effective < 0                                                       ? 0
                 : g->product[p->product].lump_sum == 0 && gen_rng_chance(&g->rng, 300) ? 2
                                                                                        : 1;
    int64_t left = p->value;
    char buf[32];

    IGW_UNUSED(f);
    gen_w_arr_begin(w, "premiums");
    for (unsigned i = 0; i < n; i++) {
        int64_t amount = i + 1 < n ? left / 2 : left;
        char uuid[37];
        int32_t day =
            p->enroll + (int32_t)gen_rng_below(&g->rng, (uint64_t)(p->start - p->enroll) + 1);

        left -= amount;
        gen_rng_uuid(&g->rng, uuid);
        gen_w_obj_begin(w, NULL);
        gen_w_str(w, "uuid", uuid);
        gen_w_money(w, "amount", amount);
        gen_w_date(w, "payDate", day);
        snprintf(buf, sizeof(buf), "RC%08u", (unsigned)gen_rng_below(&g->rng, 100000000));
        gen_w_str(w, "receipt", buf);
        gen_w_str(w, "payType", pay[gen_rng_weighted(&g->rng, pay_w, 3)]);
        gen_w_obj_end(w);
        *last_pay = day > *last_pay ? day : *last_pay;
    }
    gen_w_arr_end(w);
}

static int
emit_policy(struct igw_gen *g, const struct gen_family *f, const struct gen_policy *p,
            int32_t *last_pay)
{
    struct gen_w *w = &g->w;
    const struct gen_product *pr = &g->product[p->product];
    char stage[2] = {p->stage, '\0'};
    char code[16];

    gen_w_begin(w, "policy");
    gen_w_int(w, "id", (int64_t)++g->next_policy);
    gen_w_str(w, "uuid", p->uuid);
    gen_w_obj_begin(w, "family");
    gen_w_str(w, "uuid", f->uuid);
    gen_w_obj_begin(w, "headInsuree");
    gen_w_str(w, "uuid", f->m[0].uuid);
    gen_w_str(w, "chfId", f->m[0].chf);
    gen_w_obj_end(w);
    gen_w_obj_end(w);
    gen_w_obj_begin(w, "product");
    gen_w_str(w, "uuid", pr->uuid);
    gen_w_str(w, "code", pr->code);
    gen_w_str(w, "name", pr->name);
    gen_w_obj_end(w);
    snprintf(code, sizeof(code), "EO%04u", (unsigned)(p->officer + 1) % 100000);
    gen_w_ref(w, "officer", g->officer[p->officer].uuid, code);
    gen_w_str(w, "stage", stage);
    gen_w_int(w, "status", p->status);
    gen_w_money(w, "value", p->value);
    gen_w_date(w, "enrollDate", p->enroll);
    gen_w_date(w, "startDate", p->start);
    if (p->effective < 0) {
        gen_w_null(w, "effectiveDate");
    } else {
        gen_w_date(w, "effectiveDate", p->effective);
    }
    gen_w_date(w, "expiryDate", p->expiry);
    gen_w_arr_begin(w, "insurees");
    for (unsigned i = 0; i < f->n; i++) {
        if (p->covered & (1u << i)) {
            gen_w_ref(w, NULL, f->m[i].uuid, NULL);
        }
    }
    gen_w_arr_end(w);
    w_premiums(g, f, p, last_pay);
    gen_w_datetime(w, "validityFrom", p->enroll, 36000);
    gen_w_null(w, "validityTo");
    return gen_emit(g, "policy");
}

static int
emit_invoice(struct igw_gen *g, const struct gen_family *f, const struct gen_policy *p,
             char inv_uuid[37])
{
    struct gen_w *w = &g->w;
    char code[24];

    gen_rng_uuid(&g->rng, inv_uuid);
    snprintf(code, sizeof(code), "INV-%06llu", (unsigned long long)++g->next_invoice);
    gen_w_begin(w, "invoice");
    gen_w_str(w, "id", inv_uuid);
    gen_w_bool(w, "isBill", false);
    gen_w_str(w, "code", code);
    gen_w_str(w, "subjectType", "family");
    gen_w_str(w, "subjectId", f->uuid);
    gen_w_str(w, "thirdpartyType", "insuree");
    gen_w_str(w, "thirdpartyId", f->m[0].uuid);
    gen_w_date(w, "dateInvoice", p->enroll);
    gen_w_money(w, "amountNet", p->value);
    gen_w_money(w, "amountTotal", p->value);
    gen_w_str(w, "currencyCode", "USD");
    gen_w_int(w, "status", p->effective < 0 ? 0 : 2);
    gen_w_null(w, "note");
    gen_w_arr_begin(w, "lineItems");
    gen_w_obj_begin(w, NULL);
    gen_w_str(w, "code", g->product[p->product].code);
    gen_w_str(w, "lineType", "policy");
    gen_w_str(w, "lineId", p->uuid);
    gen_w_int(w, "quantity", 1);
    gen_w_money(w, "unitPrice", p->value);
    gen_w_int(w, "discount", 0);
    gen_w_int(w, "deduction", 0);
    gen_w_null(w, "taxRate");
    gen_w_obj_end(w);
    gen_w_arr_end(w);
    gen_w_datetime(w, "dateCreated", p->enroll, 36000);
    return gen_emit(g, "invoice");
}

static int
emit_payment(struct igw_gen *g, const struct gen_family *f, const struct gen_policy *p,
             const char *inv_uuid, int32_t day)
{
    struct gen_w *w = &g->w;
    char uuid[37];
    char buf[32];

    gen_rng_uuid(&g->rng, uuid);
    gen_w_begin(w, "payment");
    gen_w_str(w, "id", uuid);
    snprintf(buf, sizeof(buf), "RCP%09u", (unsigned)gen_rng_below(&g->rng, 1000000000));
    gen_w_str(w, "codeReceipt", buf);
    gen_w_int(w, "reconciliationStatus", gen_rng_chance(&g->rng, 900) ? 1 : 0);
    gen_w_money(w, "amountReceived", p->value);
    gen_w_date(w, "datePayment", day);
    gen_w_datetime(w, "dateCreated", day, 50400);
    gen_w_str(w, "payerRef", f->m[0].chf);
    gen_w_arr_begin(w, "invoicePayments");
    gen_w_obj_begin(w, NULL);
    gen_w_str(w, "subjectType", "invoice");
    gen_w_str(w, "subjectId", inv_uuid);
    gen_w_int(w, "status", 1);
    gen_w_money(w, "amount", p->value);
    gen_w_obj_end(w);
    gen_w_arr_end(w);
    return gen_emit(g, "payment");
}

int
gen_policies(struct igw_gen *g, struct gen_family *f)
{
    int rv = IGW_OK;

    draw_policies(g, f);
    for (unsigned i = 0; i < f->npol && rv == IGW_OK; i++) {
        struct gen_policy *p = &f->p[i];
        int32_t last_pay = p->enroll;
        char inv[37];

        rv = emit_policy(g, f, p, &last_pay);
        if (rv == IGW_OK) {
            rv = emit_invoice(g, f, p, inv);
        }
        if (rv == IGW_OK && p->effective >= 0) {
            rv = emit_payment(g, f, p, inv, last_pay);
        }
    }
    return rv;
}

/* ---- claims ---- */

struct claim {
    int32_t from, to, claimed_day, processed; /* to / processed -1: null */
    int status;
    bool inpatient;
    uint32_t hf;
    const struct gen_policy *policy;
};

static int
claim_status(struct igw_gen *g, int32_t claimed_day)
{
    static const int recent[] = {2, 4};
    static const unsigned recent_w[] = {70, 30};
    static const int old[] = {1, 2, 4, 8, 16};
    static const unsigned old_w[] = {8, 5, 10, 35, 42};

    if (claimed_day > gen_ref_day() - 30) {
        return recent[gen_rng_weighted(&g->rng, recent_w, 2)];
    }
    return old[gen_rng_weighted(&g->rng, old_w, 5)];
}

static int32_t
min32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

/* Draws the claim's dates in the policy's insured period; false when that period is empty. */
static bool
draw_claim(struct igw_gen *g, const struct gen_family *f, const struct gen_member *m,
           const struct gen_policy *p, struct claim *c)
{
    int32_t lo = p->effective;
    int32_t hi = min32(p->expiry, gen_ref_day());
    int32_t end;

    lo = lo > gen_days(2024, 1, 1) ? lo : gen_days(2024, 1, 1);
    lo = lo > m->dob ? lo : m->dob + 1;
    if (lo > hi) {
        return false;
    }
    c->policy = p;
    c->from = lo + (int32_t)gen_rng_below(&g->rng, (uint64_t)(hi - lo) + 1);
    c->hf = gen_rng_chance(&g->rng, 750) ? m->hf : f->district;
    c->inpatient = g->hf[c->hf].hospital && gen_rng_chance(&g->rng, 200);
    if (c->inpatient) {
        c->to = min32(c->from + (int32_t)gen_rng_range(&g->rng, 1, 10), gen_ref_day());
    } else {
        c->to = gen_rng_chance(&g->rng, 500) ? -1 : c->from;
    }
    end = c->to < 0 ? c->from : c->to;
    c->claimed_day = min32(end + (int32_t)gen_rng_below(&g->rng, 15), gen_ref_day());
    c->status = claim_status(g, c->claimed_day);
    c->processed =
        c->status == 1 || c->status >= 8
            ? min32(c->claimed_day + (int32_t)gen_rng_range(&g->rng, 1, 30), gen_ref_day())
            : -1;
    return true;
}

static size_t
pick_row(struct gen_rng *r, const struct gen_catalogue_row *rows, size_t n)
{
    unsigned w[64];

    for (size_t i = 0; i < n && i < 64; i++) {
        w[i] = rows[i].weight;
    }
    return gen_rng_weighted(r, w, n < 64 ? n : 64);
}

/* One claim line; adds to the claimed and approved totals. */
static void
w_line(struct igw_gen *g, const struct claim *c, const char *ref_key, const char *uuid,
       const struct gen_catalogue_row *row, int64_t qty, uint64_t id, int64_t *claimed,
       int64_t *approved)
{
    struct gen_w *w = &g->w;
    bool decided = c->status == 1 || c->status >= 8;
    bool rejected = c->status == 1 || (decided && gen_rng_chance(&g->rng, 50));

    gen_w_obj_begin(w, NULL);
    gen_w_int(w, "id", (int64_t)id);
    gen_w_ref(w, ref_key, uuid, row->code);
    gen_w_int(w, "qtyProvided", qty);
    gen_w_money(w, "priceAsked", row->price);
    if (decided && !rejected) {
        gen_w_money(w, "priceApproved", row->price);
        *approved += qty * row->price;
    } else {
        gen_w_null(w, "priceApproved");
    }
    gen_w_int(w, "status", rejected ? 2 : 1);
    gen_w_obj_end(w);
    *claimed += qty * row->price;
}

static void
w_lines(struct igw_gen *g, const struct claim *c, int64_t *claimed, int64_t *approved)
{
    static const unsigned nserv_w[] = {20, 50, 22, 8};
    unsigned nitems = 1 + (unsigned)gen_rng_below(&g->rng, 4);
    unsigned nserv = (unsigned)gen_rng_weighted(&g->rng, nserv_w, 4);

    gen_w_arr_begin(&g->w, "items");
    for (unsigned i = 0; i < nitems; i++) {
        size_t k = pick_row(&g->rng, gen_items, gen_nitems);
        int64_t qty =
            gen_items[k].type == 'D' ? gen_rng_range(&g->rng, 1, 30) : gen_rng_range(&g->rng, 1, 3);

        w_line(g, c, "item", g->item[k].uuid, &gen_items[k], qty, ++g->next_claim_item, claimed,
               approved);
    }
    gen_w_arr_end(&g->w);
    gen_w_arr_begin(&g->w, "services");
    if (c->inpatient) {
        size_t k = 24; /* F1: inpatient day */

        w_line(g, c, "service", g->service[k].uuid, &gen_services[k], c->to - c->from,
               ++g->next_claim_service, claimed, approved);
    }
    for (unsigned i = 0; i < nserv; i++) {
        size_t k = pick_row(&g->rng, gen_services, gen_nservices);

        w_line(g, c, "service", g->service[k].uuid, &gen_services[k], 1, ++g->next_claim_service,
               claimed, approved);
    }
    gen_w_arr_end(&g->w);
}

static void
w_icd(struct igw_gen *g, const char *key)
{
    size_t k = pick_row(&g->rng, gen_diagnoses, gen_ndiagnoses);

    gen_w_obj_begin(&g->w, key);
    gen_w_str(&g->w, "code", gen_diagnoses[k].code);
    gen_w_str(&g->w, "name", gen_diagnoses[k].name);
    gen_w_obj_end(&g->w);
}

static int
emit_claim(struct igw_gen *g, const struct gen_member *m, const struct claim *c)
{
    static const char *const visit[] = {"O", "E", "R"};
    static const unsigned visit_w[] = {80, 12, 8};
    static const char *const why[] = {"Referred by a community health worker",
                                      "Follow-up of a previous visit", "Night emergency"};
    struct gen_w *w = &g->w;
    const struct gen_hf *hf = &g->hf[c->hf];
    int64_t claimed = 0;
    int64_t approved = 0;
    char code[24];
    char uuid[37];

    gen_rng_uuid(&g->rng, uuid);
    snprintf(code, sizeof(code), "CL%08llu", (unsigned long long)++g->next_claim);
    gen_w_begin(w, "claim");
    gen_w_int(w, "id", (int64_t)g->next_claim);
    gen_w_str(w, "uuid", uuid);
    gen_w_str(w, "code", code);
    gen_w_date(w, "dateClaimed", c->claimed_day);
    gen_w_date(w, "dateFrom", c->from);
    if (c->to < 0) {
        gen_w_null(w, "dateTo");
    } else {
        gen_w_date(w, "dateTo", c->to);
    }
    if (c->processed < 0) {
        gen_w_null(w, "dateProcessed");
    } else {
        gen_w_date(w, "dateProcessed", c->processed);
    }
    gen_w_str(w, "visitType", visit[gen_rng_weighted(&g->rng, visit_w, 3)]);
    gen_w_str(w, "careType", c->inpatient ? "I" : "O");
    gen_w_int(w, "status", c->status);
    gen_w_obj_begin(w, "insuree");
    gen_w_str(w, "uuid", m->uuid);
    gen_w_str(w, "chfId", m->chf);
    gen_w_obj_end(w);
    gen_w_ref(w, "healthFacility", hf->uuid, hf->code);
    gen_w_ref(w, "admin", hf->admin_uuid, hf->admin_code);
    gen_w_ref(w, "policy", c->policy->uuid, NULL);
    w_icd(g, "icd");
    if (gen_rng_chance(&g->rng, 200)) {
        w_icd(g, "icd1");
    } else {
        gen_w_null(w, "icd1");
    }
    gen_w_str(w, "explanation",
              gen_rng_chance(&g->rng, 100) ? why[gen_rng_below(&g->rng, 3)] : NULL);
    w_lines(g, c, &claimed, &approved);
    gen_w_money(w, "claimed", claimed);
    if (c->status >= 8) {
        gen_w_money(w, "approved", approved);
    } else {
        gen_w_null(w, "approved");
    }
    gen_w_datetime(w, "validityFrom", c->claimed_day, 39600);
    gen_w_null(w, "validityTo");
    return gen_emit(g, "claim");
}

int
gen_claims(struct igw_gen *g, struct gen_family *f)
{
    int rv = IGW_OK;

    for (unsigned i = 0; i < f->n && rv == IGW_OK; i++) {
        const struct gen_member *m = &f->m[i];
        const struct gen_policy *cov[GEN_MAX_POLICIES];
        unsigned ncov = 0;
        size_t k;

        for (unsigned j = 0; j < f->npol; j++) {
            if (f->p[j].effective >= 0 && (f->p[j].covered & (1u << i)) != 0) {
                cov[ncov++] = &f->p[j];
            }
        }
        if (ncov == 0) {
            continue;
        }
        k = gen_rng_weighted(&g->rng, claims_w, IGW_ARRAY_LEN(claims_w));
        for (size_t c = 0; c < k && rv == IGW_OK; c++) {
            struct claim cl;

            if (draw_claim(g, f, m, cov[gen_rng_below(&g->rng, ncov)], &cl)) {
                rv = emit_claim(g, m, &cl);
            }
        }
    }
    return rv;
}
