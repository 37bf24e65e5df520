/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials of HTTP requests (http/http.h): Basic and Bearer checks against a channel's
 * secrets in constant time, and the base64 decoder Basic needs. No nng, nothing blocks.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "igw/config.h"
#include "http/http.h"

#define CRED_MAX 4096 /* longest credential considered */

/* ---- credentials -------------------------------------------------------------------------- */

static int
b64val(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
    return p != NULL ? (int)(p - alphabet) : -1;
}

int
igw_base64_decode(const char *s, size_t len, char *out, size_t outlen, size_t *n)
{
    size_t o = 0;

    if (len % 4 != 0) {
        return IGW_EINVAL;
    }
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        bool last = i + 4 == len;
        for (int k = 0; k < 4; k++) {
            v[k] = last && k >= 2 && s[i + (size_t)k] == '=' ? -2 : b64val(s[i + (size_t)k]);
        }
        if (v[0] < 0 || v[1] < 0 || v[2] == -1 || v[3] == -1 || (v[2] == -2 && v[3] != -2)) {
            return IGW_EINVAL;
        }
        if (o + 3 > outlen) {
            return IGW_ETOOBIG;
        }
        out[o++] = (char)((v[0] << 2) | (v[1] >> 4));
        if (v[2] >= 0) {
            out[o++] = (char)(((v[1] & 15) << 4) | (v[2] >> 2));
        }
        if (v[3] >= 0) {
            out[o++] = (char)(((v[2] & 3) << 6) | v[3]);
        }
    }
    *n = o;
    return IGW_OK;
}

/* Compares cred with every secret of a (no early exit, so timing does not reveal which). */
static bool
auth_matches(const struct igw_auth *a, const char *cred, size_t len)
{
    bool ok = false;
    for (size_t i = 0; i < a->nsecrets; i++) {
        ok |= igw_ct_equal(a->secrets[i].value, a->secrets[i].len, cred, len);
    }
    return ok;
}

static bool
other_channel_matches(const struct igw_config *cfg, const struct igw_channel *ch,
                      enum igw_auth_type type, const char *cred, size_t len)
{
    bool ok = false;
    for (size_t i = 0; i < cfg->nchannels; i++) {
        const struct igw_channel *o = &cfg->channels[i];
        if (o != ch && o->auth.type == type) {
            ok |= auth_matches(&o->auth, cred, len);
        }
    }
    return ok;
}

/* Splits "Scheme credentials"; false when the scheme differs. */
static bool
auth_scheme(const char *value, const char *scheme, const char **cred, size_t *len)
{
    size_t n = strlen(scheme);
    const char *p;

    if (value == NULL || strncasecmp(value, scheme, n) != 0 || value[n] != ' ') {
        return false;
    }
    p = value + n;
    while (*p == ' ') {
        p++;
    }
    *len = strlen(p);
    while (*len > 0 && p[*len - 1] == ' ') {
        (*len)--;
    }
    *cred = p;
    return *len > 0 && *len <= CRED_MAX;
}

int
igw_http_auth_check(const struct igw_config *cfg, const struct igw_channel *ch,
                    const char *authorization)
{
    char decoded[CRED_MAX];
    const char *cred = NULL;
    size_t len = 0;
    bool basic = ch->auth.type == IGW_AUTH_BASIC;
    int rv = IGW_EAUTH;

    if (ch->auth.type == IGW_AUTH_NONE) {
        return IGW_OK;
    }
    if (!auth_scheme(authorization, basic ? "Basic" : "Bearer", &cred, &len)) {
        return IGW_EAUTH;
    }
    if (basic) {
        if (igw_base64_decode(cred, len, decoded, sizeof(decoded), &len) != IGW_OK) {
            return IGW_EAUTH;
        }
        cred = decoded;
    }
    if (auth_matches(&ch->auth, cred, len)) {
        rv = IGW_OK;
    } else if (other_channel_matches(cfg, ch, ch->auth.type, cred, len)) {
        rv = IGW_EPERM;
    }
    memset(decoded, 0, sizeof(decoded));
    return rv;
}
