/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the registry of dialects (docs/internals/DIALECTS.md). Each dialect lives in
 * gateway/dialect/<name>/ and exports one const struct igw_dialect_ops (core/dialect.h); it is
 * declared here and listed once in registry.c. The config loader resolves a channel's
 * `dialect` option here; the ingest core never looks dialects up by name.
 */
#ifndef IGW_GATEWAY_DIALECT_H
#define IGW_GATEWAY_DIALECT_H

#include <stddef.h>

#include "core/dialect.h"

/* The dialects built in, one declaration each (defined in dialect/<name>/). */
extern const struct igw_dialect_ops igw_dialect_plain;
extern const struct igw_dialect_ops igw_dialect_fhir;
extern const struct igw_dialect_ops igw_dialect_dci;
extern const struct igw_dialect_ops igw_dialect_payroll; /* payments/payroll_dialect.c */
extern const struct igw_dialect_ops igw_dialect_g2p;     /* payments/g2p_dialect.c */

/** The dialect called name (NUL-terminated), or NULL when none is built in. NULL-safe: a NULL
 *  name finds nothing. Thread-safe (the registry is a const table). */
const struct igw_dialect_ops *igw_dialect_find(const char *name);

/** The i-th registered dialect, NULL past the last one (for listings and tests). */
const struct igw_dialect_ops *igw_dialect_at(size_t i);

#endif /* IGW_GATEWAY_DIALECT_H */
