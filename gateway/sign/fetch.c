/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The partners' JWKS cache (sign.h) and its fetch thread: igw's own thread with a libcurl easy
 * handle (never nng's threads, never the delivery loop). A partner's jwks_url is fetched at
 * start, again after jwks_ttl, again when a message names an unknown kid (at most every
 * jwks_min_refetch), and every 5 s while it has never succeeded. A failed fetch keeps the keys
 * it had (a JWKS server down for a while does not stop verification); only the URL and the
 * error are logged. The URL is the configured one: no message chooses where igw connects.
 */
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "igw/common.h"
#include "igw/log.h"
#include "sign/sign_int.h"

#define FETCH_TIMEOUT_MS 5000
#define FETCH_RETRY_MS 5000 /* while a partner's JWKS never arrived */
#define TICK_MS 1000

struct fetch_body {
    struct igw_buf b;
    igw_sign *s;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct fetch_body *fb = arg;
    size_t n = size * nmemb;
    return igw_buf_append(&fb->b, p, n) == IGW_OK ? n : 0; /* over IGW_JWKS_MAX: abort */
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct fetch_body *fb = arg;
    bool stop;
    IGW_UNUSED(dt);
    IGW_UNUSED(dn);
    IGW_UNUSED(ut);
    IGW_UNUSED(un);
    pthread_mutex_lock(&fb->s->mu);
    stop = fb->s->stop;
    pthread_mutex_unlock(&fb->s->mu);
    return stop ? 1 : 0;
}

/* GET url into *keys (a new array). Runs without the lock. */
static int
fetch_one(igw_sign *s, const char *url, json_t **keys, char *err, size_t errlen)
{
    struct fetch_body fb;
    CURL *e = curl_easy_init();
    long status = 0;
    CURLcode rc;
    int rv;

    *keys = NULL;
    if (e == NULL) {
        return IGW_ENOMEM;
    }
    igw_buf_init(&fb.b, IGW_JWKS_MAX);
    fb.s = s;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)FETCH_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &fb);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &fb);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    if (rc != CURLE_OK) {
        igw_errbuf_set(err, errlen, "%s", curl_easy_strerror(rc));
        rv = IGW_EIO;
    } else if (status != 200) {
        igw_errbuf_set(err, errlen, "HTTP %ld", status);
        rv = IGW_EIO;
    } else {
        rv = sign_jwks_parse(fb.b.ptr != NULL ? fb.b.ptr : "", fb.b.len, keys, err, errlen);
    }
    igw_buf_fini(&fb.b);
    return rv;
}

/* True when partner i's JWKS is due (under the lock). */
static bool
due(const igw_sign *s, size_t i, uint64_t now)
{
    const struct igw_partner *p = &s->cfg->partners[i];
    const struct sign_jwks *j = &s->jwks[i];

    if (p->jwks_url == NULL) {
        return false;
    }
    if (j->last_try_ms == 0) {
        return true;
    }
    if (j->want && now - j->last_try_ms >= p->jwks_min_refetch_ms) {
        return true;
    }
    if (j->keys == NULL) {
        return now - j->last_try_ms >= FETCH_RETRY_MS;
    }
    return now - j->fetched_ms >= p->jwks_ttl_ms && now - j->last_try_ms >= FETCH_RETRY_MS;
}

static void
record(igw_sign *s, size_t i, json_t *keys, int rv, const char *why)
{
    const struct igw_partner *p = &s->cfg->partners[i];
    struct sign_jwks *j = &s->jwks[i];
    json_t *old = NULL;
    bool log_fail;

    pthread_mutex_lock(&s->mu);
    j->want = false;
    log_fail = rv != IGW_OK && !j->failing;
    j->failing = rv != IGW_OK;
    if (rv == IGW_OK) {
        old = j->keys;
        j->keys = keys;
        j->fetched_ms = igw_mono_ms();
    }
    pthread_mutex_unlock(&s->mu);
    json_decref(old);
    if (log_fail) {
        IGW_WARN("sign: partner %s: JWKS fetch from %s failed: %s (keeping the keys it had)",
                 p->name, p->jwks_url, why);
    } else if (rv == IGW_OK) {
        IGW_DEBUG("sign: partner %s: JWKS fetched (%zu keys)", p->name, json_array_size(keys));
    }
}

static void
wait_tick(igw_sign *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += TICK_MS / 1000;
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

static void *
fetch_main(void *arg)
{
    igw_sign *s = arg;

    igw_thread_name("igw-jwks");
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        for (size_t i = 0; i < s->cfg->npartners && !s->stop; i++) {
            char why[IGW_ERRBUF_SIZE] = "";
            json_t *keys = NULL;
            int rv;
            if (!due(s, i, igw_mono_ms())) {
                continue;
            }
            s->jwks[i].last_try_ms = igw_mono_ms();
            pthread_mutex_unlock(&s->mu);
            rv = fetch_one(s, s->cfg->partners[i].jwks_url, &keys, why, sizeof(why));
            record(s, i, keys, rv, why);
            pthread_mutex_lock(&s->mu);
        }
        if (!s->stop) {
            wait_tick(s);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int
sign_fetch_start(igw_sign *s, char *err, size_t errlen)
{
    bool any = false;
    for (size_t i = 0; i < s->cfg->npartners; i++) {
        any |= s->cfg->partners[i].jwks_url != NULL;
    }
    if (!any) {
        return IGW_OK;
    }
    if (pthread_create(&s->thread, NULL, fetch_main, s) != 0) {
        igw_errbuf_set(err, errlen, "cannot start the JWKS fetch thread");
        return IGW_EIO;
    }
    s->has_thread = true;
    return IGW_OK;
}

void
sign_fetch_stop(igw_sign *s)
{
    if (!s->has_thread) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->has_thread = false;
}

static size_t
index_of(const igw_sign *s, const struct igw_partner *p)
{
    for (size_t i = 0; i < s->cfg->npartners; i++) {
        if (&s->cfg->partners[i] == p || strcmp(s->cfg->partners[i].name, p->name) == 0) {
            return i;
        }
    }
    return SIZE_MAX;
}

json_t *
sign_jwks_get(igw_sign *s, const struct igw_partner *p)
{
    size_t i = index_of(s, p);
    json_t *k;

    if (i == SIZE_MAX) {
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    k = json_incref(s->jwks[i].keys);
    pthread_mutex_unlock(&s->mu);
    return k;
}

void
sign_jwks_kick(igw_sign *s, const struct igw_partner *p)
{
    size_t i = index_of(s, p);
    if (i == SIZE_MAX || p->jwks_url == NULL) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->jwks[i].want = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}
