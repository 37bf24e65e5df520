/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mediator registry: one line per mediator (docs/internals/MEDIATORS.md). A mediator is a
 * const struct igw_mediator_ops (mediate/mediator.h), declared below with extern (not through
 * its folder's header: a mediator elsewhere, e.g. in dialect/fhir/, includes mediate/mediator.h,
 * and an include back from here would make a circle of folders) and listed once in the table;
 * the config loader resolves a channel's `answer` option through igw_mediator_find.
 */
#include <string.h>

#include "igw/common.h"
#include "mediate/mediator.h"

/* one line per mediator: X(name) declares igw_mediator_<name> and lists it */
/* clang-format off */
#define IGW_MEDIATOR_LIST(X)                                                                       \
    X(map)                  /* mediate/map_med.c */                                              \
    X(fhir_read)            /* dialect/fhir/ */                                                  \
    X(fhir_search)                                                                               \
    X(fhir_capabilities)                                                                         \
    X(fhir_patch)                                                                                \
    X(fhir_if_match)                                                                             \
    X(dci_txn_status)       /* dialect/dci/ */                                                   \
    X(dci_client)           /* dciclient/ */                                                     \
    X(dci_callback)                                                                              \
    X(dci_search)                                                                                \
    X(dci_fhir_search)                                                                           \
    X(g2p_txn_status)       /* payments/txn_status.c */                                          \
    X(dci_on_subscribe)                                                                          \
    X(dci_on_unsubscribe)
/* clang-format on */

#define IGW_MEDIATOR_DECLARE(name) extern const struct igw_mediator_ops igw_mediator_##name;
#define IGW_MEDIATOR_ENTRY(name) &igw_mediator_##name,
IGW_MEDIATOR_LIST(IGW_MEDIATOR_DECLARE)
static const struct igw_mediator_ops *const mediators[] = {IGW_MEDIATOR_LIST(IGW_MEDIATOR_ENTRY)};

const struct igw_mediator_ops *
igw_mediator_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < IGW_ARRAY_LEN(mediators); i++) {
        if (strcmp(mediators[i]->name, name) == 0) {
            return mediators[i];
        }
    }
    return NULL;
}

const struct igw_mediator_ops *
igw_mediator_at(unsigned i)
{
    return i < IGW_ARRAY_LEN(mediators) ? mediators[i] : NULL;
}
