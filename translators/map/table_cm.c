/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FHIR R4 ConceptMap reader of the lookup tables (table_int.h): one pair per
 * group.element.target (the first target of an element is its primary one), group.unmapped
 * modes provided and fixed; and the JSON position finder that turns a group/element/target into
 * "file:line:col" for messages.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "igw/common.h"
#include "igw/arena.h"
#include "igw/maptable.h"

#include "table_int.h"

/* ---- positions of ConceptMap parts (for messages) ------------------------------------------ */

/* A tiny JSON skipper over text cJSON already accepted: finds where a path starts. */
static bool
is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && is_ws(s[i])) {
        i++;
    }
    return i;
}

static size_t
skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n && s[i] != '"'; i++) {
        if (s[i] == '\\') {
            i++;
        }
    }
    return i < n ? i + 1 : n;
}

static size_t
skip_value(const char *s, size_t n, size_t i)
{
    int depth = 0;

    i = skip_ws(s, n, i);
    while (i < n) {
        char ch = s[i];
        if (ch == '"') {
            i = skip_string(s, n, i);
            if (depth == 0) {
                return i;
            }
            continue;
        }
        if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (depth <= 1) {
                return depth == 0 ? i : i + 1;
            }
            depth--;
        } else if (depth == 0 && (ch == ',' || is_ws(ch))) {
            return i;
        }
        i++;
    }
    return n;
}

/* From the value at i (an object), the offset of member key's value; n when absent. */
static size_t
seek_member(const char *s, size_t n, size_t i, const char *key)
{
    size_t klen = strlen(key);

    i = skip_ws(s, n, i);
    if (i >= n || s[i] != '{') {
        return n;
    }
    i = skip_ws(s, n, i + 1);
    while (i < n && s[i] == '"') {
        size_t kend = skip_string(s, n, i);
        bool match = kend - i == klen + 2 && memcmp(s + i + 1, key, klen) == 0;
        i = skip_ws(s, n, kend);
        i = skip_ws(s, n, i + 1); /* ':' */
        if (match) {
            return i;
        }
        i = skip_ws(s, n, skip_value(s, n, i));
        if (i < n && s[i] == ',') {
            i = skip_ws(s, n, i + 1);
        }
    }
    return n;
}

/* From the value at i (an array), the offset of item k; n when absent. */
static size_t
seek_item(const char *s, size_t n, size_t i, unsigned k)
{
    i = skip_ws(s, n, i);
    if (i >= n || s[i] != '[') {
        return n;
    }
    i = skip_ws(s, n, i + 1);
    for (unsigned j = 0; j < k && i < n && s[i] != ']'; j++) {
        i = skip_ws(s, n, skip_value(s, n, i));
        if (i < n && s[i] == ',') {
            i = skip_ws(s, n, i + 1);
        }
    }
    return i < n && s[i] != ']' ? i : n;
}

/* Offset of group[g] (elem < 0: the group), .element[elem], .target[tgt] (tgt < 0: the
 * element). Falls back to the deepest part found. */
size_t
table_json_where(const igw_table *t, int g, int elem, int tgt)
{
    const char *s = t->text;
    size_t n = t->text_len;
    size_t at = skip_ws(s, n, 0);
    size_t i;

    if (g < 0) {
        return at;
    }
    i = seek_item(s, n, seek_member(s, n, at, "group"), (unsigned)g);
    if (i >= n) {
        return at;
    }
    at = i;
    if (elem >= 0) {
        i = seek_item(s, n, seek_member(s, n, at, "element"), (unsigned)elem);
        if (i < n) {
            at = i;
        }
    }
    if (elem >= 0 && tgt >= 0 && i < n) {
        i = seek_item(s, n, seek_member(s, n, at, "target"), (unsigned)tgt);
        if (i < n) {
            at = i;
        }
    }
    return at;
}

/* ---- FHIR R4 ConceptMap ------------------------------------------------------------------- */

struct cm {
    igw_table *t;
    char *errbuf;
    size_t errlen;
};

static int
cm_fail(struct cm *c, int g, int e, int tg, const char *what)
{
    unsigned line;
    unsigned col;
    char path[96];

    igw_text_position(c->t->text, c->t->text + table_json_where(c->t, g, e, tg), &line, &col);
    if (g < 0) {
        path[0] = '\0';
    } else if (e < 0) {
        snprintf(path, sizeof(path), "group[%d]: ", g);
    } else if (tg < 0) {
        snprintf(path, sizeof(path), "group[%d].element[%d]: ", g, e);
    } else {
        snprintf(path, sizeof(path), "group[%d].element[%d].target[%d]: ", g, e, tg);
    }
    igw_errbuf_set(c->errbuf, c->errlen, "%s:%u:%u: %s%s", c->t->path, line, col, path, what);
    return IGW_EPARSE;
}

/* The string member key of obj, NULL when absent; *bad when present but not a string. */
static const char *
cm_str(const cJSON *obj, const char *key, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || cJSON_IsNull(v)) {
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        *bad = true;
        return NULL;
    }
    return v->valuestring;
}

static bool
cm_no_mapping(const char *eq)
{
    return eq != NULL && (strcmp(eq, "unmatched") == 0 || strcmp(eq, "disjoint") == 0 ||
                          strcmp(eq, "not-related-to") == 0);
}

static int
cm_target(struct cm *c, const cJSON *tj, struct pair *p, int ti, bool *added)
{
    bool bad = false;
    const char *code = cm_str(tj, "code", &bad);
    const char *display = cm_str(tj, "display", &bad);
    const char *eq = cm_str(tj, "equivalence", &bad);
    int rv;

    if (eq == NULL) {
        eq = cm_str(tj, "relationship", &bad);
    }
    if (bad || !cJSON_IsObject(tj)) {
        return cm_fail(c, (int)p->group, (int)p->elem, ti,
                       "code, display and equivalence "
                       "must be strings");
    }
    if (cm_no_mapping(eq)) {
        return IGW_OK;
    }
    if (code == NULL || code[0] == '\0') {
        return cm_fail(c, (int)p->group, (int)p->elem, ti, "target has no code");
    }
    p->tgt = table_arena_str(c->t, code, strlen(code));
    p->tgt_len = strlen(code);
    p->display = display != NULL ? table_arena_str(c->t, display, strlen(display)) : NULL;
    p->tgt_idx = (unsigned)ti;
    p->primary = !*added;
    if (p->tgt == NULL || (display != NULL && p->display == NULL)) {
        return IGW_ENOMEM;
    }
    rv = table_pair_add(c->t, p);
    *added = true;
    return rv;
}

static int
cm_element(struct cm *c, const cJSON *ej, struct pair *base)
{
    bool bad = false;
    const char *code = cm_str(ej, "code", &bad);
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(ej, "target");
    const cJSON *tj;
    bool added = false;
    int ti = 0;
    int rv = IGW_OK;

    if (bad || !cJSON_IsObject(ej) || code == NULL || code[0] == '\0') {
        return cm_fail(c, (int)base->group, (int)base->elem, -1, "element has no code");
    }
    if (targets != NULL && !cJSON_IsArray(targets)) {
        return cm_fail(c, (int)base->group, (int)base->elem, -1, "target must be an array");
    }
    base->src_len = strlen(code);
    base->src = table_arena_str(c->t, code, base->src_len);
    if (base->src == NULL) {
        return IGW_ENOMEM;
    }
    cJSON_ArrayForEach(tj, targets)
    {
        rv = cm_target(c, tj, base, ti++, &added);
        if (rv != IGW_OK) {
            break;
        }
    }
    return rv;
}

static int
cm_set_unmapped(struct cm *c, int g, enum igw_unmapped mode, const char *code, const char *disp)
{
    igw_table *t = c->t;
    bool same_code = t->fixed.code == NULL || code == NULL || strcmp(t->fixed.code, code) == 0;

    if (t->unmapped != IGW_UNMAPPED_ERROR && (t->unmapped != mode || !same_code)) {
        return cm_fail(c, g, -1, -1, "groups disagree on unmapped (lookups are by code only)");
    }
    t->unmapped = mode;
    if (mode == IGW_UNMAPPED_FIXED && t->fixed.code == NULL) {
        t->fixed.code_len = strlen(code);
        t->fixed.code = table_arena_str(t, code, t->fixed.code_len);
        t->fixed.display = disp != NULL ? table_arena_str(t, disp, strlen(disp)) : NULL;
        if (t->fixed.code == NULL || (disp != NULL && t->fixed.display == NULL)) {
            return IGW_ENOMEM;
        }
    }
    return IGW_OK;
}

static int
cm_unmapped(struct cm *c, const cJSON *gj, int g)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(gj, "unmapped");
    bool bad = false;
    const char *mode;
    const char *code;
    const char *disp;

    if (u == NULL) {
        return IGW_OK;
    }
    mode = cm_str(u, "mode", &bad);
    code = cm_str(u, "code", &bad);
    disp = cm_str(u, "display", &bad);
    if (bad || !cJSON_IsObject(u) || mode == NULL) {
        return cm_fail(c, g, -1, -1, "unmapped needs a mode");
    }
    if (strcmp(mode, "provided") == 0) {
        return cm_set_unmapped(c, g, IGW_UNMAPPED_PROVIDED, NULL, NULL);
    }
    if (strcmp(mode, "fixed") == 0) {
        if (code == NULL || code[0] == '\0') {
            return cm_fail(c, g, -1, -1, "unmapped mode 'fixed' needs a code");
        }
        return cm_set_unmapped(c, g, IGW_UNMAPPED_FIXED, code, disp);
    }
    return cm_fail(c, g, -1, -1,
                   strcmp(mode, "other-map") == 0
                       ? "unmapped mode 'other-map' is not supported (merge the maps instead)"
                       : "unknown unmapped mode (want provided or fixed)");
}

static int
cm_group(struct cm *c, const cJSON *gj, int g)
{
    bool bad = false;
    const char *src = cm_str(gj, "source", &bad);
    const char *tgt = cm_str(gj, "target", &bad);
    const cJSON *elements = cJSON_GetObjectItemCaseSensitive(gj, "element");
    const cJSON *ej;
    struct pair base;
    int e = 0;
    int rv;

    if (bad || !cJSON_IsObject(gj) || (elements != NULL && !cJSON_IsArray(elements))) {
        return cm_fail(c, g, -1, -1,
                       "a group is an object with string source/target and an "
                       "element array");
    }
    memset(&base, 0, sizeof(base));
    base.group = (unsigned)g;
    base.ssys = src != NULL ? table_arena_str(c->t, src, strlen(src)) : NULL;
    base.tsys = tgt != NULL ? table_arena_str(c->t, tgt, strlen(tgt)) : NULL;
    if ((src != NULL && base.ssys == NULL) || (tgt != NULL && base.tsys == NULL)) {
        return IGW_ENOMEM;
    }
    cJSON_ArrayForEach(ej, elements)
    {
        base.elem = (unsigned)e++;
        rv = cm_element(c, ej, &base);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return cm_unmapped(c, gj, g);
}

static int
cm_root(struct cm *c, const cJSON *root)
{
    bool bad = false;
    const char *rt = cm_str(root, "resourceType", &bad);
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(root, "group");
    const cJSON *gj;
    int g = 0;
    int rv;

    if (!cJSON_IsObject(root) || rt == NULL || strcmp(rt, "ConceptMap") != 0) {
        return cm_fail(c, -1, -1, -1, "not a FHIR ConceptMap (resourceType)");
    }
    if (!cJSON_IsArray(groups) || cJSON_GetArraySize(groups) == 0) {
        return cm_fail(c, -1, -1, -1, "ConceptMap has no group");
    }
    cJSON_ArrayForEach(gj, groups)
    {
        rv = cm_group(c, gj, g++);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

int
table_cm_load(igw_table *t, const char *text, size_t len, char *errbuf, size_t errlen)
{
    struct cm c = {t, errbuf, errlen};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    int rv;

    t->json = true;
    if (root == NULL) {
        unsigned line;
        unsigned col;
        size_t off = end != NULL && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        igw_text_position(text, text + off, &line, &col);
        igw_errbuf_set(errbuf, errlen, "%s:%u:%u: invalid JSON", t->path, line, col);
        return IGW_EPARSE;
    }
    rv = cm_root(&c, root);
    cJSON_Delete(root);
    return rv;
}
