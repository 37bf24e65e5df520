/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DCI subscription store (dci_subs.h; docs/DCI.md, "Subscriptions"): one LMDB environment
 * (a single unnamed database keyed by code), shared per directory within the process.
 */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "igw/common.h"
#include "igw/err.h"
#include "igw/json.h"
#include "dialect/dci/dci_subs.h"

#define SUBS_MAP_SIZE (256u * 1024u * 1024u) /* address space reserved, not disk used */
#define SUBS_PARSE_LIMIT (8u * 1024u * 1024u)

struct dci_subs {
    struct dci_subs *next;
    char *dir;
    unsigned refs;
    MDB_env *env;
    MDB_dbi dbi;
};

static pthread_mutex_t subs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dci_subs *subs_all;

static const struct igw_node *
mem(const struct igw_node *obj, const char *key)
{
    return obj != NULL ? igw_node_get(obj, key, strlen(key)) : NULL;
}

static const char *
str_of(const struct igw_node *obj, const char *key, const char *dflt)
{
    const struct igw_node *n = mem(obj, key);
    return n != NULL && n->type == IGW_NODE_STRING ? n->str : dflt;
}

/* An MDB_val over a key igw keeps const (LMDB never writes through a key). */
static MDB_val
key_of(const char *code)
{
    MDB_val k;
    union {
        const char *c;
        void *v;
    } u = {.c = code};
    k.mv_size = strlen(code);
    k.mv_data = u.v;
    return k;
}

static int
env_open(struct dci_subs *s, char *err, size_t errlen)
{
    MDB_txn *txn = NULL;
    int rc;

    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        igw_errbuf_set(err, errlen, "dci-subscriptions: mkdir %s: %s", s->dir, strerror(errno));
        return IGW_EIO;
    }
    rc = mdb_env_create(&s->env);
    rc = rc == 0 ? mdb_env_set_mapsize(s->env, SUBS_MAP_SIZE) : rc;
    rc = rc == 0 ? mdb_env_open(s->env, s->dir, MDB_NOTLS, 0600) : rc;
    rc = rc == 0 ? mdb_txn_begin(s->env, NULL, 0, &txn) : rc;
    rc = rc == 0 ? mdb_dbi_open(txn, NULL, 0, &s->dbi) : rc;
    rc = rc == 0 ? mdb_txn_commit(txn) : (txn != NULL ? (mdb_txn_abort(txn), rc) : rc);
    if (rc != 0) {
        igw_errbuf_set(err, errlen, "dci-subscriptions: %s: %s", s->dir, mdb_strerror(rc));
        if (s->env != NULL) {
            mdb_env_close(s->env);
            s->env = NULL;
        }
        return IGW_EIO;
    }
    return IGW_OK;
}

int
dci_subs_open(const char *dir, dci_subs **out, char *err, size_t errlen)
{
    struct dci_subs *s;
    int rv = IGW_OK;

    *out = NULL;
    pthread_mutex_lock(&subs_mu);
    for (s = subs_all; s != NULL && strcmp(s->dir, dir) != 0; s = s->next) {
    }
    if (s == NULL) {
        s = igw_calloc(1, sizeof(*s));
        if (s == NULL || (s->dir = igw_strdup(dir)) == NULL) {
            igw_free(s);
            pthread_mutex_unlock(&subs_mu);
            return IGW_ENOMEM;
        }
        rv = env_open(s, err, errlen);
        if (rv != IGW_OK) {
            igw_free(s->dir);
            igw_free(s);
            pthread_mutex_unlock(&subs_mu);
            return rv;
        }
        s->next = subs_all;
        subs_all = s;
    }
    s->refs++;
    pthread_mutex_unlock(&subs_mu);
    *out = s;
    return IGW_OK;
}

void
dci_subs_close(dci_subs *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&subs_mu);
    if (--s->refs == 0) {
        struct dci_subs **pp = &subs_all;
        while (*pp != s) {
            pp = &(*pp)->next;
        }
        *pp = s->next;
        mdb_env_close(s->env);
        igw_free(s->dir);
        igw_free(s);
    }
    pthread_mutex_unlock(&subs_mu);
}

int
dci_subs_code(const char *sender, const char *mid, const char *ref, char out[37])
{
    /* RFC 4122 uuid5 in the URL namespace 6ba7b811-9dad-11d1-80b4-00c04fd430c8 */
    static const unsigned char ns[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                         0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(c, ns, sizeof(ns)) == 1 &&
             EVP_DigestUpdate(c, sender, strlen(sender)) == 1 &&
             EVP_DigestUpdate(c, "\n", 1) == 1 && EVP_DigestUpdate(c, mid, strlen(mid)) == 1 &&
             EVP_DigestUpdate(c, "\n", 1) == 1 && EVP_DigestUpdate(c, ref, strlen(ref)) == 1 &&
             EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen >= 16;
    size_t o = 0;

    EVP_MD_CTX_free(c);
    if (!ok) {
        return IGW_EIO;
    }
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 15];
    }
    out[o] = '\0';
    return IGW_OK;
}

static int
digits(const char *p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        *v = *v * 10 + (p[i] - '0');
    }
    return 0;
}

int64_t
dci_subs_time(const char *iso)
{
    struct tm tm;
    int y, mo, d, h, mi, se, zh = 0, zm = 0, sign = 1;
    const char *p = iso;

    if (iso == NULL || strlen(iso) < 20 || digits(p, 4, &y) || p[4] != '-' ||
        digits(p + 5, 2, &mo) || p[7] != '-' || digits(p + 8, 2, &d) ||
        (p[10] != 'T' && p[10] != 't') || digits(p + 11, 2, &h) || p[13] != ':' ||
        digits(p + 14, 2, &mi) || p[16] != ':' || digits(p + 17, 2, &se)) {
        return -1;
    }
    p += 19;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
        }
    }
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (digits(p + 1, 2, &zh) || (p[3] == ':' ? digits(p + 4, 2, &zm) || p[6] != '\0'
                                                  : digits(p + 3, 2, &zm) || p[5] != '\0')) {
            return -1;
        }
    } else if (!((*p == 'Z' || *p == 'z') && p[1] == '\0')) {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
        return -1;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (int64_t)timegm(&tm) - sign * (int64_t)(zh * 3600 + zm * 60);
}

static int
put_member(struct igw_buf *out, const struct igw_node *obj, const char *key)
{
    const struct igw_node *n = mem(obj, key);
    int rv;

    if (n == NULL) {
        return IGW_OK;
    }
    rv = igw_buf_printf(out, ",\"%s\":", key);
    return rv == IGW_OK ? igw_json_write(n, out, 0) : rv;
}

int
dci_subs_info(const struct igw_node *item, const char *code, const char *partner,
              struct igw_buf *out)
{
    const struct igw_node *c = mem(item, "subscribe_criteria");
    int rv = igw_buf_puts(out, "{\"version\":\"1.0.0\",\"code\":");
    const char *ts = str_of(item, "timestamp", "");

    rv = rv == IGW_OK ? igw_buf_json_str(out, code, strlen(code)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(out, ",\"status\":\"subscribe\",\"timestamp\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(out, ts, strlen(ts)) : rv;
    static const char *const keys[] = {"reg_type",    "reg_event_type", "frequency",
                                       "filter_type", "filter",         "notify_record_type"};
    for (size_t i = 0; i < IGW_ARRAY_LEN(keys) && rv == IGW_OK; i++) {
        rv = put_member(out, c, keys[i]);
    }
    rv = rv == IGW_OK ? put_member(out, item, "locale") : rv;
    if (rv == IGW_OK && partner != NULL) {
        rv = igw_buf_puts(out, ",\"partner\":");
        rv = rv == IGW_OK ? igw_buf_json_str(out, partner, strlen(partner)) : rv;
    }
    return rv == IGW_OK ? igw_buf_putc(out, '}') : rv;
}

static int
put_sub(MDB_txn *txn, MDB_dbi dbi, const struct igw_node *item, const char *sender, const char *mid,
        char *err, size_t errlen)
{
    struct dci_sub_head head;
    struct igw_buf v;
    char code[37];
    MDB_val k, d;
    const char *ref = str_of(item, "reference_id", NULL);
    const char *end = str_of(mem(mem(item, "subscribe_criteria"), "frequency"), "end_time", NULL);
    int64_t end_s = end != NULL ? dci_subs_time(end) : INT64_MAX;
    int rc, rv;

    if (ref == NULL) {
        igw_errbuf_set(err, errlen, "a subscribe_request item has no reference_id");
        return IGW_EINVAL;
    }
    if (dci_subs_code(sender, mid, ref, code) != IGW_OK) {
        igw_errbuf_set(err, errlen, "no SHA-1 for the subscription code");
        return IGW_EIO;
    }
    memset(&head, 0, sizeof(head));
    head.state = 'L';
    head.end_s = end_s < 0 ? INT64_MAX : end_s;
    igw_buf_init(&v, SUBS_PARSE_LIMIT);
    rv = igw_buf_append(&v, &head, sizeof(head));
    rv = rv == IGW_OK ? dci_subs_info(item, code, sender, &v) : rv;
    if (rv != IGW_OK) {
        igw_buf_fini(&v);
        return rv;
    }
    k.mv_data = code;
    k.mv_size = strlen(code);
    d.mv_data = v.ptr;
    d.mv_size = v.len;
    rc = mdb_put(txn, dbi, &k, &d, 0);
    igw_buf_fini(&v);
    if (rc != 0) {
        igw_errbuf_set(err, errlen, "dci-subscriptions: put: %s", mdb_strerror(rc));
        return IGW_EIO;
    }
    return IGW_OK;
}

/* Marks code ended when it is sender's (others are left alone: the on-unsubscribe refuses
 * them). */
static int
end_sub(MDB_txn *txn, MDB_dbi dbi, const char *code, const char *sender, igw_arena *a, char *err,
        size_t errlen)
{
    MDB_val k = key_of(code), d;
    struct igw_node *rec = NULL;
    int rc = mdb_get(txn, dbi, &k, &d);

    if (rc == MDB_NOTFOUND) {
        return IGW_OK;
    }
    if (rc != 0 || d.mv_size < sizeof(struct dci_sub_head)) {
        igw_errbuf_set(err, errlen, "dci-subscriptions: get: %s",
                       rc != 0 ? mdb_strerror(rc) : "short record");
        return IGW_EIO;
    }
    if (igw_json_parse(a, (const char *)d.mv_data + sizeof(struct dci_sub_head),
                       d.mv_size - sizeof(struct dci_sub_head), NULL, &rec, NULL) != IGW_OK ||
        strcmp(str_of(rec, "partner", ""), sender) != 0 || ((const char *)d.mv_data)[0] == 'E') {
        return IGW_OK;
    }
    struct igw_buf v;
    igw_buf_init(&v, SUBS_PARSE_LIMIT);
    if (igw_buf_append(&v, d.mv_data, d.mv_size) != IGW_OK) {
        igw_buf_fini(&v);
        return IGW_ENOMEM;
    }
    v.ptr[0] = 'E';
    d.mv_data = v.ptr;
    rc = mdb_put(txn, dbi, &k, &d, 0);
    igw_buf_fini(&v);
    if (rc != 0) {
        igw_errbuf_set(err, errlen, "dci-subscriptions: put: %s", mdb_strerror(rc));
        return IGW_EIO;
    }
    return IGW_OK;
}

int
dci_subs_apply(dci_subs *s, const char *body, size_t len, char *err, size_t errlen)
{
    igw_arena *a = NULL;
    struct igw_node *doc = NULL;
    MDB_txn *txn = NULL;
    const struct igw_node *h, *msg, *list;
    const char *action, *sender, *mid;
    int rv, rc;

    if (igw_arena_new(&a, SUBS_PARSE_LIMIT) != IGW_OK) {
        return IGW_ENOMEM;
    }
    if (igw_json_parse(a, body, len, NULL, &doc, NULL) != IGW_OK) {
        igw_arena_free(a);
        igw_errbuf_set(err, errlen, "the payload is not JSON");
        return IGW_EINVAL;
    }
    h = mem(doc, "header");
    msg = mem(doc, "message");
    action = str_of(h, "action", "");
    sender = str_of(h, "sender_id", NULL);
    mid = str_of(h, "message_id", NULL);
    bool sub = strcmp(action, "subscribe") == 0;
    list = sub ? mem(msg, "subscribe_request") : mem(msg, "subscription_codes");
    if (sender == NULL || mid == NULL || list == NULL || list->type != IGW_NODE_ARRAY ||
        (!sub && strcmp(action, "unsubscribe") != 0)) {
        igw_arena_free(a);
        igw_errbuf_set(err, errlen, "not a DCI subscribe or unsubscribe envelope");
        return IGW_EINVAL;
    }
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0) {
        igw_arena_free(a);
        igw_errbuf_set(err, errlen, "dci-subscriptions: %s", mdb_strerror(rc));
        return IGW_EIO;
    }
    rv = IGW_OK;
    for (const struct igw_node *it = list->first; it != NULL && rv == IGW_OK; it = it->next) {
        if (sub) {
            rv = put_sub(txn, s->dbi, it, sender, mid, err, errlen);
        } else if (it->type == IGW_NODE_STRING) {
            rv = end_sub(txn, s->dbi, it->str, sender, a, err, errlen);
        }
    }
    if (rv != IGW_OK) {
        mdb_txn_abort(txn);
    } else if ((rc = mdb_txn_commit(txn)) != 0) {
        igw_errbuf_set(err, errlen, "dci-subscriptions: commit: %s", mdb_strerror(rc));
        rv = IGW_EIO;
    }
    igw_arena_free(a);
    return rv;
}

int
dci_subs_get(dci_subs *s, const char *code, struct dci_sub_head *head, struct igw_buf *rec)
{
    MDB_txn *txn = NULL;
    MDB_val k = key_of(code), d;
    int rv = IGW_OK, rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);

    if (rc != 0) {
        return IGW_EIO;
    }
    rc = mdb_get(txn, s->dbi, &k, &d);
    if (rc == MDB_NOTFOUND) {
        rv = IGW_ENOENT;
    } else if (rc != 0 || d.mv_size < sizeof(*head)) {
        rv = IGW_EIO;
    } else {
        memcpy(head, d.mv_data, sizeof(*head));
        rv =
            igw_buf_append(rec, (const char *)d.mv_data + sizeof(*head), d.mv_size - sizeof(*head));
    }
    mdb_txn_abort(txn);
    return rv;
}

int
dci_subs_each(dci_subs *s,
              int (*fn)(void *arg, const char *code, const struct dci_sub_head *head,
                        const char *json, size_t len),
              void *arg)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    char code[128];
    int rv = IGW_OK, rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);

    if (rc != 0 || (rc = mdb_cursor_open(txn, s->dbi, &cur)) != 0) {
        if (txn != NULL) {
            mdb_txn_abort(txn);
        }
        return IGW_EIO;
    }
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0 && rv == IGW_OK;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        struct dci_sub_head head;
        if (d.mv_size < sizeof(head) || k.mv_size >= sizeof(code)) {
            continue;
        }
        memcpy(code, k.mv_data, k.mv_size);
        code[k.mv_size] = '\0';
        memcpy(&head, d.mv_data, sizeof(head));
        rv = fn(arg, code, &head, (const char *)d.mv_data + sizeof(head), d.mv_size - sizeof(head));
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rv;
}

enum dci_sub_status
dci_subs_status(const struct dci_sub_head *head, int64_t now_s)
{
    if (head->state == 'E') {
        return DCI_SUB_ENDED;
    }
    return head->end_s <= now_s ? DCI_SUB_EXPIRED : DCI_SUB_LIVE;
}

const char *
dci_subs_status_name(enum dci_sub_status st)
{
    return st == DCI_SUB_LIVE ? "live" : st == DCI_SUB_EXPIRED ? "expired" : "ended";
}

const char *
dci_subs_dir_of(const struct igw_config *cfg)
{
    static const char scheme[] = "dci-subscriptions:";
    for (size_t i = 0; cfg != NULL && i < cfg->nchannels; i++) {
        const struct igw_channel *ch = &cfg->channels[i];
        for (size_t j = 0; j < ch->nroutes; j++) {
            const char *u = ch->routes[j].url;
            if (u != NULL && strncasecmp(u, scheme, sizeof(scheme) - 1) == 0) {
                return u + sizeof(scheme) - 1;
            }
        }
    }
    return NULL;
}
