/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placeholder for igw_fhir_search_params until the search engine (fhir_search*.c, its own
 * branch) is merged: no channel reports a search parameter. Weak, so the real definition wins
 * at link time; delete this file at that merge.
 */
#include "dialect/fhir/fhir_caps_int.h"

__attribute__((weak)) void
igw_fhir_search_params(const struct igw_channel *ch, igw_fhir_param_fn fn, void *arg)
{
    (void)ch;
    (void)fn;
    (void)arg;
}
