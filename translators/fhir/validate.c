/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR R4 structural validation: the walk over a document tree (include/igw/fhir.h). Each
 * object is checked against a node of the generated tables (fhir_tables.c): every member must
 * name an element of the node (binary search over the node's sorted JSON names), cardinality
 * decides array or single value, the element's type decides how the value is checked, and the
 * node's required elements must be present. Primitive formats are in prim.c, required bindings
 * and references in terms.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "fhir_int.h"

/* per object: which element definitions were seen, and under which JSON name */
struct seen {
    uint8_t count[FHIR_TABLES_MAX_NODE_ELEMS];
    uint8_t ext[FHIR_TABLES_MAX_NODE_ELEMS]; /* a "_name" sibling was seen */
    bool rtype;                              /* a resource's resourceType was seen */
    uint16_t name[FHIR_TABLES_MAX_NODE_ELEMS];
};

static void check_object(struct fhir_ctx *c, const struct igw_node *obj, unsigned node, bool root);
static const char *path_string(struct fhir_ctx *c, bool *oom);

/* ---- issues and paths -------------------------------------------------------------------- */

static int
grow_issues(struct fhir_ctx *c)
{
    size_t cap = c->cap > 0 ? c->cap * 2 : 8;
    struct igw_fhir_issue *n = igw_arena_alloc(c->a, cap * sizeof(*n));

    if (n == NULL) {
        return IGW_ENOMEM;
    }
    if (c->res->count > 0) {
        memcpy(n, c->res->issues, c->res->count * sizeof(*n));
    }
    c->res->issues = n;
    c->cap = cap;
    return IGW_OK;
}

static bool
is_error(const char *severity)
{
    return strcmp(severity, IGW_FHIR_SEV_ERROR) == 0 || strcmp(severity, IGW_FHIR_SEV_FATAL) == 0;
}

void
fhir_issue(struct fhir_ctx *c, const char *severity, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    struct igw_fhir_issue *is;
    bool oom = false;

    if (c->stop) {
        return;
    }
    if (c->res->count >= c->max_issues) {
        c->res->truncated = true;
        c->stop = true;
        return;
    }
    if (c->res->count == c->cap && grow_issues(c) != IGW_OK) {
        goto oom;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    is = &c->res->issues[c->res->count];
    is->severity = severity;
    is->code = code;
    is->expression = path_string(c, &oom);
    is->diagnostics = igw_arena_strndup(c->a, msg, strlen(msg));
    if (is->diagnostics == NULL || oom) {
        goto oom;
    }
    c->res->count++;
    c->res->errors += is_error(severity) ? 1 : 0;
    return;
oom:
    c->rv = IGW_ENOMEM;
    c->stop = true;
}

static size_t
path_add(struct fhir_ctx *c, uint8_t kind, const char *name, size_t n, size_t index)
{
    size_t saved = c->nseg;

    if (c->nseg < FHIR_PATH_SEGS) {
        struct fhir_seg *g = &c->segs[c->nseg];
        g->kind = kind;
        g->name = name;
        g->len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
        g->index = index > UINT32_MAX ? UINT32_MAX : (uint32_t)index;
    }
    c->nseg++;
    return saved;
}

size_t
fhir_path_push(struct fhir_ctx *c, const char *sep, const char *name, size_t n)
{
    return path_add(c, sep[0] == '\0' ? FHIR_SEG_ROOT : FHIR_SEG_NAME, name, n, 0);
}

size_t
fhir_path_index(struct fhir_ctx *c, size_t i)
{
    return path_add(c, FHIR_SEG_INDEX, NULL, 0, i);
}

void
fhir_path_pop(struct fhir_ctx *c, size_t saved)
{
    c->nseg = saved;
}

/* Spells one segment into out (names clipped and cleaned by fhir_clip); returns its length. */
static size_t
seg_text(const struct fhir_seg *g, char *out, size_t cap)
{
    char clip[80];
    const char *name;
    int n;

    if (g->kind == FHIR_SEG_INDEX) {
        n = snprintf(out, cap, "[%u]", (unsigned)g->index);
    } else {
        name = fhir_clip(clip, sizeof(clip), g->name, g->len);
        n = snprintf(out, cap, "%s%s", g->kind == FHIR_SEG_NAME ? "." : "", name);
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* The current path as an arena string, or NULL (*oom set) when there is none or no memory. */
static const char *
path_string(struct fhir_ctx *c, bool *oom)
{
    char buf[FHIR_PATH_MAX];
    size_t len = 0;
    size_t n = c->nseg < FHIR_PATH_SEGS ? c->nseg : FHIR_PATH_SEGS;
    const char *s;

    for (size_t i = 0; i < n; i++) {
        len += seg_text(&c->segs[i], buf + len, sizeof(buf) - len);
    }
    if (len == 0) {
        return NULL;
    }
    s = igw_arena_strndup(c->a, buf, len);
    *oom = s == NULL;
    return s;
}

/* ---- table look-ups ---------------------------------------------------------------------- */

static int
cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int r;

    if (an > 0 && bn > 0 && a[0] != b[0]) {
        return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1; /* most probes end here */
    }
    r = memcmp(a, b, an < bn ? an : bn);

    if (r != 0) {
        return r;
    }
    return an < bn ? -1 : (an > bn ? 1 : 0);
}

int
fhir_type_find(const char *s, size_t n)
{
    size_t lo = 0;
    size_t hi = fhir_types_count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = cmp_bytes(fhir_types[mid].name, fhir_types[mid].name_len, s, n);
        if (r == 0) {
            return (int)mid;
        }
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

static int
name_find(const struct fhir_node *nd, const char *s, size_t n)
{
    size_t lo = 0;
    size_t hi = nd->n_names;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct fhir_name *nm = &fhir_names[nd->first_name + mid];
        int r = cmp_bytes(nm->name, nm->name_len, s, n);
        if (r == 0) {
            return (int)mid;
        }
        if (r < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

static bool
key_is(const struct igw_node *m, const char *lit)
{
    size_t n = strlen(lit);

    return m->key_len == n && memcmp(m->key, lit, n) == 0;
}

static const char *
card_max(const struct fhir_elem *e, char *buf, size_t cap)
{
    if (e->max == FHIR_UNBOUNDED) {
        return "*";
    }
    snprintf(buf, cap, "%u", (unsigned)e->max);
    return buf;
}

/* ---- values ------------------------------------------------------------------------------ */

static bool
skip_resource(const struct fhir_ctx *c, unsigned parent, const struct fhir_elem *e)
{
    if (e->name_len == 9 && memcmp(e->name, "contained", 9) == 0) {
        return (c->flags & IGW_FHIR_NO_CONTAINED) != 0;
    }
    if (strcmp(fhir_nodes[parent].path, "Bundle.entry") == 0) {
        return (c->flags & IGW_FHIR_NO_BUNDLE_ENTRIES) != 0;
    }
    return false;
}

static void
check_nested_resource(struct fhir_ctx *c, const struct igw_node *v, unsigned parent,
                      const struct fhir_elem *e, unsigned t)
{
    bool contained = e->name_len == 9 && memcmp(e->name, "contained", 9) == 0;
    const struct igw_node *scope = c->scope;

    if (skip_resource(c, parent, e)) {
        return;
    }
    if (!contained) {
        c->scope = v;
    }
    fhir_check_resource(c, v, t == fhir_type_Resource ? FHIR_NONE : t);
    c->scope = scope;
}

static void
check_value(struct fhir_ctx *c, const struct igw_node *v, unsigned parent,
            const struct fhir_elem *e, unsigned t)
{
    const struct fhir_type *ty = &fhir_types[t];

    if (ty->kind == FHIR_KIND_PRIMITIVE) {
        fhir_check_prim(c, v, ty->prim, e);
        return;
    }
    if (t == fhir_type_Resource || ty->kind == FHIR_KIND_RESOURCE) {
        check_nested_resource(c, v, parent, e, t);
        return;
    }
    if (v->type != IGW_NODE_OBJECT) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "'%s' must be a JSON object (type %s)", e->name, ty->name);
        return;
    }
    check_object(c, v, e->node != FHIR_NONE ? e->node : ty->node, false);
    if (c->stop) {
        return;
    }
    if (t == fhir_type_Reference) {
        fhir_check_reference(c, v, e);
    } else if ((t == fhir_type_Coding || t == fhir_type_CodeableConcept) && e->vset != FHIR_NONE) {
        fhir_check_coded(c, v, t, e);
    }
}

/* A null array item is allowed only when "_name" has an object at the same index. */
static void
check_null_item(struct fhir_ctx *c, const struct igw_node *obj, const struct fhir_elem *e, size_t i)
{
    char k[80];
    const struct igw_node *ext;
    const struct igw_node *at = NULL;

    if ((size_t)e->name_len + 1 > sizeof(k)) {
        return;
    }
    k[0] = '_';
    memcpy(k + 1, e->name, e->name_len);
    ext = igw_node_get(obj, k, (size_t)e->name_len + 1);
    if (ext != NULL && ext->type == IGW_NODE_ARRAY) {
        at = igw_node_at(ext, i);
    }
    if (at == NULL || at->type != IGW_NODE_OBJECT) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID,
                   "null is allowed in '%s' only where '_%s' has an object at the same index",
                   e->name, e->name);
    }
}

static void
check_array(struct fhir_ctx *c, const struct igw_node *obj, const struct igw_node *m,
            unsigned parent, const struct fhir_elem *e, unsigned t)
{
    char mx[16];
    size_t i = 0;

    if (m->type != IGW_NODE_ARRAY) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "'%s' has cardinality %u..%s and must be a JSON array", e->name,
                   (unsigned)e->min, card_max(e, mx, sizeof(mx)));
        return;
    }
    if (m->count == 0) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID,
                   "'%s': arrays must not be empty in FHIR JSON", e->name);
        return;
    }
    if (e->max != FHIR_UNBOUNDED && m->count > e->max) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "'%s' has %u items, at most %u are allowed", e->name, (unsigned)m->count,
                   (unsigned)e->max);
    }
    for (const struct igw_node *it = m->first; it != NULL && !c->stop; it = it->next, i++) {
        size_t saved = fhir_path_index(c, i);
        if (it->type == IGW_NODE_NULL) {
            check_null_item(c, obj, e, i);
        } else {
            check_value(c, it, parent, e, t);
        }
        fhir_path_pop(c, saved);
    }
}

static void
check_single(struct fhir_ctx *c, const struct igw_node *m, unsigned parent,
             const struct fhir_elem *e, unsigned t)
{
    if (m->type == IGW_NODE_ARRAY) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "'%s' has cardinality %u..1 and must not be a JSON array", e->name,
                   (unsigned)e->min);
    } else if (m->type == IGW_NODE_NULL) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID,
                   "'%s': null is not allowed in FHIR JSON", e->name);
    } else {
        check_value(c, m, parent, e, t);
    }
}

static void
check_element(struct fhir_ctx *c, const struct igw_node *obj, const struct igw_node *m,
              unsigned parent, const struct fhir_elem *e, unsigned slot)
{
    unsigned t = fhir_elem_types[e->first_type + slot];
    size_t saved = fhir_path_push(c, ".", m->key, m->key_len);

    if (e->max == 0) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "'%s' is not allowed (cardinality 0..0)", e->name);
    } else if (e->max > 1) {
        check_array(c, obj, m, parent, e, t);
    } else {
        check_single(c, m, parent, e, t);
    }
    fhir_path_pop(c, saved);
}

/* ---- "_name": extensions and ids of primitive values ------------------------------------ */

static void
check_ext_item(struct fhir_ctx *c, const struct igw_node *v, bool null_ok)
{
    if (v->type == IGW_NODE_OBJECT) {
        check_object(c, v, fhir_types[fhir_type_Element].node, false);
    } else if (!(null_ok && v->type == IGW_NODE_NULL)) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   null_ok ? "items of a primitive's extension array must be objects or null"
                           : "a primitive's extension must be a JSON object");
    }
}

static void
check_ext_array(struct fhir_ctx *c, const struct igw_node *obj, const struct igw_node *m,
                const struct fhir_elem *e)
{
    const struct igw_node *val = igw_node_get(obj, m->key + 1, m->key_len - 1);
    size_t i = 0;

    if (m->type != IGW_NODE_ARRAY) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "'_%s' must be a JSON array, as '%s' is", e->name, e->name);
        return;
    }
    if (val != NULL && val->type == IGW_NODE_ARRAY && val->count != m->count) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "'_%s' has %u items but '%s' has %u", e->name, (unsigned)m->count, e->name,
                   (unsigned)val->count);
    }
    for (const struct igw_node *it = m->first; it != NULL && !c->stop; it = it->next, i++) {
        size_t saved = fhir_path_index(c, i);
        check_ext_item(c, it, true);
        fhir_path_pop(c, saved);
    }
}

static void
check_ext_member(struct fhir_ctx *c, const struct igw_node *obj, const struct igw_node *m,
                 const struct fhir_elem *e, unsigned slot)
{
    unsigned t = fhir_elem_types[e->first_type + slot];
    size_t saved = fhir_path_push(c, ".", m->key, m->key_len);

    if (fhir_types[t].kind != FHIR_KIND_PRIMITIVE) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "'_%s' is allowed only for primitive elements ('%s' is %s)", e->name, e->name,
                   fhir_types[t].name);
    } else if (e->max > 1) {
        check_ext_array(c, obj, m, e);
    } else {
        check_ext_item(c, m, false);
    }
    fhir_path_pop(c, saved);
}

/* ---- objects ----------------------------------------------------------------------------- */

static void
unknown_member(struct fhir_ctx *c, const struct igw_node *m, unsigned node)
{
    size_t saved = fhir_path_push(c, ".", m->key, m->key_len);
    char clip[80];

    if (key_is(m, "fhir_comments") || key_is(m, "_fhir_comments")) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "fhir_comments is not allowed in FHIR R4 JSON");
    } else {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE, "unknown element '%s' in %s",
                   fhir_clip(clip, sizeof(clip), m->key, m->key_len), fhir_nodes[node].path);
    }
    fhir_path_pop(c, saved);
}

/* A member whose name its object already has (no element definition tells it apart). */
static void
duplicate(struct fhir_ctx *c, const struct igw_node *m)
{
    char clip[80];
    size_t saved = fhir_path_push(c, ".", m->key, m->key_len);

    fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE, "duplicate member '%s'",
               fhir_clip(clip, sizeof(clip), m->key, m->key_len));
    fhir_path_pop(c, saved);
}

/* Records that element idx was seen through name ni; false (and an issue) on a repeat. */
static bool
mark_seen(struct fhir_ctx *c, struct seen *s, const struct igw_node *m, const struct fhir_node *nd,
          unsigned idx, unsigned ni)
{
    const struct fhir_elem *e = &fhir_elems[nd->first_elem + idx];
    size_t saved;

    if (s->count[idx] == 0) {
        s->count[idx] = 1;
        s->name[idx] = (uint16_t)ni;
        return true;
    }
    saved = fhir_path_push(c, ".", m->key, m->key_len);
    if (s->name[idx] != ni) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "only one of %s[x] may be present: '%s' and '%s'", e->name,
                   fhir_names[nd->first_name + s->name[idx]].name,
                   fhir_names[nd->first_name + ni].name);
    } else {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE, "duplicate member '%s'", e->name);
    }
    fhir_path_pop(c, saved);
    return false;
}

static void
check_member(struct fhir_ctx *c, const struct igw_node *obj, const struct igw_node *m,
             unsigned node, bool root, struct seen *s)
{
    const struct fhir_node *nd = &fhir_nodes[node];
    const char *k = m->key;
    size_t kn = m->key_len;
    bool ext = kn > 1 && k[0] == '_';
    const struct fhir_name *nm;
    int ni;

    if (root && key_is(m, "resourceType")) {
        if (s->rtype) {
            duplicate(c, m); /* FHIR JSON forbids repeated properties: which one would count? */
        }
        s->rtype = true;
        return;
    }
    ni = name_find(nd, ext ? k + 1 : k, ext ? kn - 1 : kn);
    if (ni < 0) {
        unknown_member(c, m, node);
        return;
    }
    nm = &fhir_names[nd->first_name + (unsigned)ni];
    if (ext && s->ext[nm->elem] != 0) {
        duplicate(c, m);
        return;
    }
    if (ext) {
        s->ext[nm->elem] = 1;
        check_ext_member(c, obj, m, &fhir_elems[nd->first_elem + nm->elem], nm->slot);
        return;
    }
    if (mark_seen(c, s, m, nd, nm->elem, (unsigned)ni)) {
        check_element(c, obj, m, node, &fhir_elems[nd->first_elem + nm->elem], nm->slot);
    }
}

static void
missing(struct fhir_ctx *c, const struct fhir_elem *e)
{
    char mx[16];
    size_t saved = fhir_path_push(c, ".", e->name, e->name_len);

    fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_REQUIRED,
               "missing required element '%s%s' (cardinality %u..%s)", e->name,
               (e->flags & FHIR_E_CHOICE) ? "[x]" : "", (unsigned)e->min,
               card_max(e, mx, sizeof(mx)));
    fhir_path_pop(c, saved);
}

static void
check_required(struct fhir_ctx *c, const struct igw_node *obj, unsigned node, const struct seen *s)
{
    const struct fhir_node *nd = &fhir_nodes[node];

    for (unsigned i = 0; i < nd->n_elems && !c->stop; i++) {
        const struct fhir_elem *e = &fhir_elems[nd->first_elem + i];
        const struct igw_node *v;
        if (e->min == 0) {
            continue;
        }
        if (s->count[i] == 0 && s->ext[i] == 0) {
            missing(c, e);
            continue;
        }
        v = e->min > 1 ? igw_node_get(obj, e->name, e->name_len) : NULL;
        if (v != NULL && v->type == IGW_NODE_ARRAY && v->count < e->min) {
            fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_REQUIRED, "'%s' needs at least %u items",
                       e->name, (unsigned)e->min);
        }
    }
}

static void
check_object(struct fhir_ctx *c, const struct igw_node *obj, unsigned node, bool root)
{
    struct seen s;

    if (c->depth >= c->max_depth) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_TOO_COSTLY,
                   "elements nested deeper than %u levels are not validated", c->max_depth);
        return;
    }
    c->depth++;
    memset(&s, 0, offsetof(struct seen, name)); /* name[i] is read only when count[i] > 0 */
    for (const struct igw_node *m = obj->first; m != NULL && !c->stop; m = m->next) {
        check_member(c, obj, m, node, root, &s);
    }
    if (!c->stop) {
        check_required(c, obj, node, &s);
    }
    c->depth--;
}

/* ---- resources --------------------------------------------------------------------------- */

/* Reads resourceType; returns the type index or -1 (issue recorded). */
static int
resource_type(struct fhir_ctx *c, const struct igw_node *res, unsigned expected)
{
    const struct igw_node *rt = igw_node_get(res, "resourceType", 12);
    char clip[80];
    int t;

    if (rt == NULL) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_REQUIRED, "resourceType is missing");
        return -1;
    }
    if (rt->type != IGW_NODE_STRING) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID, "resourceType must be a string");
        return -1;
    }
    t = fhir_type_find(rt->str, rt->len);
    if (t < 0 || fhir_types[t].kind != FHIR_KIND_RESOURCE) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID, "unknown resource type '%s'",
                   fhir_clip(clip, sizeof(clip), rt->str, rt->len));
        return -1;
    }
    if (expected != FHIR_NONE && (unsigned)t != expected) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID,
                   "resourceType is '%s' but %s is expected here", fhir_types[t].name,
                   fhir_types[expected].name);
        return -1;
    }
    return t;
}

void
fhir_check_resource(struct fhir_ctx *c, const struct igw_node *res, unsigned expected)
{
    bool root = c->nseg == 0;
    size_t saved;
    const struct igw_node *rt;
    int t;

    if (res == NULL || res->type != IGW_NODE_OBJECT) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_STRUCTURE,
                   "a resource must be a JSON object");
        return;
    }
    rt = igw_node_get(res, "resourceType", 12);
    if (root && rt != NULL && rt->type == IGW_NODE_STRING &&
        igw_fhir_resource_type_known(rt->str, rt->len)) {
        fhir_path_push(c, "", rt->str, rt->len);
    }
    saved = fhir_path_push(c, c->nseg == 0 ? "" : ".", "resourceType", 12);
    t = resource_type(c, res, expected);
    fhir_path_pop(c, saved);
    if (t >= 0) {
        check_object(c, res, fhir_types[t].node, true);
    }
    if (root) {
        fhir_path_pop(c, 0);
    }
}

/* ---- entry point ------------------------------------------------------------------------- */

static void
ctx_init(struct fhir_ctx *c, igw_arena *a, const struct igw_fhir_opts *o,
         struct igw_fhir_result *out)
{
    memset(c, 0, offsetof(struct fhir_ctx, segs));
    c->a = a;
    c->res = out;
    c->max_issues = o != NULL && o->max_issues > 0 ? o->max_issues : FHIR_DEFAULT_MAX_ISSUES;
    c->max_depth = o != NULL && o->max_depth > 0 ? o->max_depth : FHIR_DEFAULT_MAX_DEPTH;
    c->flags = o != NULL ? o->flags : 0;
    c->rv = IGW_OK;
}

int
igw_fhir_validate(igw_arena *a, const struct igw_node *resource, const struct igw_fhir_opts *opts,
                  struct igw_fhir_result *out)
{
    struct fhir_ctx c;
    unsigned expected = FHIR_NONE;
    int t;

    if (out == NULL) {
        return IGW_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    if (a == NULL) {
        return IGW_EINVAL;
    }
    if (opts != NULL && opts->expected_type != NULL) {
        t = fhir_type_find(opts->expected_type, strlen(opts->expected_type));
        if (t < 0 || fhir_types[t].kind != FHIR_KIND_RESOURCE) {
            return IGW_EINVAL;
        }
        expected = (unsigned)t;
    }
    ctx_init(&c, a, opts, out);
    c.scope = resource;
    fhir_check_resource(&c, resource, expected);
    return c.rv;
}
