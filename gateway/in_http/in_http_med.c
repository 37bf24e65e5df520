/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP intake's side of synchronous mediation (in_http/in_http_med.h). */
#include <string.h>

#include "in_http/in_http_med.h"

static const char *
req_header(void *arg, const char *name)
{
    return nng_http_req_get_header(arg, name);
}

void
igw_in_http_mediate(igw_mediate *e, const struct igw_channel *ch, nng_http_req *req,
                    const struct igw_path_match *pm, const char *body, size_t len,
                    void (*answer)(void *, nng_http_res *),
                    void (*commit)(void *, const char *, const char *, char *, size_t), void *arg)
{
    struct igw_mediate_req rq = {.ch = ch,
                                 .method = nng_http_req_get_method(req),
                                 .target = nng_http_req_get_uri(req),
                                 .pm = pm,
                                 .header = req_header,
                                 .header_arg = req,
                                 .body = body,
                                 .body_len = len,
                                 .answer = answer,
                                 .commit = commit,
                                 .arg = arg};
    igw_mediate_submit(e, &rq);
}

void
igw_in_http_invalidate(igw_mediate *e, const struct igw_channel *ch,
                       const struct igw_path_match *pm)
{
    const struct igw_path_param *t;

    if (e == NULL || ch->path == NULL || strstr(ch->path, "{type}") == NULL) {
        return;
    }
    t = igw_path_param_get(pm, "type");
    if (t != NULL) {
        igw_mediate_invalidate(e, t->value);
    }
}

bool
igw_in_http_method_is(const char *method, const char *chm)
{
    return strcmp(method, chm) == 0 || (strcmp(method, "HEAD") == 0 && strcmp(chm, "GET") == 0);
}
