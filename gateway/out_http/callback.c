/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DCI callback route hook (sign.h, igw_dci_callback_hook): a route whose url is
 * callback:<partner> sends each payload, a DCI envelope, to the partner's configured base URL
 * chosen by the envelope's header.sender_uri (or header.meta.sender_uri: a callback header has
 * no sender_uri of its own) + the DCI path of header.action. An address the partner's
 * base_urls do not cover, or an envelope without a known action, is dead-lettered at once:
 * igw never calls an address a message chose. Runs on the delivery thread; no I/O.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "igw/common.h"
#include "delivery/output.h"
#include "sign/sign.h"

#define CALLBACK_PREFIX_LEN 9 /* "callback:" */

static int
cb_target(const struct igw_route *r, const char *payload, size_t len, struct igw_buf *url,
          const char **method, char *err, size_t errlen)
{
    const struct igw_partner *p = igw_partner_current(r->url + CALLBACK_PREFIX_LEN);
    json_t *doc = json_loadb(payload != NULL ? payload : "", len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *hdr = json_object_get(doc, "header");
    const char *action = json_string_value(json_object_get(hdr, "action"));
    const char *uri = json_string_value(json_object_get(hdr, "sender_uri"));
    const char *path = igw_dci_action_path(action);
    const char *code = NULL;
    int rv;

    igw_buf_init(url, 4096);
    *method = "POST";
    if (uri == NULL) {
        uri = json_string_value(json_object_get(json_object_get(hdr, "meta"), "sender_uri"));
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
