/* SPDX-License-Identifier: Apache-2.0 */
/*
 * XML parser: libxml2 builds a DOM from memory (no network, no external entities or DTD
 * loading, no entity substitution, libxml2's default size limits) and we walk it into the
 * neutral tree (model in include/igw/node.h). Any <!DOCTYPE> is refused outright (OWASP's XXE
 * prevention: no DTD, so no entity declarations at all). Errors are captured per call through a
 * structured error handler on the parser context, so concurrent parses on several threads do
 * not share state. The walk still expands internal entity references under a byte budget and
 * rejects external ones: a second line of defence should a declaration ever get through.
 */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "igw/common.h"
#include "igw/xml.h"

#define XML_DEFAULT_DEPTH 256
#define XML_ENTITY_NEST 32
#define XML_EXPAND_MIN (1u << 20) /* entity expansion budget: max(1 MiB, 4 x input) */

struct xerr {
    bool doctype; /* a <!DOCTYPE> was met: refused, parsing stopped */
    bool set;
    int code;
    int line;
    int col;
    char msg[200];
};

struct xwalk {
    igw_arena *a;
    struct igw_parse_error *err;
    unsigned max_depth;
    size_t max_nodes;
    size_t nodes;
    size_t budget;       /* bytes of entity-expanded text still allowed */
    struct igw_buf text; /* scratch for text segments made of several DOM nodes */
};

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_init(void)
{
    xmlInitParser();
}

/* ---- errors ------------------------------------------------------------------------------ */

static void
capture_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    struct xerr *x = ctxt != NULL ? ctxt->_private : NULL;
    size_t n;

    if (x == NULL || e == NULL || x->set || e->level < XML_ERR_ERROR) {
        return;
    }
    x->set = true;
    x->code = e->code;
    x->line = e->line;
    x->col = e->int2;
    snprintf(x->msg, sizeof(x->msg), "%s", e->message != NULL ? e->message : "malformed XML");
    n = strlen(x->msg);
    while (n > 0 && (x->msg[n - 1] == '\n' || x->msg[n - 1] == ' ')) {
        x->msg[--n] = '\0';
    }
}

static int set_err(struct igw_parse_error *err, int rv, unsigned line, unsigned col,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
set_err(struct igw_parse_error *err, int rv, unsigned line, unsigned col, const char *fmt, ...)
{
    char detail[220];
    va_list ap;

    if (err == NULL) {
        return rv;
    }
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    err->line = line;
    err->column = col;
    if (line != 0 && col != 0) {
        snprintf(err->msg, sizeof(err->msg), "line %u, column %u: %s", line, col, detail);
    } else if (line != 0) {
        snprintf(err->msg, sizeof(err->msg), "line %u: %s", line, detail);
    } else {
        snprintf(err->msg, sizeof(err->msg), "%s", detail);
    }
    return rv;
}

static int
node_err(struct xwalk *w, int rv, const xmlNode *n, const char *what)
{
    long line = n != NULL ? xmlGetLineNo(n) : 0;
    return set_err(w->err, rv, line > 0 ? (unsigned)line : 0, 0, "%s", what);
}

/* Maps a libxml2 failure: entity loops and amplification are processing limits. */
static int
libxml_failure(struct igw_parse_error *err, const struct xerr *x)
{
    int rv = IGW_EPARSE;

    if (!x->set) {
        return set_err(err, IGW_EPARSE, 0, 0, "malformed XML");
    }
    if (x->code == XML_ERR_ENTITY_LOOP || x->code == XML_ERR_ENTITY_BOUNDARY) {
        rv = IGW_ELIMIT;
    }
    return set_err(err, rv, x->line > 0 ? (unsigned)x->line : 0, x->col > 0 ? (unsigned)x->col : 0,
                   "%s", x->msg);
}

/* ---- tree building ----------------------------------------------------------------------- */

static struct igw_node *
wnode(struct xwalk *w, enum igw_node_type type, const xmlNode *src, int *rv)
{
    struct igw_node *n;

    if (w->max_nodes != 0 && w->nodes >= w->max_nodes) {
        *rv = node_err(w, IGW_ELIMIT, src, "too many nodes");
        return NULL;
    }
    n = igw_node_new(w->a, type);
    if (n == NULL) {
        *rv = node_err(w, IGW_ENOMEM, src, "out of memory (arena limit)");
        return NULL;
    }
    w->nodes++;
    return n;
}

static const char *
astr(struct xwalk *w, const xmlChar *s, int *rv)
{
    const char *c = (const char *)s;
    char *d;

    if (c == NULL) {
        return NULL;
    }
    d = igw_arena_strndup(w->a, c, strlen(c));
    if (d == NULL) {
        *rv = set_err(w->err, IGW_ENOMEM, 0, 0, "out of memory (arena limit)");
    }
    return d;
}

static void
link_member(struct igw_node *parent, struct igw_node *child, const char *key)
{
    igw_node_link(parent, key, (uint32_t)strlen(key), child);
}

static bool
is_text(const xmlNode *n)
{
    return n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE;
}

/* The entity a reference node points at, or NULL. */
static xmlEntityPtr
ref_entity(const xmlNode *n)
{
    xmlEntityPtr ent = (xmlEntityPtr)n->children;
    if (ent == NULL || ent->type != XML_ENTITY_DECL) {
        return NULL;
    }
    return ent;
}

static int
check_entity(struct xwalk *w, const xmlNode *ref, xmlEntityPtr ent, unsigned nest)
{
    if (ent == NULL) {
        return node_err(w, IGW_EPARSE, ref, "reference to an undeclared entity");
    }
    if (ent->etype != XML_INTERNAL_GENERAL_ENTITY && ent->etype != XML_INTERNAL_PREDEFINED_ENTITY) {
        char what[160];
        snprintf(what, sizeof(what), "external entity &%s; is not loaded (not allowed)",
                 (const char *)ent->name);
        return node_err(w, IGW_EPARSE, ref, what);
    }
    if (nest >= XML_ENTITY_NEST) {
        return node_err(w, IGW_ELIMIT, ref, "entities nested too deeply");
    }
    return IGW_OK;
}

/* Appends the text of a node list (text, CDATA, internal entities) to w->text. */
static int
gather_text(struct xwalk *w, const xmlNode *n, bool one, unsigned nest)
{
    int rv = IGW_OK;

    for (; n != NULL && rv == IGW_OK; n = one ? NULL : n->next) {
        if (is_text(n) && n->content != NULL) {
            size_t len = strlen((const char *)n->content);
            if (nest > 0) {
                if (len > w->budget) {
                    return node_err(w, IGW_ELIMIT, n, "entity expansion exceeds the budget");
                }
                w->budget -= len;
            }
            rv = igw_buf_append(&w->text, n->content, len);
            if (rv != IGW_OK) {
                return node_err(w, IGW_ELIMIT, n, "text exceeds the size limit");
            }
        } else if (n->type == XML_ENTITY_REF_NODE) {
            xmlEntityPtr ent = ref_entity(n);
            rv = check_entity(w, n, ent, nest);
            if (rv == IGW_OK && ent != NULL) {
                rv = gather_text(w, ent->children, false, nest + 1);
            }
        }
    }
    return rv;
}

/* True when the list (entities included) holds an element. */
static bool
has_element(const xmlNode *n, unsigned nest)
{
    for (; n != NULL; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            return true;
        }
        if (n->type == XML_ENTITY_REF_NODE && nest < XML_ENTITY_NEST) {
            xmlEntityPtr ent = ref_entity(n);
            if (ent != NULL && ent->etype == XML_INTERNAL_GENERAL_ENTITY &&
                has_element(ent->children, nest + 1)) {
                return true;
            }
        }
    }
    return false;
}

static bool
all_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
            return false;
        }
    }
    return true;
}

/* Makes a STRING node of w->text and resets it. */
static struct igw_node *
text_node(struct xwalk *w, const xmlNode *src, int *rv)
{
    struct igw_node *s = wnode(w, IGW_NODE_STRING, src, rv);
    const char *t = w->text.len > 0 ? w->text.ptr : "";

    if (s == NULL) {
        return NULL;
    }
    if (w->text.len > UINT32_MAX) {
        *rv = node_err(w, IGW_ELIMIT, src, "text longer than 4 GiB");
        return NULL;
    }
    s->str = igw_arena_strndup(w->a, t, w->text.len);
    if (s->str == NULL) {
        *rv = node_err(w, IGW_ENOMEM, src, "out of memory (arena limit)");
        return NULL;
    }
    s->len = (uint32_t)w->text.len;
    igw_buf_reset(&w->text);
    return s;
}

/* Emits the pending text segment as a "#text" member when it is not blank. */
static int
flush_text(struct xwalk *w, struct igw_node *obj, const xmlNode *src)
{
    int rv = IGW_OK;
    struct igw_node *s;

    if (w->text.len == 0 || all_blank(w->text.ptr, w->text.len)) {
        igw_buf_reset(&w->text);
        return IGW_OK;
    }
    s = text_node(w, src, &rv);
    if (s == NULL) {
        return rv;
    }
    link_member(obj, s, "#text");
    return IGW_OK;
}

static int
set_ns(struct xwalk *w, struct igw_node *n, const xmlNs *ns)
{
    int rv = IGW_OK;

    if (ns == NULL) {
        return IGW_OK;
    }
    n->ns = astr(w, ns->href, &rv);
    n->prefix = astr(w, ns->prefix, &rv);
    return rv;
}

static int
add_attributes(struct xwalk *w, struct igw_node *obj, const xmlNode *el)
{
    int rv = IGW_OK;

    for (const xmlAttr *at = el->properties; at != NULL && rv == IGW_OK; at = at->next) {
        struct igw_node *s;
        const char *key;

        igw_buf_reset(&w->text);
        rv = gather_text(w, at->children, false, 0);
        if (rv != IGW_OK) {
            break;
        }
        s = text_node(w, el, &rv);
        key = astr(w, at->name, &rv);
        if (s == NULL || key == NULL) {
            break;
        }
        s->flags |= IGW_NODE_ATTR;
        rv = set_ns(w, s, at->ns);
        link_member(obj, s, key);
    }
    return rv;
}

static int convert_element(struct xwalk *w, struct igw_node *parent, const xmlNode *el,
                           unsigned depth, unsigned nest);

/* Children of an OBJECT element: elements, text segments, entity contents in order. */
static int
convert_children(struct xwalk *w, struct igw_node *obj, const xmlNode *n, unsigned depth,
                 unsigned nest)
{
    int rv = IGW_OK;

    for (; n != NULL && rv == IGW_OK; n = n->next) {
        if (is_text(n)) {
            rv = gather_text(w, n, true, nest);
        } else if (n->type == XML_ELEMENT_NODE) {
            if (nest > 0) {
                if (w->budget < 64) {
                    return node_err(w, IGW_ELIMIT, n, "entity expansion exceeds the budget");
                }
                w->budget -= 64;
            }
            rv = flush_text(w, obj, n);
            if (rv == IGW_OK) {
                rv = convert_element(w, obj, n, depth + 1, nest);
            }
        } else if (n->type == XML_ENTITY_REF_NODE) {
            xmlEntityPtr ent = ref_entity(n);
            rv = check_entity(w, n, ent, nest);
            if (rv == IGW_OK && ent != NULL) {
                rv = convert_children(w, obj, ent->children, depth, nest + 1);
            }
        }
    }
    return rv;
}

static int
convert_element(struct xwalk *w, struct igw_node *parent, const xmlNode *el, unsigned depth,
                unsigned nest)
{
    int rv = IGW_OK;
    struct igw_node *n;
    const char *key;

    if (depth > w->max_depth) {
        return node_err(w, IGW_ELIMIT, el, "elements nested too deeply");
    }
    igw_buf_reset(&w->text);
    if (el->properties == NULL && !has_element(el->children, 0)) {
        rv = gather_text(w, el->children, false, nest);
        n = rv == IGW_OK ? text_node(w, el, &rv) : NULL;
    } else {
        n = wnode(w, IGW_NODE_OBJECT, el, &rv);
    }
    key = n != NULL ? astr(w, el->name, &rv) : NULL;
    if (n == NULL || key == NULL) {
        return rv;
    }
    rv = set_ns(w, n, el->ns);
    if (rv != IGW_OK) {
        return rv;
    }
    link_member(parent, n, key);
    if (n->type != IGW_NODE_OBJECT) {
        return IGW_OK;
    }
    rv = add_attributes(w, n, el);
    igw_buf_reset(&w->text);
    if (rv == IGW_OK) {
        rv = convert_children(w, n, el->children, depth, nest);
    }
    if (rv == IGW_OK) {
        rv = flush_text(w, n, el);
    }
    return rv;
}

/* Any <!DOCTYPE>, with or without an internal subset or external id: refused, as OWASP's XXE
 * prevention guidance says (no DTD at all: no entities, no external subset, nothing to expand
 * or fetch). Called before any declaration of the subset is read; parsing stops here. */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct xerr *x = ctxt != NULL ? ctxt->_private : NULL;

    IGW_UNUSED(name);
    IGW_UNUSED(external_id);
    IGW_UNUSED(system_id);
    if (x != NULL && !x->doctype) {
        x->doctype = true;
        x->line = xmlSAX2GetLineNumber(ctx);
        x->col = xmlSAX2GetColumnNumber(ctx);
    }
    xmlStopParser(ctxt);
}

/* Returns NULL: refuses every external entity or DTD the parser might try to load. */
static xmlParserInputPtr
no_resolve(void *ctx, const xmlChar *public_id, const xmlChar *system_id)
{
    IGW_UNUSED(ctx);
    IGW_UNUSED(public_id);
    IGW_UNUSED(system_id);
    return NULL;
}

static int
walk_doc(struct xwalk *w, xmlDocPtr doc, struct igw_node **root)
{
    int rv = IGW_OK;
    const xmlNode *el = xmlDocGetRootElement(doc);
    struct igw_node *r;

    if (el == NULL) {
        return set_err(w->err, IGW_EPARSE, 1, 1, "no root element");
    }
    r = wnode(w, IGW_NODE_OBJECT, el, &rv);
    if (r == NULL) {
        return rv;
    }
    rv = convert_element(w, r, el, 1, 0);
    if (rv == IGW_OK) {
        *root = r;
    }
    return rv;
}

int
igw_xml_parse(igw_arena *a, const char *text, size_t len, const struct igw_parse_limits *lim,
              struct igw_node **root, struct igw_parse_error *err)
{
    const int opts = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                     XML_PARSE_COMPACT;
    struct xerr x;
    struct xwalk w;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    int rv;

    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
    if (a == NULL || root == NULL || (text == NULL && len != 0)) {
        return IGW_EINVAL;
    }
    *root = NULL;
    memset(&x, 0, sizeof(x));
    memset(&w, 0, sizeof(w));
    w.a = a;
    w.err = err;
    w.max_depth = lim != NULL && lim->max_depth != 0 ? lim->max_depth : XML_DEFAULT_DEPTH;
    w.max_nodes = lim != NULL ? lim->max_nodes : 0;
    w.budget = len > XML_EXPAND_MIN / 4 ? len * 4 : XML_EXPAND_MIN;
    igw_buf_init(&w.text, len + w.budget);
    if (len > INT_MAX) {
        rv = set_err(err, IGW_ELIMIT, 0, 0, "document larger than 2 GiB");
        goto out;
    }
    if (len == 0) {
        rv = set_err(err, IGW_EPARSE, 1, 1, "empty document");
        goto out;
    }
    pthread_once(&xml_once, xml_init);
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        rv = IGW_ENOMEM;
        goto out;
    }
    ctxt->_private = &x;
    ctxt->sax->serror = capture_error;
    ctxt->sax->resolveEntity = no_resolve;
    ctxt->sax->externalSubset = NULL;
    ctxt->sax->internalSubset = refuse_doctype;
    doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, NULL, opts);
    if (x.doctype) {
        rv = set_err(err, IGW_EPARSE, x.line > 0 ? (unsigned)x.line : 1,
                     x.col > 0 ? (unsigned)x.col : 1,
                     "a DOCTYPE is not allowed in XML input (DTDs and entity declarations are "
                     "refused)");
        goto out;
    }
    if (doc == NULL || !ctxt->wellFormed || !ctxt->nsWellFormed) {
        rv = libxml_failure(err, &x);
        goto out;
    }
    rv = walk_doc(&w, doc, root);

out:
    igw_buf_fini(&w.text);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rv;
}

static const char *const xml_extensions[] = {"xml", NULL};

const struct igw_codec igw_codec_xml = {
    .name = "xml",
    .aliases = NULL,
    .extensions = xml_extensions,
    .media_type = "application/xml",
    .media_match = "xml",
    .parse = igw_xml_parse,
    .write = igw_xml_write,
};
