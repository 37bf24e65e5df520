/* SPDX-License-Identifier: Apache-2.0 */
/* The XML codec's own entry points (translators/xml/, on libxml2); through the table it is
 * igw_codec_xml (igw/codec.h), format IGW_FMT_XML. The tree model is described in igw/node.h. */
#ifndef IGW_XML_H
#define IGW_XML_H

#include "igw/codec.h"

/**
 * Parses XML (libxml2, no network, no external entities, no DTD loading) into the model of
 * igw/node.h. The encoding declared in the prolog is honoured; output strings are UTF-8.
 * Arguments and ownership as igw_codec_parse_fn (igw/codec.h): text is borrowed (NULL only with
 * len 0), the tree belongs to a, *root is NULL on failure, lim and err may be NULL.
 * Thread-safe (libxml2 is initialised once).
 * @return IGW_OK; IGW_EINVAL a or root is NULL, or text is NULL with len > 0; IGW_EPARSE
 *         malformed or empty document, or no root element (err has line/column); IGW_ELIMIT
 *         deeper than lim->max_depth (default 256), more than lim->max_nodes nodes, a document
 *         over 2 GiB or entity expansion over its budget; IGW_ENOMEM out of memory or arena
 *         exhausted.
 */
int igw_xml_parse(igw_arena *a, const char *text, size_t len, const struct igw_parse_limits *lim,
                  struct igw_node **root, struct igw_parse_error *err);

/**
 * Appends the tree at root (borrowed) to out as XML (UTF-8, with prolog; indented with
 * IGW_WRITE_PRETTY). root must be an OBJECT with one member, the root element. On failure out
 * is left as it was.
 * @return IGW_OK; IGW_EINVAL root or out is NULL or the tree is not representable in XML (root
 *         shape, invalid names, arrays where elements are expected, characters XML 1.0 cannot
 *         hold, a namespaced attribute without prefix, nesting too deep); IGW_ETOOBIG out would
 *         grow past its max; IGW_ENOMEM out of memory.
 */
int igw_xml_write(const struct igw_node *root, struct igw_buf *out, unsigned flags);

#endif /* IGW_XML_H */
