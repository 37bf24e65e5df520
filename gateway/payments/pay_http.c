/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one blocking HTTP call of the payments threads (pay_int.h): a POST of a JSON envelope to
 * the payment system with libcurl's easy interface, bounded in time (payments.timeout) and in
 * answer size, stopped by the abort flag through the progress callback. Blocking is fine here:
 * the caller is a payments thread of its own, never nng's or the delivery loop.
 */
#include <curl/curl.h>
#include <string.h>

#include "igw/common.h"
#include "igw/err.h"
#include "payments/pay_int.h"

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct igw_buf *b = arg;
    size_t n = size * nmemb;
    return igw_buf_append(b, p, n) == IGW_OK ? n : 0; /* over PAY_RESPONSE_MAX: abort */
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const atomic_bool *abort = arg;
    IGW_UNUSED(dt);
    IGW_UNUSED(dn);
    IGW_UNUSED(ut);
    IGW_UNUSED(un);
    return abort != NULL && atomic_load(abort) ? 1 : 0;
}

int
pay_http_post(struct pay_http *p)
{
    CURL *e = curl_easy_init();
    struct curl_slist *h = NULL, *h2;
    struct igw_buf auth;
    CURLcode rc;
    int rv = IGW_OK;

    igw_buf_init(&p->resp, PAY_RESPONSE_MAX);
    p->status = 0;
    p->what[0] = '\0';
    if (e == NULL) {
        return IGW_ENOMEM;
    }
    igw_buf_init(&auth, 4096);
    h = curl_slist_append(NULL, "Content-Type: application/json");
    h2 = h != NULL ? curl_slist_append(h, "Accept: application/json") : NULL;
    if (h2 == NULL) {
        rv = IGW_ENOMEM;
    }
    if (rv == IGW_OK && p->auth != NULL && p->auth->type == IGW_AUTH_BEARER &&
        p->auth->nsecrets > 0) {
        rv = igw_buf_printf(&auth, "Authorization: Bearer %s", p->auth->secrets[0].value);
        if (rv == IGW_OK) {
            h2 = curl_slist_append(h, auth.ptr);
            rv = h2 != NULL ? IGW_OK : IGW_ENOMEM;
        }
    }
    if (rv == IGW_OK) {
        curl_easy_setopt(e, CURLOPT_URL, p->url);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(p->timeout_ms > 0 ? p->timeout_ms : 30000));
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &p->resp);
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)(uintptr_t)p->abort);
        rc = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &p->status);
        if (rc == CURLE_ABORTED_BY_CALLBACK) {
            rv = IGW_ECLOSED;
            snprintf(p->what, sizeof(p->what), "stopped");
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            rv = IGW_ETIMEDOUT;
            snprintf(p->what, sizeof(p->what), "timeout");
        } else if (rc == CURLE_WRITE_ERROR) {
            rv = IGW_EIO;
            snprintf(p->what, sizeof(p->what), "answer larger than %u bytes", PAY_RESPONSE_MAX);
        } else if (rc != CURLE_OK) {
            rv = IGW_EIO;
            snprintf(p->what, sizeof(p->what), "%s", curl_easy_strerror(rc));
        }
    }
    if (auth.ptr != NULL) {
        memset(auth.ptr, 0, auth.len); /* the token does not linger in freed memory */
    }
    igw_buf_fini(&auth);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    if (rv == IGW_OK && p->resp.ptr == NULL) {
        rv = igw_buf_puts(&p->resp, "");
    }
    return rv;
}
