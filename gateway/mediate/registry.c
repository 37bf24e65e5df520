/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mediator registry (mediate/mediator.h): one line per mediator. The engine finds a
 * channel's `answer` here and names no mediator itself.
 */
#include <stddef.h>
#include <string.h>

#include "mediate/mediator.h"

/* The mediators built in, one declaration each (defined beside what they speak). */
extern const struct igw_mediator_ops igw_mediator_fhir_read;
extern const struct igw_mediator_ops igw_mediator_fhir_search;
extern const struct igw_mediator_ops igw_mediator_fhir_capabilities;
extern const struct igw_mediator_ops igw_mediator_fhir_patch;
extern const struct igw_mediator_ops igw_mediator_fhir_if_match;

static const struct igw_mediator_ops *const mediators[] = {
    &igw_mediator_fhir_read,  &igw_mediator_fhir_search,   &igw_mediator_fhir_capabilities,
    &igw_mediator_fhir_patch, &igw_mediator_fhir_if_match,
};

const struct igw_mediator_ops *
igw_mediator_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(mediators) / sizeof(mediators[0]); i++) {
        if (strcmp(mediators[i]->name, name) == 0) {
            return mediators[i];
        }
    }
    return NULL;
}

const struct igw_mediator_ops *
igw_mediator_at(unsigned i)
{
    return i < sizeof(mediators) / sizeof(mediators[0]) ? mediators[i] : NULL;
}
