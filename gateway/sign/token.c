/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partner credentials (sign.h): static bearer tokens, and the OAuth2 client-credentials grant
 * (RFC 6749 section 4.4) DCI names at POST /oauth2/client/token. An access token is a JWT
 * signed with igw's current key ({"iss","sub": partner,"aud":"igw","iat","exp","jti"}) and
 * checked with the same verification code as any signature, against igw's own public keys;
 * nothing is kept per token, so tokens survive neither a key change nor their exp.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "igw/common.h"
#include "sign/sign_int.h"

#define FORM_FIELD_MAX 1024
#define TOKEN_MAX 8192

/* ---- form decoding ----------------------------------------------------------------------------
 */

static int
hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes application/x-www-form-urlencoded text into out (NUL-terminated). */
static bool
form_decode(const char *p, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hexval(p[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                return false;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= outlen) {
            return false;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return true;
}

/* The decoded value of field name (given once) into out; false when absent, bad or twice. */
static bool
form_get(const char *form, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    bool found = false;
    const char *p = form;
    const char *end = form + len;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp != NULL ? amp : end;
        if ((size_t)(e - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
            if (found ||
                !form_decode(p + nl + 1, (size_t)(e - p - (ptrdiff_t)nl - 1), out, outlen)) {
                return false;
            }
            found = true;
        }
        p = e + 1;
    }
    return found;
}

/* ---- tokens ------------------------------------------------------------------------------------
 */

static int
error_answer(struct igw_buf *out, int *status, int code, const char *error, const char *desc)
{
    *status = code;
    return igw_buf_printf(out, "{\"error\":\"%s\",\"error_description\":\"%s\"}", error, desc);
}

static const struct igw_partner *
client_of(const struct igw_config *cfg, const char *id, const char *secret)
{
    const struct igw_partner *hit = NULL;
    for (size_t i = 0; i < cfg->npartners; i++) {
        const struct igw_partner *p = &cfg->partners[i];
        bool ok;
        if (p->client_id == NULL || strcmp(p->client_id, id) != 0) {
            continue;
        }
        ok = igw_ct_equal(p->client_secret.value, p->client_secret.len, secret, strlen(secret));
        hit = ok ? p : hit;
    }
    return hit;
}

static int
issue(igw_sign *s, const struct igw_partner *p, const char *scope, struct igw_buf *out, int *status)
{
    const struct igw_signing *g = &s->cfg->signing;
    time_t now = time(NULL);
    uint64_t ttl_s = g->token_ttl_ms / 1000;
    unsigned char rnd[16];
    char jti[40];
    char text[TOKEN_MAX];
    json_t *claims;
    struct igw_buf pl;
    int rv;

    if (igw_random_bytes(rnd, sizeof(rnd)) != IGW_OK) {
        return error_answer(out, status, 503, "temporarily_unavailable", "no randomness");
    }
    for (size_t i = 0; i < sizeof(rnd); i++) {
        snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
    }
    claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "iss", g->issuer != NULL ? g->issuer : "igw",
                       "sub", p->name, "aud", "igw", "iat", (json_int_t)now, "exp",
                       (json_int_t)now + (json_int_t)ttl_s, "jti", jti);
    if (claims == NULL ||
        (scope[0] != '\0' && json_object_set_new(claims, "scope", json_string(scope)) != 0)) {
        json_decref(claims);
        return IGW_ENOMEM;
    }
    igw_buf_init(&pl, TOKEN_MAX);
    rv = json_dumpb(claims, text, sizeof(text), JSON_COMPACT) < sizeof(text)
             ? sign_key_compact(&s->cur, text, json_dumpb(claims, NULL, 0, JSON_COMPACT), &pl, NULL,
                                0)
             : IGW_ETOOBIG;
    json_decref(claims);
    if (rv == IGW_OK) {
        *status = 200;
        rv = igw_buf_printf(out,
                            "{\"access_token\":\"%.*s\",\"token_type\":\"bearer\","
                            "\"expires_in\":%llu}",
                            (int)pl.len, pl.ptr, (unsigned long long)ttl_s);
    }
    if (pl.ptr != NULL) {
        memset(pl.ptr, 0, pl.len);
    }
    igw_buf_fini(&pl);
    return rv == IGW_EINTERNAL
               ? error_answer(out, status, 503, "temporarily_unavailable", "cannot sign")
               : rv;
}

int
igw_sign_token_answer(const struct igw_config *cfg, const char *form, size_t len, int *status,
                      struct igw_buf *out)
{
    char id[FORM_FIELD_MAX];
    char secret[FORM_FIELD_MAX];
    char grant[64];
    char scope[FORM_FIELD_MAX] = "";
    igw_sign *s = sign_current();
    const struct igw_partner *p;
    int rv;

    if (s == NULL || s->cur.jwk == NULL) {
        return error_answer(out, status, 503, "temporarily_unavailable",
                            "igw has no signing key (signing.key_file)");
    }
    if (form == NULL || !form_get(form, len, "grant_type", grant, sizeof(grant))) {
        return error_answer(out, status, 400, "invalid_request", "grant_type is required");
    }
    if (strcmp(grant, "client_credentials") != 0) {
        return error_answer(out, status, 400, "unsupported_grant_type",
                            "only client_credentials is supported");
    }
    if (!form_get(form, len, "client_id", id, sizeof(id)) ||
        !form_get(form, len, "client_secret", secret, sizeof(secret))) {
        return error_answer(out, status, 401, "invalid_client",
                            "client_id and client_secret are required");
    }
    (void)form_get(form, len, "scope", scope, sizeof(scope));
    for (const char *c = scope; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || *c == '"' || *c == '\\' || (unsigned char)*c >= 0x7f) {
            return error_answer(out, status, 400, "invalid_scope", "bad scope");
        }
    }
    p = client_of(cfg, id, secret);
    memset(secret, 0, sizeof(secret));
    if (p == NULL) {
        return error_answer(out, status, 401, "invalid_client", "unknown client or secret");
    }
    rv = issue(s, p, scope, out, status);
    return rv;
}

/* True when token is a valid access token igw issued to p. */
static bool
token_valid(igw_sign *s, const struct igw_partner *p, const char *tok, size_t n)
{
    json_t *keys = json_array();
    json_t *hdr = NULL;
    json_t *cl = NULL;
    const struct igw_signing *g = &s->cfg->signing;
    bool ok = false;

    if (keys != NULL && s->cur.pub != NULL && json_array_append(keys, s->cur.pub) == 0 &&
        (s->prev.pub == NULL || json_array_append(keys, s->prev.pub) == 0) &&
        sign_verify_compact(tok, n, keys, &hdr, &cl, NULL, 0) == IGW_OK && json_is_object(cl)) {
        const char *iss = json_string_value(json_object_get(cl, "iss"));
        const char *sub = json_string_value(json_object_get(cl, "sub"));
        const char *aud = json_string_value(json_object_get(cl, "aud"));
        json_t *exp = json_object_get(cl, "exp");
        ok = iss != NULL && strcmp(iss, g->issuer != NULL ? g->issuer : "igw") == 0 &&
             sub != NULL && strcmp(sub, p->name) == 0 && aud != NULL && strcmp(aud, "igw") == 0 &&
             json_is_integer(exp) && json_integer_value(exp) > (json_int_t)time(NULL);
    }
    json_decref(hdr);
    json_decref(cl);
    json_decref(keys);
    return ok;
}

int
igw_partner_auth(const struct igw_partner *p, const char *authorization)
{
    const char *tok;
    size_t n;
    bool ok = false;
    igw_sign *s;

    if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0) {
        return IGW_EAUTH;
    }
    tok = authorization + 7;
    while (*tok == ' ') {
        tok++;
    }
    n = strlen(tok);
    while (n > 0 && tok[n - 1] == ' ') {
        n--;
    }
    if (n == 0 || n > TOKEN_MAX) {
        return IGW_EAUTH;
    }
    for (size_t i = 0; i < p->auth.nsecrets; i++) {
        ok |= igw_ct_equal(p->auth.secrets[i].value, p->auth.secrets[i].len, tok, n);
    }
    s = ok || p->client_id == NULL ? NULL : sign_current();
    if (s != NULL && memchr(tok, '.', n) != NULL) {
        ok = token_valid(s, p, tok, n);
    }
    return ok ? IGW_OK : IGW_EAUTH;
}
