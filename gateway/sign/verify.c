/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verification (sign.h): a compact JWS split into its three parts, its protected header
 * checked (alg RS256 or ES256 only, a kid, no crit, exp not past), the key picked by kid from
 * a JWK set and the signature checked by libjose; then the DCI envelope rule: the payload is
 * JSON-equal to the body's {header, message}. Duplicate keys anywhere refuse the body, so no
 * two parsers can read different headers from the same bytes.
 */
#include <string.h>
#include <time.h>

#include <jose/b64.h>
#include <jose/jwk.h>
#include <jose/jws.h>

#include "igw/common.h"
#include "sign/sign_int.h"

static int
refuse(char *err, size_t errlen, const char *why)
{
    igw_errbuf_set(err, errlen, "%s", why);
    return IGW_EAUTH;
}

static bool
b64url_chars(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_')) {
            return false;
        }
    }
    return true;
}

/* A JSON value from base64url text. */
static json_t *
b64_json(const char *p, size_t n)
{
    json_t *s = json_stringn(p, n);
    json_t *raw = s != NULL ? jose_b64_dec_load(s) : NULL;
    json_decref(s);
    return raw;
}

/* The key usable for alg: its kty (and crv) fit alg, and its own alg and use, when given. */
static bool
key_usable(const json_t *k, const char *alg)
{
    const char *kty = json_string_value(json_object_get(k, "kty"));
    const char *kalg = json_string_value(json_object_get(k, "alg"));
    const char *use = json_string_value(json_object_get(k, "use"));
    const char *crv = json_string_value(json_object_get(k, "crv"));

    if (kty == NULL || (kalg != NULL && strcmp(kalg, alg) != 0) ||
        (use != NULL && strcmp(use, "sig") != 0)) {
        return false;
    }
    if (strcmp(alg, "RS256") == 0) {
        return strcmp(kty, "RSA") == 0;
    }
    return strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0;
}

static const json_t *
key_by_kid(const json_t *keys, const char *kid)
{
    size_t i;
    const json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *v = json_string_value(json_object_get(k, "kid"));
        if (v != NULL && strcmp(v, kid) == 0) {
            return k;
        }
    }
    return NULL;
}

/* alg, kid, crit and exp of the protected header. */
static int
check_header(const json_t *hdr, const char **alg, const char **kid, char *err, size_t errlen)
{
    const json_t *exp = json_object_get(hdr, "exp");

    *alg = json_string_value(json_object_get(hdr, "alg"));
    *kid = json_string_value(json_object_get(hdr, "kid"));
    if (*alg == NULL || (strcmp(*alg, "RS256") != 0 && strcmp(*alg, "ES256") != 0)) {
        return refuse(err, errlen, "signature algorithm is not RS256 or ES256");
    }
    if (*kid == NULL || **kid == '\0') {
        return refuse(err, errlen, "signature names no kid");
    }
    if (json_object_get(hdr, "crit") != NULL) {
        return refuse(err, errlen, "signature has critical header parameters");
    }
    if (exp != NULL &&
        (!json_is_number(exp) || json_number_value(exp) + SIGN_SKEW_S < (double)time(NULL))) {
        return refuse(err, errlen, "signature expired");
    }
    return IGW_OK;
}

int
sign_verify_compact(const char *jws, size_t n, const json_t *keys, json_t **hdr_out,
                    json_t **payload, char *err, size_t errlen)
{
    const char *d1 = memchr(jws, '.', n);
    const char *d2 = d1 != NULL ? memchr(d1 + 1, '.', (size_t)(jws + n - d1 - 1)) : NULL;
    const char *alg;
    const char *kid;
    const json_t *key;
    json_t *hdr = NULL;
    json_t *obj = NULL;
    int rv;

    *hdr_out = NULL;
    if (payload != NULL) {
        *payload = NULL;
    }
    if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(jws + n - d2 - 1)) != NULL || d1 == jws ||
        d2 == d1 + 1 || d2 + 1 == jws + n || !b64url_chars(jws, (size_t)(d1 - jws)) ||
        !b64url_chars(d1 + 1, (size_t)(d2 - d1 - 1)) ||
        !b64url_chars(d2 + 1, (size_t)(jws + n - d2 - 1))) {
        return refuse(err, errlen, "signature is not a compact JWS");
    }
    hdr = b64_json(jws, (size_t)(d1 - jws));
    if (hdr == NULL || !json_is_object(hdr)) {
        json_decref(hdr);
        return refuse(err, errlen, "signature header is not JSON");
    }
    rv = check_header(hdr, &alg, &kid, err, errlen);
    key = rv == IGW_OK ? key_by_kid(keys, kid) : NULL;
    if (rv == IGW_OK && key == NULL) {
        igw_errbuf_set(err, errlen, "signature key id is not in the sender's JWKS");
        rv = IGW_ENOENT;
    } else if (rv == IGW_OK && !key_usable(key, alg)) {
        rv = refuse(err, errlen, "the key named by kid does not fit the algorithm");
    }
    if (rv == IGW_OK) {
        obj = json_pack("{s:s%,s:s%,s:s%}", "protected", jws, (size_t)(d1 - jws), "payload", d1 + 1,
                        (size_t)(d2 - d1 - 1), "signature", d2 + 1, (size_t)(jws + n - d2 - 1));
        rv = obj == NULL ? IGW_ENOMEM : IGW_OK;
    }
    if (rv == IGW_OK && !jose_jws_ver(NULL, obj, NULL, key, false)) {
        rv = refuse(err, errlen, "signature does not verify");
    }
    if (rv == IGW_OK && payload != NULL) {
        *payload = b64_json(d1 + 1, (size_t)(d2 - d1 - 1));
        if (*payload == NULL) {
            rv = refuse(err, errlen, "signed payload is not JSON");
        }
    }
    json_decref(obj);
    if (rv == IGW_OK) {
        *hdr_out = hdr;
    } else {
        json_decref(hdr);
    }
    return rv;
}

int
sign_jwks_parse(const char *text, size_t len, json_t **keys, char *err, size_t errlen)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    json_t *in = json_object_get(doc, "keys");
    json_t *out = json_array();
    size_t i;
    json_t *k;

    *keys = NULL;
    if (out == NULL) {
        json_decref(doc);
        return IGW_ENOMEM;
    }
    if (!json_is_array(in)) {
        json_decref(doc);
        json_decref(out);
        igw_errbuf_set(err, errlen, "not a JWK set (an object with a keys array)");
        return IGW_EINVAL;
    }
    json_array_foreach(in, i, k)
    {
        /* only public signature keys with a kid: a private member is dropped, not used */
        if (json_is_object(k) && json_is_string(json_object_get(k, "kid")) &&
            (key_usable(k, "RS256") || key_usable(k, "ES256"))) {
            json_t *pub = json_deep_copy(k);
            if (pub == NULL || !jose_jwk_pub(NULL, pub) || json_array_append_new(out, pub) != 0) {
                json_decref(doc);
                json_decref(out);
                return IGW_ENOMEM;
            }
        }
    }
    json_decref(doc);
    *keys = out;
    return IGW_OK;
}

/* ---- the DCI envelope ------------------------------------------------------------------------ */

static int
envelope_equal(const json_t *body, const json_t *payload, char *err, size_t errlen)
{
    const json_t *bh = json_object_get(body, "header");
    const json_t *bm = json_object_get(body, "message");
    const json_t *ph = json_object_get(payload, "header");
    const json_t *pm = json_object_get(payload, "message");

    if (!json_is_object(payload) || ph == NULL || !json_equal(bh, ph) ||
        (bm == NULL) != (pm == NULL) || (bm != NULL && !json_equal(bm, pm))) {
        return refuse(err, errlen, "signed content differs from the message's header/message");
    }
    return IGW_OK;
}

/* Verifies sig against p's keys; an unknown kid asks for a refetch. */
static int
verify_with_partner(igw_sign *s, const struct igw_partner *p, const char *sig, size_t n,
                    const json_t *body, char *err, size_t errlen)
{
    json_t *keys = sign_jwks_get(s, p);
    json_t *hdr = NULL;
    json_t *payload = NULL;
    int rv;

    if (keys == NULL) {
        igw_errbuf_set(err, errlen, "the keys of partner %s are not fetched yet", p->name);
        sign_jwks_kick(s, p);
        return IGW_EAGAIN;
    }
    rv = sign_verify_compact(sig, n, keys, &hdr, &payload, err, errlen);
    if (rv == IGW_ENOENT) {
        sign_jwks_kick(s, p);
        rv = IGW_EAUTH;
    }
    if (rv == IGW_OK) {
        rv = envelope_equal(body, payload, err, errlen);
    }
    json_decref(hdr);
    json_decref(payload);
    json_decref(keys);
    return rv;
}

int
igw_sign_verify(const struct igw_partner *p, const char *body, size_t len, const char **code,
                char *err, size_t errlen)
{
    igw_sign *s;
    json_error_t je;
    json_t *doc;
    const json_t *sig;
    int rv;

    *code = NULL;
    if (!p->verify) {
        return IGW_OK;
    }
    s = sign_current();
    if (s == NULL) {
        *code = IGW_DCI_ERR_UNAVAILABLE;
        igw_errbuf_set(err, errlen, "signature verification is not started");
        return IGW_EAGAIN;
    }
    doc = json_loadb(body != NULL ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL || !json_is_object(doc) || !json_is_object(json_object_get(doc, "header"))) {
        json_decref(doc);
        *code = IGW_DCI_ERR_BAD;
        igw_errbuf_set(err, errlen, "not a DCI envelope (an object with a header object)");
        return IGW_EPARSE;
    }
    sig = json_object_get(doc, "signature");
    if (sig == NULL || json_is_null(sig) || (json_is_string(sig) && json_string_length(sig) == 0)) {
        rv = IGW_ENOENT;
        igw_errbuf_set(err, errlen, "the message is not signed");
    } else if (!json_is_string(sig) || json_string_length(sig) > IGW_SIGN_MAX) {
        rv = refuse(err, errlen, "signature is not a compact JWS string");
    } else {
        rv = verify_with_partner(s, p, json_string_value(sig), json_string_length(sig), doc, err,
                                 errlen);
    }
    json_decref(doc);
    *code = rv == IGW_OK       ? NULL
            : rv == IGW_ENOENT ? IGW_DCI_ERR_SIG_MISSING
            : rv == IGW_EAGAIN ? IGW_DCI_ERR_UNAVAILABLE
            : rv == IGW_ENOMEM ? IGW_DCI_ERR_UNAVAILABLE
                               : IGW_DCI_ERR_SIG_INVALID;
    return rv;
}
