/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a DCI notify matches (dci_notify.h; docs/DCI.md, "Notify"): the event words of a
 * request, a stored subscription against the route's want and the record, and the
 * subscription's filter (a DCI query, walked by dci_query_walk as the searches walk theirs)
 * evaluated against the DCI record. CPU only.
 */
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "dialect/dci/dci_int.h"
#include "dialect/dci/dci_notify.h"
#include "dialect/dci/dci_subs.h"

/* ---- event words -------------------------------------------------------------------------- */

static bool
word_is(const char *w, size_t n, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strlen(list[i]) == n && strncasecmp(w, list[i], n) == 0) {
            return true;
        }
    }
    return false;
}

static const char *
event_exact(const char *w, size_t n)
{
    static const char *const reg[] = {"created", "create", "register", "registered",
                                      "new",     "added",  "insert",   NULL};
    static const char *const upd[] = {"updated", "update", "modified", "modify",
                                      "changed", "change", NULL};
    static const char *const del[] = {"deleted", "delete", "deregister", "deregistered",
                                      "removed", "remove", NULL};
    if (word_is(w, n, del)) {
        return "DEREGISTER";
    }
    if (word_is(w, n, upd)) {
        return "UPDATE";
    }
    return word_is(w, n, reg) ? "REGISTER" : NULL;
}

const char *
dci_notify_event_word(const char *w, size_t n)
{
    const char *ev;
    size_t i;

    if (w == NULL || n == 0) {
        return NULL;
    }
    ev = event_exact(w, n);
    if (ev != NULL) {
        return ev;
    }
    /* "insuree-created", "family_deleted": the part after the last '-' or '_' */
    for (i = n; i > 0 && w[i - 1] != '-' && w[i - 1] != '_'; i--) {
    }
    return i > 0 ? event_exact(w + i, n - i) : NULL;
}

/* ---- attributes of a record --------------------------------------------------------------- */

static bool
text_of(const struct igw_node *n, const char **s, size_t *len)
{
    if (n == NULL || (n->type != IGW_NODE_STRING && n->type != IGW_NODE_NUMBER)) {
        return false;
    }
    *s = n->str != NULL ? n->str : "";
    *len = n->len;
    return true;
}

/* -1, 0, 1: a against b in text order, over the shorter length when both look like dates
 * (a date-time against a date compares the date). *ok false when either is not a scalar. */
static int
cmp_text(const struct igw_node *a, const struct igw_node *b, bool *ok)
{
    const char *sa, *sb;
    size_t la, lb, n;
    int c;

    *ok = text_of(a, &sa, &la) && text_of(b, &sb, &lb);
    if (!*ok) {
        return 0;
    }
    if (la >= 10 && lb >= 10 && sa[4] == '-' && sb[4] == '-') {
        la = lb = la < lb ? la : lb;
    }
    n = la < lb ? la : lb;
    c = memcmp(sa, sb, n);
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    return la == lb ? 0 : la < lb ? -1 : 1;
}

static bool
op_holds(const struct igw_node *have, const char *op, const struct igw_node *want)
{
    bool ok = false;
    int c;

    if (strcasecmp(op, "in") == 0) {
        for (const struct igw_node *w = want != NULL && want->type == IGW_NODE_ARRAY ? want->first
                                                                                     : NULL;
             w != NULL; w = w->next) {
            if (op_holds(have, "eq", w)) {
                return true;
            }
        }
        return false;
    }
    if (have != NULL && have->type == IGW_NODE_ARRAY) { /* a list (phone numbers): any item */
        for (const struct igw_node *h = have->first; h != NULL; h = h->next) {
            if (op_holds(h, op, want)) {
                return true;
            }
        }
        return false;
    }
    if (have != NULL && have->type == IGW_NODE_BOOL && want != NULL &&
        want->type == IGW_NODE_BOOL) {
        return strcasecmp(op, "eq") == 0 && have->boolean == want->boolean;
    }
    c = cmp_text(have, want, &ok);
    if (!ok) {
        return false;
    }
    if (strcasecmp(op, "eq") == 0) {
        return c == 0;
    }
    if (strcasecmp(op, "gt") == 0) {
        return c > 0;
    }
    if (strcasecmp(op, "ge") == 0) {
        return c >= 0;
    }
    if (strcasecmp(op, "lt") == 0) {
        return c < 0;
    }
    return strcasecmp(op, "le") == 0 && c <= 0;
}

/* The identifier of type attr among a record's identifier lists; UIN also names CHFID (the
 * registry facade's rule: openIMIS's CHFID is its unique id). */
static const struct igw_node *
identifier_of(const struct igw_node *rec, const char *attr)
{
    static const char *const lists[] = {"identifier", "member_identifier", "group_identifier"};
    for (size_t i = 0; i < IGW_ARRAY_LEN(lists); i++) {
        const struct igw_node *l = dci_mem(rec, lists[i]);
        for (const struct igw_node *it = l != NULL && l->type == IGW_NODE_ARRAY ? l->first : NULL;
             it != NULL; it = it->next) {
            const char *t = dci_str_of(it, "identifier_type", "");
            if (strcasecmp(t, attr) == 0 ||
                (strcasecmp(attr, "UIN") == 0 && strcasecmp(t, "CHFID") == 0)) {
                return dci_mem(it, "identifier_value");
            }
        }
    }
    return NULL;
}

static const struct igw_node *
attr_in(const struct igw_node *rec, const char *attr)
{
    const struct igw_node *v = identifier_of(rec, attr);

    if (v != NULL) {
        return v;
    }
    if (strcasecmp(attr, "surname") == 0 || strcasecmp(attr, "last_name") == 0) {
        return dci_mem(dci_mem(rec, "name"), "surname");
    }
    if (strcasecmp(attr, "given_name") == 0 || strcasecmp(attr, "first_name") == 0) {
        return dci_mem(dci_mem(rec, "name"), "given_name");
    }
    return dci_mem(rec, attr);
}

static const struct igw_node *
attr_of(const struct igw_node *rec, const char *attr)
{
    const struct igw_node *v = attr_in(rec, attr);
    if (v == NULL) {
        v = attr_in(dci_mem(rec, "demographic_info"), attr); /* a Member's person */
    }
    if (v == NULL) {
        v = attr_in(dci_mem(dci_mem(rec, "group_head_info"), "demographic_info"), attr);
    }
    return v;
}

/* ---- the filter --------------------------------------------------------------------------- */

struct eval {
    const struct igw_node *rec;
    bool all; /* every condition so far held */
};

/* One condition of the walk (dci_cond_fn): in holds when any value is equal; ne when the
 * record's value is not equal (or absent). */
static int
cond(void *arg, const char *attr, const char *op, const struct igw_node *const *vals, size_t n,
     const char **why)
{
    struct eval *e = arg;
    const struct igw_node *have = attr_of(e->rec, attr);
    bool holds = false;

    IGW_UNUSED(why);
    if (strcasecmp(op, "in") == 0) {
        for (size_t i = 0; !holds && i < n; i++) {
            holds = op_holds(have, "eq", vals[i]);
        }
    } else if (strcasecmp(op, "ne") == 0) {
        holds = !op_holds(have, "eq", vals[0]);
    } else {
        holds = op_holds(have, op, vals[0]);
    }
    if (!holds) {
        e->all = false;
    }
    return IGW_OK;
}

bool
dci_notify_filter(const struct igw_node *sub, const struct igw_node *record)
{
    const struct igw_node *filter = dci_mem(sub, "filter");
    const char *why = NULL;
    struct eval e = {record, true};
    /* dci_query_walk reads {query_type, query}: the subscription's {filter_type, filter} */
    struct igw_node crit, qt, q;

    if (filter == NULL || filter->type == IGW_NODE_NULL) {
        return true;
    }
    memset(&crit, 0, sizeof(crit));
    memset(&qt, 0, sizeof(qt));
    crit.type = IGW_NODE_OBJECT;
    qt.type = IGW_NODE_STRING;
    qt.str = dci_str_of(sub, "filter_type", "");
    qt.len = (uint32_t)strlen(qt.str);
    q = *filter;
    q.next = NULL;
    q.parent = &crit;
    igw_node_link(&crit, "query_type", 10, &qt);
    igw_node_link(&crit, "query", 5, &q);
    if (dci_query_walk(&crit, cond, &e, &why) != IGW_OK) {
        return false; /* what the walk refuses (query text, an or across attributes, not in):
                       * a filter igw cannot evaluate matches nothing */
    }
    return e.all;
}

/* ---- a subscription ----------------------------------------------------------------------- */

/* The part of an event type after its last ':' ("spdci:RegistryEventType:UPDATE"). */
static const char *
tail(const char *s)
{
    const char *c = strrchr(s, ':');
    return c != NULL ? c + 1 : s;
}

static bool
same_or_absent(const struct igw_node *sub, const char *key, const char *want)
{
    const struct igw_node *n = dci_mem(sub, key);
    if (n == NULL || n->type == IGW_NODE_NULL) {
        return true;
    }
    return n->type == IGW_NODE_STRING && strcasecmp(n->str, want) == 0;
}

bool
dci_notify_match(const struct dci_notify_want *want, const struct igw_node *sub,
                 const struct igw_node *record, int64_t now_s)
{
    const struct igw_node *ev, *start;

    if (sub == NULL || record == NULL ||
        strcmp(dci_str_of(sub, "partner", ""), want->subscriber) != 0 ||
        !same_or_absent(sub, "notify_record_type", want->record_type) ||
        !same_or_absent(sub, "reg_type", want->reg_type)) {
        return false;
    }
    ev = dci_mem(sub, "reg_event_type");
    if (ev != NULL && ev->type == IGW_NODE_STRING && strcasecmp(ev->str, "ALL") != 0 &&
        strcmp(ev->str, "*") != 0 && strcasecmp(tail(ev->str), tail(want->event)) != 0) {
        return false;
    }
    start = dci_mem(dci_mem(sub, "frequency"), "start_time");
    if (start != NULL && start->type == IGW_NODE_STRING) {
        int64_t t = dci_subs_time(start->str);
        if (t > now_s) {
            return false;
        }
    }
    return dci_notify_filter(sub, record);
}
