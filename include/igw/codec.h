/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The codec seam: a document format (JSON, XML, CSV, ...) is a struct igw_codec of operations
 * that parse text into the neutral tree (igw/node.h) and write a tree back, plus the names,
 * file extensions and media types that select it. Each codec lives in its own folder
 * translators/<name>/ and exports one `const struct igw_codec igw_codec_<name>`; the table in
 * translators/codec/codec.c lists them through IGW_CODEC_LIST below (one line per codec), which
 * also numbers the formats (enum igw_format). How to add one: docs/internals/CODECS.md.
 *
 * Layering (no circles): node tree (translators/doc/) <- codecs (translators/json, xml, csv)
 * <- the table (translators/codec/) <- the mapping engine and the gateway.
 * Threads: the table and the codec structs are constant; every function here is thread-safe
 * as long as each thread parses into its own arena and writes into its own buffer.
 */
#ifndef IGW_CODEC_H
#define IGW_CODEC_H

#include <stdarg.h>
#include <stddef.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/err.h"
#include "igw/node.h"

/* ---- parse results and limits ------------------------------------------------------------ */

struct igw_parse_error {
    unsigned line;   /* 1-based; 0 when unknown */
    unsigned column; /* 1-based, in bytes */
    char msg[256];   /* "line L, column C: what" (NUL-terminated; "" when no detail) */
};

struct igw_parse_limits {
    unsigned max_depth; /* nesting depth; 0 = 256 */
    size_t max_nodes;   /* 0 = unlimited (the arena limit still applies) */
};

#define IGW_WRITE_PRETTY 0x01u /* indent the output (codecs that cannot, ignore it) */

/* ---- the table --------------------------------------------------------------------------- */

/* One line per codec: X(ID, name) gives the format IGW_FMT_<ID> and the table entry
 * igw_codec_<name> (defined in translators/<name>/). The order fixes the format numbers. */
#define IGW_CODEC_LIST(X)                                                                          \
    X(JSON, json)                                                                                  \
    X(XML, xml)                                                                                    \
    X(CSV, csv)

#define IGW_CODEC_ENUM_(id, name) IGW_FMT_##id,
/** Format ids: IGW_FMT_NONE (0, no format) then one per codec in table order. */
enum igw_format { IGW_FMT_NONE = 0, IGW_CODEC_LIST(IGW_CODEC_ENUM_) IGW_FMT_COUNT };
#undef IGW_CODEC_ENUM_

/**
 * Parses len bytes of text (borrowed, only read during the call; need not be NUL-terminated;
 * NULL only when len is 0) into a new tree allocated in arena a (not NULL), and stores its root
 * in *root (not NULL; set to NULL first, and left NULL on failure). lim may be NULL (defaults).
 * err may be NULL; when not NULL it is cleared first and filled on IGW_EPARSE and IGW_ELIMIT
 * (and may be on others). On failure nodes already allocated stay in a until its reset.
 * @return IGW_OK; IGW_EPARSE malformed text; IGW_ELIMIT depth, node count or size limit;
 *         IGW_ENOMEM arena exhausted or out of memory; IGW_EINVAL a NULL argument or an
 *         option the codec rejects. A codec documents which of these it returns.
 */
typedef int (*igw_codec_parse_fn)(igw_arena *a, const char *text, size_t len,
                                  const struct igw_parse_limits *lim, struct igw_node **root,
                                  struct igw_parse_error *err);
/**
 * Appends the tree at root (borrowed, only read) to out (not NULL), honouring the IGW_WRITE_*
 * flags it supports. On failure out is left as it was (same length, same content).
 * @return IGW_OK; IGW_EINVAL root or out is NULL, or the tree cannot be written in this format;
 *         IGW_ETOOBIG out would grow past its max; IGW_ENOMEM out of memory.
 */
typedef int (*igw_codec_write_fn)(const struct igw_node *root, struct igw_buf *out, unsigned flags);

/** A codec: constant data, defined once in its folder; every string is static. */
struct igw_codec {
    const char *name;              /* canonical lower-case name ("json"), accepted by
                                      igw_format_parse and used in messages */
    const char *const *aliases;    /* more names igw_format_parse accepts ("fhir-r4"),
                                      NULL-terminated; the pointer may be NULL (none) */
    const char *const *extensions; /* file-name extensions without the dot ("json"),
                                      NULL-terminated; the pointer may be NULL (none) */
    const char *media_type;        /* Content-Type of written output ("application/json") */
    const char *media_match;       /* a Content-Type whose subtype contains this ("xml") selects
                                      the codec on input; NULL: only by name or as default */
    igw_codec_parse_fn parse;      /* never NULL */
    igw_codec_write_fn write;      /* never NULL */
};

#define IGW_CODEC_DECL_(id, name) extern const struct igw_codec igw_codec_##name;
IGW_CODEC_LIST(IGW_CODEC_DECL_)
#undef IGW_CODEC_DECL_

/** The codec of format f (borrowed, static). NULL for IGW_FMT_NONE and any value that is not
 *  a format. O(1): an index into the table. */
const struct igw_codec *igw_codec_get(enum igw_format f);
/** The format of codec c (its position in the table); IGW_FMT_NONE when c is NULL or not in
 *  the table. */
enum igw_format igw_codec_format(const struct igw_codec *c);

/** Format by codec name or alias, ASCII case-insensitive ("json", "fhir-r4" and "dci" -> JSON,
 *  "xml" -> XML, "csv" -> CSV). IGW_FMT_NONE when name is NULL or names no codec. */
enum igw_format igw_format_parse(const char *name);
/** Format from a file name's extension (".json", ".XML", ".csv"; only the part after the last
 *  '/' counts). IGW_FMT_NONE when path is NULL, has no extension, or no codec claims it. */
enum igw_format igw_format_from_path(const char *path);
/** Format whose media_match occurs in the subtype (after the '/') of content_type
 *  ("application/fhir+xml" -> XML, "text/csv" -> CSV). IGW_FMT_NONE when content_type is NULL,
 *  has no '/', or matches no codec (callers default to JSON). */
enum igw_format igw_format_from_media_type(const char *content_type);

/** Parses text with the codec of format f (CSV with its default options); the arguments,
 *  ownership and results are those of igw_codec_parse_fn.
 *  @return IGW_EINVAL when f names no codec (err untouched), else what the codec returns. */
int igw_doc_parse(enum igw_format f, igw_arena *a, const char *text, size_t len,
                  const struct igw_parse_limits *lim, struct igw_node **root,
                  struct igw_parse_error *err);
/** Writes root with the codec of format f; as igw_codec_write_fn.
 *  @return IGW_EINVAL when f names no codec (out untouched), else what the codec returns. */
int igw_doc_write(enum igw_format f, const struct igw_node *root, struct igw_buf *out,
                  unsigned flags);

/* ---- helpers for codec authors (translators/codec/parse_error.c) --------------------------- */

/** Fills err (NULL-safe: does nothing) with the 1-based line and byte column of pos in the text
 *  that starts at start (start <= pos, both borrowed) and the message "line L, column C: "
 *  followed by the formatted detail (truncated to fit). Cannot fail. */
void igw_parse_error_vset(struct igw_parse_error *err, const char *start, const char *pos,
                          const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

#endif /* IGW_CODEC_H */
