/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader, credentials: inbound (channels.<name>.auth, admin.auth) and outbound
 * (routes' auth) sections, their secrets read from files relative to the config directory or
 * given inline, and the freeing (with wiping) of the secrets.
 */
#include <errno.h>
#include <string.h>

#include "igw/buf.h"
#include "config/config_int.h"

#define SECRET_FILE_MAX (1u << 20)

/* ---- credentials -------------------------------------------------------------------------- */

static void
auth_conf_fini(struct auth_conf *a)
{
    igw_free(a->type);
    igw_free(a->tokens_file);
    cfg_free_list(a->tokens, a->ntokens);
    igw_free(a->users_file);
    cfg_free_list(a->users, a->nusers);
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
            return cfg_fail(c, n, "\"%s\" line %u: invalid %s", name, line,
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
    const yaml_node_t *n = cfg_map_get(c, sect, key);
    size_t before = a->nsecrets;
    size_t old = cfg_path_push(c, key, strlen(key));
    char *path = cfg_resolve_path(c->dir, name);
    struct igw_buf b;
    int rv;

    igw_buf_init(&b, SECRET_FILE_MAX);
    rv = path == NULL ? IGW_ENOMEM : cfg_read_all(path, &b);
    if (rv == IGW_EIO || rv == IGW_ETOOBIG) {
        rv = cfg_fail(c, n, "cannot read secrets file \"%s\" (%s)", name,
                      rv == IGW_EIO ? strerror(errno) : "larger than 1 MiB");
    }
    if (rv == IGW_OK) {
        rv = add_secret_lines(c, n, name, &b, type, a);
    }
    if (rv == IGW_OK && a->nsecrets == before) {
        rv = cfg_fail(c, n, "secrets file \"%s\" holds no %s", name,
                      type == IGW_AUTH_BASIC ? "user:password entries" : "tokens");
    }
    if (rv == IGW_OK) {
        cfg_path_pop(c, old);
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
            size_t old = cfg_path_push(c, key, strlen(key));
            rv = cfg_fail(c, cfg_map_get(c, sect, key), "entry %zu: invalid %s", i + 1,
                          type == IGW_AUTH_BASIC ? "user:password entry" : "token");
            cfg_path_pop(c, old);
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
        return cfg_fail(c, n, "users/users_file are for type basic");
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
        return cfg_fail(c, n, "tokens/tokens_file are for type bearer");
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
            return cfg_fail(c, n, "credentials given but type is none (set type: bearer or basic)");
        }
        return IGW_OK;
    }
    a->type = strcmp(ac->type, "bearer") == 0 ? IGW_AUTH_BEARER : IGW_AUTH_BASIC;
    rv = a->type == IGW_AUTH_BEARER ? auth_in_bearer(c, n, ac, a) : auth_in_basic(c, n, ac, a);
    if (rv == IGW_OK && a->nsecrets == 0) {
        rv = cfg_fail(c, n, "type %s needs %s", ac->type,
                      a->type == IGW_AUTH_BEARER ? "tokens_file or tokens" : "users_file or users");
    }
    return rv;
}

/* An inbound auth section (a channel's or the admin API's) into a. */
static int
parse_auth_in(struct ctx *c, const yaml_node_t *n, struct igw_auth *a)
{
    struct auth_conf ac;
    int rv;

    memset(&ac, 0, sizeof(ac));
    rv = cfg_apply_defaults(c, S_AUTH_IN, &ac);
    if (rv == IGW_OK) {
        rv = cfg_parse_section(c, S_AUTH_IN, n, &ac);
    }
    if (rv == IGW_OK) {
        rv = resolve_auth_in(c, n, &ac, a);
    }
    auth_conf_fini(&ac);
    return rv;
}

int
cfg_fn_auth_in(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_channel *ch = base;
    return parse_auth_in(c, n, &ch->auth);
}

int
cfg_fn_admin_auth(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    return parse_auth_in(c, n, &cfg->admin_auth);
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
        return cfg_fail(c, n, "%s are for type %s", bearer ? "user/user_file" : "token/token_file",
                        bearer ? "basic" : "bearer");
    }
    if ((file == NULL) == (inl == NULL)) {
        return cfg_fail(c, n, "type %s needs exactly one of %s or %s", ac->type, fkey,
                        bearer ? "token" : "user");
    }
    if (file != NULL) {
        rv = load_secrets(c, fkey, file, a->type, n, a);
    } else if (!secret_ok(inl, strlen(inl), a->type)) {
        rv = cfg_fail(c, n, "invalid %s", bearer ? "token" : "user:password entry");
    } else {
        rv = add_secret(a, inl, strlen(inl));
    }
    return rv; /* a file may hold several lines: the caller keeps the first */
}

void
cfg_auth_fini(struct igw_auth *a)
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

int
cfg_fn_auth_out(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_route *r = base;
    struct igw_auth tmp;
    struct auth_conf ac;
    int rv;

    memset(&ac, 0, sizeof(ac));
    memset(&tmp, 0, sizeof(tmp));
    rv = cfg_parse_section(c, S_AUTH_OUT, n, &ac);
    if (rv == IGW_OK) {
        rv = resolve_auth_out(c, n, &ac, &tmp);
    }
    if (rv == IGW_OK) {
        rv = add_secret(&r->auth, tmp.secrets[0].value, tmp.secrets[0].len);
        r->auth.type = tmp.type;
    }
    cfg_auth_fini(&tmp);
    auth_conf_fini(&ac);
    return rv;
}

/* ---- admin.credentials -------------------------------------------------------------------- */

static bool
cred_name_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 63 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-") == n;
}

/* The secret of one entry: the tokens of token_file, or "name:<first line of password_file>". */
static int
cred_secrets(struct ctx *c, const yaml_node_t *n, const struct admin_cred_conf *k,
             struct igw_admin_cred *out)
{
    struct igw_auth tmp;
    struct igw_buf b;
    int rv;

    if ((k->token_file == NULL) == (k->password_file == NULL)) {
        return cfg_fail(c, n, "needs exactly one of token_file or password_file");
    }
    if (k->token_file != NULL) {
        out->auth.type = IGW_AUTH_BEARER;
        return load_secrets(c, "token_file", k->token_file, IGW_AUTH_BEARER, n, &out->auth);
    }
    memset(&tmp, 0, sizeof(tmp));
    /* a password is any printable line (type none: no bearer or basic shape asked) */
    rv = load_secrets(c, "password_file", k->password_file, IGW_AUTH_NONE, n, &tmp);
    igw_buf_init(&b, 8192);
    if (rv == IGW_OK) {
        rv = igw_buf_printf(&b, "%s:", k->name);
        rv = rv == IGW_OK ? igw_buf_append(&b, tmp.secrets[0].value, tmp.secrets[0].len) : rv;
        rv = rv == IGW_OK ? add_secret(&out->auth, b.ptr, b.len) : rv;
        out->auth.type = IGW_AUTH_BASIC;
    }
    if (b.ptr != NULL) {
        memset(b.ptr, 0, b.len);
    }
    igw_buf_fini(&b);
    cfg_auth_fini(&tmp);
    return rv;
}

static int
parse_one_cred(struct ctx *c, const yaml_node_t *n, struct igw_admin_cred *out)
{
    struct admin_cred_conf k;
    int rv;

    memset(&k, 0, sizeof(k));
    rv = cfg_parse_section(c, S_ADMIN_CRED, n, &k);
    if (rv == IGW_OK && !cred_name_ok(k.name)) {
        rv = cfg_fail(c, cfg_map_get(c, n, "name"),
                      "name must be 1..63 characters of [A-Za-z0-9_.@-]");
    }
    if (rv == IGW_OK) {
        rv = cred_secrets(c, n, &k, out);
    }
    if (rv == IGW_OK) {
        out->name = k.name;
        out->role = k.role;
        k.name = NULL;
    }
    igw_free(k.name);
    igw_free(k.token_file);
    igw_free(k.password_file);
    return rv;
}

int
cfg_fn_admin_credentials(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    size_t cnt;
    int rv = IGW_OK;

    if (n->type != YAML_SEQUENCE_NODE) {
        return cfg_fail(c, n, "expected a list of {name, role, token_file|password_file}, got %s",
                        cfg_node_kind(n));
    }
    cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    cfg->admin_creds = igw_calloc(cnt + 1, sizeof(*cfg->admin_creds));
    if (cfg->admin_creds == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = 0; rv == IGW_OK && i < cnt; i++) {
        const yaml_node_t *item = cfg_node_at(c, n->data.sequence.items.start[i]);
        rv = parse_one_cred(c, item, &cfg->admin_creds[i]);
        cfg->nadmin_creds = i + 1; /* freed with the config, also when partly filled */
        for (size_t j = 0; rv == IGW_OK && j < i; j++) {
            if (strcmp(cfg->admin_creds[j].name, cfg->admin_creds[i].name) == 0) {
                rv =
                    cfg_fail(c, item, "duplicate credential name \"%s\"", cfg->admin_creds[i].name);
            }
        }
    }
    return rv;
}

/* ---- DCI partners (partners.<name>.auth, client_secret_file) ------------------------------- */

int
cfg_fn_partner_auth(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_partner *p = base;
    int rv = parse_auth_in(c, n, &p->auth);
    if (rv == IGW_OK && p->auth.type == IGW_AUTH_BASIC) {
        rv = cfg_fail(c, n, "a partner authenticates with bearer tokens (type bearer)");
    }
    return rv;
}

/* The first secret line of the file named by n into the partner's client_secret. */
int
cfg_fn_partner_secret(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_partner *p = base;
    struct igw_auth tmp = {IGW_AUTH_BEARER, NULL, 0};
    char *name = NULL;
    char *path = NULL;
    struct igw_buf b;
    int rv = cfg_scalar_dup(c, n, &name);

    igw_buf_init(&b, SECRET_FILE_MAX);
    if (rv == IGW_OK) {
        path = cfg_resolve_path(c->dir, name);
        rv = path == NULL ? IGW_ENOMEM : cfg_read_all(path, &b);
    }
    if (rv == IGW_EIO || rv == IGW_ETOOBIG) {
        rv = cfg_fail(c, n, "cannot read secret file \"%s\" (%s)", name,
                      rv == IGW_EIO ? strerror(errno) : "larger than 1 MiB");
    }
    if (rv == IGW_OK) {
        rv = add_secret_lines(c, n, name, &b, IGW_AUTH_BEARER, &tmp);
    }
    if (rv == IGW_OK && tmp.nsecrets == 0) {
        rv = cfg_fail(c, n, "secret file \"%s\" holds no secret", name);
    }
    if (rv == IGW_OK) {
        p->client_secret = tmp.secrets[0];
        tmp.secrets[0].value = NULL;
    }
    if (b.ptr != NULL) {
        memset(b.ptr, 0, b.len);
    }
    cfg_auth_fini(&tmp);
    igw_buf_fini(&b);
    igw_free(path);
    igw_free(name);
    return rv;
}
