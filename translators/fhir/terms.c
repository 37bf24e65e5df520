/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Required value-set bindings (code, Coding, CodeableConcept) against the code lists the
 * generator embedded from the R4 ValueSets, and Reference.reference: its format, local
 * "#id" resolution against the enclosing resource's contained[], and the target resource types
 * the element allows.
 */
#include <string.h>

#include "fhir_int.h"

/* ---- value sets -------------------------------------------------------------------------- */

static int
cmp_code(const struct fhir_code *k, const char *s, size_t n)
{
    int r = memcmp(k->code, s, k->len < n ? k->len : n);

    if (r != 0) {
        return r;
    }
    return k->len < n ? -1 : (k->len > n ? 1 : 0);
}

/* first index in the value set whose code is >= s (codes sorted by code, then system) */
static size_t
lower_bound(const struct fhir_vset *vs, const char *s, size_t n)
{
    size_t lo = 0;
    size_t hi = vs->n_codes;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_code(&fhir_codes[vs->first_code + mid], s, n) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* true when (system, code) is in vs; system NULL matches any system */
static bool
vset_has(const struct fhir_vset *vs, const char *sys, size_t sn, const char *s, size_t n)
{
    for (size_t i = lower_bound(vs, s, n); i < vs->n_codes; i++) {
        const struct fhir_code *k = &fhir_codes[vs->first_code + i];
        const char *ks;
        if (cmp_code(k, s, n) != 0) {
            break;
        }
        ks = fhir_systems[k->system];
        if (sys == NULL || (strlen(ks) == sn && memcmp(ks, sys, sn) == 0)) {
            return true;
        }
    }
    return false;
}

/* "male, female, other, unknown" (at most 8 codes) */
static const char *
code_list(const struct fhir_vset *vs, char *buf, size_t cap)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < vs->n_codes && i < 8; i++) {
        const struct fhir_code *k = &fhir_codes[vs->first_code + i];
        if (len + k->len + 8 >= cap) {
            break;
        }
        if (i > 0) {
            memcpy(buf + len, ", ", 2);
            len += 2;
        }
        memcpy(buf + len, k->code, k->len);
        len += k->len;
    }
    if (vs->n_codes > 8 && len + 5 < cap) {
        memcpy(buf + len, ", ...", 5);
        len += 5;
    }
    buf[len] = '\0';
    return buf;
}

void
fhir_check_code(struct fhir_ctx *c, const char *s, size_t n, const struct fhir_elem *e)
{
    const struct fhir_vset *vs;
    char clip[64];
    char list[200];

    if (e->vset == FHIR_NONE) {
        return;
    }
    vs = &fhir_vsets[e->vset];
    if (!vset_has(vs, NULL, 0, s, n)) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_CODE_INVALID,
                   "'%s' is not in the required value set %s (%s)",
                   fhir_clip(clip, sizeof(clip), s, n), vs->url, code_list(vs, list, sizeof(list)));
    }
}

static const struct igw_node *
string_member(const struct igw_node *obj, const char *key)
{
    const struct igw_node *v = igw_node_get(obj, key, strlen(key));

    return v != NULL && v->type == IGW_NODE_STRING ? v : NULL;
}

/* A Coding is in the value set when its code is, under its system (if it has one). */
static bool
coding_in(const struct igw_node *coding, const struct fhir_vset *vs)
{
    const struct igw_node *code = string_member(coding, "code");
    const struct igw_node *sys = string_member(coding, "system");

    if (code == NULL || coding->type != IGW_NODE_OBJECT) {
        return false;
    }
    return vset_has(vs, sys != NULL ? sys->str : NULL, sys != NULL ? sys->len : 0, code->str,
                    code->len);
}

void
fhir_check_coded(struct fhir_ctx *c, const struct igw_node *obj, unsigned type,
                 const struct fhir_elem *e)
{
    const struct fhir_vset *vs = &fhir_vsets[e->vset];
    const struct igw_node *codings;
    char list[200];

    if (type == fhir_type_Coding) {
        if (!coding_in(obj, vs)) {
            fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_CODE_INVALID,
                       "the Coding is not in the required value set %s (%s)", vs->url,
                       code_list(vs, list, sizeof(list)));
        }
        return;
    }
    codings = igw_node_get(obj, "coding", 6);
    if (codings != NULL && codings->type == IGW_NODE_ARRAY) {
        for (const struct igw_node *it = codings->first; it != NULL; it = it->next) {
            if (coding_in(it, vs)) {
                return;
            }
        }
    }
    fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_CODE_INVALID,
               "no coding of this CodeableConcept is in the required value set %s (%s)", vs->url,
               code_list(vs, list, sizeof(list)));
}

/* ---- references -------------------------------------------------------------------------- */

static bool
contained_has(const struct igw_node *scope, const char *id, size_t n)
{
    const struct igw_node *list = scope != NULL ? igw_node_get(scope, "contained", 9) : NULL;

    if (list == NULL || list->type != IGW_NODE_ARRAY) {
        return false;
    }
    for (const struct igw_node *r = list->first; r != NULL; r = r->next) {
        const struct igw_node *rid = r->type == IGW_NODE_OBJECT ? string_member(r, "id") : NULL;
        if (rid != NULL && rid->len == n && memcmp(rid->str, id, n) == 0) {
            return true;
        }
    }
    return false;
}

static void
check_local(struct fhir_ctx *c, const char *s, size_t n)
{
    char clip[64];

    if (n == 1) {
        return; /* "#": the container resource */
    }
    if (!fhir_prim_string_ok(FHIR_P_ID, s + 1, n - 1)) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_VALUE,
                   "'%s' is not a valid local reference (#id)",
                   fhir_clip(clip, sizeof(clip), s, n));
    } else if (!contained_has(c->scope, s + 1, n - 1)) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID,
                   "'%s' does not resolve: no contained resource has id '%s'",
                   fhir_clip(clip, sizeof(clip), s, n), s + 1);
    }
}

static bool
has_scheme(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
        return false;
    }
    while (i < n && s[i] != ':' && s[i] != '/' && s[i] != '?' && s[i] != '#') {
        i++;
    }
    return i < n && s[i] == ':';
}

static const char *
memrchr_slash(const char *s, size_t n)
{
    while (n > 0) {
        n--;
        if (s[n] == '/') {
            return s + n;
        }
    }
    return NULL;
}

/* Parses "Type/id" or "Type/id/_history/vid" at the end of s (the whole of s when anchored);
 * *type gets the type index. */
static bool
tail_type(const char *s, size_t n, bool anchored, int *type)
{
    const char *h = NULL;
    const char *slash;
    const char *start;

    if (n > 10) {
        for (const char *p = s; p + 10 <= s + n; p++) {
            if (memcmp(p, "/_history/", 10) == 0) {
                h = p;
            }
        }
    }
    if (h != NULL) {
        if (!fhir_prim_string_ok(FHIR_P_ID, h + 10, (size_t)(s + n - h - 10))) {
            return false;
        }
        n = (size_t)(h - s);
    }
    slash = memrchr_slash(s, n);
    if (slash == NULL || !fhir_prim_string_ok(FHIR_P_ID, slash + 1, (size_t)(s + n - slash - 1))) {
        return false;
    }
    start = memrchr_slash(s, (size_t)(slash - s));
    if (start != NULL && anchored) {
        return false;
    }
    start = start != NULL ? start + 1 : s;
    *type = fhir_type_find(start, (size_t)(slash - start));
    return *type >= 0 && fhir_types[*type].kind == FHIR_KIND_RESOURCE;
}

/* Type?criteria: a conditional reference (transaction Bundles) */
static bool
conditional(const char *s, size_t n, int *type)
{
    const char *q = memchr(s, '?', n);

    if (q == NULL || q == s || memchr(s, '/', (size_t)(q - s)) != NULL) {
        return false;
    }
    *type = fhir_type_find(s, (size_t)(q - s));
    return *type >= 0 && fhir_types[*type].kind == FHIR_KIND_RESOURCE;
}

static void
check_target(struct fhir_ctx *c, int type, const struct fhir_elem *e)
{
    char allowed[200];
    size_t len = 0;

    if (type < 0 || e->n_targets == 0) {
        return;
    }
    for (unsigned i = 0; i < e->n_targets; i++) {
        unsigned t = fhir_targets[e->first_target + i];
        if (t == (unsigned)type) {
            return;
        }
        if (len + fhir_types[t].name_len + 3 < sizeof(allowed)) {
            memcpy(allowed + len, i > 0 ? ", " : "", i > 0 ? 2 : 0);
            len += i > 0 ? 2 : 0;
            memcpy(allowed + len, fhir_types[t].name, fhir_types[t].name_len);
            len += fhir_types[t].name_len;
        }
    }
    allowed[len] = '\0';
    fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID,
               "a reference to %s is not allowed here (allowed: %s)", fhir_types[type].name,
               allowed);
}

static void
check_ref_string(struct fhir_ctx *c, const char *s, size_t n, const struct fhir_elem *e)
{
    char clip[64];
    int type = -1;
    bool ok;

    if (n > 0 && s[0] == '#') {
        check_local(c, s, n);
        return;
    }
    if (n >= 9 && memcmp(s, "urn:uuid:", 9) == 0) {
        ok = fhir_prim_string_ok(FHIR_P_UUID, s, n);
    } else if (n >= 8 && memcmp(s, "urn:oid:", 8) == 0) {
        ok = fhir_prim_string_ok(FHIR_P_OID, s, n);
    } else if (has_scheme(s, n)) {
        ok = fhir_prim_string_ok(FHIR_P_URI, s, n);
        if (ok && !tail_type(s, n, false, &type)) {
            type = -1; /* an absolute URL need not be a RESTful one */
        }
    } else {
        ok = tail_type(s, n, true, &type) || conditional(s, n, &type);
    }
    if (!ok) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_VALUE,
                   "'%s' is not a valid reference (Type/id, Type/id/_history/vid, urn:uuid:, "
                   "urn:oid:, #id or an absolute URL)",
                   fhir_clip(clip, sizeof(clip), s, n));
        return;
    }
    check_target(c, type, e);
}

void
fhir_check_reference(struct fhir_ctx *c, const struct igw_node *obj, const struct fhir_elem *e)
{
    const struct igw_node *r = string_member(obj, "reference");
    size_t saved;

    if (r == NULL || r->len == 0) {
        return; /* type errors and empty strings were reported by the walk */
    }
    saved = fhir_path_push(c, ".", "reference", 9);
    check_ref_string(c, r->str, r->len, e);
    fhir_path_pop(c, saved);
}
