/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw_gateway_check (include/igw/gateway.h): every refusal of igw_gateway_start that can be
 * known from the configuration and the file system, found without opening a listener, the
 * queue or a thread. The order is the start's order, so check and start name the same first
 * error: mappings, queue directory, SP listeners (and their ipc:// directories), the HTTP
 * intake (listener and TLS files), the upstreams' CA files, the admin API, then addresses two
 * services would share.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/gateway.h"
#include "core/translate.h"
#include "http/server.h"
#include "payments/payments.h"
#include "sign/sign.h"

#define PATH_MAX_CHECK 1024

/* The nearest existing ancestor of path (path itself included) must be a directory that igw
 * can create entries in; what exists below it must be a directory too. */
static int
check_dir_creatable(const char *what, const char *path, char *errbuf, size_t errlen)
{
    char buf[PATH_MAX_CHECK];
    struct stat st;
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf)) {
        igw_errbuf_set(errbuf, errlen, "%s: path too long or empty", what);
        return IGW_ECONFIG;
    }
    memcpy(buf, path, n + 1);
    while (stat(buf, &st) != 0) {
        char *slash = strrchr(buf, '/');
        if ((errno != ENOENT && errno != ENOTDIR) || strcmp(buf, ".") == 0 ||
            strcmp(buf, "/") == 0) { /* nothing left to climb (the working directory is gone) */
            igw_errbuf_set(errbuf, errlen, "%s: %s: %s", what, buf, strerror(errno));
            return IGW_EIO;
        }
        if (slash == NULL) {
            memcpy(buf, ".", 2);
        } else if (slash == buf) {
            buf[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
    if (!S_ISDIR(st.st_mode)) {
        igw_errbuf_set(errbuf, errlen, "%s: %s is not a directory", what, buf);
        return IGW_EIO;
    }
    if (access(buf, W_OK | X_OK) != 0) {
        igw_errbuf_set(errbuf, errlen, "%s: %s: %s", what, buf, strerror(errno));
        return IGW_EIO;
    }
    return IGW_OK;
}

/* The queue directory, and the LMDB files in it when they exist, readable and writable. */
static int
check_queue(const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    const char *dir = cfg->data_dir != NULL ? cfg->data_dir : "var/queue";
    int rv = check_dir_creatable("queue", dir, errbuf, errlen);

    for (size_t i = 0; rv == IGW_OK && i < IGW_ARRAY_LEN(files); i++) {
        char p[PATH_MAX_CHECK];
        int n = snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        if (n > 0 && (size_t)n < sizeof(p) && access(p, F_OK) == 0 && access(p, R_OK | W_OK) != 0) {
            igw_errbuf_set(errbuf, errlen, "queue: %s: %s", p, strerror(errno));
            rv = IGW_EIO;
        }
    }
    return rv;
}

/* The payments ledger's directory (docs/PAYMENTS.md), when the config uses payments: like the
 * queue's. */
static int
check_ledger(const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    struct igw_buf dir;
    int rv;

    if (!igw_payments_used(cfg)) {
        return IGW_OK;
    }
    igw_buf_init(&dir, PATH_MAX_CHECK);
    rv = igw_payments_ledger_path(cfg, &dir);
    rv = rv == IGW_OK ? check_dir_creatable("payments.ledger_path", dir.ptr, errbuf, errlen)
                      : IGW_ECONFIG;
    igw_buf_fini(&dir);
    return rv;
}

/* An SP listen address as nng_listen will see it: a listener is created (the URL and the
 * transport checked) but never started; an ipc:// socket's directory must be creatable. */
static int
check_sp_url(const char *key, const char *url, char *errbuf, size_t errlen)
{
    nng_socket s = NNG_SOCKET_INITIALIZER;
    nng_listener l = NNG_LISTENER_INITIALIZER;
    int rv;

    if (url == NULL) {
        return IGW_OK;
    }
    rv = nng_rep0_open(&s);
    if (rv == 0) {
        rv = nng_listener_create(&l, s, url);
        nng_close(s); /* closes the listener too */
    }
    if (rv != 0) {
        igw_errbuf_set(errbuf, errlen, "%s %s: %s", key, url, nng_strerror(rv));
        return rv == NNG_ENOMEM ? IGW_ENOMEM : IGW_EIO;
    }
    if (strncmp(url, "ipc://", 6) == 0) {
        char dir[PATH_MAX_CHECK];
        const char *slash = strrchr(url + 6, '/');
        size_t n = slash != NULL ? (size_t)(slash - (url + 6)) : 0;
        if (n >= sizeof(dir)) {
            n = sizeof(dir) - 1;
        }
        memcpy(dir, url + 6, n);
        dir[n] = '\0';
        return check_dir_creatable(key, n > 0 ? dir : (slash != NULL ? "/" : "."), errbuf, errlen);
    }
    return IGW_OK;
}

/* An HTTP listen address as nng's server takes it: held (which parses the URL and allocates
 * the stream listener) and released again, never started. */
/* admin.audit_file: its directory exists and is writable (serve does not create it), and the
 * file, when it exists, is a regular file igw can append to. The default (in queue.path) is
 * covered by check_queue. */
static int
check_audit(const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    const char *p = cfg->admin_audit_file;
    char dir[PATH_MAX_CHECK];
    const char *slash;
    struct stat st;

    if (cfg->admin_listen == NULL || p == NULL) {
        return IGW_OK;
    }
    slash = strrchr(p, '/');
    if (strlen(p) >= sizeof(dir)) {
        igw_errbuf_set(errbuf, errlen, "admin.audit_file: path too long");
        return IGW_ECONFIG;
    }
    if (slash == NULL) {
        memcpy(dir, ".", 2);
    } else {
        size_t n = slash == p ? 1 : (size_t)(slash - p);
        memcpy(dir, p, n);
        dir[n] = '\0';
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
        igw_errbuf_set(errbuf, errlen, "admin.audit_file: directory %s is missing or not writable",
                       dir);
        return IGW_EIO;
    }
    if (stat(p, &st) == 0 && (!S_ISREG(st.st_mode) || access(p, W_OK) != 0)) {
        igw_errbuf_set(errbuf, errlen, "admin.audit_file: %s is not a writable file", p);
        return IGW_EIO;
    }
    return IGW_OK;
}

static int
check_admin_tls(const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    nng_tls_config *tls = NULL;
    int rv;

    if (cfg->admin_listen == NULL || cfg->admin_tls_cert == NULL) {
        return IGW_OK;
    }
    rv = igw_http_tls_config(cfg->admin_tls_cert, cfg->admin_tls_key, &tls, errbuf, errlen);
    if (rv == IGW_OK && cfg->admin_tls_client_ca != NULL) {
        rv = igw_http_tls_client_ca(tls, cfg->admin_tls_client_ca, errbuf, errlen);
    }
    if (tls != NULL) {
        nng_tls_config_free(tls);
    }
    return rv;
}

static int
check_http_url(const char *key, const char *url, char *errbuf, size_t errlen)
{
    nng_url *u = NULL;
    nng_http_server *srv = NULL;
    int rv;

    if (url == NULL) {
        return IGW_OK;
    }
    rv = nng_url_parse(&u, url);
    rv = rv == 0 ? nng_http_server_hold(&srv, u) : rv;
    nng_url_free(u);
    if (srv != NULL) {
        nng_http_server_release(srv);
    }
    if (rv != 0) {
        igw_errbuf_set(errbuf, errlen, "%s %s: %s", key, url, nng_strerror(rv));
        return rv == NNG_ENOMEM ? IGW_ENOMEM : IGW_EIO;
    }
    return IGW_OK;
}

/* The certificate and key files readable and accepted by nng's TLS engine as the server's
 * own certificate: the HTTP intake's own loader (http/server.h), run and thrown away. */
static int
check_tls(const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    nng_tls_config *tls = NULL;
    int rv;

    if (cfg->http_listen == NULL || cfg->tls_cert == NULL) {
        return IGW_OK;
    }
    rv = igw_http_tls_config(cfg->tls_cert, cfg->tls_key, &tls, errbuf, errlen);
    if (tls != NULL) {
        nng_tls_config_free(tls);
    }
    return rv;
}

/* "host:port" of a tcp-like URL (tcp://, http://, https://, ws://), else false. */
static bool
tcp_endpoint(const char *url, char *out, size_t outlen)
{
    nng_url *u = NULL;
    bool ok = false;

    if (url == NULL || strncmp(url, "ipc://", 6) == 0 || strncmp(url, "inproc://", 9) == 0 ||
        nng_url_parse(&u, url) != 0) {
        return false;
    }
    if (u->u_port != NULL && u->u_port[0] != '\0' && strcmp(u->u_port, "0") != 0) {
        int n = snprintf(out, outlen, "%s:%s", u->u_hostname, u->u_port);
        ok = n > 0 && (size_t)n < outlen;
    }
    nng_url_free(u);
    return ok;
}

/* Two services on one TCP port: the second listen would fail with "address in use". */
static int
check_shared_ports(const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    const char *keys[] = {"sp.listen", "sp.publish", "http.listen", "admin.listen"};
    const char *urls[] = {cfg->sp_listen, cfg->pub_listen, cfg->http_listen, cfg->admin_listen};
    char ep[IGW_ARRAY_LEN(urls)][300];
    bool has[IGW_ARRAY_LEN(urls)];

    for (size_t i = 0; i < IGW_ARRAY_LEN(urls); i++) {
        has[i] = tcp_endpoint(urls[i], ep[i], sizeof(ep[i]));
        for (size_t j = 0; has[i] && j < i; j++) {
            if (has[j] && strcmp(ep[i], ep[j]) == 0) {
                igw_errbuf_set(errbuf, errlen, "%s %s: the same address as %s", keys[i], urls[i],
                               keys[j]);
                return IGW_ECONFIG;
            }
        }
    }
    return IGW_OK;
}

/* Every upstream's CA bundle must be readable (libcurl would fail every call with 502). */
static int
check_upstreams(const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < cfg->nupstreams; i++) {
        const char *ca = cfg->upstreams[i].ca_file;
        if (ca != NULL && access(ca, R_OK) != 0) {
            igw_errbuf_set(errbuf, errlen, "upstreams.%s.tls.ca_file %s: %s",
                           cfg->upstreams[i].name, ca, strerror(errno));
            return IGW_ECONFIG;
        }
    }
    return IGW_OK;
}

int
igw_gateway_check(const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    char tmp[IGW_ERRBUF_SIZE] = "";
    char *err = errlen > 0 ? errbuf : tmp;
    size_t elen = errlen > 0 ? errlen : sizeof(tmp);
    int rv;

    if (cfg == NULL) {
        return IGW_EINVAL;
    }
    err[0] = '\0';
    rv = igw_maps_check(cfg, err, elen);
    rv = rv == IGW_OK ? check_queue(cfg, err, elen) : rv;
    rv = rv == IGW_OK ? check_ledger(cfg, err, elen) : rv;
    rv = rv == IGW_OK ? check_sp_url("sp.listen", cfg->sp_listen, err, elen) : rv;
    rv = rv == IGW_OK ? check_sp_url("sp.publish", cfg->pub_listen, err, elen) : rv;
    rv = rv == IGW_OK ? check_http_url("http.listen", cfg->http_listen, err, elen) : rv;
    rv = rv == IGW_OK ? check_tls(cfg, err, elen) : rv;
    rv = rv == IGW_OK ? check_upstreams(cfg, err, elen) : rv;
    rv = rv == IGW_OK ? check_http_url("admin.listen", cfg->admin_listen, err, elen) : rv;
    rv = rv == IGW_OK ? check_admin_tls(cfg, err, elen) : rv;
    rv = rv == IGW_OK ? check_audit(cfg, err, elen) : rv;
    rv = rv == IGW_OK ? igw_sign_check(cfg, err, elen) : rv;
    if (rv == IGW_OK && cfg->admin_listen != NULL && cfg->admin_auth.type == IGW_AUTH_NONE &&
        cfg->nadmin_creds == 0) {
        igw_errbuf_set(err, elen, "admin.listen needs admin.credentials or admin.auth");
        rv = IGW_ECONFIG;
    }
    return rv == IGW_OK ? check_shared_ports(cfg, err, elen) : rv;
}
