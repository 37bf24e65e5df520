/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config-loader internal: what crosses the files of the loader.
 *
 *   config.c          public API (igw_config_parse/load/free/route), the load driver
 *   config_opts.c     the option table opts[] (the one table docs/CONFIG.md is generated
 *                     from), the sections sects[], table-driven section parsing, the reference
 *   config_yaml.c     errors and option paths, YAML node helpers, typed values
 *   config_channels.c channels and routes (named maps), listen, url, headers, ordered_by
 *   config_auth.c     credentials and secrets files
 *   config_check.c    section finishers and cross-checks
 *
 * The int functions below that take the parse context (struct ctx, one per igw_config_parse
 * call) return IGW_OK, IGW_ENOMEM or IGW_ECONFIG (the message, "file:line:column: option.path:
 * problem", is then in c->errbuf). Callers restore the option path (cfg_path_pop) only on
 * success.
 */
#ifndef IGW_GATEWAY_CONFIG_INT_H
#define IGW_GATEWAY_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"

#define VALUE_SHOW_MAX 60

enum sect {
    S_ROOT,
    S_HTTP,
    S_HTTP_TLS,
    S_SP,
    S_ADMIN,
    S_ADMIN_TLS,
    S_ADMIN_CRED,
    S_ALERTS,
    S_ALERT_RULE,
    S_QUEUE,
    S_QUEUE_JS,
    S_DELIVERY,
    S_MAPPINGS,
    S_CHANNEL,
    S_AUTH_IN,
    S_CH_FHIR,
    S_CH_DCI,
    S_ROUTE,
    S_RETRY,
    S_CIRCUIT,
    S_TLS,
    S_AUTH_OUT,
    S_RT_FHIR,
    S_RT_DCI,
    S_RT_DCI_NOTIFY,
    S_PARTNER,
    S_SIGNING,
    S_UPSTREAM,
    S_UP_TLS,
    S_UP_AUTH,
    S_UP_LOGIN,
    S_CH_MEDIATE,
    S_CH_CACHE,
    S_PAYMENTS,
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

/* One entry of admin.credentials as written, before its secret file is read. */
struct admin_cred_conf {
    char *name;
    int role;
    char *token_file;
    char *password_file;
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

/* ---- config_yaml.c: errors and option paths ------------------------------------------------ */

/* Formats "file:line:column: option.path: message" into c->errbuf (no position when n is NULL)
 * and returns IGW_ECONFIG. */
int cfg_fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends ".seg" to the option path; returns the old length for cfg_path_pop. */
size_t cfg_path_push(struct ctx *c, const char *seg, size_t seglen);
void cfg_path_pop(struct ctx *c, size_t old);
const char *cfg_show(const yaml_node_t *n, char *out, size_t outlen);
const char *cfg_node_kind(const yaml_node_t *n);

/* ---- config_yaml.c: small YAML helpers ----------------------------------------------------- */

const yaml_node_t *cfg_node_at(struct ctx *c, int id);
bool cfg_is_null(const yaml_node_t *n);
bool cfg_key_is(const yaml_node_t *k, const char *s);
const yaml_node_t *cfg_map_get(struct ctx *c, const yaml_node_t *map, const char *key);
int cfg_scalar_dup(struct ctx *c, const yaml_node_t *n, char **out);
void cfg_free_list(char **v, size_t n);

/* ---- config_yaml.c: typed values ----------------------------------------------------------- */

/* Index of v in choices "a|b|c". */
bool cfg_choice_index(const char *choices, const char *v, unsigned *idx);
/* Joins dir and rel unless rel is absolute; NULL when out of memory. */
char *cfg_resolve_path(const char *dir, const char *rel);
int cfg_set_scalar(struct ctx *c, const struct opt *o, void *base, const char *text,
                   const yaml_node_t *n);
int cfg_set_list(struct ctx *c, const struct opt *o, void *base, const yaml_node_t *n);

/* ---- config_opts.c: sections --------------------------------------------------------------- */

/* Sets the defaults of section s (and of its T_SECT subsections) into base. */
int cfg_apply_defaults(struct ctx *c, enum sect s, void *base);
/* Parses mapping n into base with the options of section s, then runs its finisher. */
int cfg_parse_section(struct ctx *c, enum sect s, const yaml_node_t *n, void *base);

/* ---- config_channels.c: T_FN options of the table ------------------------------------------ */

int cfg_fn_alert_rules(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_finish_root(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_admin_credentials(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_channels(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_listen(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_routes(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_url(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_headers(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_ordered_by(struct ctx *c, const yaml_node_t *n, void *base);

/* ---- config_auth.c: credentials ------------------------------------------------------------ */

int cfg_fn_auth_in(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_admin_auth(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_auth_out(struct ctx *c, const yaml_node_t *n, void *base);
/* Wipes and frees the secrets of a (not a itself). */
void cfg_auth_fini(struct igw_auth *a);

/* ---- config_check.c: section finishers and cross-checks ------------------------------------ */

int cfg_finish_http(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_finish_sp(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_finish_queue(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_finish_admin(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_finish_channel(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_finish_route(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_finish_retry(struct ctx *c, const yaml_node_t *n, void *base);
/* Strict syntax of an nng address (tcp://HOST:PORT, ipc://PATH, http://HOST:PORT). */
bool cfg_addr_ok(const char *url);

/* ---- config_partners.c: DCI partners and igw's signing key --------------------------------- */

int cfg_fn_partners(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_fn_partner_auth(struct ctx *c, const yaml_node_t *n, void *base);   /* config_auth.c */
int cfg_fn_partner_secret(struct ctx *c, const yaml_node_t *n, void *base); /* config_auth.c */
int cfg_finish_partner(struct ctx *c, const yaml_node_t *n, void *base);
int cfg_finish_signing(struct ctx *c, const yaml_node_t *n, void *base);
/* Checks that every callback:<partner> route names a partner; binds their hook. */
int cfg_check_partners(struct ctx *c, const yaml_node_t *n);
void cfg_partners_free(struct igw_config *cfg);
/* ---- config_mediate.c: upstreams and mediating channels ------------------------------------ */

/* The option rows of mediation (merged after opts[] and the outputs' rows). */
extern const struct opt *const cfg_med_opts;
extern const size_t cfg_med_nopts;
int cfg_fn_upstreams(struct ctx *c, const yaml_node_t *n, void *base);
/* Binds ch to the mediator its `answer` names and to its upstream (channel finisher). */
int cfg_bind_mediator(struct ctx *c, const yaml_node_t *n, struct igw_channel *ch);
void cfg_upstreams_free(struct igw_config *cfg);
void cfg_channel_mediate_free(struct igw_channel *ch);

/* ---- config.c ------------------------------------------------------------------------------ */

/* Reads the whole file at path into b: IGW_OK, IGW_EIO (errno set), IGW_ENOMEM, IGW_ETOOBIG. */
int cfg_read_all(const char *path, struct igw_buf *b);

#endif /* IGW_GATEWAY_CONFIG_INT_H */
