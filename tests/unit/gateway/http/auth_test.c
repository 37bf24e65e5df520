/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/http/auth.c: Basic and Bearer checks against channel secrets, base64. */
#include <stdint.h>
#include <string.h>

#include "igw/common.h"
#include "igw/config.h"
#include "http/http.h"
#include "igwt.h"

/* Two bearer channels and one basic channel, each with its own secrets. */
struct fixture {
    struct igw_secret a_secrets[2];
    struct igw_secret b_secrets[1];
    struct igw_secret c_secrets[1];
    struct igw_channel ch[4];
    struct igw_config cfg;
};

static void
secret(struct igw_secret *s, const char *v)
{
    s->value = (char *)(uintptr_t)v; /* the check only reads it */
    s->len = strlen(v);
}

static void
fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    secret(&f->a_secrets[0], "token-a1");
    secret(&f->a_secrets[1], "token-a2");
    secret(&f->b_secrets[0], "token-b");
    secret(&f->c_secrets[0], "alice:s3cret");
    f->ch[0].auth = (struct igw_auth){IGW_AUTH_BEARER, f->a_secrets, 2};
    f->ch[1].auth = (struct igw_auth){IGW_AUTH_BEARER, f->b_secrets, 1};
    f->ch[2].auth = (struct igw_auth){IGW_AUTH_BASIC, f->c_secrets, 1};
    f->cfg.channels = f->ch;
    f->cfg.nchannels = 4;
}

static void
test_bearer(void)
{
    struct fixture f;
    const struct igw_channel *a;

    fixture_init(&f);
    a = &f.ch[0];
    IGWT_OK(igw_http_auth_check(&f.cfg, a, "Bearer token-a1"));
    IGWT_OK(igw_http_auth_check(&f.cfg, a, "Bearer token-a2"));
    IGWT_OK(igw_http_auth_check(&f.cfg, a, "bearer   token-a1  ")); /* scheme case, blanks */
    IGWT_ERR(igw_http_auth_check(&f.cfg, a, NULL), IGW_EAUTH);
    IGWT_ERR(igw_http_auth_check(&f.cfg, a, ""), IGW_EAUTH);
    IGWT_ERR(igw_http_auth_check(&f.cfg, a, "Bearer"), IGW_EAUTH);
    IGWT_ERR(igw_http_auth_check(&f.cfg, a, "Bearer "), IGW_EAUTH);
    IGWT_ERR(igw_http_auth_check(&f.cfg, a, "Bearertoken-a1"), IGW_EAUTH);
    IGWT_ERR(igw_http_auth_check(&f.cfg, a, "Bearer token-a"), IGW_EAUTH);
    IGWT_ERR(igw_http_auth_check(&f.cfg, a, "Bearer token-a1x"), IGW_EAUTH);
    IGWT_ERR(igw_http_auth_check(&f.cfg, a, "Basic token-a1"), IGW_EAUTH);
}

static void
test_other_channel(void)
{
    struct fixture f;

    fixture_init(&f);
    /* valid for channel b only: forbidden on a, and the other way round */
    IGWT_ERR(igw_http_auth_check(&f.cfg, &f.ch[0], "Bearer token-b"), IGW_EPERM);
    IGWT_ERR(igw_http_auth_check(&f.cfg, &f.ch[1], "Bearer token-a2"), IGW_EPERM);
    IGWT_OK(igw_http_auth_check(&f.cfg, &f.ch[1], "Bearer token-b"));
    /* a basic channel's secret sent as a bearer token belongs to no bearer channel */
    IGWT_ERR(igw_http_auth_check(&f.cfg, &f.ch[0], "Bearer alice:s3cret"), IGW_EAUTH);
}

static void
test_basic(void)
{
    struct fixture f;
    const struct igw_channel *c;

    fixture_init(&f);
    c = &f.ch[2];
    IGWT_OK(igw_http_auth_check(&f.cfg, c, "Basic YWxpY2U6czNjcmV0")); /* alice:s3cret */
    IGWT_ERR(igw_http_auth_check(&f.cfg, c, "Basic YWxpY2U6d3Jvbmc="), IGW_EAUTH);  /* wrong */
    IGWT_ERR(igw_http_auth_check(&f.cfg, c, "Basic YWxpY2U6czNjcmV0="), IGW_EAUTH); /* bad b64 */
    IGWT_ERR(igw_http_auth_check(&f.cfg, c, "Basic !!!!"), IGW_EAUTH);
    IGWT_ERR(igw_http_auth_check(&f.cfg, c, "Bearer YWxpY2U6czNjcmV0"), IGW_EAUTH);
}

static void
test_none(void)
{
    struct fixture f;

    fixture_init(&f);
    IGWT_OK(igw_http_auth_check(&f.cfg, &f.ch[3], NULL));
    IGWT_OK(igw_http_auth_check(&f.cfg, &f.ch[3], "Bearer anything"));
}

/* The admin API checks its credentials alone: a channel's token is unknown there (401). */
static void
test_alone(void)
{
    static const struct igw_config none;
    struct fixture f;

    fixture_init(&f);
    IGWT_OK(igw_http_auth_check(&none, &f.ch[0], "Bearer token-a1"));
    IGWT_ERR(igw_http_auth_check(&none, &f.ch[0], "Bearer token-b"), IGW_EAUTH);
}

static void
test_base64(void)
{
    char out[16];
    size_t n = 0;

    IGWT_OK(igw_base64_decode("", 0, out, sizeof(out), &n));
    IGWT_CHECK(n == 0);
    IGWT_OK(igw_base64_decode("Zm9vYmFy", 8, out, sizeof(out), &n));
    IGWT_CHECK(n == 6 && memcmp(out, "foobar", 6) == 0);
    IGWT_OK(igw_base64_decode("Zm9vYg==", 8, out, sizeof(out), &n));
    IGWT_CHECK(n == 4 && memcmp(out, "foob", 4) == 0);
    IGWT_OK(igw_base64_decode("Zm9vYmE=", 8, out, sizeof(out), &n));
    IGWT_CHECK(n == 5 && memcmp(out, "fooba", 5) == 0);
    IGWT_ERR(igw_base64_decode("Zm9", 3, out, sizeof(out), &n), IGW_EINVAL);
    IGWT_ERR(igw_base64_decode("Zm=v", 4, out, sizeof(out), &n), IGW_EINVAL);
    IGWT_ERR(igw_base64_decode("=m9v", 4, out, sizeof(out), &n), IGW_EINVAL);
    IGWT_ERR(igw_base64_decode("Zg==Zg==", 8, out, sizeof(out), &n), IGW_EINVAL);
    IGWT_ERR(igw_base64_decode("Zm9v-A==", 8, out, sizeof(out), &n), IGW_EINVAL);
    IGWT_ERR(igw_base64_decode("Zm9vYmFy", 8, out, 5, &n), IGW_ETOOBIG);
}

IGWT_MAIN({"bearer", test_bearer}, {"other_channel", test_other_channel}, {"basic", test_basic},
          {"none", test_none}, {"alone", test_alone}, {"base64", test_base64})
