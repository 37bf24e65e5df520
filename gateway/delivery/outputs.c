/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The output registry: every destination compiled in, one line each. A route's kind is its
 * output's position here + 1, so the order of the first three lines is fixed (IGW_DEST_HTTP,
 * IGW_DEST_FILE, IGW_DEST_NNG in include/igw/config.h); append new outputs at the end. Each
 * out_<name>/ folder defines `const struct igw_output_ops igw_output_<name>`
 * (docs/internals/OUTPUTS.md).
 */
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "delivery/output.h"

/* clang-format off */
#define IGW_OUTPUT_LIST(X)                                                                         \
    X(http) /* out_http: http://, https:// */                                                     \
    X(file) /* out_file: file:// */                                                               \
    X(nng)  /* out_nng: tcp://, ipc:// */                                                         \
    X(g2p)  /* payments/out_g2p: g2p:<partner>, g2p-ledger:<partner> */                           \
    X(dcisubs) /* out_dcisubs: dci-subscriptions: */
/* clang-format on */

#define IGW_OUTPUT_DECLARE(name) extern const struct igw_output_ops igw_output_##name;
#define IGW_OUTPUT_ENTRY(name) &igw_output_##name,

IGW_OUTPUT_LIST(IGW_OUTPUT_DECLARE)

static const struct igw_output_ops *const outputs[] = {IGW_OUTPUT_LIST(IGW_OUTPUT_ENTRY)};

size_t
igw_output_count(void)
{
    return IGW_ARRAY_LEN(outputs);
}

const struct igw_output_ops *
igw_output_at(size_t i)
{
    return i < IGW_ARRAY_LEN(outputs) ? outputs[i] : NULL;
}

const struct igw_output_ops *
igw_output_by_url(const char *url, unsigned *kind, const struct igw_output_scheme **scheme)
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(outputs); i++) {
        const struct igw_output_ops *o = outputs[i];
        for (size_t j = 0; j < o->nschemes; j++) {
            const char *p = o->schemes[j].prefix;
            if (strncasecmp(url, p, strlen(p)) != 0) {
                continue;
            }
            if (kind != NULL) {
                *kind = (unsigned)i + 1;
            }
            if (scheme != NULL) {
                *scheme = &o->schemes[j];
            }
            return o;
        }
    }
    return NULL;
}

const struct igw_output_ops *
igw_output_of_route(const struct igw_route *r)
{
    const struct igw_output_ops *o = NULL;

    if (r->kind != 0) {
        return igw_output_at((size_t)r->kind - 1);
    }
    if (r->url != NULL) {
        o = igw_output_by_url(r->url, NULL, NULL);
    }
    return o != NULL ? o : outputs[0]; /* a route built without the loader: the first output */
}
