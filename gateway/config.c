/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader. One option table (opts[] below) drives parsing, defaults, validation of scalar
 * types and the generated reference (igw config reference > docs/CONFIG.md). The YAML document
 * is loaded with libyaml's document API, which keeps each node's start mark, so every error
 * reads "file:line:column: option.path: problem".
 *
 * Each section is parsed in table order (not document order), so cross-checks such as
 * "channel max_body <= http.max_body" see the sections they depend on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include <nng/nng.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/config.h"
#include "igw/queue.h"
#include "http_int.h"

#define SECRET_FILE_MAX (1u << 20)
#define NAME_MAX_LEN 63
#define VALUE_SHOW_MAX 60

enum sect {
    S_ROOT,
    S_HTTP,
    S_HTTP_TLS,
    S_SP,
    S_ADMIN,
    S_QUEUE,
    S_DELIVERY,
    S_MAPPINGS,
    S_CHANNEL,
    S_AUTH_IN,
    S_CH_FHIR,
    S_ROUTE,
    S_RETRY,
    S_CIRCUIT,
    S_TLS,
    S_AUTH_OUT,
    S_RT_FHIR,
    S_COUNT
};

enum otype { T_STR, T_PATH, T_CHOICE, T_ENUM, T_SIZE, T_DUR, T_UINT, T_BOOL, T_LIST, T_SECT, T_FN };

#define F_REQUIRED 1u

struct ctx;
typedef int (*opt_fn)(struct ctx *c, const yaml_node_t *n, void *base);
typedef int (*finish_fn)(struct ctx *c, const yaml_node_t *n, void *base);

struct opt {
    enum sect sect;
    const char *key;
    enum otype type;
    size_t off;          /* field offset from the section's base */
    size_t off2;         /* T_LIST: offset of the size_t count */
    const char *dflt;    /* default as text; NULL = none */
    uint64_t min, max;   /* range for T_SIZE, T_DUR, T_UINT */
    const char *choices; /* T_CHOICE, T_ENUM: "a|b|c" (T_ENUM stores index + min) */
    enum sect child;     /* T_SECT and maps of sections: documented section */
    opt_fn fn;           /* T_FN */
    const char *tname;   /* type shown in the reference */
    unsigned flags;
    const char *help;
};

/* Inbound and outbound credentials as written, before the secrets are read. */
struct auth_conf {
    char *type;
    char *tokens_file;
    char **tokens;
    size_t ntokens;
    char *users_file;
    char **users;
    size_t nusers;
    char *token;
    char *token_file;
    char *user;
    char *user_file;
};

struct ctx {
    const char *file; /* name used in messages */
    char *dir;        /* directory secrets and PEM files are relative to */
    yaml_document_t *doc;
    struct igw_config *cfg;
    struct igw_channel *chan; /* channel whose routes are being parsed */
    char path[512];
    size_t pathlen;
    char *errbuf;
    size_t errlen;
};

#define FIELD(base, off, T) ((T *)(void *)((char *)(base) + (off)))

static int fn_channels(struct ctx *c, const yaml_node_t *n, void *base);
static int fn_listen(struct ctx *c, const yaml_node_t *n, void *base);
static int fn_auth_in(struct ctx *c, const yaml_node_t *n, void *base);
static int fn_auth_out(struct ctx *c, const yaml_node_t *n, void *base);
static int fn_admin_auth(struct ctx *c, const yaml_node_t *n, void *base);
static int fn_routes(struct ctx *c, const yaml_node_t *n, void *base);
static int fn_url(struct ctx *c, const yaml_node_t *n, void *base);
static int fn_headers(struct ctx *c, const yaml_node_t *n, void *base);
static int fn_ordered_by(struct ctx *c, const yaml_node_t *n, void *base);
static bool addr_ok(const char *url);

#define CFG(f) offsetof(struct igw_config, f)
#define CH(f) offsetof(struct igw_channel, f)
#define RT(f) offsetof(struct igw_route, f)
#define RP(f) offsetof(struct igw_retry_policy, f)
#define AC(f) offsetof(struct auth_conf, f)

/* clang-format off */
static const struct opt opts[] = {
    {S_ROOT, "log_level", T_CHOICE, CFG(log_level), 0, "info", 0, 0, "debug|info|warn|error",
     0, NULL, "choice", 0,
     "Lowest level of the one-line log records written to stderr."},
    {S_ROOT, "http", T_SECT, 0, 0, NULL, 0, 0, NULL, S_HTTP, NULL, "section", 0,
     "HTTP listener shared by every channel."},
    {S_ROOT, "sp", T_SECT, 0, 0, NULL, 0, 0, NULL, S_SP, NULL, "section", 0,
     "nng scalability-protocol sockets for local producers and event subscribers."},
    {S_ROOT, "admin", T_SECT, 0, 0, NULL, 0, 0, NULL, S_ADMIN, NULL, "section", 0,
     "Admin HTTP API (docs/ADMIN-API.md) on its own address and credentials."},
    {S_ROOT, "queue", T_SECT, 0, 0, NULL, 0, 0, NULL, S_QUEUE, NULL, "section", 0,
     "The durable LMDB queue every accepted message is committed to before the reply."},
    {S_ROOT, "delivery", T_SECT, 0, 0, NULL, 0, 0, NULL, S_DELIVERY, NULL, "section", 0,
     "The delivery engine that sends stored messages to routes."},
    {S_ROOT, "mappings", T_SECT, 0, 0, NULL, 0, 0, NULL, S_MAPPINGS, NULL, "section", 0,
     "Declarative mappings applied at intake (docs/MAPPING-LANGUAGE.md)."},
    {S_ROOT, "channels", T_FN, 0, 0, NULL, 0, 0, NULL, S_CHANNEL, fn_channels, "map of sections",
     0, "Inbound channels, keyed by channel name ([A-Za-z0-9_-], at most 63 characters)."},

    {S_HTTP, "listen", T_STR, CFG(http_listen), 0, NULL, 0, 0, NULL, 0, NULL, "url", 0,
     "Listen address, http://HOST:PORT (or https:// with http.tls). Unset: no HTTP input."},
    {S_HTTP, "max_body", T_SIZE, CFG(http_max_body), 0, "1MiB", 1, 1u << 30, NULL, 0, NULL,
     "size", 0,
     "Hard cap on any request body; each channel's max_body must not exceed it. Larger bodies "
     "get 413 before they are read."},
    {S_HTTP, "max_inflight", T_UINT, CFG(http_max_inflight), 0, "4096", 1, 1000000, NULL, 0,
     NULL, "integer", 0,
     "Requests being read or committed at once; beyond it new requests get 503 with "
     "Retry-After."},
    {S_HTTP, "tls", T_SECT, 0, 0, NULL, 0, 0, NULL, S_HTTP_TLS, NULL, "section", 0,
     "Server certificate for an https:// listener (TLS 1.2, mbed TLS)."},
    {S_HTTP_TLS, "cert_file", T_PATH, CFG(tls_cert), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "PEM certificate chain, relative to the config file's directory."},
    {S_HTTP_TLS, "key_file", T_PATH, CFG(tls_key), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "PEM private key (unencrypted), relative to the config file's directory."},

    {S_SP, "listen", T_STR, CFG(sp_listen), 0, NULL, 0, 0, NULL, 0, NULL, "url", 0,
     "rep0 socket for local producers (docs/SP-PROTOCOL.md), e.g. ipc://var/igw.ipc. An ipc "
     "socket file is created with mode 0600: only igw's user may send. Unset: off."},
    {S_SP, "publish", T_STR, CFG(pub_listen), 0, NULL, 0, 0, NULL, 0, NULL, "url", 0,
     "pub0 socket publishing one JSON line per queue event (topic = event kind). Unset: off."},

    {S_ADMIN, "listen", T_STR, CFG(admin_listen), 0, NULL, 0, 0, NULL, 0, NULL, "url", 0,
     "Listen address of the admin API, http://HOST:PORT (plain HTTP: bind 127.0.0.1 or a "
     "management network). Must differ from http.listen. Unset: no admin API."},
    {S_ADMIN, "auth", T_FN, 0, 0, NULL, 0, 0, NULL, S_AUTH_IN, fn_admin_auth, "section", 0,
     "Credentials of the admin API, the same keys as a channel's auth; type bearer or basic is "
     "required whenever admin.listen is set (also on 127.0.0.1). Channel credentials are not "
     "accepted here: use separate tokens."},

    {S_QUEUE, "path", T_STR, CFG(data_dir), 0, "var/queue", 0, 0, NULL, 0, NULL, "path", 0,
     "Queue directory (created with mode 0700), relative to the working directory."},
    {S_QUEUE, "map_size", T_SIZE, CFG(map_size), 0, "1GiB", 64 * 1024, 1ull << 40, NULL, 0,
     NULL, "size", 0,
     "LMDB map size: the most the queue may hold. When full, new messages get 503 while "
     "deliveries drain it."},
    {S_QUEUE, "max_batch", T_UINT, CFG(max_batch), 0, "256", 1, 65536, NULL, 0, NULL, "integer",
     0, "Most requests grouped into one commit (one fsync)."},
    {S_QUEUE, "retain_delivered", T_DUR, CFG(retain_delivered_ms), 0, "1h", 0, 366ull * 86400000,
     NULL, 0, NULL, "duration", 0, "How long delivered messages are kept for inspection."},
    {S_QUEUE, "retain_idempotency", T_DUR, CFG(retain_idempotency_ms), 0, "24h", 0,
     366ull * 86400000, NULL, 0, NULL, "duration", 0,
     "How long an Idempotency-Key is remembered (a repeat returns the first message's id)."},

    {S_MAPPINGS, "dir", T_STR, CFG(mappings_dir), 0, "mappings", 0, 0, NULL, 0, NULL, "path", 0,
     "Directory of mappings (one folder per map, mappings/<name>/map), relative to the working "
     "directory. Loaded at start when a route names a map; SIGHUP recompiles it and keeps the "
     "old maps if the new ones do not compile."},

    {S_DELIVERY, "batch", T_UINT, CFG(deliver_batch), 0, "256", 1, 65536, NULL, 0, NULL,
     "integer", 0, "Deliveries claimed from the queue per round."},

    {S_CHANNEL, "listen", T_FN, 0, 0, NULL, 0, 0, NULL, 0, fn_listen, "METHOD /path", F_REQUIRED,
     "Method (POST, PUT or PATCH) and path pattern; a {name} segment captures a path "
     "parameter, e.g. POST /events/openimis/{event}."},
    {S_CHANNEL, "auth", T_FN, 0, 0, NULL, 0, 0, NULL, S_AUTH_IN, fn_auth_in, "section", 0,
     "Credentials a client must present. Unset: no authentication."},
    {S_CHANNEL, "max_body", T_SIZE, CH(max_body), 0, NULL, 1, 1u << 30, NULL, 0, NULL, "size", 0,
     "Largest body accepted (413 above); default http.max_body."},
    {S_CHANNEL, "content_types", T_LIST, CH(content_types), CH(ncontent_types), NULL, 0, 0, NULL,
     0, NULL, "list of strings", 0,
     "Allowed media types (compared without parameters, case-insensitive); 415 otherwise. "
     "Unset: any."},
    {S_CHANNEL, "input", T_CHOICE, CH(input), 0, "json", 0, 0, "json|xml|csv|any", 0, NULL,
     "choice", 0, "Body format; json bodies are parsed on receipt and rejected with 400 when "
     "malformed."},
    {S_CHANNEL, "dialect", T_CHOICE, CH(dialect), 0, "plain", 0, 0, "plain|fhir", 0, NULL,
     "choice", 0, "Shape of error bodies: plain JSON {\"error\":{...}}, or a FHIR R4 "
     "OperationOutcome for FHIR-facing channels."},
    {S_CHANNEL, "fhir", T_SECT, 0, 0, NULL, 0, 0, NULL, S_CH_FHIR, NULL, "section", 0,
     "FHIR server behaviour of a dialect: fhir channel (docs/FHIR-CHANNELS.md)."},
    {S_CHANNEL, "routes", T_FN, 0, 0, NULL, 0, 0, NULL, S_ROUTE, fn_routes, "map of sections", 0,
     "Destinations of every accepted message, keyed by route name; the full name is "
     "<channel>.<route>."},

    {S_AUTH_IN, "type", T_CHOICE, AC(type), 0, "none", 0, 0, "none|bearer|basic", 0, NULL,
     "choice", 0, "bearer: Authorization: Bearer <token>; basic: user and password."},
    {S_AUTH_IN, "tokens_file", T_STR, AC(tokens_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "File of accepted bearer tokens, one per line (blank lines and # comments ignored), "
     "relative to the config file's directory."},
    {S_AUTH_IN, "tokens", T_LIST, AC(tokens), AC(ntokens), NULL, 0, 0, NULL, 0, NULL,
     "list of strings", 0, "Inline bearer tokens (discouraged: keep secrets out of the config)."},
    {S_AUTH_IN, "users_file", T_STR, AC(users_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "File of user:password lines for basic auth, relative to the config file's directory."},
    {S_AUTH_IN, "users", T_LIST, AC(users), AC(nusers), NULL, 0, 0, NULL, 0, NULL,
     "list of strings", 0, "Inline user:password entries (discouraged)."},

    {S_CH_FHIR, "interaction", T_CHOICE, CH(fhir_interaction), 0, "auto", 0, 0,
     "auto|create|update|bundle|notification|none", 0, NULL, "choice", 0,
     "What a request is: create (POST [base]/{type}), update (PUT [base]/{type}/{id}), bundle "
     "(POST [base]: a transaction or batch Bundle), notification (a Subscription rest-hook: a "
     "resource, a Bundle or an empty body), none (any body; only the error bodies are "
     "OperationOutcomes, accepted messages get the plain 202). auto: with a {type} path "
     "parameter PUT is update and POST create, otherwise none."},
    {S_CH_FHIR, "base_url", T_STR, CH(fhir_base_url), 0, NULL, 0, 0, NULL, 0, NULL, "url", 0,
     "Absolute service base used in Location headers and response Bundles, e.g. "
     "https://igw.example.org/fhir. Unset: the base path of the request (/fhir)."},

    {S_ROUTE, "url", T_FN, 0, 0, NULL, 0, 0, NULL, 0, fn_url, "url", F_REQUIRED,
     "Destination: http:// or https:// (HTTP request), file://PATH (append one line per "
     "message; PATH relative to the working directory), tcp:// or ipc:// (nng socket)."},
    {S_ROUTE, "method", T_CHOICE, RT(method), 0, "POST", 0, 0, "POST|PUT|PATCH", 0, NULL,
     "choice", 0, "HTTP method for http(s) routes."},
    {S_ROUTE, "mode", T_ENUM, RT(nng_mode), 0, "push", IGW_NNG_PUSH, 0, "push|req", 0, NULL,
     "choice", 0, "nng pattern for tcp:// and ipc:// routes: push0 (fire and forget) or req0 "
     "(the reply confirms delivery)."},
    {S_ROUTE, "headers", T_FN, 0, 0, NULL, 0, 0, NULL, 0, fn_headers, "map of strings", 0,
     "Extra request headers for http(s) routes."},
    {S_ROUTE, "auth", T_FN, 0, 0, NULL, 0, 0, NULL, S_AUTH_OUT, fn_auth_out, "section", 0,
     "Credentials igw sends to the destination."},
    {S_ROUTE, "timeout", T_DUR, RT(timeout_ms), 0, "10s", 1, 3600000, NULL, 0, NULL, "duration",
     0, "Limit on one delivery attempt."},
    {S_ROUTE, "concurrency", T_UINT, RT(concurrency), 0, "8", 1, 1024, NULL, 0, NULL, "integer",
     0, "Deliveries in flight at once on this route."},
    {S_ROUTE, "fhir", T_SECT, 0, 0, NULL, 0, 0, NULL, S_RT_FHIR, NULL, "section", 0,
     "FHIR delivery for http(s) routes whose url is a FHIR service base (docs/DELIVERY.md)."},
    {S_ROUTE, "retry", T_SECT, RT(retry), 0, NULL, 0, 0, NULL, S_RETRY, NULL, "section", 0,
     "Backoff between attempts: uniform(base, min(cap, base * 2^n))."},
    {S_ROUTE, "ordered_by", T_FN, 0, 0, NULL, 0, 0, NULL, 0, fn_ordered_by, "key source", 0,
     "Deliver messages with the same key strictly in order: header:NAME, json:a.b.c (a field "
     "of the JSON body) or param:NAME (a path parameter). Unset: unordered, in parallel."},
    {S_ROUTE, "circuit", T_SECT, 0, 0, NULL, 0, 0, NULL, S_CIRCUIT, NULL, "section", 0,
     "Circuit breaker: pause a route that keeps failing, then probe."},
    {S_ROUTE, "tls", T_SECT, 0, 0, NULL, 0, 0, NULL, S_TLS, NULL, "section", 0,
     "TLS settings for https:// routes."},
    {S_ROUTE, "map", T_STR, RT(map), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "Name of the mapping applied before delivery (mappings/<name>/map). Unset: the body is "
     "delivered as received."},
    {S_ROUTE, "output", T_CHOICE, RT(output), 0, NULL, 0, 0, "json|xml|csv|fhir-r4|dci", 0, NULL,
     "choice", 0,
     "Output format of the mapping (fhir-r4 and dci are JSON; fhir-r4 is sent as "
     "application/fhir+json). Unset: the format the map declares."},
    {S_ROUTE, "reverse", T_BOOL, RT(map_reverse), 0, "false", 0, 0, NULL, 0, NULL, "boolean", 0,
     "Run the map backwards (only for maps igw map lint reports as invertible)."},
    {S_ROUTE, "content_type", T_STR, RT(content_type), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "Content-Type of the translated payload. Unset: from the output format."},

    {S_RETRY, "base", T_DUR, RP(base_ms), 0, "1s", 1, 86400000, NULL, 0, NULL, "duration", 0,
     "Shortest wait and first wait's upper bound."},
    {S_RETRY, "cap", T_DUR, RP(cap_ms), 0, "10m", 1, 7ull * 86400000, NULL, 0, NULL, "duration",
     0, "Longest wait between attempts (>= base)."},
    {S_RETRY, "max_attempts", T_UINT, RP(max_attempts), 0, "10", 0, 1000000, NULL, 0, NULL,
     "integer", 0, "Attempts before the delivery is dead-lettered; 0 = no limit (then max_age "
     "must be set)."},
    {S_RETRY, "max_age", T_DUR, RP(max_age_ms), 0, "24h", 0, 366ull * 86400000, NULL, 0, NULL,
     "duration", 0, "Dead-letter once the message is this old; 0 = no limit."},

    {S_CIRCUIT, "failures", T_UINT, RT(breaker_failures), 0, "5", 0, 1000000, NULL, 0, NULL,
     "integer", 0, "Consecutive failures that open the circuit; 0 = never."},
    {S_CIRCUIT, "open_for", T_DUR, RT(breaker_open_ms), 0, "30s", 1, 86400000, NULL, 0, NULL,
     "duration", 0, "How long the circuit stays open before one probe delivery."},

    {S_TLS, "verify", T_BOOL, RT(tls_verify), 0, "true", 0, 0, NULL, 0, NULL, "boolean", 0,
     "Verify the server certificate and host name (turn off only for tests)."},
    {S_TLS, "ca_file", T_PATH, RT(ca_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "PEM CA bundle, relative to the config file's directory. Unset: the system store."},

    {S_AUTH_OUT, "type", T_CHOICE, AC(type), 0, NULL, 0, 0, "bearer|basic", 0, NULL, "choice",
     F_REQUIRED, "How igw authenticates to the destination."},
    {S_AUTH_OUT, "token_file", T_STR, AC(token_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "File holding the bearer token (first non-comment line), relative to the config file."},
    {S_AUTH_OUT, "token", T_STR, AC(token), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "Inline bearer token (discouraged)."},
    {S_AUTH_OUT, "user_file", T_STR, AC(user_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "File holding one user:password line for basic auth, relative to the config file."},
    {S_AUTH_OUT, "user", T_STR, AC(user), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "Inline user:password (discouraged)."},

    {S_RT_FHIR, "conditional", T_CHOICE, RT(fhir_conditional), 0, "none", 0, 0, "none|identifier",
     0, NULL, "choice", 0,
     "identifier: create-or-update by business identifier, PUT <url>/<resourceType>?identifier="
     "<system>\\|<value> from the payload's first identifier (a conditional update, so a "
     "redelivery updates instead of duplicating); Bundles are POSTed to <url>; 412 (several "
     "matches) dead-letters at once, 409 is retried. none: the route's method and url as "
     "configured."},
};
/* clang-format on */

static int finish_http(struct ctx *c, const yaml_node_t *n, void *base);
static int finish_sp(struct ctx *c, const yaml_node_t *n, void *base);
static int finish_admin(struct ctx *c, const yaml_node_t *n, void *base);
static int finish_channel(struct ctx *c, const yaml_node_t *n, void *base);
static int finish_route(struct ctx *c, const yaml_node_t *n, void *base);
static int finish_retry(struct ctx *c, const yaml_node_t *n, void *base);

struct sect_info {
    const char *path;
    finish_fn finish;
};

static const struct sect_info sects[S_COUNT] = {
    [S_ROOT] = {"", NULL},
    [S_HTTP] = {"http", finish_http},
    [S_HTTP_TLS] = {"http.tls", NULL},
    [S_SP] = {"sp", finish_sp},
    [S_ADMIN] = {"admin", finish_admin},
    [S_QUEUE] = {"queue", NULL},
    [S_DELIVERY] = {"delivery", NULL},
    [S_MAPPINGS] = {"mappings", NULL},
    [S_CHANNEL] = {"channels.<name>", finish_channel},
    [S_AUTH_IN] = {"channels.<name>.auth", NULL},
    [S_CH_FHIR] = {"channels.<name>.fhir", NULL},
    [S_ROUTE] = {"channels.<name>.routes.<name>", finish_route},
    [S_RETRY] = {"channels.<name>.routes.<name>.retry", finish_retry},
    [S_CIRCUIT] = {"channels.<name>.routes.<name>.circuit", NULL},
    [S_TLS] = {"channels.<name>.routes.<name>.tls", NULL},
    [S_AUTH_OUT] = {"channels.<name>.routes.<name>.auth", NULL},
    [S_RT_FHIR] = {"channels.<name>.routes.<name>.fhir", NULL},
};

/* ---- errors and option paths -------------------------------------------------------------- */

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[IGW_ERRBUF_SIZE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n == NULL) {
        igw_errbuf_set(c->errbuf, c->errlen, "%s: %s%s%s", c->file, c->path,
                       c->pathlen > 0 ? ": " : "", msg);
    } else {
        igw_errbuf_set(c->errbuf, c->errlen, "%s:%zu:%zu: %s%s%s", c->file, n->start_mark.line + 1,
                       n->start_mark.column + 1, c->path, c->pathlen > 0 ? ": " : "", msg);
    }
    return IGW_ECONFIG;
}

static size_t
path_push(struct ctx *c, const char *seg, size_t seglen)
{
    size_t old = c->pathlen;
    int k = snprintf(c->path + old, sizeof(c->path) - old, "%s%.*s", old > 0 ? "." : "",
                     (int)seglen, seg);
    if (k > 0) {
        c->pathlen += (size_t)k;
        if (c->pathlen >= sizeof(c->path)) {
            c->pathlen = sizeof(c->path) - 1;
        }
    }
    return old;
}

static void
path_pop(struct ctx *c, size_t old)
{
    c->pathlen = old;
    c->path[old] = '\0';
}

/* Copies a scalar for display: truncated, non-printable bytes shown as '?'. */
static const char *
show(const yaml_node_t *n, char *out, size_t outlen)
{
    size_t len = n->data.scalar.length;
    size_t max = outlen - 4 < VALUE_SHOW_MAX ? outlen - 4 : VALUE_SHOW_MAX;
    size_t i;

    for (i = 0; i < len && i < max; i++) {
        unsigned char ch = n->data.scalar.value[i];
        out[i] = (char)(ch >= 0x20 && ch < 0x7f ? ch : '?');
    }
    if (len > max) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
    return out;
}

static const char *
node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

/* ---- small YAML helpers ------------------------------------------------------------------- */

static const yaml_node_t *
node_at(struct ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static bool
is_null(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (n->data.scalar.length == 0 ||
            (n->data.scalar.length == 1 && n->data.scalar.value[0] == '~') ||
            (n->data.scalar.length == 4 && memcmp(n->data.scalar.value, "null", 4) == 0));
}

static bool
key_is(const yaml_node_t *k, const char *s)
{
    size_t n = strlen(s);
    return k != NULL && k->type == YAML_SCALAR_NODE && k->data.scalar.length == n &&
           memcmp(k->data.scalar.value, s, n) == 0;
}

/* Value node of key in a mapping node (NULL if absent or not a mapping). */
static const yaml_node_t *
map_get(struct ctx *c, const yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE) {
        return NULL;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        if (key_is(node_at(c, p->key), key)) {
            return node_at(c, p->value);
        }
    }
    return NULL;
}

/* A scalar's text as a new C string; errors for non-scalars and embedded NULs. */
static int
scalar_dup(struct ctx *c, const yaml_node_t *n, char **out)
{
    if (n->type != YAML_SCALAR_NODE) {
        return fail(c, n, "expected a single value, got %s", node_kind(n));
    }
    if (memchr(n->data.scalar.value, '\0', n->data.scalar.length) != NULL) {
        return fail(c, n, "value contains a NUL character");
    }
    *out = igw_strndup((const char *)n->data.scalar.value, n->data.scalar.length);
    return *out == NULL ? IGW_ENOMEM : IGW_OK;
}

static void
free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        igw_free(v[i]);
    }
    igw_free(v);
}

/* ---- "did you mean" ----------------------------------------------------------------------- */

static size_t
edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    size_t row[33];

    if (la > 32 || lb > 32) {
        return SIZE_MAX;
    }
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
            best = up + 1 < best ? up + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *
suggest(enum sect s, const char *key)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < IGW_ARRAY_LEN(opts); i++) {
        size_t d;
        if (opts[i].sect != s) {
            continue;
        }
        d = edit_distance(key, opts[i].key);
        if (d < bestd) {
            bestd = d;
            best = opts[i].key;
        }
    }
    return best;
}

/* ---- scalar options ----------------------------------------------------------------------- */

static bool
choice_index(const char *choices, const char *v, unsigned *idx)
{
    size_t vlen = strlen(v);
    const char *p = choices;
    unsigned i = 0;

    while (*p != '\0') {
        size_t n = strcspn(p, "|");
        if (n == vlen && memcmp(p, v, n) == 0) {
            *idx = i;
            return true;
        }
        p += n;
        p += *p == '|' ? 1 : 0;
        i++;
    }
    return false;
}

static int
bad_value(struct ctx *c, const struct opt *o, const yaml_node_t *n, const char *text)
{
    char shown[VALUE_SHOW_MAX + 8];
    const char *v = n != NULL ? show(n, shown, sizeof(shown)) : text;

    switch (o->type) {
    case T_DUR:
        return fail(c, n, "invalid duration \"%s\" (expected e.g. 500ms, 1s, 10m)", v);
    case T_SIZE:
        return fail(c, n, "invalid size \"%s\" (expected e.g. 512KiB, 1MiB, 2GiB)", v);
    case T_UINT:
        return fail(c, n, "invalid number \"%s\" (expected an integer from %llu to %llu)", v,
                    (unsigned long long)o->min, (unsigned long long)o->max);
    case T_BOOL:
        return fail(c, n, "invalid boolean \"%s\" (expected true or false)", v);
    default:
        return fail(c, n, "invalid value \"%s\" (expected one of: %s)", v, o->choices);
    }
}

static int
out_of_range(struct ctx *c, const struct opt *o, const yaml_node_t *n, const char *text)
{
    static const char *const unit[] = {[T_SIZE] = " bytes", [T_DUR] = " ms", [T_UINT] = ""};
    return fail(c, n, "value \"%s\" out of range (%llu%s to %llu%s)", text,
                (unsigned long long)o->min, unit[o->type], (unsigned long long)o->max,
                unit[o->type]);
}

static int
parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0') {
        return IGW_EINVAL;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) {
            return IGW_EINVAL;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return IGW_OK;
}

static int
parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < IGW_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return IGW_OK;
        }
    }
    return IGW_EINVAL;
}

/* Joins dir and rel unless rel is absolute. */
static char *
resolve_path(const char *dir, const char *rel)
{
    struct igw_buf b;
    if (rel[0] == '/' || dir == NULL || dir[0] == '\0') {
        return igw_strdup(rel);
    }
    igw_buf_init(&b, 8192);
    if (igw_buf_printf(&b, "%s/%s", dir, rel) != IGW_OK) {
        igw_buf_fini(&b);
        return NULL;
    }
    return igw_buf_steal(&b, NULL);
}

static int
set_number(struct ctx *c, const struct opt *o, void *base, const char *text, const yaml_node_t *n)
{
    uint64_t v = 0;
    int rv = IGW_EINVAL;

    if (o->type == T_SIZE) {
        rv = igw_parse_size(text, &v);
    } else if (o->type == T_DUR) {
        rv = igw_parse_duration_ms(text, &v);
    } else {
        rv = parse_uint(text, &v);
    }
    if (rv != IGW_OK) {
        return bad_value(c, o, n, text);
    }
    if (v < o->min || v > o->max) {
        return out_of_range(c, o, n, text);
    }
    if (o->type == T_UINT) {
        *FIELD(base, o->off, unsigned) = (unsigned)v;
    } else {
        *FIELD(base, o->off, uint64_t) = v;
    }
    return IGW_OK;
}

static int
set_string(struct ctx *c, const struct opt *o, void *base, const char *text, const yaml_node_t *n)
{
    char **field = FIELD(base, o->off, char *);
    unsigned idx;
    char *v;

    if ((o->type == T_CHOICE || o->type == T_ENUM) && !choice_index(o->choices, text, &idx)) {
        return bad_value(c, o, n, text);
    }
    if (o->type == T_ENUM) {
        *FIELD(base, o->off, int) = (int)(idx + o->min);
        return IGW_OK;
    }
    if (text[0] == '\0') {
        return fail(c, n, "empty value");
    }
    v = o->type == T_PATH ? resolve_path(c->dir, text) : igw_strdup(text);
    if (v == NULL) {
        return IGW_ENOMEM;
    }
    igw_free(*field);
    *field = v;
    return IGW_OK;
}

/* Sets a scalar option from text; n is the node for messages (NULL for defaults). */
static int
set_scalar(struct ctx *c, const struct opt *o, void *base, const char *text, const yaml_node_t *n)
{
    bool b;

    switch (o->type) {
    case T_SIZE:
    case T_DUR:
    case T_UINT:
        return set_number(c, o, base, text, n);
    case T_BOOL:
        if (parse_bool(text, &b) != IGW_OK) {
            return bad_value(c, o, n, text);
        }
        *FIELD(base, o->off, bool) = b;
        return IGW_OK;
    default:
        return set_string(c, o, base, text, n);
    }
}

static int
append_str(char ***v, size_t *n, char *s)
{
    char **nv = igw_realloc(*v, (*n + 1) * sizeof(char *));
    if (nv == NULL) {
        igw_free(s);
        return IGW_ENOMEM;
    }
    nv[(*n)++] = s;
    *v = nv;
    return IGW_OK;
}

/* A list of strings: a YAML sequence of scalars, or one scalar. */
static int
set_list(struct ctx *c, const struct opt *o, void *base, const yaml_node_t *n)
{
    char ***v = FIELD(base, o->off, char **);
    size_t *cnt = FIELD(base, o->off2, size_t);
    char *s = NULL;
    int rv;

    if (n->type == YAML_SCALAR_NODE) {
        rv = scalar_dup(c, n, &s);
        return rv != IGW_OK ? rv : append_str(v, cnt, s);
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        return fail(c, n, "expected a list, got %s", node_kind(n));
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        rv = scalar_dup(c, node_at(c, *it), &s);
        if (rv == IGW_OK) {
            rv = append_str(v, cnt, s);
        }
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

/* ---- sections ----------------------------------------------------------------------------- */

static int parse_section(struct ctx *c, enum sect s, const yaml_node_t *n, void *base);

static int
apply_defaults(struct ctx *c, enum sect s, void *base)
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(opts); i++) {
        int rv;
        if (opts[i].sect != s) {
            continue;
        }
        if (opts[i].type == T_SECT) {
            rv = apply_defaults(c, opts[i].child, FIELD(base, opts[i].off, char));
        } else if (opts[i].dflt != NULL) {
            rv = set_scalar(c, &opts[i], base, opts[i].dflt, NULL);
        } else {
            rv = IGW_OK;
        }
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

static const struct opt *
find_opt(enum sect s, const yaml_node_t *k)
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(opts); i++) {
        if (opts[i].sect == s && key_is(k, opts[i].key)) {
            return &opts[i];
        }
    }
    return NULL;
}

static int
unknown_key(struct ctx *c, enum sect s, const yaml_node_t *k)
{
    char shown[VALUE_SHOW_MAX + 8];
    const char *hint;

    if (k->type != YAML_SCALAR_NODE) {
        return fail(c, k, "option names must be plain strings");
    }
    show(k, shown, sizeof(shown));
    hint = suggest(s, shown);
    if (hint != NULL) {
        return fail(c, k, "unknown option \"%s\" (did you mean \"%s\"?)", shown, hint);
    }
    return fail(c, k, "unknown option \"%s\"", shown);
}

/* Every key is known and appears once. */
static int
check_keys(struct ctx *c, enum sect s, const yaml_node_t *n)
{
    yaml_node_pair_t *start = n->data.mapping.pairs.start;

    for (yaml_node_pair_t *p = start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node_at(c, p->key);
        if (find_opt(s, k) == NULL) {
            return unknown_key(c, s, k);
        }
        for (yaml_node_pair_t *q = start; q < p; q++) {
            if (find_opt(s, node_at(c, q->key)) == find_opt(s, k)) {
                return fail(c, k, "option \"%s\" given twice", find_opt(s, k)->key);
            }
        }
    }
    return IGW_OK;
}

static int
parse_value(struct ctx *c, const struct opt *o, const yaml_node_t *v, void *base)
{
    char *text = NULL;
    int rv;

    switch (o->type) {
    case T_SECT:
        return parse_section(c, o->child, v, FIELD(base, o->off, char));
    case T_FN:
        return o->fn(c, v, base);
    case T_LIST:
        return set_list(c, o, base, v);
    default:
        break;
    }
    rv = scalar_dup(c, v, &text);
    if (rv == IGW_OK) {
        rv = set_scalar(c, o, base, text, v);
    }
    igw_free(text);
    return rv;
}

static int
parse_opt(struct ctx *c, const struct opt *o, const yaml_node_t *map, void *base)
{
    const yaml_node_t *v = map_get(c, map, o->key);
    size_t old;
    int rv;

    if (v == NULL) {
        if ((o->flags & F_REQUIRED) != 0) {
            return fail(c, map, "missing required option \"%s\"", o->key);
        }
        return IGW_OK;
    }
    old = path_push(c, o->key, strlen(o->key));
    if (is_null(v) && o->type != T_SECT) {
        rv = fail(c, v, "missing value");
    } else {
        rv = parse_value(c, o, v, base);
    }
    if (rv == IGW_OK) {
        path_pop(c, old);
    }
    return rv;
}

/* Parses a mapping node into base. Defaults of the section were applied by the caller (see
 * apply_defaults), so a missing or empty section keeps them. */
static int
parse_section(struct ctx *c, enum sect s, const yaml_node_t *n, void *base)
{
    int rv;

    if (is_null(n)) {
        for (size_t i = 0; i < IGW_ARRAY_LEN(opts); i++) {
            if (opts[i].sect == s && (opts[i].flags & F_REQUIRED) != 0) {
                return fail(c, n, "missing required option \"%s\"", opts[i].key);
            }
        }
        return sects[s].finish != NULL ? sects[s].finish(c, n, base) : IGW_OK;
    }
    if (n->type != YAML_MAPPING_NODE) {
        return fail(c, n, "expected a mapping (key: value lines), got %s", node_kind(n));
    }
    rv = check_keys(c, s, n);
    for (size_t i = 0; rv == IGW_OK && i < IGW_ARRAY_LEN(opts); i++) {
        if (opts[i].sect == s) {
            rv = parse_opt(c, &opts[i], n, base);
        }
    }
    if (rv == IGW_OK && sects[s].finish != NULL) {
        rv = sects[s].finish(c, n, base);
    }
    return rv;
}

/* ---- names and named maps ----------------------------------------------------------------- */

static int
check_name(struct ctx *c, const yaml_node_t *k, const char *what)
{
    char shown[VALUE_SHOW_MAX + 8];
    size_t len = k->data.scalar.length;

    if (k->type != YAML_SCALAR_NODE) {
        return fail(c, k, "%s names must be plain strings", what);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = k->data.scalar.value[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-')) {
            return fail(c, k, "invalid %s name \"%s\" (use letters, digits, '_' and '-')", what,
                        show(k, shown, sizeof(shown)));
        }
    }
    if (len == 0 || len > NAME_MAX_LEN) {
        return fail(c, k, "%s name must have 1 to %d characters", what, NAME_MAX_LEN);
    }
    return IGW_OK;
}

static int
check_unique_names(struct ctx *c, const yaml_node_t *map, const char *what)
{
    yaml_node_pair_t *start = map->data.mapping.pairs.start;
    for (yaml_node_pair_t *p = start; p < map->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node_at(c, p->key);
        int rv = check_name(c, k, what);
        if (rv != IGW_OK) {
            return rv;
        }
        for (yaml_node_pair_t *q = start; q < p; q++) {
            const yaml_node_t *k2 = node_at(c, q->key);
            if (k2->data.scalar.length == k->data.scalar.length &&
                memcmp(k2->data.scalar.value, k->data.scalar.value, k->data.scalar.length) == 0) {
                return fail(c, k, "%s \"%.*s\" defined twice", what, (int)k->data.scalar.length,
                            (const char *)k->data.scalar.value);
            }
        }
    }
    return IGW_OK;
}

static size_t
map_size_of(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static int
parse_one_channel(struct ctx *c, const yaml_node_t *k, const yaml_node_t *v, struct igw_channel *ch)
{
    size_t old = path_push(c, (const char *)k->data.scalar.value, k->data.scalar.length);
    int rv;

    ch->name = igw_strndup((const char *)k->data.scalar.value, k->data.scalar.length);
    if (ch->name == NULL) {
        return IGW_ENOMEM;
    }
    rv = apply_defaults(c, S_CHANNEL, ch);
    if (rv == IGW_OK) {
        ch->max_body = c->cfg->http_max_body;
        c->chan = ch;
        rv = parse_section(c, S_CHANNEL, v, ch);
    }
    if (rv == IGW_OK) {
        path_pop(c, old);
    }
    return rv;
}

static int
fn_channels(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    int rv;

    if (n->type != YAML_MAPPING_NODE) {
        return fail(c, n, "expected a mapping of channel names, got %s", node_kind(n));
    }
    rv = check_unique_names(c, n, "channel");
    if (rv != IGW_OK) {
        return rv;
    }
    cfg->channels = igw_calloc(map_size_of(n) + 1, sizeof(struct igw_channel));
    if (cfg->channels == NULL) {
        return IGW_ENOMEM;
    }
    cfg->nchannels = map_size_of(n);
    for (size_t i = 0; rv == IGW_OK && i < cfg->nchannels; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        rv = parse_one_channel(c, node_at(c, p->key), node_at(c, p->value), &cfg->channels[i]);
    }
    return rv;
}

static int
route_names(struct igw_route *r, const struct igw_channel *ch, const yaml_node_t *k)
{
    struct igw_buf b;
    r->short_name = igw_strndup((const char *)k->data.scalar.value, k->data.scalar.length);
    igw_buf_init(&b, IGW_QUEUE_NAME_MAX + 1);
    if (r->short_name == NULL || igw_buf_printf(&b, "%s.%s", ch->name, r->short_name) != IGW_OK) {
        igw_buf_fini(&b);
        return IGW_ENOMEM;
    }
    r->name = igw_buf_steal(&b, NULL);
    return IGW_OK;
}

static int
parse_one_route(struct ctx *c, const yaml_node_t *k, const yaml_node_t *v, struct igw_route *r)
{
    size_t old = path_push(c, (const char *)k->data.scalar.value, k->data.scalar.length);
    int rv = route_names(r, c->chan, k);

    if (rv == IGW_OK) {
        igw_retry_policy_default(&r->retry);
        rv = apply_defaults(c, S_ROUTE, r);
    }
    if (rv == IGW_OK) {
        rv = parse_section(c, S_ROUTE, v, r);
    }
    if (rv == IGW_OK) {
        path_pop(c, old);
    }
    return rv;
}

static int
fn_routes(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_channel *ch = base;
    int rv;

    if (n->type != YAML_MAPPING_NODE) {
        return fail(c, n, "expected a mapping of route names, got %s", node_kind(n));
    }
    rv = check_unique_names(c, n, "route");
    if (rv != IGW_OK) {
        return rv;
    }
    ch->routes = igw_calloc(map_size_of(n) + 1, sizeof(struct igw_route));
    if (ch->routes == NULL) {
        return IGW_ENOMEM;
    }
    ch->nroutes = map_size_of(n);
    for (size_t i = 0; rv == IGW_OK && i < ch->nroutes; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        rv = parse_one_route(c, node_at(c, p->key), node_at(c, p->value), &ch->routes[i]);
    }
    return rv;
}

/* ---- channel listen, route url, headers, ordered_by --------------------------------------- */

static int
fn_listen(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_channel *ch = base;
    char err[IGW_ERRBUF_SIZE];
    char *text = NULL;
    char *sp;
    unsigned idx;
    int rv = scalar_dup(c, n, &text);

    if (rv != IGW_OK) {
        return rv;
    }
    sp = strchr(text, ' ');
    if (sp == NULL) {
        rv = fail(c, n, "expected \"METHOD /path\", e.g. \"POST /events/{event}\"");
        goto out;
    }
    *sp = '\0';
    if (!choice_index("POST|PUT|PATCH", text, &idx)) {
        rv = fail(c, n, "method \"%.16s\" not supported (expected POST, PUT or PATCH)", text);
        goto out;
    }
    while (*++sp == ' ') {
    }
    if (igw_path_pattern_check(sp, err, sizeof(err)) != IGW_OK) {
        rv = fail(c, n, "invalid path pattern \"%.100s\": %s", sp, err);
        goto out;
    }
    ch->method = igw_strdup(text);
    ch->path = igw_strdup(sp);
    rv = ch->method == NULL || ch->path == NULL ? IGW_ENOMEM : IGW_OK;
out:
    igw_free(text);
    return rv;
}

static const char *const url_schemes[] = {"http://", "https://", "file://", "tcp://", "ipc://"};
static const enum igw_dest_kind url_kinds[] = {IGW_DEST_HTTP, IGW_DEST_HTTP, IGW_DEST_FILE,
                                               IGW_DEST_NNG, IGW_DEST_NNG};

static int
check_url_rest(struct ctx *c, const yaml_node_t *n, struct igw_route *r, const char *rest)
{
    bool needs_host = r->kind == IGW_DEST_HTTP || strncasecmp(r->url, "tcp://", 6) == 0;

    if (rest[0] == '\0' || (needs_host && rest[0] == '/')) {
        return fail(c, n, "URL has no %s", needs_host ? "host" : "path");
    }
    if (strpbrk(rest, " \t\r\n") != NULL) {
        return fail(c, n, "URL must not contain blanks");
    }
    if (r->kind == IGW_DEST_NNG && !addr_ok(r->url)) {
        return fail(c, n,
                    "invalid address (expected e.g. tcp://127.0.0.1:5555 or "
                    "ipc://var/out.ipc)");
    }
    if (r->kind == IGW_DEST_FILE) {
        r->file_path = igw_strdup(rest);
        return r->file_path == NULL ? IGW_ENOMEM : IGW_OK;
    }
    return IGW_OK;
}

static int
fn_url(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_route *r = base;
    int rv = scalar_dup(c, n, &r->url);

    if (rv != IGW_OK) {
        return rv;
    }
    for (size_t i = 0; i < IGW_ARRAY_LEN(url_schemes); i++) {
        size_t len = strlen(url_schemes[i]);
        if (strncasecmp(r->url, url_schemes[i], len) == 0) {
            r->kind = url_kinds[i];
            return check_url_rest(c, n, r, r->url + len);
        }
    }
    return fail(c, n,
                "unsupported URL \"%.100s\" (expected http://, https://, file://, tcp:// or "
                "ipc://)",
                r->url);
}

static bool
header_name_ok(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        if (!(*s > 0x20 && *s < 0x7f) || strchr("()<>@,;:\\\"/[]?={}", *s) != NULL) {
            return false;
        }
    }
    return true;
}

static int
add_header(struct ctx *c, struct igw_route *r, const yaml_node_t *k, const yaml_node_t *v)
{
    struct igw_header *h;
    struct igw_header *nh = igw_realloc(r->headers, (r->nheaders + 1) * sizeof(*nh));
    int rv;

    if (nh == NULL) {
        return IGW_ENOMEM;
    }
    r->headers = nh;
    h = &nh[r->nheaders];
    memset(h, 0, sizeof(*h));
    r->nheaders++;
    rv = scalar_dup(c, k, &h->name);
    if (rv == IGW_OK && !header_name_ok(h->name)) {
        rv = fail(c, k, "invalid header name");
    }
    if (rv == IGW_OK) {
        rv = scalar_dup(c, v, &h->value);
    }
    if (rv == IGW_OK && strpbrk(h->value, "\r\n") != NULL) {
        rv = fail(c, v, "header values must not contain line breaks");
    }
    return rv;
}

static int
fn_headers(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_route *r = base;

    if (n->type != YAML_MAPPING_NODE) {
        return fail(c, n, "expected a mapping of header names to values, got %s", node_kind(n));
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        int rv = add_header(c, r, node_at(c, p->key), node_at(c, p->value));
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

static int
fn_ordered_by(struct ctx *c, const yaml_node_t *n, void *base)
{
    static const char *const prefixes[] = {"header:", "json:", "param:"};
    static const enum igw_order_src srcs[] = {IGW_ORDER_HEADER, IGW_ORDER_JSON, IGW_ORDER_PARAM};
    struct igw_route *r = base;
    char *text = NULL;
    int rv = scalar_dup(c, n, &text);

    for (size_t i = 0; rv == IGW_OK && i < IGW_ARRAY_LEN(prefixes); i++) {
        size_t len = strlen(prefixes[i]);
        if (strncmp(text, prefixes[i], len) == 0 && text[len] != '\0') {
            r->order_src = srcs[i];
            r->order_by = igw_strdup(text + len);
            igw_free(text);
            return r->order_by == NULL ? IGW_ENOMEM : IGW_OK;
        }
    }
    if (rv == IGW_OK) {
        rv = fail(c, n,
                  "invalid key source \"%.60s\" (expected header:NAME, json:a.b.c or "
                  "param:NAME)",
                  text);
    }
    igw_free(text);
    return rv;
}

/* ---- credentials -------------------------------------------------------------------------- */

static void
auth_conf_fini(struct auth_conf *a)
{
    igw_free(a->type);
    igw_free(a->tokens_file);
    free_list(a->tokens, a->ntokens);
    igw_free(a->users_file);
    free_list(a->users, a->nusers);
    igw_free(a->token);
    igw_free(a->token_file);
    igw_free(a->user);
    igw_free(a->user_file);
}

static int
add_secret(struct igw_auth *a, const char *s, size_t len)
{
    struct igw_secret *ns = igw_realloc(a->secrets, (a->nsecrets + 1) * sizeof(*ns));
    if (ns == NULL) {
        return IGW_ENOMEM;
    }
    a->secrets = ns;
    ns[a->nsecrets].value = igw_strndup(s, len);
    if (ns[a->nsecrets].value == NULL) {
        return IGW_ENOMEM;
    }
    ns[a->nsecrets].len = len;
    a->nsecrets++;
    return IGW_OK;
}

/* A secret is printable ASCII; a bearer token has no blanks, a basic entry holds a ':'. */
static bool
secret_ok(const char *s, size_t len, enum igw_auth_type type)
{
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) {
            return false;
        }
        if (type == IGW_AUTH_BEARER && s[i] == ' ') {
            return false;
        }
    }
    return len > 0 && (type != IGW_AUTH_BASIC || memchr(s, ':', len) != NULL);
}

static int
read_all(const char *path, struct igw_buf *b)
{
    char chunk[4096];
    FILE *f = fopen(path, "rb");
    size_t k;
    int rv = IGW_OK;

    if (f == NULL) {
        return IGW_EIO;
    }
    while (rv == IGW_OK && (k = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rv = igw_buf_append(b, chunk, k);
    }
    if (rv == IGW_OK && ferror(f)) {
        rv = IGW_EIO;
    }
    fclose(f);
    return rv;
}

/* Trims blanks around [*s, *s + *len). */
static void
trim(const char **s, size_t *len)
{
    while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && strchr(" \t\r", (*s)[*len - 1]) != NULL) {
        (*len)--;
    }
}

static int
add_secret_lines(struct ctx *c, const yaml_node_t *n, const char *name, const struct igw_buf *b,
                 enum igw_auth_type type, struct igw_auth *a)
{
    const char *p = b->ptr;
    const char *end = b->ptr + b->len;
    unsigned line = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p;
        size_t len = (size_t)((nl != NULL ? nl : end) - p);
        int rv;

        p += len + 1;
        line++;
        trim(&s, &len);
        if (len == 0 || s[0] == '#') {
            continue;
        }
        if (!secret_ok(s, len, type)) {
            return fail(c, n, "\"%s\" line %u: invalid %s", name, line,
                        type == IGW_AUTH_BASIC ? "user:password entry" : "token");
        }
        rv = add_secret(a, s, len);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

/* Reads a secrets file (relative to the config directory) into a. */
static int
load_secrets(struct ctx *c, const char *key, const char *name, enum igw_auth_type type,
             const yaml_node_t *sect, struct igw_auth *a)
{
    const yaml_node_t *n = map_get(c, sect, key);
    size_t before = a->nsecrets;
    size_t old = path_push(c, key, strlen(key));
    char *path = resolve_path(c->dir, name);
    struct igw_buf b;
    int rv;

    igw_buf_init(&b, SECRET_FILE_MAX);
    rv = path == NULL ? IGW_ENOMEM : read_all(path, &b);
    if (rv == IGW_EIO || rv == IGW_ETOOBIG) {
        rv = fail(c, n, "cannot read secrets file \"%s\" (%s)", name,
                  rv == IGW_EIO ? strerror(errno) : "larger than 1 MiB");
    }
    if (rv == IGW_OK) {
        rv = add_secret_lines(c, n, name, &b, type, a);
    }
    if (rv == IGW_OK && a->nsecrets == before) {
        rv = fail(c, n, "secrets file \"%s\" holds no %s", name,
                  type == IGW_AUTH_BASIC ? "user:password entries" : "tokens");
    }
    if (rv == IGW_OK) {
        path_pop(c, old);
    }
    igw_buf_fini(&b);
    igw_free(path);
    return rv;
}

static int
add_inline(struct ctx *c, const yaml_node_t *sect, const char *key, char **v, size_t nv,
           enum igw_auth_type type, struct igw_auth *a)
{
    for (size_t i = 0; i < nv; i++) {
        int rv;
        if (!secret_ok(v[i], strlen(v[i]), type)) {
            size_t old = path_push(c, key, strlen(key));
            rv = fail(c, map_get(c, sect, key), "entry %zu: invalid %s", i + 1,
                      type == IGW_AUTH_BASIC ? "user:password entry" : "token");
            path_pop(c, old);
            return rv;
        }
        rv = add_secret(a, v[i], strlen(v[i]));
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

static int
auth_in_bearer(struct ctx *c, const yaml_node_t *n, struct auth_conf *ac, struct igw_auth *a)
{
    int rv = IGW_OK;
    if (ac->users_file != NULL || ac->nusers > 0) {
        return fail(c, n, "users/users_file are for type basic");
    }
    if (ac->tokens_file != NULL) {
        rv = load_secrets(c, "tokens_file", ac->tokens_file, IGW_AUTH_BEARER, n, a);
    }
    if (rv == IGW_OK) {
        rv = add_inline(c, n, "tokens", ac->tokens, ac->ntokens, IGW_AUTH_BEARER, a);
    }
    return rv;
}

static int
auth_in_basic(struct ctx *c, const yaml_node_t *n, struct auth_conf *ac, struct igw_auth *a)
{
    int rv = IGW_OK;
    if (ac->tokens_file != NULL || ac->ntokens > 0) {
        return fail(c, n, "tokens/tokens_file are for type bearer");
    }
    if (ac->users_file != NULL) {
        rv = load_secrets(c, "users_file", ac->users_file, IGW_AUTH_BASIC, n, a);
    }
    if (rv == IGW_OK) {
        rv = add_inline(c, n, "users", ac->users, ac->nusers, IGW_AUTH_BASIC, a);
    }
    return rv;
}

static int
resolve_auth_in(struct ctx *c, const yaml_node_t *n, struct auth_conf *ac, struct igw_auth *a)
{
    int rv;

    if (strcmp(ac->type, "none") == 0) {
        a->type = IGW_AUTH_NONE;
        if (ac->tokens_file != NULL || ac->ntokens > 0 || ac->users_file != NULL ||
            ac->nusers > 0) {
            return fail(c, n, "credentials given but type is none (set type: bearer or basic)");
        }
        return IGW_OK;
    }
    a->type = strcmp(ac->type, "bearer") == 0 ? IGW_AUTH_BEARER : IGW_AUTH_BASIC;
    rv = a->type == IGW_AUTH_BEARER ? auth_in_bearer(c, n, ac, a) : auth_in_basic(c, n, ac, a);
    if (rv == IGW_OK && a->nsecrets == 0) {
        rv = fail(c, n, "type %s needs %s", ac->type,
                  a->type == IGW_AUTH_BEARER ? "tokens_file or tokens" : "users_file or users");
    }
    return rv;
}

static int
fn_auth_in(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_channel *ch = base;
    struct auth_conf ac;
    int rv;

    memset(&ac, 0, sizeof(ac));
    rv = apply_defaults(c, S_AUTH_IN, &ac);
    if (rv == IGW_OK) {
        rv = parse_section(c, S_AUTH_IN, n, &ac);
    }
    if (rv == IGW_OK) {
        rv = resolve_auth_in(c, n, &ac, &ch->auth);
    }
    auth_conf_fini(&ac);
    return rv;
}

static int
fn_admin_auth(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    struct auth_conf ac;
    int rv;

    memset(&ac, 0, sizeof(ac));
    rv = apply_defaults(c, S_AUTH_IN, &ac);
    if (rv == IGW_OK) {
        rv = parse_section(c, S_AUTH_IN, n, &ac);
    }
    if (rv == IGW_OK) {
        rv = resolve_auth_in(c, n, &ac, &cfg->admin_auth);
    }
    auth_conf_fini(&ac);
    return rv;
}

/* Outbound: exactly one credential, inline or from the first line of a file. */
static int
resolve_auth_out(struct ctx *c, const yaml_node_t *n, struct auth_conf *ac, struct igw_auth *a)
{
    bool bearer = strcmp(ac->type, "bearer") == 0;
    const char *file = bearer ? ac->token_file : ac->user_file;
    const char *inl = bearer ? ac->token : ac->user;
    const char *fkey = bearer ? "token_file" : "user_file";
    int rv = IGW_OK;

    a->type = bearer ? IGW_AUTH_BEARER : IGW_AUTH_BASIC;
    if ((bearer && (ac->user != NULL || ac->user_file != NULL)) ||
        (!bearer && (ac->token != NULL || ac->token_file != NULL))) {
        return fail(c, n, "%s are for type %s", bearer ? "user/user_file" : "token/token_file",
                    bearer ? "basic" : "bearer");
    }
    if ((file == NULL) == (inl == NULL)) {
        return fail(c, n, "type %s needs exactly one of %s or %s", ac->type, fkey,
                    bearer ? "token" : "user");
    }
    if (file != NULL) {
        rv = load_secrets(c, fkey, file, a->type, n, a);
    } else if (!secret_ok(inl, strlen(inl), a->type)) {
        rv = fail(c, n, "invalid %s", bearer ? "token" : "user:password entry");
    } else {
        rv = add_secret(a, inl, strlen(inl));
    }
    return rv; /* a file may hold several lines: the caller keeps the first */
}

static void
auth_fini(struct igw_auth *a)
{
    for (size_t i = 0; i < a->nsecrets; i++) {
        if (a->secrets[i].value != NULL) {
            memset(a->secrets[i].value, 0, a->secrets[i].len);
        }
        igw_free(a->secrets[i].value);
    }
    igw_free(a->secrets);
    a->secrets = NULL;
    a->nsecrets = 0;
}

static int
fn_auth_out(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_route *r = base;
    struct igw_auth tmp;
    struct auth_conf ac;
    int rv;

    memset(&ac, 0, sizeof(ac));
    memset(&tmp, 0, sizeof(tmp));
    rv = parse_section(c, S_AUTH_OUT, n, &ac);
    if (rv == IGW_OK) {
        rv = resolve_auth_out(c, n, &ac, &tmp);
    }
    if (rv == IGW_OK) {
        rv = add_secret(&r->auth, tmp.secrets[0].value, tmp.secrets[0].len);
        r->auth.type = tmp.type;
    }
    auth_fini(&tmp);
    auth_conf_fini(&ac);
    return rv;
}

/* ---- cross-checks ------------------------------------------------------------------------- */

/* host[:port] of a tcp or http address: a name, an IPv4 address, [IPv6], empty or '*'. */
static const char *
skip_host(const char *p)
{
    if (*p == '[') {
        p++;
        while (*p != '\0' && (strchr("0123456789abcdefABCDEF:.", *p) != NULL)) {
            p++;
        }
        return *p == ']' ? p + 1 : NULL;
    }
    if (*p == '*') {
        return p + 1;
    }
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '.' || *p == '-') {
        p++;
    }
    return p;
}

/* Strict syntax check before nng sees an address: nng 1.5.2's nng_url_parse reads past the
 * end of some malformed strings (found by fuzzing, e.g. a trailing '@'). */
static bool
addr_ok(const char *url)
{
    const char *p = strstr(url, "://");
    size_t digits = 0;

    if (p == NULL || strchr(url, '@') != NULL) {
        return false;
    }
    p += 3;
    if (strncmp(url, "ipc://", 6) == 0) {
        for (const char *q = p; *q != '\0'; q++) {
            if (*q <= 0x20 || *q >= 0x7f) {
                return false;
            }
        }
        return *p != '\0';
    }
    p = skip_host(p);
    if (p == NULL || *p != ':') {
        return false;
    }
    while (*++p >= '0' && *p <= '9') {
        digits++;
    }
    return digits >= 1 && digits <= 5 && (*p == '\0' || strcmp(p, "/") == 0);
}

static int
check_nng_url(struct ctx *c, const yaml_node_t *sect, const char *key, const char *url)
{
    nng_url *u = NULL;
    int rv;

    if (url == NULL) {
        return IGW_OK;
    }
    if (!addr_ok(url)) {
        size_t old = path_push(c, key, strlen(key));
        rv = fail(c, map_get(c, sect, key),
                  "invalid address \"%.100s\" (expected e.g. tcp://127.0.0.1:5555, "
                  "ipc://var/igw.ipc or http://127.0.0.1:7400)",
                  url);
        path_pop(c, old);
        return rv;
    }
    rv = nng_url_parse(&u, url);
    nng_url_free(u);
    if (rv != 0) {
        size_t old = path_push(c, key, strlen(key));
        rv = fail(c, map_get(c, sect, key), "invalid address \"%.100s\" (%s)", url,
                  nng_strerror(rv));
        path_pop(c, old);
        return rv;
    }
    return IGW_OK;
}

static int
finish_http(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    bool tls = cfg->tls_cert != NULL || cfg->tls_key != NULL;
    const char *l = cfg->http_listen;
    int rv = check_nng_url(c, n, "listen", l);

    if (rv != IGW_OK || l == NULL) {
        return rv;
    }
    if (strncmp(l, "http://", 7) != 0 && strncmp(l, "https://", 8) != 0) {
        return fail(c, map_get(c, n, "listen"),
                    "listen must be http://HOST:PORT or "
                    "https://HOST:PORT");
    }
    if ((strncmp(l, "https://", 8) == 0) != tls ||
        (tls && (cfg->tls_cert == NULL || cfg->tls_key == NULL))) {
        return fail(c, n,
                    "https:// needs tls.cert_file and tls.key_file, and tls needs "
                    "https://");
    }
    return IGW_OK;
}

static int
finish_sp(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    int rv = check_nng_url(c, n, "listen", cfg->sp_listen);

    if (rv == IGW_OK) {
        rv = check_nng_url(c, n, "publish", cfg->pub_listen);
    }
    if (rv == IGW_OK && cfg->sp_listen != NULL && cfg->pub_listen != NULL &&
        strcmp(cfg->sp_listen, cfg->pub_listen) == 0) {
        rv = fail(c, map_get(c, n, "publish"), "publish must differ from listen");
    }
    return rv;
}

/* The admin API: plain http://, its own address, and always credentials. */
static int
finish_admin(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    const char *l = cfg->admin_listen;
    int rv = check_nng_url(c, n, "listen", l);

    if (rv != IGW_OK || l == NULL) {
        return rv;
    }
    if (strncmp(l, "http://", 7) != 0) {
        return fail(c, map_get(c, n, "listen"), "listen must be http://HOST:PORT");
    }
    if (cfg->http_listen != NULL && strcmp(cfg->http_listen, l) == 0) {
        return fail(c, map_get(c, n, "listen"), "listen must differ from http.listen");
    }
    if (cfg->admin_auth.type == IGW_AUTH_NONE) {
        return fail(c, n,
                    "listen needs auth (type bearer with a tokens_file, or basic): the admin "
                    "API can replay and purge messages");
    }
    return IGW_OK;
}

static int
lower_content_types(struct ctx *c, const yaml_node_t *n, struct igw_channel *ch)
{
    for (size_t i = 0; i < ch->ncontent_types; i++) {
        char *t = ch->content_types[i];
        if (strchr(t, '/') == NULL || strpbrk(t, " ;\t") != NULL) {
            size_t old = path_push(c, "content_types", 13);
            int rv = fail(c, map_get(c, n, "content_types"),
                          "invalid media type \"%.60s\" (expected e.g. application/json)", t);
            path_pop(c, old);
            return rv;
        }
        for (; *t != '\0'; t++) {
            *t = (char)((*t >= 'A' && *t <= 'Z') ? *t + 32 : *t);
        }
    }
    return IGW_OK;
}

static int
finish_channel(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_channel *ch = base;
    const yaml_node_t *mb = map_get(c, n, "max_body");

    if (ch->max_body > c->cfg->http_max_body) {
        size_t old = path_push(c, "max_body", 8);
        int rv = fail(c, mb, "%llu bytes exceeds http.max_body (%llu bytes)",
                      (unsigned long long)ch->max_body, (unsigned long long)c->cfg->http_max_body);
        path_pop(c, old);
        return rv;
    }
    for (struct igw_channel *o = c->cfg->channels; o < ch; o++) {
        if (strcmp(o->method, ch->method) == 0 && igw_path_same_shape(o->path, ch->path)) {
            size_t old = path_push(c, "listen", 6);
            int rv = fail(c, map_get(c, n, "listen"),
                          "\"%s %s\" is already the path of channel "
                          "\"%s\"",
                          ch->method, ch->path, o->name);
            path_pop(c, old);
            return rv;
        }
    }
    return lower_content_types(c, n, ch);
}

static int
finish_route(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_route *r = base;

    if (strlen(r->name) > IGW_QUEUE_NAME_MAX) {
        return fail(c, n, "full route name longer than %d characters", IGW_QUEUE_NAME_MAX);
    }
    if (r->order_src == IGW_ORDER_PARAM && !igw_path_has_param(c->chan->path, r->order_by)) {
        size_t old = path_push(c, "ordered_by", 10);
        int rv = fail(c, map_get(c, n, "ordered_by"), "channel path \"%s\" has no {%s} parameter",
                      c->chan->path, r->order_by);
        path_pop(c, old);
        return rv;
    }
    if (r->map == NULL && (r->map_reverse || r->output != NULL)) {
        return fail(c, n, "%s is set but no map is named", r->map_reverse ? "reverse" : "output");
    }
    if (r->kind != IGW_DEST_HTTP && strcmp(r->fhir_conditional, "none") != 0) {
        return fail(c, map_get(c, n, "fhir"), "fhir.conditional needs an http(s) url");
    }
    return IGW_OK;
}

static int
finish_retry(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_retry_policy *p = base;

    if (p->cap_ms < p->base_ms) {
        size_t old = path_push(c, "cap", 3);
        int rv = fail(c, map_get(c, n, "cap"), "cap (%llu ms) is shorter than base (%llu ms)",
                      (unsigned long long)p->cap_ms, (unsigned long long)p->base_ms);
        path_pop(c, old);
        return rv;
    }
    if (p->max_attempts == 0 && p->max_age_ms == 0) {
        return fail(c, n, "max_attempts 0 and max_age 0 would retry forever: set one of them");
    }
    return IGW_OK;
}

/* ---- load --------------------------------------------------------------------------------- */

static int
yaml_error(struct ctx *c, const yaml_parser_t *p)
{
    const yaml_mark_t *m = p->problem != NULL ? &p->problem_mark : &p->context_mark;
    igw_errbuf_set(c->errbuf, c->errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s", c->file,
                   m->line + 1, m->column + 1, p->problem != NULL ? p->problem : "unknown",
                   p->context != NULL ? " " : "", p->context != NULL ? p->context : "");
    return IGW_ECONFIG;
}

static char *
dir_of(const char *name)
{
    const char *slash = strrchr(name, '/');
    if (slash == NULL) {
        return igw_strdup(".");
    }
    if (slash == name) {
        return igw_strdup("/");
    }
    return igw_strndup(name, (size_t)(slash - name));
}

static int
parse_root(struct ctx *c)
{
    const yaml_node_t *root = yaml_document_get_root_node(c->doc);
    int rv = apply_defaults(c, S_ROOT, c->cfg);

    if (rv != IGW_OK) {
        return rv;
    }
    if (root == NULL) {
        igw_errbuf_set(c->errbuf, c->errlen, "%s:1:1: the configuration is empty", c->file);
        return IGW_ECONFIG;
    }
    return parse_section(c, S_ROOT, root, c->cfg);
}

static int
parse_doc(struct ctx *c, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int rv;

    if (!yaml_parser_initialize(&parser)) {
        return IGW_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rv = yaml_error(c, &parser);
        yaml_parser_delete(&parser);
        return rv;
    }
    c->doc = &doc;
    rv = parse_root(c);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rv;
}

int
igw_config_parse(struct igw_config **out, const char *name, const char *text, size_t len,
                 char *errbuf, size_t errlen)
{
    struct ctx c;
    int rv;

    memset(&c, 0, sizeof(c));
    c.file = name;
    c.errbuf = errbuf;
    c.errlen = errlen;
    c.dir = dir_of(name);
    c.cfg = IGW_NEW(struct igw_config);
    if (c.cfg != NULL) {
        c.cfg->file = igw_strdup(name);
    }
    if (c.dir == NULL || c.cfg == NULL || c.cfg->file == NULL) {
        rv = IGW_ENOMEM;
        goto fail;
    }
    rv = parse_doc(&c, text, len);
    if (rv != IGW_OK) {
        goto fail;
    }
    igw_free(c.dir);
    *out = c.cfg;
    return IGW_OK;
fail:
    if (rv == IGW_ENOMEM) {
        igw_errbuf_set(errbuf, errlen, "%s: out of memory", name);
    }
    igw_config_free(c.cfg);
    igw_free(c.dir);
    return rv;
}

int
igw_config_load(struct igw_config **out, const char *path, char *errbuf, size_t errlen)
{
    struct igw_buf b;
    int rv;

    igw_buf_init(&b, 16u << 20);
    rv = read_all(path, &b);
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "%s: cannot read (%s)", path,
                       rv == IGW_EIO ? strerror(errno) : igw_strerror(rv));
        igw_buf_fini(&b);
        return rv == IGW_ENOMEM ? rv : IGW_EIO;
    }
    rv = igw_config_parse(out, path, b.ptr != NULL ? b.ptr : "", b.len, errbuf, errlen);
    igw_buf_fini(&b);
    return rv;
}

/* ---- free and lookup ---------------------------------------------------------------------- */

static void
route_free(struct igw_route *r)
{
    igw_free(r->name);
    igw_free(r->short_name);
    igw_free(r->url);
    igw_free(r->file_path);
    igw_free(r->method);
    for (size_t i = 0; i < r->nheaders; i++) {
        igw_free(r->headers[i].name);
        igw_free(r->headers[i].value);
    }
    igw_free(r->headers);
    auth_fini(&r->auth);
    igw_free(r->ca_file);
    igw_free(r->order_by);
    igw_free(r->map);
    igw_free(r->output);
    igw_free(r->content_type);
    igw_free(r->fhir_conditional);
}

static void
channel_free(struct igw_channel *ch)
{
    igw_free(ch->name);
    igw_free(ch->method);
    igw_free(ch->path);
    auth_fini(&ch->auth);
    free_list(ch->content_types, ch->ncontent_types);
    igw_free(ch->input);
    igw_free(ch->dialect);
    igw_free(ch->fhir_interaction);
    igw_free(ch->fhir_base_url);
    for (size_t i = 0; i < ch->nroutes; i++) {
        route_free(&ch->routes[i]);
    }
    igw_free(ch->routes);
}

void
igw_config_free(struct igw_config *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->nchannels; i++) {
        channel_free(&c->channels[i]);
    }
    igw_free(c->channels);
    igw_free(c->file);
    igw_free(c->http_listen);
    igw_free(c->tls_cert);
    igw_free(c->tls_key);
    igw_free(c->sp_listen);
    igw_free(c->pub_listen);
    igw_free(c->admin_listen);
    auth_fini(&c->admin_auth);
    igw_free(c->data_dir);
    igw_free(c->log_level);
    igw_free(c->mappings_dir);
    igw_free(c);
}

const struct igw_route *
igw_config_route(const struct igw_config *c, const char *name)
{
    for (size_t i = 0; i < c->nchannels; i++) {
        for (size_t j = 0; j < c->channels[i].nroutes; j++) {
            if (strcmp(c->channels[i].routes[j].name, name) == 0) {
                return &c->channels[i].routes[j];
            }
        }
    }
    return NULL;
}

/* ---- reference ---------------------------------------------------------------------------- */

/* Markdown anchor of a section: "channels.<name>.routes" -> "channels-name-routes". */
static void
print_anchor(enum sect s)
{
    const char *p = sects[s].path;
    if (*p == '\0') {
        fputs("top-level", stdout);
    }
    for (; *p != '\0'; p++) {
        if (*p == '.') {
            putchar('-');
        } else if (*p != '<' && *p != '>') {
            putchar(*p);
        }
    }
}

/* Choices as `a`, `b` (a '|' would split the Markdown table cell). */
static void
print_choices(const char *choices)
{
    fputs("One of ", stdout);
    while (*choices != '\0') {
        size_t n = strcspn(choices, "|");
        printf("`%.*s`", (int)n, choices);
        choices += n;
        if (*choices == '|') {
            fputs(", ", stdout);
            choices++;
        }
    }
    fputs(". ", stdout);
}

static void
print_opt_row(const struct opt *o)
{
    const char *path = sects[o->sect].path;
    printf("| `%s%s%s` | %s | %s%s%s | %s", path, path[0] != '\0' ? "." : "", o->key, o->tname,
           o->dflt != NULL ? "`" : "", o->dflt != NULL ? o->dflt : "", o->dflt != NULL ? "`" : "",
           (o->flags & F_REQUIRED) != 0 ? "**Required.** " : "");
    if (o->choices != NULL) {
        print_choices(o->choices);
    }
    if (o->type == T_SECT || o->child != 0) {
        printf("See [`%s`](#", sects[o->child].path);
        print_anchor(o->child);
        fputs("). ", stdout);
    }
    printf("%s |\n", o->help);
}

static void
print_section(enum sect s)
{
    fputs("\n<a id=\"", stdout);
    print_anchor(s);
    printf("\"></a>\n## `%s`\n\n", s == S_ROOT ? "(top level)" : sects[s].path);
    printf("| Option | Type | Default | Description |\n|---|---|---|---|\n");
    for (size_t i = 0; i < IGW_ARRAY_LEN(opts); i++) {
        if (opts[i].sect == s) {
            print_opt_row(&opts[i]);
        }
    }
}

void
igw_config_print_reference(void)
{
    printf("# igw configuration reference\n\n"
           "<!-- Generated by `igw config reference` from the option table in gateway/config.c."
           " Do not edit;\n     regenerate with: build/gateway/igw config reference > "
           "docs/CONFIG.md -->\n\n"
           "The configuration is one YAML file given to `igw serve --config FILE`; comments (`#`)"
           " are allowed\neverywhere. An unknown option, a value of the wrong type or a failed "
           "check stops the start with\n`igw: FILE:LINE:COLUMN: option.path: problem`. A "
           "commented example is `deploy/igw.example.conf`.\n\n"
           "- **size**: bytes, or a number with B, KiB, MiB, GiB, TiB (1024-based) or KB, MB, GB"
           " (1000-based): `256KiB`.\n"
           "- **duration**: a number with ms, s, m, h or d; a bare number is seconds: `500ms`, "
           "`10m`.\n"
           "- **path**: secrets (`*_file` under `auth`) and PEM files are relative to the config "
           "file's\n  directory; `queue.path` and `file://` routes are relative to the working "
           "directory.\n"
           "- **secrets files**: one token (or `user:password`) per line; blank lines and lines "
           "starting\n  with `#` are ignored; a missing or empty file is an error naming the "
           "file.\n");
    for (int s = 0; s < S_COUNT; s++) {
        print_section((enum sect)s);
    }
}
