/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: the dialect seam (docs/internals/DIALECTS.md). A dialect is the language a
 * channel speaks to its senders: what it checks in a request beyond "the body parses", how it
 * answers an accepted message and how a refusal looks. The ingest pipeline (core/ingest.c)
 * calls a channel's dialect only through the const ops table below, which the config loader
 * resolved from the channel's `dialect` option (struct igw_channel.dialect_ops); the core
 * names no dialect. Dialects live in gateway/dialect/<name>/ and are listed in the registry
 * (gateway/dialect/dialect.h, one line each).
 *
 * Every op is optional (NULL): the core then does what the plain dialect does, so a dialect
 * fills in only what differs from plain JSON.
 *
 * Threads: channel_init and channel_fini run on the thread that loads or frees the config
 * (start, SIGHUP reload, `igw config check`). Every other op runs on nng task threads (HTTP
 * handler and SP worker callbacks), on the queue's writer thread (answer, after the commit) or
 * on the admin API's worker (replay); several requests of one channel run them at once. They
 * must not block (no I/O, no locks held across calls), must treat the channel, its options and
 * its dialect_state as read-only, and keep all per-request data in the request (the
 * igw_ingest, its arena in->x.arena, the output buffers).
 *
 * Errors: every int op returns IGW_OK or one of the codes listed with it; any other code is
 * treated by the intake as an internal error (500). IGW_ENOMEM is always allowed.
 */
#ifndef IGW_GATEWAY_CORE_DIALECT_H
#define IGW_GATEWAY_CORE_DIALECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "igw/buf.h"
#include "igw/config.h"

struct igw_ingest;
struct igw_accept_resp;

/* Longest idempotency key a dialect may derive from a message (igw_idem_key_ok's bound). */
#define IGW_DIALECT_KEY_MAX 256

struct igw_dialect_ops {
    /** The value of the channel option `dialect` that selects it ("plain", "fhir"). */
    const char *name;
    /** One line for docs and logs. */
    const char *description;
    /** True when none of its hooks reads in->root: a channel of this dialect with no map and no
     *  JSON order key then validates its JSON body with igw_json_check and builds no tree. */
    bool tree_free;
    /** Name of its option section under channels.<name> ("fhir"), or NULL when it has none.
     *  The options themselves are rows of the config option table (gateway/config/). */
    const char *options;

    /** Builds the dialect's per-channel state from the channel's options once, when the config
     *  is loaded (ch->routes are parsed by then). *state starts NULL; on success the loader
     *  stores it in ch->dialect_state and owns it until channel_fini. On failure the dialect
     *  has freed what it built (channel_fini is not called) and the config is refused.
     *  @return IGW_OK, IGW_ECONFIG (one line in err, without location: the loader adds
     *  file:line:column and the option path), IGW_ENOMEM. */
    int (*channel_init)(const struct igw_channel *ch, void **state, char *err, size_t errlen);
    /** Frees what channel_init built: called once per channel whose channel_init succeeded,
     *  when the config is freed (also when a later part of the load failed). Must accept a
     *  NULL state. */
    void (*channel_fini)(void *state);

    /** True when the body is to be accepted without parsing although the channel parses its
     *  bodies (FHIR: the empty body of an id-only rest-hook notification). body[0..len) is
     *  borrowed. */
    bool (*accept_unparsed)(const struct igw_channel *ch, const char *body, size_t len);

    /** Checks what a request asks for and sends before its body is read (the media types of
     *  Accept, a `_format` query parameter, Content-Type), on the intake's thread after
     *  authentication. header(arg, name) reads a request header (NULL when absent); target is
     *  the raw request target. @return 0 to go on, or the HTTP status to refuse with (406 the
     *  dialect cannot produce what is asked for, 415 it cannot read what is sent, 400), with
     *  *code (machine code) and *msg (human message) set to static strings; the refusal body
     *  is the dialect's refusal op. May be NULL (anything goes). */
    int (*check_request)(const struct igw_channel *ch, const char *method, const char *target,
                         const char *(*header)(void *arg, const char *name), void *arg,
                         const char **code, const char **msg);

    /** Derives the message's idempotency key from its content when the request carries none
     *  (e.g. a sender id and message id in the envelope), so that a repeat is committed once
     *  and answered with duplicate = true. Runs after the body is parsed (in->root, may be
     *  NULL). Writes 1..IGW_DIALECT_KEY_MAX-1 printable ASCII bytes and a NUL into key.
     *  @return IGW_OK, IGW_ENOENT (no key: the message is not deduplicated), IGW_EPARSE (the
     *  envelope lacks what the key is made of: refused as for check_input). */
    int (*message_key)(const struct igw_ingest *in, char *key, size_t keylen);

    /** Checks the received message (in->root: the parsed body, NULL when not parsed) beyond
     *  parsing, before translation. To refuse with its own body, fill in->errstatus,
     *  in->errtype (static string) and in->errbody (already initialised, max 1 MiB): the
     *  intake then answers that verbatim; otherwise the intake answers as for the returned
     *  code with a detail from err. Allocate from in->x.arena when it is set.
     *  @return IGW_OK, IGW_EPARSE (answered 400 unless errbody says otherwise), IGW_ETRANSLATE
     *  (422 likewise), IGW_ENOMEM. */
    int (*check_input)(struct igw_ingest *in, char *err, size_t errlen);

    /** Checks the translated payloads (in->routes[i].payload) before the message is committed;
     *  refusals and codes as for check_input. It may set a route's payload (and payload_len)
     *  to what that route must deliver instead, allocated from in->x.arena (FHIR: the
     *  resource without its id on a conditional-update route). */
    int (*check_output)(struct igw_ingest *in, char *err, size_t errlen);

    /** Builds the answer to a committed message (id; duplicate: an idempotency repeat of an
     *  earlier message, id is then the first one's). out->body is initialised (max 1 MiB) and
     *  out->location is empty on entry; set out->status and out->content_type (static
     *  strings) and, for a Location header, out->location. The caller frees out->body.
     *  @return IGW_OK, IGW_ENOMEM (the intake answers 500; the message stays committed). */
    int (*answer)(const struct igw_ingest *in, uint64_t id, bool duplicate,
                  struct igw_accept_resp *out);

    /** Appends the body of a refusal that the intake itself decides (401, 404, 413, 415, 503,
     *  a parse error...) for this status, machine code ("payload_too_large") and human message
     *  to b, and sets *content_type to its media type (a static string). Called with any
     *  status; b may have a small max. @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG (b's max). */
    int (*refusal)(const struct igw_channel *ch, struct igw_buf *b, int status, const char *code,
                   const char *message, const char **content_type);
};

/** The dialect of ch (NULL when ch is NULL or was not built by the config loader). */
static inline const struct igw_dialect_ops *
igw_channel_dialect(const struct igw_channel *ch)
{
    return ch != NULL ? ch->dialect_ops : NULL;
}

#endif /* IGW_GATEWAY_CORE_DIALECT_H */
