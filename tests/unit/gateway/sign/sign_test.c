/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of gateway/sign (sign.h): DCI envelopes signed by another implementation (Python's
 * cryptography, tests/fixtures/dci/sign/make_fixtures.py) verified by igw, RS256 and ES256;
 * forged, tampered, expired, unsigned, alg none, HS256 confusion, unknown kid, duplicate
 * header; igw's own signatures verified by igw through its served JWKS; key rotation and a
 * JWKS server that goes down (tests/sim/jwks_server.py, fetched on the fetch thread);
 * OAuth2 tokens; callback addresses (userinfo, "..", other host, port or scheme refused).
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "igw/buf.h"
#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "sign/sign.h"
#include "igwt.h"

extern char **environ;

static char fixtures[512];
static char tmpdir[256];

static void
setup_dirs(void)
{
    const char *f = getenv("IGW_FIXTURES");
    snprintf(fixtures, sizeof(fixtures), "%s/dci/sign", f != NULL ? f : "tests/fixtures");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/igw-sign-test-XXXXXX");
    IGWT_ASSERT(mkdtemp(tmpdir) != NULL);
}

static void
rm_tmp(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    IGWT_CHECK(system(cmd) == 0);
}

static void
write_file(const char *name, const char *text)
{
    char path[800];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    IGWT_ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void
read_file(const char *path, struct igw_buf *b)
{
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "r");
    IGWT_ASSERT(f != NULL);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        IGWT_ASSERT(igw_buf_append(b, chunk, n) == IGW_OK);
    }
    fclose(f);
}

static struct igw_config *
parse(const char *text)
{
    char name[400];
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg = NULL;
    int rv;

    snprintf(name, sizeof(name), "%s/igw.conf", tmpdir);
    rv = igw_config_parse(&cfg, name, text, strlen(text), err, sizeof(err));
    if (rv != IGW_OK) {
        fprintf(stderr, "  config: %s\n", err);
    }
    IGWT_ASSERT(rv == IGW_OK);
    return cfg;
}

/* The config text with every "FIX/" replaced by the fixtures directory. */
static struct igw_config *
parse_fix(const char *text)
{
    struct igw_buf b;
    struct igw_config *cfg;
    igw_buf_init(&b, 1 << 16);
    for (const char *p = text; *p != '\0';) {
        const char *hit = strstr(p, "FIX/");
        size_t n = hit != NULL ? (size_t)(hit - p) : strlen(p);
        IGWT_ASSERT(igw_buf_append(&b, p, n) == IGW_OK);
        p += n;
        if (hit != NULL) {
            IGWT_ASSERT(igw_buf_printf(&b, "%s/", fixtures) == IGW_OK);
            p += 4;
        }
    }
    IGWT_ASSERT(igw_buf_putc(&b, '\0') == IGW_OK);
    cfg = parse(b.ptr);
    igw_buf_fini(&b);
    return cfg;
}

/* Verifies fixture name for partner p: the return code and the DCI code. */
static int
verify_fixture(const struct igw_partner *p, const char *name, const char **code)
{
    char path[800];
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_buf b;
    int rv;

    snprintf(path, sizeof(path), "%s/%s", fixtures, name);
    igw_buf_init(&b, 1 << 20);
    read_file(path, &b);
    rv = igw_sign_verify(p, b.ptr, b.len, code, err, sizeof(err));
    igw_buf_fini(&b);
    return rv;
}

static const char *const FILE_CONF = "signing: { key_file: FIX/partner-a.pem, kid: igw-1 }\n"
                                     "partners:\n"
                                     "  crvs:\n"
                                     "    base_urls: [\"http://127.0.0.1:9/dci\"]\n"
                                     "    jwks_file: FIX/jwks-ab.json\n"
                                     "    verify: true\n"
                                     "  open:\n"
                                     "    base_urls: [\"http://127.0.0.1:9/open\"]\n";

static void
test_verify_foreign(void)
{
    struct igw_config *cfg;
    igw_sign *s = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    const struct igw_partner *p;
    const char *code = NULL;
    static const struct {
        const char *file;
        int rv;
        const char *code;
    } cases[] = {
        {"rs256.json", IGW_OK, NULL},
        {"es256.json", IGW_OK, NULL},
        {"reordered.json", IGW_OK, NULL},
        {"future-exp.json", IGW_OK, NULL},
        {"forged.json", IGW_EAUTH, IGW_DCI_ERR_SIG_INVALID},
        {"tampered.json", IGW_EAUTH, IGW_DCI_ERR_SIG_INVALID},
        {"expired.json", IGW_EAUTH, IGW_DCI_ERR_SIG_INVALID},
        {"alg-none.json", IGW_EAUTH, IGW_DCI_ERR_SIG_INVALID},
        {"alg-hs256.json", IGW_EAUTH, IGW_DCI_ERR_SIG_INVALID},
        {"kid-unknown.json", IGW_EAUTH, IGW_DCI_ERR_SIG_INVALID},
        {"kid-mismatch.json", IGW_EAUTH, IGW_DCI_ERR_SIG_INVALID},
        {"c-rs256.json", IGW_EAUTH, IGW_DCI_ERR_SIG_INVALID},
        {"stub-sig.json", IGW_EAUTH, IGW_DCI_ERR_SIG_INVALID},
        {"unsigned.json", IGW_ENOENT, IGW_DCI_ERR_SIG_MISSING},
        {"empty-sig.json", IGW_ENOENT, IGW_DCI_ERR_SIG_MISSING},
        {"dup-header.json", IGW_EPARSE, IGW_DCI_ERR_BAD},
    };

    setup_dirs();
    cfg = parse_fix(FILE_CONF);
    p = igw_partner_find(cfg, "crvs");
    IGWT_ASSERT(p != NULL && p->verify);
    /* no context yet: not a pass */
    IGWT_CHECK(verify_fixture(p, "rs256.json", &code) == IGW_EAGAIN);
    IGWT_OK(igw_sign_start(cfg, &s, err, sizeof(err)));
    for (size_t i = 0; i < IGW_ARRAY_LEN(cases); i++) {
        int rv = verify_fixture(p, cases[i].file, &code);
        if (rv != cases[i].rv || (cases[i].code == NULL) != (code == NULL) ||
            (code != NULL && strcmp(code, cases[i].code) != 0)) {
            fprintf(stderr, "  %s: rv %d code %s\n", cases[i].file, rv, code ? code : "-");
            igwt_failures_++;
        }
    }
    /* a partner that does not verify passes everything through */
    IGWT_CHECK(verify_fixture(igw_partner_find(cfg, "open"), "forged.json", &code) == IGW_OK);
    IGWT_CHECK(verify_fixture(p, "rs256.json", &code) == IGW_OK); /* bad input changed nothing */
    IGWT_CHECK(igw_sign_verify(p, "not json", 8, &code, err, sizeof(err)) == IGW_EPARSE);
    igw_sign_stop(s);
    igw_config_free(cfg);
    rm_tmp();
}

/* igw signs an envelope; a partner whose JWKS is igw's served JWKS verifies it. */
static void
sign_roundtrip(const char *key, const char *alg)
{
    char conf[2048];
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg;
    struct igw_config *cfg2;
    igw_sign *s = NULL;
    igw_sign *s2 = NULL;
    struct igw_buf jwks;
    struct igw_buf sig;
    struct igw_buf env;
    const char *hdr = "{\"message_id\":\"x\",\"action\":\"on-search\",\"sender_id\":\"igw\"}";
    const char *msg = "{\"transaction_id\":\"t\",\"search_response\":[]}";
    const char *code = NULL;

    setup_dirs();
    snprintf(conf, sizeof(conf), "signing: { key_file: FIX/%s, alg: %s }\n", key, alg);
    cfg = parse_fix(conf);
    IGWT_OK(igw_sign_start(cfg, &s, err, sizeof(err)));
    igw_buf_init(&jwks, 1 << 16);
    igw_buf_init(&sig, 1 << 16);
    igw_buf_init(&env, 1 << 16);
    IGWT_OK(igw_sign_jwks(&jwks));
    IGWT_ASSERT(igw_buf_putc(&jwks, '\0') == IGW_OK);
    IGWT_CHECK(strstr(jwks.ptr, "\"d\"") == NULL); /* public parts only */
    IGWT_CHECK(strstr(jwks.ptr, alg) != NULL);
    write_file("igw-jwks.json", jwks.ptr);
    IGWT_OK(igw_sign_envelope(hdr, strlen(hdr), msg, strlen(msg), &sig, err, sizeof(err)));
    IGWT_OK(igw_buf_printf(&env, "{\"signature\":\"%.*s\",\"header\":%s,\"message\":%s}",
                           (int)sig.len, sig.ptr, hdr, msg));
    igw_sign_stop(s);
    snprintf(conf, sizeof(conf),
             "partners: { igw: { jwks_file: %s/igw-jwks.json, verify: true } }\n", tmpdir);
    cfg2 = parse(conf);
    IGWT_OK(igw_sign_start(cfg2, &s2, err, sizeof(err)));
    IGWT_OK(
        igw_sign_verify(igw_partner_find(cfg2, "igw"), env.ptr, env.len, &code, err, sizeof(err)));
    env.ptr[env.len - 3] = env.ptr[env.len - 3] == '[' ? '{' : '['; /* break the message */
    IGWT_CHECK(igw_sign_verify(igw_partner_find(cfg2, "igw"), env.ptr, env.len, &code, err,
                               sizeof(err)) != IGW_OK);
    igw_sign_stop(s2);
    igw_buf_fini(&jwks);
    igw_buf_fini(&sig);
    igw_buf_fini(&env);
    igw_config_free(cfg);
    igw_config_free(cfg2);
    rm_tmp();
}

static void
test_sign_rs256(void)
{
    sign_roundtrip("partner-a.pem", "RS256");
}

static void
test_sign_es256(void)
{
    sign_roundtrip("partner-b.pem", "ES256");
}

static void
test_keys_refused(void)
{
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg;

    setup_dirs();
    cfg = parse_fix("signing: { key_file: FIX/partner-a.pem, alg: ES256 }\n");
    IGWT_CHECK(igw_sign_check(cfg, err, sizeof(err)) == IGW_ECONFIG);
    IGWT_CHECK(strstr(err, "ES256 needs an EC key") != NULL);
    igw_config_free(cfg);
    cfg = parse_fix("signing: { key_file: FIX/jwks-ab.json }\n");
    IGWT_CHECK(igw_sign_check(cfg, err, sizeof(err)) == IGW_ECONFIG);
    igw_config_free(cfg);
    cfg = parse_fix("partners: { p: { jwks_file: FIX/partner-a.pem, verify: true } }\n");
    IGWT_CHECK(igw_sign_check(cfg, err, sizeof(err)) == IGW_ECONFIG);
    IGWT_CHECK(strstr(err, "partners.p.jwks_file") != NULL);
    igw_config_free(cfg);
    cfg = parse_fix("signing: { key_file: FIX/partner-a.pem, previous_key_file: "
                    "FIX/partner-c.pem }\n");
    IGWT_OK(igw_sign_check(cfg, err, sizeof(err)));
    igw_config_free(cfg);
    rm_tmp();
}

static void
test_rotation_jwks(void)
{
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg;
    igw_sign *s = NULL;
    struct igw_buf b;

    setup_dirs();
    cfg = parse_fix("signing: { key_file: FIX/partner-c.pem, kid: new, previous_key_file: "
                    "FIX/partner-a.pem, previous_kid: old }\n");
    IGWT_OK(igw_sign_start(cfg, &s, err, sizeof(err)));
    igw_buf_init(&b, 1 << 16);
    IGWT_OK(igw_sign_jwks(&b));
    IGWT_ASSERT(igw_buf_putc(&b, '\0') == IGW_OK);
    IGWT_CHECK(strstr(b.ptr, "\"kid\":\"new\"") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"kid\":\"old\"") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"kid\":\"new\"") < strstr(b.ptr, "\"kid\":\"old\""));
    igw_buf_reset(&b);
    IGWT_OK(igw_sign_compact("x", 1, &b, err, sizeof(err)));
    IGWT_ASSERT(igw_buf_putc(&b, '\0') == IGW_OK);
    /* {"alg":"RS256","kid":"new",...} base64url: the new key signs */
    IGWT_CHECK(strncmp(b.ptr, "eyJhbGciOiJSUzI1NiIsImtpZCI6Im5ldyIs", 36) == 0);
    igw_buf_fini(&b);
    igw_sign_stop(s);
    igw_config_free(cfg);
    rm_tmp();
}

/* The callback URL for sender_uri (NULL: refused with err.sender_uri.invalid). */
static void
url_case(const struct igw_partner *p, const char *sender_uri, const char *want)
{
    struct igw_buf url;
    const char *code = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    int rv;

    igw_buf_init(&url, 4096);
    rv = igw_partner_callback_url(p, sender_uri, "/registry/on-search", &url, &code, err,
                                  sizeof(err));
    if (want == NULL ? rv != IGW_EINVAL || strcmp(code, IGW_DCI_ERR_SENDER_URI) != 0
                     : rv != IGW_OK || strcmp(url.ptr, want) != 0) {
        fprintf(stderr, "  sender_uri %s: rv %d url %s (%s), want %s\n", sender_uri, rv,
                rv == IGW_OK ? url.ptr : "-", err, want != NULL ? want : "refused");
        igwt_failures_++;
    }
    igw_buf_fini(&url);
}

static void
test_callback_url(void)
{
    struct igw_config *cfg;
    const struct igw_partner *p;
    const char *b1 = "http://127.0.0.1:7400/dci/spmis/registry/on-search";

    setup_dirs();
    cfg = parse("partners:\n"
                "  sp:\n"
                "    base_urls: [\"http://127.0.0.1:7400/dci/spmis/\", "
                "\"https://Partner.example.org/cb\"]\n");
    p = igw_partner_find(cfg, "sp");
    IGWT_ASSERT(p != NULL);
    url_case(p, NULL, b1);
    url_case(p, "", b1);
    url_case(p, "http://127.0.0.1:7400/dci/spmis", b1);
    url_case(p, "HTTP://127.0.0.1:7400/dci/spmis/", b1);
    url_case(p, "http://127.0.0.1:7400/dci/spmis/callback/on-search",
             "http://127.0.0.1:7400/dci/spmis/callback/on-search");
    url_case(p, "https://partner.EXAMPLE.org:443/cb",
             "https://Partner.example.org/cb/registry/"
             "on-search");
    url_case(p, "https://partner.example.org/cb/x", "https://Partner.example.org/cb/x");
    /* refused: another host, port or scheme, user info, dot segments, tricks */
    url_case(p, "http://127.0.0.2:7400/dci/spmis", NULL);
    url_case(p, "http://127.0.0.1:7401/dci/spmis", NULL);
    url_case(p, "https://127.0.0.1:7400/dci/spmis", NULL);
    url_case(p, "http://partner.example.org/cb", NULL);
    url_case(p, "http://127.0.0.1:7400@evil.example/dci/spmis", NULL);
    url_case(p, "http://evil.example@127.0.0.1:7400/dci/spmis", NULL);
    url_case(p, "http://127.0.0.1:7400/dci/spmis/../../admin", NULL);
    url_case(p, "http://127.0.0.1:7400/dci/spmis/%2e%2e/admin", NULL);
    url_case(p, "http://127.0.0.1:7400/dci/spmis/./x", NULL);
    url_case(p, "http://127.0.0.1:7400/dci/spmis%2f..%2fadmin", NULL);
    url_case(p, "http://127.0.0.1:7400/dci/spmisX", NULL);
    url_case(p, "http://127.0.0.1:7400/dci", NULL);
    url_case(p, "http://127.0.0.1:7400\\@evil.example/dci/spmis", NULL);
    url_case(p, "http://127.0.0.1:7400/dci/spmis?next=http://evil", NULL);
    url_case(p, "http://127.0.0.1:7400/dci/spmis#x", NULL);
    url_case(p, "http://127.0.0.1:7400/dci/spmis/a b", NULL);
    url_case(p, "file:///etc/passwd", NULL);
    url_case(p, "gopher://127.0.0.1:7400/dci/spmis", NULL);
    url_case(p, "//127.0.0.1:7400/dci/spmis", NULL);
    url_case(p, "http://127.0.0.1:99999/dci/spmis", NULL);
    url_case(p, "http://127.0.0.1:7400:80/dci/spmis", NULL);
    igw_config_free(cfg);
    rm_tmp();
}

/* ---- OAuth2 tokens --------------------------------------------------------------------------- */

static int
token_req(const struct igw_config *cfg, const char *form, struct igw_buf *out)
{
    int status = 0;
    igw_buf_reset(out);
    IGWT_OK(igw_sign_token_answer(cfg, form, strlen(form), &status, out));
    IGWT_ASSERT(igw_buf_putc(out, '\0') == IGW_OK);
    return status;
}

static void
test_token(void)
{
    char err[IGW_ERRBUF_SIZE] = "";
    char auth[8300];
    struct igw_config *cfg;
    igw_sign *s = NULL;
    struct igw_buf b;
    const struct igw_partner *p;
    const struct igw_partner *q;
    const char *tok;
    size_t n;

    setup_dirs();
    write_file("crvs.secret", "client-secret-1\n");
    write_file("crvs.tokens", "static-token-1\n");
    write_file("other.secret", "client-secret-2\n");
    cfg = parse_fix("signing: { key_file: FIX/partner-b.pem, alg: ES256 }\n"
                    "partners:\n"
                    "  crvs: { client_id: c1, client_secret_file: crvs.secret,\n"
                    "          auth: { type: bearer, tokens_file: crvs.tokens } }\n"
                    "  other: { client_id: c2, client_secret_file: other.secret }\n");
    p = igw_partner_find(cfg, "crvs");
    q = igw_partner_find(cfg, "other");
    IGWT_ASSERT(p != NULL && q != NULL);
    IGWT_OK(igw_sign_start(cfg, &s, err, sizeof(err)));
    igw_buf_init(&b, 1 << 16);
    IGWT_CHECK(token_req(cfg,
                         "grant_type=client_credentials&client_id=c1&client_secret="
                         "client-secret-1&scope=registry.search",
                         &b) == 200);
    tok = strstr(b.ptr, "\"access_token\":\"");
    IGWT_ASSERT(tok != NULL);
    tok += 16;
    n = strcspn(tok, "\"");
    IGWT_CHECK(strstr(b.ptr, "\"token_type\":\"bearer\"") != NULL);
    IGWT_CHECK(strstr(b.ptr, "\"expires_in\":300") != NULL);
    snprintf(auth, sizeof(auth), "Bearer %.*s", (int)n, tok);
    IGWT_OK(igw_partner_auth(p, auth));
    IGWT_CHECK(igw_partner_auth(q, auth) == IGW_EAUTH); /* issued to crvs, not to other */
    auth[20] = auth[20] == 'A' ? 'B' : 'A';
    IGWT_CHECK(igw_partner_auth(p, auth) == IGW_EAUTH);
    IGWT_OK(igw_partner_auth(p, "Bearer static-token-1"));
    IGWT_CHECK(igw_partner_auth(q, "Bearer static-token-1") == IGW_EAUTH);
    IGWT_CHECK(igw_partner_auth(p, "Bearer nope") == IGW_EAUTH);
    IGWT_CHECK(igw_partner_auth(p, "Basic c3RhdGljOnRva2Vu") == IGW_EAUTH);
    IGWT_CHECK(igw_partner_auth(p, NULL) == IGW_EAUTH);
    IGWT_CHECK(token_req(cfg, "grant_type=client_credentials&client_id=c1&client_secret=x", &b) ==
               401);
    IGWT_CHECK(strstr(b.ptr, "invalid_client") != NULL);
    IGWT_CHECK(token_req(cfg,
                         "grant_type=client_credentials&client_id=c2&client_secret="
                         "client-secret-1",
                         &b) == 401);
    IGWT_CHECK(token_req(cfg, "grant_type=password&client_id=c1&client_secret=client-secret-1",
                         &b) == 400);
    IGWT_CHECK(strstr(b.ptr, "unsupported_grant_type") != NULL);
    IGWT_CHECK(token_req(cfg, "client_id=c1&client_secret=client-secret-1", &b) == 400);
    IGWT_CHECK(token_req(cfg, "grant_type=client_credentials&client_id=c1", &b) == 401);
    IGWT_CHECK(token_req(cfg,
                         "grant_type=client_credentials&client_id=c1&client_id=c2&"
                         "client_secret=client-secret-1",
                         &b) == 401);
    IGWT_CHECK(token_req(cfg,
                         "grant_type=client_credentials&client_id=c1&client_secret=client-"
                         "secret%2D1",
                         &b) == 200); /* percent-decoded */
    IGWT_CHECK(token_req(cfg, "grant_type=client_credentials&client_id=c1&client_secret=%zz", &b) ==
               401);
    IGWT_CHECK(strstr(b.ptr, "client-secret") == NULL);
    igw_buf_fini(&b);
    igw_sign_stop(s);
    igw_config_free(cfg);
    rm_tmp();
}

/* ---- the JWKS fetch thread against tests/sim/jwks_server.py ---------------------------------- */

static pid_t
jwks_server(const char *file, unsigned *port)
{
    const char *src = getenv("IGW_SRC");
    char script[600];
    char line[64] = "";
    int fds[2];
    pid_t pid;
    posix_spawn_file_actions_t fa;
    char a0[] = "python3";
    char a2[] = "--file";
    char fbuf[400];
    char *argv[] = {a0, script, a2, fbuf, NULL};
    FILE *f;

    snprintf(script, sizeof(script), "%s/tests/sim/jwks_server.py", src != NULL ? src : ".");
    snprintf(fbuf, sizeof(fbuf), "%s", file);
    if (access(script, R_OK) != 0 || pipe(fds) != 0) {
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawnp(&pid, "python3", &fa, NULL, argv, environ) != 0) {
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (pid > 0 && (f == NULL || fgets(line, sizeof(line), f) == NULL ||
                    sscanf(line, "listening %u", port) != 1)) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        pid = -1;
    }
    if (f != NULL) {
        fclose(f);
    }
    return pid;
}

static void
copy_fixture(const char *name, const char *to)
{
    char path[800];
    struct igw_buf b;
    igw_buf_init(&b, 1 << 20);
    snprintf(path, sizeof(path), "%s/%s", fixtures, name);
    read_file(path, &b);
    IGWT_ASSERT(igw_buf_putc(&b, '\0') == IGW_OK);
    write_file(to, b.ptr);
    igw_buf_fini(&b);
}

/* Verifies name until it gives want or 6 s pass. */
static int
verify_until(const struct igw_partner *p, const char *name, int want)
{
    const char *code;
    int rv = -1;
    for (int i = 0; i < 120 && rv != want; i++) {
        rv = verify_fixture(p, name, &code);
        if (rv != want) {
            usleep(50000);
        }
    }
    return rv;
}

static void
test_jwks_fetch(void)
{
    char jwks[400];
    char conf[1200];
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg;
    igw_sign *s = NULL;
    const struct igw_partner *p;
    const char *code;
    unsigned port = 0;
    pid_t pid;

    setup_dirs();
    snprintf(jwks, sizeof(jwks), "%s/jwks.json", tmpdir);
    copy_fixture("jwks-ab.json", "jwks.json");
    pid = jwks_server(jwks, &port);
    if (pid < 0) {
        rm_tmp();
        IGWT_SKIP("python3 or tests/sim/jwks_server.py not available");
    }
    snprintf(conf, sizeof(conf),
             "partners:\n  crvs:\n    jwks_url: \"http://127.0.0.1:%u/.well-known/jwks.json\"\n"
             "    jwks_min_refetch: 1s\n    jwks_ttl: 1h\n    verify: true\n",
             port);
    cfg = parse(conf);
    p = igw_partner_find(cfg, "crvs");
    IGWT_OK(igw_sign_start(cfg, &s, err, sizeof(err)));
    /* fetched in the background at start */
    IGWT_CHECK(verify_until(p, "rs256.json", IGW_OK) == IGW_OK);
    IGWT_CHECK(verify_until(p, "es256.json", IGW_OK) == IGW_OK);
    /* rotation: the partner drops key-a and adds key-c; the unknown kid triggers a refetch */
    copy_fixture("jwks-bc.json", "jwks.json");
    IGWT_CHECK(verify_fixture(p, "c-rs256.json", &code) == IGW_EAUTH);
    IGWT_CHECK(verify_until(p, "c-rs256.json", IGW_OK) == IGW_OK);
    IGWT_CHECK(verify_fixture(p, "rs256.json", &code) == IGW_EAUTH);
    /* a burst of unknown kids: at most one fetch per jwks_min_refetch */
    {
        char cmd[600];
        unsigned before = 0;
        unsigned after = 0;
        FILE *f;
        snprintf(cmd, sizeof(cmd),
                 "python3 -c \"import urllib.request as u;"
                 "print(u.urlopen('http://127.0.0.1:%u/count').read().decode())\"",
                 port);
        f = popen(cmd, "r");
        IGWT_ASSERT(f != NULL && fscanf(f, "%u", &before) == 1);
        pclose(f);
        for (int i = 0; i < 50; i++) {
            (void)verify_fixture(p, "kid-unknown.json", &code);
        }
        usleep(1500000);
        f = popen(cmd, "r");
        IGWT_ASSERT(f != NULL && fscanf(f, "%u", &after) == 1);
        pclose(f);
        IGWT_CHECK(after - before <= 2);
    }
    /* the JWKS server goes down: the keys igw had still verify */
    write_file("jwks.json.down", "");
    (void)verify_fixture(p, "kid-unknown.json", &code);
    usleep(1500000);
    IGWT_CHECK(verify_fixture(p, "c-rs256.json", &code) == IGW_OK);
    IGWT_CHECK(verify_fixture(p, "es256.json", &code) == IGW_OK);
    igw_sign_stop(s);
    igw_config_free(cfg);
    /* a partner whose JWKS never arrived: unavailable, not valid */
    cfg = parse(conf);
    IGWT_OK(igw_sign_start(cfg, &s, err, sizeof(err)));
    usleep(300000);
    IGWT_CHECK(verify_fixture(igw_partner_find(cfg, "crvs"), "rs256.json", &code) == IGW_EAGAIN);
    IGWT_STREQ(code, IGW_DCI_ERR_UNAVAILABLE);
    igw_sign_stop(s);
    igw_config_free(cfg);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    rm_tmp();
}

/* ---- the intake checks (igw_partner_intake) ------------------------------------------------ */

static void
intake_case(const struct igw_config *cfg, const char *partners, const char *auth, const char *file,
            int status, const char *code)
{
    char path[800];
    char list[200];
    char *names[4];
    size_t n = 0;
    struct igw_buf b;
    struct igw_partner_verdict v;

    snprintf(list, sizeof(list), "%s", partners);
    for (char *tok = strtok(list, ","); tok != NULL && n < 4; tok = strtok(NULL, ",")) {
        names[n++] = tok;
    }
    snprintf(path, sizeof(path), "%s/%s", fixtures, file);
    igw_buf_init(&b, 1 << 20);
    read_file(path, &b);
    IGWT_OK(igw_partner_intake(cfg, names, n, auth, b.ptr, b.len, &v));
    if (v.status != status || (code == NULL) != (v.code == NULL) ||
        (code != NULL && strcmp(code, v.code) != 0)) {
        fprintf(stderr, "  %s %s: status %d code %s (%s), want %d %s\n", partners, file, v.status,
                v.code != NULL ? v.code : "-", v.msg, status, code != NULL ? code : "-");
        igwt_failures_++;
    }
    igw_buf_fini(&b);
}

static void
test_intake(void)
{
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg;
    igw_sign *s = NULL;
    const char *tok = "Bearer crvs-token-1";

    setup_dirs();
    write_file("crvs.tokens", "crvs-token-1\n");
    cfg = parse_fix("partners:\n"
                    "  crvs:\n"
                    "    base_urls: [\"http://127.0.0.1/dci\"]\n"
                    "    auth: { type: bearer, tokens_file: crvs.tokens }\n"
                    "    jwks_file: FIX/jwks-ab.json\n"
                    "    verify: true\n"
                    "  elsewhere:\n"
                    "    base_urls: [\"http://127.0.0.1:8080/dci\"]\n"
                    "    auth: { type: bearer, tokens_file: crvs.tokens }\n"
                    "    jwks_file: FIX/jwks-ab.json\n"
                    "    verify: true\n"
                    "  open:\n"
                    "    base_urls: [\"http://127.0.0.1/dci\"]\n");
    IGWT_OK(igw_sign_start(cfg, &s, err, sizeof(err)));
    intake_case(cfg, "crvs", tok, "rs256.json", 0, NULL);
    intake_case(cfg, "crvs", tok, "es256.json", 0, NULL);
    intake_case(cfg, "crvs", NULL, "rs256.json", 401, IGW_DCI_ERR_UNAUTHORIZED);
    intake_case(cfg, "crvs", "Bearer wrong", "rs256.json", 401, IGW_DCI_ERR_UNAUTHORIZED);
    intake_case(cfg, "crvs", tok, "forged.json", 401, IGW_DCI_ERR_SIG_INVALID);
    intake_case(cfg, "crvs", tok, "expired.json", 401, IGW_DCI_ERR_SIG_INVALID);
    intake_case(cfg, "crvs", tok, "unsigned.json", 401, IGW_DCI_ERR_SIG_MISSING);
    intake_case(cfg, "crvs", tok, "dup-header.json", 400, IGW_DCI_ERR_BAD);
    /* signed correctly, but its sender_uri is not under the partner's base_urls */
    intake_case(cfg, "elsewhere", tok, "rs256.json", 400, IGW_DCI_ERR_SENDER_URI);
    /* a partner without credentials or verification: identified, passed */
    intake_case(cfg, "open", NULL, "forged.json", 0, NULL);
    intake_case(cfg, "crvs,open", NULL, "rs256.json", 0, NULL);
    igw_sign_stop(s);
    igw_config_free(cfg);
    rm_tmp();
}

IGWT_MAIN({"verify_foreign", test_verify_foreign}, {"sign_rs256", test_sign_rs256},
          {"sign_es256", test_sign_es256}, {"keys_refused", test_keys_refused},
          {"rotation_jwks", test_rotation_jwks}, {"callback_url", test_callback_url},
          {"token", test_token}, {"intake", test_intake}, {"jwks_fetch", test_jwks_fetch})
