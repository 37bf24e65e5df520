/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway as one object (include/igw/gateway.h): starts the services in dependency order
 * and stops them in the reverse, safe order. The only file that knows every service.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/gateway.h"
#include "igw/log.h"
#include "igw/queue.h"
#include "igw/queue_jetstream.h"
#include "igw/queue_lmdb.h"
#include "admin/admin.h"
#include "alerts/alerts.h"
#include "stats/stats.h"
#include "core/translate.h"
#include "delivery/deliver.h"
#include "in_http/in_http.h"
#include "in_sp/in_sp.h"
#include "sign/sign.h"
#include "mediate/mediate.h"

struct igw_gateway {
    const struct igw_config *cfg;
    igw_queue *q;
    igw_deliverer *d;
    igw_maps *maps;
    igw_mediate *med;
    igw_sp_in *sp;
    igw_http_in *http;
    igw_admin *admin;
    igw_alerts *alerts;
    igw_sign *sign;
};

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

static int
open_queue(struct igw_gateway *g, char *err, size_t errlen)
{
    const struct igw_config *cfg = g->cfg;
    struct igw_queue_lmdb_opts lo = {cfg->data_dir, cfg->map_size, cfg->max_batch, false};
    struct igw_queue_jetstream_opts jo;
    struct igw_queue_opts o;
    char host[65] = "igw";
    bool js = cfg->queue_backend != NULL && strcmp(cfg->queue_backend, "jetstream") == 0;
    int rv;

    memset(&o, 0, sizeof(o));
    memset(&jo, 0, sizeof(jo));
    o.retain_delivered_ms = cfg->retain_delivered_ms;
    o.retain_idempotency_ms = cfg->retain_idempotency_ms;
    if (js) {
        if (cfg->js_instance == NULL && gethostname(host, sizeof(host) - 1) == 0) {
            for (char *p = host; *p != '\0'; p++) { /* a host name's dots are not allowed */
                *p = (*p == '.' ? '-' : *p);
            }
        }
        jo.servers = cfg->js_servers;
        jo.name = cfg->js_name;
        jo.instance = cfg->js_instance != NULL ? cfg->js_instance : host;
        jo.creds_file = cfg->js_creds;
        jo.tls_ca = cfg->js_tls_ca;
        jo.tls_cert = cfg->js_tls_cert;
        jo.tls_key = cfg->js_tls_key;
        jo.replicas = cfg->js_replicas;
        jo.ack_wait_ms = cfg->js_ack_wait_ms;
        jo.timeout_ms = cfg->js_timeout_ms;
        jo.max_batch = cfg->max_batch;
        o.backend = "jetstream";
        o.backend_opts = &jo;
    } else {
        o.backend = "lmdb";
        o.backend_opts = &lo;
        make_parents(lo.path);
    }
    rv = igw_queue_open(&g->q, &o, err, errlen);
    if (rv != IGW_OK) {
        IGW_ERROR("cannot open queue %s: %s", js ? "on jetstream" : lo.path,
                  err[0] != '\0' ? err : igw_strerror(rv));
    } else if (js) {
        IGW_INFO("queue on jetstream (%s) as instance %s", jo.name ? jo.name : "igw", jo.instance);
    }
    return rv;
}

static int
start_services(struct igw_gateway *g, char *err, size_t errlen)
{
    const struct igw_config *cfg = g->cfg;
    int rv = igw_stats_init(cfg);

    if (rv != IGW_OK) {
        IGW_WARN("metrics counters off: %s", igw_strerror(rv)); /* not a reason to refuse */
    }
    rv = igw_maps_open(&g->maps, cfg, err, errlen);

    if (rv != IGW_OK) {
        IGW_ERROR("cannot load mappings: %s", err);
        return rv;
    }
    rv = igw_sign_start(cfg, &g->sign, err, errlen); /* before any service that signs */
    if (rv != IGW_OK) {
        IGW_ERROR("cannot start signing: %s", err);
        return rv;
    }
    rv = open_queue(g, err, errlen);
    if (rv == IGW_OK) {
        rv = igw_deliverer_start(&g->d, cfg, g->q, err, errlen);
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start the deliverer: %s", err);
        }
    }
    if (rv == IGW_OK && (cfg->sp_listen != NULL || cfg->pub_listen != NULL)) {
        make_ipc_parents(cfg->sp_listen);
        make_ipc_parents(cfg->pub_listen);
        rv = igw_sp_in_start(&g->sp, cfg, g->q, g->d, g->maps, err, errlen);
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start the SP sockets: %s", err);
        }
    }
    if (rv == IGW_OK) {
        rv = igw_mediate_start(&g->med, cfg, g->maps, err, errlen);
        igw_mediate_set_queue(rv == IGW_OK ? g->med : NULL, g->q);
        igw_mediate_set_current(rv == IGW_OK ? g->med : NULL); /* routes' answer_from */
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start mediation: %s", err);
        }
    }
    if (rv == IGW_OK && cfg->http_listen != NULL) {
        rv = igw_http_in_start(&g->http, cfg, g->q, g->d, g->maps, g->med, err, errlen);
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start HTTP: %s", err);
        }
    }
    if (rv == IGW_OK && cfg->nalert_rules > 0) {
        rv = igw_alerts_start(&g->alerts, cfg, g->q, g->d, err, errlen);
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start alerts: %s", err);
        }
    }
    if (rv == IGW_OK && cfg->admin_listen != NULL) {
        rv = igw_admin_start(&g->admin, cfg, g->q, g->d, g->maps, g->alerts, err, errlen);
        if (rv != IGW_OK) {
            IGW_ERROR("cannot start the admin API: %s", err);
        }
    }
    return rv;
}

int
igw_gateway_start(igw_gateway **out, const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    char tmp[IGW_ERRBUF_SIZE] = "";
    char *err = errlen > 0 ? errbuf : tmp;
    size_t elen = errlen > 0 ? errlen : sizeof(tmp);
    struct igw_gateway *g;
    int rv;

    if (out == NULL || cfg == NULL) {
        return IGW_EINVAL;
    }
    *out = NULL;
    err[0] = '\0';
    g = IGW_NEW(struct igw_gateway);
    if (g == NULL) {
        return IGW_ENOMEM;
    }
    g->cfg = cfg;
    rv = start_services(g, err, elen);
    if (rv != IGW_OK) {
        igw_gateway_stop(g, 0);
        return rv;
    }
    *out = g;
    return IGW_OK;
}

int
igw_gateway_reload(igw_gateway *g, char *errbuf, size_t errlen)
{
    if (g == NULL) {
        return IGW_EINVAL;
    }
    return igw_maps_reload(g->maps, errbuf, errlen);
}

int
igw_gateway_sweep(igw_gateway *g, unsigned limit, unsigned *removed)
{
    unsigned n = 0;
    int rv;

    if (g == NULL) {
        return IGW_EINVAL;
    }
    rv = igw_queue_sweep(g->q, igw_now_ms(), limit, &n);
    if (removed != NULL) {
        *removed = n;
    }
    return rv;
}

/* Stops intake first, then delivery, then the queue (which commits what was submitted and runs
 * the callbacks), and the SP sockets last because the queue's callbacks use them. Every step is
 * NULL-safe, so this also cleans up after a failed start. */
void
igw_gateway_stop(igw_gateway *g, unsigned drain_ms)
{
    if (g == NULL) {
        return;
    }
    igw_stats_set_stopping(); /* /readyz: 503 while intake drains */
    igw_http_in_drain(g->http, drain_ms);
    igw_sp_in_drain(g->sp, drain_ms);
    igw_mediate_set_current(NULL); /* no more answer_from submits from the deliverer */
    igw_mediate_stop(g->med);      /* answers what it still mediates, so the intake can stop */
    igw_http_in_stop(g->http);
    igw_mediate_free(g->med);
    igw_admin_stop(g->admin);   /* its jobs call the queue and kick the deliverer */
    igw_alerts_stop(g->alerts); /* puts incidents into the queue */
    igw_deliverer_stop(g->d);
    igw_queue_close(g->q);
    igw_sp_in_stop(g->sp);
    igw_maps_close(g->maps);
    igw_sign_stop(g->sign); /* after every service that signs or verifies */
    igw_stats_fini(g->cfg); /* every service that bumps counters has stopped */
    igw_free(g);
}
