/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DCI dialect of a channel (dialect: dci, docs/DCI.md): its ops table, its per-channel
 * state (dci.action and dci.sync resolved into an SPDCI endpoint once at load), which endpoint
 * a request is, and the refusal shapes. The spec answers the transport's own failures (401,
 * 403, 5xx) with HttpErrorResponse {"errors":[{"code","message"}]} and everything else with a
 * Response whose ack_status is ERR; the intake's machine codes map onto the spec's Error codes.
 * The checks are in dci_check.c, the answers in dci_answer.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/err.h"
#include "dialect/dialect.h"
#include "dialect/dci/dci_int.h"

/* ---- channel state ------------------------------------------------------------------------ */

static int
dci_channel_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    const char *a = ch->dci_action != NULL ? ch->dci_action : "auto";
    struct dci_state *st;

    if (ch->input != NULL && strcmp(ch->input, "json") != 0) {
        igw_errbuf_set(err, errlen, "dialect dci needs input: json (DCI messages are JSON)");
        return IGW_ECONFIG;
    }
    st = IGW_NEW(struct dci_state);
    if (st == NULL) {
        return IGW_ENOMEM;
    }
    if (strcmp(a, "auto") != 0) {
        st->ep = igw_dci_endpoint_find(a, ch->dci_sync);
        if (st->ep == NULL) {
            igw_free(st);
            igw_errbuf_set(err, errlen,
                           "dci.sync: action \"%s\" has no synchronous variant (only search "
                           "and txn-status have one)",
                           a);
            return IGW_ECONFIG;
        }
    } else if (ch->dci_sync) {
        igw_free(st);
        igw_errbuf_set(err, errlen,
                       "dci.sync needs a dci.action (search or txn-status); with auto the "
                       "path says it");
        return IGW_ECONFIG;
    }
    *state = st;
    return IGW_OK;
}

static void
dci_channel_fini(void *state)
{
    igw_free(state);
}

/* ---- what a request is -------------------------------------------------------------------- */

const struct igw_dci_endpoint *
dci_endpoint_of(const struct igw_ingest *in)
{
    const struct dci_state *st = in->ch->dialect_state;
    const char *t = in->target != NULL ? in->target : "";
    size_t n = strcspn(t, "?#");
    const struct igw_dci_endpoint *ep;
    struct igw_dci_endpoint_info info;

    if (st != NULL && st->ep != NULL) {
        return st->ep;
    }
    while (n > 1 && t[n - 1] == '/') {
        n--;
    }
    for (size_t i = 0; (ep = igw_dci_endpoint_at(i)) != NULL; i++) {
        size_t pl;
        igw_dci_endpoint_info(ep, &info);
        pl = strlen(info.path);
        if (n >= pl && memcmp(t + n - pl, info.path, pl) == 0) {
            return ep;
        }
    }
    return NULL;
}

void
dci_now(char *out, size_t outlen)
{
    uint64_t ms = igw_now_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm) == 0 || strlen(out) + 6 > outlen) {
        out[0] = '\0';
        return;
    }
    snprintf(out + strlen(out), outlen - strlen(out), ".%03uZ", (unsigned)(ms % 1000u));
}

/* ---- bodies ------------------------------------------------------------------------------- */

static int
put_kv(struct igw_buf *b, const char *key, const char *val, size_t len, bool comma)
{
    int rv = igw_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    return rv == IGW_OK ? igw_buf_json_str(b, val, len) : rv;
}

int
dci_response(struct igw_buf *b, const char *ack, const char *correlation, const char *code,
             const char *message)
{
    char now[40];
    size_t cl = correlation != NULL ? strlen(correlation) : 0;
    int rv;

    dci_now(now, sizeof(now));
    rv = igw_buf_puts(b, "{\"message\":{");
    if (rv == IGW_OK) {
        rv = put_kv(b, "ack_status", ack, strlen(ack), false);
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "timestamp", now, strlen(now), true);
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "correlation_id", cl > 0 ? correlation : "none",
                    cl > 0 ? (cl > DCI_CORR_MAX ? DCI_CORR_MAX : cl) : 4, true);
    }
    if (rv == IGW_OK && code != NULL) {
        rv = igw_buf_puts(b, ",\"error\":{");
        if (rv == IGW_OK) {
            rv = put_kv(b, "code", code, strlen(code), false);
        }
        if (rv == IGW_OK) {
            const char *m = message != NULL ? message : "";
            size_t ml = strlen(m);
            rv = put_kv(b, "message", m, ml > 999 ? 999 : ml, true); /* maxLength 999 */
        }
        if (rv == IGW_OK) {
            rv = igw_buf_putc(b, '}');
        }
    }
    return rv == IGW_OK ? igw_buf_puts(b, "}}") : rv;
}

int
dci_http_errors(struct igw_buf *b, const char *code, const char *message)
{
    int rv = igw_buf_puts(b, "{\"errors\":[{");
    if (rv == IGW_OK) {
        rv = put_kv(b, "code", code, strlen(code), false);
    }
    if (rv == IGW_OK) {
        rv = put_kv(b, "message", message != NULL ? message : "",
                    message != NULL ? strlen(message) : 0, true);
    }
    return rv == IGW_OK ? igw_buf_puts(b, "}]}") : rv;
}

/* The spec's Error.code for an intake refusal. */
static const char *
error_code(int status, const char *code)
{
    switch (status) {
    case 401:
        return "err.request.unauthorized";
    case 403:
        return "err.request.forbidden";
    case 404:
        return "err.request.not_found";
    case 408:
        return "err.request.timeout";
    case 429:
        return "err.request.too_many_requests";
    default:
        break;
    }
    if (code != NULL && strstr(code, "signature") != NULL) {
        return strstr(code, "missing") != NULL ? "err.signature.missing" : "err.signature.invalid";
    }
    return status >= 500 ? "err.service.unavailable" : "err.request.bad";
}

static int
dci_refusal(const struct igw_channel *ch, struct igw_buf *b, int status, const char *code,
            const char *message, const char **content_type)
{
    char msg[IGW_ERRBUF_SIZE + 64];
    const char *ec = error_code(status, code);

    IGW_UNUSED(ch);
    *content_type = DCI_CT;
    /* the intake's machine code ("payload_too_large") stays visible in the message */
    snprintf(msg, sizeof(msg), "%s: %s", code != NULL ? code : "error",
             message != NULL ? message : "");
    if (status == 401 || status == 403 || status >= 500) {
        return dci_http_errors(b, ec, msg);
    }
    return dci_response(b, "ERR", NULL, ec, msg);
}

const struct igw_dialect_ops igw_dialect_dci = {
    .name = "dci",
    .description = "SPDCI 1.0.0 registry/SP-MIS endpoint: checked envelopes, DCI Responses "
                   "(ACK/NACK/ERR) and error codes",
    .options = "dci",
    .channel_init = dci_channel_init,
    .channel_fini = dci_channel_fini,
    .message_key = dci_message_key,
    .check_input = dci_check_input,
    .answer = dci_answer,
    .refusal = dci_refusal,
};
