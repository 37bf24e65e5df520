/* SPDX-License-Identifier: Apache-2.0 */
/* igw gen internals: the PRNG, dates, the JSON record writer, the tables and the state the
 * family stream reads (gen.c builds the catalogue, gen_family.c the families). */
#ifndef IGW_GEN_INT_H
#define IGW_GEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/buf.h"
#include "igw/gen.h"

/* ---- PRNG: xoshiro256** seeded by splitmix64 (integer only, identical everywhere) ---- */
struct gen_rng {
    uint64_t s[4];
};
void gen_rng_seed(struct gen_rng *r, uint64_t seed);
uint64_t gen_rng_next(struct gen_rng *r);
/** Uniform in [0, n) (n > 0), without modulo bias. */
uint64_t gen_rng_below(struct gen_rng *r, uint64_t n);
/** Uniform in [lo, hi] (lo <= hi). */
int64_t gen_rng_range(struct gen_rng *r, int64_t lo, int64_t hi);
/** True with probability permille / 1000. */
bool gen_rng_chance(struct gen_rng *r, unsigned permille);
/** Index drawn from integer weights w[0..n-1] (their sum > 0). */
size_t gen_rng_weighted(struct gen_rng *r, const unsigned *w, size_t n);
/** A lower-case RFC 4122 version-4 uuid into out (37 bytes). */
void gen_rng_uuid(struct gen_rng *r, char out[37]);

/* ---- dates: days since 1970-01-01 (proleptic Gregorian) ---- */
int32_t gen_days(int y, unsigned m, unsigned d);
/** "YYYY-MM-DD" into out (11 bytes). */
void gen_date_str(int32_t days, char out[11]);
/** The reference date, 2025-12-31: nothing is dated after it. */
#define GEN_REF_Y 2025
#define GEN_REF_DATE "2025-12-31"

/* ---- JSON record writer over an igw_buf; errors are sticky (checked once per record) ---- */
struct gen_w {
    struct igw_buf b;
    int err;
    bool first; /* no comma before the next member */
};
void gen_w_begin(struct gen_w *w, const char *kind);
void gen_w_end(struct gen_w *w);
void gen_w_key(struct gen_w *w, const char *key);                /* "key": (with the comma) */
void gen_w_raw(struct gen_w *w, const char *s);                  /* appended as it is */
void gen_w_str(struct gen_w *w, const char *key, const char *v); /* NULL -> null */
void gen_w_int(struct gen_w *w, const char *key, int64_t v);
void gen_w_bool(struct gen_w *w, const char *key, bool v);
void gen_w_null(struct gen_w *w, const char *key);
void gen_w_money(struct gen_w *w, const char *key, int64_t cents); /* 12.50 */
void gen_w_date(struct gen_w *w, const char *key, int32_t days);   /* "YYYY-MM-DD" */
void gen_w_datetime(struct gen_w *w, const char *key, int32_t days, uint32_t secs);
void gen_w_obj_begin(struct gen_w *w, const char *key); /* key NULL: an array element */
void gen_w_obj_end(struct gen_w *w);
void gen_w_arr_begin(struct gen_w *w, const char *key);
void gen_w_arr_end(struct gen_w *w);
/** {"uuid": u, "code": c} under key (c may be NULL: left out). */
void gen_w_ref(struct gen_w *w, const char *key, const char *uuid, const char *code);

/* ---- tables (gen_tables.c) ---- */
#define GEN_NCULTURES 6
struct gen_culture {
    const char *name;
    const char *const *male, *const *female, *const *surname, *const *syllable;
    size_t nmale, nfemale, nsurname, nsyllable;
    const char *phone_prefix;
};
extern const struct gen_culture gen_cultures[GEN_NCULTURES];

struct gen_catalogue_row {
    const char *code, *name;
    char type;                  /* item: D/M; service: P/C; diagnosis: unused */
    char level, category, care; /* services only ('\0' = null category) */
    int64_t price;              /* cents */
    unsigned weight;            /* how often claims pick it */
};
extern const struct gen_catalogue_row gen_diagnoses[];
extern const size_t gen_ndiagnoses;
extern const struct gen_catalogue_row gen_items[];
extern const size_t gen_nitems;
extern const struct gen_catalogue_row gen_services[];
extern const size_t gen_nservices;

/* ---- the catalogue built before the families (gen.c) ---- */
struct gen_loc {
    char uuid[37];
    char code[24];
    char name[40];
    uint32_t parent; /* index in the level above */
    uint8_t culture;
};
struct gen_hf {
    char uuid[37];
    char code[12];
    char admin_uuid[37];
    char admin_code[12];
    uint32_t district;
    bool hospital;
};
struct gen_product {
    char uuid[37];
    char code[8];
    char name[64];
    int32_t region; /* -1 national */
    int64_t premium_adult, premium_child, lump_sum;
    unsigned max_members;
};
struct gen_uuid {
    char uuid[37];
};

struct igw_gen {
    struct igw_gen_opts o;
    struct gen_rng rng;
    struct gen_w w;
    igw_gen_emit_fn fn;
    void *arg;
    int stop; /* the callback's non-zero value */
    bool ran;
    uint64_t done;
    /* location levels: 0 regions, 1 districts, 2 wards, 3 villages */
    struct gen_loc *loc[4];
    uint32_t nloc[4];
    struct gen_hf *hf; /* district hospitals first (index = district), then one per ward */
    uint32_t nhf;
    struct gen_uuid *officer; /* two per district */
    uint32_t nofficer;
    struct gen_uuid *diag, *item, *service;
    struct gen_product product[16];
    uint32_t nproduct;
    uint64_t chf_offset;
    /* running ids per kind */
    uint64_t next_family, next_insuree, next_policy, next_claim, next_claim_item,
        next_claim_service, next_invoice;
};

/** Hands the record in g->w to the callback; returns non-zero to stop (error or callback). */
int gen_emit(struct igw_gen *g, const char *kind);
/** Writes all families and their records (gen_family.c). */
int gen_families(struct igw_gen *g);
/** A name of 2-3 syllables of culture c, capitalised, into out (n bytes). */
void gen_place_name(struct gen_rng *r, unsigned c, char *out, size_t n);

/* ---- one family group (gen_family.c, gen_policy.c) ---- */
#define GEN_MAX_MEMBERS 10
#define GEN_MAX_POLICIES 2
#define GEN_CHF_MUL 738219173ULL /* coprime to 10^9: idx -> chfId is a bijection */

enum { GEN_ST_AC, GEN_ST_IN, GEN_ST_DE };

struct gen_member {
    char uuid[37];
    char chf[10];
    const char *last, *other;
    int32_t dob;
    int age;
    char gender;  /* M F O */
    char marital; /* N S M D W */
    uint8_t rel;  /* 0 head, else the openIMIS relation id */
    uint8_t status;
    uint32_t hf;
};

struct gen_policy {
    char uuid[37];
    uint32_t product, officer;
    int32_t enroll, start, effective, expiry; /* effective -1: none */
    int status;
    char stage;
    int64_t value;
    unsigned covered; /* bit per member */
};

struct gen_family {
    char uuid[37];
    uint32_t village, ward, district;
    unsigned culture, n, npol;
    int32_t created;
    uint32_t created_secs;
    struct gen_member m[GEN_MAX_MEMBERS];
    struct gen_policy p[GEN_MAX_POLICIES];
};

/** The reference date as days (2025-12-31). */
int32_t gen_ref_day(void);
/** Writes f's policies, each followed by its invoice and payment (gen_policy.c). */
int gen_policies(struct igw_gen *g, struct gen_family *f);
/** Writes the claims of f's members (gen_policy.c). */
int gen_claims(struct igw_gen *g, struct gen_family *f);

#endif /* IGW_GEN_INT_H */
