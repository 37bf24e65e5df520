/* SPDX-License-Identifier: Apache-2.0 */
/* Translation at intake: the reloadable mapping set and the per-message translation. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "igw/common.h"
#include "igw/log.h"
#include "core/translate.h"

#define XLATE_ARENA_LIMIT (256u << 20) /* trees of one message: input, outputs */
#define PAYLOAD_MAX (64u << 20)        /* one translated payload */

struct igw_maps_ref {
    igw_map_set *set;
    atomic_uint refs;
};

struct igw_maps {
    const struct igw_config *cfg;
    pthread_mutex_t mtx;
    struct igw_maps_ref *cur; /* NULL when no route uses a map */
};

bool
igw_channel_translates(const struct igw_channel *ch)
{
    for (size_t i = 0; i < ch->nroutes; i++) {
        if (ch->routes[i].map != NULL) {
            return true;
        }
    }
    return false;
}

/* A mediating channel (gateway/mediate/) needs the set too: its request or response map, or
 * the maps its mediator applies itself (fhir-read/fhir-search turn records into resources). */
static bool
channel_mediate_maps(const struct igw_channel *ch)
{
    return ch->answer != NULL || ch->mediate_request_map != NULL ||
           ch->mediate_response_map != NULL;
}

static bool
config_translates(const struct igw_config *cfg)
{
    for (size_t i = 0; i < cfg->nchannels; i++) {
        if (igw_channel_translates(&cfg->channels[i]) || channel_mediate_maps(&cfg->channels[i])) {
            return true;
        }
    }
    return false;
}

/* Every route's map must exist in the set, and run backwards when the route asks for it. */
static int
check_routes(const struct igw_config *cfg, const igw_map_set *set, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < cfg->nchannels; i++) {
        const struct igw_channel *ch = &cfg->channels[i];
        const char *mm[2] = {ch->mediate_request_map, ch->mediate_response_map};
        for (size_t j = 0; j < 2; j++) {
            if (mm[j] != NULL && igw_map_set_get(set, mm[j]) == NULL) {
                igw_errbuf_set(errbuf, errlen, "channel %s: unknown map '%s' (looked in %s/)",
                               ch->name, mm[j], cfg->mappings_dir);
                return IGW_ECONFIG;
            }
        }
        for (size_t j = 0; j < ch->nroutes; j++) {
            const struct igw_route *r = &ch->routes[j];
            const igw_map *m = r->map != NULL ? igw_map_set_get(set, r->map) : NULL;
            if (r->map != NULL && m == NULL) {
                igw_errbuf_set(errbuf, errlen, "route %s: unknown map '%s' (looked in %s/)",
                               r->name, r->map, cfg->mappings_dir);
                return IGW_ECONFIG;
            }
            if (m != NULL && r->map_reverse && !igw_map_invertible(m)) {
                igw_errbuf_set(errbuf, errlen,
                               "route %s: map '%s' cannot run backwards (see igw map lint)",
                               r->name, r->map);
                return IGW_ECONFIG;
            }
        }
    }
    return IGW_OK;
}

static int
load_ref(const struct igw_config *cfg, struct igw_maps_ref **out, char *errbuf, size_t errlen)
{
    struct igw_maps_ref *ref = IGW_NEW(struct igw_maps_ref);
    int rv;

    if (ref == NULL) {
        return IGW_ENOMEM;
    }
    rv = igw_map_set_load(&ref->set, cfg->mappings_dir, errbuf, errlen);
    if (rv == IGW_OK) {
        rv = check_routes(cfg, ref->set, errbuf, errlen);
    }
    if (rv != IGW_OK) {
        igw_map_set_free(ref->set);
        igw_free(ref);
        return rv == IGW_ENOMEM ? rv : IGW_ECONFIG;
    }
    atomic_init(&ref->refs, 1);
    *out = ref;
    return IGW_OK;
}

static void
ref_release(struct igw_maps_ref *ref)
{
    if (ref != NULL && atomic_fetch_sub(&ref->refs, 1) == 1) {
        igw_map_set_free(ref->set);
        igw_free(ref);
    }
}

static struct igw_maps_ref *
ref_acquire(igw_maps *m)
{
    struct igw_maps_ref *ref;

    pthread_mutex_lock(&m->mtx);
    ref = m->cur;
    if (ref != NULL) {
        atomic_fetch_add(&ref->refs, 1);
    }
    pthread_mutex_unlock(&m->mtx);
    return ref;
}

const igw_map_set *
igw_maps_hold(igw_maps *m, struct igw_maps_ref **ref)
{
    *ref = m != NULL ? ref_acquire(m) : NULL;
    return *ref != NULL ? (*ref)->set : NULL;
}

void
igw_maps_unhold(struct igw_maps_ref *ref)
{
    ref_release(ref);
}

int
igw_maps_open(igw_maps **out, const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    igw_maps *m = IGW_NEW(igw_maps);
    int rv = IGW_OK;

    if (m == NULL) {
        return IGW_ENOMEM;
    }
    m->cfg = cfg;
    pthread_mutex_init(&m->mtx, NULL);
    if (config_translates(cfg)) {
        rv = load_ref(cfg, &m->cur, errbuf, errlen);
    }
    if (rv != IGW_OK) {
        igw_maps_close(m);
        return rv;
    }
    if (m->cur != NULL) {
        IGW_INFO("mappings loaded dir=%s maps=%zu", cfg->mappings_dir,
                 igw_map_set_count(m->cur->set));
    }
    *out = m;
    return IGW_OK;
}

int
igw_maps_check(const struct igw_config *cfg, char *errbuf, size_t errlen)
{
    struct igw_maps_ref *ref = NULL;
    int rv;

    if (!config_translates(cfg)) {
        return IGW_OK;
    }
    rv = load_ref(cfg, &ref, errbuf, errlen);
    ref_release(ref);
    return rv;
}

int
igw_maps_reload(igw_maps *m, char *errbuf, size_t errlen)
{
    struct igw_maps_ref *ref = NULL;
    struct igw_maps_ref *old;
    int rv;

    if (!config_translates(m->cfg)) {
        return IGW_ENOENT;
    }
    rv = load_ref(m->cfg, &ref, errbuf, errlen);
    if (rv != IGW_OK) {
        return rv;
    }
    pthread_mutex_lock(&m->mtx);
    old = m->cur;
    m->cur = ref;
    pthread_mutex_unlock(&m->mtx);
    ref_release(old);
    return IGW_OK;
}

void
igw_maps_close(igw_maps *m)
{
    if (m == NULL) {
        return;
    }
    ref_release(m->cur);
    pthread_mutex_destroy(&m->mtx);
    igw_free(m);
}

/* ---- one message ------------------------------------------------------------------------ */

enum igw_format
igw_channel_format(const struct igw_channel *ch, const char *content_type)
{
    enum igw_format f = ch->input != NULL ? igw_format_parse(ch->input) : IGW_FMT_JSON;
    const char *slash;

    if (f != IGW_FMT_NONE) {
        return f;
    }
    /* input: any: take the subtype of the Content-Type ("application/fhir+json" -> json) */
    slash = content_type != NULL ? strchr(content_type, '/') : NULL;
    if (slash != NULL && (strstr(slash, "xml") != NULL)) {
        return IGW_FMT_XML;
    }
    if (slash != NULL && (strstr(slash, "csv") != NULL)) {
        return IGW_FMT_CSV;
    }
    return IGW_FMT_JSON;
}

static int
xlate_arena(struct igw_xlate *x)
{
    if (x->arena == NULL) {
        return igw_arena_new(&x->arena, XLATE_ARENA_LIMIT);
    }
    return IGW_OK;
}

int
igw_xlate_parse(struct igw_xlate *x, enum igw_format f, const char *body, size_t len,
                const struct igw_node **root, char *err, size_t errlen)
{
    struct igw_parse_error pe;
    struct igw_node *n = NULL;
    int rv = xlate_arena(x);

    memset(&pe, 0, sizeof(pe));
    if (rv == IGW_OK) {
        rv = igw_doc_parse(f, x->arena, body, len, NULL, &n, &pe);
    }
    if (rv == IGW_EPARSE || rv == IGW_ELIMIT) {
        igw_errbuf_set(err, errlen, "%s", pe.msg[0] != '\0' ? pe.msg : igw_strerror(rv));
    }
    *root = n;
    return rv;
}

static const char *
payload_type(const struct igw_route *r, enum igw_format f)
{
    if (r->content_type != NULL) {
        return r->content_type;
    }
    if (r->output != NULL && strcmp(r->output, "fhir-r4") == 0) {
        return "application/fhir+json";
    }
    if (f == IGW_FMT_XML) {
        return "application/xml";
    }
    return f == IGW_FMT_CSV ? "text/csv" : "application/json";
}

static int
run_route(struct igw_xlate *x, const igw_map *map, const struct igw_route *r,
          const struct igw_node *root, struct igw_buf *out, enum igw_format *fmt, char *err,
          size_t errlen)
{
    char merr[IGW_ERRBUF_SIZE] = "";
    struct igw_map_limits lim;
    struct igw_node *res = NULL;
    enum igw_format f = r->output != NULL ? igw_format_parse(r->output) : IGW_FMT_NONE;
    int rv;

    memset(&lim, 0, sizeof(lim));
    lim.now_ms = igw_now_ms();
    rv = igw_map_apply(map, r->map_reverse, x->arena, root, &lim, &res, merr, sizeof(merr));
    if (rv != IGW_OK) {
        igw_errbuf_set(err, errlen, "route %s: %s", r->short_name, merr);
        return rv == IGW_ENOMEM || rv == IGW_ELIMIT ? rv : IGW_ETRANSLATE;
    }
    if (f == IGW_FMT_NONE) {
        f = r->map_reverse ? igw_map_input_format(map) : igw_map_output_format(map);
    }
    *fmt = f;
    igw_buf_init(out, PAYLOAD_MAX);
    rv = igw_doc_write(f, res, out, 0);
    if (rv != IGW_OK) {
        igw_errbuf_set(err, errlen, "route %s: cannot write the %s output: %s", r->short_name,
                       r->output != NULL ? r->output : "mapped", igw_strerror(rv));
        return rv == IGW_ENOMEM ? rv : IGW_ETRANSLATE;
    }
    return IGW_OK;
}

int
igw_xlate_run(struct igw_xlate *x, igw_maps *maps, const struct igw_channel *ch,
              const struct igw_node *root, struct igw_queue_route_init *routes, char *err,
              size_t errlen)
{
    int rv = xlate_arena(x);

    if (rv != IGW_OK || !igw_channel_translates(ch)) {
        return rv;
    }
    x->ref = ref_acquire(maps);
    x->payloads = igw_calloc(ch->nroutes, sizeof(*x->payloads));
    if (x->ref == NULL || x->payloads == NULL) {
        return x->ref == NULL ? IGW_EINTERNAL : IGW_ENOMEM;
    }
    x->npayloads = ch->nroutes;
    for (size_t i = 0; rv == IGW_OK && i < ch->nroutes; i++) {
        const struct igw_route *r = &ch->routes[i];
        const igw_map *map = r->map != NULL ? igw_map_set_get(x->ref->set, r->map) : NULL;
        enum igw_format f = IGW_FMT_JSON;
        if (map == NULL) {
            continue; /* pass-through route (check_routes guarantees named maps exist) */
        }
        rv = run_route(x, map, r, root, &x->payloads[i], &f, err, errlen);
        if (rv == IGW_OK) {
            routes[i].payload = x->payloads[i].ptr != NULL ? x->payloads[i].ptr : "";
            routes[i].payload_len = x->payloads[i].len;
            routes[i].content_type = payload_type(r, f);
        }
    }
    return rv;
}

void
igw_xlate_fini(struct igw_xlate *x)
{
    for (size_t i = 0; i < x->npayloads; i++) {
        igw_buf_fini(&x->payloads[i]);
    }
    IGW_FREE(x->payloads);
    x->npayloads = 0;
    ref_release(x->ref);
    x->ref = NULL;
    igw_arena_free(x->arena);
    x->arena = NULL;
}
