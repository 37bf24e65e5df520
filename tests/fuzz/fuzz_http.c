/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for igw's own HTTP request parsing (nng parses the request line and headers;
 * igw parses what nng hands it): path patterns and request targets, Content-Length, base64
 * credentials, media types and header tokens. The input is split at the first NUL into a
 * pattern and a request target; every parser also gets the whole input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "igw/common.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
cstr(const uint8_t *p, size_t n)
{
    return igw_strndup((const char *)p, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul != NULL ? (size_t)(nul - data) : size;
    char *pattern = cstr(data, plen);
    char *target = cstr(nul != NULL ? nul + 1 : data, nul != NULL ? size - plen - 1 : size);
    char *whole = cstr(data, size);
    struct igw_path_match *m = igw_calloc(1, sizeof(*m));
    char err[128];
    char out[512];
    size_t n = 0;
    uint64_t v = 0;

    if (pattern == NULL || target == NULL || whole == NULL || m == NULL) {
        goto out;
    }
    if (igw_path_pattern_check(pattern, err, sizeof(err)) == IGW_OK) {
        if (igw_path_match(pattern, target, strlen(target), m)) {
            (void)igw_path_param_get(m, "id");
            (void)igw_path_params_utf8(m);
        }
        (void)igw_path_has_param(pattern, "id");
        (void)igw_path_same_shape(pattern, target);
    }
    (void)igw_content_length_parse(whole, &v);
    (void)igw_base64_decode(whole, strlen(whole), out, sizeof(out), &n);
    (void)igw_media_type_is(whole, "application/fhir+json");
    (void)igw_header_has_token(whole, "100-continue");
    (void)igw_idem_key_ok(whole);
out:
    igw_free(m);
    igw_free(whole);
    igw_free(target);
    igw_free(pattern);
    return 0;
}
