/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw's own keys (sign.h): PEM private keys made JWKs by libjose's OpenSSL bridge, compact
 * JWS signing, the JWKS igw serves, and the context's start, stop and config check. libjose
 * (Debian libjose) does all the cryptography; this file only assembles the compact form.
 */
#include <stdio.h>
#include <string.h>

#include <jose/b64.h>
#include <jose/jwk.h>
#include <jose/jws.h>
#include <jose/openssl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "igw/common.h"
#include "igw/log.h"
#include "sign/sign_int.h"

#define PEM_MAX (64u << 10)

static pthread_mutex_t current_mu = PTHREAD_MUTEX_INITIALIZER;
static igw_sign *current;

igw_sign *
sign_current(void)
{
    igw_sign *s;
    pthread_mutex_lock(&current_mu);
    s = current;
    pthread_mutex_unlock(&current_mu);
    return s;
}

int
sign_b64url(const void *p, size_t n, struct igw_buf *out)
{
    size_t need = jose_b64_enc_buf(p, n, NULL, 0);
    int rv;

    if (need == SIZE_MAX) {
        return IGW_EINVAL;
    }
    rv = igw_buf_reserve(out, need + 1);
    if (rv != IGW_OK) {
        return rv;
    }
    if (jose_b64_enc_buf(p, n, out->ptr + out->len, need) != need) {
        return IGW_EINTERNAL;
    }
    out->len += need;
    return IGW_OK;
}

/* The key type alg needs: RSA >= 2048 bits, or EC on P-256. */
static bool
key_fits(EVP_PKEY *pk, const char *alg, char *err, size_t errlen)
{
    if (strcmp(alg, "RS256") == 0) {
        if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pk) < 2048) {
            igw_errbuf_set(err, errlen, "RS256 needs an RSA key of at least 2048 bits");
            return false;
        }
        return true;
    }
    if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || EVP_PKEY_get_bits(pk) != 256) {
        igw_errbuf_set(err, errlen, "ES256 needs an EC key on P-256");
        return false;
    }
    return true;
}

/* Encrypted keys are refused: igw has no one to ask for a passphrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    IGW_UNUSED(buf);
    IGW_UNUSED(size);
    IGW_UNUSED(rwflag);
    IGW_UNUSED(u);
    return 0;
}

static EVP_PKEY *
read_pem(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *pk;

    if (f == NULL) {
        igw_errbuf_set(err, errlen, "cannot open key file %s", path);
        return NULL;
    }
    pk = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (pk == NULL) {
        igw_errbuf_set(err, errlen, "%s is not an unencrypted PEM private key", path);
    }
    return pk;
}

/* kid: the configured one, or the RFC 7638 SHA-256 thumbprint. */
static int
set_kid(struct sign_key *k, const char *kid, char *err, size_t errlen)
{
    json_t *thp = NULL;
    const char *v = kid;

    if (v == NULL) {
        thp = jose_jwk_thp(NULL, k->jwk, "S256");
        v = json_string_value(thp);
    }
    if (v == NULL || strlen(v) == 0 || strlen(v) >= sizeof(k->kid)) {
        json_decref(thp);
        igw_errbuf_set(err, errlen, "no usable kid (1 to %d characters)", SIGN_KID_MAX - 1);
        return IGW_ECONFIG;
    }
    memcpy(k->kid, v, strlen(v) + 1);
    json_decref(thp);
    return IGW_OK;
}

int
sign_key_load(const char *path, const char *alg, const char *kid, struct sign_key *k, char *err,
              size_t errlen)
{
    EVP_PKEY *pk = read_pem(path, err, errlen);
    int rv = IGW_ECONFIG;

    memset(k, 0, sizeof(*k));
    if (pk == NULL || !key_fits(pk, alg, err, errlen)) {
        EVP_PKEY_free(pk);
        return IGW_ECONFIG;
    }
    k->jwk = jose_openssl_jwk_from_EVP_PKEY(NULL, pk);
    EVP_PKEY_free(pk);
    if (k->jwk == NULL) {
        igw_errbuf_set(err, errlen, "%s: libjose cannot use this key", path);
        return IGW_ECONFIG;
    }
    snprintf(k->alg, sizeof(k->alg), "%s", alg);
    rv = set_kid(k, kid, err, errlen);
    if (rv == IGW_OK && (json_object_set_new(k->jwk, "alg", json_string(alg)) != 0 ||
                         json_object_set_new(k->jwk, "kid", json_string(k->kid)) != 0 ||
                         json_object_set_new(k->jwk, "use", json_string("sig")) != 0 ||
                         (k->pub = json_deep_copy(k->jwk)) == NULL)) {
        rv = IGW_ENOMEM;
    }
    if (rv == IGW_OK && !jose_jwk_pub(NULL, k->pub)) {
        igw_errbuf_set(err, errlen, "%s: no public part", path);
        rv = IGW_ECONFIG;
    }
    if (rv != IGW_OK) {
        sign_key_fini(k);
    }
    return rv;
}

void
sign_key_fini(struct sign_key *k)
{
    json_decref(k->jwk);
    json_decref(k->pub);
    memset(k, 0, sizeof(*k));
}

/* Appends the text of string member key of o to out. */
static int
put_member(struct igw_buf *out, const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v != NULL ? igw_buf_puts(out, v) : IGW_EINTERNAL;
}

int
sign_key_compact(const struct sign_key *k, const void *payload, size_t len, struct igw_buf *out,
                 char *err, size_t errlen)
{
    json_t *jws = json_object();
    json_t *sig = json_object();
    json_t *prot = json_pack("{s:s,s:s,s:s}", "alg", k->alg, "kid", k->kid, "typ", "JWT");
    size_t start = out->len;
    int rv = IGW_ENOMEM;

    if (jws != NULL && sig != NULL && prot != NULL &&
        json_object_set_new(jws, "payload", jose_b64_enc(len > 0 ? payload : "", len)) == 0 &&
        json_object_set(sig, "protected", prot) == 0) {
        rv = jose_jws_sig(NULL, jws, sig, k->jwk) ? IGW_OK : IGW_EINTERNAL;
    }
    if (rv == IGW_EINTERNAL || (rv == IGW_OK && json_object_get(jws, "header") != NULL)) {
        igw_errbuf_set(err, errlen, "libjose could not sign with key %s", k->kid);
        rv = IGW_EINTERNAL;
    }
    if (rv == IGW_OK) {
        rv = put_member(out, jws, "protected");
    }
    if (rv == IGW_OK && (rv = igw_buf_putc(out, '.')) == IGW_OK &&
        (rv = put_member(out, jws, "payload")) == IGW_OK &&
        (rv = igw_buf_putc(out, '.')) == IGW_OK) {
        rv = put_member(out, jws, "signature");
    }
    if (rv != IGW_OK) {
        out->len = start;
    }
    json_decref(prot);
    json_decref(sig);
    json_decref(jws);
    return rv;
}

/* ---- public API ----------------------------------------------------------------------------- */

int
igw_sign_compact(const void *payload, size_t len, struct igw_buf *out, char *err, size_t errlen)
{
    igw_sign *s = sign_current();

    if (s == NULL) {
        igw_errbuf_set(err, errlen, "signing is not started");
        return IGW_EAGAIN;
    }
    if (s->cur.jwk == NULL) {
        igw_errbuf_set(err, errlen, "no signing key configured (signing.key_file)");
        return IGW_ENOENT;
    }
    return sign_key_compact(&s->cur, payload, len, out, err, errlen);
}

int
igw_sign_envelope(const char *header, size_t hlen, const char *message, size_t mlen,
                  struct igw_buf *out, char *err, size_t errlen)
{
    struct igw_buf pl;
    int rv;

    if (hlen == 0) {
        igw_errbuf_set(err, errlen, "empty header");
        return IGW_EINVAL;
    }
    igw_buf_init(&pl, hlen + mlen + 32);
    rv = igw_buf_puts(&pl, "{\"header\":");
    if (rv == IGW_OK && (rv = igw_buf_append(&pl, header, hlen)) == IGW_OK && mlen > 0 &&
        (rv = igw_buf_puts(&pl, ",\"message\":")) == IGW_OK) {
        rv = igw_buf_append(&pl, message, mlen);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_putc(&pl, '}');
    }
    if (rv == IGW_OK) {
        rv = igw_sign_compact(pl.ptr, pl.len, out, err, errlen);
    }
    igw_buf_fini(&pl);
    return rv;
}

static int
dump_into(const json_t *v, struct igw_buf *out)
{
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
    int rv;

    if (n == 0) {
        return IGW_ENOMEM;
    }
    rv = igw_buf_reserve(out, n + 1);
    if (rv != IGW_OK) {
        return rv;
    }
    out->len += json_dumpb(v, out->ptr + out->len, n, JSON_COMPACT);
    return IGW_OK;
}

int
igw_sign_jwks(struct igw_buf *out)
{
    igw_sign *s = sign_current();
    json_t *keys = json_array();
    json_t *doc = json_pack("{s:o}", "keys", keys);
    int rv = doc != NULL ? IGW_OK : IGW_ENOMEM;

    if (rv == IGW_OK && s != NULL && s->cur.pub != NULL &&
        json_array_append(keys, s->cur.pub) != 0) {
        rv = IGW_ENOMEM;
    }
    if (rv == IGW_OK && s != NULL && s->prev.pub != NULL &&
        json_array_append(keys, s->prev.pub) != 0) {
        rv = IGW_ENOMEM;
    }
    if (rv == IGW_OK) {
        rv = dump_into(doc, out);
    }
    json_decref(doc);
    return rv;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* A JWKS file: read and parsed into *keys. */
static int
load_jwks_file(const struct igw_partner *p, json_t **keys, char *err, size_t errlen)
{
    char why[IGW_ERRBUF_SIZE];
    json_error_t je;
    json_t *doc = json_load_file(p->jwks_file, JSON_REJECT_DUPLICATES, &je);
    size_t n;
    char *text;
    int rv;

    if (doc == NULL) {
        igw_errbuf_set(err, errlen, "partners.%s.jwks_file: %s: %s", p->name, p->jwks_file,
                       je.text);
        return IGW_ECONFIG;
    }
    n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    text = igw_malloc(n + 1);
    rv = text != NULL ? IGW_OK : IGW_ENOMEM;
    if (rv == IGW_OK) {
        json_dumpb(doc, text, n, JSON_COMPACT);
        rv = sign_jwks_parse(text, n, keys, why, sizeof(why));
    }
    if (rv == IGW_EINVAL) {
        igw_errbuf_set(err, errlen, "partners.%s.jwks_file: %s", p->name, why);
        rv = IGW_ECONFIG;
    }
    igw_free(text);
    json_decref(doc);
    return rv;
}

static int
load_own_keys(igw_sign *s, const struct igw_config *cfg, char *err, size_t errlen)
{
    const struct igw_signing *g = &cfg->signing;
    const char *alg = g->alg != NULL ? g->alg : "RS256";
    char why[IGW_ERRBUF_SIZE];
    int rv = IGW_OK;

    if (g->key_file != NULL) {
        rv = sign_key_load(g->key_file, alg, g->kid, &s->cur, why, sizeof(why));
        if (rv == IGW_ECONFIG) {
            igw_errbuf_set(err, errlen, "signing.key_file: %s", why);
        }
    }
    if (rv == IGW_OK && g->previous_key_file != NULL) {
        rv = sign_key_load(g->previous_key_file, alg, g->previous_kid, &s->prev, why, sizeof(why));
        if (rv == IGW_ECONFIG) {
            igw_errbuf_set(err, errlen, "signing.previous_key_file: %s", why);
        }
    }
    if (rv == IGW_OK && s->prev.jwk != NULL && strcmp(s->prev.kid, s->cur.kid) == 0) {
        igw_errbuf_set(err, errlen, "signing: the previous key has the current key's kid");
        rv = IGW_ECONFIG;
    }
    return rv;
}

static int
sign_load(igw_sign *s, const struct igw_config *cfg, char *err, size_t errlen)
{
    int rv;

    s->cfg = cfg;
    s->jwks = igw_calloc(cfg->npartners + 1, sizeof(*s->jwks));
    if (s->jwks == NULL) {
        return IGW_ENOMEM;
    }
    rv = load_own_keys(s, cfg, err, errlen);
    for (size_t i = 0; rv == IGW_OK && i < cfg->npartners; i++) {
        const struct igw_partner *p = &cfg->partners[i];
        if (p->sign && cfg->signing.key_file == NULL && p->nbase_urls > 0 && p->verify) {
            IGW_WARN("sign: partner %s: sign is true but there is no signing.key_file", p->name);
        }
        if (p->jwks_file != NULL) {
            rv = load_jwks_file(p, &s->jwks[i].keys, err, errlen);
        }
    }
    return rv;
}

static void
sign_free(igw_sign *s)
{
    if (s == NULL) {
        return;
    }
    sign_key_fini(&s->cur);
    sign_key_fini(&s->prev);
    if (s->jwks != NULL && s->cfg != NULL) {
        for (size_t i = 0; i < s->cfg->npartners; i++) {
            json_decref(s->jwks[i].keys);
        }
    }
    igw_free(s->jwks);
    igw_free(s);
}

int
igw_sign_check(const struct igw_config *cfg, char *err, size_t errlen)
{
    igw_sign *s = IGW_NEW(igw_sign);
    int rv = s != NULL ? sign_load(s, cfg, err, errlen) : IGW_ENOMEM;
    sign_free(s);
    return rv;
}

int
igw_sign_start(const struct igw_config *cfg, igw_sign **out, char *err, size_t errlen)
{
    igw_sign *s = IGW_NEW(igw_sign);
    int rv = s != NULL ? sign_load(s, cfg, err, errlen) : IGW_ENOMEM;

    *out = NULL;
    if (rv == IGW_OK) {
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
        rv = sign_fetch_start(s, err, errlen);
        if (rv != IGW_OK) {
            pthread_cond_destroy(&s->cv);
            pthread_mutex_destroy(&s->mu);
        }
    }
    if (rv != IGW_OK) {
        sign_free(s);
        return rv;
    }
    pthread_mutex_lock(&current_mu);
    if (current == NULL) {
        current = s;
    }
    pthread_mutex_unlock(&current_mu);
    *out = s;
    return IGW_OK;
}

void
igw_sign_stop(igw_sign *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&current_mu);
    if (current == s) {
        current = NULL;
    }
    pthread_mutex_unlock(&current_mu);
    sign_fetch_stop(s);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    sign_free(s);
}
