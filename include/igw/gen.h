/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Synthetic openIMIS data (docs/SYNTHETIC-DATA.md): a deterministic, streaming generator of
 * openIMIS-shaped records (locations, health facilities, products, families, insurees, policies,
 * invoices, payments, claims) as JSON objects with openIMIS's GraphQL field names.
 *
 * Determinism: the output depends only on the options (own PRNG, integer arithmetic, a fixed
 * reference date): the same options give byte-identical records on any machine.
 * Memory: bounded by the location tables (about N / 1000 villages) and one family at a time,
 * whatever the number of insurees. Not thread-safe: one generator, one thread.
 */
#ifndef IGW_GEN_H
#define IGW_GEN_H

#include <stddef.h>
#include <stdint.h>

/** The largest --insurees the generator accepts (chfIds are 9 digits). */
#define IGW_GEN_MAX_INSUREES 100000000ULL

struct igw_gen_opts {
    uint64_t seed;     /* any value */
    uint64_t insurees; /* 1 .. IGW_GEN_MAX_INSUREES */
};

typedef struct igw_gen igw_gen;

/**
 * Receives one record: kind (a static string such as "insuree") and json, one JSON object of
 * len bytes without a newline (both borrowed, valid only during the call). arg is the caller's.
 * Returns 0 to go on; any other value stops the run, and igw_gen_run returns it.
 */
typedef int (*igw_gen_emit_fn)(void *arg, const char *kind, const char *json, size_t len);

/**
 * Creates a generator for opts (borrowed, copied). On success *out (not NULL) is owned by the
 * caller: free it with igw_gen_free.
 * @return IGW_OK; IGW_EINVAL opts or out NULL, insurees 0 or above IGW_GEN_MAX_INSUREES;
 *         IGW_ENOMEM.
 */
int igw_gen_new(igw_gen **out, const struct igw_gen_opts *opts);

/**
 * Generates the whole stream once, in the order of docs/SYNTHETIC-DATA.md, calling fn (not
 * NULL) for every record. A generator runs once: a second call returns IGW_EINVAL.
 * @return IGW_OK; the callback's non-zero value when it stopped the run; IGW_EINVAL g or fn
 *         NULL, or the generator already ran; IGW_ENOMEM.
 */
int igw_gen_run(igw_gen *g, igw_gen_emit_fn fn, void *arg);

/** Insurees written so far (for a progress display from inside the callback); 0 for NULL. */
uint64_t igw_gen_insurees_done(const igw_gen *g);

/** Frees g. NULL-safe. */
void igw_gen_free(igw_gen *g);

#endif /* IGW_GEN_H */
