/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/dialect/registry.c and of the config loader binding a channel to its
 * dialect: every registered dialect is found by name and selectable with `dialect:`, an
 * unknown name finds nothing, and the FHIR dialect builds (and frees) its channel state. */
#include <string.h>

#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "dialect/dialect.h"
#include "igwt.h"

static struct igw_config *
load(const char *text, int want)
{
    char err[IGW_ERRBUF_SIZE] = "";
    struct igw_config *cfg = NULL;
    int rv = igw_config_parse(&cfg, "t.yaml", text, strlen(text), err, sizeof(err));

    if (rv != want) {
        fprintf(stderr, "  config: %s (%s)\n", igw_strerror(rv), err);
    }
    IGWT_ASSERT(rv == want);
    return cfg;
}

static void
test_find(void)
{
    IGWT_CHECK(igw_dialect_find("plain") == &igw_dialect_plain);
    IGWT_CHECK(igw_dialect_find("fhir") == &igw_dialect_fhir);
    IGWT_CHECK(igw_dialect_find("dci") == &igw_dialect_dci);
    IGWT_CHECK(igw_dialect_find("payroll") == &igw_dialect_payroll);
    IGWT_CHECK(igw_dialect_find("g2p") == &igw_dialect_g2p);
    IGWT_CHECK(igw_dialect_find("hl7v2") == NULL);
    IGWT_CHECK(igw_dialect_find("") == NULL);
    IGWT_CHECK(igw_dialect_find(NULL) == NULL);
    IGWT_CHECK(igw_dialect_find("FHIR") == NULL);
}

static void
test_each_has_name_and_description(void)
{
    size_t n = 0;

    for (const struct igw_dialect_ops *d = igw_dialect_at(0); d != NULL; d = igw_dialect_at(++n)) {
        IGWT_CHECK(d->name != NULL && d->name[0] != '\0');
        IGWT_CHECK(d->description != NULL && d->description[0] != '\0');
        IGWT_CHECK(igw_dialect_find(d->name) == d);
    }
    IGWT_CHECK(n == 5); /* plain, fhir, dci, payroll, g2p (gateway/payments/) */
    IGWT_CHECK(igw_dialect_at(n) == NULL);
}

/* Every registered dialect is a valid value of the `dialect` option, and the loader binds it. */
static void
test_config_binds_each(void)
{
    char text[256];
    size_t n = 0;

    for (const struct igw_dialect_ops *d = igw_dialect_at(0); d != NULL; d = igw_dialect_at(++n)) {
        struct igw_config *cfg;
        /* with credentials: the payment dialects refuse a channel without them */
        snprintf(text, sizeof(text),
                 "channels:\n  a:\n    listen: POST /a\n    dialect: %s\n"
                 "    auth: { type: bearer, tokens: [t] }\n",
                 d->name);
        cfg = load(text, IGW_OK);
        IGWT_CHECK(cfg->channels[0].dialect_ops == d);
        IGWT_CHECK((cfg->channels[0].dialect_state != NULL) == (d->channel_init != NULL));
        igw_config_free(cfg);
    }
}

static void
test_config_default_is_plain(void)
{
    struct igw_config *cfg = load("channels:\n  a:\n    listen: POST /a\n", IGW_OK);
    IGWT_CHECK(cfg->channels[0].dialect_ops == &igw_dialect_plain);
    igw_config_free(cfg);
}

static void
test_config_refuses_unknown(void)
{
    struct igw_config *cfg =
        load("channels:\n  a:\n    listen: POST /a\n    dialect: hl7v2\n", IGW_ECONFIG);
    IGWT_CHECK(cfg == NULL);
}

/* Every fhir.interaction is resolved once at load; a second channel keeps its own state. */
static void
test_fhir_channel_state(void)
{
    static const char *const names[] = {"auto",   "create",       "update",
                                        "bundle", "notification", "none"};
    char text[512];

    for (size_t i = 0; i < IGW_ARRAY_LEN(names); i++) {
        struct igw_config *cfg;
        snprintf(text, sizeof(text),
                 "channels:\n  a:\n    listen: POST /a\n    dialect: fhir\n"
                 "    fhir: { interaction: %s }\n"
                 "  b:\n    listen: POST /b\n    dialect: fhir\n",
                 names[i]);
        cfg = load(text, IGW_OK);
        IGWT_CHECK(cfg->channels[0].dialect_state != NULL);
        IGWT_CHECK(cfg->channels[1].dialect_state != NULL);
        IGWT_CHECK(cfg->channels[0].dialect_state != cfg->channels[1].dialect_state);
        igw_config_free(cfg);
    }
}

IGWT_MAIN({"find", test_find},
          {"each_has_name_and_description", test_each_has_name_and_description},
          {"config_binds_each", test_config_binds_each},
          {"config_default_is_plain", test_config_default_is_plain},
          {"config_refuses_unknown", test_config_refuses_unknown},
          {"fhir_channel_state", test_fhir_channel_state})
