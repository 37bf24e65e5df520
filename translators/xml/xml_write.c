/* SPDX-License-Identifier: Apache-2.0 */
/*
 * XML writer: the neutral tree back to XML text (UTF-8, with prolog). Members flagged
 * IGW_NODE_ATTR (or keyed "@name", as the JSON writer emits them) become attributes, "#text"
 * members become character data, repeated members and ARRAY members become repeated elements.
 * Namespace declarations are written where a node's namespace is not already in scope.
 */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/xml.h"

#define XW_MAX_DEPTH 4096

struct xbinding {
    const char *prefix; /* NULL = default namespace */
    const char *uri;    /* "" = undeclared */
};

struct xwriter {
    struct igw_buf *b;
    bool pretty;
    struct xbinding *scope;
    size_t nscope;
    size_t capscope;
};

static int
put(struct xwriter *w, const char *s, size_t n)
{
    return igw_buf_append(w->b, s, n);
}

static int
puts_(struct xwriter *w, const char *s)
{
    return igw_buf_append(w->b, s, strlen(s));
}

/* Escapes text (attr: also quotes and whitespace controls); control characters are invalid. */
static int
put_escaped(struct xwriter *w, const char *s, size_t n, bool attr)
{
    size_t i = 0;
    int rv = IGW_OK;

    while (i < n && rv == IGW_OK) {
        size_t j = i;
        const char *rep = NULL;
        unsigned char c = 0;
        while (j < n) {
            c = (unsigned char)s[j];
            if (c == '&' || c == '<' || c == '>' || c < 0x20 || (attr && c == '"')) {
                break;
            }
            j++;
        }
        rv = put(w, s + i, j - i);
        if (rv != IGW_OK || j >= n) {
            break;
        }
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\t':
            rep = attr ? "&#9;" : "\t";
            break;
        case '\n':
            rep = attr ? "&#10;" : "\n";
            break;
        case '\r':
            rep = "&#13;";
            break;
        default:
            return IGW_EINVAL; /* not representable in XML 1.0 */
        }
        rv = puts_(w, rep);
        i = j + 1;
    }
    return rv;
}

/* A key usable as an XML name (a prefix is written separately). */
static bool
valid_name(const char *s, size_t n)
{
    if (s == NULL || n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
        bool other = (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
        if (!alpha && !(i > 0 && other)) {
            return false;
        }
    }
    return true;
}

static bool
is_attr(const struct igw_node *m)
{
    return (m->flags & IGW_NODE_ATTR) != 0 ||
           (m->key != NULL && m->key_len > 1 && m->key[0] == '@');
}

static bool
is_text_key(const struct igw_node *m)
{
    return m->key != NULL && m->key_len == 5 && memcmp(m->key, "#text", 5) == 0;
}

/* Scalar value as text. */
static int
put_value(struct xwriter *w, const struct igw_node *n, bool attr)
{
    switch (n->type) {
    case IGW_NODE_STRING:
        return put_escaped(w, n->str, n->len, attr);
    case IGW_NODE_NUMBER:
        return put_escaped(w, n->str, n->len, attr);
    case IGW_NODE_BOOL:
        return puts_(w, n->boolean ? "true" : "false");
    case IGW_NODE_NULL:
        return IGW_OK;
    default:
        return IGW_EINVAL;
    }
}

/* ---- namespace scope --------------------------------------------------------------------- */

static bool
str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    return strcmp(a, b) == 0;
}

static const char *
lookup(const struct xwriter *w, const char *prefix)
{
    for (size_t i = w->nscope; i > 0; i--) {
        if (str_eq(w->scope[i - 1].prefix, prefix)) {
            return w->scope[i - 1].uri;
        }
    }
    return prefix == NULL ? "" : NULL;
}

/* Declares prefix=uri on the open start tag and records it in scope. */
static int
declare(struct xwriter *w, const char *prefix, const char *uri)
{
    int rv;

    if (w->nscope == w->capscope) {
        size_t ncap = w->capscope == 0 ? 16 : w->capscope * 2;
        struct xbinding *s = igw_realloc(w->scope, ncap * sizeof(*s));
        if (s == NULL) {
            return IGW_ENOMEM;
        }
        w->scope = s;
        w->capscope = ncap;
    }
    w->scope[w->nscope].prefix = prefix;
    w->scope[w->nscope].uri = uri;
    w->nscope++;
    rv = puts_(w, prefix != NULL ? " xmlns:" : " xmlns");
    if (rv == IGW_OK && prefix != NULL) {
        rv = puts_(w, prefix);
    }
    if (rv == IGW_OK) {
        rv = put(w, "=\"", 2);
    }
    if (rv == IGW_OK) {
        rv = put_escaped(w, uri, strlen(uri), true);
    }
    if (rv == IGW_OK) {
        rv = put(w, "\"", 1);
    }
    return rv;
}

static bool
is_xml_prefix(const char *prefix)
{
    return prefix != NULL && strcmp(prefix, "xml") == 0;
}

/* Makes sure n's namespace is in scope (declaring it if needed). */
static int
ensure_ns(struct xwriter *w, const struct igw_node *n, bool attr, const char **prefix_out)
{
    const char *prefix = n->prefix;
    const char *uri = n->ns;
    const char *cur;

    *prefix_out = NULL;
    if (uri == NULL || uri[0] == '\0') {
        /* no namespace: an unprefixed element must not inherit a default one */
        if (!attr && lookup(w, NULL)[0] != '\0') {
            return declare(w, NULL, "");
        }
        return IGW_OK;
    }
    if (is_xml_prefix(prefix)) {
        *prefix_out = prefix;
        return IGW_OK;
    }
    if (attr && prefix == NULL) {
        return IGW_EINVAL; /* a namespaced attribute needs a prefix */
    }
    *prefix_out = prefix;
    cur = lookup(w, prefix);
    if (cur != NULL && strcmp(cur, uri) == 0) {
        return IGW_OK;
    }
    return declare(w, prefix, uri);
}

/* ---- elements ---------------------------------------------------------------------------- */

static int
put_qname(struct xwriter *w, const char *prefix, const char *key, size_t key_len)
{
    int rv = IGW_OK;

    if (prefix != NULL) {
        rv = puts_(w, prefix);
        if (rv == IGW_OK) {
            rv = put(w, ":", 1);
        }
    }
    if (rv == IGW_OK) {
        rv = put(w, key, key_len);
    }
    return rv;
}

static int
put_indent(struct xwriter *w, unsigned depth)
{
    int rv = put(w, "\n", 1);
    for (unsigned i = 0; i < depth && rv == IGW_OK; i++) {
        rv = put(w, "  ", 2);
    }
    return rv;
}

static int
put_attribute(struct xwriter *w, const struct igw_node *m)
{
    const char *key = m->key;
    size_t key_len = m->key_len;
    const char *prefix = NULL;
    int rv;

    if (key_len > 0 && key[0] == '@') {
        key++;
        key_len--;
    }
    if (!valid_name(key, key_len) || m->type == IGW_NODE_OBJECT || m->type == IGW_NODE_ARRAY) {
        return IGW_EINVAL;
    }
    rv = ensure_ns(w, m, true, &prefix);
    if (rv == IGW_OK) {
        rv = put(w, " ", 1);
    }
    if (rv == IGW_OK) {
        rv = put_qname(w, prefix, key, key_len);
    }
    if (rv == IGW_OK) {
        rv = put(w, "=\"", 2);
    }
    if (rv == IGW_OK) {
        rv = put_value(w, m, true);
    }
    if (rv == IGW_OK) {
        rv = put(w, "\"", 1);
    }
    return rv;
}

static int write_element(struct xwriter *w, const struct igw_node *n, const char *key,
                         size_t key_len, unsigned depth);

static bool
has_text_member(const struct igw_node *n)
{
    for (const struct igw_node *m = n->first; m != NULL; m = m->next) {
        if (is_text_key(m)) {
            return true;
        }
    }
    return false;
}

/* Content of an OBJECT element (everything but attributes). */
static int
write_content(struct xwriter *w, const struct igw_node *n, unsigned depth, bool *wrote_child)
{
    bool indent = w->pretty && !has_text_member(n);
    int rv = IGW_OK;

    for (const struct igw_node *m = n->first; m != NULL && rv == IGW_OK; m = m->next) {
        if (is_attr(m)) {
            continue;
        }
        if (is_text_key(m)) {
            rv = put_value(w, m, false);
            continue;
        }
        if (m->type == IGW_NODE_ARRAY) {
            for (const struct igw_node *it = m->first; it != NULL && rv == IGW_OK; it = it->next) {
                if (indent) {
                    rv = put_indent(w, depth + 1);
                }
                if (rv == IGW_OK) {
                    rv = it->type == IGW_NODE_ARRAY
                             ? IGW_EINVAL
                             : write_element(w, it, m->key, m->key_len, depth + 1);
                }
                *wrote_child = true;
            }
            continue;
        }
        if (indent) {
            rv = put_indent(w, depth + 1);
        }
        if (rv == IGW_OK) {
            rv = write_element(w, m, m->key, m->key_len, depth + 1);
        }
        *wrote_child = true;
    }
    if (rv == IGW_OK && indent && *wrote_child) {
        rv = put_indent(w, depth);
    }
    return rv;
}

static bool
is_empty(const struct igw_node *n)
{
    if (n->type == IGW_NODE_NULL) {
        return true;
    }
    if (n->type == IGW_NODE_STRING) {
        return n->len == 0;
    }
    if (n->type != IGW_NODE_OBJECT) {
        return false;
    }
    for (const struct igw_node *m = n->first; m != NULL; m = m->next) {
        if (!is_attr(m)) {
            return false;
        }
    }
    return true;
}

static int
write_start(struct xwriter *w, const struct igw_node *n, const char *key, size_t key_len,
            const char **prefix)
{
    int rv = put(w, "<", 1);

    /* the qualified name needs the prefix, which may be declared by this very tag */
    *prefix = n->ns != NULL && n->ns[0] != '\0' ? n->prefix : NULL;
    if (rv == IGW_OK) {
        rv = put_qname(w, *prefix, key, key_len);
    }
    if (rv == IGW_OK) {
        const char *p2 = NULL;
        rv = ensure_ns(w, n, false, &p2);
    }
    for (const struct igw_node *m = n->type == IGW_NODE_OBJECT ? n->first : NULL;
         m != NULL && rv == IGW_OK; m = m->next) {
        if (is_attr(m)) {
            rv = put_attribute(w, m);
        }
    }
    return rv;
}

static int
write_element(struct xwriter *w, const struct igw_node *n, const char *key, size_t key_len,
              unsigned depth)
{
    size_t saved_scope = w->nscope;
    const char *prefix = NULL;
    bool wrote_child = false;
    int rv;

    if (depth > XW_MAX_DEPTH || !valid_name(key, key_len) || n->type == IGW_NODE_ARRAY) {
        return IGW_EINVAL;
    }
    rv = write_start(w, n, key, key_len, &prefix);
    if (rv == IGW_OK && is_empty(n)) {
        rv = put(w, "/>", 2);
        goto out;
    }
    if (rv == IGW_OK) {
        rv = put(w, ">", 1);
    }
    if (rv == IGW_OK) {
        rv = n->type == IGW_NODE_OBJECT ? write_content(w, n, depth, &wrote_child)
                                        : put_value(w, n, false);
    }
    if (rv == IGW_OK) {
        rv = put(w, "</", 2);
    }
    if (rv == IGW_OK) {
        rv = put_qname(w, prefix, key, key_len);
    }
    if (rv == IGW_OK) {
        rv = put(w, ">", 1);
    }
out:
    w->nscope = saved_scope;
    return rv;
}

int
igw_xml_write(const struct igw_node *root, struct igw_buf *out, unsigned flags)
{
    struct xwriter w;
    const struct igw_node *el;
    size_t start_len;
    int rv;

    if (root == NULL || out == NULL || root->type != IGW_NODE_OBJECT || root->count != 1 ||
        root->first->type == IGW_NODE_ARRAY || is_attr(root->first)) {
        return IGW_EINVAL;
    }
    el = root->first;
    memset(&w, 0, sizeof(w));
    w.b = out;
    w.pretty = (flags & IGW_WRITE_PRETTY) != 0;
    start_len = out->len;
    rv = puts_(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if (rv == IGW_OK) {
        rv = write_element(&w, el, el->key, el->key_len, 0);
    }
    if (rv == IGW_OK) {
        rv = put(&w, "\n", 1);
    }
    igw_free(w.scope);
    if (rv != IGW_OK) {
        out->len = start_len;
        if (out->ptr != NULL) {
            out->ptr[start_len] = '\0';
        }
    }
    return rv;
}
