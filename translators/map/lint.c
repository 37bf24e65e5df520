/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw_map_lint: rules that cannot run backwards (and why), unused tables and variables, and
 * shadowed writes (two rules of one block writing the same leaf).
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "map_int.h"

struct lint {
    const igw_map *m;
    igw_map_lint_fn fn;
    void *arg;
    unsigned count;
};

static void
report(struct lint *l, unsigned line, unsigned col, const char *rule, const char *msg)
{
    struct igw_map_finding f = {
        .file = l->m->file, .line = line, .column = col, .rule = rule, .message = msg};
    if (l->fn != NULL) {
        l->fn(l->arg, &f);
    }
    l->count++;
}

static bool
plain_leaf(const struct stmt *s)
{
    if (s->kind != S_ASSIGN) {
        return false;
    }
    for (unsigned i = 0; i < s->target.n; i++) {
        if (s->target.steps[i].mode == TM_APPEND) {
            return false;
        }
    }
    return true;
}

static void
lint_shadow(struct lint *l, const struct stmt *first)
{
    for (const struct stmt *a = first; a != NULL; a = a->next) {
        if (!plain_leaf(a)) {
            continue;
        }
        for (const struct stmt *b = a->next; b != NULL; b = b->next) {
            if (plain_leaf(b) && strcmp(a->label, b->label) == 0) {
                char msg[160];
                snprintf(msg, sizeof(msg), "overwrites the value written at line %u", a->line);
                report(l, b->line, b->col, b->label, msg);
            }
        }
    }
}

static void
lint_list(struct lint *l, const struct stmt *s)
{
    lint_shadow(l, s);
    for (; s != NULL; s = s->next) {
        if (s->oneway) {
            const char *rule = s->label != NULL && s->label[0] != '\0' ? s->label
                               : s->kind == S_FOR                      ? "for"
                               : s->kind == S_IF                       ? "if"
                                                                       : "when";
            char msg[IGW_ERRBUF_SIZE];
            snprintf(msg, sizeof(msg),
                     "rule '%s' line %u: oneway: runs forward only, skipped in reverse", rule,
                     s->line);
            report(l, s->line, s->col, rule, msg);
            continue;
        }
        if ((s->kind == S_BLOCK || s->kind == S_WHEN) && s->body != NULL &&
            (s->invertible || strcmp(s->why, "contains rules that cannot be inverted") == 0)) {
            lint_list(l, s->body); /* its oneway rules and shadowed writes */
            continue;
        }
        if (s->invertible) {
            continue;
        }
        const char *rule = s->label != NULL && s->label[0] != '\0' ? s->label
                           : s->kind == S_FOR                      ? "for"
                           : s->kind == S_IF                       ? "if"
                                                                   : "when";
        char msg[IGW_ERRBUF_SIZE];
        snprintf(msg, sizeof(msg), "rule '%s' line %u: %s", rule, s->line, s->why);
        report(l, s->line, s->col, rule, msg);
    }
}

unsigned
igw_map_lint(const igw_map *m, igw_map_lint_fn fn, void *arg)
{
    struct lint l = {.m = m, .fn = fn, .arg = arg};
    char msg[IGW_ERRBUF_SIZE];
    if (m == NULL || !m->compiled) {
        return 0;
    }
    lint_list(&l, m->body);
    for (const struct map_table *t = m->tables; t != NULL; t = t->next) {
        if (!t->used) {
            snprintf(msg, sizeof(msg), "table '%s' is never used", t->name);
            report(&l, t->line, t->col, t->name, msg);
        }
    }
    for (const struct scope_var *v = m->unused; v != NULL; v = v->next_unused) {
        snprintf(msg, sizeof(msg), "variable '$%s' is never used", v->name);
        report(&l, v->line, v->col, v->name, msg);
    }
    return l.count;
}
