/* SPDX-License-Identifier: Apache-2.0 */
/* igw gen: the generator object and the catalogue written before the families (locations,
 * health facilities and their claim administrators, officers, diagnoses, medical items and
 * services, products). Stream order and fields: docs/SYNTHETIC-DATA.md. */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "gen_int.h"

#define GEN_RECORD_MAX (1u << 20) /* one record; a family group writes one record at a time */

static const char *const level_type = "RDWV";

int
igw_gen_new(igw_gen **out, const struct igw_gen_opts *opts)
{
    struct igw_gen *g;

    if (out == NULL || opts == NULL || opts->insurees == 0 ||
        opts->insurees > IGW_GEN_MAX_INSUREES) {
        return IGW_EINVAL;
    }
    g = IGW_NEW(struct igw_gen);
    if (g == NULL) {
        return IGW_ENOMEM;
    }
    g->o = *opts;
    gen_rng_seed(&g->rng, opts->seed);
    igw_buf_init(&g->w.b, GEN_RECORD_MAX);
    *out = g;
    return IGW_OK;
}

void
igw_gen_free(igw_gen *g)
{
    if (g == NULL) {
        return;
    }
    for (size_t i = 0; i < 4; i++) {
        igw_free(g->loc[i]);
    }
    igw_free(g->hf);
    igw_free(g->officer);
    igw_free(g->diag);
    igw_free(g->item);
    igw_free(g->service);
    igw_buf_fini(&g->w.b);
    igw_free(g);
}

uint64_t
igw_gen_insurees_done(const igw_gen *g)
{
    return g == NULL ? 0 : g->done;
}

int
gen_emit(struct igw_gen *g, const char *kind)
{
    gen_w_end(&g->w);
    if (g->w.err != IGW_OK) {
        return g->w.err;
    }
    g->stop = g->fn(g->arg, kind, g->w.b.ptr, g->w.b.len);
    return g->stop;
}

void
gen_place_name(struct gen_rng *r, unsigned c, char *out, size_t n)
{
    const struct gen_culture *cu = &gen_cultures[c % GEN_NCULTURES];
    size_t k = 2 + (size_t)gen_rng_below(r, 2);
    size_t len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < k; i++) {
        const char *s = cu->syllable[gen_rng_below(r, cu->nsyllable)];
        size_t sl = strlen(s);

        if (len + sl + 1 > n) {
            break;
        }
        memcpy(out + len, s, sl + 1);
        len += sl;
    }
    if (out[0] >= 'a' && out[0] <= 'z') {
        out[0] = (char)(out[0] - 'a' + 'A');
    }
}

static uint32_t
max_u32(uint64_t a, uint64_t b)
{
    return (uint32_t)(a > b ? a : b);
}

/* Sizes the four levels from the number of insurees (docs/SYNTHETIC-DATA.md). */
static void
size_locations(struct igw_gen *g)
{
    uint64_t v = (g->o.insurees + 999) / 1000;
    uint64_t w = (v + 7) / 8;
    uint64_t d = (w + 5) / 6;
    uint64_t r = (d + 4) / 5;

    g->nloc[0] = max_u32(r, 3);
    g->nloc[1] = max_u32(d, 2ull * g->nloc[0]);
    g->nloc[2] = max_u32(w, 2ull * g->nloc[1]);
    g->nloc[3] = max_u32(v, 3ull * g->nloc[2]);
}

static int
emit_location(struct igw_gen *g, unsigned lvl, uint32_t i, uint64_t id)
{
    struct gen_loc *l = &g->loc[lvl][i];
    struct gen_w *w = &g->w;
    int64_t scale = lvl == 3 ? 1 : lvl == 2 ? 8 : lvl == 1 ? 48 : 240;
    char type[2] = {level_type[lvl], '\0'};

    gen_w_begin(w, "location");
    gen_w_int(w, "id", (int64_t)id);
    gen_w_str(w, "uuid", l->uuid);
    gen_w_str(w, "code", l->code);
    gen_w_str(w, "name", l->name);
    gen_w_str(w, "type", type);
    if (lvl == 0) {
        gen_w_null(w, "parent");
    } else {
        struct gen_loc *p = &g->loc[lvl - 1][l->parent];
        char ptype[2] = {level_type[lvl - 1], '\0'};

        gen_w_obj_begin(w, "parent");
        gen_w_str(w, "uuid", p->uuid);
        gen_w_str(w, "code", p->code);
        gen_w_str(w, "type", ptype);
        gen_w_obj_end(w);
    }
    gen_w_int(w, "malePopulation", scale * gen_rng_range(&g->rng, 400, 2500));
    gen_w_int(w, "femalePopulation", scale * gen_rng_range(&g->rng, 420, 2600));
    gen_w_int(w, "otherPopulation", scale * gen_rng_range(&g->rng, 0, 20));
    gen_w_datetime(w, "validityFrom", gen_days(2018, 1, 1), 0);
    gen_w_null(w, "validityTo");
    return gen_emit(g, "location");
}

/* Builds and writes the hierarchy: children of a parent are contiguous, codes nest. */
static int
gen_locations(struct igw_gen *g)
{
    uint64_t id = 0;
    int rv;

    size_locations(g);
    for (unsigned lvl = 0; lvl < 4; lvl++) {
        uint32_t n = g->nloc[lvl];
        uint32_t local = 0;
        uint32_t prev = UINT32_MAX;

        g->loc[lvl] = igw_calloc(n, sizeof(struct gen_loc));
        if (g->loc[lvl] == NULL) {
            return IGW_ENOMEM;
        }
        for (uint32_t i = 0; i < n; i++) {
            struct gen_loc *l = &g->loc[lvl][i];

            gen_rng_uuid(&g->rng, l->uuid);
            if (lvl == 0) {
                l->culture = (uint8_t)((g->o.seed + i) % GEN_NCULTURES);
                snprintf(l->code, sizeof(l->code), "R%u", (unsigned)i + 1);
            } else {
                struct gen_loc *p;

                l->parent = (uint32_t)((uint64_t)i * g->nloc[lvl - 1] / n);
                p = &g->loc[lvl - 1][l->parent];
                local = l->parent == prev ? local + 1 : 1;
                prev = l->parent;
                l->culture = p->culture;
                snprintf(l->code, sizeof(l->code), "%.18s%c%u", p->code, level_type[lvl],
                         (unsigned)local);
            }
            gen_place_name(&g->rng, l->culture, l->name, sizeof(l->name));
            rv = emit_location(g, lvl, i, ++id);
            if (rv != IGW_OK) {
                return rv;
            }
        }
    }
    return IGW_OK;
}

static void
person_name(struct gen_rng *r, unsigned culture, bool female, const char **last, const char **other)
{
    const struct gen_culture *c = &gen_cultures[culture % GEN_NCULTURES];

    *last = c->surname[gen_rng_below(r, c->nsurname)];
    *other = female ? c->female[gen_rng_below(r, c->nfemale)] : c->male[gen_rng_below(r, c->nmale)];
}

static int
emit_hf(struct igw_gen *g, uint32_t i, const char *ward_name)
{
    static const unsigned legal_w[] = {70, 15, 15};
    static const char *const legal[] = {"G", "C", "P"};
    struct gen_hf *h = &g->hf[i];
    struct gen_loc *d = &g->loc[1][h->district];
    struct gen_w *w = &g->w;
    bool centre = !h->hospital && gen_rng_chance(&g->rng, 300);
    char name[96];
    char buf[64];

    snprintf(name, sizeof(name), "%s %s", h->hospital ? d->name : ward_name,
             h->hospital ? "District Hospital"
             : centre    ? "Health Centre"
                         : "Dispensary");
    gen_w_begin(w, "healthFacility");
    gen_w_int(w, "id", (int64_t)i + 1);
    gen_w_str(w, "uuid", h->uuid);
    gen_w_str(w, "code", h->code);
    gen_w_str(w, "name", name);
    snprintf(buf, sizeof(buf), "AC%s", h->code + 2);
    gen_w_str(w, "accCode", buf);
    gen_w_obj_begin(w, "legalForm");
    gen_w_str(w, "code", h->hospital ? "G" : legal[gen_rng_weighted(&g->rng, legal_w, 3)]);
    gen_w_obj_end(w);
    gen_w_str(w, "level", h->hospital ? "H" : centre ? "C" : "D");
    gen_w_str(w, "careType", h->hospital ? "B" : centre ? "B" : "O");
    gen_w_obj_begin(w, "location");
    gen_w_str(w, "uuid", d->uuid);
    gen_w_str(w, "code", d->code);
    gen_w_str(w, "name", d->name);
    gen_w_obj_end(w);
    snprintf(buf, sizeof(buf), "P.O. Box %u, %s", (unsigned)gen_rng_range(&g->rng, 1, 999),
             d->name);
    gen_w_str(w, "address", buf);
    snprintf(buf, sizeof(buf), "%s%08u", gen_cultures[d->culture].phone_prefix,
             (unsigned)gen_rng_below(&g->rng, 100000000));
    gen_w_str(w, "phone", buf);
    gen_w_null(w, "fax");
    snprintf(buf, sizeof(buf), "%s@health.example.org", h->code);
    gen_w_str(w, "email", buf);
    gen_w_str(w, "status", "AC");
    gen_w_datetime(w, "validityFrom", gen_days(2018, 6, 1), 0);
    gen_w_null(w, "validityTo");
    return gen_emit(g, "healthFacility");
}

static int
emit_person(struct igw_gen *g, const char *kind, uint64_t id, const char *uuid, const char *code,
            unsigned culture, const char *ref_key, const char *ref_uuid, const char *ref_code)
{
    struct gen_w *w = &g->w;
    const char *last;
    const char *other;
    char phone[32];

    person_name(&g->rng, culture, gen_rng_chance(&g->rng, 400), &last, &other);
    gen_w_begin(w, kind);
    gen_w_int(w, "id", (int64_t)id);
    gen_w_str(w, "uuid", uuid);
    gen_w_str(w, "code", code);
    gen_w_str(w, "lastName", last);
    gen_w_str(w, "otherNames", other);
    if (strcmp(kind, "officer") == 0) {
        snprintf(phone, sizeof(phone), "%s%08u", gen_cultures[culture].phone_prefix,
                 (unsigned)gen_rng_below(&g->rng, 100000000));
        gen_w_str(w, "phone", phone);
    }
    gen_w_ref(w, ref_key, ref_uuid, ref_code);
    gen_w_datetime(w, "validityFrom", gen_days(2018, 6, 1), 0);
    gen_w_null(w, "validityTo");
    return gen_emit(g, kind);
}

/* District hospitals (index = district), then one facility per ward; then their admins. */
static int
gen_facilities(struct igw_gen *g)
{
    uint32_t nd = g->nloc[1];
    char code[16];
    int rv = IGW_OK;

    g->nhf = nd + g->nloc[2];
    g->hf = igw_calloc(g->nhf, sizeof(struct gen_hf));
    if (g->hf == NULL) {
        return IGW_ENOMEM;
    }
    for (uint32_t i = 0; i < g->nhf && rv == IGW_OK; i++) {
        struct gen_hf *h = &g->hf[i];

        gen_rng_uuid(&g->rng, h->uuid);
        gen_rng_uuid(&g->rng, h->admin_uuid);
        snprintf(h->code, sizeof(h->code), "HF%04u", (unsigned)(i + 1) % 100000);
        snprintf(h->admin_code, sizeof(h->admin_code), "CA%04u", (unsigned)(i + 1) % 100000);
        h->hospital = i < nd;
        h->district = h->hospital ? i : g->loc[2][i - nd].parent;
        rv = emit_hf(g, i, h->hospital ? NULL : g->loc[2][i - nd].name);
    }
    for (uint32_t i = 0; i < g->nhf && rv == IGW_OK; i++) {
        struct gen_hf *h = &g->hf[i];

        rv = emit_person(g, "claimAdmin", i + 1, h->admin_uuid, h->admin_code,
                         g->loc[1][h->district].culture, "healthFacility", h->uuid, h->code);
    }
    g->nofficer = 2 * nd;
    g->officer = igw_calloc(g->nofficer, sizeof(struct gen_uuid));
    if (g->officer == NULL) {
        return IGW_ENOMEM;
    }
    for (uint32_t i = 0; i < g->nofficer && rv == IGW_OK; i++) {
        struct gen_loc *d = &g->loc[1][i / 2];

        gen_rng_uuid(&g->rng, g->officer[i].uuid);
        snprintf(code, sizeof(code), "EO%04u", (unsigned)(i + 1) % 100000);
        rv = emit_person(g, "officer", i + 1, g->officer[i].uuid, code, d->culture, "location",
                         d->uuid, d->code);
    }
    return rv;
}

static int
emit_catalogue(struct igw_gen *g, const char *kind, const struct gen_catalogue_row *rows, size_t n,
               struct gen_uuid **uuids)
{
    struct gen_w *w = &g->w;
    int rv = IGW_OK;

    *uuids = igw_calloc(n, sizeof(struct gen_uuid));
    if (*uuids == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = 0; i < n && rv == IGW_OK; i++) {
        const struct gen_catalogue_row *c = &rows[i];
        char t[2] = {c->type, '\0'};
        char lv[2] = {c->level, '\0'};
        char cat[2] = {c->category, '\0'};
        char care[2] = {c->care, '\0'};

        gen_rng_uuid(&g->rng, (*uuids)[i].uuid);
        gen_w_begin(w, kind);
        gen_w_int(w, "id", (int64_t)i + 1);
        gen_w_str(w, "uuid", (*uuids)[i].uuid);
        gen_w_str(w, "code", c->code);
        gen_w_str(w, "name", c->name);
        if (c->type != 0) {
            gen_w_str(w, "type", t);
        }
        if (c->level != 0) {
            gen_w_str(w, "level", lv);
            gen_w_str(w, "category", c->category != 0 ? cat : NULL);
        } else if (c->type != 0) {
            gen_w_str(w, "package", c->type == 'D' ? "1 unit" : "1 piece");
        }
        if (c->type != 0) {
            gen_w_money(w, "price", c->price);
            gen_w_str(w, "careType", care);
        }
        gen_w_datetime(w, "validityFrom", gen_days(2018, 1, 1), 0);
        gen_w_null(w, "validityTo");
        rv = gen_emit(g, kind);
    }
    return rv;
}

static void
add_product(struct igw_gen *g, const char *name, int32_t region, int64_t adult, int64_t child,
            int64_t lump, unsigned max_members)
{
    struct gen_product *p = &g->product[g->nproduct++];

    gen_rng_uuid(&g->rng, p->uuid);
    snprintf(p->code, sizeof(p->code), "SP%03u", g->nproduct);
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->region = region;
    p->premium_adult = adult;
    p->premium_child = child;
    p->lump_sum = lump;
    p->max_members = max_members;
}

static int
emit_product(struct igw_gen *g, const struct gen_product *p, uint32_t id)
{
    struct gen_w *w = &g->w;

    gen_w_begin(w, "product");
    gen_w_int(w, "id", id);
    gen_w_str(w, "uuid", p->uuid);
    gen_w_str(w, "code", p->code);
    gen_w_str(w, "name", p->name);
    if (p->region < 0) {
        gen_w_null(w, "location");
    } else {
        gen_w_ref(w, "location", g->loc[0][p->region].uuid, g->loc[0][p->region].code);
    }
    gen_w_datetime(w, "dateFrom", gen_days(2019, 1, 1), 0);
    gen_w_datetime(w, "dateTo", gen_days(2030, 12, 31), 0);
    gen_w_int(w, "insurancePeriod", 12);
    gen_w_int(w, "maxMembers", p->max_members);
    gen_w_money(w, "lumpSum", p->lump_sum);
    gen_w_int(w, "threshold", 6);
    gen_w_money(w, "premiumAdult", p->premium_adult);
    gen_w_money(w, "premiumChild", p->premium_child);
    gen_w_money(w, "registrationFee", 500);
    gen_w_money(w, "generalAssemblyFee", 0);
    gen_w_int(w, "maxInstallments", p->lump_sum > 0 ? 1 : 2);
    gen_w_int(w, "gracePeriodEnrolment", 1);
    gen_w_int(w, "gracePeriodRenewal", 1);
    gen_w_datetime(w, "validityFrom", gen_days(2019, 1, 1), 0);
    gen_w_null(w, "validityTo");
    return gen_emit(g, "product");
}

static int
gen_products(struct igw_gen *g)
{
    char name[64];
    int rv = IGW_OK;

    add_product(g, "Basic Health Cover", -1, 4000, 2000, 0, 10);
    add_product(g, "Family Plus", -1, 0, 0, 15000, 6);
    for (uint32_t r = 0; r < g->nloc[0] && g->nproduct < 12; r++) {
        snprintf(name, sizeof(name), "%.30s Community Health Fund", g->loc[0][r].name);
        add_product(g, name, (int32_t)r, 2500, 1250, 0, 12);
    }
    for (uint32_t i = 0; i < g->nproduct && rv == IGW_OK; i++) {
        rv = emit_product(g, &g->product[i], i + 1);
    }
    return rv;
}

static int
emit_meta(struct igw_gen *g)
{
    struct gen_w *w = &g->w;

    gen_w_begin(w, "meta");
    gen_w_str(w, "format", "igw-gen/1");
    gen_w_key(w, "seed");
    if (w->err == IGW_OK) {
        w->err = igw_buf_u64(&w->b, g->o.seed);
    }
    gen_w_int(w, "insurees", (int64_t)g->o.insurees);
    gen_w_str(w, "referenceDate", GEN_REF_DATE);
    return gen_emit(g, "meta");
}

int
igw_gen_run(igw_gen *g, igw_gen_emit_fn fn, void *arg)
{
    int rv;

    if (g == NULL || fn == NULL || g->ran) {
        return IGW_EINVAL;
    }
    g->ran = true;
    g->fn = fn;
    g->arg = arg;
    /* chfIds: a bijection of the insuree's index modulo 10^9 (multiplier coprime to 10) */
    g->chf_offset = gen_rng_below(&g->rng, 1000000000ULL);
    rv = emit_meta(g);
    if (rv == IGW_OK) {
        rv = gen_locations(g);
    }
    if (rv == IGW_OK) {
        rv = gen_facilities(g);
    }
    if (rv == IGW_OK) {
        rv = emit_catalogue(g, "diagnosis", gen_diagnoses, gen_ndiagnoses, &g->diag);
    }
    if (rv == IGW_OK) {
        rv = emit_catalogue(g, "medicalItem", gen_items, gen_nitems, &g->item);
    }
    if (rv == IGW_OK) {
        rv = emit_catalogue(g, "medicalService", gen_services, gen_nservices, &g->service);
    }
    if (rv == IGW_OK) {
        rv = gen_products(g);
    }
    if (rv == IGW_OK) {
        rv = gen_families(g);
    }
    return rv;
}
