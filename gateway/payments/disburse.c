/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One g2p: delivery (docs/PAYMENTS.md, 2): the payload is the DisburseRequest of a whole payroll
 * (map openimis-payroll-to-g2p-disburse); it is cut into batches of batch_size in the order of
 * the event, batch k being transaction <payroll uuid>-<k>, and every batch the ledger does not
 * hold as acknowledged is sent, signed, one after the other: its entries are recorded as sent
 * before the request (so a callback that overtakes the ACK is matched), the ACK is recorded
 * (batch acknowledged, fsync'd) before the next batch goes. Runs on a
 * payments thread.
 */
#include <stdio.h>
#include <string.h>

#include "igw/arena.h"
#include "igw/common.h"
#include "igw/decimal.h"
#include "igw/err.h"
#include "igw/json.h"
#include "payments/pay_int.h"
#include "payments/payments.h"

static void
result(struct pay_result *res, enum pay_outcome o, int status, const char *what)
{
    res->outcome = o;
    res->status = status;
    snprintf(res->what, sizeof(res->what), "%s", what);
}

/* The ledger entry of one disbursement item; false when the item lacks what the ledger needs. */
static bool
item_entry(const struct igw_node *it, const char *payroll, struct igw_ledger_entry *e)
{
    const struct igw_node *amt = igw_node_get(it, "amount", 6);

    memset(e, 0, sizeof(*e));
    if (!pay_str(it, "reference_id", e->ref, sizeof(e->ref)) || amt == NULL ||
        (amt->type != IGW_NODE_STRING && amt->type != IGW_NODE_NUMBER) ||
        igw_dec_parse(amt->str, amt->len, &e->amount) != IGW_OK) {
        return false;
    }
    snprintf(e->payroll, sizeof(e->payroll), "%s", payroll);
    (void)pay_str(it, "currency_code", e->currency, sizeof(e->currency));
    (void)pay_str(igw_node_get(it, "meta", 4), "benefit_uuid", e->benefit, sizeof(e->benefit));
    return true;
}

/* The header of batch txn with n items. */
static int
build_header(struct igw_buf *h, const struct igw_node *mh, const struct pay_disburse *d,
             const char *txn, size_t n)
{
    char ts[40], sender[128];
    int rv;

    pay_timestamp(ts, sizeof(ts));
    if (!pay_str(mh, "sender_id", sender, sizeof(sender))) {
        snprintf(sender, sizeof(sender), "igw");
    }
    rv = igw_buf_puts(h, "{\"version\":\"1.0.0\",\"message_id\":");
    rv = rv == IGW_OK ? igw_buf_json_str(h, txn, strlen(txn)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(h, ",\"message_ts\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(h, ts, strlen(ts)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(h, ",\"action\":\"disburse\",\"sender_id\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(h, sender, strlen(sender)) : rv;
    if (rv == IGW_OK && d->sender_uri != NULL) {
        rv = igw_buf_puts(h, ",\"sender_uri\":");
        rv = rv == IGW_OK ? igw_buf_json_str(h, d->sender_uri, strlen(d->sender_uri)) : rv;
    }
    rv = rv == IGW_OK ? igw_buf_puts(h, ",\"receiver_id\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(h, d->partner->name, strlen(d->partner->name)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(h, ",\"total_count\":%zu,\"is_msg_encrypted\":false}", n)
                      : rv;
    return rv;
}

/* The ACK of the payment system: "ACK", or a NACK whose code says it has the batch already. */
static bool
acked(const char *body, size_t len, char *why, size_t whylen)
{
    igw_arena *a = NULL;
    struct igw_node *root = NULL;
    const struct igw_node *m, *st, *er;
    bool ok = false;

    snprintf(why, whylen, "answer is not a G2P ACK");
    if (igw_arena_new(&a, len * 4 + 65536) != IGW_OK) {
        return false;
    }
    if (igw_json_parse(a, body, len, NULL, &root, NULL) == IGW_OK) {
        m = igw_node_get(root, "message", 7);
        st = igw_node_get(m, "ack_status", 10);
        er = igw_node_get(m, "error", 5);
        if (st != NULL && st->type == IGW_NODE_STRING) {
            char code[80] = "";
            (void)pay_str(er, "code", code, sizeof(code));
            if (st->len == 3 && memcmp(st->str, "ACK", 3) == 0) {
                ok = true;
            } else if (strcmp(code, "rjct.reference_id.duplicate") == 0 ||
                       strcmp(code, "rjct.transaction_id.duplicate") == 0 ||
                       strcmp(code, "rjct.message_id.duplicate") == 0) {
                ok = true; /* the payment system has this batch already */
            } else {
                snprintf(why, whylen, "%.*s %s", (int)st->len, st->str, code);
            }
        }
    }
    igw_arena_free(a);
    return ok;
}

/* Sends one batch; res is set on failure. @return true when acknowledged and recorded. */
static bool
send_batch(const struct pay_disburse *d, const struct igw_node *mh, const char *txn,
           const struct igw_node *const *items, size_t n, const char *payroll,
           struct pay_result *res)
{
    struct igw_buf h, m, body, url;
    struct igw_ledger_entry *ents = igw_calloc(n > 0 ? n : 1, sizeof(*ents));
    char err[256] = "", why[160];
    bool ok = false;
    int rv = ents != NULL ? IGW_OK : IGW_ENOMEM;

    igw_buf_init(&h, 64 * 1024);
    igw_buf_init(&m, 64u << 20);
    igw_buf_init(&body, 80u << 20);
    igw_buf_init(&url, 4096);
    rv = rv == IGW_OK ? build_header(&h, mh, d, txn, n) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m, "{\"transaction_id\":") : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(&m, txn, strlen(txn)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(&m, ",\"disbursements\":[") : rv;
    for (size_t i = 0; rv == IGW_OK && i < n; i++) {
        rv = i > 0 ? igw_buf_putc(&m, ',') : IGW_OK;
        rv = rv == IGW_OK ? igw_json_write(items[i], &m, 0) : rv;
        if (rv == IGW_OK && !item_entry(items[i], payroll, &ents[i])) {
            result(res, PAY_FAIL, 0, "a disbursement without reference_id or a valid amount");
            goto out;
        }
    }
    rv = rv == IGW_OK ? igw_buf_puts(&m, "]}") : rv;
    rv = rv == IGW_OK ? pay_envelope(&body, &h, &m, d->partner->sign, err, sizeof(err)) : rv;
    if (rv == IGW_ENOENT) {
        result(res, PAY_FAIL, 0, "the partner has sign: true but igw has no signing.key_file");
        goto out;
    }
    rv = rv == IGW_OK ? pay_partner_url(d->partner, "disburse", &url) : rv;
    if (rv != IGW_OK) {
        snprintf(why, sizeof(why), "cannot build the request: %.32s %.90s", igw_strerror(rv), err);
        /* too large stays too large: dead-letter it (a smaller payments.batch_size helps) */
        result(res, rv == IGW_ETOOBIG ? PAY_FAIL : PAY_TRANSIENT, 0, why);
        goto out;
    }
    /* recorded before the request: a callback that overtakes the ACK finds its entries */
    rv = igw_ledger_record_sent(igw_payments_ledger(), txn, ents, n, igw_now_ms());
    if (rv != IGW_OK) {
        result(res, PAY_TRANSIENT, 0, "ledger write failed");
        goto out;
    }
    {
        struct pay_http p = {.url = url.ptr,
                             .body = body.ptr,
                             .len = body.len,
                             .auth = &d->route->auth,
                             .timeout_ms = d->timeout_ms,
                             .abort = d->abort};
        rv = pay_http_post(&p);
        if (rv != IGW_OK) {
            result(res, PAY_TRANSIENT, 0, p.what[0] != '\0' ? p.what : igw_strerror(rv));
        } else if (p.status >= 500 || p.status == 429 || p.status == 408) {
            snprintf(why, sizeof(why), "HTTP %ld", p.status);
            result(res, PAY_TRANSIENT, (int)p.status, why);
        } else if (p.status < 200 || p.status > 299) {
            snprintf(why, sizeof(why), "HTTP %ld", p.status);
            result(res, PAY_FAIL, (int)p.status, why);
        } else if (!acked(p.resp.ptr, p.resp.len, why, sizeof(why))) {
            result(res, PAY_FAIL, (int)p.status, why);
        } else {
            struct igw_pay_counters *c = igw_payments_counters();
            rv = igw_ledger_batch_ack(igw_payments_ledger(), txn, igw_now_ms());
            if (rv != IGW_OK) {
                /* sent but not recorded: the retry repeats it with the same ids */
                result(res, PAY_TRANSIENT, (int)p.status, "ledger write failed");
            } else {
                atomic_fetch_add(&c->sent, n);
                atomic_fetch_add(&c->batches, 1);
                res->status = (int)p.status;
                ok = true;
            }
        }
        igw_buf_fini(&p.resp);
    }
out:
    igw_free(ents);
    igw_buf_fini(&h);
    igw_buf_fini(&m);
    igw_buf_fini(&body);
    igw_buf_fini(&url);
    return ok;
}

size_t
pay_select(igw_ledger *l, const struct igw_node *list, const char *payroll,
           const struct igw_node **items, uint64_t *skipped)
{
    size_t n = 0;

    *skipped = 0;
    for (const struct igw_node *it = list->first; it != NULL; it = it->next) {
        struct igw_ledger_entry e;
        char ref[IGW_LEDGER_REF_MAX];
        if (pay_str(it, "reference_id", ref, sizeof(ref)) && igw_ledger_get(l, ref, &e) == IGW_OK &&
            strcmp(e.payroll, payroll) != 0) {
            (*skipped)++; /* paid already, in another payroll */
            continue;
        }
        items[n++] = it;
    }
    return n;
}

void
pay_batch_txn(const char *payroll, size_t k, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s-%zu", payroll, k + 1);
}

void
pay_disburse_run(const struct pay_disburse *d, struct pay_result *res)
{
    igw_ledger *l = igw_payments_ledger();
    igw_arena *a = NULL;
    struct igw_node *root = NULL;
    const struct igw_node *mh, *msg, *list;
    const struct igw_node **items = NULL;
    char payroll[IGW_LEDGER_ID_MAX], txn[IGW_LEDGER_TXN_MAX];
    size_t n = 0, batch = d->batch_size > 0 ? d->batch_size : 500;
    uint64_t skipped = 0;

    result(res, PAY_OK, 0, "");
    if (l == NULL) {
        result(res, PAY_TRANSIENT, 0, "payments ledger not open");
        return;
    }
    if (igw_arena_new(&a, d->len * 8 + (1u << 20)) != IGW_OK ||
        igw_json_parse(a, d->payload, d->len, NULL, &root, NULL) != IGW_OK) {
        result(res, PAY_FAIL, 0, "payload is not a DisburseRequest (JSON)");
        goto out;
    }
    mh = igw_node_get(root, "header", 6);
    msg = igw_node_get(root, "message", 7);
    list = igw_node_get(msg, "disbursements", 13);
    if (!pay_str(msg, "transaction_id", payroll, sizeof(payroll)) || list == NULL ||
        list->type != IGW_NODE_ARRAY) {
        result(res, PAY_FAIL, 0, "payload has no message.transaction_id or disbursements");
        goto out;
    }
    items = igw_calloc(list->count > 0 ? list->count : 1, sizeof(*items));
    if (items == NULL) {
        result(res, PAY_TRANSIENT, 0, "out of memory");
        goto out;
    }
    n = pay_select(l, list, payroll, items, &skipped);
    for (size_t k = 0; k * batch < n; k++) {
        size_t cnt = n - k * batch < batch ? n - k * batch : batch;
        bool done = false;

        if (d->abort != NULL && atomic_load(d->abort)) {
            result(res, PAY_TRANSIENT, 0, "stopped");
            break;
        }
        pay_batch_txn(payroll, k, txn, sizeof(txn));
        if (igw_ledger_batch_acked(l, txn, &done) != IGW_OK) {
            result(res, PAY_TRANSIENT, 0, "ledger read failed");
            break;
        }
        if (done) {
            continue; /* acknowledged before a retry, a crash or a replay: never again */
        }
        if (!send_batch(d, mh, txn, items + k * batch, cnt, payroll, res)) {
            break;
        }
    }
    if (skipped > 0 && d->first_attempt) {
        atomic_fetch_add(&igw_payments_counters()->skipped, skipped);
    }
out:
    igw_free(items);
    igw_arena_free(a);
}
