/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the delivery engine tests (deliver_*_test.c): the delivery engine against a real
 * queue (LMDB in a temporary directory) and real destinations - the HTTP sink tests/sim/sink.py
 * (started once per test program as a subprocess, reset by every case's env_init), files, and
 * nng sockets the cases open. Every case starts from env_init and ends with env_fini, so none
 * depends on another having run.
 */
#ifndef IGW_TEST_DLVTEST_H
#define IGW_TEST_DLVTEST_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/reqrep0/rep.h>

#include "igwt.h"
#include "igw/buf.h"
#include "igw/common.h"
#include "igw/config.h"
#include "igw/queue.h"
#include "igw/queue_lmdb.h"
#include "delivery/deliver.h"

#define MAX_ROUTES 4
#define WAIT_MS 10000

/* ---- the sink --------------------------------------------------------------------------- */

static pid_t sink_pid;
static pid_t tls_sink_pid;
static int sink_port;

static inline void
reap(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
        *pid = 0;
    }
}

static inline void
sink_stop(void)
{
    reap(&sink_pid);
    reap(&tls_sink_pid);
}

static inline void
sink_script(char *out, size_t n)
{
    const char *src = getenv("IGW_SRC");
    if (src != NULL) {
        snprintf(out, n, "%s/tests/sim/sink.py", src);
        return;
    }
    /* __FILE__ is .../tests/unit/gateway/delivery/dlvtest.h */
    snprintf(out, n, "%s", __FILE__);
    char *p = strstr(out, "/tests/unit/");
    if (p != NULL) {
        snprintf(p, n - (size_t)(p - out), "/tests/sim/sink.py");
    }
}

/* Starts sink.py with optional TLS files; *port receives its port. */
static inline pid_t
sink_spawn(const char *cert, const char *key, int *port)
{
    char script[1024];
    char line[64] = {0};
    int fds[2];
    pid_t pid;
    FILE *f;

    sink_script(script, sizeof(script));
    if (pipe(fds) != 0) {
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (cert != NULL) {
            execlp("python3", "python3", script, "--port", "0", "--tls-cert", cert, "--tls-key",
                   key, (char *)NULL);
        } else {
            execlp("python3", "python3", script, "--port", "0", (char *)NULL);
        }
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (f == NULL || fgets(line, sizeof(line), f) == NULL || sscanf(line, "READY %d", port) != 1) {
        fprintf(stderr, "  sink did not start (%s)\n", script);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        pid = -1;
    }
    if (f != NULL) {
        fclose(f);
    }
    return pid;
}

static inline int
sink_start(void)
{
    if (sink_pid > 0) {
        return 0;
    }
    sink_pid = sink_spawn(NULL, NULL, &sink_port);
    if (sink_pid < 0) {
        sink_pid = 0;
        return -1;
    }
    atexit(sink_stop);
    return 0;
}

static inline size_t
on_data(char *p, size_t size, size_t n, void *ud)
{
    if (ud == NULL) {
        return size * n; /* discarded */
    }
    return igw_buf_append(ud, p, size * n) == IGW_OK ? size * n : 0;
}

/* One request to the sink; returns the HTTP status (0 on a transport error). */
static inline long
sink_req(const char *method, const char *path, const char *body, struct igw_buf *out)
{
    char url[320]; /* room for any path sink_received builds (256) */
    long status = 0;
    CURL *e = curl_easy_init();

    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", sink_port, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    if (body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    if (curl_easy_perform(e) == CURLE_OK) {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(e);
    return status;
}

static inline void
sink_control(const char *json)
{
    IGWT_ASSERT(sink_req("POST", "/_control", json, NULL) == 200);
}

/* The sink's records for path prefix (a cJSON array; free with cJSON_Delete). */
static inline cJSON *
sink_received(const char *path)
{
    struct igw_buf b;
    char q[256];
    cJSON *j;

    igw_buf_init(&b, 64u << 20);
    snprintf(q, sizeof(q), "/_received?path=%s", path);
    IGWT_ASSERT(sink_req("GET", q, NULL, &b) == 200);
    j = cJSON_ParseWithLength(b.ptr, b.len);
    igw_buf_fini(&b);
    IGWT_ASSERT(cJSON_IsArray(j));
    return j;
}

static inline int
sink_count(const char *path)
{
    cJSON *j = sink_received(path);
    int n = cJSON_GetArraySize(j);
    cJSON_Delete(j);
    return n;
}

static inline const char *
rec_str(const cJSON *rec, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline const char *
rec_header(const cJSON *rec, const char *name)
{
    return rec_str(cJSON_GetObjectItemCaseSensitive(rec, "headers"), name);
}

static inline int
rec_status(const cJSON *rec)
{
    return cJSON_GetObjectItemCaseSensitive(rec, "status")->valueint;
}

static inline double
rec_time(const cJSON *rec)
{
    return cJSON_GetObjectItemCaseSensitive(rec, "t")->valuedouble;
}

/* ---- environment: queue + config + deliverer --------------------------------------------- */

struct env {
    char dir[128];
    igw_queue *q;
    igw_deliverer *d;
    struct igw_config cfg;
    struct igw_channel ch;
    struct igw_route routes[MAX_ROUTES];
    char names[MAX_ROUTES][64];
    char shorts[MAX_ROUTES][32];
    char urls[MAX_ROUTES][512];
    struct igw_secret secret;
};

static struct env E;
static char chan_name[] = "ev";
static char method_post[] = "POST";

static inline void
msleep(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Route i: "ev.<short>", HTTP to the sink at /in/<short>; adjust fields before env_start. */
static inline struct igw_route *
route_add(const char *short_name)
{
    unsigned i = (unsigned)E.ch.nroutes++;
    struct igw_route *r = &E.routes[i];

    snprintf(E.shorts[i], sizeof(E.shorts[i]), "%s", short_name);
    snprintf(E.names[i], sizeof(E.names[i]), "ev.%s", short_name);
    snprintf(E.urls[i], sizeof(E.urls[i]), "http://127.0.0.1:%d/in/%s", sink_port, short_name);
    memset(r, 0, sizeof(*r));
    r->name = E.names[i];
    r->short_name = E.shorts[i];
    r->url = E.urls[i];
    r->kind = IGW_DEST_HTTP;
    r->method = method_post;
    r->tls_verify = true;
    r->timeout_ms = 2000;
    r->concurrency = 4;
    r->retry.base_ms = 10;
    r->retry.cap_ms = 40;
    r->retry.max_attempts = 5;
    r->retry.max_age_ms = 0;
    return r;
}

static inline void
env_init(void)
{
    IGWT_ASSERT(sink_start() == 0);
    memset(&E, 0, sizeof(E));
    snprintf(E.dir, sizeof(E.dir), "/tmp/igw-dlv-XXXXXX");
    IGWT_ASSERT(mkdtemp(E.dir) != NULL);
    E.ch.name = chan_name;
    E.ch.routes = E.routes;
    E.cfg.channels = &E.ch;
    E.cfg.nchannels = 1;
    sink_control("{\"reset\":true}");
}

static inline void
env_start(void)
{
    char qpath[256];
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_queue_lmdb_opts lo = {qpath, 64u << 20, 0, false};
    struct igw_queue_opts o;

    memset(&o, 0, sizeof(o));
    snprintf(qpath, sizeof(qpath), "%s/queue", E.dir);
    o.backend_opts = &lo;
    IGWT_OK(igw_queue_open(&E.q, &o, err, sizeof(err)));
    IGWT_OK(igw_deliverer_start(&E.d, &E.cfg, E.q, err, sizeof(err)));
}

static inline void
env_fini(void)
{
    char cmd[256];
    igw_deliverer_stop(E.d);
    E.d = NULL;
    igw_queue_close(E.q);
    E.q = NULL;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", E.dir);
    IGWT_CHECK(system(cmd) == 0);
}

static inline uint64_t
put_msg(const char *route, const char *body, size_t len, const char *ctype, const char *key)
{
    struct igw_queue_route_init ri;
    struct igw_queue_msg m;
    uint64_t id = 0;
    bool dup = false;

    memset(&ri, 0, sizeof(ri));
    memset(&m, 0, sizeof(m));
    ri.route = route;
    ri.order_key = key;
    ri.order_key_len = key != NULL ? strlen(key) : 0;
    m.channel = "ev";
    m.content_type = ctype;
    m.body = body;
    m.body_len = len;
    m.nroutes = 1;
    m.routes = &ri;
    IGWT_OK(igw_queue_put(E.q, &m, &id, &dup));
    igw_deliverer_kick(E.d);
    return id;
}

static inline uint64_t
put_json(const char *route, const char *body)
{
    return put_msg(route, body, strlen(body), "application/json", NULL);
}

static inline int
delivery_get(uint64_t id, struct igw_queue_delivery_info *info)
{
    unsigned n = 0;
    int rv = igw_queue_deliveries(E.q, id, info, 1, &n);
    return rv == IGW_OK && n == 1 ? IGW_OK : IGW_ENOENT;
}

/* Waits until delivery id reaches state; fills *info. */
static inline bool
wait_state(uint64_t id, enum igw_delivery_state state, struct igw_queue_delivery_info *info)
{
    uint64_t end = igw_mono_ms() + WAIT_MS;
    while (igw_mono_ms() < end) {
        if (delivery_get(id, info) == IGW_OK && info->state == state) {
            return true;
        }
        msleep(10);
    }
    fprintf(stderr, "  id %llu: state %d (want %d) attempts %u error '%s'\n",
            (unsigned long long)id, (int)info->state, (int)state, info->attempts, info->last_error);
    return false;
}

#endif /* IGW_TEST_DLVTEST_H */
