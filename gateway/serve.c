/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw serve --config FILE: load the config, open the queue, start the deliverer, the SP sockets
 * and the HTTP listener, then wait for a signal in the main thread (sigwait; every other thread
 * is started with the signals blocked). SIGTERM/SIGINT: stop intake (new requests get 503),
 * wait for in-flight commits, stop the deliverer, close the queue, exit 0. SIGHUP: recompile the
 * mappings (the old ones stay in use if the new ones do not compile). While waiting, the main
 * thread also sweeps the queue (delivered messages past their retention, expired idempotency
 * keys) every SWEEP_EVERY_MS.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "igw/common.h"
#include "igw/config.h"
#include "igw/log.h"
#include "igw/queue.h"
#include "igw/queue_lmdb.h"
#include "cmds.h"
#include "admin_int.h"
#include "deliver.h"
#include "ingest_int.h"
#include "translate_int.h"

#define DRAIN_MS 10000      /* longest wait for requests in flight at shutdown */
#define SWEEP_EVERY_MS 5000 /* queue retention sweep period */
#define SWEEP_LIMIT 20000   /* records removed per sweep call */

struct server {
    struct igw_config *cfg;
    igw_queue *q;
    igw_deliverer *d;
    igw_maps *maps;
    igw_sp_in *sp;
    igw_http_in *http;
    igw_admin *admin;
};

static int
usage(void)
{
    fprintf(stderr, "usage: igw serve --config FILE\n");
    return 2;
}

static const char *
config_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            return argv[i + 1];
        }
        if (strncmp(argv[i], "--config=", 9) == 0) {
            return argv[i] + 9;
        }
    }
    return NULL;
}

/* Creates every missing parent directory of path (mode 0700); errors are left to the open. */
static void
make_parents(const char *path)
{
    char buf[1024];
    size_t n = strlen(path);

    if (n >= sizeof(buf)) {
        return;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (buf[i] == '/') {
            buf[i] = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
                return;
            }
            buf[i] = '/';
        }
    }
}

static void
make_ipc_parents(const char *url)
{
    if (url != NULL && strncmp(url, "ipc://", 6) == 0) {
        make_parents(url + 6);
    }
}

/* nng 1.5 has no connection limit: each connection costs a descriptor, so allow the most the
 * hard limit permits (the limit is then the only cap; see docs/HTTP-INGEST.md). */
static void
raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            IGW_WARN("cannot raise RLIMIT_NOFILE: %s", strerror(errno));
        }
    }
}

static int
open_queue(struct server *s)
{
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_queue_lmdb_opts lo = {s->cfg->data_dir, s->cfg->map_size, s->cfg->max_batch, false};
    struct igw_queue_opts o;
    int rv;

    memset(&o, 0, sizeof(o));
    o.backend = "lmdb";
    o.backend_opts = &lo;
    o.retain_delivered_ms = s->cfg->retain_delivered_ms;
    o.retain_idempotency_ms = s->cfg->retain_idempotency_ms;
    make_parents(lo.path);
    rv = igw_queue_open(&s->q, &o, err, sizeof(err));
    if (rv != IGW_OK) {
        IGW_ERROR("cannot open queue %s: %s", lo.path, err[0] != '\0' ? err : igw_strerror(rv));
    }
    return rv;
}

static int
start_services(struct server *s)
{
    char err[IGW_ERRBUF_SIZE] = "";
    int rv = igw_maps_open(&s->maps, s->cfg, err, sizeof(err));

    if (rv != IGW_OK) {
        IGW_ERROR("cannot load mappings: %s", err);
        fprintf(stderr, "igw: %s\n", err);
        return rv;
    }
    rv = open_queue(s);
    if (rv == IGW_OK) {
        rv = igw_deliverer_start(&s->d, s->cfg, s->q, err, sizeof(err));
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start the deliverer: %s", err);
        }
    }
    if (rv == IGW_OK && (s->cfg->sp_listen != NULL || s->cfg->pub_listen != NULL)) {
        make_ipc_parents(s->cfg->sp_listen);
        make_ipc_parents(s->cfg->pub_listen);
        rv = igw_sp_in_start(&s->sp, s->cfg, s->q, s->d, s->maps, err, sizeof(err));
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start the SP sockets: %s", err);
        }
    }
    if (rv == IGW_OK && s->cfg->http_listen != NULL) {
        rv = igw_http_in_start(&s->http, s->cfg, s->q, s->d, s->maps, err, sizeof(err));
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start HTTP: %s", err);
        }
    }
    if (rv == IGW_OK && s->cfg->admin_listen != NULL) {
        rv = igw_admin_start(&s->admin, s->cfg, s->q, s->d, s->maps, err, sizeof(err));
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start the admin API: %s", err);
        }
    }
    return rv;
}

/* Stops intake first, then delivery, then the queue (which commits what was submitted and runs
 * the callbacks), and the SP sockets last because the queue's callbacks use them. Every step is
 * NULL-safe, so this also cleans up after a failed start. */
static void
stop_services(struct server *s)
{
    igw_http_in_drain(s->http, DRAIN_MS);
    igw_sp_in_drain(s->sp, DRAIN_MS);
    igw_http_in_stop(s->http);
    igw_admin_stop(s->admin); /* its jobs call the queue and kick the deliverer */
    igw_deliverer_stop(s->d);
    igw_queue_close(s->q);
    igw_sp_in_stop(s->sp);
    igw_maps_close(s->maps);
    s->maps = NULL;
    s->http = NULL;
    s->admin = NULL;
    s->sp = NULL;
    s->d = NULL;
    s->q = NULL;
}

static void
reload(struct server *s)
{
    char err[IGW_ERRBUF_SIZE] = "";
    int rv = igw_maps_reload(s->maps, err, sizeof(err));

    if (rv == IGW_OK) {
        IGW_INFO("SIGHUP: mappings reloaded from %s", s->cfg->mappings_dir);
    } else if (rv == IGW_ENOENT) {
        IGW_INFO("SIGHUP: no route names a map; nothing to reload");
    } else {
        IGW_ERROR("SIGHUP: mappings not reloaded, the previous ones stay in use: %s", err);
    }
}

static void
sweep(struct server *s)
{
    unsigned removed = 0;
    int rv = igw_queue_sweep(s->q, igw_now_ms(), SWEEP_LIMIT, &removed);

    if (rv != IGW_OK) {
        IGW_WARN("queue sweep failed: %s", igw_strerror(rv));
    } else if (removed > 0) {
        IGW_DEBUG("queue sweep removed=%u", removed);
    }
}

/* Waits for SIGTERM/SIGINT; reloads mappings on SIGHUP and sweeps the queue periodically. */
static void
wait_for_stop(struct server *s, const sigset_t *set)
{
    struct timespec ts = {SWEEP_EVERY_MS / 1000, (SWEEP_EVERY_MS % 1000) * 1000000L};

    for (;;) {
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig < 0) {
            if (errno == EAGAIN) {
                sweep(s);
            }
            continue;
        }
        if (sig == SIGHUP) {
            reload(s);
            continue;
        }
        IGW_INFO("stopping (%s)", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
    }
}

static int
load_config(const char *path, struct igw_config **cfg)
{
    char err[IGW_ERRBUF_SIZE] = "";
    enum igw_log_level lvl = IGW_LOG_INFO;
    int rv = igw_config_load(cfg, path, err, sizeof(err));

    if (rv != IGW_OK) {
        fprintf(stderr, "igw: %s\n", err);
        return rv;
    }
    if (igw_log_parse_level((*cfg)->log_level, &lvl) == IGW_OK) {
        igw_log_set_level(lvl);
    }
    return IGW_OK;
}

int
igw_cmd_serve(int argc, char **argv)
{
    const char *path = config_arg(argc, argv);
    struct server s;
    sigset_t set;
    int rv;

    if (path == NULL) {
        return usage();
    }
    memset(&s, 0, sizeof(s));
    /* Block before any thread exists so that every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (load_config(path, &s.cfg) != IGW_OK) {
        return 1;
    }
    raise_nofile();
    rv = start_services(&s);
    if (rv == IGW_OK) {
        IGW_INFO("listening http=%s sp=%s publish=%s channels=%zu queue=%s",
                 s.cfg->http_listen != NULL ? s.cfg->http_listen : "-",
                 s.cfg->sp_listen != NULL ? s.cfg->sp_listen : "-",
                 s.cfg->pub_listen != NULL ? s.cfg->pub_listen : "-", s.cfg->nchannels,
                 s.cfg->data_dir);
        wait_for_stop(&s, &set);
    }
    stop_services(&s);
    igw_config_free(s.cfg);
    if (rv == IGW_OK) {
        IGW_INFO("stopped");
    }
    return rv == IGW_OK ? 0 : 1;
}
