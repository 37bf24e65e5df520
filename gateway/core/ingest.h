/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway-internal: turning one received request (HTTP or SP) into an igw_queue_msg: the
 * transport-neutral ingest pipeline both intake transports share. Nothing here blocks; every
 * function is called from nng callbacks or the queue's writer thread unless it says otherwise.
 */
#ifndef IGW_GATEWAY_CORE_INGEST_H
#define IGW_GATEWAY_CORE_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "igw/buf.h"
#include "igw/config.h"
#include "igw/queue.h"
#include "delivery/deliver.h"
#include "http/http.h"
#include "core/translate.h"
#include "core/dialect.h"

/* Returns the value of a request header, or NULL. */
typedef const char *(*igw_header_fn)(void *arg, const char *name);

/* One request being turned into a queue message. Fill the inputs, call igw_ingest_prepare,
 * then igw_ingest_msg; igw_ingest_fini frees what prepare allocated. */
struct igw_ingest {
    /* inputs (borrowed; must outlive the submit call) */
    const struct igw_channel *ch;
    const char *method;              /* "POST", or "SP" */
    const char *target;              /* request target (path and query), may be NULL */
    const struct igw_path_match *pm; /* captured path parameters, may be NULL */
    igw_header_fn header;            /* may be NULL */
    void *header_arg;
    const char *content_type; /* may be NULL */
    const char *idem_key;     /* may be NULL (then the dialect may derive one: idem_buf) */
    const char *body;
    size_t body_len;
    igw_maps *maps; /* mapping set; NULL = no translation */
    /* outputs */
    struct igw_queue_route_init *routes; /* ch->nroutes entries */
    struct igw_buf keys;                 /* storage for order keys */
    struct igw_buf meta;                 /* metadata JSON */
    const struct igw_node *root;         /* parsed body, or NULL */
    struct igw_xlate x;                  /* arena of root and translated payloads */
    /* a refusal built by the channel's dialect (check_input/check_output, core/dialect.h):
     * when errbody.len > 0 the intake answers errstatus with this body verbatim */
    int errstatus;
    const char *errtype; /* Content-Type of errbody */
    struct igw_buf errbody;
    char idem_buf[IGW_DIALECT_KEY_MAX]; /* a key the dialect derived (message_key) */
};

/* The answer to an accepted message, built by the channel's dialect (core/dialect.h: answer);
 * plain {"id","status"} 202 when the dialect has no answer op or the channel none. */
struct igw_accept_resp {
    int status;
    const char *content_type;
    char location[512];     /* empty = no Location header */
    char etag[64];          /* ETag header value (W/"<version>"); empty = none */
    char last_modified[40]; /* Last-Modified (an HTTP-date); empty = none */
    struct igw_buf body;
};

/** Parses the body (channels with input json, xml or csv, or with a mapped route; unless the
 *  dialect accepts it unparsed), computes each route's order key, lets the dialect derive an
 *  idempotency key and check the input, translates it for every route that names a map, lets
 *  the dialect check the payloads, and builds the metadata. Each dialect op is one indirect
 *  call through in->ch->dialect_ops (core/dialect.h). A dialect refusal fills in->errstatus,
 *  in->errtype and in->errbody: answer that body verbatim when errbody.len > 0.
 *  @return IGW_OK, IGW_EPARSE (body does not parse: answer 400; "line L, column C: ..." in
 *  err), IGW_ETRANSLATE (a map failed: answer 422; detail in err), IGW_ENOMEM.
 *  Call igw_ingest_fini in every case. */
int igw_ingest_prepare(struct igw_ingest *in, char *err, size_t errlen);

/** Builds the answer to a committed message (id, duplicate from the queue) in the channel's
 *  dialect into out: out->body is initialised here, igw_buf_fini(&out->body) it afterwards in
 *  every case. @return IGW_OK, IGW_ENOMEM. */
int igw_accept_response(const struct igw_ingest *in, uint64_t id, bool duplicate,
                        struct igw_accept_resp *out);

/** Fills a queue message that borrows everything from in. */
void igw_ingest_msg(const struct igw_ingest *in, struct igw_queue_msg *m);

void igw_ingest_fini(struct igw_ingest *in);

/** The error code for a body that does not parse: "invalid_json", "invalid_xml" or
 *  "invalid_csv", from the channel's input format. */
const char *igw_ingest_parse_code(const struct igw_ingest *in);

/** Appends an error body in the channel's dialect (its refusal op, core/dialect.h), or plain
 *  {"error":{"status","code","message"}} when ch is NULL (no channel matched) or its dialect
 *  has no refusal op. *content_type is set to the body's media type (a static string).
 *  @return IGW_OK, IGW_ENOMEM, IGW_ETOOBIG (b's max). */
int igw_http_error_body(const struct igw_channel *ch, struct igw_buf *b, int status,
                        const char *code, const char *message, const char **content_type);

/** Finds the channel with this name; NULL if none. */
const struct igw_channel *igw_channel_by_name(const struct igw_config *cfg, const char *name,
                                              size_t len);

#endif /* IGW_GATEWAY_CORE_INGEST_H */
