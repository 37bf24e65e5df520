/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON codec's own entry points (translators/json/); through the table it is
 * igw_codec_json (igw/codec.h), format IGW_FMT_JSON. */
#ifndef IGW_JSON_H
#define IGW_JSON_H

#include "igw/codec.h"

/**
 * Parses JSON text (RFC 8259, UTF-8 validated; a leading byte order mark is skipped) into a
 * tree in arena a. Arguments and ownership as igw_codec_parse_fn (igw/codec.h): text is
 * borrowed (NULL only with len 0), the tree belongs to a, *root is NULL on failure, lim and err
 * may be NULL.
 * @return IGW_OK; IGW_EINVAL a or root is NULL, or text is NULL with len > 0; IGW_EPARSE
 *         malformed JSON (err has line/column); IGW_ELIMIT deeper than lim->max_depth (default
 *         256) or more than lim->max_nodes nodes, or a string or key over 4 GiB; IGW_ENOMEM
 *         arena exhausted.
 */
int igw_json_parse(igw_arena *a, const char *text, size_t len, const struct igw_parse_limits *lim,
                   struct igw_node **root, struct igw_parse_error *err);

/**
 * Appends the tree at root (borrowed) to out as JSON, compact or indented (IGW_WRITE_PRETTY).
 * Members flagged IGW_NODE_ATTR are written as "@key". On failure out is left as it was.
 * @return IGW_OK; IGW_EINVAL root or out is NULL, or a node has an unknown type;
 *         IGW_ETOOBIG out would grow past its max; IGW_ENOMEM out of memory.
 */
int igw_json_write(const struct igw_node *root, struct igw_buf *out, unsigned flags);

/* Deepest nesting igw_json_check takes as max_depth. */
#define IGW_JSON_CHECK_MAX_DEPTH 4096

/**
 * Checks that text[0..len) is one JSON value that igw_json_parse accepts with at most
 * max_depth levels of nesting (0: igw_json_parse's default, 256) and no node limit, in one pass
 * that builds and allocates nothing (translators/json/json_check.c). For a body that is stored
 * as it came and needs no tree. It gives no position or message: on a failure, call
 * igw_json_parse for the error text. text is borrowed (NULL only with len 0). Pure, thread-safe.
 * @return IGW_OK; IGW_EPARSE malformed JSON; IGW_ELIMIT deeper than max_depth, or a string or
 *         key over 4 GiB; IGW_EINVAL text is NULL with len > 0, or max_depth is over
 *         IGW_JSON_CHECK_MAX_DEPTH.
 */
int igw_json_check(const char *text, size_t len, unsigned max_depth);

#endif /* IGW_JSON_H */
