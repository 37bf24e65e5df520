/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The output seam: what a destination (an out_<name>/ folder) gives the delivery engine, and
 * the engine services it may call. The engine names no destination; it finds a route's output
 * in the registry (delivery/outputs.c) by the route's url scheme or kind. How to add an output:
 * docs/internals/OUTPUTS.md.
 *
 * Life of a delivery through the ops (every call on the delivery thread unless noted):
 *   engine start: engine_init once per output some route uses, route_init once per route;
 *   claimed:      the engine allocates one struct igw_dlv with the output's dlv_size bytes of
 *                 zeroed state behind it (igw_dlv_state) - one allocation per delivery;
 *   start:        the output begins the attempt and either finishes it at once
 *                 (igw_dlv_finish_*), or links it as active (igw_dlv_active_add) and finishes it
 *                 later from collect, or keeps it in a per-route batch finished by flush;
 *   each loop round: collect (completions of active deliveries), flush (batches);
 *   recorded:     release frees what start took (the delivery is then freed by the engine);
 *   stop:         abort for each delivery still active, one more collect, then the engine
 *                 releases the rest untried; route_fini per route, engine_fini per output.
 *
 * Threading: the ops run on the delivery thread, which owns every route and delivery state.
 * The only calls allowed from other threads (an nng aio callback, say) are
 * igw_deliverer_wakeup and igw_dlv_keep_response on a delivery the thread owns at that moment
 * (its operation in flight and not yet handed back). Nothing may block the delivery thread
 * beyond what the output documents (out_file: one fsync per batch).
 *
 * Errors: init functions return IGW_OK or an igw error (IGW_ENOMEM, IGW_EIO) and then own
 * nothing; the engine does not start. Per-delivery failures are never returned: they are
 * outcomes, reported with igw_dlv_finish_*.
 */
#ifndef IGW_GATEWAY_OUTPUT_H
#define IGW_GATEWAY_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/err.h"
#include "igw/queue.h"
#include "delivery/deliver.h"

#define IGW_DLV_ERROR_MAX 160 /* longest error text recorded with an outcome (with the NUL) */

struct opt; /* config/config_int.h: one row of the config option table */
struct igw_dlv;

/* An output's route options: rows of the config table (declared in the output's own
 * <name>_conf.c, the way every section of the config is declared). */
struct igw_output_config_map {
    const struct opt *opts;
    size_t nopts;
};

/* How a finished attempt reflects on the destination's health (circuit breaker input). */
enum igw_dlv_health { IGW_DLV_HEALTH_NONE = 0, IGW_DLV_HEALTH_GOOD, IGW_DLV_HEALTH_BAD };

/* One url scheme an output takes: "tcp://"; needs_host: the rest must start with a host. */
struct igw_output_scheme {
    const char *prefix;
    bool needs_host;
};

/* What route_init gets: the route, its effective concurrency, the engine and the output's
 * engine context. Valid only during the call (copy what you keep). */
struct igw_output_route {
    const struct igw_route *cfg;
    unsigned concurrency;
    igw_deliverer *d;
    void *engine_ctx;
};

/*
 * A route hook: per-payload request shaping bound by the route's config (fhir.conditional binds
 * the FHIR conditional update of dialect/fhir/fhir_out.c); outputs that set takes_hook honour
 * it. Both functions run on the delivery thread and must not block.
 */
struct igw_route_hook {
    const char *name;
    /* The request for this payload: on IGW_OK url (initialised by the hook in every case; the
     * caller igw_buf_fini's it) holds a NUL-terminated URL and *method the method (static).
     * @return IGW_OK, IGW_ENOENT (send as configured), IGW_EINVAL (cannot be sent this way:
     * reason in err; dead-letter it), IGW_ENOMEM. */
    int (*target)(const struct igw_route *r, const char *payload, size_t len, struct igw_buf *url,
                  const char **method, char *err, size_t errlen);
    /* True when a status that is permanent by default is transient on this route. */
    bool (*transient)(const struct igw_route *r, long status);
};

/*
 * A body hook: the bytes sent for a payload, rewritten at delivery time, after any map and
 * before the request is built (the DCI signature of callback:<partner> routes and of routes
 * with `sign: true`: out_http/callback.c; the DCI notify fan-out of routes with dci.notify:
 * dialect/dci/dci_notify.c; issue 10's disburse requests reuse it). Bound by the config loader
 * into igw_route.body_hook; outputs that set takes_hook honour it. Runs on the delivery thread;
 * must not block (no network I/O; an LMDB read transaction, which never waits for a writer, is
 * allowed).
 */
#define IGW_BODY_SKIP IGW_ECONFLICT /* body hook: nothing to send for this payload */

struct igw_route_body {
    const char *name;
    /* On IGW_OK out (initialised by the caller, its limit the hook's to choose within it; the
     * caller igw_buf_fini's it in every case) holds the body to send instead of payload, with
     * the same content type. payload may be NULL when len is 0. c is the claimed message (its
     * id, attempts and metadata: the channel's method, target and path parameters); borrowed
     * for the call, may be NULL (a hook must then do without it).
     * @return IGW_OK; IGW_ENOENT (send payload unchanged: e.g. already signed, relayed byte for
     * byte); IGW_BODY_SKIP (nothing to send and nothing wrong: the DCI notify of a record no
     * live subscription of the partner matches; reason in err; the output finishes the
     * delivery with igw_dlv_finish_skipped: delivered, never sent, never retried);
     * IGW_EINVAL (can never be sent: reason in err; dead-letter it); IGW_EAGAIN (not now:
     * reason in err; a transient failure, retried); IGW_ENOMEM. */
    int (*body)(const struct igw_route *r, const struct igw_queue_claim *c, const char *payload,
                size_t len, struct igw_buf *out, char *err, size_t errlen);
};

struct igw_output_ops {
    const char *name;                        /* "http": shown in logs and docs */
    const char *description;                 /* one line */
    const struct igw_output_scheme *schemes; /* url schemes it takes (case-insensitive) */
    size_t nschemes;
    /* Its route options (rows of sections channels.<name>.routes.<name>[.sub]), merged into the
     * config table: parsed, defaulted and documented with the rest (docs/CONFIG.md). May be
     * NULL. Every route gets every output's defaults, as the config format always did. */
    const struct igw_output_config_map *config_map;
    /* Config time (igw config check and serve): checks the url after the scheme (rest is not
     * empty and has no blanks) and derives the route's fields from it. On refusal writes one
     * line into err (the loader adds file:line:column and the option path). NULL: nothing to
     * check. @return IGW_OK, IGW_EINVAL, IGW_ENOMEM. */
    int (*url_check)(struct igw_route *r, const char *rest, char *err, size_t errlen);
    bool takes_hook; /* honours igw_route.hook and body_hook (else the config refuses one) */
    size_t dlv_size; /* bytes of per-delivery state (zeroed), 0 = none */

    /* Engine start: the output's engine-wide state (*ectx, may stay NULL). Optional.
     * @return IGW_OK, IGW_ENOMEM, IGW_EIO. */
    int (*engine_init)(igw_deliverer *d, void **ectx);
    void (*engine_fini)(void *ectx); /* optional; NULL-safe */
    /* Engine start: the route's context (*rctx, may stay NULL). Optional.
     * @return IGW_OK, IGW_ENOMEM, IGW_EIO. */
    int (*route_init)(const struct igw_output_route *r, void **rctx);
    void (*route_fini)(void *rctx); /* closes what the route opened; optional */

    /* Required. Begins an attempt for dl (see the life above); never fails by return. */
    void (*start)(struct igw_dlv *dl);
    /* Each loop round and at stop: finishes active deliveries whose operation completed. */
    void (*collect)(igw_deliverer *d, void *ectx);
    /* Each loop round, after the starts: writes a route's batch and finishes it. */
    void (*flush)(void *rctx);
    /* Stop: ends dl's operation without finishing dl (collect may still see it). */
    void (*abort)(struct igw_dlv *dl);
    /* Frees what start took for dl (called once per delivery, also when never started). */
    void (*release)(struct igw_dlv *dl);
};

/* ---- registry (delivery/outputs.c) ---------------------------------------------------------- */

/** Number of outputs compiled in (>= 1). */
size_t igw_output_count(void);

/** The output at index i (0-based, registry order), or NULL when i is out of range. A route's
 *  kind is its output's index + 1 (IGW_DEST_HTTP, IGW_DEST_FILE, IGW_DEST_NNG name the built-in
 *  ones). */
const struct igw_output_ops *igw_output_at(size_t i);

/** The output taking url's scheme (case-insensitive prefix match), or NULL. url must not be
 *  NULL. On success *kind (if not NULL) is the output's index + 1 and *scheme (if not NULL)
 *  the matched scheme. Static data; any thread. */
const struct igw_output_ops *igw_output_by_url(const char *url, unsigned *kind,
                                               const struct igw_output_scheme **scheme);

/** The output of a route: by r->kind when set (NULL when out of range), else by r->url, else
 *  (a route built by hand with an unknown scheme) the first output, http. */
const struct igw_output_ops *igw_output_of_route(const struct igw_route *r);

/* ---- engine services for outputs (delivery thread unless noted) ---------------------------- */

/** The output's state of dl: dlv_size zeroed bytes, aligned for any type; valid until the
 *  engine frees dl (after release). */
void *igw_dlv_state(struct igw_dlv *dl);
/** The claimed message (id, attempts, content type, payload); borrowed, lives as long as dl. */
const struct igw_queue_claim *igw_dlv_claim(const struct igw_dlv *dl);
/** The route dl belongs to and its output context (route_init's *rctx). */
const struct igw_route *igw_dlv_route(const struct igw_dlv *dl);
void *igw_dlv_route_ctx(const struct igw_dlv *dl);

/** Keeps up to 4 KiB of the destination's answer with dl (recorded with a dead letter); the
 *  rest is dropped. Any thread that owns dl at the moment. */
void igw_dlv_keep_response(struct igw_dlv *dl, const void *p, size_t n);
/** Sets (has = true) or clears a Retry-After wait (ms from now) that lengthens the backoff of
 *  a transient failure. */
void igw_dlv_retry_after(struct igw_dlv *dl, bool has, uint64_t wait_ms);

/** Links dl as started and waiting for collect (the engine waits for it at stop). */
void igw_dlv_active_add(struct igw_dlv *dl);

/** Finishes dl as delivered. */
void igw_dlv_finish_ok(struct igw_dlv *dl);
/** Records the destination's status of a successful attempt (an HTTP 2xx) before
 *  igw_dlv_finish_ok, for the outcome log line and the counters; outputs without one skip it. */
void igw_dlv_set_status(struct igw_dlv *dl, int status);
/** Finishes dl after a transient failure (what: "HTTP 503", "timeout"; copied): retried at a
 *  backoff time, or dead "retries exhausted: <what>" when the policy says so. */
void igw_dlv_finish_transient(struct igw_dlv *dl, int status, const char *what);
/** igw_dlv_finish_transient with the breaker input given: IGW_DLV_HEALTH_NONE when the failure
 *  is not the destination's (a route's answer_from: the mediator's upstream down). */
void igw_dlv_finish_transient_health(struct igw_dlv *dl, int status, const char *what,
                                     enum igw_dlv_health health);
/** Finishes dl as delivered without sending anything (a body hook's IGW_BODY_SKIP): recorded
 *  delivered with why ("no subscription", copied) as its last error, logged `delivered ...
 *  skipped="why"`, counted in the engine's `skipped` (and `delivered`); the destination's
 *  circuit breaker is not moved. */
void igw_dlv_finish_skipped(struct igw_dlv *dl, const char *why);
/** Finishes dl with a permanent failure (dead letter now); health: whether the destination is
 *  to blame (breaker input). what is copied. */
void igw_dlv_finish_fail(struct igw_dlv *dl, int status, const char *what,
                         enum igw_dlv_health health);
/** Gives dl back untried (not an attempt), due again at next_due_ms (wall clock). */
void igw_dlv_finish_released(struct igw_dlv *dl, uint64_t next_due_ms);

/** The engine's libcurl multi handle: the handle its loop runs and sleeps on. Borrowed. */
CURLM *igw_deliverer_multi(igw_deliverer *d);
/** Wakes the loop (it then calls every output's collect). Any thread; never blocks. */
void igw_deliverer_wakeup(igw_deliverer *d);
/** True once igw_deliverer_stop was called. Any thread. */
bool igw_deliverer_stopping(igw_deliverer *d);

#endif /* IGW_GATEWAY_OUTPUT_H */
