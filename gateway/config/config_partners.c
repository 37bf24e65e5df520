/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader, DCI partners and igw's signing key (docs/DCI.md, "Signatures and
 * partners"): the named map partners.<name>, the finishers of a partner and of signing, the
 * cross-check of callback:<partner> routes (and the binding of their route hook), the
 * binding of the signing body hook (route option sign), of answer_from and of the DCI notify
 * fan-out (route option dci.notify, after sign: it signs through it), and the freeing. The
 * keys and JWKS files themselves are read by gateway/sign (igw_sign_check, run by `igw config
 * check` and at start), which knows PEM and JOSE.
 */
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "config/config_int.h"
#include "delivery/output.h"
#include "dialect/dci/dci_notify.h"
#include "dialect/dci/dci_subs.h"
#include "http/http.h"
#include "mediate/mediator.h"
#include "sign/sign.h"

#define PARTNER_NAME_MAX 63
#define CALLBACK_SCHEME "callback:"

static int
check_partner_name(struct ctx *c, const yaml_node_t *k)
{
    size_t len = k->type == YAML_SCALAR_NODE ? k->data.scalar.length : 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = k->data.scalar.value[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-')) {
            return cfg_fail(c, k, "invalid partner name (use letters, digits, '_' and '-')");
        }
    }
    if (len == 0 || len > PARTNER_NAME_MAX) {
        return cfg_fail(c, k, "partner name must have 1 to %d characters", PARTNER_NAME_MAX);
    }
    return IGW_OK;
}

static int
parse_one_partner(struct ctx *c, const yaml_node_t *k, const yaml_node_t *v, struct igw_partner *p)
{
    size_t old;
    int rv = check_partner_name(c, k);

    if (rv != IGW_OK) {
        return rv;
    }
    old = cfg_path_push(c, (const char *)k->data.scalar.value, k->data.scalar.length);
    p->name = igw_strndup((const char *)k->data.scalar.value, k->data.scalar.length);
    rv = p->name == NULL ? IGW_ENOMEM : cfg_apply_defaults(c, S_PARTNER, p);
    if (rv == IGW_OK) {
        rv = cfg_parse_section(c, S_PARTNER, v, p);
    }
    if (rv == IGW_OK) {
        cfg_path_pop(c, old);
    }
    return rv;
}

int
cfg_fn_partners(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    size_t count;
    int rv = IGW_OK;

    if (n->type != YAML_MAPPING_NODE) {
        return cfg_fail(c, n, "expected a mapping of partner names, got %s", cfg_node_kind(n));
    }
    count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    cfg->partners = igw_calloc(count + 1, sizeof(struct igw_partner));
    if (cfg->partners == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = 0; rv == IGW_OK && i < count; i++) {
        yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
        const yaml_node_t *k = cfg_node_at(c, pr->key);
        rv = parse_one_partner(c, k, cfg_node_at(c, pr->value), &cfg->partners[i]);
        cfg->npartners = i + 1;
        for (size_t j = 0; rv == IGW_OK && j < i; j++) {
            if (strcmp(cfg->partners[j].name, cfg->partners[i].name) == 0) {
                rv = cfg_fail(c, k, "partner \"%s\" defined twice", cfg->partners[i].name);
            }
        }
    }
    return rv;
}

static int
check_url_opt(struct ctx *c, const yaml_node_t *n, const char *key, const char *url)
{
    char why[IGW_ERRBUF_SIZE];
    const yaml_node_t *at = cfg_is_null(n) ? n : cfg_map_get(c, n, key);
    if (igw_partner_url_check(url, why, sizeof(why)) != IGW_OK) {
        return cfg_fail(c, at != NULL ? at : n, "%s: %s", key, why);
    }
    return IGW_OK;
}

int
cfg_finish_partner(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_partner *p = base;
    int rv = IGW_OK;

    for (size_t i = 0; rv == IGW_OK && i < p->nbase_urls; i++) {
        rv = check_url_opt(c, n, "base_urls", p->base_urls[i]);
    }
    if (rv == IGW_OK && p->jwks_url != NULL) {
        rv = check_url_opt(c, n, "jwks_url", p->jwks_url);
    }
    if (rv != IGW_OK) {
        return rv;
    }
    if (p->jwks_url != NULL && p->jwks_file != NULL) {
        return cfg_fail(c, n, "give jwks_url or jwks_file, not both");
    }
    if (p->verify && p->jwks_url == NULL && p->jwks_file == NULL) {
        return cfg_fail(c, n, "verify: true needs jwks_url or jwks_file");
    }
    if ((p->client_id == NULL) != (p->client_secret.value == NULL)) {
        return cfg_fail(c, n, "client_id and client_secret_file go together");
    }
    return IGW_OK;
}

int
cfg_finish_signing(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    if (cfg->signing.previous_key_file != NULL && cfg->signing.key_file == NULL) {
        return cfg_fail(c, n, "previous_key_file needs key_file");
    }
    return IGW_OK;
}

/* callback:<partner> routes name a partner, are delivered by an output that takes hooks, and
 * get the callback hook. */
static int
check_route(struct ctx *c, const yaml_node_t *n, struct igw_route *r)
{
    const char *name = r->url + strlen(CALLBACK_SCHEME);
    const struct igw_output_ops *o = igw_output_of_route(r);
    const struct igw_partner *p = igw_partner_find(c->cfg, name);

    if (p == NULL) {
        return cfg_fail(c, n, "route %s: url %s names no partner (partners.%s)", r->name, r->url,
                        name);
    }
    if (p->nbase_urls == 0) {
        return cfg_fail(c, n, "route %s: partner %s has no base_urls", r->name, name);
    }
    if (o == NULL || !o->takes_hook || r->hook != NULL) {
        return cfg_fail(c, n, "route %s: a callback route takes no other hook", r->name);
    }
    r->hook = &igw_dci_callback_hook;
    return IGW_OK;
}

/* The YAML node of option key of route r of channel ch (for file:line:column), else n. */
static const yaml_node_t *
route_opt_node(struct ctx *c, const yaml_node_t *n, const struct igw_channel *ch,
               const struct igw_route *r, const char *key)
{
    const yaml_node_t *rt = cfg_map_get(
        c, cfg_map_get(c, cfg_map_get(c, cfg_map_get(c, n, "channels"), ch->name), "routes"),
        r->short_name);
    const yaml_node_t *o = cfg_map_get(c, rt, key);
    return o != NULL ? o : rt != NULL ? rt : n;
}

/* sign: true signs on any route of an output that takes hooks (needs igw's key); auto signs
 * on callback:<partner> routes whose partner has sign: true. */
static int
bind_sign(struct ctx *c, const yaml_node_t *n, const struct igw_channel *ch, struct igw_route *r)
{
    const struct igw_output_ops *o = igw_output_of_route(r);
    bool cb = r->url != NULL && strncasecmp(r->url, CALLBACK_SCHEME, 9) == 0;
    const struct igw_partner *p = cb ? igw_partner_find(c->cfg, r->url + 9) : NULL;

    if (r->sign == NULL || strcmp(r->sign, "false") == 0) {
        return IGW_OK;
    }
    if (strcmp(r->sign, "true") == 0) {
        if (o == NULL || !o->takes_hook) {
            return cfg_fail(c, route_opt_node(c, n, ch, r, "sign"),
                            "route %s: sign: true needs an http(s) or callback: url", r->name);
        }
        if (c->cfg->signing.key_file == NULL) {
            return cfg_fail(c, route_opt_node(c, n, ch, r, "sign"),
                            "route %s: sign: true needs signing.key_file", r->name);
        }
        r->body_hook = &igw_dci_sign_body;
    } else if (p != NULL && p->sign) {
        r->body_hook = &igw_dci_sign_body;
    }
    return IGW_OK;
}

/* The answer_from mediators that read the subscription store: the requests they answer must
 * be written to it by a dci-subscriptions: route of the same channel (dci-on-subscribe waits
 * for its codes there; dci-on-unsubscribe ends them there). */
static bool
needs_store(const struct igw_channel *ch)
{
    const char *m = ch->mediator_ops != NULL ? ch->mediator_ops->name : "";
    return strcmp(m, "dci-on-subscribe") == 0 || strcmp(m, "dci-on-unsubscribe") == 0;
}

static bool
has_store_route(const struct igw_channel *ch)
{
    for (size_t i = 0; i < ch->nroutes; i++) {
        const char *u = ch->routes[i].url;
        if (u != NULL && strncasecmp(u, "dci-subscriptions:", 18) == 0) {
            return true;
        }
    }
    return false;
}

/* answer_from names a channel answered by a mediator that never commits. */
static int
bind_answer_from(struct ctx *c, const yaml_node_t *n, const struct igw_channel *rch,
                 struct igw_route *r)
{
    const struct igw_output_ops *o = igw_output_of_route(r);

    if (r->answer_from == NULL) {
        return IGW_OK;
    }
    n = route_opt_node(c, n, rch, r, "answer_from");
    for (size_t i = 0; i < c->cfg->nchannels; i++) {
        const struct igw_channel *ch = &c->cfg->channels[i];
        if (strcmp(ch->name, r->answer_from) != 0) {
            continue;
        }
        if (ch->mediator_ops == NULL || ch->mediator_ops->commits) {
            return cfg_fail(c, n,
                            "route %s: answer_from: channel %s is not answered by a mediator "
                            "that answers (answer: dci-search, dci-txn-status ...)",
                            r->name, ch->name);
        }
        if (o == NULL || !o->takes_hook) {
            return cfg_fail(c, n, "route %s: answer_from needs an http(s) or callback: url",
                            r->name);
        }
        if (needs_store(ch) && !has_store_route(rch)) {
            return cfg_fail(c, n,
                            "route %s: answer_from: channel %s (answer: %s) answers from the "
                            "subscription store, but channel %s has no dci-subscriptions: route "
                            "writing it (add one, e.g. store: { url: "
                            "\"dci-subscriptions:var/dci-subs\" })",
                            r->name, ch->name, ch->mediator_ops->name, rch->name);
        }
        if (needs_store(ch) && (rch->dialect == NULL || strcmp(rch->dialect, "dci") != 0)) {
            return cfg_fail(c, n,
                            "route %s: answer_from: channel %s answers DCI subscribe/unsubscribe "
                            "requests, but channel %s has no dialect: dci",
                            r->name, ch->name, rch->name);
        }
        r->answer_ch = ch;
        return IGW_OK;
    }
    return cfg_fail(c, n, "route %s: answer_from: no channel named %s", r->name, r->answer_from);
}

/* The event type a channel's requests can give a notify (dci.notify.event auto): an {event}
 * path parameter, a last literal segment naming one, PUT/PATCH, or a FHIR channel's notify
 * envelope (fhir-patient-to-dci-notify carries reg_event_type). */
static bool
channel_gives_event(const struct igw_channel *ch)
{
    const char *p = ch->path != NULL ? ch->path : "";
    const char *seg = strrchr(p, '/');

    seg = seg != NULL ? seg + 1 : p;
    return igw_path_has_param(p, "event") ||
           (seg[0] != '{' && dci_notify_event_word(seg, strlen(seg)) != NULL) ||
           (ch->method != NULL &&
            (strcmp(ch->method, "PUT") == 0 || strcmp(ch->method, "PATCH") == 0)) ||
           (ch->dialect != NULL && strcmp(ch->dialect, "fhir") == 0);
}

/* dci.notify: on a callback:<partner> route with a map, its store written by a
 * dci-subscriptions: route of this config; binds the notify body hook (which signs through
 * the signing hook when bind_sign bound it). */
static int
bind_notify(struct ctx *c, const yaml_node_t *n, const struct igw_channel *ch, struct igw_route *r)
{
    const yaml_node_t *at;
    bool store_ok = false;

    if (r->notify_store == NULL) {
        return IGW_OK;
    }
    at = route_opt_node(c, n, ch, r, "dci");
    if (r->url == NULL || strncasecmp(r->url, CALLBACK_SCHEME, 9) != 0) {
        return cfg_fail(c, at, "route %s: dci.notify needs a callback:PARTNER url", r->name);
    }
    if (r->answer_from != NULL) {
        return cfg_fail(c, at, "route %s: dci.notify and answer_from exclude each other", r->name);
    }
    if (r->map == NULL) {
        return cfg_fail(c, at,
                        "route %s: dci.notify needs a map that makes the DCI record (e.g. "
                        "openimis-insuree-to-dci-person)",
                        r->name);
    }
    for (size_t i = 0; i < c->cfg->nchannels && !store_ok; i++) {
        const struct igw_channel *sc = &c->cfg->channels[i];
        for (size_t j = 0; j < sc->nroutes && !store_ok; j++) {
            const char *u = sc->routes[j].url;
            store_ok = u != NULL && strncasecmp(u, "dci-subscriptions:", 18) == 0 &&
                       strcmp(u + 18, r->notify_store) == 0;
        }
    }
    if (!store_ok) {
        return cfg_fail(c, at,
                        "route %s: dci.notify.store %s is not the directory of a "
                        "dci-subscriptions: route (the subscribe channel's store)",
                        r->name, r->notify_store);
    }
    if ((r->notify_event == NULL || strcmp(r->notify_event, "auto") == 0) &&
        !channel_gives_event(ch)) {
        return cfg_fail(c, at,
                        "route %s: channel %s's requests carry no event type (no {event} path "
                        "parameter or segment naming created/updated/deleted): set "
                        "dci.notify.event",
                        r->name, ch->name);
    }
    r->notify_sign = r->body_hook == &igw_dci_sign_body;
    r->body_hook = &igw_dci_notify_body;
    return IGW_OK;
}

int
cfg_check_partners(struct ctx *c, const yaml_node_t *n)
{
    struct igw_config *cfg = c->cfg;
    for (size_t i = 0; i < cfg->nchannels; i++) {
        const struct igw_channel *ch = &cfg->channels[i];
        if (ch->dialect != NULL && strcmp(ch->dialect, "payroll") == 0 &&
            ch->auth.type == IGW_AUTH_NONE) {
            return cfg_fail(c, n, "channel %s: dialect payroll needs auth (bearer or basic)",
                            ch->name);
        }
        if (ch->dialect != NULL && strcmp(ch->dialect, "g2p") == 0 && ch->ndci_partners == 0 &&
            ch->auth.type == IGW_AUTH_NONE) {
            return cfg_fail(c, n,
                            "channel %s: dialect g2p needs dci.partner (the payment system) or "
                            "auth",
                            ch->name);
        }
        for (size_t j = 0; j < ch->ndci_partners; j++) {
            if (igw_partner_find(cfg, ch->dci_partners[j]) == NULL) {
                return cfg_fail(c, n, "channel %s: dci.partner %s names no partner (partners.%s)",
                                ch->name, ch->dci_partners[j], ch->dci_partners[j]);
            }
        }
        for (size_t j = 0; j < cfg->channels[i].nroutes; j++) {
            struct igw_route *r = &cfg->channels[i].routes[j];
            int rv = IGW_OK;
            if (r->url != NULL &&
                (strncmp(r->url, "g2p:", 4) == 0 || strncmp(r->url, "g2p-ledger:", 11) == 0)) {
                /* payments (docs/PAYMENTS.md): the partner must exist, g2p: needs its URL */
                const char *pn = strchr(r->url, ':') + 1;
                const struct igw_partner *p = igw_partner_find(cfg, pn);
                if (p == NULL) {
                    return cfg_fail(c, n, "route %s: url %s names no partner (partners.%s)",
                                    r->name, r->url, pn);
                }
                if (r->url[3] == ':' && p->nbase_urls == 0) {
                    return cfg_fail(c, n, "route %s: partner %s has no base_urls", r->name, pn);
                }
                if (r->url[3] == ':' && p->sign && cfg->signing.key_file == NULL) {
                    return cfg_fail(c, n,
                                    "route %s: partner %s has sign: true but signing.key_file "
                                    "is not set (set it, or sign: false)",
                                    r->name, pn);
                }
            } else if (r->url != NULL && strncasecmp(r->url, CALLBACK_SCHEME, 9) == 0) {
                rv = check_route(c, n, r);
            }
            rv = rv == IGW_OK ? bind_sign(c, n, ch, r) : rv;
            rv = rv == IGW_OK ? bind_answer_from(c, n, ch, r) : rv;
            rv = rv == IGW_OK ? bind_notify(c, n, ch, r) : rv;
            if (rv != IGW_OK) {
                return rv;
            }
        }
    }
    return IGW_OK;
}

void
cfg_partners_free(struct igw_config *cfg)
{
    for (size_t i = 0; i < cfg->npartners; i++) {
        struct igw_partner *p = &cfg->partners[i];
        igw_free(p->name);
        cfg_free_list(p->base_urls, p->nbase_urls);
        cfg_auth_fini(&p->auth);
        igw_free(p->client_id);
        if (p->client_secret.value != NULL) {
            memset(p->client_secret.value, 0, p->client_secret.len);
        }
        igw_free(p->client_secret.value);
        igw_free(p->jwks_url);
        igw_free(p->jwks_file);
    }
    igw_free(cfg->partners);
    cfg->partners = NULL;
    cfg->npartners = 0;
    igw_free(cfg->signing.key_file);
    igw_free(cfg->signing.kid);
    igw_free(cfg->signing.alg);
    igw_free(cfg->signing.previous_key_file);
    igw_free(cfg->signing.previous_kid);
    igw_free(cfg->signing.issuer);
}
