/* SPDX-License-Identifier: Apache-2.0 */
/* CSV codec: placeholder until the RFC 4180 implementation lands. */
#include "igw/common.h"
#include "igw/doc.h"

int
igw_csv_parse(igw_arena *a, const char *text, size_t len, const struct igw_csv_opts *opts,
              const struct igw_parse_limits *lim, struct igw_node **root,
              struct igw_parse_error *err)
{
    IGW_UNUSED(a);
    IGW_UNUSED(text);
    IGW_UNUSED(len);
    IGW_UNUSED(opts);
    IGW_UNUSED(lim);
    IGW_UNUSED(root);
    IGW_UNUSED(err);
    return IGW_EINVAL;
}

int
igw_csv_write(const struct igw_node *root, const struct igw_csv_opts *opts, struct igw_buf *out)
{
    IGW_UNUSED(root);
    IGW_UNUSED(opts);
    IGW_UNUSED(out);
    return IGW_EINVAL;
}
