/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader. One option table (opts[] in config_opts.c) drives parsing, defaults, validation of
 * scalar types and the generated reference (igw config reference > docs/CONFIG.md). The YAML
 * document is loaded with libyaml's document API, which keeps each node's start mark, so every
 * error reads "file:line:column: option.path: problem".
 *
 * Each section is parsed in table order (not document order), so cross-checks such as
 * "channel max_body <= http.max_body" see the sections they depend on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/config.h"
#include "core/dialect.h"
#include "config/config_int.h"

/* ---- load --------------------------------------------------------------------------------- */

int
cfg_read_all(const char *path, struct igw_buf *b)
{
    return igw_buf_read_file(b, path);
}

static int
yaml_error(struct ctx *c, const yaml_parser_t *p)
{
    const yaml_mark_t *m = p->problem != NULL ? &p->problem_mark : &p->context_mark;
    igw_errbuf_set(c->errbuf, c->errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s", c->file,
                   m->line + 1, m->column + 1, p->problem != NULL ? p->problem : "unknown",
                   p->context != NULL ? " " : "", p->context != NULL ? p->context : "");
    return IGW_ECONFIG;
}

static char *
dir_of(const char *name)
{
    const char *slash = strrchr(name, '/');
    if (slash == NULL) {
        return igw_strdup(".");
    }
    if (slash == name) {
        return igw_strdup("/");
    }
    return igw_strndup(name, (size_t)(slash - name));
}

static int
parse_root(struct ctx *c)
{
    const yaml_node_t *root = yaml_document_get_root_node(c->doc);
    int rv = cfg_apply_defaults(c, S_ROOT, c->cfg);

    if (rv != IGW_OK) {
        return rv;
    }
    if (root == NULL) {
        igw_errbuf_set(c->errbuf, c->errlen, "%s:1:1: the configuration is empty", c->file);
        return IGW_ECONFIG;
    }
    return cfg_parse_section(c, S_ROOT, root, c->cfg);
}

static int
parse_doc(struct ctx *c, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int rv;

    if (!yaml_parser_initialize(&parser)) {
        return IGW_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rv = yaml_error(c, &parser);
        yaml_parser_delete(&parser);
        return rv;
    }
    c->doc = &doc;
    rv = parse_root(c);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rv;
}

int
igw_config_parse(struct igw_config **out, const char *name, const char *text, size_t len,
                 char *errbuf, size_t errlen)
{
    struct ctx c;
    int rv;

    memset(&c, 0, sizeof(c));
    c.file = name;
    c.errbuf = errbuf;
    c.errlen = errlen;
    c.dir = dir_of(name);
    c.cfg = IGW_NEW(struct igw_config);
    if (c.cfg != NULL) {
        c.cfg->file = igw_strdup(name);
    }
    if (c.dir == NULL || c.cfg == NULL || c.cfg->file == NULL) {
        rv = IGW_ENOMEM;
        goto fail;
    }
    rv = parse_doc(&c, text, len);
    if (rv != IGW_OK) {
        goto fail;
    }
    igw_free(c.dir);
    *out = c.cfg;
    return IGW_OK;
fail:
    if (rv == IGW_ENOMEM) {
        igw_errbuf_set(errbuf, errlen, "%s: out of memory", name);
    }
    igw_config_free(c.cfg);
    igw_free(c.dir);
    return rv;
}

int
igw_config_load(struct igw_config **out, const char *path, char *errbuf, size_t errlen)
{
    struct igw_buf b;
    int rv;

    igw_buf_init(&b, 16u << 20);
    rv = cfg_read_all(path, &b);
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "%s: cannot read (%s)", path,
                       rv == IGW_EIO ? strerror(errno) : igw_strerror(rv));
        igw_buf_fini(&b);
        return rv == IGW_ENOMEM ? rv : IGW_EIO;
    }
    rv = igw_config_parse(out, path, b.ptr != NULL ? b.ptr : "", b.len, errbuf, errlen);
    igw_buf_fini(&b);
    return rv;
}

/* ---- free and lookup ---------------------------------------------------------------------- */

static void
route_free(struct igw_route *r)
{
    igw_free(r->name);
    igw_free(r->short_name);
    igw_free(r->url);
    igw_free(r->file_path);
    igw_free(r->method);
    for (size_t i = 0; i < r->nheaders; i++) {
        igw_free(r->headers[i].name);
        igw_free(r->headers[i].value);
    }
    igw_free(r->headers);
    cfg_auth_fini(&r->auth);
    igw_free(r->ca_file);
    igw_free(r->order_by);
    igw_free(r->map);
    igw_free(r->output);
    igw_free(r->content_type);
    igw_free(r->fhir_conditional);
    igw_free(r->sign);
    igw_free(r->answer_from);
    igw_free(r->notify_store);
    igw_free(r->notify_record_type);
    igw_free(r->notify_subscriber);
    igw_free(r->notify_event);
    igw_free(r->notify_reg_type);
    igw_free(r->notify_sender_id);
}

static void
channel_free(struct igw_channel *ch)
{
    igw_free(ch->name);
    igw_free(ch->method);
    igw_free(ch->path);
    cfg_auth_fini(&ch->auth);
    cfg_free_list(ch->content_types, ch->ncontent_types);
    igw_free(ch->input);
    if (ch->dialect_ops != NULL && ch->dialect_ops->channel_fini != NULL) {
        ch->dialect_ops->channel_fini(ch->dialect_state);
    }
    igw_free(ch->dialect);
    igw_free(ch->fhir_interaction);
    igw_free(ch->fhir_base_url);
    igw_free(ch->dci_action);
    cfg_free_list(ch->dci_partners, ch->ndci_partners);
    igw_free(ch->dci_requests);
    igw_free(ch->dci_sender_id);
    cfg_channel_mediate_free(ch);
    for (size_t i = 0; i < ch->nroutes; i++) {
        route_free(&ch->routes[i]);
    }
    igw_free(ch->routes);
}

void
igw_config_free(struct igw_config *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->nchannels; i++) {
        channel_free(&c->channels[i]);
    }
    igw_free(c->channels);
    cfg_upstreams_free(c);
    igw_free(c->file);
    igw_free(c->http_listen);
    igw_free(c->tls_cert);
    igw_free(c->tls_key);
    igw_free(c->sp_listen);
    igw_free(c->pub_listen);
    igw_free(c->admin_listen);
    cfg_auth_fini(&c->admin_auth);
    for (size_t i = 0; i < c->nadmin_creds; i++) {
        igw_free(c->admin_creds[i].name);
        cfg_auth_fini(&c->admin_creds[i].auth);
    }
    igw_free(c->admin_creds);
    igw_free(c->admin_tls_cert);
    igw_free(c->admin_tls_key);
    igw_free(c->admin_tls_client_ca);
    igw_free(c->admin_audit_file);
    for (size_t i = 0; i < c->nalert_rules; i++) {
        igw_free(c->alert_rules[i].name);
        igw_free(c->alert_rules[i].route);
    }
    igw_free(c->alert_rules);
    igw_free(c->alerts_channel);
    igw_free(c->data_dir);
    igw_free(c->queue_backend);
    igw_free(c->js_servers);
    igw_free(c->js_name);
    igw_free(c->js_instance);
    igw_free(c->js_creds);
    igw_free(c->js_tls_ca);
    igw_free(c->js_tls_cert);
    igw_free(c->js_tls_key);
    igw_free(c->log_level);
    igw_free(c->mappings_dir);
    cfg_partners_free(c);
    igw_free(c->payments.ledger_path);
    igw_free(c->payments.sender_uri);
    igw_free(c);
}

const struct igw_route *
igw_config_route(const struct igw_config *c, const char *name)
{
    for (size_t i = 0; i < c->nchannels; i++) {
        for (size_t j = 0; j < c->channels[i].nroutes; j++) {
            if (strcmp(c->channels[i].routes[j].name, name) == 0) {
                return &c->channels[i].routes[j];
            }
        }
    }
    return NULL;
}
