/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The partner checks of an inbound DCI request (sign.h, igw_partner_intake): who sent it (its
 * credentials), whether its signature holds, and whether its callback address is one igw will
 * call, each refusal with DCI's error code, before anything is acknowledged.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "sign/sign_int.h"

static void
refuse(struct igw_partner_verdict *v, int status, const char *code, const char *msg)
{
    v->status = status;
    v->code = code;
    snprintf(v->msg, sizeof(v->msg), "%s", msg);
}

static bool
has_credentials(const struct igw_partner *p)
{
    return p->auth.nsecrets > 0 || p->client_id != NULL;
}

/* The partner among names the request comes from, by credentials, else by sender_id. */
static const struct igw_partner *
who(const struct igw_config *cfg, char *const *names, size_t n, const char *authorization,
    const char *sender_id, bool *needs_cred)
{
    const struct igw_partner *plain = NULL;
    size_t nplain = 0;

    *needs_cred = false;
    for (size_t i = 0; i < n; i++) {
        const struct igw_partner *p =
            cfg != NULL ? igw_partner_find(cfg, names[i]) : igw_partner_current(names[i]);
        if (p == NULL) {
            continue;
        }
        if (has_credentials(p)) {
            *needs_cred = true;
            if (igw_partner_auth(p, authorization) == IGW_OK) {
                return p;
            }
            continue;
        }
        if (sender_id != NULL && strcmp(sender_id, p->name) == 0) {
            return p;
        }
        plain = p;
        nplain++;
    }
    return nplain == 1 ? plain : NULL;
}

static int
check_sender_uri(const struct igw_partner *p, const json_t *hdr, struct igw_partner_verdict *v)
{
    const char *uri = json_string_value(json_object_get(hdr, "sender_uri"));
    struct igw_buf url;
    const char *code = NULL;
    char why[IGW_ERRBUF_SIZE] = "";
    int rv;

    if (uri == NULL || uri[0] == '\0') {
        return IGW_OK;
    }
    igw_buf_init(&url, 4096);
    rv = igw_partner_callback_url(p, uri, "/registry/on-search", &url, &code, why, sizeof(why));
    igw_buf_fini(&url);
    if (rv == IGW_ENOMEM) {
        return rv;
    }
    if (rv != IGW_OK) {
        refuse(v, 400, IGW_DCI_ERR_SENDER_URI, why);
    }
    return IGW_OK;
}

int
igw_partner_intake(const struct igw_config *cfg, char *const *names, size_t n,
                   const char *authorization, const char *body, size_t len,
                   struct igw_partner_verdict *v)
{
    json_t *doc = json_loadb(body != NULL ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *hdr = json_object_get(doc, "header");
    const char *sender = json_string_value(json_object_get(hdr, "sender_id"));
    char why[IGW_ERRBUF_SIZE] = "";
    const char *code = NULL;
    bool needs_cred;
    int rv = IGW_OK;

    memset(v, 0, sizeof(*v));
    if (n == 0) {
        json_decref(doc);
        return IGW_OK;
    }
    v->partner = who(cfg, names, n, authorization, sender, &needs_cred);
    if (v->partner == NULL) {
        refuse(v, 401, IGW_DCI_ERR_UNAUTHORIZED,
               needs_cred ? "missing or unknown credentials" : "unknown sender_id");
    } else if (!json_is_object(hdr)) {
        refuse(v, 400, IGW_DCI_ERR_BAD, "not a DCI envelope (an object with a header object)");
    } else {
        rv = igw_sign_verify(v->partner, body, len, &code, why, sizeof(why));
        if (rv == IGW_OK) {
            rv = check_sender_uri(v->partner, hdr, v);
        } else if (rv != IGW_ENOMEM) {
            refuse(v, rv == IGW_EPARSE ? 400 : rv == IGW_EAGAIN ? 503 : 401, code, why);
            rv = IGW_OK;
        }
    }
    json_decref(doc);
    return rv;
}
