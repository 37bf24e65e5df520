/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader, option table: the one table that drives parsing, defaults, validation of
 * scalar types and the generated reference (igw config reference > docs/CONFIG.md): the rows
 * of opts[] here followed by each output's route options (its config_map, declared next to it
 * in out_<name>/<name>_conf.c and found through the output registry), the sections it
 * documents (sects[], with their finishers), the table-driven parsing of a section ("did you
 * mean" included) and the Markdown reference.
 */
#include <stdio.h>
#include <string.h>

#include "config/config_int.h"
#include "delivery/output.h"

#define CFG(f) offsetof(struct igw_config, f)
#define CH(f) offsetof(struct igw_channel, f)
#define RT(f) offsetof(struct igw_route, f)
#define RP(f) offsetof(struct igw_retry_policy, f)
#define AC(f) offsetof(struct auth_conf, f)
#define AK(f) offsetof(struct admin_cred_conf, f)
#define AR(f) offsetof(struct igw_alert_rule, f)
#define PT(f) offsetof(struct igw_partner, f)

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
     "The durable queue every accepted message is committed to before the reply (LMDB, or NATS "
     "JetStream with queue.backend)."},
    {S_ROOT, "delivery", T_SECT, 0, 0, NULL, 0, 0, NULL, S_DELIVERY, NULL, "section", 0,
     "The delivery engine that sends stored messages to routes."},
    {S_ROOT, "mappings", T_SECT, 0, 0, NULL, 0, 0, NULL, S_MAPPINGS, NULL, "section", 0,
     "Declarative mappings applied at intake (docs/MAPPING-LANGUAGE.md)."},
    {S_ROOT, "alerts", T_SECT, 0, 0, NULL, 0, 0, NULL, S_ALERTS, NULL, "section", 0,
     "Alert rules; each incident fires once and resolves once and is delivered as a message of "
     "a channel through its routes (docs/ALERTS.md)."},
    {S_ROOT, "partners", T_FN, 0, 0, NULL, 0, 0, NULL, S_PARTNER, cfg_fn_partners,
     "map of sections", 0,
     "DCI partners, keyed by name ([A-Za-z0-9_-]): where their callbacks may go, their "
     "credentials and signing keys (docs/DCI.md, \"Signatures and partners\")."},
    {S_ROOT, "signing", T_SECT, 0, 0, NULL, 0, 0, NULL, S_SIGNING, NULL, "section", 0,
     "igw's own signing key: signs DCI messages and access tokens; its public part is served "
     "at GET /.well-known/jwks.json on http.listen."},

    {S_ROOT, "upstreams", T_FN, 0, 0, NULL, 0, 0, NULL, S_UPSTREAM, cfg_fn_upstreams,
     "map of sections", 0,
     "HTTP services that mediating channels (answer:) call synchronously, keyed by name "
     "(docs/MEDIATION.md)."},
    {S_ROOT, "channels", T_FN, 0, 0, NULL, 0, 0, NULL, S_CHANNEL, cfg_fn_channels,
     "map of sections", 0,
     "Inbound channels, keyed by channel name ([A-Za-z0-9_-], at most 63 characters)."},
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
    {S_HTTP, "guard", T_BOOL, CFG(http_guard), 0, "true", 0, 0, NULL, 0, NULL, "boolean", 0,
     "Put igw's connection guard in front of the HTTP server on plain http:// listeners (this one "
     "and admin.listen): it enforces the limits and timeouts below, answers 431 to header blocks "
     "over 8 KiB and tells handlers the client address (docs/HTTP-INGEST.md). false: nng listens "
     "itself, with none of these defences. https:// listeners are never guarded."},
    {S_HTTP, "max_connections", T_UINT, CFG(http_max_conns), 0, "0", 0, 10000000, NULL, 0, NULL,
     "integer", 0,
     "Guard: most client connections at once; beyond it a new connection gets 503 with "
     "Retry-After and is closed. 0: as many as the open-files limit allows (three descriptors "
     "each, 64 kept for the rest of igw; admin.listen gets a quarter). A larger value is lowered "
     "to that."},
    {S_HTTP, "max_connections_per_addr", T_UINT, CFG(http_max_per_addr), 0, "256", 0, 10000000,
     NULL, 0, NULL, "integer", 0,
     "Guard: most connections from one client address (503 beyond); 0: no per-address limit. "
     "Behind a proxy every client has the proxy's address: raise it or set 0."},
    {S_HTTP, "header_timeout", T_DUR, CFG(http_header_timeout_ms), 0, "10s", 0, 86400000, NULL, 0,
     NULL, "duration", 0,
     "Guard: a new connection's first request, and any request once its first byte arrived, must "
     "have sent its whole header block within this time, else the connection is closed "
     "(slowloris). 0: off."},
    {S_HTTP, "idle_timeout", T_DUR, CFG(http_idle_timeout_ms), 0, "60s", 0, 86400000, NULL, 0,
     NULL, "duration", 0,
     "Guard: a keep-alive connection with no request and no response traffic for this long is "
     "closed; a request waiting for its answer is not idle. 0: off."},
    {S_HTTP, "auth_fail_burst", T_UINT, CFG(auth_fail_burst), 0, "10", 0, 100000, NULL, 0, NULL,
     "integer", 0,
     "Failed authentications a client address may make at once, on the channels and on the "
     "admin API (each keeps its own count); beyond it the address gets 429 with Retry-After, "
     "before its credentials are checked, until tokens come back. The address is the one igw's "
     "connection guard reports; without it every client is \"-\" and shares one count. 0: no "
     "throttling."},
    {S_HTTP, "auth_fail_per_minute", T_UINT, CFG(auth_fail_per_minute), 0, "30", 1, 6000000,
     NULL, 0, NULL, "integer", 0,
     "Failed authentications given back to each address per minute, up to auth_fail_burst: "
     "the sustained guessing rate an address is held to."},
    {S_HTTP, "auth_fail_addresses", T_UINT, CFG(auth_fail_addresses), 0, "4096", 16, 1u << 24,
     NULL, 0, NULL, "integer", 0,
     "Client addresses whose failures are counted at once (a fixed table: a spray of addresses "
     "uses no more memory; when it is full the address closest to a full count is forgotten)."},
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
    {S_ADMIN, "auth", T_FN, 0, 0, NULL, 0, 0, NULL, S_AUTH_IN, cfg_fn_admin_auth, "section", 0,
     "Credentials of the admin API, the same keys as a channel's auth; type bearer or basic is "
     "required whenever admin.listen is set (also on 127.0.0.1). Channel credentials are not "
     "accepted here: use separate tokens. Its callers have the role admin and the name "
     "\"admin\" (the basic user name with type basic)."},
    {S_ADMIN, "credentials", T_FN, 0, 0, NULL, 0, 0, NULL, S_ADMIN_CRED, cfg_fn_admin_credentials,
     "list of sections", 0,
     "Named admin credentials with roles (docs/ADMIN-API.md, \"Roles\"): viewer reads, operator "
     "also retries, replays, releases and edits, admin also purges. Each entry has a name, a "
     "role and exactly one of token_file or password_file. Either this or auth (or both) is "
     "required whenever admin.listen is set."},
    {S_ADMIN, "tls", T_SECT, 0, 0, NULL, 0, 0, NULL, S_ADMIN_TLS, NULL, "section", 0,
     "TLS on the admin listener (then admin.listen is https://HOST:PORT), optionally with "
     "client certificates."},
    {S_ADMIN, "audit_file", T_PATH, CFG(admin_audit_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "Audit log of every admin action that changes something (JSON lines, fsync'd before the "
     "answer), relative to the config file's directory. Unset: audit.jsonl in queue.path."},
    {S_ADMIN, "audit_max", T_SIZE, CFG(admin_audit_max), 0, "16MiB", 4096, 1ull << 34, NULL, 0,
     NULL, "size", 0,
     "Size at which the audit log is rotated: the current file becomes FILE.1 (the previous "
     "FILE.1 is removed), so at most twice this is kept."},
    {S_ADMIN_TLS, "cert_file", T_PATH, CFG(admin_tls_cert), 0, NULL, 0, 0, NULL, 0, NULL, "path",
     0, "PEM certificate chain of the admin listener, relative to the config file's directory."},
    {S_ADMIN_TLS, "key_file", T_PATH, CFG(admin_tls_key), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "PEM private key (unencrypted) of the admin listener."},
    {S_ADMIN_TLS, "client_ca_file", T_PATH, CFG(admin_tls_client_ca), 0, NULL, 0, 0, NULL, 0,
     NULL, "path", 0,
     "PEM CA certificates: when set, every client must present a certificate signed by one of "
     "them (the TLS handshake fails otherwise), in addition to its admin credential."},
    {S_ADMIN_CRED, "name", T_STR, AK(name), 0, NULL, 0, 0, NULL, 0, NULL, "string", F_REQUIRED,
     "Who this credential is: shown by GET /admin/whoami and written in the audit log "
     "([A-Za-z0-9_.@-], at most 63 characters; unique). With password_file it is also the "
     "basic user name."},
    {S_ADMIN_CRED, "role", T_ENUM, AK(role), 0, NULL, 1, 0, "viewer|operator|admin", 0, NULL,
     "choice", F_REQUIRED, "What the credential may do: viewer, operator or admin."},
    {S_ADMIN_CRED, "token_file", T_STR, AK(token_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "File of bearer tokens (one per line, # comments), relative to the config file's "
     "directory."},
    {S_ADMIN_CRED, "password_file", T_STR, AK(password_file), 0, NULL, 0, 0, NULL, 0, NULL,
     "path", 0,
     "File whose first line is the password for HTTP basic authentication as name."},

    {S_ALERTS, "channel", T_STR, CFG(alerts_channel), 0, NULL, 0, 0, NULL, 0, NULL, "name", 0,
     "The channel incidents are messages of: its routes (webhooks, files, ...) deliver each "
     "firing and resolution as JSON through the queue, with their retries. The channel must "
     "have routes and they must not name a map. Required with rules."},
    {S_ALERTS, "interval", T_DUR, CFG(alerts_interval_ms), 0, "5s", 100, 3600000, NULL, 0, NULL,
     "duration", 0, "How often the rules are evaluated."},
    {S_ALERTS, "rules", T_FN, 0, 0, NULL, 0, 0, NULL, S_ALERT_RULE, cfg_fn_alert_rules,
     "list of sections", 0, "The rules, each with a unique name."},
    {S_ALERT_RULE, "name", T_STR, AR(name), 0, NULL, 0, 0, NULL, 0, NULL, "string", F_REQUIRED,
     "Name of the rule ([A-Za-z0-9_.-], at most 63 characters), in incidents and messages."},
    {S_ALERT_RULE, "kind", T_ENUM, AR(kind), 0, NULL, 1, 0,
     "dead_letters|queue_depth|circuit_open|storage|oldest_pending", 0, NULL, "choice",
     F_REQUIRED,
     "dead_letters: at least threshold dead letters on route within window. queue_depth: more "
     "than threshold deliveries waiting (pending or in flight) on route, or on every route "
     "together without one. circuit_open: the route's circuit has not been closed for window. "
     "storage: queue storage use at or over threshold percent of its limit. oldest_pending: "
     "the oldest pending delivery of route (of any route without one) has waited window or "
     "longer."},
    {S_ALERT_RULE, "route", T_STR, AR(route), 0, NULL, 0, 0, NULL, 0, NULL, "route name", 0,
     "Full route name (channel.route); required by dead_letters and circuit_open, optional for "
     "queue_depth and oldest_pending (then that route alone), refused by storage."},
    {S_ALERT_RULE, "threshold", T_UINT, AR(threshold), 0, "1", 0, 4000000000u, NULL, 0, NULL,
     "integer", 0,
     "dead_letters: count; queue_depth: deliveries; storage: percent (1..100)."},
    {S_ALERT_RULE, "window", T_DUR, AR(window_ms), 0, "5m", 0, 366ull * 86400000, NULL, 0, NULL,
     "duration", 0,
     "dead_letters: the sliding window; circuit_open: how long open; oldest_pending: the age "
     "(above 0)."},

    {S_QUEUE, "path", T_STR, CFG(data_dir), 0, "var/queue", 0, 0, NULL, 0, NULL, "path", 0,
     "Queue directory (created with mode 0700), relative to the working directory."},
    {S_QUEUE, "map_size", T_SIZE, CFG(map_size), 0, "1GiB", 64 * 1024, 1ull << 40, NULL, 0,
     NULL, "size", 0,
     "LMDB map size: the most the queue may hold (less if its file system has less room). "
     "Intake stops at a mark that keeps 1/16 of it (at least 1 MiB) for deliveries, sweeps "
     "and purges: new messages get 503 while deliveries drain it."},
    {S_QUEUE, "max_batch", T_UINT, CFG(max_batch), 0, "256", 1, 65536, NULL, 0, NULL, "integer",
     0, "Most requests grouped into one commit (one fsync)."},
    {S_QUEUE, "retain_delivered", T_DUR, CFG(retain_delivered_ms), 0, "1h", 0, 366ull * 86400000,
     NULL, 0, NULL, "duration", 0, "How long delivered messages are kept for inspection."},
    {S_QUEUE, "retain_idempotency", T_DUR, CFG(retain_idempotency_ms), 0, "24h", 0,
     366ull * 86400000, NULL, 0, NULL, "duration", 0,
     "How long an Idempotency-Key is remembered (a repeat returns the first message's id)."},
    /* the queue backend: LMDB here, or a NATS JetStream cluster shared by several igw
     * instances (docs/JETSTREAM.md) */
    {S_QUEUE, "backend", T_CHOICE, CFG(queue_backend), 0, "lmdb", 0, 0, "lmdb|jetstream", 0,
     NULL, "choice", 0,
     "Where the queue is kept: lmdb (queue.path on this machine) or jetstream (a NATS "
     "JetStream cluster, queue.jetstream; several igw instances may share it)."},
    {S_QUEUE, "jetstream", T_SECT, 0, 0, NULL, 0, 0, NULL, S_QUEUE_JS, NULL, "section", 0,
     "The NATS JetStream cluster of queue.backend jetstream."},
    {S_QUEUE_JS, "servers", T_STR, CFG(js_servers), 0, "nats://127.0.0.1:4222", 0, 0, NULL, 0,
     NULL, "urls", 0,
     "Comma-separated NATS server URLs (nats:// or tls://); the client reconnects to any."},
    {S_QUEUE_JS, "name", T_STR, CFG(js_name), 0, "igw", 0, 0, NULL, 0, NULL, "name", 0,
     "Prefix of the stream <name>_MSG and the key-value bucket <name>_STATE ([A-Za-z0-9_-], at "
     "most 64 characters); every instance of one gateway uses the same name."},
    {S_QUEUE_JS, "instance", T_STR, CFG(js_instance), 0, NULL, 0, 0, NULL, 0, NULL, "name", 0,
     "This instance's name, distinct among the instances sharing the queue ([A-Za-z0-9_-]). "
     "Unset: the host name. At start, deliveries this name left in flight return to pending."},
    {S_QUEUE_JS, "credentials_file", T_PATH, CFG(js_creds), 0, NULL, 0, 0, NULL, 0, NULL,
     "path", 0, "NATS credentials file (user JWT and NKey seed), relative to the config file."},
    {S_QUEUE_JS, "tls_ca_file", T_PATH, CFG(js_tls_ca), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "CA bundle that verifies the NATS servers; set: TLS to the servers."},
    {S_QUEUE_JS, "tls_cert_file", T_PATH, CFG(js_tls_cert), 0, NULL, 0, 0, NULL, 0, NULL, "path",
     0, "Client certificate (PEM) for NATS servers that require one; with tls_key_file."},
    {S_QUEUE_JS, "tls_key_file", T_PATH, CFG(js_tls_key), 0, NULL, 0, 0, NULL, 0, NULL, "path",
     0, "Private key of tls_cert_file."},
    {S_QUEUE_JS, "replicas", T_UINT, CFG(js_replicas), 0, "1", 1, 5, NULL, 0, NULL, "integer", 0,
     "Replicas of the stream and the bucket when igw creates them (3 in a 3-node cluster: an "
     "accept is acknowledged once a majority has it)."},
    {S_QUEUE_JS, "ack_wait", T_DUR, CFG(js_ack_wait_ms), 0, "60s", 1000, 86400000, NULL, 0, NULL,
     "duration", 0,
     "Lease of an in-flight delivery: when its instance dies, another one takes the delivery "
     "over after this. Keep it above every route's timeout."},
    {S_QUEUE_JS, "timeout", T_DUR, CFG(js_timeout_ms), 0, "5s", 100, 600000, NULL, 0, NULL,
     "duration", 0, "Most time one request to JetStream may take (an accept then fails: 503)."},

    {S_MAPPINGS, "dir", T_STR, CFG(mappings_dir), 0, "mappings", 0, 0, NULL, 0, NULL, "path", 0,
     "Directory of mappings (one folder per map, mappings/<name>/map), relative to the working "
     "directory. Loaded at start when a route names a map; SIGHUP recompiles it and keeps the "
     "old maps if the new ones do not compile."},

    {S_DELIVERY, "batch", T_UINT, CFG(deliver_batch), 0, "256", 1, 65536, NULL, 0, NULL,
     "integer", 0, "Deliveries claimed from the queue per round."},

    {S_CHANNEL, "listen", T_FN, 0, 0, NULL, 0, 0, NULL, 0, cfg_fn_listen, "METHOD /path",
     F_REQUIRED,
     "Method (POST, PUT, PATCH; GET or DELETE with answer:) and path pattern; a {name} segment "
     "captures a path parameter, e.g. POST /events/openimis/{event}."},
    {S_CHANNEL, "auth", T_FN, 0, 0, NULL, 0, 0, NULL, S_AUTH_IN, cfg_fn_auth_in, "section", 0,
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
    {S_CHANNEL, "dialect", T_CHOICE, CH(dialect), 0, "plain", 0, 0, "plain|fhir|dci|payroll|g2p", 0,
     NULL, "choice", 0, "Shape of error bodies: plain JSON {\"error\":{...}}, a FHIR R4 "
     "OperationOutcome for FHIR-facing channels, or DCI (SPDCI 1.0.0) envelopes checked and "
     "answered with DCI Responses (docs/DCI.md); payroll (openIMIS payroll events) and g2p "
     "(G2P Connect on-disburse callbacks) are the payment flow's (docs/PAYMENTS.md)."},
    {S_CHANNEL, "fhir", T_SECT, 0, 0, NULL, 0, 0, NULL, S_CH_FHIR, NULL, "section", 0,
     "FHIR server behaviour of a dialect: fhir channel (docs/FHIR-CHANNELS.md)."},
    {S_CHANNEL, "dci", T_SECT, 0, 0, NULL, 0, 0, NULL, S_CH_DCI, NULL, "section", 0,
     "DCI endpoint behaviour of a dialect: dci channel (docs/DCI.md)."},
    {S_CHANNEL, "routes", T_FN, 0, 0, NULL, 0, 0, NULL, S_ROUTE, cfg_fn_routes, "map of sections",
     0,
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

    {S_CH_DCI, "action", T_CHOICE, CH(dci_action), 0, "auto", 0, 0,
     "auto|search|on-search|subscribe|on-subscribe|notify|unsubscribe|on-unsubscribe|"
     "txn-status|txn-on-status",
     0, NULL, "choice", 0,
     "The DCI endpoint the channel is: the header.action it takes and the message schema it "
     "checks. auto: the endpoint whose DCI path (/registry/search, /registry/sync/search, "
     "/registry/on-search, ...) ends the request path, so one channel with path "
     "/dci/social/registry/{op} serves several."},
    {S_CH_DCI, "sync", T_BOOL, CH(dci_sync), 0, "false", 0, 0, NULL, 0, NULL, "boolean", 0,
     "The synchronous variant (/registry/sync/search, /registry/sync/txn/status: answered in "
     "the HTTP response, no sender_uri needed) of dci.action search or txn-status."},
    {S_CH_DCI, "partner", T_LIST, CH(dci_partners), CH(ndci_partners), NULL, 0, 0, NULL, 0, NULL,
     "list of strings", 0,
     "Names of the partners (partners: section) that send to this channel: their credentials, "
     "signature keys and callback base URLs. Unset: no partner checks."},
    {S_CH_DCI, "requests", T_STR, CH(dci_requests), 0, NULL, 0, 0, NULL, 0, NULL, "channel name",
     0,
     "answer: dci-callback (igw as a DCI client): the channel whose messages are igw's own DCI "
     "requests (answer: dci-client); a callback is taken only for one of their transactions."},
    {S_CH_DCI, "sender_id", T_STR, CH(dci_sender_id), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "answer: dci-callback: igw's header.sender_id in those requests (with the transaction_id, "
     "which the request maps use as message_id, it finds the pending request)."},
    {S_CH_DCI, "max_items", T_UINT, CH(dci_max_items), 0, "100", 1, 100000, NULL, 0, NULL,
     "integer", 0,
     "Most items one message may carry in its batch (search_request, subscribe_request, "
     "notify_event, search_response, subscribe_response, subscription_codes); more is refused "
     "with rjct.total_count.limit_exceeded."},

    {S_ROUTE, "url", T_FN, 0, 0, NULL, 0, 0, NULL, 0, cfg_fn_url, "url", F_REQUIRED,
     "Destination: http:// or https:// (HTTP request), file://PATH (append one line per "
     "message; PATH relative to the working directory), tcp:// or ipc:// (nng socket), "
     "callback:PARTNER (a DCI callback to one of partners.PARTNER.base_urls, chosen per message "
     "by its header.sender_uri: docs/DCI.md), g2p:PARTNER (G2P Connect disburse batches to the "
     "partner) or g2p-ledger:PARTNER (its statuses into the payments ledger: docs/PAYMENTS.md)."},
    {S_ROUTE, "timeout", T_DUR, RT(timeout_ms), 0, "10s", 1, 3600000, NULL, 0, NULL, "duration",
     0, "Limit on one delivery attempt."},
    {S_ROUTE, "concurrency", T_UINT, RT(concurrency), 0, "8", 1, 1024, NULL, 0, NULL, "integer",
     0, "Deliveries in flight at once on this route."},
    {S_ROUTE, "fhir", T_SECT, 0, 0, NULL, 0, 0, NULL, S_RT_FHIR, NULL, "section", 0,
     "FHIR delivery for http(s) routes whose url is a FHIR service base (docs/DELIVERY.md)."},
    {S_ROUTE, "dci", T_SECT, 0, 0, NULL, 0, 0, NULL, S_RT_DCI, NULL, "section", 0,
     "DCI delivery for callback:PARTNER routes (docs/DCI.md, \"Notify\")."},
    {S_ROUTE, "retry", T_SECT, RT(retry), 0, NULL, 0, 0, NULL, S_RETRY, NULL, "section", 0,
     "Backoff between attempts: uniform(base, min(cap, base * 2^n))."},
    {S_ROUTE, "ordered_by", T_FN, 0, 0, NULL, 0, 0, NULL, 0, cfg_fn_ordered_by, "key source", 0,
     "Deliver messages with the same key strictly in order: header:NAME, json:a.b.c (a field "
     "of the JSON body) or param:NAME (a path parameter). Unset: unordered, in parallel."},
    {S_ROUTE, "circuit", T_SECT, 0, 0, NULL, 0, 0, NULL, S_CIRCUIT, NULL, "section", 0,
     "Circuit breaker: pause a route that keeps failing, then probe."},
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


    {S_RT_FHIR, "conditional", T_CHOICE, RT(fhir_conditional), 0, "none", 0, 0, "none|identifier",
     0, NULL, "choice", 0,
     "identifier: create-or-update by business identifier, PUT <url>/<resourceType>?identifier="
     "<system>\\|<value> from the payload's first identifier (a conditional update, so a "
     "redelivery updates instead of duplicating); Bundles are POSTed to <url>; 412 (several "
     "matches) dead-letters at once, 409 is retried. none: the route's method and url as "
     "configured."},

    {S_RT_DCI, "notify", T_SECT, 0, 0, NULL, 0, 0, NULL, S_RT_DCI_NOTIFY, NULL, "section", 0,
     "DCI notify fan-out: each payload (a DCI record from the route's map, or a DCI notify "
     "envelope from a map such as fhir-patient-to-dci-notify) is sent as one notify to the "
     "route's partner, with one notify_event item per live subscription of the partner that "
     "matches it (not expired or ended; reg_type, reg_event_type, notify_record_type and filter "
     "match), read from the subscription store at delivery time. None match: nothing is sent "
     "and the delivery is delivered, skipped (\"no subscription\")."},
    {S_RT_DCI_NOTIFY, "store", T_STR, RT(notify_store), 0, NULL, 0, 0, NULL, 0, NULL, "path",
     F_REQUIRED,
     "The subscription store: the directory of a dci-subscriptions:DIR route of this "
     "configuration (the one the subscribe channel writes)."},
    {S_RT_DCI_NOTIFY, "record_type", T_CHOICE, RT(notify_record_type), 0, "Person", 0, 0,
     "Person|Member|Group", 0, NULL, "choice", 0,
     "The DCI record the route's map makes (data.reg_record_type); a subscription matches when "
     "its notify_record_type is this one (compared without case)."},
    {S_RT_DCI_NOTIFY, "subscriber", T_STR, RT(notify_subscriber), 0, NULL, 0, 0, NULL, 0, NULL,
     "string", 0,
     "The header.sender_id the partner's subscribe requests carry (subscriptions are stored "
     "under it). Unset: the partner's name."},
    {S_RT_DCI_NOTIFY, "event", T_CHOICE, RT(notify_event), 0, "auto", 0, 0,
     "auto|REGISTER|UPDATE|DEREGISTER", 0, NULL, "choice", 0,
     "The reg_event_type of the notify. auto: a notify envelope's own; else from the request "
     "that brought the event: its {event} path parameter or last path segment (created, "
     "register -> REGISTER; updated, update -> UPDATE; deleted, delete, deregister -> "
     "DEREGISTER), else PUT or PATCH -> UPDATE. igw config check refuses auto on a channel "
     "whose requests can carry none; a message that still has none is dead-lettered."},
    {S_RT_DCI_NOTIFY, "reg_type", T_STR, RT(notify_reg_type), 0, "ns:org:RegistryType:Social", 0,
     0, NULL, 0, NULL, "string", 0,
     "data.reg_type of the notify; a subscription with a reg_type matches only this one."},
    {S_RT_DCI_NOTIFY, "sender_id", T_STR, RT(notify_sender_id), 0, "openimis.igw", 0, 0, NULL, 0,
     NULL, "string", 0, "igw's header.sender_id in the notify (the registry's id)."},

    {S_PARTNER, "base_urls", T_LIST, PT(base_urls), PT(nbase_urls), NULL, 0, 0, NULL, 0, NULL,
     "list of urls", 0,
     "Absolute http(s) URLs the partner's DCI endpoints live under (no user info, query or "
     "fragment). A callback goes to one of them + the DCI path (/registry/on-search, ...): the "
     "one the request's header.sender_uri is under, the first when it has none; a sender_uri "
     "under none of them is refused with err.sender_uri.invalid."},
    {S_PARTNER, "auth", T_FN, 0, 0, NULL, 0, 0, NULL, S_AUTH_IN, cfg_fn_partner_auth, "section", 0,
     "Static bearer tokens the partner presents (type bearer, tokens_file). Unset: only access "
     "tokens from the token endpoint (client_id)."},
    {S_PARTNER, "client_id", T_STR, PT(client_id), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "OAuth2 client id of the partner at POST /oauth2/client/token (client credentials); "
     "needs client_secret_file. Unset: no access tokens for it."},
    {S_PARTNER, "client_secret_file", T_FN, 0, 0, NULL, 0, 0, NULL, 0, cfg_fn_partner_secret,
     "path", 0,
     "File whose first line is the partner's OAuth2 client secret, relative to the config "
     "file's directory."},
    {S_PARTNER, "jwks_url", T_STR, PT(jwks_url), 0, NULL, 0, 0, NULL, 0, NULL, "url", 0,
     "http(s) URL of the partner's JWKS, usually <base>/.well-known/jwks.json: fetched in the "
     "background at start, every jwks_ttl, and again when a message names an unknown kid."},
    {S_PARTNER, "jwks_file", T_PATH, PT(jwks_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "The partner's JWKS as a file instead of jwks_url (read at start)."},
    {S_PARTNER, "jwks_ttl", T_DUR, PT(jwks_ttl_ms), 0, "10m", 1000, 7ull * 86400000, NULL, 0,
     NULL, "duration", 0, "How long a fetched JWKS is used before it is fetched again."},
    {S_PARTNER, "jwks_min_refetch", T_DUR, PT(jwks_min_refetch_ms), 0, "30s", 0, 86400000, NULL,
     0, NULL, "duration", 0,
     "Least time between two fetches of the JWKS (an unknown kid asks for one): a stream of "
     "made-up kids cannot make igw hammer the partner."},
    {S_PARTNER, "sign", T_BOOL, PT(sign), 0, "true", 0, 0, NULL, 0, NULL, "boolean", 0,
     "Sign what igw sends this partner (needs signing.key_file)."},
    {S_PARTNER, "verify", T_BOOL, PT(verify), 0, "false", 0, 0, NULL, 0, NULL, "boolean", 0,
     "Verify the signature of every message from this partner (needs jwks_url or jwks_file): "
     "a missing one is refused with err.signature.missing, an invalid, forged or expired one "
     "with err.signature.invalid (HTTP 401)."},

    {S_SIGNING, "key_file", T_PATH, CFG(signing.key_file), 0, NULL, 0, 0, NULL, 0, NULL, "path",
     0, "PEM private key (RSA of at least 2048 bits for RS256, P-256 for ES256), relative to the "
     "config file's directory. Unset: igw signs nothing."},
    {S_SIGNING, "alg", T_CHOICE, CFG(signing.alg), 0, "RS256", 0, 0, "RS256|ES256", 0, NULL,
     "choice", 0, "JWS algorithm of the key."},
    {S_SIGNING, "kid", T_STR, CFG(signing.kid), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "Key id in the JWKS and in every signature. Unset: the key's RFC 7638 thumbprint."},
    {S_SIGNING, "previous_key_file", T_PATH, CFG(signing.previous_key_file), 0, NULL, 0, 0, NULL,
     0, NULL, "path", 0,
     "During a key rotation: the retired key (same alg); only its public part is served, after "
     "the current key, so partners still verify what it signed. Remove it once they all have "
     "the new one."},
    {S_SIGNING, "previous_kid", T_STR, CFG(signing.previous_kid), 0, NULL, 0, 0, NULL, 0, NULL,
     "string", 0, "Key id of previous_key_file. Unset: its thumbprint."},
    {S_SIGNING, "token_ttl", T_DUR, CFG(signing.token_ttl_ms), 0, "5m", 10000, 86400000, NULL, 0,
     NULL, "duration", 0, "Life of an access token issued at POST /oauth2/client/token."},
    {S_SIGNING, "issuer", T_STR, CFG(signing.issuer), 0, "igw", 0, 0, NULL, 0, NULL, "string", 0,
     "iss claim of the access tokens igw issues."},
};
/* clang-format on */

/* ---- the merged table: opts[], then every output's config_map ---------------------------- */

static size_t
opt_count(void)
{
    size_t n = IGW_ARRAY_LEN(opts) + cfg_med_nopts;
    for (size_t k = 0; k < igw_output_count(); k++) {
        const struct igw_output_config_map *m = igw_output_at(k)->config_map;
        n += m != NULL ? m->nopts : 0;
    }
    return n;
}

/* Row i of the merged table (i < opt_count()). */
static const struct opt *
opt_at(size_t i)
{
    if (i < IGW_ARRAY_LEN(opts)) {
        return &opts[i];
    }
    i -= IGW_ARRAY_LEN(opts);
    for (size_t k = 0; k < igw_output_count(); k++) {
        const struct igw_output_config_map *m = igw_output_at(k)->config_map;
        if (m == NULL) {
            continue;
        }
        if (i < m->nopts) {
            return &m->opts[i];
        }
        i -= m->nopts;
    }
    return i < cfg_med_nopts ? &cfg_med_opts[i] : NULL;
}

struct sect_info {
    const char *path;
    finish_fn finish;
};

static const struct sect_info sects[S_COUNT] = {
    [S_ROOT] = {"", cfg_finish_root},
    [S_HTTP] = {"http", cfg_finish_http},
    [S_HTTP_TLS] = {"http.tls", NULL},
    [S_SP] = {"sp", cfg_finish_sp},
    [S_ADMIN] = {"admin", cfg_finish_admin},
    [S_ADMIN_TLS] = {"admin.tls", NULL},
    [S_ADMIN_CRED] = {"admin.credentials[]", NULL},
    [S_ALERTS] = {"alerts", NULL},
    [S_ALERT_RULE] = {"alerts.rules[]", NULL},
    [S_QUEUE] = {"queue", cfg_finish_queue},
    [S_QUEUE_JS] = {"queue.jetstream", NULL},
    [S_DELIVERY] = {"delivery", NULL},
    [S_MAPPINGS] = {"mappings", NULL},
    [S_CHANNEL] = {"channels.<name>", cfg_finish_channel},
    [S_AUTH_IN] = {"channels.<name>.auth", NULL},
    [S_CH_FHIR] = {"channels.<name>.fhir", NULL},
    [S_CH_DCI] = {"channels.<name>.dci", NULL},
    [S_ROUTE] = {"channels.<name>.routes.<name>", cfg_finish_route},
    [S_RETRY] = {"channels.<name>.routes.<name>.retry", cfg_finish_retry},
    [S_CIRCUIT] = {"channels.<name>.routes.<name>.circuit", NULL},
    [S_TLS] = {"channels.<name>.routes.<name>.tls", NULL},
    [S_AUTH_OUT] = {"channels.<name>.routes.<name>.auth", NULL},
    [S_RT_FHIR] = {"channels.<name>.routes.<name>.fhir", NULL},
    [S_RT_DCI] = {"channels.<name>.routes.<name>.dci", NULL},
    [S_RT_DCI_NOTIFY] = {"channels.<name>.routes.<name>.dci.notify", NULL},
    [S_PARTNER] = {"partners.<name>", cfg_finish_partner},
    [S_SIGNING] = {"signing", cfg_finish_signing},
    [S_UPSTREAM] = {"upstreams.<name>", NULL},
    [S_UP_TLS] = {"upstreams.<name>.tls", NULL},
    [S_UP_AUTH] = {"upstreams.<name>.auth", NULL},
    [S_UP_LOGIN] = {"upstreams.<name>.auth.login", NULL},
    [S_CH_MEDIATE] = {"channels.<name>.mediate", NULL},
    [S_CH_CACHE] = {"channels.<name>.cache", NULL},
    [S_PAYMENTS] = {"payments", NULL},
};

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
    for (size_t i = 0, nopt = opt_count(); i < nopt; i++) {
        const struct opt *o = opt_at(i);
        size_t d;
        if (o->sect != s) {
            continue;
        }
        d = edit_distance(key, o->key);
        if (d < bestd) {
            bestd = d;
            best = o->key;
        }
    }
    return best;
}

/* ---- sections ----------------------------------------------------------------------------- */

int
cfg_apply_defaults(struct ctx *c, enum sect s, void *base)
{
    for (size_t i = 0, nopt = opt_count(); i < nopt; i++) {
        const struct opt *o = opt_at(i);
        int rv;
        if (o->sect != s) {
            continue;
        }
        if (o->type == T_SECT) {
            rv = cfg_apply_defaults(c, o->child, FIELD(base, o->off, char));
        } else if (o->dflt != NULL) {
            rv = cfg_set_scalar(c, o, base, o->dflt, NULL);
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
    for (size_t i = 0, nopt = opt_count(); i < nopt; i++) {
        const struct opt *o = opt_at(i);
        if (o->sect == s && cfg_key_is(k, o->key)) {
            return o;
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
        return cfg_fail(c, k, "option names must be plain strings");
    }
    cfg_show(k, shown, sizeof(shown));
    hint = suggest(s, shown);
    if (hint != NULL) {
        return cfg_fail(c, k, "unknown option \"%s\" (did you mean \"%s\"?)", shown, hint);
    }
    return cfg_fail(c, k, "unknown option \"%s\"", shown);
}

/* Every key is known and appears once. */
static int
check_keys(struct ctx *c, enum sect s, const yaml_node_t *n)
{
    yaml_node_pair_t *start = n->data.mapping.pairs.start;

    for (yaml_node_pair_t *p = start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = cfg_node_at(c, p->key);
        const struct opt *o = find_opt(s, k);
        if (o == NULL) {
            return unknown_key(c, s, k);
        }
        for (yaml_node_pair_t *q = start; q < p; q++) {
            if (find_opt(s, cfg_node_at(c, q->key)) == o) {
                return cfg_fail(c, k, "option \"%s\" given twice", o->key);
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
        return cfg_parse_section(c, o->child, v, FIELD(base, o->off, char));
    case T_FN:
        return o->fn(c, v, base);
    case T_LIST:
        return cfg_set_list(c, o, base, v);
    default:
        break;
    }
    rv = cfg_scalar_dup(c, v, &text);
    if (rv == IGW_OK) {
        rv = cfg_set_scalar(c, o, base, text, v);
    }
    igw_free(text);
    return rv;
}

static int
parse_opt(struct ctx *c, const struct opt *o, const yaml_node_t *map, void *base)
{
    const yaml_node_t *v = cfg_map_get(c, map, o->key);
    size_t old;
    int rv;

    if (v == NULL) {
        if ((o->flags & F_REQUIRED) != 0) {
            return cfg_fail(c, map, "missing required option \"%s\"", o->key);
        }
        return IGW_OK;
    }
    old = cfg_path_push(c, o->key, strlen(o->key));
    if (cfg_is_null(v) && o->type != T_SECT) {
        rv = cfg_fail(c, v, "missing value");
    } else {
        rv = parse_value(c, o, v, base);
    }
    if (rv == IGW_OK) {
        cfg_path_pop(c, old);
    }
    return rv;
}

/* Parses a mapping node into base. Defaults of the section were applied by the caller (see
 * apply_defaults), so a missing or empty section keeps them. */
int
cfg_parse_section(struct ctx *c, enum sect s, const yaml_node_t *n, void *base)
{
    int rv;

    if (cfg_is_null(n)) {
        for (size_t i = 0, nopt = opt_count(); i < nopt; i++) {
            const struct opt *o = opt_at(i);
            if (o->sect == s && (o->flags & F_REQUIRED) != 0) {
                return cfg_fail(c, n, "missing required option \"%s\"", o->key);
            }
        }
        return sects[s].finish != NULL ? sects[s].finish(c, n, base) : IGW_OK;
    }
    if (n->type != YAML_MAPPING_NODE) {
        return cfg_fail(c, n, "expected a mapping (key: value lines), got %s", cfg_node_kind(n));
    }
    rv = check_keys(c, s, n);
    for (size_t i = 0, nopt = opt_count(); rv == IGW_OK && i < nopt; i++) {
        if (opt_at(i)->sect == s) {
            rv = parse_opt(c, opt_at(i), n, base);
        }
    }
    if (rv == IGW_OK && sects[s].finish != NULL) {
        rv = sects[s].finish(c, n, base);
    }
    return rv;
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
    for (size_t i = 0, nopt = opt_count(); i < nopt; i++) {
        if (opt_at(i)->sect == s) {
            print_opt_row(opt_at(i));
        }
    }
}

void
igw_config_print_reference(void)
{
    printf("# igw configuration reference\n\n"
           "<!-- Generated by `igw config reference` from the option tables in "
           "gateway/config/config_opts.c and gateway/out_*/*_conf.c."
           " Do not edit;\n     regenerate with: build/cli/igw config reference > "
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
