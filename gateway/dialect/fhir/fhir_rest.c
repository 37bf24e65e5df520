/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR dialect, what a FHIR client expects of a server around a request (docs/FHIR-CHANNELS.md,
 * "What a FHIR client gets"): media type negotiation before the body is read (the
 * check_request op: Accept and `_format` -> 406 for what igw cannot produce, Content-Type -> 415
 * for what it cannot read), the `Prefer: return=` preference of a write, and the ETag and
 * Last-Modified of an answer. igw speaks FHIR JSON only.
 *
 * CPU only, nothing blocks: called on nng's task threads and the queue's writer thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "igw/common.h"
#include "http/http.h"
#include "dialect/fhir/fhir_in_int.h"

#define MT_MAX 96

/* The FHIR JSON media types (and application/json+fhir of DSTU2 clients). */
static bool
json_type(const char *t, size_t n)
{
    static const char *const ok[] = {"application/fhir+json", "application/json",
                                     "application/json+fhir"};

    for (size_t i = 0; i < IGW_ARRAY_LEN(ok); i++) {
        if (n == strlen(ok[i]) && strncasecmp(t, ok[i], n) == 0) {
            return true;
        }
    }
    return false;
}

/* Trims blanks around s[0..*n) and returns its start. */
static const char *
trim(const char *s, size_t *n)
{
    while (*n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        (*n)--;
    }
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t')) {
        (*n)--;
    }
    return s;
}

/* The q value of a media range's parameters p[0..n) (1 when absent). */
static double
range_q(const char *p, size_t n)
{
    char v[16];

    for (size_t i = 0; i + 2 < n; i++) {
        if ((p[i] == ';' || p[i] == ' ') && (p[i + 1] == 'q' || p[i + 1] == 'Q') &&
            p[i + 2] == '=') {
            size_t k = i + 3;
            size_t m = 0;
            while (k < n && m + 1 < sizeof(v) && p[k] != ';' && p[k] != ' ') {
                v[m++] = p[k++];
            }
            v[m] = '\0';
            return strtod(v, NULL);
        }
    }
    return 1.0;
}

/* One media range of an Accept header: a FHIR JSON type or a wildcard, unless q=0. */
static bool
range_ok(const char *r, size_t n)
{
    size_t tn = strcspn(r, ";");
    const char *t;

    tn = tn < n ? tn : n;
    if (range_q(r + tn, n - tn) <= 0.0) {
        return false;
    }
    t = trim(r, &tn);
    return json_type(t, tn) || (tn == 3 && memcmp(t, "*/*", 3) == 0) ||
           (tn == 13 && strncasecmp(t, "application/*", 13) == 0);
}

bool
fhir_rest_accept_ok(const char *accept)
{
    const char *p = accept;

    if (accept == NULL || accept[strspn(accept, " \t")] == '\0') {
        return true;
    }
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (range_ok(p, n)) {
            return true;
        }
        p += n;
        p += *p == ',' ? 1 : 0;
    }
    return false;
}

/* The value of query parameter name in target, percent-decoded ('+' is a blank) into out;
 * false when absent. */
static bool
query_param(const char *target, const char *name, char *out, size_t outlen)
{
    const char *q = strchr(target, '?');
    size_t nl = strlen(name);

    while (q != NULL) {
        const char *p = q + 1;
        size_t n = strcspn(p, "&#");
        if (n > nl && p[nl] == '=' && memcmp(p, name, nl) == 0) {
            size_t o = 0;
            for (size_t i = nl + 1; i < n && o + 1 < outlen; i++) {
                unsigned hi;
                if (p[i] == '%' && i + 2 < n + 1 && sscanf(p + i + 1, "%2x", &hi) == 1) {
                    out[o++] = (char)hi;
                    i += 2;
                } else {
                    out[o++] = p[i] == '+' ? ' ' : p[i];
                }
            }
            out[o] = '\0';
            return true;
        }
        q = p[n] == '&' ? p + n : NULL;
    }
    return false;
}

/* `_format`: json, or a FHIR JSON media type. (A '+' sent unencoded reads as a blank.) */
static bool
format_ok(const char *target)
{
    char f[MT_MAX];
    char *blank;

    if (target == NULL || !query_param(target, "_format", f, sizeof(f))) {
        return true;
    }
    blank = strchr(f, ' ');
    if (blank != NULL) {
        *blank = '+';
    }
    return strcasecmp(f, "json") == 0 || json_type(f, strlen(f));
}

/* True when target's path ends in /_search: FHIR's POST [base]/{type}/_search, whose body is
 * the query as a form (application/x-www-form-urlencoded), never a resource. */
static bool
is_search_post(const char *method, const char *target)
{
    size_t n = strcspn(target, "?");
    return strcmp(method, "POST") == 0 && n >= 8 && memcmp(target + n - 8, "/_search", 8) == 0;
}

static bool
content_type_ok(const char *method, const char *target, const char *ct)
{
    size_t n;
    const char *t;

    if (ct == NULL || strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
        strcmp(method, "DELETE") == 0) {
        return true;
    }
    n = strcspn(ct, ";");
    t = trim(ct, &n);
    if (strcmp(method, "PATCH") == 0) {
        return n == 27 && strncasecmp(t, "application/json-patch+json", 27) == 0;
    }
    if (is_search_post(method, target)) {
        return n == 33 && strncasecmp(t, "application/x-www-form-urlencoded", 33) == 0;
    }
    return json_type(t, n);
}

int
fhir_in_check_request(const struct igw_channel *ch, const char *method, const char *target,
                      const char *(*header)(void *arg, const char *name), void *arg,
                      const char **code, const char **msg)
{
    IGW_UNUSED(ch);
    if (!format_ok(target) || !fhir_rest_accept_ok(header(arg, "Accept"))) {
        *code = "not_acceptable";
        *msg = "igw answers FHIR JSON only (application/fhir+json); _format=xml and "
               "Accept: application/fhir+xml cannot be served";
        return 406;
    }
    if (!content_type_ok(method, target, header(arg, "Content-Type"))) {
        *code = "unsupported_media_type";
        *msg = strcmp(method, "PATCH") == 0
                   ? "a FHIR PATCH must be a JSON Patch (application/json-patch+json)"
               : is_search_post(method, target)
                   ? "a FHIR search by POST sends its parameters as a form "
                     "(application/x-www-form-urlencoded)"
                   : "igw reads FHIR JSON only (application/fhir+json or application/json)";
        return 415;
    }
    return 0;
}

enum fhir_return
fhir_rest_prefer(const struct igw_ingest *in)
{
    const char *p = in->header != NULL ? in->header(in->header_arg, "Prefer") : NULL;
    const char *r = p != NULL ? strstr(p, "return=") : NULL;
    size_t n;

    if (r == NULL) {
        return RET_REPRESENTATION;
    }
    r += 7;
    n = strcspn(r, ",; \t");
    if (n == 7 && strncasecmp(r, "minimal", 7) == 0) {
        return RET_MINIMAL;
    }
    if (n == 16 && strncasecmp(r, "OperationOutcome", 16) == 0) {
        return RET_OUTCOME;
    }
    return RET_REPRESENTATION;
}

void
fhir_rest_validators(struct igw_accept_resp *out, const char *vid, uint64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    snprintf(out->etag, sizeof(out->etag), "W/\"%s\"", vid);
    gmtime_r(&s, &tm);
    if (strftime(out->last_modified, sizeof(out->last_modified), "%a, %d %b %Y %H:%M:%S GMT",
                 &tm) == 0) {
        out->last_modified[0] = '\0';
    }
}
