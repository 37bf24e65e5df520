/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the mediator seam (docs/internals/MEDIATORS.md). A channel whose `answer`
 * option names a mediator is answered synchronously from upstream calls instead of being
 * committed to the queue: inbound request -> mediator -> one or more upstream HTTP calls ->
 * mediator -> answer. The engine (gateway/mediate/) owns the inbound request, runs every
 * upstream call on its own libcurl multi loop (never on nng's task threads), applies the
 * upstream's credentials, timeouts, concurrency and rate limits, and the channel's response
 * cache; a mediator only decides what to call and what to answer. Mediators are listed once in
 * the mediator registry (gateway/mediate/registry.c); the engine names none of them.
 *
 * A mediator is a small state machine: start() looks at the inbound request and either asks for
 * an upstream call (IGW_MED_CALL, filling m->call) or answers at once (IGW_MED_ANSWER, filling
 * m->answer); step() gets each upstream result in turn and decides again. One call at a time
 * per request; a request makes at most the channel's `mediate.max_calls` calls.
 *
 * The address of every call is the upstream's configured base URL + m->call.path: a message
 * never chooses where igw connects (the engine refuses a path that is not a plain absolute
 * path with an optional query).
 *
 * Threads: channel_init/channel_fini on the config loader's thread; start on an nng task
 * thread; step and fini on the engine's curl thread. They must not block and must treat the
 * channel and the channel state as read-only; per-request data lives in m (m->arena, m->state).
 *
 * Errors: start and step return IGW_MED_CALL or IGW_MED_ANSWER (>= 0), or a negative igw error
 * code (-IGW_EPARSE ...), which the engine answers in the channel dialect's error shape:
 * -IGW_EPARSE 400 (detail from m->err), -IGW_ENOENT 404, -IGW_ECONFLICT 412, -IGW_ETIMEDOUT
 * 504, -IGW_EIO 502 (the upstream failed or answered what the mediator cannot use), -IGW_EAGAIN
 * 503 with Retry-After, -IGW_EAUTH 502 (the upstream refused igw's credentials), -IGW_ENOMEM
 * 503. To refuse with its own body (an OperationOutcome with issue details), a mediator answers
 * (IGW_MED_ANSWER) with the status and body it wants instead.
 */
#ifndef IGW_GATEWAY_MEDIATE_MEDIATOR_H
#define IGW_GATEWAY_MEDIATE_MEDIATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/config.h"
#include "igw/err.h"
#include "igw/map.h"
#include "igw/queue.h"

struct igw_path_match;

/* What a mediator decided. IGW_MED_COMMIT: ingest m->commit (or the inbound request when
 * m->commit.body is NULL) like a request of a write channel: parsed, checked by the dialect,
 * translated by the channel's routes, committed to the queue and answered by the dialect after
 * the durable commit (FHIR PATCH: read the current resource, apply the patch, commit the
 * result as an update; If-Match: read, compare, then commit or answer 412). */
enum igw_med_next { IGW_MED_CALL = 0, IGW_MED_ANSWER = 1, IGW_MED_COMMIT = 2 };

#define IGW_MED_HEADERS_MAX 8

/** One upstream HTTP call a mediator asks for. Strings are borrowed from the mediator (m->arena
 *  or the channel state) until the next start/step call. */
struct igw_med_call {
    const char *upstream;     /* name of a configured upstream; NULL = the channel's `upstream` */
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* "/api/graphql" or "/api/api_fhir_r4/Patient?family=x" */
    const char *content_type; /* of body; NULL when there is none */
    const char *accept;       /* Accept header; NULL = none */
    const char *body;
    size_t body_len;
    const char *cache_tag; /* != NULL: the answer may be cached under this tag (see below) */
};

/** The result of an upstream call, valid during the step call that receives it. */
struct igw_med_result {
    int err;                  /* IGW_OK: an HTTP answer arrived (status set); IGW_ETIMEDOUT,
                               * IGW_EIO (connection or transport), IGW_EAGAIN (igw's own limit
                               * for that upstream: not called), IGW_EAUTH (login refused) */
    int status;               /* HTTP status when err == IGW_OK */
    const char *content_type; /* NULL when absent */
    const char *body;
    size_t body_len;
    const char *(*header)(const struct igw_med_result *r, const char *name); /* NULL-safe */
    void *priv;                                                              /* engine's */
};

/** The answer to the inbound request. body is initialised by the engine (max 16 MiB). */
struct igw_med_answer {
    int status;
    const char *content_type; /* static or m->arena */
    struct igw_buf body;
    const char *etag;          /* ETag header value, e.g. W/"3"; NULL = none */
    const char *last_modified; /* HTTP-date; NULL = none */
    const char *location;      /* NULL = none */
    struct {
        const char *name, *value;
    } headers[IGW_MED_HEADERS_MAX]; /* more headers (name NULL = unused) */
    bool no_body;                   /* HEAD: headers only (the engine also drops it for HEAD) */
    /* true: the engine may cache this answer for the channel's cache TTL under the last
     * call's cache_tag, keyed by the normalised inbound request; a write through igw of a
     * resource with that tag invalidates it (igw_mediate_invalidate). */
    bool cacheable;
};

/** One inbound request being mediated; owned by the engine from start to fini. */
struct igw_med {
    const struct igw_channel *ch;
    const struct igw_config *cfg; /* the configuration ch belongs to (the CapabilityStatement
                                   * of fhir-capabilities lists the channels sharing a base) */
    const void *chstate;          /* what the mediator's channel_init built */
    igw_queue *queue;   /* the gateway's queue, for mediators that answer from igw's own state
                         * (dci-txn-status): only the reads that never wait for the writer
                         * (igw_queue_message_get, igw_queue_deliveries); NULL when none */
    const char *method; /* GET, HEAD, POST ... */
    const char *target; /* raw request target: path and query, percent-encoded as received */
    const struct igw_path_match *pm;
    const char *(*header)(void *arg, const char *name); /* inbound headers; NULL when absent */
    void *header_arg;
    const char *body;
    size_t body_len;
    igw_arena *arena;        /* per request, freed after fini */
    const igw_map_set *maps; /* the mapping set in use (held by the engine until fini); may be
                              * NULL when the config names no map */
    void *state;             /* the mediator's per-request state (NULL at start) */
    bool internal;   /* igw's own request (a route's answer_from): skip the partner checks */
    unsigned ncalls; /* calls made so far */
    struct igw_med_call call;
    struct igw_med_answer answer;
    struct {
        const char *method; /* as the message's method ("PUT"); NULL = the inbound one */
        const char *body;   /* m->arena; NULL = the inbound body */
        size_t body_len;
        /* the media type of body, carried by the committed message and delivered as its
         * Content-Type where a route does not set one (a FHIR PATCH committed as a PUT:
         * application/fhir+json, not the inbound application/json-patch+json); static or
         * m->arena, at most 127 bytes; NULL = the inbound Content-Type */
        const char *content_type;
    } commit;
    char err[IGW_ERRBUF_SIZE]; /* detail for a negative return */
};

struct igw_mediator_ops {
    /** The value of the channel option `answer` that selects it ("map", "fhir-read" ...). */
    const char *name;
    /** One line for docs and logs. */
    const char *description;
    /** true when it may end in IGW_MED_COMMIT (its channel then has routes to deliver the
     *  commit to); a channel whose mediator never commits may have no routes. */
    bool commits;
    /** Builds per-channel state once at config load (maps named by the channel are checked
     *  there). @return IGW_OK, IGW_ECONFIG (one line in err), IGW_ENOMEM. May be NULL. */
    int (*channel_init)(const struct igw_channel *ch, void **state, char *err, size_t errlen);
    /** Frees what channel_init built; NULL-safe; may be NULL. */
    void (*channel_fini)(void *state);
    /** First decision, from the inbound request. @return IGW_MED_CALL, IGW_MED_ANSWER,
     *  IGW_MED_COMMIT or a
     *  negative error code (see the top of this file). */
    int (*start)(struct igw_med *m);
    /** Next decision, given the result of the call start/step asked for. Same returns. */
    int (*step)(struct igw_med *m, const struct igw_med_result *res);
    /** Frees m->state (the arena is freed by the engine). May be NULL. */
    void (*fini)(struct igw_med *m);
};

/** The mediator named name, or NULL (registry.c). */
const struct igw_mediator_ops *igw_mediator_find(const char *name);

/** The i-th registered mediator, or NULL past the end (for docs and `igw config reference`). */
const struct igw_mediator_ops *igw_mediator_at(unsigned i);

#endif /* IGW_GATEWAY_MEDIATE_MEDIATOR_H */
