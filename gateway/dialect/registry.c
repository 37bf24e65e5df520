/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dialect registry: one line per dialect. A new dialect is a folder dialect/<name>/ with
 * its ops, its declaration in dialect/dialect.h and one line below (docs/internals/DIALECTS.md).
 */
#include <string.h>

#include "igw/common.h"
#include "dialect/dialect.h"

/* clang-format off */
static const struct igw_dialect_ops *const dialects[] = {
    &igw_dialect_plain,
    &igw_dialect_fhir,
    &igw_dialect_dci,
    &igw_dialect_payroll,
    &igw_dialect_g2p,
};
/* clang-format on */

const struct igw_dialect_ops *
igw_dialect_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < IGW_ARRAY_LEN(dialects); i++) {
        if (strcmp(dialects[i]->name, name) == 0) {
            return dialects[i];
        }
    }
    return NULL;
}

const struct igw_dialect_ops *
igw_dialect_at(size_t i)
{
    return i < IGW_ARRAY_LEN(dialects) ? dialects[i] : NULL;
}
