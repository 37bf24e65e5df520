/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw gen --post: each record is one POST (Content-Type application/json, Authorization:
 * Bearer, Idempotency-Key "<prefix>-<record number>" so a resend is never stored twice). A fixed
 * window of slots on one curl multi handle bounds the concurrency; 503 and 429 are retried after
 * their Retry-After (else an exponential backoff), and so are connection failures, at most
 * `retries` times. libcurl (Debian's) is used rather than hand-written HTTP: igw links it
 * already for its HTTP outputs.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "gen_post.h"

#define MAX_URL 2048
#define MAX_BACKOFF_MS 30000
#define MAX_REPORTED 5 /* failures printed one by one; the rest only count */

struct slot {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t len;
    char url[MAX_URL];
    char kind[32];
    uint64_t seq;
    unsigned attempts;
    uint64_t due_ms; /* waiting for a retry until then (0: not waiting) */
    int state;       /* 0 free, 1 in flight, 2 waiting */
};

struct gen_post {
    struct gen_post_opts o;
    CURLM *multi;
    struct slot *slots;
    unsigned busy;
    uint64_t seq, accepted, refused, failed, retries, reported;
    uint64_t started_ms;
    long auth_status; /* 401 or 403 once seen: every further record would get it too */
    bool unreachable; /* a record could not connect after all its retries */
    char auth[1100];
    char key_prefix[64]; /* a copy: the options' string is the caller's */
};

static size_t
discard(char *ptr, size_t size, size_t n, void *arg)
{
    IGW_UNUSED(ptr);
    IGW_UNUSED(arg);
    return size * n;
}

int
gen_post_new(struct gen_post **out, const struct gen_post_opts *o, char *err, size_t errlen)
{
    struct gen_post *p;

    if (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0) {
        snprintf(err, errlen, "--post wants an http:// or https:// URL");
        return IGW_EINVAL;
    }
    if (o->token != NULL && strlen(o->token) > 1024) {
        snprintf(err, errlen, "the bearer token is longer than 1024 bytes");
        return IGW_EINVAL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl cannot start");
        return IGW_ENOMEM;
    }
    p = IGW_NEW(struct gen_post);
    if (p == NULL) {
        return IGW_ENOMEM;
    }
    p->o = *o;
    snprintf(p->key_prefix, sizeof(p->key_prefix), "%s", o->key_prefix);
    p->multi = curl_multi_init();
    p->slots = igw_calloc(o->concurrency, sizeof(struct slot));
    if (p->multi == NULL || p->slots == NULL) {
        gen_post_free(p);
        return IGW_ENOMEM;
    }
    if (o->token != NULL) {
        snprintf(p->auth, sizeof(p->auth), "Authorization: Bearer %s", o->token);
    }
    p->started_ms = igw_mono_ms();
    *out = p;
    return IGW_OK;
}

static void
slot_clear(struct gen_post *p, struct slot *s)
{
    if (s->easy != NULL) {
        curl_multi_remove_handle(p->multi, s->easy);
        curl_easy_cleanup(s->easy);
        s->easy = NULL;
    }
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    IGW_FREE(s->body);
    s->state = 0;
    p->busy--;
}

static int
slot_start(struct gen_post *p, struct slot *s)
{
    char key[160];

    s->easy = curl_easy_init();
    snprintf(key, sizeof(key), "Idempotency-Key: %s-%llu", p->key_prefix,
             (unsigned long long)s->seq);
    s->headers = curl_slist_append(NULL, "Content-Type: application/json");
    s->headers = s->headers != NULL ? curl_slist_append(s->headers, key) : NULL;
    s->headers = s->headers != NULL ? curl_slist_append(s->headers, "Expect:") : NULL;
    if (s->headers != NULL && p->auth[0] != '\0') {
        s->headers = curl_slist_append(s->headers, p->auth);
    }
    if (s->easy == NULL || s->headers == NULL) {
        return IGW_ENOMEM;
    }
    curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
    curl_easy_setopt(s->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->len);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)p->o.timeout_ms);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_multi_add_handle(p->multi, s->easy);
    s->state = 1;
    s->attempts++;
    return IGW_OK;
}

static void
report(struct gen_post *p, const struct slot *s, const char *what)
{
    if (p->reported++ < MAX_REPORTED) {
        fprintf(stderr, "igw gen: record %llu (%s): %s\n", (unsigned long long)s->seq, s->kind,
                what);
    }
}

/* Schedules a resend after Retry-After (seconds) or the backoff; false when out of tries. */
static bool
retry_later(struct gen_post *p, struct slot *s, curl_off_t retry_after)
{
    uint64_t wait = 100ULL << (s->attempts < 8 ? s->attempts : 8);

    if (s->attempts > p->o.retries) {
        return false;
    }
    if (retry_after > 0) {
        wait = (uint64_t)retry_after * 1000;
    }
    wait = wait > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : wait;
    curl_multi_remove_handle(p->multi, s->easy);
    curl_easy_cleanup(s->easy);
    s->easy = NULL;
    curl_slist_free_all(s->headers);
    s->headers = NULL;
    s->state = 2;
    s->due_ms = igw_mono_ms() + wait;
    p->retries++;
    return true;
}

static void
done(struct gen_post *p, struct slot *s, CURLcode rc)
{
    long status = 0;
    curl_off_t ra = 0;
    char what[160];

    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        p->accepted++;
        slot_clear(p, s);
        return;
    }
    if (rc == CURLE_OK && (status == 503 || status == 429)) {
        curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &ra);
    }
    if ((rc != CURLE_OK || status == 503 || status == 429) && retry_later(p, s, ra)) {
        return;
    }
    if (rc != CURLE_OK) {
        snprintf(what, sizeof(what), "%s", curl_easy_strerror(rc));
        p->failed++;
        p->unreachable = p->unreachable || rc == CURLE_COULDNT_CONNECT;
    } else {
        snprintf(what, sizeof(what), "HTTP %ld", status);
        if (status == 401 || status == 403) {
            p->auth_status = status;
        }
        if (status >= 400 && status < 500 && status != 429) {
            p->refused++;
        } else {
            p->failed++;
        }
    }
    report(p, s, what);
    slot_clear(p, s);
}

/* One round of I/O: start due retries, run transfers, collect the finished ones. */
static void
pump(struct gen_post *p)
{
    uint64_t now = igw_mono_ms();
    int running = 0;
    int left = 0;
    CURLMsg *m;

    for (unsigned i = 0; i < p->o.concurrency; i++) {
        struct slot *s = &p->slots[i];

        if (s->state == 2 && s->due_ms <= now && slot_start(p, s) != IGW_OK) {
            p->failed++;
            report(p, s, "out of memory");
            slot_clear(p, s);
        }
    }
    curl_multi_perform(p->multi, &running);
    curl_multi_poll(p->multi, NULL, 0, 50, NULL);
    curl_multi_perform(p->multi, &running);
    while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
        struct slot *s = NULL;

        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        done(p, s, m->data.result);
    }
}

static int
build_url(const struct gen_post *p, const char *kind, char *out, size_t n)
{
    const char *t = strstr(p->o.path, "{kind}");
    const char *base = p->o.url;
    size_t bl = strlen(base);
    int w;

    while (bl > 0 && base[bl - 1] == '/') {
        bl--;
    }
    if (t == NULL) {
        w = snprintf(out, n, "%.*s%s", (int)bl, base, p->o.path);
    } else {
        w = snprintf(out, n, "%.*s%.*s%s%s", (int)bl, base, (int)(t - p->o.path), p->o.path, kind,
                     t + 6);
    }
    return w < 0 || (size_t)w >= n ? IGW_EINVAL : IGW_OK;
}

int
gen_post_send(struct gen_post *p, const char *kind, const char *json, size_t len)
{
    struct slot *s = NULL;
    int rv;

    while (p->busy == p->o.concurrency && p->auth_status == 0 && !p->unreachable) {
        pump(p);
    }
    if (p->auth_status != 0) {
        return IGW_EAUTH;
    }
    if (p->unreachable) {
        return IGW_ECLOSED;
    }
    for (unsigned i = 0; i < p->o.concurrency && s == NULL; i++) {
        s = p->slots[i].state == 0 ? &p->slots[i] : NULL;
    }
    memset(s, 0, sizeof(*s));
    rv = build_url(p, kind, s->url, sizeof(s->url));
    if (rv != IGW_OK) {
        return rv;
    }
    s->body = igw_strndup(json, len);
    if (s->body == NULL) {
        return IGW_ENOMEM;
    }
    s->len = len;
    snprintf(s->kind, sizeof(s->kind), "%s", kind);
    s->seq = ++p->seq;
    p->busy++;
    rv = slot_start(p, s);
    if (rv != IGW_OK) {
        slot_clear(p, s);
    }
    return rv;
}

void
gen_post_finish(struct gen_post *p)
{
    while (p->busy > 0) {
        pump(p);
    }
}

uint64_t
gen_post_summary(const struct gen_post *p, FILE *f)
{
    uint64_t ms = igw_mono_ms() - p->started_ms;
    uint64_t bad = p->seq - p->accepted;

    if (p->auth_status != 0) {
        fprintf(f, "igw gen: stopped: the server answered HTTP %ld (check the token)\n",
                p->auth_status);
        bad++;
    }
    if (p->unreachable) {
        fprintf(f, "igw gen: stopped: %s does not accept connections\n", p->o.url);
        bad++;
    }
    fprintf(f,
            "igw gen: posted %llu records in %llu.%01llu s (%llu/s): %llu accepted, %llu "
            "refused (4xx), %llu failed (5xx or connection, after retries), %llu retries\n",
            (unsigned long long)p->seq, (unsigned long long)(ms / 1000),
            (unsigned long long)(ms % 1000 / 100),
            (unsigned long long)(ms > 0 ? p->seq * 1000 / ms : p->seq),
            (unsigned long long)p->accepted, (unsigned long long)p->refused,
            (unsigned long long)p->failed, (unsigned long long)p->retries);
    return bad;
}

void
gen_post_free(struct gen_post *p)
{
    if (p == NULL) {
        return;
    }
    for (unsigned i = 0; p->slots != NULL && i < p->o.concurrency; i++) {
        if (p->slots[i].state != 0) {
            slot_clear(p, &p->slots[i]);
        }
    }
    igw_free(p->slots);
    if (p->multi != NULL) {
        curl_multi_cleanup(p->multi);
    }
    igw_free(p);
    curl_global_cleanup();
}
