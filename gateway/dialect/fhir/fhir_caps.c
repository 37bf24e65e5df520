/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fhir-capabilities mediator (channel option `answer: fhir-capabilities` on
 * `GET [base]/metadata`): an R4 CapabilityStatement built from the configuration, answered at
 * once without an upstream call. It lists what the FHIR channels sharing the base really do:
 *
 *   POST [base]/{type}               create            (every R4 type, or the literal one)
 *   PUT  [base]/{type}/{id}          update
 *   PUT  [base]/{type}?search        update, conditionalUpdate
 *   PATCH [base]/{type}/{id}         patch (application/json-patch+json)
 *   GET  [base]/{type}/{id}          read
 *   GET  [base]/{type}, POST _search search-type, with the search parameters its maps support
 *   POST [base] (bundle)             transaction, batch
 *
 * A {type} write channel takes every R4 resource type; a read or search channel the types its
 * search maps answer (igw_fhir_search_params). Formats: JSON only, and it says so.
 * docs/FHIR-CHANNELS.md, "What a FHIR client gets". CPU only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "igw/arena.h"
#include "igw/buf.h"
#include "igw/common.h"
#include "igw/fhir.h"
#include "http/http.h"
#include "mediate/mediator.h"
#include "dialect/fhir/fhir_caps_int.h"
#include "dialect/fhir/fhir_in_int.h"

#define BASE_MAX 256
#define PARAMS_MAX 1024

/* TypeRestfulInteraction codes, in the order R4 lists them. */
enum { I_READ, I_UPDATE, I_PATCH, I_CREATE, I_SEARCH, I_COUNT };
static const char *const icode[I_COUNT] = {"read", "update", "patch", "create", "search-type"};

struct param {
    const char *type, *name, *ptype, *doc; /* in the request's arena */
};

struct caps {
    igw_arena *a;
    unsigned ntypes;
    const char **names; /* the R4 resource types (igw_fhir_resource_type_at) */
    uint8_t *mask;      /* per R4 type: 1 << I_* */
    bool *cond_update;  /* per R4 type */
    bool transaction, patch;
    struct param params[PARAMS_MAX];
    size_t nparams;
    const struct igw_channel *search_ch; /* the channel whose parameters are being collected */
    unsigned search_bits;                /* what that channel does for the types it reports */
};

static int
type_index(const struct caps *c, const char *type, size_t n)
{
    for (unsigned i = 0; i < c->ntypes; i++) {
        const char *t = c->names[i];
        if (strlen(t) == n && memcmp(t, type, n) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* The base of a metadata request: the target's path without "/metadata". */
static size_t
base_of(const char *target, char *out, size_t outlen)
{
    size_t n = strcspn(target, "?#");

    while (n > 0 && target[n - 1] == '/') {
        n--;
    }
    if (n >= 9 && memcmp(target + n - 9, "/metadata", 9) == 0) {
        n -= 9;
    }
    n = n < outlen ? n : outlen - 1;
    memcpy(out, target, n);
    out[n] = '\0';
    return n;
}

static void
on_param(void *arg, const char *resource, const char *param, const char *type, const char *doc)
{
    struct caps *c = arg;
    int t = resource != NULL ? type_index(c, resource, strlen(resource)) : -1;

    if (t < 0 || param == NULL || type == NULL) {
        return;
    }
    c->mask[t] |= (uint8_t)c->search_bits;
    for (size_t i = 0; i < c->nparams; i++) {
        if (strcmp(c->params[i].type, resource) == 0 && strcmp(c->params[i].name, param) == 0) {
            return;
        }
    }
    if (c->nparams < PARAMS_MAX) {
        struct param *p = &c->params[c->nparams];
        p->type = igw_arena_strndup(c->a, resource, strlen(resource));
        p->name = igw_arena_strndup(c->a, param, strlen(param));
        p->ptype = igw_arena_strndup(c->a, type, strlen(type));
        p->doc = doc != NULL ? igw_arena_strndup(c->a, doc, strlen(doc)) : NULL;
        c->nparams += p->type != NULL && p->name != NULL && p->ptype != NULL ? 1 : 0;
    }
}

/* What channel ch (its path after the base: rest) adds for one type (t >= 0) or all (-1). */
static void
add_bits(struct caps *c, int t, unsigned bits, bool cond)
{
    for (unsigned i = 0; i < c->ntypes; i++) {
        if (t < 0 || (unsigned)t == i) {
            c->mask[i] |= (uint8_t)bits;
            c->cond_update[i] |= cond;
        }
    }
}

/* The channel's interaction from its method and the path after the base. */
static void
add_channel(struct caps *c, const struct igw_channel *ch, const char *rest)
{
    const char *seg2 = *rest == '/' ? strchr(rest + 1, '/') : NULL;
    size_t tlen = seg2 != NULL ? (size_t)(seg2 - rest - 1) : (*rest != '\0' ? strlen(rest) - 1 : 0);
    bool param_type = tlen > 0 && rest[1] == '{';
    int t = tlen > 0 && !param_type ? type_index(c, rest + 1, tlen) : -1;
    bool id = seg2 != NULL && seg2[1] == '{' && strchr(seg2 + 1, '/') == NULL;
    bool search = seg2 != NULL && strcmp(seg2, "/_search") == 0;
    unsigned bits = 0;

    if (tlen == 0) {
        c->transaction |= strcmp(ch->method, "POST") == 0;
        return;
    }
    if ((!param_type && t < 0) || (seg2 != NULL && !id && !search)) {
        return; /* metadata, an operation, a hook: not a type interaction */
    }
    if (strcmp(ch->method, "POST") == 0) {
        bits = search ? 1u << I_SEARCH : (seg2 == NULL ? 1u << I_CREATE : 0);
    } else if (strcmp(ch->method, "PUT") == 0) {
        bits = 1u << I_UPDATE;
    } else if (strcmp(ch->method, "PATCH") == 0 && id) {
        bits = 1u << I_PATCH;
        c->patch = true;
    } else if (strcmp(ch->method, "GET") == 0) {
        bits = id ? 1u << I_READ : 1u << I_SEARCH;
    }
    if ((bits & ((1u << I_READ) | (1u << I_SEARCH))) != 0 && param_type) {
        c->search_ch = ch; /* the types its search maps answer */
        c->search_bits = bits;
        igw_fhir_search_params(ch, on_param, c);
        return;
    }
    if (bits & (1u << I_SEARCH)) {
        c->search_ch = ch;
        c->search_bits = bits;
        igw_fhir_search_params(ch, on_param, c);
    }
    add_bits(c, t, bits, strcmp(ch->method, "PUT") == 0 && !id);
}

static void
collect(struct caps *c, const struct igw_config *cfg, const char *base, size_t blen)
{
    for (size_t i = 0; cfg != NULL && i < cfg->nchannels; i++) {
        const struct igw_channel *ch = &cfg->channels[i];
        const char *p = ch->path;
        if (ch->dialect == NULL || strcmp(ch->dialect, "fhir") != 0 ||
            strncmp(p, base, blen) != 0 || (p[blen] != '\0' && p[blen] != '/')) {
            continue;
        }
        add_channel(c, ch, p + blen);
    }
}

static int
put_str(struct igw_buf *b, const char *key, const char *v, bool comma)
{
    int rv = igw_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    return rv == IGW_OK ? igw_buf_json_str(b, v, strlen(v)) : rv;
}

static int
put_params(struct igw_buf *b, const struct caps *c, const char *type)
{
    bool first = true;
    int rv = IGW_OK;

    for (size_t i = 0; rv == IGW_OK && i < c->nparams; i++) {
        const struct param *p = &c->params[i];
        if (strcmp(p->type, type) != 0) {
            continue;
        }
        rv = igw_buf_puts(b, first ? ",\"searchParam\":[{" : ",{");
        first = false;
        rv = rv == IGW_OK ? put_str(b, "name", p->name, false) : rv;
        rv = rv == IGW_OK ? put_str(b, "type", p->ptype, true) : rv;
        rv = rv == IGW_OK && p->doc != NULL && p->doc[0] != '\0'
                 ? put_str(b, "documentation", p->doc, true)
                 : rv;
        rv = rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
    }
    return rv == IGW_OK && !first ? igw_buf_putc(b, ']') : rv;
}

static int
put_resource(struct igw_buf *b, const struct caps *c, unsigned t, bool comma)
{
    const char *type = c->names[t];
    bool first = true;
    int rv = igw_buf_puts(b, comma ? ",{" : "{");

    rv = rv == IGW_OK ? put_str(b, "type", type, false) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"interaction\":[") : rv;
    for (unsigned i = 0; rv == IGW_OK && i < I_COUNT; i++) {
        if ((c->mask[t] & (1u << i)) != 0) {
            rv = igw_buf_printf(b, "%s{\"code\":\"%s\"}", first ? "" : ",", icode[i]);
            first = false;
        }
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, "],\"versioning\":\"versioned\"") : rv;
    if (rv == IGW_OK && (c->mask[t] & (1u << I_CREATE)) != 0) {
        rv = igw_buf_puts(b, ",\"conditionalCreate\":false");
    }
    if (rv == IGW_OK && c->cond_update[t]) {
        rv = igw_buf_puts(b, ",\"conditionalUpdate\":true");
    }
    rv = rv == IGW_OK ? put_params(b, c, type) : rv;
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

static int
put_head(struct igw_buf *b, const struct igw_channel *ch, const char *now)
{
    int rv = igw_buf_puts(b, "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\"");

    rv = rv == IGW_OK ? put_str(b, "date", now, true) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"publisher\":\"igw\",\"kind\":\"instance\","
                                        "\"software\":{\"name\":\"igw\"},\"implementation\":{"
                                        "\"description\":\"igw interoperability gateway: FHIR "
                                        "R4 face\"")
                      : rv;
    if (rv == IGW_OK && ch->fhir_base_url != NULL) {
        rv = put_str(b, "url", ch->fhir_base_url, true);
    }
    return rv == IGW_OK ? igw_buf_puts(b, "},\"fhirVersion\":\"4.0.1\","
                                          "\"format\":[\"application/fhir+json\",\"json\"]")
                        : rv;
}

static int
put_caps(struct igw_buf *b, const struct caps *c, const struct igw_channel *ch, const char *now)
{
    bool comma = false;
    int rv = put_head(b, ch, now);

    if (rv == IGW_OK && c->patch) {
        rv = igw_buf_puts(b, ",\"patchFormat\":[\"application/json-patch+json\"]");
    }
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"rest\":[{\"mode\":\"server\",\"documentation\":"
                                        "\"JSON only (application/fhir+json): XML is answered "
                                        "406. Writes are answered after igw has stored them "
                                        "durably and are delivered to the partners of its "
                                        "routes; the version of a write is igw's message id.\"")
                      : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"resource\":[") : rv;
    for (unsigned t = 0; rv == IGW_OK && t < c->ntypes; t++) {
        if (c->mask[t] != 0) {
            rv = put_resource(b, c, t, comma);
            comma = true;
        }
    }
    rv = rv == IGW_OK ? igw_buf_putc(b, ']') : rv;
    if (rv == IGW_OK && c->transaction) {
        rv = igw_buf_puts(b, ",\"interaction\":[{\"code\":\"transaction\"},{\"code\":\"batch\"}]");
    }
    return rv == IGW_OK ? igw_buf_puts(b, "}]}") : rv;
}

static void
now_instant(char *out, size_t outlen)
{
    time_t s = (time_t)(igw_now_ms() / 1000);
    struct tm tm;

    gmtime_r(&s, &tm);
    if (strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, outlen, "1970-01-01T00:00:00Z");
    }
}

int
igw_fhir_capabilities(const struct igw_config *cfg, const struct igw_channel *ch,
                      const char *target, igw_arena *a, struct igw_buf *out)
{
    struct caps *c = igw_arena_calloc(a, sizeof(*c));
    char base[BASE_MAX];
    char now[32];
    size_t blen = base_of(target, base, sizeof(base));

    if (c == NULL) {
        return IGW_ENOMEM;
    }
    c->a = a;
    while (igw_fhir_resource_type_at(c->ntypes) != NULL) {
        c->ntypes++;
    }
    c->names = igw_arena_calloc(a, (c->ntypes + 1) * sizeof(*c->names));
    for (unsigned i = 0; c->names != NULL && i < c->ntypes; i++) {
        c->names[i] = igw_fhir_resource_type_at(i);
    }
    c->mask = igw_arena_calloc(a, c->ntypes + 1);
    c->cond_update = igw_arena_calloc(a, c->ntypes * sizeof(bool));
    if (c->names == NULL || c->mask == NULL || c->cond_update == NULL) {
        return IGW_ENOMEM;
    }
    collect(c, cfg, base, blen);
    now_instant(now, sizeof(now));
    return put_caps(out, c, ch, now);
}

/* The statement of one metadata channel, built on its first request (the search parameters
 * come from the search maps on disk, which are not read per request) and kept until the
 * configuration is freed. */
struct caps_state {
    nng_mtx *mtx;
    char *body; /* NULL until built */
    size_t len;
};

static int
caps_init(const struct igw_channel *ch, void **state, char *err, size_t errlen)
{
    struct caps_state *cs = IGW_NEW(struct caps_state);

    IGW_UNUSED(ch);
    if (cs == NULL || nng_mtx_alloc(&cs->mtx) != 0) {
        igw_free(cs);
        igw_errbuf_set(err, errlen, "out of memory");
        return IGW_ENOMEM;
    }
    *state = cs;
    return IGW_OK;
}

static void
caps_fini(void *state)
{
    struct caps_state *cs = state;

    if (cs != NULL) {
        nng_mtx_free(cs->mtx);
        igw_free(cs->body);
        igw_free(cs);
    }
}

/* Builds the statement into cs once (under its lock). */
static int
caps_build(struct caps_state *cs, const struct igw_med *m)
{
    igw_arena *a = NULL;
    struct igw_buf b;
    int rv = IGW_OK;

    nng_mtx_lock(cs->mtx);
    if (cs->body == NULL) {
        igw_buf_init(&b, 16u << 20);
        rv = igw_arena_new(&a, 64u << 20);
        rv = rv == IGW_OK ? igw_fhir_capabilities(m->cfg, m->ch, m->ch->path, a, &b) : rv;
        if (rv == IGW_OK) {
            cs->body = igw_malloc(b.len + 1);
            rv = cs->body != NULL ? IGW_OK : IGW_ENOMEM;
        }
        if (rv == IGW_OK) {
            memcpy(cs->body, b.ptr, b.len);
            cs->body[b.len] = '\0';
            cs->len = b.len;
        }
        igw_arena_free(a);
        igw_buf_fini(&b);
    }
    nng_mtx_unlock(cs->mtx);
    return rv;
}

static int
caps_start(struct igw_med *m)
{
    struct caps_state *cs = (struct caps_state *)(uintptr_t)m->chstate;
    int rv;

    if (strcmp(m->method, "GET") != 0 && strcmp(m->method, "HEAD") != 0) {
        return -IGW_EPARSE;
    }
    rv = cs != NULL ? caps_build(cs, m) : IGW_EINVAL;
    rv = rv == IGW_OK ? igw_buf_append(&m->answer.body, cs->body, cs->len) : rv;
    if (rv != IGW_OK) {
        return rv == IGW_ETOOBIG ? -IGW_ENOMEM : -rv;
    }
    m->answer.status = 200;
    m->answer.content_type = FHIR_CT;
    m->answer.cacheable = false;
    return IGW_MED_ANSWER;
}

const struct igw_mediator_ops igw_mediator_fhir_capabilities = {
    .name = "fhir-capabilities",
    .description = "GET [base]/metadata: an R4 CapabilityStatement of the FHIR channels on that "
                   "base, from the configuration",
    .channel_init = caps_init,
    .channel_fini = caps_fini,
    .start = caps_start,
};
