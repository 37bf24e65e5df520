/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Config loader, alerts (docs/ALERTS.md): the list alerts.rules and the cross-checks that need
 * the whole document (the alert channel and the rules' routes exist), run by the root
 * section's finisher.
 */
#include <string.h>

#include "config/config_int.h"

static bool
rule_name_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 63 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static int
check_rule(struct ctx *c, const yaml_node_t *n, const struct igw_alert_rule *r)
{
    bool needs_route = r->kind == IGW_ALERT_DEAD_LETTERS || r->kind == IGW_ALERT_CIRCUIT_OPEN;
    bool may_route = r->kind == IGW_ALERT_QUEUE_DEPTH || r->kind == IGW_ALERT_OLDEST_PENDING;

    if (!rule_name_ok(r->name)) {
        return cfg_fail(c, cfg_map_get(c, n, "name"),
                        "name must be 1..63 characters of [A-Za-z0-9_.-]");
    }
    if (!may_route && needs_route != (r->route != NULL)) {
        return cfg_fail(c, n, needs_route ? "this kind needs route" : "this kind takes no route");
    }
    if (r->kind == IGW_ALERT_STORAGE && (r->threshold < 1 || r->threshold > 100)) {
        return cfg_fail(c, cfg_map_get(c, n, "threshold"), "storage: threshold is 1..100 percent");
    }
    if (r->kind == IGW_ALERT_DEAD_LETTERS && (r->threshold < 1 || r->window_ms == 0)) {
        return cfg_fail(c, n, "dead_letters: threshold and window must be above 0");
    }
    if (r->kind == IGW_ALERT_OLDEST_PENDING && r->window_ms == 0) {
        return cfg_fail(c, cfg_map_get(c, n, "window"), "oldest_pending: window must be above 0");
    }
    return IGW_OK;
}

int
cfg_fn_alert_rules(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    size_t cnt;
    int rv = IGW_OK;

    if (n->type != YAML_SEQUENCE_NODE) {
        return cfg_fail(c, n, "expected a list of rules, got %s", cfg_node_kind(n));
    }
    cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    cfg->alert_rules = igw_calloc(cnt + 1, sizeof(*cfg->alert_rules));
    if (cfg->alert_rules == NULL) {
        return IGW_ENOMEM;
    }
    for (size_t i = 0; rv == IGW_OK && i < cnt; i++) {
        const yaml_node_t *item = cfg_node_at(c, n->data.sequence.items.start[i]);
        struct igw_alert_rule *r = &cfg->alert_rules[i];
        cfg->nalert_rules = i + 1; /* freed with the config, also when partly filled */
        rv = cfg_apply_defaults(c, S_ALERT_RULE, r);
        rv = rv == IGW_OK ? cfg_parse_section(c, S_ALERT_RULE, item, r) : rv;
        rv = rv == IGW_OK ? check_rule(c, item, r) : rv;
        for (size_t j = 0; rv == IGW_OK && j < i; j++) {
            if (strcmp(cfg->alert_rules[j].name, r->name) == 0) {
                rv = cfg_fail(c, item, "duplicate rule name \"%s\"", r->name);
            }
        }
    }
    return rv;
}

/* The alert channel: configured, with routes, none mapped (an incident is delivered as is). */
static int
check_channel(struct ctx *c, const yaml_node_t *n, const struct igw_config *cfg)
{
    const struct igw_channel *ch = NULL;

    for (size_t i = 0; i < cfg->nchannels; i++) {
        if (strcmp(cfg->channels[i].name, cfg->alerts_channel) == 0) {
            ch = &cfg->channels[i];
        }
    }
    if (ch == NULL) {
        return cfg_fail(c, cfg_map_get(c, n, "channel"), "no channel \"%s\"", cfg->alerts_channel);
    }
    if (ch->nroutes == 0) {
        return cfg_fail(c, cfg_map_get(c, n, "channel"), "channel \"%s\" has no routes",
                        cfg->alerts_channel);
    }
    for (size_t i = 0; i < ch->nroutes; i++) {
        if (ch->routes[i].map != NULL) {
            return cfg_fail(c, cfg_map_get(c, n, "channel"),
                            "route %s maps its messages: incidents are delivered as they are",
                            ch->routes[i].name);
        }
    }
    return IGW_OK;
}

int
cfg_finish_root(struct ctx *c, const yaml_node_t *n, void *base)
{
    struct igw_config *cfg = base;
    const yaml_node_t *al = cfg_map_get(c, n, "alerts");
    size_t old;
    int rv = cfg_check_partners(c, n);

    if (rv != IGW_OK || al == NULL || (cfg->nalert_rules == 0 && cfg->alerts_channel == NULL)) {
        return rv;
    }
    old = cfg_path_push(c, "alerts", 6);
    if (cfg->alerts_channel == NULL) {
        return cfg_fail(c, al, "rules need channel (the channel incidents are delivered by)");
    }
    rv = check_channel(c, al, cfg);
    for (size_t i = 0; rv == IGW_OK && i < cfg->nalert_rules; i++) {
        const struct igw_alert_rule *r = &cfg->alert_rules[i];
        if (r->route != NULL && igw_config_route(cfg, r->route) == NULL) {
            rv = cfg_fail(c, cfg_map_get(c, al, "rules"), "rule %s: no route \"%s\"", r->name,
                          r->route);
        }
    }
    if (rv == IGW_OK) {
        cfg_path_pop(c, old);
    }
    return rv;
}
