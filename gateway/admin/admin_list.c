/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /admin/messages (admin_int.h, docs/ADMIN-API.md "Listing"): the query string's filters
 * (percent-decoded) into a struct igw_queue_filter, one igw_queue_list call, and a summary per
 * message with its deliveries. Also the JSON filter of the bulk endpoints (cJSON, Debian's
 * libcjson, which the gateway already links for out_file).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/log.h"
#include "admin/admin_int.h"

#define LIST_DEFAULT 50

const char *
admin_state_name(enum igw_delivery_state s)
{
    switch (s) {
    case IGW_DS_PENDING:
        return "pending";
    case IGW_DS_INFLIGHT:
        return "inflight";
    case IGW_DS_DELIVERED:
        return "delivered";
    case IGW_DS_DEAD:
        return "dead";
    }
    return "unknown";
}

/* "pending".."dead" -> state, "any" (or NULL) -> 0; false for anything else. */
static bool
state_parse(const char *s, enum igw_delivery_state *out)
{
    static const char *const names[] = {"pending", "inflight", "delivered", "dead"};

    *out = 0;
    if (s == NULL || strcmp(s, "any") == 0) {
        return true;
    }
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum igw_delivery_state)(i + 1);
            return true;
        }
    }
    return false;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The percent-decoded value of parameter name in query (NUL-terminated into out, *len bytes,
 * may contain NUL bytes). @return 1 found, 0 absent, -1 too long or a bad escape. */
static int
query_get(const char *query, const char *name, char *out, size_t max, size_t *len)
{
    size_t nlen = strlen(name);

    for (const char *p = query; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, "&");
        if (n > nlen && p[nlen] == '=' && memcmp(p, name, nlen) == 0) {
            size_t o = 0;
            for (size_t i = nlen + 1; i < n; i++) {
                int c = (unsigned char)p[i];
                if (c == '%') {
                    int h = i + 2 < n ? hexval(p[i + 1]) : -1;
                    int l = h >= 0 ? hexval(p[i + 2]) : -1;
                    if (l < 0) {
                        return -1;
                    }
                    c = h * 16 + l;
                    i += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                if (o >= max) {
                    return -1;
                }
                out[o++] = (char)c;
            }
            out[o] = '\0';
            *len = o;
            return 1;
        }
        p = p[n] == '&' ? p + n + 1 : NULL;
    }
    return 0;
}

static bool
u64_parse(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

static bool
name_ok(const char *s, size_t n)
{
    return n > 0 && n <= IGW_QUEUE_NAME_MAX && memchr(s, '\0', n) == NULL;
}

/* The query's filters into *af, *limit and *before; false with *msg on a bad parameter. */
static bool
filter_query(const char *query, struct admin_filter *af, unsigned *limit, uint64_t *before,
             const char **msg)
{
    char v[ADMIN_QUERY_MAX + 1];
    size_t n = 0;
    uint64_t u;
    int r;

    memset(af, 0, sizeof(*af));
    *limit = LIST_DEFAULT;
    *before = 0;
    *msg = NULL;
    if ((r = query_get(query, "channel", af->channel, IGW_QUEUE_NAME_MAX, &n)) != 0) {
        af->f.channel = af->channel;
        *msg = r < 0 || !name_ok(af->channel, n) ? "channel must be a channel name" : NULL;
    }
    if (*msg == NULL && (r = query_get(query, "route", af->route, IGW_QUEUE_NAME_MAX, &n)) != 0) {
        af->f.route = af->route;
        *msg = r < 0 || !name_ok(af->route, n) ? "route must be a full route name" : NULL;
    }
    if (*msg == NULL && (r = query_get(query, "state", v, 16, &n)) != 0) {
        *msg = r < 0 || !state_parse(v, &af->f.state)
                   ? "state is one of pending, inflight, delivered, dead, any"
                   : NULL;
    }
    if (*msg == NULL && (r = query_get(query, "since", v, 20, &n)) != 0) {
        *msg = r < 0 || !u64_parse(v, &af->f.since_ms) ? "since is Unix milliseconds" : NULL;
    }
    if (*msg == NULL && (r = query_get(query, "until", v, 20, &n)) != 0) {
        *msg = r < 0 || !u64_parse(v, &af->f.until_ms) ? "until is Unix milliseconds" : NULL;
    }
    if (*msg == NULL &&
        (r = query_get(query, "order_key", af->order_key, IGW_QUEUE_ORDER_KEY_MAX, &n)) != 0) {
        af->f.order_key = af->order_key;
        af->f.order_key_len = n;
        *msg = r < 0 ? "order_key is at most 256 bytes" : NULL;
    }
    if (*msg == NULL &&
        (r = query_get(query, "idempotency_key", af->idem_key, IGW_QUEUE_IDEM_KEY_MAX, &n)) != 0) {
        af->f.idem_key = af->idem_key;
        af->f.idem_key_len = n;
        *msg = r < 0 || n == 0         ? "idempotency_key is 1 to 256 bytes"
               : af->f.channel == NULL ? "idempotency_key needs channel"
                                       : NULL;
    }
    if (*msg == NULL && (r = query_get(query, "q", af->text, sizeof(af->text) - 1, &n)) != 0) {
        af->f.text = af->text;
        af->f.text_len = n;
        *msg = r < 0 || n == 0 ? "q is 1 to 256 bytes" : NULL;
    }
    if (*msg == NULL && (r = query_get(query, "limit", v, 8, &n)) != 0) {
        *msg =
            r < 0 || !u64_parse(v, &u) || u < 1 || u > ADMIN_LIST_MAX ? "limit is 1 to 500" : NULL;
        *limit = *msg == NULL ? (unsigned)u : *limit;
    }
    if (*msg == NULL && (r = query_get(query, "cursor", v, 32, &n)) != 0) {
        *msg = r < 0 || igw_queue_id_parse(v, before) != IGW_OK ? "cursor is not a cursor of "
                                                                  "this API"
                                                                : NULL;
    }
    return *msg == NULL;
}

/* ---- JSON filter (bulk) ------------------------------------------------------------------ */

static bool
json_str(const cJSON *o, const char *key, char *out, size_t max, size_t *len, bool *present,
         bool *bad)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    size_t n;

    *present = false;
    if (it == NULL || cJSON_IsNull(it)) {
        return false;
    }
    if (!cJSON_IsString(it) || (n = strlen(it->valuestring)) > max) {
        *bad = true;
        return false;
    }
    memcpy(out, it->valuestring, n + 1);
    *len = n;
    *present = true;
    return true;
}

static bool
json_u64(const cJSON *o, const char *key, uint64_t *out, bool *bad)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

    if (it == NULL || cJSON_IsNull(it)) {
        return false;
    }
    if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 9.0e15) {
        *bad = true;
        return false;
    }
    *out = (uint64_t)it->valuedouble;
    return true;
}

bool
admin_filter_json(const void *json, struct admin_filter *af, const char **msg)
{
    const cJSON *o = json;
    char st[16];
    size_t n = 0;
    bool p = false;
    bool bad = false;

    memset(af, 0, sizeof(*af));
    *msg = NULL;
    if (o == NULL) {
        return true;
    }
    if (!cJSON_IsObject(o)) {
        *msg = "filter must be an object";
        return false;
    }
    if (json_str(o, "channel", af->channel, IGW_QUEUE_NAME_MAX, &n, &p, &bad)) {
        af->f.channel = af->channel;
        bad = bad || !name_ok(af->channel, n);
    }
    if (json_str(o, "route", af->route, IGW_QUEUE_NAME_MAX, &n, &p, &bad)) {
        af->f.route = af->route;
        bad = bad || !name_ok(af->route, n);
    }
    if (json_str(o, "state", st, sizeof(st) - 1, &n, &p, &bad)) {
        bad = bad || !state_parse(st, &af->f.state);
    }
    (void)json_u64(o, "since", &af->f.since_ms, &bad);
    (void)json_u64(o, "until", &af->f.until_ms, &bad);
    if (json_str(o, "order_key", af->order_key, IGW_QUEUE_ORDER_KEY_MAX, &n, &p, &bad)) {
        af->f.order_key = af->order_key;
        af->f.order_key_len = n;
    }
    if (json_str(o, "idempotency_key", af->idem_key, IGW_QUEUE_IDEM_KEY_MAX, &n, &p, &bad)) {
        af->f.idem_key = af->idem_key;
        af->f.idem_key_len = n;
        bad = bad || n == 0 || af->f.channel == NULL;
    }
    if (bad) {
        *msg = "filter: channel, route (names), state (pending, inflight, delivered, dead, "
               "any), since, until (Unix ms), order_key, idempotency_key (with channel)";
    }
    return !bad;
}

/* ---- the listing ------------------------------------------------------------------------- */

static int
item_json(igw_admin *a, const struct igw_queue_list_item *it, struct igw_queue_delivery_info *di,
          unsigned maxdi, struct igw_buf *b)
{
    char hex[IGW_QUEUE_ID_STRLEN];
    unsigned n = 0;
    int rv;

    igw_queue_id_format(it->id, hex);
    rv = igw_buf_printf(b, "{\"id\":\"%s\",\"channel\":", hex);
    rv = rv == IGW_OK ? igw_buf_json_str(b, it->channel, strlen(it->channel)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b,
                                       ",\"created_ms\":%llu,\"body_len\":%zu,\"state\":\"%s\","
                                       "\"deliveries\":[",
                                       (unsigned long long)it->created_ms, it->body_len,
                                       admin_state_name(it->state))
                      : rv;
    if (rv == IGW_OK && igw_queue_deliveries(a->q, it->id, di, maxdi, &n) != IGW_OK) {
        n = 0; /* purged meanwhile: listed without deliveries */
    }
    for (unsigned i = 0; rv == IGW_OK && i < n; i++) {
        rv = igw_buf_puts(b, i > 0 ? ",{\"route\":" : "{\"route\":");
        rv = rv == IGW_OK ? igw_buf_json_str(b, di[i].route, strlen(di[i].route)) : rv;
        rv = rv == IGW_OK ? igw_buf_printf(b,
                                           ",\"state\":\"%s\",\"attempts\":%u,"
                                           "\"next_due_ms\":%llu,\"last_status\":%d}",
                                           admin_state_name(di[i].state), (unsigned)di[i].attempts,
                                           (unsigned long long)di[i].next_due_ms, di[i].last_status)
                          : rv;
    }
    return rv == IGW_OK ? igw_buf_puts(b, "]}") : rv;
}

int
admin_op_list(igw_admin *a, const struct admin_job *j, struct igw_buf *b)
{
    struct admin_filter *af = IGW_NEW(struct admin_filter);
    struct igw_queue_list_item *items = NULL;
    struct igw_queue_delivery_info *di = NULL;
    struct igw_queue_list_page pg;
    const char *msg = NULL;
    unsigned limit;
    uint64_t before;
    int rv;

    if (af == NULL) {
        return admin_queue_err(b, IGW_ENOMEM);
    }
    if (!filter_query(j->query, af, &limit, &before, &msg)) {
        igw_free(af);
        return admin_err_json(b, 400, "bad_query", msg, NULL);
    }
    items = igw_calloc(limit, sizeof(*items));
    di = igw_calloc(64, sizeof(*di));
    rv = items == NULL || di == NULL ? IGW_ENOMEM
                                     : igw_queue_list(a->q, &af->f, before, limit, items, &pg);
    rv = rv == IGW_OK ? igw_buf_puts(b, "{\"items\":[") : rv;
    for (unsigned i = 0; rv == IGW_OK && i < pg.n; i++) {
        rv = i > 0 ? igw_buf_putc(b, ',') : IGW_OK;
        rv = rv == IGW_OK ? item_json(a, &items[i], di, 64, b) : rv;
    }
    if (rv == IGW_OK && pg.next != 0) {
        char hex[IGW_QUEUE_ID_STRLEN];
        igw_queue_id_format(pg.next, hex);
        rv = igw_buf_printf(b, "],\"next\":\"%s\"", hex);
    } else if (rv == IGW_OK) {
        rv = igw_buf_puts(b, "],\"next\":null");
    }
    rv = rv == IGW_OK
             ? igw_buf_printf(b, ",\"partial\":%s,\"examined\":%llu}",
                              pg.partial ? "true" : "false", (unsigned long long)pg.examined)
             : rv;
    igw_free(items);
    igw_free(di);
    igw_free(af);
    if (rv == IGW_EINVAL) {
        return admin_err_json(b, 400, "bad_query", "a filter value is not valid", NULL);
    }
    return rv == IGW_OK ? 200 : admin_queue_err(b, rv);
}
