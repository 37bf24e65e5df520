/* SPDX-License-Identifier: Apache-2.0 */
/* Private to translators/search/: compiled search maps and the state of one search. */
#ifndef IGW_TRANSLATORS_SEARCH_INT_H
#define IGW_TRANSLATORS_SEARCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/search.h"

enum sm_type {
    SM_STRING,
    SM_TOKEN,
    SM_DATE,     /* a Date field: "YYYY-MM-DD" */
    SM_DATETIME, /* a naive UTC DateTime field */
    SM_NUMBER,
    SM_QUANTITY,
    SM_REFERENCE,
    SM_URI,
};

enum sm_cmp { SM_CMP_STRING, SM_CMP_NUMBER, SM_CMP_RELAY };

struct sm_value { /* token code table entry: FHIR code -> upstream value */
    char *code;
    char *up;
};

struct sm_param {
    char *name;
    enum sm_type type;
    char *field;  /* base GraphQL argument ("lastName", "gender_Code") */
    char *system; /* token system, NULL = none */
    char *not_arg, *text_arg, *in_arg;
    char *chain;  /* reference: argument prefix for chained parameters ("insuree") */
    char *target; /* reference: target resource type */
    char *doc;
    bool raw;
    bool uuid; /* uuid=1: the argument is a UUID; another value matches nothing (no call) */
    struct sm_value *values;
    size_t nvalues;
};

struct sm_sort {
    char *name;  /* FHIR sort parameter */
    char *order; /* orderBy field */
    char *path;  /* record path of the key */
    enum sm_cmp cmp;
};

struct sm_include {
    bool rev;
    char *spec;   /* "Group:member" */
    char *path;   /* record path of the nested record(s) */
    char *target; /* resource type of what it holds */
};

struct igw_search_map {
    igw_arena *arena; /* holds everything below */
    char *file;
    char *resource;
    char *connection;
    char *record_map;
    char *select;
    char *id_arg, *id_path;
    bool id_uuid;  /* the id argument is a UUID: other ids match nothing, no call */
    char *gids[4]; /* record paths holding a relay global id of a uuid-keyed model */
    size_t ngids;
    struct sm_sort key;  /* default order and tie-break (name unused) */
    bool unordered;      /* the connection takes no orderBy: records come in the key's order */
    char *updated;       /* DateTime field: versions, and _lastUpdated; NULL = none */
    bool updated_filter; /* the upstream filters on it (_lastUpdated) */
    struct sm_param *params;
    size_t nparams;
    struct sm_sort *sorts;
    size_t nsorts;
    struct sm_include *incs;
    size_t nincs;
    const igw_search_set *set;
};

struct igw_search_set {
    struct igw_search_map **maps;
    size_t count;
};

const struct sm_param *igw_sm_param(const igw_search_map *m, const char *name);
const char *igw_sm_type_name(enum sm_type t);

/* ---- one search ----------------------------------------------------------------------- */

struct sr_arg { /* one GraphQL argument: name: literal */
    const char *name;
    const char *lit;
};

struct sr_key { /* one sort key of the order used */
    const char *order;
    const char *path;
    enum sm_cmp cmp;
    bool desc;
};

struct sr_issue {
    const char *severity; /* "warning" / "error" */
    const char *code;
    const char *text;
};

struct sr_rec { /* one delivered record */
    const struct igw_node *node;
    long off; /* upstream offset */
};

#define SR_ARGS_MAX 64
#define SR_KEYS_MAX 8
#define SR_ISSUES_MAX 32
#define SR_INCS_MAX 8

struct igw_search_op {
    igw_arena *a;
    const igw_search_map *m;
    bool read;
    bool nomatch; /* a value that no record can have: answer empty, no call */
    struct sr_arg args[SR_ARGS_MAX];
    size_t nargs;
    struct sr_key keys[SR_KEYS_MAX];
    size_t nkeys;
    bool custom_sort;
    const struct sm_include *incs[SR_INCS_MAX];
    size_t nincs;
    struct sr_issue issues[SR_ISSUES_MAX];
    size_t nissues;
    const char *self_qs; /* the parameters applied, encoded, for the links */
    unsigned count;      /* page size */
    bool summary_count;
    bool total; /* _total accurate/estimate */
    const char *elements;
    /* paging: the cursor we continue from */
    bool prev;    /* a previous-page cursor */
    long cur_off; /* upstream offset hint */
    const char *cur_keys[SR_KEYS_MAX];
    size_t cur_nkeys;
    const char *cur_raw; /* the cursor as received */
    bool have_cursor;
    bool synced; /* a continuation has seen the cursor's position */
    /* progress */
    long win_off;   /* offset of the next window to fetch */
    long start_off; /* _offset: records skipped before the first page (DCI page_number) */
    unsigned calls, backs;
    bool done;
    bool has_more; /* upstream has records after the last delivered */
    long total_count;
    struct sr_rec *recs;
    size_t nrecs, caprecs;
    const struct igw_node **pending; /* previous-page candidates */
    size_t npending;
};

/* plan.c */
int igw_sr_plan(igw_search_op *op, const struct igw_search_query *q, unsigned flags, char *errbuf,
                size_t errlen);
int igw_sr_add_arg(igw_search_op *op, const char *name, const char *lit);
const char *igw_sr_lit(igw_search_op *op, const char *v, bool raw);
void igw_sr_issue(igw_search_op *op, const char *sev, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

bool igw_sr_is_uuid(const char *s);

/* value.c: dates as [lo, hi) epoch second ranges */
int igw_sr_date_range(const char *s, int64_t *lo, int64_t *hi);
void igw_sr_fmt_date(int64_t t, bool datetime, char out[32]);
void igw_sr_http_date(int64_t t, char out[40]);
bool igw_sr_number_ok(const char *s);

/* page.c */
const struct igw_node *igw_sr_path(const struct igw_node *n, const char *path);
int igw_sr_cmp_keys(const igw_search_op *op, const struct igw_node *rec, const char *const *keys);
const char *igw_sr_key_text(const igw_search_op *op, const struct igw_node *rec, size_t i);
int igw_sr_cursor_decode(igw_search_op *op, const char *c, char *errbuf, size_t errlen);
const char *igw_sr_cursor_encode(igw_search_op *op, bool prev, long off,
                                 const struct igw_node *rec);

/* base64url, in igw_arena */
char *igw_sr_b64(igw_arena *a, const char *s, size_t n, bool url);
char *igw_sr_unb64(igw_arena *a, const char *s, size_t n, size_t *outlen);

#endif /* IGW_TRANSLATORS_SEARCH_INT_H */
