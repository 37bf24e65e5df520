/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for the SP intake (docs/SP-PROTOCOL.md).
 *
 *   sp_send URL CHANNEL CONTENT-TYPE IDEMPOTENCY-KEY BODY   one req0 request; prints the reply
 *   sp_send sub URL COUNT TIMEOUT-MS                        prints up to COUNT pub0 messages
 *
 * BODY "-" reads the body from stdin; empty strings leave a field empty. Exit status 0 when a
 * reply (or COUNT events) arrived, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>

#include "igw/buf.h"
#include "igw/common.h"

static int
read_stdin(struct igw_buf *b)
{
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
        if (igw_buf_append(b, chunk, k) != IGW_OK) {
            return 1;
        }
    }
    return 0;
}

static int
build(struct igw_buf *b, char **argv)
{
    int rv = igw_buf_printf(b, "%s\n%s\n%s\n", argv[2], argv[3], argv[4]);
    if (rv != IGW_OK) {
        return 1;
    }
    if (strcmp(argv[5], "-") == 0) {
        return read_stdin(b);
    }
    return igw_buf_puts(b, argv[5]) == IGW_OK ? 0 : 1;
}

static int
request(char **argv)
{
    nng_socket s;
    struct igw_buf b;
    char *reply = NULL;
    size_t len = 0;
    int rv;

    igw_buf_init(&b, 64u << 20);
    if (build(&b, argv) != 0) {
        fprintf(stderr, "sp_send: cannot build the request\n");
        return 1;
    }
    rv = nng_req0_open(&s);
    rv = rv == 0 ? nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000) : rv;
    rv = rv == 0 ? nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, 60000) : rv;
    rv = rv == 0 ? nng_dial(s, argv[1], NULL, 0) : rv;
    rv = rv == 0 ? nng_send(s, b.ptr, b.len, 0) : rv;
    rv = rv == 0 ? nng_recv(s, &reply, &len, NNG_FLAG_ALLOC) : rv;
    if (rv != 0) {
        fprintf(stderr, "sp_send: %s\n", nng_strerror(rv));
    } else {
        printf("%.*s\n", (int)len, reply);
        nng_free(reply, len);
    }
    igw_buf_fini(&b);
    nng_close(s);
    return rv == 0 ? 0 : 1;
}

static int
subscribe(char **argv)
{
    nng_socket s;
    long count = strtol(argv[3], NULL, 10);
    int rv = nng_sub0_open(&s);

    rv = rv == 0 ? nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "", 0) : rv;
    rv = rv == 0 ? nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, (int)strtol(argv[4], NULL, 10)) : rv;
    rv = rv == 0 ? nng_dial(s, argv[2], NULL, 0) : rv;
    printf("subscribed\n");
    fflush(stdout);
    for (long i = 0; rv == 0 && i < count; i++) {
        char *msg = NULL;
        size_t len = 0;
        rv = nng_recv(s, &msg, &len, NNG_FLAG_ALLOC);
        if (rv == 0) {
            printf("%.*s\n", (int)len, msg);
            fflush(stdout);
            nng_free(msg, len);
        }
    }
    if (rv != 0) {
        fprintf(stderr, "sp_send sub: %s\n", nng_strerror(rv));
    }
    nng_close(s);
    return rv == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "sub") == 0) {
        return subscribe(argv);
    }
    if (argc == 6) {
        return request(argv);
    }
    fprintf(stderr, "usage: sp_send URL CHANNEL CONTENT-TYPE IDEMPOTENCY-KEY BODY|-\n"
                    "       sp_send sub URL COUNT TIMEOUT-MS\n");
    return 2;
}
