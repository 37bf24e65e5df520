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

extern const struct igw_mediator_ops igw_mediator_map;
extern const struct igw_mediator_ops igw_mediator_fhir_read;
extern const struct igw_mediator_ops igw_mediator_fhir_search;
extern const struct igw_mediator_ops igw_mediator_fhir_capabilities;
extern const struct igw_mediator_ops igw_mediator_fhir_patch;
extern const struct igw_mediator_ops igw_mediator_fhir_if_match;
extern const struct igw_mediator_ops igw_mediator_dci_txn_status;
extern const struct igw_mediator_ops igw_mediator_dci_client;
extern const struct igw_mediator_ops igw_mediator_dci_callback;
extern const struct igw_mediator_ops igw_mediator_dci_search;
extern const struct igw_mediator_ops igw_mediator_dci_fhir_search;
extern const struct igw_mediator_ops igw_mediator_g2p_txn_status; /* payments/txn_status.c */
extern const struct igw_mediator_ops igw_mediator_dci_on_subscribe;
extern const struct igw_mediator_ops igw_mediator_dci_on_unsubscribe;

/* one line per mediator */
/* clang-format off */
static const struct igw_mediator_ops *const mediators[] = {
    &igw_mediator_map,
    &igw_mediator_fhir_read,
    &igw_mediator_fhir_search,
    &igw_mediator_fhir_capabilities,
    &igw_mediator_fhir_patch,
    &igw_mediator_fhir_if_match,
    &igw_mediator_dci_txn_status,
    &igw_mediator_dci_client,
    &igw_mediator_dci_callback,
    &igw_mediator_dci_search,
    &igw_mediator_dci_fhir_search,
    &igw_mediator_g2p_txn_status,
    &igw_mediator_dci_on_subscribe,
    &igw_mediator_dci_on_unsubscribe,
};
/* clang-format on */

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
