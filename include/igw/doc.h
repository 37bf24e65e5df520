/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The neutral document tree every codec parses into and every map reads and writes.
 *
 * Nodes live in an igw_arena (one per message); nothing in a tree is freed individually and all
 * strings point into the arena (or into static storage for constants). Strings carry a length
 * and are also NUL-terminated. Trees are not thread-safe; a finished tree may be read by several
 * threads if nobody writes it.
 *
 * Model:
 * - JSON maps one to one: objects (ordered members; duplicate keys are kept in order), arrays,
 *   strings, numbers (raw text kept, so "12.50" stays "12.50"), booleans, null.
 * - XML: an element is a member of its parent object, keyed by its local name, in document order;
 *   repeated elements are repeated members with the same key. An element with neither attributes
 *   nor child elements is a STRING node (its text; "" when empty). Otherwise it is an OBJECT whose
 *   attributes are STRING members flagged IGW_NODE_ATTR (key without '@'), whose child elements
 *   follow, and whose non-blank text is a STRING member keyed "#text" (mixed text segments are
 *   kept in order as several "#text" members). The document root is an OBJECT with one member:
 *   the root element. Namespaces: node->ns is the element's or attribute's namespace URI (NULL
 *   when none) and node->prefix the prefix used in the source, so output can re-declare them.
 * - CSV: an ARRAY of OBJECTs (one per record, members keyed by the header row) of STRINGs; with
 *   no header row, an ARRAY of ARRAYs of STRINGs.
 */
#ifndef IGW_DOC_H
#define IGW_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "igw/arena.h"
#include "igw/buf.h"

enum igw_node_type {
    IGW_NODE_NULL = 0,
    IGW_NODE_BOOL,
    IGW_NODE_NUMBER,
    IGW_NODE_STRING,
    IGW_NODE_ARRAY,
    IGW_NODE_OBJECT,
};

#define IGW_NODE_ATTR 0x01u /* XML attribute */

struct igw_node {
    uint8_t type;    /* enum igw_node_type */
    uint8_t flags;   /* IGW_NODE_* */
    uint32_t count;  /* number of children (ARRAY, OBJECT) */
    const char *key; /* member name inside an OBJECT; NULL for array items and the root */
    uint32_t key_len;
    uint32_t len;       /* length of str (STRING, NUMBER) */
    const char *str;    /* STRING text or NUMBER raw text */
    double num;         /* NUMBER value */
    bool boolean;       /* BOOL value */
    const char *ns;     /* XML namespace URI or NULL */
    const char *prefix; /* XML prefix as written or NULL */
    struct igw_node *parent;
    struct igw_node *first; /* children, in order */
    struct igw_node *last;
    struct igw_node *next; /* next sibling */
};

/* ---- building (all return NULL on arena exhaustion) -------------------------------------- */
struct igw_node *igw_node_new(igw_arena *a, enum igw_node_type type);
struct igw_node *igw_node_string(igw_arena *a, const char *s, size_t len);     /* copies s */
struct igw_node *igw_node_string_ref(igw_arena *a, const char *s, size_t len); /* no copy: s
                                                             must outlive the tree */
struct igw_node *igw_node_number(igw_arena *a, double v); /* formats raw text with %.17g rules */
struct igw_node *igw_node_number_text(igw_arena *a, const char *s, size_t len); /* copies */
struct igw_node *igw_node_bool(igw_arena *a, bool v);
/** Appends child to an ARRAY or OBJECT parent; for an OBJECT, key (copied) names the member. */
int igw_node_append(igw_arena *a, struct igw_node *parent, const char *key, size_t key_len,
                    struct igw_node *child);
/** Links child as the last child of parent without copying anything: key (for an OBJECT
 *  parent; ignored otherwise) must live as long as the tree. The hot path of every codec. */
static inline void
igw_node_link(struct igw_node *parent, const char *key, uint32_t key_len, struct igw_node *child)
{
    if (parent->type == IGW_NODE_OBJECT) {
        child->key = key;
        child->key_len = key_len;
    }
    child->parent = parent;
    child->next = NULL;
    if (parent->last != NULL) {
        parent->last->next = child;
    } else {
        parent->first = child;
    }
    parent->last = child;
    parent->count++;
}

/** Deep copy of n (and its subtree) into arena a. NULL on exhaustion. */
struct igw_node *igw_node_clone(igw_arena *a, const struct igw_node *n);

/* ---- reading ----------------------------------------------------------------------------- */
/** First member of obj named key (NULL if obj is not an OBJECT or has none). */
struct igw_node *igw_node_get(const struct igw_node *obj, const char *key, size_t key_len);
/** Next member after m with the same key (repeated XML elements, duplicate JSON keys). */
struct igw_node *igw_node_next_same(const struct igw_node *m);
/** i-th child of an ARRAY or OBJECT, NULL if out of range (O(i)). */
struct igw_node *igw_node_at(const struct igw_node *n, size_t i);
/** Deep equality (type, keys in order, values; numbers compare by value). */
bool igw_node_equal(const struct igw_node *a, const struct igw_node *b);

/* ---- codecs ------------------------------------------------------------------------------ */

struct igw_parse_error {
    unsigned line;   /* 1-based; 0 when unknown */
    unsigned column; /* 1-based, in bytes */
    char msg[256];
};

struct igw_parse_limits {
    unsigned max_depth; /* nesting depth; 0 = 256 */
    size_t max_nodes;   /* 0 = unlimited (the arena limit still applies) */
};

/** Parses JSON text (RFC 8259, UTF-8 validated) into a tree in arena a.
 *  @return IGW_OK, IGW_EPARSE (err filled with line/column), IGW_ELIMIT (depth/nodes),
 *          IGW_ENOMEM (arena exhausted). */
int igw_json_parse(igw_arena *a, const char *text, size_t len, const struct igw_parse_limits *lim,
                   struct igw_node **root, struct igw_parse_error *err);

#define IGW_WRITE_PRETTY 0x01u
/** Appends the tree as JSON to out. Members with XML attribute flags are written as "@key".
 *  @return IGW_OK, IGW_ETOOBIG (out's max), IGW_ENOMEM. */
int igw_json_write(const struct igw_node *root, struct igw_buf *out, unsigned flags);

/** Parses XML (libxml2, no network, no external entities, no DTD loading) into the model above.
 *  The encoding declared in the prolog is honoured; output strings are UTF-8.
 *  @return IGW_OK, IGW_EPARSE (line/column), IGW_ELIMIT, IGW_ENOMEM. */
int igw_xml_parse(igw_arena *a, const char *text, size_t len, const struct igw_parse_limits *lim,
                  struct igw_node **root, struct igw_parse_error *err);
/** Writes the tree as XML (UTF-8, with prolog). root is an OBJECT with one member (the root
 *  element). @return IGW_OK, IGW_EINVAL (tree not representable), IGW_ETOOBIG, IGW_ENOMEM. */
int igw_xml_write(const struct igw_node *root, struct igw_buf *out, unsigned flags);

struct igw_csv_opts {
    char delimiter; /* default ',' */
    bool header;    /* first record names the columns (default true when opts is NULL) */
};
/** Parses RFC 4180 CSV. @return IGW_OK, IGW_EPARSE (line/column), IGW_ELIMIT, IGW_ENOMEM. */
int igw_csv_parse(igw_arena *a, const char *text, size_t len, const struct igw_csv_opts *opts,
                  const struct igw_parse_limits *lim, struct igw_node **root,
                  struct igw_parse_error *err);
/** Writes an ARRAY of OBJECTs (header from the first object's keys) or ARRAY of ARRAYs.
 *  Fields are quoted when needed; lines end with CRLF. @return IGW_OK, IGW_EINVAL, IGW_ETOOBIG,
 *  IGW_ENOMEM. */
int igw_csv_write(const struct igw_node *root, const struct igw_csv_opts *opts,
                  struct igw_buf *out);

enum igw_format { IGW_FMT_NONE = 0, IGW_FMT_JSON, IGW_FMT_XML, IGW_FMT_CSV };
/** "json"/"fhir-r4"/"dci" -> JSON, "xml" -> XML, "csv" -> CSV; IGW_FMT_NONE when unknown. */
enum igw_format igw_format_parse(const char *name);
/** From a file name's extension (.json .xml .csv); IGW_FMT_NONE when unknown. */
enum igw_format igw_format_from_path(const char *path);
/** Parses text of the given format (CSV with default options). */
int igw_doc_parse(enum igw_format f, igw_arena *a, const char *text, size_t len,
                  const struct igw_parse_limits *lim, struct igw_node **root,
                  struct igw_parse_error *err);
int igw_doc_write(enum igw_format f, const struct igw_node *root, struct igw_buf *out,
                  unsigned flags);

#endif /* IGW_DOC_H */
