/* SPDX-License-Identifier: Apache-2.0 */
/*
 * out_http's route options, declared next to the output (merged into the config loader's
 * table, parsed and documented with the rest: docs/CONFIG.md). They are stored in struct
 * igw_route, which out_http.c reads when it configures a route's easy handles.
 */
#include <stddef.h>

#include "config/config_int.h"
#include "out_http/http_conf.h"

#define RT(f) offsetof(struct igw_route, f)
#define AC(f) offsetof(struct auth_conf, f)

/* clang-format off */
static const struct opt http_opts[] = {
    {S_ROUTE, "method", T_CHOICE, RT(method), 0, "POST", 0, 0, "POST|PUT|PATCH", 0, NULL,
     "choice", 0, "HTTP method for http(s) routes."},
    {S_ROUTE, "headers", T_FN, 0, 0, NULL, 0, 0, NULL, 0, cfg_fn_headers, "map of strings", 0,
     "Extra request headers for http(s) routes."},
    {S_ROUTE, "auth", T_FN, 0, 0, NULL, 0, 0, NULL, S_AUTH_OUT, cfg_fn_auth_out, "section", 0,
     "Credentials igw sends to the destination."},
    {S_ROUTE, "sign", T_CHOICE, RT(sign), 0, "auto", 0, 0, "auto|true|false", 0, NULL,
     "choice", 0,
     "DCI signature of what this route sends (docs/DCI.md, \"Signed deliveries\"): auto signs "
     "on callback:PARTNER routes when partners.PARTNER.sign is true; true signs on any http(s) "
     "route (needs signing.key_file); false never. Signed at delivery time with igw's key over "
     "the exact bytes sent; a payload that already carries a signature (a relayed message) is "
     "sent byte for byte."},
    {S_ROUTE, "answer_from", T_STR, RT(answer_from), 0, NULL, 0, 0, NULL, 0, NULL,
     "channel name", 0,
     "A channel with answer: (dci-search, dci-txn-status) whose mediator answers each payload "
     "at delivery time; its answer is what the route sends (the on-search of an async DCI "
     "search). The mediator's failures (its upstream down, busy, slow) are transient: "
     "retried with the route's backoff, then dead-lettered. Unset: the payload is sent."},
    {S_ROUTE, "tls", T_SECT, 0, 0, NULL, 0, 0, NULL, S_TLS, NULL, "section", 0,
     "TLS settings for https:// routes."},

    {S_TLS, "verify", T_BOOL, RT(tls_verify), 0, "true", 0, 0, NULL, 0, NULL, "boolean", 0,
     "Verify the server certificate and host name (turn off only for tests)."},
    {S_TLS, "ca_file", T_PATH, RT(ca_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "PEM CA bundle, relative to the config file's directory. Unset: the system store."},

    {S_AUTH_OUT, "type", T_CHOICE, AC(type), 0, NULL, 0, 0, "bearer|basic", 0, NULL, "choice",
     F_REQUIRED, "How igw authenticates to the destination."},
    {S_AUTH_OUT, "token_file", T_STR, AC(token_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "File holding the bearer token (first non-comment line), relative to the config file."},
    {S_AUTH_OUT, "token", T_STR, AC(token), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "Inline bearer token (discouraged)."},
    {S_AUTH_OUT, "user_file", T_STR, AC(user_file), 0, NULL, 0, 0, NULL, 0, NULL, "path", 0,
     "File holding one user:password line for basic auth, relative to the config file."},
    {S_AUTH_OUT, "user", T_STR, AC(user), 0, NULL, 0, 0, NULL, 0, NULL, "string", 0,
     "Inline user:password (discouraged)."},
};
/* clang-format on */

const struct igw_output_config_map igw_http_config_map = {http_opts, IGW_ARRAY_LEN(http_opts)};
