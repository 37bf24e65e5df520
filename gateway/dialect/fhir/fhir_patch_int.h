/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR dialect internal: what the fhir-patch / fhir-if-match mediators (fhir_patch.c) share
 * with their tests.
 */
#ifndef IGW_GATEWAY_DIALECT_FHIR_PATCH_INT_H
#define IGW_GATEWAY_DIALECT_FHIR_PATCH_INT_H

#include <stdbool.h>
#include <stddef.h>

/** True when an If-Match value (W/"3", "3") names version[0..vlen). NULL-safe (false). */
bool igw_fhir_version_eq(const char *etag, const char *version, size_t vlen);

#endif /* IGW_GATEWAY_DIALECT_FHIR_PATCH_INT_H */
