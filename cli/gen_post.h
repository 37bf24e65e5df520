/* SPDX-License-Identifier: Apache-2.0 */
/* igw gen --post: sends records as HTTP POSTs to a running igw (cli/gen_post.c), a bounded
 * window of requests on one libcurl multi handle. */
#ifndef IGW_CLI_GEN_POST_H
#define IGW_CLI_GEN_POST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct gen_post_opts {
    const char *url;        /* http(s)://host:port, borrowed for the poster's life */
    const char *path;       /* with "{kind}" replaced by the record's kind */
    const char *token;      /* bearer token or NULL; borrowed */
    const char *key_prefix; /* Idempotency-Key prefix, the record number follows */
    unsigned concurrency;   /* requests in flight, 1..256 */
    unsigned retries;       /* resends of one record after 503/429/connection errors */
    uint64_t timeout_ms;    /* per request */
};

struct gen_post;

/** Creates a poster; *out owned by the caller (gen_post_free). @return IGW_OK, IGW_EINVAL
 *  (bad options, message in err), IGW_ENOMEM. */
int gen_post_new(struct gen_post **out, const struct gen_post_opts *o, char *err, size_t errlen);
/** Queues one record (json borrowed, copied), waiting while the window is full. @return IGW_OK;
 *  IGW_EAUTH once an answer was 401 or 403, IGW_ECLOSED once a record could not connect after
 *  all its retries (nothing more is sent then); IGW_ENOMEM; IGW_EINVAL (the URL is too long). */
int gen_post_send(struct gen_post *p, const char *kind, const char *json, size_t len);
/** Waits until every queued record has its final answer. */
void gen_post_finish(struct gen_post *p);
/** Prints the summary to f; returns the number of records not accepted. */
uint64_t gen_post_summary(const struct gen_post *p, FILE *f);
/** Frees p (NULL-safe). */
void gen_post_free(struct gen_post *p);

#endif /* IGW_CLI_GEN_POST_H */
