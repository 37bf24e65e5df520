/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the configuration loader (gateway/config/): a valid config, defaults, every error kind
 * with its exact line:column, durations, sizes and secrets files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "igwt.h"

static char tmpdir[256];

/* Creates a fresh directory for files; returns its path. */
static const char *
scratch(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/igw-config-test-XXXXXX");
    IGWT_ASSERT(mkdtemp(tmpdir) != NULL);
    return tmpdir;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    IGWT_ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void
rm_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    IGWT_CHECK(system(cmd) == 0);
}

/* Parses text as if it were DIR/igw.conf. */
static int
parse_in(const char *dir, const char *text, struct igw_config **out, char *err)
{
    char name[512];
    snprintf(name, sizeof(name), "%s/igw.conf", dir);
    return igw_config_parse(out, name, text, strlen(text), err, IGW_ERRBUF_SIZE);
}

/* Expects a config error whose message (after the directory) is want. */
static void
expect_error(const char *text, const char *want)
{
    const char *dir = scratch();
    struct igw_config *cfg = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    size_t dlen = strlen(dir);

    write_file(dir, "ok.tokens", "tok-1\n");
    write_file(dir, "empty.tokens", "# nothing here\n\n");
    IGWT_CHECK(parse_in(dir, text, &cfg, err) == IGW_ECONFIG);
    IGWT_CHECK(cfg == NULL);
    IGWT_CHECK(strncmp(err, dir, dlen) == 0);
    IGWT_STREQ(err + dlen + 1, want);
    rm_dir(dir);
}

static const char valid[] =
    "# example\n"
    "log_level: debug\n"
    "http:\n"
    "  listen: http://127.0.0.1:7400\n"
    "  max_body: 2MiB\n"
    "  max_inflight: 100\n"
    "sp:\n"
    "  listen: ipc:///tmp/igw-test.ipc\n"
    "  publish: ipc:///tmp/igw-test-events.ipc\n"
    "queue:\n"
    "  path: var/q\n"
    "  map_size: 64MiB\n"
    "  max_batch: 32\n"
    "  retain_delivered: 2h\n"
    "  retain_idempotency: 1d\n"
    "channels:\n"
    "  openimis-events:\n"
    "    listen: POST /events/openimis/{event}\n"
    "    auth: { type: bearer, tokens_file: s/in.tokens }\n"
    "    max_body: 256KiB\n"
    "    content_types: [Application/JSON]\n"
    "    routes:\n"
    "      events-file:\n"
    "        url: file://var/out/events.ndjson\n"
    "      fhir:\n"
    "        url: http://127.0.0.1:8080/fhir/Patient\n"
    "        method: PUT\n"
    "        headers: { X-Source: igw }\n"
    "        auth: { type: bearer, token_file: s/out.token }\n"
    "        timeout: 5s\n"
    "        concurrency: 4\n"
    "        retry: { base: 500ms, cap: 1m, max_attempts: 3, max_age: 1h }\n"
    "        ordered_by: json:chfId\n"
    "        circuit: { failures: 7, open_for: 1m }\n"
    "        tls: { verify: false, ca_file: ca.pem }\n"
    "        map: insuree-to-patient\n"
    "        output: json\n"
    "  upload:\n"
    "    listen: PUT /upload/{kind}/{id}\n"
    "    auth: { type: basic, users: ['alice:s3cret'] }\n"
    "    input: xml\n"
    "    routes:\n"
    "      q: { url: 'tcp://127.0.0.1:5555', mode: req, ordered_by: "
    "'param:id' }\n";

static void
check_valid_channel(const struct igw_config *cfg)
{
    const struct igw_channel *ch = &cfg->channels[0];
    IGWT_STREQ(ch->name, "openimis-events");
    IGWT_STREQ(ch->method, "POST");
    IGWT_STREQ(ch->path, "/events/openimis/{event}");
    IGWT_CHECK(ch->auth.type == IGW_AUTH_BEARER);
    IGWT_ASSERT(ch->auth.nsecrets == 2);
    IGWT_STREQ(ch->auth.secrets[0].value, "token-one");
    IGWT_STREQ(ch->auth.secrets[1].value, "token-two");
    IGWT_CHECK(ch->max_body == 256 * 1024);
    IGWT_ASSERT(ch->ncontent_types == 1);
    IGWT_STREQ(ch->content_types[0], "application/json");
    IGWT_STREQ(ch->input, "json");
    IGWT_ASSERT(ch->nroutes == 2);
    IGWT_STREQ(ch->routes[0].name, "openimis-events.events-file");
    IGWT_CHECK(ch->routes[0].kind == IGW_DEST_FILE);
    IGWT_STREQ(ch->routes[0].file_path, "var/out/events.ndjson");
    IGWT_STREQ(ch->routes[0].method, "POST");
    IGWT_CHECK(ch->routes[0].retry.base_ms == 1000 && ch->routes[0].retry.max_attempts == 10);
}

static void
check_valid_route(const struct igw_config *cfg)
{
    const struct igw_route *r = igw_config_route(cfg, "openimis-events.fhir");
    IGWT_ASSERT(r != NULL);
    IGWT_STREQ(r->short_name, "fhir");
    IGWT_CHECK(r->kind == IGW_DEST_HTTP);
    IGWT_STREQ(r->method, "PUT");
    IGWT_ASSERT(r->nheaders == 1);
    IGWT_STREQ(r->headers[0].name, "X-Source");
    IGWT_STREQ(r->headers[0].value, "igw");
    IGWT_CHECK(r->auth.type == IGW_AUTH_BEARER && r->auth.nsecrets == 1);
    IGWT_STREQ(r->auth.secrets[0].value, "out-token");
    IGWT_CHECK(r->timeout_ms == 5000 && r->concurrency == 4);
    IGWT_CHECK(r->retry.base_ms == 500 && r->retry.cap_ms == 60000);
    IGWT_CHECK(r->retry.max_attempts == 3 && r->retry.max_age_ms == 3600000);
    IGWT_CHECK(r->order_src == IGW_ORDER_JSON);
    IGWT_STREQ(r->order_by, "chfId");
    IGWT_CHECK(r->breaker_failures == 7 && r->breaker_open_ms == 60000);
    IGWT_CHECK(!r->tls_verify);
    IGWT_CHECK(r->ca_file != NULL && strstr(r->ca_file, "/ca.pem") != NULL);
    IGWT_STREQ(r->map, "insuree-to-patient");
    IGWT_STREQ(r->output, "json");
    IGWT_CHECK(igw_config_route(cfg, "openimis-events.nope") == NULL);
}

static void
check_valid_second(const struct igw_config *cfg)
{
    const struct igw_channel *ch = &cfg->channels[1];
    const struct igw_route *r = igw_config_route(cfg, "upload.q");
    IGWT_CHECK(ch->auth.type == IGW_AUTH_BASIC && ch->auth.nsecrets == 1);
    IGWT_STREQ(ch->auth.secrets[0].value, "alice:s3cret");
    IGWT_CHECK(ch->max_body == 2 * 1024 * 1024); /* inherits http.max_body */
    IGWT_STREQ(ch->input, "xml");
    IGWT_ASSERT(r != NULL);
    IGWT_CHECK(r->kind == IGW_DEST_NNG && r->nng_mode == IGW_NNG_REQ);
    IGWT_CHECK(r->order_src == IGW_ORDER_PARAM);
    IGWT_STREQ(r->order_by, "id");
}

static void
test_valid(void)
{
    const char *dir = scratch();
    struct igw_config *cfg = NULL;
    char err[IGW_ERRBUF_SIZE] = "";

    {
        char sub[300];
        snprintf(sub, sizeof(sub), "%s/s", dir);
        IGWT_ASSERT(mkdir(sub, 0700) == 0);
    }
    write_file(dir, "s/in.tokens", "# openIMIS tokens\n\n  token-one  \r\ntoken-two\n");
    write_file(dir, "s/out.token", "out-token\nsecond-line-ignored\n");
    IGWT_CHECK(parse_in(dir, valid, &cfg, err) == IGW_OK);
    if (cfg == NULL) {
        fprintf(stderr, "  error: %s\n", err);
        rm_dir(dir);
        IGWT_ASSERT(cfg != NULL);
    }
    IGWT_STREQ(cfg->log_level, "debug");
    IGWT_STREQ(cfg->http_listen, "http://127.0.0.1:7400");
    IGWT_CHECK(cfg->http_max_body == 2 * 1024 * 1024 && cfg->http_max_inflight == 100);
    IGWT_STREQ(cfg->sp_listen, "ipc:///tmp/igw-test.ipc");
    IGWT_STREQ(cfg->pub_listen, "ipc:///tmp/igw-test-events.ipc");
    IGWT_STREQ(cfg->data_dir, "var/q");
    IGWT_CHECK(cfg->map_size == 64ull << 20 && cfg->max_batch == 32);
    IGWT_CHECK(cfg->retain_delivered_ms == 7200000 && cfg->retain_idempotency_ms == 86400000);
    IGWT_ASSERT(cfg->nchannels == 2);
    check_valid_channel(cfg);
    check_valid_route(cfg);
    check_valid_second(cfg);
    igw_config_free(cfg);
    rm_dir(dir);
}

static void
test_defaults(void)
{
    const char *dir = scratch();
    struct igw_config *cfg = NULL;
    char err[IGW_ERRBUF_SIZE] = "";

    IGWT_OK(
        parse_in(dir, "# nothing but defaults\nchannels:\n  a:\n    listen: POST /a\n", &cfg, err));
    IGWT_STREQ(cfg->log_level, "info");
    IGWT_CHECK(cfg->http_listen == NULL && cfg->sp_listen == NULL && cfg->pub_listen == NULL);
    IGWT_CHECK(cfg->http_max_body == 1024 * 1024 && cfg->http_max_inflight == 4096);
    IGWT_STREQ(cfg->data_dir, "var/queue");
    IGWT_CHECK(cfg->map_size == 1ull << 30 && cfg->max_batch == 256);
    IGWT_CHECK(cfg->retain_delivered_ms == 3600000 && cfg->retain_idempotency_ms == 86400000);
    IGWT_CHECK(cfg->deliver_batch == 256);
    IGWT_ASSERT(cfg->nchannels == 1);
    IGWT_CHECK(cfg->channels[0].auth.type == IGW_AUTH_NONE);
    IGWT_CHECK(cfg->channels[0].max_body == 1024 * 1024);
    IGWT_CHECK(cfg->channels[0].ncontent_types == 0 && cfg->channels[0].nroutes == 0);
    igw_config_free(cfg);
    rm_dir(dir);
}

static void
test_route_defaults(void)
{
    const char *dir = scratch();
    struct igw_config *cfg = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    const struct igw_route *r;

    IGWT_OK(parse_in(dir,
                     "channels:\n  c:\n    listen: POST /c\n    routes:\n      r:\n"
                     "        url: https://example.org/x\n",
                     &cfg, err));
    r = igw_config_route(cfg, "c.r");
    IGWT_ASSERT(r != NULL);
    IGWT_CHECK(r->kind == IGW_DEST_HTTP && r->tls_verify && r->ca_file == NULL);
    IGWT_CHECK(r->timeout_ms == 10000 && r->concurrency == 8);
    IGWT_CHECK(r->retry.base_ms == 1000 && r->retry.cap_ms == 600000);
    IGWT_CHECK(r->retry.max_attempts == 10 && r->retry.max_age_ms == 86400000);
    IGWT_CHECK(r->breaker_failures == 5 && r->breaker_open_ms == 30000);
    IGWT_CHECK(r->order_src == IGW_ORDER_NONE && r->map == NULL && r->output == NULL);
    IGWT_CHECK(r->auth.type == IGW_AUTH_NONE && r->nheaders == 0);
    igw_config_free(cfg);
    rm_dir(dir);
}

static void
test_durations_sizes(void)
{
    static const struct {
        const char *dur;
        uint64_t ms;
    } d[] = {{"500ms", 500}, {"1s", 1000}, {"10m", 600000}, {"2h", 7200000}, {"3", 3000}};
    static const struct {
        const char *size;
        uint64_t bytes;
    } s[] = {{"512", 512}, {"64KiB", 65536}, {"1MiB", 1048576}, {"1MB", 1000000}};
    const char *dir = scratch();

    for (size_t i = 0; i < IGW_ARRAY_LEN(d); i++) {
        char text[200];
        struct igw_config *cfg = NULL;
        char err[IGW_ERRBUF_SIZE] = "";
        snprintf(text, sizeof(text), "queue:\n  retain_delivered: %s\n  map_size: 1GiB\n",
                 d[i].dur);
        IGWT_OK(parse_in(dir, text, &cfg, err));
        IGWT_CHECK(cfg->retain_delivered_ms == d[i].ms);
        igw_config_free(cfg);
    }
    for (size_t i = 0; i < IGW_ARRAY_LEN(s); i++) {
        char text[200];
        struct igw_config *cfg = NULL;
        char err[IGW_ERRBUF_SIZE] = "";
        snprintf(text, sizeof(text), "http:\n  max_body: %s\n", s[i].size);
        IGWT_OK(parse_in(dir, text, &cfg, err));
        IGWT_CHECK(cfg->http_max_body == s[i].bytes);
        igw_config_free(cfg);
    }
    rm_dir(dir);
}

static void
test_error_duration(void)
{
    expect_error("channels:\n"
                 "  openimis-events:\n"
                 "    listen: POST /e\n"
                 "    routes:\n"
                 "      sink:\n"
                 "        url: file://out\n"
                 "        retry:\n"
                 "          base: 1x\n",
                 "igw.conf:8:17: channels.openimis-events.routes.sink.retry.base: invalid "
                 "duration \"1x\" (expected e.g. 500ms, 1s, 10m)");
}

static void
test_error_size(void)
{
    expect_error("http:\n  max_body: lots\n",
                 "igw.conf:2:13: http.max_body: invalid size \"lots\" (expected e.g. 512KiB, "
                 "1MiB, 2GiB)");
    expect_error("queue:\n  map_size: 1KiB\n",
                 "igw.conf:2:13: queue.map_size: value \"1KiB\" out of range (65536 bytes to "
                 "1099511627776 bytes)");
}

static void
test_error_number_bool_choice(void)
{
    expect_error("http:\n  max_inflight: -3\n",
                 "igw.conf:2:17: http.max_inflight: invalid number \"-3\" (expected an integer "
                 "from 1 to 1000000)");
    expect_error("log_level: loud\n",
                 "igw.conf:1:12: log_level: invalid value \"loud\" (expected one of: "
                 "debug|info|warn|error)");
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r:\n        url: "
                 "https://x\n        tls: { verify: maybe }\n",
                 "igw.conf:7:24: channels.c.routes.r.tls.verify: invalid boolean \"maybe\" "
                 "(expected true or false)");
}

static void
test_error_unknown_key(void)
{
    expect_error("http:\n  listen: http://127.0.0.1:1\n  max_bdy: 1MiB\n",
                 "igw.conf:3:3: http: unknown option \"max_bdy\" (did you mean \"max_body\"?)");
    expect_error("colour: blue\n", "igw.conf:1:1: unknown option \"colour\"");
    expect_error("http:\n  max_body: 1MiB\n  max_body: 2MiB\n",
                 "igw.conf:3:3: http: option \"max_body\" given twice");
}

static void
test_error_structure(void)
{
    expect_error("http: [1, 2]\n",
                 "igw.conf:1:7: http: expected a mapping (key: value lines), got a list");
    expect_error("http:\n  listen: [a]\n",
                 "igw.conf:2:11: http.listen: expected a single value, got a list");
    expect_error("http:\n  listen: \"a\n", "igw.conf:3:1: YAML syntax error: found unexpected end "
                                           "of stream while scanning a quoted scalar");
    expect_error("", "igw.conf:1:1: the configuration is empty");
    expect_error("channels:\n  c:\n    auth: { type: none }\n",
                 "igw.conf:3:5: channels.c: missing required option \"listen\"");
    expect_error("channels:\n  a:\n  b:\n    listen: POST /b\n",
                 "igw.conf:2:5: channels.a: missing required option \"listen\"");
    expect_error("channels:\n  bad.name:\n    listen: POST /c\n",
                 "igw.conf:2:3: channels: invalid channel name \"bad.name\" (use letters, "
                 "digits, '_' and '-')");
}

static void
test_error_listen(void)
{
    expect_error("channels:\n  c:\n    listen: TRACE /c\n",
                 "igw.conf:3:13: channels.c.listen: method \"TRACE\" not supported (expected "
                 "POST, PUT, PATCH, GET or DELETE)");
    expect_error("channels:\n  c:\n    listen: GET /c\n",
                 "igw.conf:3:13: channels.c.listen: a GET channel needs an answer: mediator");
    expect_error("channels:\n  c:\n    listen: POST /a//b\n",
                 "igw.conf:3:13: channels.c.listen: invalid path pattern \"/a//b\": empty path "
                 "segment");
    expect_error("channels:\n  a:\n    listen: POST /x/{id}\n  b:\n    listen: POST /x/{other}\n",
                 "igw.conf:5:13: channels.b.listen: \"POST /x/{other}\" is already the path of "
                 "channel \"a\"");
}

static void
test_error_url(void)
{
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r: { url: "
                 "ftp://x/y }\n",
                 "igw.conf:5:17: channels.c.routes.r.url: unsupported URL \"ftp://x/y\" "
                 "(expected http://, https://, callback:, file://, tcp://, ipc://, g2p:, "
                 "g2p-ledger: or dci-subscriptions:)");
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r: { url: "
                 "http:///x }\n",
                 "igw.conf:5:17: channels.c.routes.r.url: URL has no host");
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r: { method: PUT }\n",
                 "igw.conf:5:10: channels.c.routes.r: missing required option \"url\"");
    expect_error("sp:\n  publish: tcp://127.0.0.1:5555@\n",
                 "igw.conf:2:12: sp.publish: invalid address \"tcp://127.0.0.1:5555@\" (expected "
                 "e.g. tcp://127.0.0.1:5555, ipc://var/igw.ipc or http://127.0.0.1:7400)");
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r: { url: "
                 "'tcp://h:1@' }\n",
                 "igw.conf:5:17: channels.c.routes.r.url: invalid address (expected e.g. "
                 "tcp://127.0.0.1:5555 or ipc://var/out.ipc)");
    expect_error("http:\n  listen: tcp://127.0.0.1:80\n",
                 "igw.conf:2:11: http: listen must be http://HOST:PORT or https://HOST:PORT");
}

static void
test_error_limits(void)
{
    expect_error("http:\n  max_body: 64KiB\nchannels:\n  c:\n    listen: POST /c\n"
                 "    max_body: 1MiB\n",
                 "igw.conf:6:15: channels.c.max_body: 1048576 bytes exceeds http.max_body (65536 "
                 "bytes)");
    expect_error("channels:\n  c:\n    listen: POST /c/{a}\n    routes:\n      r:\n"
                 "        url: file://x\n        ordered_by: param:b\n",
                 "igw.conf:7:21: channels.c.routes.r.ordered_by: channel path \"/c/{a}\" has no "
                 "{b} parameter");
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r:\n"
                 "        url: file://x\n        retry: { base: 1m, cap: 1s }\n",
                 "igw.conf:7:33: channels.c.routes.r.retry.cap: cap (1000 ms) is shorter than "
                 "base (60000 ms)");
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r:\n"
                 "        url: file://x\n        ordered_by: body:x\n",
                 "igw.conf:7:21: channels.c.routes.r.ordered_by: invalid key source \"body:x\" "
                 "(expected header:NAME, json:a.b.c or param:NAME)");
}

static void
test_error_secrets(void)
{
    expect_error("channels:\n  c:\n    listen: POST /c\n    auth:\n      type: bearer\n"
                 "      tokens_file: missing.tokens\n",
                 "igw.conf:6:20: channels.c.auth.tokens_file: cannot read secrets file "
                 "\"missing.tokens\" (No such file or directory)");
    expect_error("channels:\n  c:\n    listen: POST /c\n    auth:\n      type: bearer\n"
                 "      tokens_file: empty.tokens\n",
                 "igw.conf:6:20: channels.c.auth.tokens_file: secrets file \"empty.tokens\" "
                 "holds no tokens");
    expect_error("channels:\n  c:\n    listen: POST /c\n    auth: { tokens_file: ok.tokens }\n",
                 "igw.conf:4:11: channels.c.auth: credentials given but type is none (set type: "
                 "bearer or basic)");
    expect_error("channels:\n  c:\n    listen: POST /c\n    auth: { type: basic }\n",
                 "igw.conf:4:11: channels.c.auth: type basic needs users_file or users");
    expect_error("channels:\n  c:\n    listen: POST /c\n    auth: { type: basic, users: [bob] "
                 "}\n",
                 "igw.conf:4:33: channels.c.auth.users: entry 1: invalid user:password entry");
}

static void
test_secrets_file_ok(void)
{
    const char *dir = scratch();
    struct igw_config *cfg = NULL;
    char err[IGW_ERRBUF_SIZE] = "";

    write_file(dir, "u.txt", "# users\nalice:pw one\n\n bob:x \n");
    IGWT_OK(parse_in(dir,
                     "channels:\n  c:\n    listen: POST /c\n    auth: { type: basic, users_file: "
                     "u.txt, users: ['carol:c'] }\n",
                     &cfg, err));
    IGWT_ASSERT(cfg->channels[0].auth.nsecrets == 3);
    IGWT_STREQ(cfg->channels[0].auth.secrets[0].value, "alice:pw one");
    IGWT_STREQ(cfg->channels[0].auth.secrets[1].value, "bob:x");
    IGWT_STREQ(cfg->channels[0].auth.secrets[2].value, "carol:c");
    IGWT_CHECK(cfg->channels[0].auth.secrets[1].len == 5);
    igw_config_free(cfg);
    rm_dir(dir);
}

static void
test_load_file(void)
{
    const char *dir = scratch();
    struct igw_config *cfg = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    char path[512];

    write_file(dir, "igw.conf", "log_level: warn\n");
    snprintf(path, sizeof(path), "%s/igw.conf", dir);
    IGWT_OK(igw_config_load(&cfg, path, err, sizeof(err)));
    IGWT_STREQ(cfg->log_level, "warn");
    IGWT_STREQ(cfg->file, path);
    igw_config_free(cfg);
    snprintf(path, sizeof(path), "%s/nope.conf", dir);
    IGWT_ERR(igw_config_load(&cfg, path, err, sizeof(err)), IGW_EIO);
    IGWT_CHECK(strstr(err, "nope.conf: cannot read") != NULL);
    rm_dir(dir);
}

/* Every allocation failure is reported as IGW_ENOMEM, never a crash or a leak (ASan). */
static void
test_out_of_memory(void)
{
    const char *dir = scratch();
    char sub[300];
    int rv = IGW_ENOMEM;

    snprintf(sub, sizeof(sub), "%s/s", dir);
    IGWT_ASSERT(mkdir(sub, 0700) == 0);
    write_file(dir, "s/in.tokens", "t1\n");
    write_file(dir, "s/out.token", "t2\n");
    for (long n = 0; rv == IGW_ENOMEM && n < 100000; n++) {
        struct igw_config *cfg = NULL;
        char err[IGW_ERRBUF_SIZE] = "";
        igw_alloc_fail_after(n);
        rv = parse_in(dir, valid, &cfg, err);
        igw_alloc_fail_after(-1);
        IGWT_CHECK(rv == IGW_OK || rv == IGW_ENOMEM);
        igw_config_free(cfg);
    }
    IGWT_CHECK(rv == IGW_OK);
    rm_dir(dir);
}

/* route options answer_from and sign (config_partners.c): what serve would refuse */
static void
test_error_answer_from_sign(void)
{
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r: { url: "
                 "\"http://127.0.0.1:9/x\", answer_from: nosuch }\n",
                 "igw.conf:5:54: route c.r: answer_from: no channel named nosuch");
    expect_error("channels:\n  d:\n    listen: POST /d\n  c:\n    listen: POST /c\n    "
                 "routes:\n      r: { url: \"http://127.0.0.1:9/x\", answer_from: d }\n",
                 "igw.conf:7:54: route c.r: answer_from: channel d is not answered by a mediator "
                 "that answers (answer: dci-search, dci-txn-status ...)");
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r: { url: "
                 "\"http://127.0.0.1:9/x\", sign: true }\n",
                 "igw.conf:5:47: route c.r: sign: true needs signing.key_file");
    expect_error("channels:\n  c:\n    listen: POST /c\n    routes:\n      r: { url: "
                 "\"file:///tmp/x\", sign: true }\n",
                 "igw.conf:5:40: route c.r: sign: true needs an http(s) or callback: url");
}

IGWT_MAIN({"valid", test_valid}, {"answer_from_sign", test_error_answer_from_sign},
          {"defaults", test_defaults}, {"route_defaults", test_route_defaults},
          {"durations_sizes", test_durations_sizes}, {"error_duration", test_error_duration},
          {"error_size", test_error_size},
          {"error_number_bool_choice", test_error_number_bool_choice},
          {"error_unknown_key", test_error_unknown_key}, {"error_structure", test_error_structure},
          {"error_listen", test_error_listen}, {"error_url", test_error_url},
          {"error_limits", test_error_limits}, {"error_secrets", test_error_secrets},
          {"secrets_file_ok", test_secrets_file_ok}, {"load_file", test_load_file},
          {"out_of_memory", test_out_of_memory})
