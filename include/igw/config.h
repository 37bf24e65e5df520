/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw configuration, the data model: what a loaded configuration says, in plain structs that
 * every part of the gateway reads (channels, routes, credentials, retry policies). Types only:
 * loading, checking and freeing are in igw/config_load.h (gateway/config/), so the services
 * that read a configuration do not depend on the loader, which knows every plugin.
 *
 * Ownership: one struct igw_config owns every string and array inside it; it is read-only
 * after load and may be shared by threads.
 */
#ifndef IGW_CONFIG_H
#define IGW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct igw_dialect_ops; /* the gateway's dialect seam (gateway/core/dialect.h): opaque here */

/* Retry policy of a route: exponential backoff with full jitter, the wait before attempt n+1
 * being uniform(base, min(cap, base * 2^n)); exhausted after max_attempts attempts or when the
 * message is older than max_age_ms. The delivery engine applies it (gateway/delivery/retry.h). */
struct igw_retry_policy {
    uint64_t base_ms;      /* first wait's upper bound and every wait's lower bound; >= 1 */
    uint64_t cap_ms;       /* largest wait; >= base_ms */
    uint32_t max_attempts; /* 0 = unlimited (then max_age_ms must be set) */
    uint64_t max_age_ms;   /* 0 = unlimited */
};

/** Fills *p with the default policy: base 1 s, cap 10 min, 10 attempts, max age 24 h. p must
 *  not be NULL. */
static inline void
igw_retry_policy_default(struct igw_retry_policy *p)
{
    p->base_ms = 1000;
    p->cap_ms = 600000;
    p->max_attempts = 10;
    p->max_age_ms = 86400000;
}

enum igw_auth_type { IGW_AUTH_NONE = 0, IGW_AUTH_BEARER, IGW_AUTH_BASIC };

struct igw_secret {
    char *value; /* bearer token, or "user:password" for basic; never logged */
    size_t len;
};

struct igw_auth {
    enum igw_auth_type type;
    struct igw_secret *secrets; /* accepted credentials (inbound), or the one to send (outbound) */
    size_t nsecrets;
};

struct igw_header {
    char *name;
    char *value;
};

/* The output delivering a route: its position in the output registry (gateway/delivery/
 * outputs.c) + 1, set from the url's scheme; 0 = derive it from the url. The names are the
 * built-in outputs; an output added to the registry gets the next value without a name here. */
enum igw_dest_kind { IGW_DEST_HTTP = 1, IGW_DEST_FILE, IGW_DEST_NNG };
enum igw_nng_mode { IGW_NNG_PUSH = 1, IGW_NNG_REQ };
enum igw_order_src { IGW_ORDER_NONE = 0, IGW_ORDER_HEADER, IGW_ORDER_JSON, IGW_ORDER_PARAM };

struct igw_route_hook; /* gateway/delivery/output.h */
struct igw_route_body; /* gateway/delivery/output.h */
struct igw_channel;

struct igw_route {
    char *name; /* unique across the config: "<channel>.<route>" */
    char *short_name;
    char *url; /* http(s)://..., file://path (relative to the working dir), tcp:// ipc:// */
    enum igw_dest_kind kind;
    char *file_path; /* for file:// */
    enum igw_nng_mode nng_mode;
    char *method; /* HTTP method, default POST */
    struct igw_header *headers;
    size_t nheaders;
    struct igw_auth auth; /* outbound credentials */
    bool tls_verify;      /* default true */
    char *ca_file;        /* NULL = system store */
    uint64_t timeout_ms;  /* per attempt, default 10 s */
    unsigned concurrency; /* in-flight deliveries, default 8 */
    struct igw_retry_policy retry;
    enum igw_order_src order_src;
    char *order_by;            /* header name, JSON field path (a.b.c) or path parameter */
    unsigned breaker_failures; /* consecutive failures that open the circuit; 0 = off, def. 5 */
    uint64_t breaker_open_ms;  /* how long before a probe, default 30 s */
    char *map;                 /* mapping name; NULL = pass through */
    char *output;              /* output format for the map: json, xml, csv, fhir-r4, dci */
    bool map_reverse;          /* run the map backwards */
    char *content_type;        /* Content-Type of the translated payload; NULL = derived */
    char *fhir_conditional;    /* "none" (default) or "identifier": conditional update */
    /* Per-payload request shaping the route's options bind (fhir.conditional: identifier binds
     * the FHIR conditional update); NULL = none. Static data, not owned. */
    const struct igw_route_hook *hook;
    /* DCI signing: "auto" (default: a callback:<partner> route signs when the partner has
     * sign: true), "true", "false". Bound into body_hook by the loader. */
    char *sign;
    /* Rewrites the bytes sent per payload (the DCI signature); NULL = none. Static data. */
    const struct igw_route_body *body_hook;
    /* answer_from: the channel (with `answer:`) whose mediator answers each payload at
     * delivery time; the answer is what is sent (an async DCI search's on-search). NULL =
     * the payload is sent. answer_ch: that channel, resolved by the loader (not owned). */
    char *answer_from;
    const struct igw_channel *answer_ch;
    /* dci.notify (docs/DCI.md, "Notify"): on a callback:<partner> route, each payload (a DCI
     * record from the route's map, or a notify envelope) becomes a DCI notify for the
     * partner's live subscriptions that match it, read from the store at delivery time; none
     * match: nothing is sent (delivered, skipped). notify_store NULL = off. */
    char *notify_store;       /* the directory a dci-subscriptions: route writes */
    char *notify_record_type; /* reg_record_type: Person (default), Member, Group */
    char *notify_subscriber;  /* header.sender_id of the partner's subscriptions; NULL = name */
    char *notify_event;       /* auto (default), REGISTER, UPDATE, DEREGISTER */
    char *notify_reg_type;    /* data.reg_type, default ns:org:RegistryType:Social */
    char *notify_sender_id;   /* igw's header.sender_id in the notify, default openimis.igw */
    bool notify_sign;         /* the notify is then signed (the route's sign resolved) */
};

/* How igw authenticates to an upstream of a mediating channel (gateway/mediate/). */
enum igw_upstream_auth {
    IGW_UP_AUTH_NONE = 0,
    IGW_UP_AUTH_BEARER,
    IGW_UP_AUTH_BASIC,
    IGW_UP_AUTH_LOGIN
};

/* A login call that yields a token igw then sends as Authorization: Bearer (openIMIS's JWT
 * from GraphQL tokenAuth, or an OAuth2 client-credentials access token). */
struct igw_upstream_login {
    char *preset;       /* "openimis-graphql", "openimis-fhir", "oauth2" or "custom" */
    char *url;          /* absolute token URL; NULL = the upstream's url + path */
    char *path;         /* path under the upstream's url */
    char *content_type; /* of body */
    char *body;         /* template: {user} and {password} replaced, encoded for content_type */
    char *token_path;   /* dotted JSON path of the token in the answer: "data.tokenAuth.token" */
    char *expires_path; /* dotted JSON path of a lifetime in seconds; NULL = `exp` of the JWT */
    uint64_t default_ttl_ms;  /* when neither gives a lifetime */
    uint64_t renew_before_ms; /* renew this long before the expiry */
};

/* An HTTP service a mediating channel calls (config `upstreams.<name>`). */
struct igw_upstream {
    char *name;
    char *url;                /* base: http(s)://host[:port][/path], no trailing '/' */
    uint64_t timeout_ms;      /* one call, default 10 s */
    unsigned max_inflight;    /* calls at once, default 16 */
    unsigned rate_per_minute; /* 0 = unlimited */
    unsigned rate_burst;      /* token bucket size, default rate_per_minute / 10 (>= 1) */
    uint64_t max_response;    /* largest answer body read from it, default 8 MiB */
    bool tls_verify;
    char *ca_file;
    enum igw_upstream_auth auth;
    char *auth_type;          /* as written: none, bearer, basic, login */
    char *token_file;         /* bearer */
    char *user_file;          /* basic and login: one user:password line */
    struct igw_secret secret; /* the bearer token or user:password read from the file */
    struct igw_upstream_login login;
};

struct igw_mediator_ops; /* gateway/mediate/mediator.h: opaque here */

struct igw_channel {
    char *name;
    char *method; /* e.g. "POST" */
    char *path;   /* pattern, e.g. "/events/openimis/{event}" */
    struct igw_auth auth;
    uint64_t max_body;    /* bytes, default 1 MiB */
    char **content_types; /* allowed media types (no parameters); NULL/0 = any */
    size_t ncontent_types;
    char *input;            /* input format: json (default), xml, csv, any */
    char *dialect;          /* error body shape: "plain" (default) or "fhir" (OperationOutcome) */
    char *fhir_interaction; /* auto (default), create, update, bundle, notification */
    char *fhir_base_url;    /* absolute base for Location; NULL = the request's base path */
    char *dci_action;       /* dialect dci: auto (default: from the path) or a DCI action */
    bool dci_sync;          /* dialect dci: the /registry/sync/ variant (search, txn-status) */
    char **dci_partners;    /* dialect dci: partner names (partners:) the channel serves */
    size_t ndci_partners;
    char *dci_requests;     /* dci-callback: the channel whose messages are igw's DCI requests */
    char *dci_sender_id;    /* dci-callback: igw's header.sender_id in those requests */
    unsigned dci_max_items; /* dialect dci: most items in one message's batch, default 100 */
    /* the dialect named by `dialect`, resolved by the loader from the gateway's registry
     * (docs/internals/DIALECTS.md), and the per-channel state its channel_init built; both
     * NULL in a channel not built by igw_config_load/parse (the intake then speaks plain) */
    const struct igw_dialect_ops *dialect_ops;
    void *dialect_state;
    struct igw_route *routes;
    size_t nroutes;
    /* the configuration's mappings directory (borrowed from igw_config.mappings_dir; set by the
     * loader), for mediators that read files beside the maps (search maps) */
    const char *mappings_dir;

    /* synchronous mediation (gateway/mediate/, docs/MEDIATION.md); answer NULL = the queue */
    char *answer;   /* mediator name: "map", "fhir-read" ...; NULL = commit to the queue */
    char *upstream; /* name of the upstream the mediator calls by default */
    const struct igw_mediator_ops *mediator_ops; /* resolved by the loader; NULL = queue */
    void *mediator_state;                        /* what its channel_init built */
    const struct igw_upstream *upstream_ref;     /* resolved `upstream`, or NULL */
    uint64_t mediate_timeout_ms;                 /* whole mediation, 504 after it */
    unsigned mediate_max_inflight;               /* requests mediated at once, 503 beyond */
    unsigned mediate_max_calls;                  /* upstream calls per request */
    char *mediate_method;                        /* map mediator: upstream method */
    char *mediate_path;                          /* map mediator: path template */
    char *mediate_request_map;                   /* map: request -> upstream body */
    char *mediate_response_map;                  /* map: upstream JSON -> answer */
    char *mediate_pass_status;                   /* map: upstream 4xx passed through, "404,410" */
    char *mediate_content_type;                  /* map: answer Content-Type */
    char *mediate_on_success;                    /* map: "answer" or "commit" */
    uint64_t cache_ttl_ms;                       /* 0 = no cache */
    unsigned cache_max_entries;
    uint64_t cache_max_bytes;
};

/* One admin API credential (admin.credentials): a name shown in the audit log and whoami, the
 * role it grants (1 viewer, 2 operator, 3 admin: gateway/admin/roles.h) and its secrets (bearer
 * tokens, or one basic "name:password"). */
struct igw_admin_cred {
    char *name;
    int role;
    struct igw_auth auth;
};

/* An alert rule (alerts.rules, docs/ALERTS.md): what it watches and when it fires. */
enum igw_alert_kind {
    IGW_ALERT_DEAD_LETTERS = 1, /* at least threshold dead letters on route within window_ms */
    IGW_ALERT_QUEUE_DEPTH,      /* more than threshold deliveries waiting (pending + inflight),
                                   of route when set, else of every route */
    IGW_ALERT_CIRCUIT_OPEN,     /* route's circuit not closed for at least window_ms */
    IGW_ALERT_STORAGE,          /* queue storage use at or over threshold percent */
    IGW_ALERT_OLDEST_PENDING    /* the oldest pending delivery (of route when set, else of any
                                   route) waiting for at least window_ms */
};

struct igw_alert_rule {
    char *name;
    int kind;           /* enum igw_alert_kind */
    char *route;        /* dead_letters, circuit_open: the route's full name; queue_depth,
                           oldest_pending: that route only, or NULL (every route); else NULL */
    uint64_t threshold; /* count, deliveries or percent by kind */
    uint64_t window_ms; /* dead_letters: the window; circuit_open: how long open;
                           oldest_pending: the age */
};

/* DCI partners and igw's signing key (gateway/sign/sign.h, docs/DCI.md "Signatures and
 * partners"). A partner is a system igw exchanges DCI messages with: where its callbacks may
 * go (base_urls), how it authenticates to igw (auth: static bearer tokens; client_id and
 * client_secret: OAuth2 client credentials at igw's token endpoint), where its signing keys
 * are (jwks_url fetched in the background, or jwks_file) and whether igw signs what it sends
 * it and verifies what it receives. */
struct igw_partner {
    char *name;
    char **base_urls; /* absolute http(s) URLs, no userinfo, query or fragment */
    size_t nbase_urls;
    struct igw_auth auth;            /* inbound bearer tokens; IGW_AUTH_NONE = none static */
    char *client_id;                 /* OAuth2 client id; NULL = no token for this partner */
    struct igw_secret client_secret; /* read from client_secret_file; never logged */
    char *jwks_url;                  /* its JWKS (http(s)); NULL = none */
    char *jwks_file;                 /* or a JWKS file; NULL = none */
    uint64_t jwks_ttl_ms;            /* refresh interval of a fetched JWKS, default 10 min */
    uint64_t jwks_min_refetch_ms;    /* least time between two fetches (unknown kid), 30 s */
    bool sign;                       /* igw signs what it sends this partner (default true) */
    bool verify;                     /* inbound signatures are verified (default false) */
};

/* The payment flow (payments.*, docs/PAYMENTS.md): the ledger and the disburse batches. */
struct igw_payments_conf {
    char *ledger_path;         /* the ledger's LMDB directory; NULL = <queue.path>-ledger */
    uint64_t ledger_map_size;  /* its largest size, default 256 MiB */
    unsigned batch_size;       /* disbursements per DisburseRequest, default 500 */
    char *sender_uri;          /* the on-disburse URL igw puts in its headers; NULL = none */
    uint64_t overdue_after_ms; /* no final status this long after the last news: txn status */
    uint64_t poll_interval_ms; /* how often the overdue scan runs */
    uint64_t timeout_ms;       /* one request to the payment system */
};

/* igw's own signing key (signing.*): RS256 or ES256 from a PEM file; during a rotation the
 * previous key stays in the JWKS so that partners holding older signatures can verify. */
struct igw_signing {
    char *key_file;          /* PEM private key; NULL = igw does not sign */
    char *kid;               /* NULL = the RFC 7638 thumbprint of the key */
    char *alg;               /* "RS256" or "ES256" (default RS256) */
    char *previous_key_file; /* the key being retired (public part served); NULL = none */
    char *previous_kid;
    uint64_t token_ttl_ms; /* life of an OAuth2 access token igw issues, default 5 min */
    char *issuer;          /* iss of igw's tokens, default "igw" */
};

struct igw_config {
    char *file;        /* path the config was loaded from */
    char *http_listen; /* "http://127.0.0.1:7400" (NULL = no HTTP input) */
    char *tls_cert;    /* PEM certificate chain + key for https listeners; NULL = none */
    char *tls_key;
    uint64_t http_max_body;     /* hard cap over all channels */
    unsigned http_max_inflight; /* requests being committed at once before 503, default 4096 */

    /* the connection guard in front of nng's HTTP server (gateway/http/guard.h) */
    bool http_guard;                 /* on plain http:// listeners (default true) */
    unsigned http_max_conns;         /* total connections, 0 = from the open-files limit */
    unsigned http_max_per_addr;      /* connections per client address, 0 = unlimited */
    uint64_t http_header_timeout_ms; /* a header block must arrive within it, 0 = off */
    uint64_t http_idle_timeout_ms;   /* idle keep-alive connections are closed after it */

    char *sp_listen;            /* rep0 address for local producers, NULL = off */
    char *pub_listen;           /* pub0 address for queue events, NULL = off */
    char *admin_listen;         /* admin API "http://127.0.0.1:7401", NULL = off */
    struct igw_auth admin_auth; /* admin API credentials: role admin (admin.auth, the old form) */
    struct igw_admin_cred *admin_creds; /* admin.credentials: named, with roles */
    size_t nadmin_creds;
    char *admin_tls_cert; /* PEM chain + key: the admin listener speaks https; NULL = plain */
    char *admin_tls_key;
    char *admin_tls_client_ca; /* PEM CA bundle: client certificates are required; NULL = none */
    char *admin_audit_file;    /* audit log (JSON lines); NULL = <queue.path>/audit.jsonl */
    uint64_t admin_audit_max;  /* bytes of the audit file before it rotates (one old file kept) */
    char *data_dir;            /* queue directory, default ./var/queue */
    uint64_t map_size;
    unsigned max_batch;
    uint64_t retain_delivered_ms;
    uint64_t retain_idempotency_ms;
    /* queue.backend and queue.jetstream (docs/JETSTREAM.md) */
    char *queue_backend; /* "lmdb" (default) or "jetstream" */
    char *js_servers;    /* comma-separated NATS URLs */
    char *js_name;       /* stream / bucket prefix */
    char *js_instance;   /* this instance's name; NULL = the host name */
    char *js_creds;      /* credentials file, NULL = none */
    char *js_tls_ca;
    char *js_tls_cert;
    char *js_tls_key;
    unsigned js_replicas;
    uint64_t js_ack_wait_ms;
    uint64_t js_timeout_ms;
    char *log_level;
    unsigned deliver_batch; /* deliveries claimed per round, default 256 */
    char *mappings_dir;     /* directory of mappings, default "mappings" */
    struct igw_channel *channels;
    size_t nchannels;
    struct igw_upstream *upstreams; /* upstreams.<name> of mediating channels */
    size_t nupstreams;

    /* alerts (gateway/alerts/): incidents are messages of alerts_channel, delivered by its
     * routes; NULL = no alerts */
    char *alerts_channel;
    uint64_t alerts_interval_ms; /* how often rules are evaluated */
    struct igw_alert_rule *alert_rules;
    size_t nalert_rules;

    /* failed-authentication throttle of the channels and of the admin API (each its own) */
    unsigned auth_fail_burst;      /* failures per client address at once; 0 = off */
    unsigned auth_fail_per_minute; /* failures given back per address and minute */
    unsigned auth_fail_addresses;  /* addresses counted at once (a fixed table) */

    /* DCI partners and igw's signing key (gateway/sign/) */
    struct igw_partner *partners;
    size_t npartners;
    struct igw_signing signing;
    struct igw_payments_conf payments;
};

#endif /* IGW_CONFIG_H */
