/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR search over a GraphQL upstream (translators/search/, docs/FHIR-SEARCH.md). A pure
 * library: it parses a FHIR search query string, plans the upstream GraphQL query from a
 * declarative search map (mappings/<name>/search), takes the upstream answers one at a time,
 * turns the records into resources with the existing record -> resource maps (include/igw/map.h)
 * and writes the searchset Bundle with its self/next/previous links. It knows no network: the
 * caller (the fhir-search and fhir-read mediators) makes the calls it asks for.
 *
 * Search map language (one file per resource, `#` comments, one declaration a line):
 *   search Patient from insurees map openimis-insuree-to-patient
 *   select "id uuid chfId lastName ..."        the GraphQL selection of one node
 *   id uuid                                    _id and read: argument and record path
 *   key id id relay                            default order: orderBy field, record path, compare
 *   updated validityFrom                       _lastUpdated (datetime), ETag / Last-Modified
 *   param family string lastName [opt=value ...]
 *   sort family lastName lastName [compare]
 *   include Group:member members Patient        _include / _revinclude: nested record path
 *   revinclude Group:member family Group
 * Types: string token date datetime number quantity reference uri. Options: values=a:A,b:B
 * (token code table), system=<uri>, not=<arg>, text=<arg>, in=<arg> (comma OR), raw=1 (unquoted
 * literal), chain=<argument prefix> and target=<Type> (reference), doc="...".
 *
 * Ownership: a set is immutable after load and may be used by several threads at once; an
 * igw_search_op and everything it returns live in the caller's arena. Errors are one line in
 * errbuf ("mappings/x/search:4:7: unknown type 'strng'"), as in include/igw/map.h.
 */
#ifndef IGW_SEARCH_H
#define IGW_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/map.h"
#include "igw/node.h"

typedef struct igw_search_set igw_search_set;
typedef struct igw_search_map igw_search_map;
typedef struct igw_search_op igw_search_op;

#define IGW_SEARCH_VALUE_MAX 10240u /* a decoded parameter value longer than this is refused */
#define IGW_SEARCH_PARAMS_MAX 64u   /* parameters in one query string */
#define IGW_SEARCH_QUERY_MAX 65536u /* bytes of one query string */
#define IGW_SEARCH_COUNT_MAX 1000u  /* largest _count */
#define IGW_SEARCH_COUNT_DEFAULT 20u
#define IGW_SEARCH_UPSTREAM_PAGE 100u /* records per upstream call (openIMIS's cap) */

/* ---- search maps ---------------------------------------------------------------------- */

/**
 * Loads every <dir>/<name>/search file (a folder without one is skipped). dir is borrowed and
 * must not be NULL, nor out. On success *out is a new set owned by the caller (free with
 * igw_search_set_free); on failure *out is untouched.
 * @return IGW_OK; IGW_EIO dir cannot be listed or a file read; IGW_EPARSE / IGW_ECONFIG the first
 *         error as "file:line:col: problem"; IGW_ENOMEM.
 */
int igw_search_set_load(igw_search_set **out, const char *dir, char *errbuf, size_t errlen);
/** As igw_search_set_load, with the file name file instead of "search" (the DCI registry's
 *  maps are <dir>/<name>/dci-search). file is borrowed, must not be NULL nor contain '/'
 *  (IGW_EINVAL). Same ownership and returns. */
int igw_search_set_load_named(igw_search_set **out, const char *dir, const char *file, char *errbuf,
                              size_t errlen);
/** A new empty set (for tests and tools). @return IGW_OK, IGW_EINVAL (out NULL), IGW_ENOMEM. */
int igw_search_set_new(igw_search_set **out);
/**
 * Compiles one search map from len bytes of text (borrowed) into set s; file names it in
 * messages (NULL: "<search>"). A second map for the same resource is refused.
 * @return IGW_OK; IGW_EINVAL s NULL or text NULL with len > 0; IGW_EPARSE a syntax error;
 *         IGW_ECONFIG a semantic error (unknown type, duplicate resource or parameter);
 *         IGW_ETOOBIG text over 256 KiB; IGW_ENOMEM. On failure s is unchanged.
 */
int igw_search_set_add(igw_search_set *s, const char *file, const char *text, size_t len,
                       char *errbuf, size_t errlen);
/** Frees a set and its maps. NULL-safe. */
void igw_search_set_free(igw_search_set *s);
/** The map for a FHIR resource type, borrowed (valid while s lives); NULL when s or resource is
 *  NULL or no map serves it. */
const igw_search_map *igw_search_set_find(const igw_search_set *s, const char *resource);
/** Number of maps (0 when s is NULL) and the i-th in load order (NULL past the end). */
size_t igw_search_set_count(const igw_search_set *s);
const igw_search_map *igw_search_set_at(const igw_search_set *s, size_t i);
/** The resource type and the record -> resource map name of m; "" when m is NULL. Borrowed. */
const char *igw_search_map_resource(const igw_search_map *m);
const char *igw_search_map_record_map(const igw_search_map *m);
/** Checks that every map named by the set exists in maps (borrowed). @return IGW_OK, or
 *  IGW_ECONFIG naming the search file and the missing map; IGW_EINVAL s or maps NULL. */
int igw_search_set_check(const igw_search_set *s, const igw_map_set *maps, char *errbuf,
                         size_t errlen);

/** Called once per supported search parameter: FHIR type (string token date reference number
 *  quantity uri) and the documentation (never NULL, may be ""). Strings borrowed for the call. */
typedef void (*igw_search_param_fn)(void *arg, const char *resource, const char *param,
                                    const char *type, const char *documentation);
/** Reports every parameter m supports, the common ones (_id, _lastUpdated) included, to fn.
 *  NULL m or fn: nothing. Allocates nothing. */
void igw_search_map_params(const igw_search_map *m, igw_search_param_fn fn, void *arg);

/* ---- query strings -------------------------------------------------------------------- */

/** One decoded query parameter: name (before ':'), modifier (after it, NULL when none) and
 *  value (percent-decoded, '+' as space), NUL-terminated, in the arena. */
struct igw_search_param {
    const char *name;
    const char *modifier;
    const char *value;
    size_t value_len;
};

struct igw_search_query {
    struct igw_search_param *params;
    size_t count;
};

/**
 * Parses an application/x-www-form-urlencoded query string (len bytes, borrowed; a leading '?'
 * is skipped) into a (the result lives there). Empty pieces ("a=1&&b=2") are skipped.
 * @return IGW_OK; IGW_EINVAL a or out NULL; IGW_EPARSE a bad percent escape, a NUL byte, a
 *         name that is empty or not [A-Za-z0-9_.:-], invalid UTF-8 (errbuf says which);
 *         IGW_ETOOBIG the string, a value or the number of parameters over the bounds above;
 *         IGW_ENOMEM arena exhausted.
 */
int igw_search_query_parse(igw_arena *a, const char *qs, size_t len, struct igw_search_query *out,
                           char *errbuf, size_t errlen);

/* ---- one search ----------------------------------------------------------------------- */

#define IGW_SEARCH_STRICT 0x01u /* Prefer: handling=strict: unsupported parameters are errors */

/**
 * Starts a search of resource type on the set s (borrowed, must outlive op) with query q
 * (borrowed until igw_search_op ends). The op lives in a.
 * @return IGW_OK; IGW_EINVAL an argument NULL; IGW_ENOENT no search map for the type;
 *         IGW_EPARSE a value that its type cannot take (bad date, unknown prefix, bad cursor,
 *         bad _count) and, with IGW_SEARCH_STRICT, a parameter igw does not support (errbuf says
 *         which; the caller answers 400 with an OperationOutcome); IGW_ENOMEM.
 */
int igw_search_begin(igw_search_op **out, igw_arena *a, const igw_search_set *s,
                     const char *resource, const struct igw_search_query *q, unsigned flags,
                     char *errbuf, size_t errlen);
/** Starts a read of resource type by id (borrowed). Same returns as igw_search_begin (an id
 *  over 64 bytes or outside [A-Za-z0-9.-], or not a uuid where the map's id is one
 *  (`id <arg> <path> uuid`), gives IGW_ENOENT: no record can have it). */
int igw_search_begin_read(igw_search_op **out, igw_arena *a, const igw_search_set *s,
                          const char *resource, const char *id, char *errbuf, size_t errlen);
/**
 * The JSON body ({"query": "..."}) of the next upstream GraphQL call, appended to body.
 * @return IGW_OK a call is needed; IGW_ENOENT none (the answer is ready: write it);
 *         IGW_ETOOBIG body's max; IGW_ENOMEM; IGW_EINVAL op or body NULL.
 */
int igw_search_next_call(igw_search_op *op, struct igw_buf *body);
/**
 * Feeds the upstream answer (len bytes of JSON, borrowed only during the call) to op.
 * @return IGW_OK; IGW_EIO the answer is not a GraphQL answer with the connection (or has
 *         errors; errbuf quotes the first message); IGW_ENOMEM; IGW_EINVAL op NULL.
 */
int igw_search_feed(igw_search_op *op, const char *body, size_t len, char *errbuf, size_t errlen);
/**
 * Writes the searchset Bundle for a finished search into out. base (borrowed) is the FHIR base
 * URL the links start with ("http://host:7400/fhir"); maps (borrowed) holds the record ->
 * resource maps.
 * @return IGW_OK; IGW_EINVAL an argument NULL or op is a read; IGW_ETRANSLATE a record the map
 *         cannot turn into a resource (errbuf names it); IGW_ETOOBIG out's max; IGW_ENOMEM.
 */
int igw_search_bundle(igw_search_op *op, const char *base, const igw_map_set *maps,
                      struct igw_buf *out, char *errbuf, size_t errlen);
/**
 * Writes the resource a finished read found into out, and its version: *etag (W/"...") and
 * *last_modified (an HTTP-date), both in the op's arena or NULL when the record has no updated
 * field.
 * @return IGW_OK; IGW_ENOENT no record has the id; IGW_ETRANSLATE, IGW_ETOOBIG, IGW_ENOMEM,
 *         IGW_EINVAL as igw_search_bundle.
 */
int igw_search_read(igw_search_op *op, const igw_map_set *maps, struct igw_buf *out,
                    const char **etag, const char **last_modified, char *errbuf, size_t errlen);

#endif /* IGW_SEARCH_H */
