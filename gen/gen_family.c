/* SPDX-License-Identifier: Apache-2.0 */
/* igw gen: the family groups. Each family is drawn, then written with its insurees (head
 * first), its policies (each followed by its invoice and payment) and its members' claims;
 * only one family is held in memory. Distributions: docs/SYNTHETIC-DATA.md. */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "gen_int.h"

static const char *const relation_name[] = {"",           "Brother/Sister", "Father/Mother",
                                            "Uncle/Aunt", "Son/Daughter",   "Grand parents",
                                            "Employee",   "Others",         "Spouse"};
/* family sizes 1..10, mean 4.57 */
static const unsigned size_w[] = {8, 12, 15, 17, 16, 12, 8, 6, 4, 2};
int32_t
gen_ref_day(void)
{
    return gen_days(2025, 12, 31);
}

static char
draw_gender(struct gen_rng *r, unsigned female_permille)
{
    if (gen_rng_chance(r, 5)) {
        return 'O';
    }
    return gen_rng_chance(r, female_permille) ? 'F' : 'M';
}

static void
name_member(struct igw_gen *g, struct gen_family *f, struct gen_member *m, bool own_surname)
{
    const struct gen_culture *c = &gen_cultures[f->culture];

    m->last =
        own_surname || f->n == 0 ? c->surname[gen_rng_below(&g->rng, c->nsurname)] : f->m[0].last;
    m->other = m->gender == 'F'               ? c->female[gen_rng_below(&g->rng, c->nfemale)]
               : m->gender == 'M'             ? c->male[gen_rng_below(&g->rng, c->nmale)]
               : gen_rng_chance(&g->rng, 500) ? c->female[gen_rng_below(&g->rng, c->nfemale)]
                                              : c->male[gen_rng_below(&g->rng, c->nmale)];
}

static struct gen_member *
add_member(struct igw_gen *g, struct gen_family *f, int age, char gender, uint8_t rel)
{
    static const unsigned status_w[] = {970, 20, 10};
    struct gen_member *m = &f->m[f->n];
    uint64_t idx = g->next_insuree + f->n;
    uint64_t chf = (idx * GEN_CHF_MUL + g->chf_offset) % 1000000000ULL;

    memset(m, 0, sizeof(*m));
    gen_rng_uuid(&g->rng, m->uuid);
    snprintf(m->chf, sizeof(m->chf), "%09llu", (unsigned long long)chf);
    m->age = age;
    m->dob = gen_ref_day() - age * 365 - (int32_t)(age / 4) - (int32_t)gen_rng_below(&g->rng, 365);
    m->gender = gender;
    m->rel = rel;
    m->status = (uint8_t)gen_rng_weighted(&g->rng, status_w, 3);
    m->marital = age < 15 ? 'N' : 'S';
    m->hf = gen_rng_chance(&g->rng, 850) ? g->nloc[1] + f->ward : f->district;
    name_member(g, f, m, rel == 8 || rel == 6 || rel == 7);
    f->n++;
    return m;
}

static void
draw_members(struct igw_gen *g, struct gen_family *f, unsigned size)
{
    struct gen_member *head;
    int head_age = 18 + (int)gen_rng_below(&g->rng, 32) + (int)gen_rng_below(&g->rng, 32);

    f->n = 0;
    head = add_member(g, f, head_age, draw_gender(&g->rng, 250), 0);
    if (size >= 2 && gen_rng_chance(&g->rng, 700)) {
        int age = head_age + (int)gen_rng_range(&g->rng, -10, 6);
        char gnd = head->gender == 'M'   ? 'F'
                   : head->gender == 'F' ? 'M'
                                         : draw_gender(&g->rng, 500);

        add_member(g, f, age < 18 ? 18 : age, gnd, 8);
        head->marital = 'M';
        f->m[1].marital = 'M';
    } else {
        static const char single[] = "SWD";
        static const unsigned single_w[] = {50, 30, 20};

        head->marital = single[gen_rng_weighted(&g->rng, single_w, 3)];
    }
    while (f->n < size) {
        unsigned kind = (unsigned)gen_rng_below(&g->rng, 100);

        if (kind < 90) {
            int cap = head_age - 15 < 25 ? head_age - 15 : 25;

            add_member(g, f, (int)gen_rng_range(&g->rng, 0, cap), draw_gender(&g->rng, 500), 4);
        } else if (kind < 95) {
            add_member(g, f, (int)gen_rng_range(&g->rng, 60, 95), draw_gender(&g->rng, 600), 5);
        } else if (kind < 98) {
            int age = head_age + (int)gen_rng_range(&g->rng, -10, 10);

            add_member(g, f, age < 0 ? 0 : age, draw_gender(&g->rng, 500), 1);
        } else {
            add_member(g, f, (int)gen_rng_range(&g->rng, 15, 60), draw_gender(&g->rng, 500), 7);
        }
    }
}

static void
w_loc(struct gen_w *w, const char *key, const struct gen_loc *l)
{
    gen_w_obj_begin(w, key);
    gen_w_str(w, "uuid", l->uuid);
    gen_w_str(w, "code", l->code);
    gen_w_str(w, "name", l->name);
    gen_w_obj_end(w);
}

static int
emit_family(struct igw_gen *g, struct gen_family *f)
{
    static const unsigned type_w[] = {90, 8, 2};
    static const char *const type[] = {"H", "P", "C"};
    struct gen_w *w = &g->w;
    struct gen_loc *v = &g->loc[3][f->village];
    struct gen_member *h = &f->m[0];
    char buf[96];

    gen_w_begin(w, "family");
    gen_w_int(w, "id", (int64_t)++g->next_family);
    gen_w_str(w, "uuid", f->uuid);
    gen_w_obj_begin(w, "headInsuree");
    gen_w_str(w, "uuid", h->uuid);
    gen_w_str(w, "chfId", h->chf);
    gen_w_str(w, "lastName", h->last);
    gen_w_str(w, "otherNames", h->other);
    gen_w_obj_end(w);
    w_loc(w, "location", v);
    if (gen_rng_chance(&g->rng, 600)) {
        snprintf(buf, sizeof(buf), "Plot %u, %s", (unsigned)gen_rng_range(&g->rng, 1, 400),
                 v->name);
        gen_w_str(w, "address", buf);
    } else {
        gen_w_null(w, "address");
    }
    gen_w_bool(w, "poverty", gen_rng_chance(&g->rng, 200));
    gen_w_obj_begin(w, "familyType");
    gen_w_str(w, "code", type[gen_rng_weighted(&g->rng, type_w, 3)]);
    gen_w_obj_end(w);
    if (gen_rng_chance(&g->rng, 100)) {
        snprintf(buf, sizeof(buf), "CN%08u", (unsigned)gen_rng_below(&g->rng, 100000000));
        gen_w_str(w, "confirmationNo", buf);
        gen_w_obj_begin(w, "confirmationType");
        gen_w_str(w, "code", "C");
        gen_w_obj_end(w);
    } else {
        gen_w_null(w, "confirmationNo");
        gen_w_null(w, "confirmationType");
    }
    gen_w_bool(w, "isOffline", false);
    gen_w_datetime(w, "validityFrom", f->created, f->created_secs);
    gen_w_null(w, "validityTo");
    return gen_emit(g, "family");
}

static void
w_id_obj(struct gen_w *w, const char *key, unsigned id, const char *name_key, const char *name)
{
    char t[8];

    snprintf(t, sizeof(t), "%u", id);
    gen_w_obj_begin(w, key);
    gen_w_str(w, "id", t);
    if (name_key != NULL) {
        gen_w_str(w, name_key, name);
    }
    gen_w_obj_end(w);
}

static void
w_insuree_contact(struct igw_gen *g, struct gen_family *f, const struct gen_member *m)
{
    struct gen_w *w = &g->w;
    bool adult = m->age >= 18;
    char buf[64];

    if (adult && gen_rng_chance(&g->rng, 600)) {
        snprintf(buf, sizeof(buf), "%s%08u", gen_cultures[f->culture].phone_prefix,
                 (unsigned)gen_rng_below(&g->rng, 100000000));
        gen_w_str(w, "phone", buf);
    } else {
        gen_w_null(w, "phone");
    }
    if (adult && gen_rng_chance(&g->rng, 100)) {
        snprintf(buf, sizeof(buf), "i%s@mail.example.org", m->chf);
        gen_w_str(w, "email", buf);
    } else {
        gen_w_null(w, "email");
    }
    if (adult && gen_rng_chance(&g->rng, 300)) {
        static const char *const tid[] = {"N", "D", "P"};
        static const unsigned tid_w[] = {80, 10, 10};
        size_t t = gen_rng_weighted(&g->rng, tid_w, 3);

        snprintf(buf, sizeof(buf), "%s%010llu", t == 2 ? "P" : "",
                 (unsigned long long)gen_rng_below(&g->rng, 10000000000ULL));
        gen_w_str(w, "passport", buf);
        gen_w_obj_begin(w, "typeOfId");
        gen_w_str(w, "code", tid[t]);
        gen_w_obj_end(w);
    } else {
        gen_w_null(w, "passport");
        gen_w_null(w, "typeOfId");
    }
}

static int
emit_insuree(struct igw_gen *g, struct gen_family *f, const struct gen_member *m)
{
    static const char *const status[] = {"AC", "IN", "DE"};
    struct gen_w *w = &g->w;
    struct gen_hf *hf = &g->hf[m->hf];
    char t[2] = {m->gender, '\0'};
    char mar[2] = {m->marital, '\0'};
    int32_t vf = m->dob > f->created ? m->dob : f->created;

    gen_w_begin(w, "insuree");
    gen_w_int(w, "id", (int64_t)++g->next_insuree);
    gen_w_str(w, "uuid", m->uuid);
    gen_w_str(w, "chfId", m->chf);
    gen_w_str(w, "lastName", m->last);
    gen_w_str(w, "otherNames", m->other);
    gen_w_date(w, "dob", m->dob);
    gen_w_obj_begin(w, "gender");
    gen_w_str(w, "code", t);
    gen_w_obj_end(w);
    gen_w_str(w, "marital", mar);
    w_insuree_contact(g, f, m);
    gen_w_bool(w, "head", m->rel == 0);
    if (m->rel == 0) {
        gen_w_null(w, "relationship");
    } else {
        w_id_obj(w, "relationship", m->rel, "relation", relation_name[m->rel]);
    }
    if (m->age >= 18 && gen_rng_chance(&g->rng, 500)) {
        w_id_obj(w, "profession", (unsigned)gen_rng_range(&g->rng, 1, 8), NULL, NULL);
    } else {
        gen_w_null(w, "profession");
    }
    if (m->age >= 7 && gen_rng_chance(&g->rng, 500)) {
        w_id_obj(w, "education", (unsigned)gen_rng_range(&g->rng, 1, 7), NULL, NULL);
    } else {
        gen_w_null(w, "education");
    }
    if (gen_rng_chance(&g->rng, 50)) {
        struct gen_loc *cv = &g->loc[3][gen_rng_below(&g->rng, g->nloc[3])];
        char addr[64];

        snprintf(addr, sizeof(addr), "House %u, %s", (unsigned)gen_rng_range(&g->rng, 1, 300),
                 cv->name);
        gen_w_str(w, "currentAddress", addr);
        gen_w_ref(w, "currentVillage", cv->uuid, cv->code);
    } else {
        gen_w_null(w, "currentAddress");
        gen_w_null(w, "currentVillage");
    }
    gen_w_ref(w, "family", f->uuid, NULL);
    gen_w_ref(w, "healthFacility", hf->uuid, hf->code);
    gen_w_bool(w, "cardIssued", gen_rng_chance(&g->rng, 700));
    gen_w_str(w, "status", status[m->status]);
    gen_w_datetime(w, "validityFrom", vf, vf == f->created ? f->created_secs : 43200);
    gen_w_null(w, "validityTo");
    return gen_emit(g, "insuree");
}

static int
gen_family(struct igw_gen *g, unsigned size)
{
    struct gen_family f;
    int rv;

    memset(&f, 0, sizeof(f));
    gen_rng_uuid(&g->rng, f.uuid);
    f.village = (uint32_t)gen_rng_below(&g->rng, g->nloc[3]);
    f.ward = g->loc[3][f.village].parent;
    f.district = g->loc[2][f.ward].parent;
    f.culture = g->loc[3][f.village].culture;
    f.created = gen_days(2015, 1, 1) + (int32_t)gen_rng_below(&g->rng, 8 * 365);
    f.created_secs = (uint32_t)gen_rng_range(&g->rng, 6 * 3600, 18 * 3600);
    draw_members(g, &f, size);
    rv = emit_family(g, &f);
    for (unsigned i = 0; i < f.n && rv == IGW_OK; i++) {
        rv = emit_insuree(g, &f, &f.m[i]);
        g->done++;
    }
    if (rv == IGW_OK) {
        rv = gen_policies(g, &f);
    }
    if (rv == IGW_OK) {
        rv = gen_claims(g, &f);
    }
    return rv;
}

int
gen_families(struct igw_gen *g)
{
    int rv = IGW_OK;

    while (g->done < g->o.insurees && rv == IGW_OK) {
        uint64_t left = g->o.insurees - g->done;
        unsigned size = 1 + (unsigned)gen_rng_weighted(&g->rng, size_w, IGW_ARRAY_LEN(size_w));

        if (size > left) {
            size = (unsigned)left;
        }
        rv = gen_family(g, size);
    }
    return rv;
}
