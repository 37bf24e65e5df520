/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DCI callback route hook (sign.h, igw_dci_callback_hook): a route whose url is
 * callback:<partner> sends each payload, a DCI envelope, to the partner's configured base URL
 * chosen by the envelope's header.sender_uri (or header.meta.sender_uri: a callback header has
 * no sender_uri of its own) + the DCI path of header.action. An address the partner's
 * base_urls do not cover, or an envelope without a known action, is dead-lettered at once:
 * igw never calls an address a message chose. On a route with answer_from the payload is the
 * request being answered (an async search), so its action names the answer's path (search ->
 * /registry/on-search) and its own header.sender_uri chooses among the base URLs. On a route
 * with dci.notify the payload is the record the notify is built from (dialect/dci/
 * dci_notify.c): the notify goes to the partner's first base URL + /registry/notify.
 *
 * And the signing body hook (sign.h, igw_dci_sign_body): an unsigned DCI envelope is signed
 * with igw's key at delivery time, over the exact header and message bytes sent.
 * Both run on the delivery thread; no I/O.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "igw/common.h"
#include "delivery/output.h"
#include "sign/sign.h"

#define CALLBACK_PREFIX_LEN 9 /* "callback:" */

/* The callback action that answers a request action (the route answers it: answer_from). */
static const char *
answer_action(const char *action)
{
    static const char *const map[][2] = {{"search", "on-search"},
                                         {"subscribe", "on-subscribe"},
                                         {"unsubscribe", "on-unsubscribe"},
                                         {"txn-status", "txn-on-status"}};
    for (size_t i = 0; action != NULL && i < IGW_ARRAY_LEN(map); i++) {
        if (strcmp(map[i][0], action) == 0) {
            return map[i][1];
        }
    }
    return action;
}

static int
cb_target(const struct igw_route *r, const char *payload, size_t len, struct igw_buf *url,
          const char **method, char *err, size_t errlen)
{
    const struct igw_partner *p = igw_partner_current(r->url + CALLBACK_PREFIX_LEN);
    json_t *doc = json_loadb(payload != NULL ? payload : "", len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *hdr = json_object_get(doc, "header");
    const char *action = json_string_value(json_object_get(hdr, "action"));
    const char *uri = json_string_value(json_object_get(hdr, "sender_uri"));
    const char *path = igw_dci_action_path(r->answer_ch != NULL ? answer_action(action) : action);
    const char *code = NULL;
    int rv;

    igw_buf_init(url, 4096);
    *method = "POST";
    if (uri == NULL) {
        uri = json_string_value(json_object_get(json_object_get(hdr, "meta"), "sender_uri"));
    }
    if (r->notify_store != NULL) { /* dci.notify: the payload is the record, the body hook's
                                    * notify carries no sender_uri: the first base URL */
        path = "/registry/notify";
        uri = NULL;
    }
    if (p == NULL) {
        igw_errbuf_set(err, errlen, "callback: partner %s is not configured",
                       r->url + CALLBACK_PREFIX_LEN);
        rv = IGW_EINVAL;
    } else if (path == NULL) {
        igw_errbuf_set(err, errlen,
                       "callback: the payload is not a DCI envelope with a known "
                       "header.action");
        rv = IGW_EINVAL;
    } else {
        rv = igw_partner_callback_url(p, uri, path, url, &code, err, errlen);
        rv = rv == IGW_ENOENT ? IGW_EINVAL : rv;
    }
    json_decref(doc);
    return rv;
}

const struct igw_route_hook igw_dci_callback_hook = {
    .name = "dci.callback",
    .target = cb_target,
    .transient = NULL,
};

/* ---- the signing body hook ---------------------------------------------------------------- */

/* json_dumpb into an igw_malloc'd NUL-terminated string (*n its length); NULL on failure. */
static char *
dump(const json_t *v, size_t *n)
{
    const size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(17);
    size_t need = json_dumpb(v, NULL, 0, flags);
    char *s = need > 0 ? igw_malloc(need + 1) : NULL;

    if (s == NULL || json_dumpb(v, s, need, flags) != need) {
        igw_free(s);
        return NULL;
    }
    s[need] = '\0';
    *n = need;
    return s;
}

static int
sign_body(const struct igw_route *r, const struct igw_queue_claim *c, const char *payload,
          size_t len, struct igw_buf *out, char *err, size_t errlen)
{
    json_t *doc = json_loadb(payload != NULL ? payload : "", len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *hdr = json_object_get(doc, "header");
    const json_t *msg = json_object_get(doc, "message");
    const json_t *sig = json_object_get(doc, "signature");
    char *h = NULL, *m = NULL;
    size_t hl = 0, ml = 0;
    struct igw_buf jws;
    int rv;

    IGW_UNUSED(r);
    IGW_UNUSED(c);
    if (!json_is_object(hdr) || (msg != NULL && !json_is_null(msg) && !json_is_object(msg))) {
        json_decref(doc);
        igw_errbuf_set(err, errlen,
                       "sign: the payload is not a DCI envelope (a JSON object "
                       "with a header object)");
        return IGW_EINVAL;
    }
    if (json_is_string(sig) && json_string_length(sig) > 0) {
        json_decref(doc); /* signed already (igw's own, or a relayed sender's): as it is */
        return IGW_ENOENT;
    }
    h = dump(hdr, &hl);
    m = json_is_object(msg) ? dump(msg, &ml) : NULL;
    if (h == NULL || (json_is_object(msg) && m == NULL)) {
        json_decref(doc);
        igw_free(h);
        igw_free(m);
        return IGW_ENOMEM;
    }
    json_decref(doc);
    igw_buf_init(&jws, 64 * 1024);
    rv = igw_sign_envelope(h, hl, m, ml, &jws, err, errlen);
    if (rv == IGW_OK) {
        rv = igw_buf_puts(out, "{\"signature\":");
        rv = rv == IGW_OK ? igw_buf_json_str(out, jws.ptr, jws.len) : rv;
        rv = rv == IGW_OK ? igw_buf_puts(out, ",\"header\":") : rv;
        rv = rv == IGW_OK ? igw_buf_append(out, h, hl) : rv;
        if (rv == IGW_OK && m != NULL) {
            rv = igw_buf_puts(out, ",\"message\":");
            rv = rv == IGW_OK ? igw_buf_append(out, m, ml) : rv;
        }
        rv = rv == IGW_OK ? igw_buf_putc(out, '}') : rv;
    } else if (rv == IGW_EINVAL) {
        rv = IGW_ENOMEM;
    }
    igw_buf_fini(&jws);
    igw_free(h);
    igw_free(m);
    return rv; /* IGW_ENOENT: igw has no key, sent unsigned; IGW_EAGAIN: not started yet */
}

const struct igw_route_body igw_dci_sign_body = {
    .name = "dci.sign",
    .body = sign_body,
};
