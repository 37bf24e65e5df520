/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the mapping set used at intake, reloadable without dropping messages.
 *
 * igw translates a message when it is accepted, so a sender whose message cannot be translated
 * gets the error (422) instead of a message that can never be delivered; the queue stores the
 * original body and each route's translated payload. The loaded igw_map_set is reference
 * counted: a reload (SIGHUP) compiles the new set beside the old one and swaps it in only when
 * it compiled and names every map the routes use; translations already running finish on the
 * set they started with.
 */
#ifndef IGW_GATEWAY_TRANSLATE_INT_H
#define IGW_GATEWAY_TRANSLATE_INT_H

#include <stddef.h>

#include "igw/arena.h"
#include "igw/config.h"
#include "igw/doc.h"
#include "igw/map.h"
#include "igw/queue.h"

typedef struct igw_maps igw_maps;
struct igw_maps_ref;

/** Loads cfg->mappings_dir when at least one route names a map (otherwise *out is a holder
 *  with no set), and checks that every route's map exists. cfg must outlive the holder.
 *  @return IGW_OK, IGW_ECONFIG (detail "dir/x/map:3:7: ..." or "route a.b: unknown map 'x'" in
 *  errbuf), IGW_ENOMEM. */
int igw_maps_open(igw_maps **out, const struct igw_config *cfg, char *errbuf, size_t errlen);

/** The checks of igw_maps_open without keeping anything (igw config check): compiles
 *  cfg->mappings_dir when a route names a map, checks every route's map, frees the set again
 *  and logs nothing. cfg is borrowed for the call. @return IGW_OK, IGW_ECONFIG (detail as for
 *  igw_maps_open in errbuf), IGW_ENOMEM. */
int igw_maps_check(const struct igw_config *cfg, char *errbuf, size_t errlen);

/** Recompiles the mappings directory; on success new messages use the new set, on error the
 *  old set stays in use and errbuf says why. Thread-safe; blocks while compiling.
 *  @return IGW_OK, IGW_ENOENT (no route names a map: nothing to do), IGW_ECONFIG, IGW_ENOMEM. */
int igw_maps_reload(igw_maps *m, char *errbuf, size_t errlen);

/** The set in use, held until igw_maps_unhold(*ref) (a reload meanwhile keeps it alive), or
 *  NULL (and *ref NULL) when no map is loaded. m may be NULL. Thread-safe. */
const igw_map_set *igw_maps_hold(igw_maps *m, struct igw_maps_ref **ref);

/** Releases what igw_maps_hold took; NULL-safe. */
void igw_maps_unhold(struct igw_maps_ref *ref);

/** Frees the holder; call when no intake can use it any more. NULL-safe. */
void igw_maps_close(igw_maps *m);

/** True when any route of ch names a map. */
bool igw_channel_translates(const struct igw_channel *ch);

/** The format a channel's bodies are parsed with: its `input` option, or for `any` the
 *  request's Content-Type (JSON when unknown). */
enum igw_format igw_channel_format(const struct igw_channel *ch, const char *content_type);

/** Translation of one message, owned by the intake request. */
struct igw_xlate {
    igw_arena *arena;         /* trees and payloads; NULL until used */
    struct igw_maps_ref *ref; /* the set in use; NULL when none */
    struct igw_buf *payloads; /* one per route (only routes with a map are filled) */
    size_t npayloads;
};

/** Parses a body of format f into a tree in x's arena (created on first use).
 *  @return IGW_OK, IGW_EPARSE (err: "line L, column C: ..."), IGW_ELIMIT (too deep or too
 *  large), IGW_ENOMEM. */
int igw_xlate_parse(struct igw_xlate *x, enum igw_format f, const char *body, size_t len,
                    const struct igw_node **root, char *err, size_t errlen);

/** For every route of ch with a map, applies it to root and writes the route's payload into
 *  routes[i].payload/payload_len/content_type (they point into x until igw_xlate_fini).
 *  @return IGW_OK, IGW_ETRANSLATE (err names the route and the map's file:line:col), IGW_ELIMIT
 *  (a per-message limit), IGW_ENOMEM. Call igw_xlate_fini in every case. */
int igw_xlate_run(struct igw_xlate *x, igw_maps *maps, const struct igw_channel *ch,
                  const struct igw_node *root, struct igw_queue_route_init *routes, char *err,
                  size_t errlen);

void igw_xlate_fini(struct igw_xlate *x);

#endif /* IGW_GATEWAY_TRANSLATE_INT_H */
