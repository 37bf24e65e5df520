/* SPDX-License-Identifier: Apache-2.0 */
/* XML codec: placeholder until the libxml2 implementation lands. */
#include "igw/common.h"
#include "igw/doc.h"

int
igw_xml_parse(igw_arena *a, const char *text, size_t len, const struct igw_parse_limits *lim,
              struct igw_node **root, struct igw_parse_error *err)
{
    IGW_UNUSED(a);
    IGW_UNUSED(text);
    IGW_UNUSED(len);
    IGW_UNUSED(lim);
    IGW_UNUSED(root);
    IGW_UNUSED(err);
    return IGW_EINVAL;
}

int
igw_xml_write(const struct igw_node *root, struct igw_buf *out, unsigned flags)
{
    IGW_UNUSED(root);
    IGW_UNUSED(out);
    IGW_UNUSED(flags);
    return IGW_EINVAL;
}
