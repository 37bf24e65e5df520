/* SPDX-License-Identifier: Apache-2.0 */
/* The CSV codec's own entry points with options (translators/csv/); through the table it is
 * igw_codec_csv (igw/codec.h), format IGW_FMT_CSV, with the default options. */
#ifndef IGW_CSV_H
#define IGW_CSV_H

#include <stdbool.h>

#include "igw/codec.h"

struct igw_csv_opts {
    char delimiter; /* default ',' ('\0' = default); '"', CR and LF are rejected */
    bool header;    /* first record names the columns (default true when opts is NULL) */
};

/**
 * Parses RFC 4180 CSV (UTF-8; a leading byte order mark is skipped) into an ARRAY of OBJECTs,
 * or of ARRAYs without header (igw/node.h). opts (borrowed) may be NULL for the defaults;
 * otherwise arguments and ownership as igw_codec_parse_fn (igw/codec.h). lim->max_depth is
 * ignored (CSV is two levels deep).
 * @return IGW_OK; IGW_EINVAL a or root is NULL, text is NULL with len > 0, or the delimiter is
 *         '"', CR or LF; IGW_EPARSE invalid UTF-8 or malformed quoting (err has line/column);
 *         IGW_ELIMIT more than lim->max_nodes nodes or a field over 4 GiB; IGW_ENOMEM arena
 *         exhausted; IGW_EINTERNAL a broken invariant (a bug).
 */
int igw_csv_parse(igw_arena *a, const char *text, size_t len, const struct igw_csv_opts *opts,
                  const struct igw_parse_limits *lim, struct igw_node **root,
                  struct igw_parse_error *err);

/**
 * Appends an ARRAY of OBJECTs (header from the first object's keys, unless opts->header is
 * false) or an ARRAY of ARRAYs to out. Fields are quoted when needed; lines end with CRLF.
 * root and opts are borrowed; opts may be NULL. On failure out is left as it was.
 * @return IGW_OK; IGW_EINVAL root or out is NULL, root is not an ARRAY, rows are mixed or have
 *         members the header does not name, a field is not a scalar, or the delimiter is '"',
 *         CR or LF; IGW_ETOOBIG out would grow past its max; IGW_ENOMEM out of memory.
 */
int igw_csv_write(const struct igw_node *root, const struct igw_csv_opts *opts,
                  struct igw_buf *out);

#endif /* IGW_CSV_H */
