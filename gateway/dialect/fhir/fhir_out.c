/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR delivery (route option fhir.conditional: identifier; docs/DELIVERY.md): create or
 * update by business identifier with a conditional update,
 *
 *     PUT <url>/<resourceType>?identifier=<system>|<value>
 *
 * from the payload's first identifier, so a redelivery updates the resource it created instead
 * of creating a second one. A transaction or batch Bundle (it carries its own conditional
 * requests) is POSTed to <url>; other Bundle types are dead-lettered. A payload that is not a FHIR
 * resource, or has no usable identifier, cannot be delivered this way and is dead-lettered at once.
 * Statuses: 2xx OK, 412 (several matches) dead at once (the default for 4xx), 409 (version
 * conflict) retried.
 *
 * It reaches out_http as a route hook (struct igw_route_hook, delivery/output.h) that the
 * route's config binds (config_check.c), so out_http names no FHIR code. Runs on the delivery
 * thread; CPU only.
 */
#include <string.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/common.h"
#include "igw/doc.h"
#include "igw/fhir.h"
#include "dialect/fhir/fhir_out.h"

#define URL_MAX 8192
#define ARENA_MIN (1u << 20)

bool
igw_fhir_out_conditional(const struct igw_route *r)
{
    return r->fhir_conditional != NULL && strcmp(r->fhir_conditional, "identifier") == 0;
}

bool
igw_fhir_out_transient(const struct igw_route *r, long status)
{
    return status == 409 && igw_fhir_out_conditional(r);
}

static bool
unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Appends s as one part of a token search value: FHIR escapes (\ | , $ get a backslash), then
 * percent-encoding of everything but unreserved characters. */
static int
put_token_part(struct igw_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    int rv = IGW_OK;

    for (size_t i = 0; rv == IGW_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == '|' || c == ',' || c == '$') {
            rv = igw_buf_puts(b, "%5C");
        }
        if (rv == IGW_OK && unreserved(c)) {
            rv = igw_buf_putc(b, (char)c);
        } else if (rv == IGW_OK) {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rv = igw_buf_append(b, esc, sizeof(esc));
        }
    }
    return rv;
}

static const struct igw_node *
str_member(const struct igw_node *obj, const char *key)
{
    const struct igw_node *n = igw_node_get(obj, key, strlen(key));
    return n != NULL && n->type == IGW_NODE_STRING ? n : NULL;
}

/* Writes <base>/<type>?identifier=<system>|<value> for resource res into url. */
static int
conditional_url(const struct igw_route *r, const struct igw_node *res, const struct igw_node *rt,
                struct igw_buf *url, char *err, size_t errlen)
{
    const struct igw_node *ids = igw_node_get(res, "identifier", 10);
    const struct igw_node *id0 = ids != NULL && ids->type == IGW_NODE_ARRAY ? ids->first : NULL;
    const struct igw_node *sys = str_member(id0, "system");
    const struct igw_node *val = str_member(id0, "value");
    size_t n = strlen(r->url);
    int rv;

    if (val == NULL || val->len == 0) {
        igw_errbuf_set(err, errlen, "fhir conditional update: the %.*s has no identifier value",
                       (int)rt->len, rt->str);
        return IGW_EINVAL;
    }
    while (n > 0 && r->url[n - 1] == '/') {
        n--;
    }
    rv = igw_buf_append(url, r->url, n);
    if (rv == IGW_OK) {
        rv = igw_buf_putc(url, '/');
    }
    if (rv == IGW_OK) {
        rv = igw_buf_append(url, rt->str, rt->len);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_puts(url, "?identifier=");
    }
    if (rv == IGW_OK && sys != NULL && sys->len > 0) {
        rv = put_token_part(url, sys->str, sys->len);
        rv = rv == IGW_OK ? igw_buf_puts(url, "%7C") : rv;
    }
    if (rv == IGW_OK) {
        rv = put_token_part(url, val->str, val->len);
    }
    if (rv == IGW_OK) {
        rv = igw_buf_putc(url, '\0');
    }
    if (rv != IGW_OK) {
        igw_errbuf_set(err, errlen, "fhir conditional update: identifier too long for a URL");
        return IGW_EINVAL;
    }
    return IGW_OK;
}

static int
target_from_tree(const struct igw_route *r, const struct igw_node *res, struct igw_buf *url,
                 const char **method, char *err, size_t errlen)
{
    const struct igw_node *rt = str_member(res, "resourceType");

    if (rt == NULL || !igw_fhir_resource_type_known(rt->str, rt->len)) {
        igw_errbuf_set(err, errlen, "fhir conditional update: the payload is not a FHIR resource");
        return IGW_EINVAL;
    }
    if (rt->len == 6 && memcmp(rt->str, "Bundle", 6) == 0) {
        const struct igw_node *bt = str_member(res, "type");
        if (bt == NULL || !((bt->len == 11 && memcmp(bt->str, "transaction", 11) == 0) ||
                            (bt->len == 5 && memcmp(bt->str, "batch", 5) == 0))) {
            igw_errbuf_set(err, errlen,
                           "fhir conditional update: only transaction and batch Bundles can be "
                           "sent to a FHIR base, not type %.*s",
                           bt != NULL ? (int)bt->len : 4, bt != NULL ? bt->str : "none");
            return IGW_EINVAL;
        }
        *method = "POST";
        return igw_buf_puts(url, r->url) == IGW_OK && igw_buf_putc(url, '\0') == IGW_OK
                   ? IGW_OK
                   : IGW_ENOMEM;
    }
    *method = "PUT";
    return conditional_url(r, res, rt, url, err, errlen);
}

int
igw_fhir_out_target(const struct igw_route *r, const char *payload, size_t len, struct igw_buf *url,
                    const char **method, char *err, size_t errlen)
{
    igw_arena *a = NULL;
    struct igw_node *root = NULL;
    struct igw_parse_error pe;
    int rv;

    igw_buf_init(url, URL_MAX);
    if (!igw_fhir_out_conditional(r)) {
        return IGW_ENOENT;
    }
    rv = igw_arena_new(&a, ARENA_MIN + 16 * len);
    if (rv != IGW_OK) {
        return IGW_ENOMEM;
    }
    rv = igw_json_parse(a, payload != NULL ? payload : "", len, NULL, &root, &pe);
    if (rv == IGW_ENOMEM) {
        goto cleanup;
    }
    if (rv != IGW_OK) {
        igw_errbuf_set(err, errlen, "fhir conditional update: the payload is not JSON: %s", pe.msg);
        rv = IGW_EINVAL;
        goto cleanup;
    }
    rv = target_from_tree(r, root, url, method, err, errlen);
cleanup:
    igw_arena_free(a);
    return rv;
}

static int
hook_target(const struct igw_route *r, const char *payload, size_t len, struct igw_buf *url,
            const char **method, char *err, size_t errlen)
{
    return igw_fhir_out_target(r, payload, len, url, method, err, errlen);
}

static bool
hook_transient(const struct igw_route *r, long status)
{
    return igw_fhir_out_transient(r, status);
}

const struct igw_route_hook igw_fhir_conditional_hook = {
    .name = "fhir.conditional",
    .target = hook_target,
    .transient = hook_transient,
};
