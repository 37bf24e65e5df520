/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plain JSON dialect (dialect: plain, the default): no checks beyond the channel's input
 * format, accepted messages answered 202 {"id","status":"accepted"}, refusals as
 * {"error":{"status","code","message"}} (docs/HTTP-INGEST.md). These are the gateway's own
 * JSON shapes (core/ingest.c), which the core also uses when a request matches no channel.
 */
#include "igw/common.h"
#include "http/http.h"
#include "core/ingest.h"
#include "dialect/dialect.h"

static int
plain_answer(const struct igw_ingest *in, uint64_t id, bool duplicate, struct igw_accept_resp *out)
{
    IGW_UNUSED(in);
    out->status = 202;
    out->content_type = "application/json";
    return igw_http_accept_json(&out->body, id, duplicate);
}

static int
plain_refusal(const struct igw_channel *ch, struct igw_buf *b, int status, const char *code,
              const char *message, const char **content_type)
{
    IGW_UNUSED(ch);
    *content_type = "application/json";
    return igw_http_error_json(b, status, code, message);
}

const struct igw_dialect_ops igw_dialect_plain = {
    .name = "plain",
    .description = "plain JSON: 202 {\"id\",\"status\"} answers, {\"error\":{...}} refusals",
    .tree_free = true, /* plain_answer and plain_refusal read no tree */
    .answer = plain_answer,
    .refusal = plain_refusal,
};
