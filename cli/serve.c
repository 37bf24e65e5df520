/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw serve --config FILE: load the config, start the gateway (include/igw/gateway.h), then
 * wait for a signal in the main thread (sigwait; every other thread is started with the signals
 * blocked). SIGTERM/SIGINT: stop intake (new requests get 503), wait for in-flight commits,
 * stop the deliverer, close the queue, exit 0. SIGHUP: recompile the mappings (the old ones stay
 * in use if the new ones do not compile). While waiting, the main thread also sweeps the queue
 * (delivered messages past their retention, expired idempotency keys) every SWEEP_EVERY_MS.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "igw/gateway.h"
#include "igw/log.h"
#include "cmds.h"

#define DRAIN_MS 10000      /* longest wait for requests in flight at shutdown */
#define SWEEP_EVERY_MS 5000 /* queue retention sweep period */
#define SWEEP_LIMIT 20000   /* records removed per sweep call */

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

static void
reload(igw_gateway *g, const struct igw_config *cfg)
{
    char err[IGW_ERRBUF_SIZE] = "";
    int rv = igw_gateway_reload(g, err, sizeof(err));

    if (rv == IGW_OK) {
        IGW_INFO("SIGHUP: mappings reloaded from %s", cfg->mappings_dir);
    } else if (rv == IGW_ENOENT) {
        IGW_INFO("SIGHUP: no route names a map; nothing to reload");
    } else {
        IGW_ERROR("SIGHUP: mappings not reloaded, the previous ones stay in use: %s", err);
    }
}

static void
sweep(igw_gateway *g)
{
    unsigned removed = 0;
    int rv = igw_gateway_sweep(g, SWEEP_LIMIT, &removed);

    if (rv != IGW_OK) {
        IGW_WARN("queue sweep failed: %s", igw_strerror(rv));
    } else if (removed > 0) {
        IGW_DEBUG("queue sweep removed=%u", removed);
    }
}

/* Waits for SIGTERM/SIGINT; reloads mappings on SIGHUP and sweeps the queue periodically. */
static void
wait_for_stop(igw_gateway *g, const struct igw_config *cfg, const sigset_t *set)
{
    struct timespec ts = {SWEEP_EVERY_MS / 1000, (SWEEP_EVERY_MS % 1000) * 1000000L};

    for (;;) {
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig < 0) {
            if (errno == EAGAIN) {
                sweep(g);
            }
            continue;
        }
        if (sig == SIGHUP) {
            reload(g, cfg);
            continue;
        }
        IGW_INFO("stopping (%s)", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        return;
    }
}

int
igw_cmd_serve(int argc, char **argv)
{
    const char *path = config_arg(argc, argv);
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg = NULL;
    igw_gateway *g = NULL;
    sigset_t set;
    int rv;

    if (path == NULL) {
        return usage();
    }
    /* Block before any thread exists so that every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (load_config(path, &cfg) != IGW_OK) {
        return 1;
    }
    raise_nofile();
    rv = igw_gateway_check(cfg, err, sizeof(err)); /* the same refusals as igw config check */
    if (rv != IGW_OK) {
        fprintf(stderr, "igw: %s: %s\n", path, err);
        igw_config_free(cfg);
        return 1;
    }
    rv = igw_gateway_start(&g, cfg, err, sizeof(err));
    if (rv == IGW_OK) {
        IGW_INFO("listening http=%s sp=%s publish=%s channels=%zu queue=%s",
                 cfg->http_listen != NULL ? cfg->http_listen : "-",
                 cfg->sp_listen != NULL ? cfg->sp_listen : "-",
                 cfg->pub_listen != NULL ? cfg->pub_listen : "-", cfg->nchannels, cfg->data_dir);
        wait_for_stop(g, cfg, &set);
    } else if (rv == IGW_ECONFIG) {
        fprintf(stderr, "igw: %s\n", err);
    }
    igw_gateway_stop(g, DRAIN_MS);
    igw_config_free(cfg);
    if (rv == IGW_OK) {
        IGW_INFO("stopped");
    }
    return rv == IGW_OK ? 0 : 1;
}
