/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP intake's two fixed DCI routes (in_http.h), answered by gateway/sign: GET
 * /.well-known/jwks.json (igw's public keys, when signing.key_file is set) and POST
 * /oauth2/client/token (OAuth2 client credentials, when a partner has a client_id). They are
 * there only when configured, so a configuration without DCI partners keeps every path for its
 * channels. No secret and no body is logged.
 */
#include <string.h>
#include <strings.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "http/http.h"
#include "http/server.h"
#include "in_http/in_http.h"
#include "sign/sign.h"

#define JWKS_PATH "/.well-known/jwks.json"
#define TOKEN_PATH "/oauth2/client/token"

static bool
path_is(const char *uri, const char *path)
{
    size_t n = strlen(path);
    return strncmp(uri, path, n) == 0 && (uri[n] == '\0' || uri[n] == '?');
}

static bool
has_clients(const struct igw_config *cfg)
{
    for (size_t i = 0; i < cfg->npartners; i++) {
        if (cfg->partners[i].client_id != NULL) {
            return true;
        }
    }
    return false;
}

enum igw_http_builtin
igw_http_builtin_of(const struct igw_config *cfg, const char *method, const char *uri)
{
    if (cfg->signing.key_file != NULL && path_is(uri, JWKS_PATH)) {
        return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ? IGW_HTTP_BUILTIN_JWKS
                                                                         : IGW_HTTP_BUILTIN_405;
    }
    if (has_clients(cfg) && path_is(uri, TOKEN_PATH)) {
        return strcmp(method, "POST") == 0 ? IGW_HTTP_BUILTIN_TOKEN : IGW_HTTP_BUILTIN_405;
    }
    return IGW_HTTP_BUILTIN_NONE;
}

static nng_http_res *
json_res(uint16_t status, const struct igw_buf *b)
{
    nng_http_res *res =
        igw_http_res_new(status, "application/json", b->ptr != NULL ? b->ptr : "", b->len);
    if (res != NULL) {
        (void)nng_http_res_set_header(res, "Cache-Control", "no-store"); /* RFC 6749 5.1 */
    }
    return res;
}

nng_http_res *
igw_http_builtin_jwks(void)
{
    struct igw_buf b;
    nng_http_res *res = NULL;

    igw_buf_init(&b, IGW_JWKS_MAX);
    if (igw_sign_jwks(&b) == IGW_OK) {
        res = igw_http_res_new(200, "application/json", b.ptr, b.len);
    }
    if (res != NULL) {
        (void)nng_http_res_set_header(res, "Cache-Control", "max-age=300");
    }
    igw_buf_fini(&b);
    return res;
}

nng_http_res *
igw_http_builtin_token(const struct igw_config *cfg, const char *content_type, const char *body,
                       size_t len, int *status)
{
    struct igw_buf b;
    nng_http_res *res = NULL;

    igw_buf_init(&b, 16384);
    *status = 0;
    if (!igw_media_type_is(content_type, "application/x-www-form-urlencoded")) {
        *status = 400;
        (void)igw_buf_puts(&b, "{\"error\":\"invalid_request\",\"error_description\":"
                               "\"send application/x-www-form-urlencoded\"}");
    } else if (igw_sign_token_answer(cfg, body, len, status, &b) != IGW_OK) {
        igw_buf_reset(&b);
        *status = 503;
        (void)igw_buf_puts(&b, "{\"error\":\"temporarily_unavailable\"}");
    }
    res = json_res((uint16_t)*status, &b);
    if (res != NULL && *status == 401) {
        (void)nng_http_res_set_header(res, "WWW-Authenticate", "Basic realm=\"igw\"");
    }
    if (b.ptr != NULL) {
        memset(b.ptr, 0, b.len); /* holds the token */
    }
    igw_buf_fini(&b);
    return res;
}
