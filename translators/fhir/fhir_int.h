/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to translators/fhir/: the validation context shared by validate.c (the tree walk),
 * prim.c (primitive formats), terms.c (required bindings and references) and outcome.c.
 */
#ifndef IGW_FHIR_INT_H
#define IGW_FHIR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/fhir.h"
#include "fhir_tables.h"

#define FHIR_PATH_MAX 2048 /* bytes of an issue's expression */
#define FHIR_PATH_SEGS 256 /* path segments kept; deeper ones are left out of expressions */
#define FHIR_DEFAULT_MAX_ISSUES 100u
#define FHIR_DEFAULT_MAX_DEPTH 64u

/* One step of the current path, kept by reference and spelled out only when an issue is
 * recorded: a name (borrowed from the tree or the tables) or an array index. */
struct fhir_seg {
    const char *name;
    uint32_t len;
    uint32_t index;
    uint8_t kind; /* FHIR_SEG_* */
};
#define FHIR_SEG_ROOT 0  /* "Patient" */
#define FHIR_SEG_NAME 1  /* ".name" */
#define FHIR_SEG_INDEX 2 /* "[3]" */

struct fhir_ctx {
    igw_arena *a;
    struct igw_fhir_result *res;
    size_t cap;                           /* capacity of res->issues */
    unsigned max_issues;                  /* >= 1 */
    unsigned max_depth;                   /* object nesting */
    unsigned flags;                       /* IGW_FHIR_* */
    unsigned depth;                       /* current object nesting */
    int rv;                               /* IGW_OK or IGW_ENOMEM (sticky) */
    bool stop;                            /* out of memory or out of issue slots: walk no further */
    const struct igw_node *scope;         /* resource whose contained[] resolves "#id" references */
    size_t nseg;                          /* segments on the path (may exceed FHIR_PATH_SEGS) */
    struct fhir_seg segs[FHIR_PATH_SEGS]; /* FHIRPath-like expression of the current node */
};

/* ---- validate.c -------------------------------------------------------------------------- */
/** Records an issue at the current path (diagnostics formatted, copied into the arena). */
void fhir_issue(struct fhir_ctx *c, const char *severity, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/** Appends sep ("" only for the root, else ".") and name[0..n) to the path; name is borrowed
 *  until the matching fhir_path_pop. Returns the depth to restore with fhir_path_pop. */
size_t fhir_path_push(struct fhir_ctx *c, const char *sep, const char *name, size_t n);
/** Appends "[i]" to the path; returns the length to restore. */
size_t fhir_path_index(struct fhir_ctx *c, size_t i);
void fhir_path_pop(struct fhir_ctx *c, size_t saved);
/** Validates a resource object at the current path (resourceType, then its elements). */
void fhir_check_resource(struct fhir_ctx *c, const struct igw_node *res, unsigned expected);
/** Index of the type named s[0..n) in fhir_types, or -1. */
int fhir_type_find(const char *s, size_t n);

/* ---- prim.c ------------------------------------------------------------------------------ */
/** Checks a primitive value v of kind prim (JSON type, format; code binding of e if any). */
void fhir_check_prim(struct fhir_ctx *c, const struct igw_node *v, unsigned prim,
                     const struct fhir_elem *e);
/** True when s[0..n) matches the R4 lexical format of the string-valued primitive prim. */
bool fhir_prim_string_ok(unsigned prim, const char *s, size_t n);
/** Writes at most 48 bytes of s (cut on a UTF-8 boundary, "..." appended, control characters
 *  replaced by '?') into buf, NUL-terminated; returns buf. */
const char *fhir_clip(char *buf, size_t cap, const char *s, size_t n);

/* ---- terms.c ----------------------------------------------------------------------------- */
/** Checks a code string against e's required value set (if it has one). */
void fhir_check_code(struct fhir_ctx *c, const char *s, size_t n, const struct fhir_elem *e);
/** Required binding of a Coding or CodeableConcept element (obj already walked). */
void fhir_check_coded(struct fhir_ctx *c, const struct igw_node *obj, unsigned type,
                      const struct fhir_elem *e);
/** Reference.reference format, local (#id) resolution and target resource types. */
void fhir_check_reference(struct fhir_ctx *c, const struct igw_node *obj,
                          const struct fhir_elem *e);

#endif /* IGW_FHIR_INT_H */
