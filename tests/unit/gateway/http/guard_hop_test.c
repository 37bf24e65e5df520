/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of gateway/http/guard_conn.c and guard_handoff.c: the connection guard's handoff to its
 * backend over Unix socket pairs when many more client connections arrive at once than hops may
 * be pending (GUARD_HOPS_PENDING_MAX) and than the backend's accept queue holds. The backend
 * here is a real listener with an accept queue of 2 that stops accepting for a while, as nng's
 * poller does on a loaded box: every client must still be answered (a hop whose signalling
 * handshake the kernel dropped used to leave its client waiting for ever). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "igw/common.h"
#include "http/guard.h"
#include "igwt.h"

#define CLIENTS 300
#define STALL_MS 2500 /* the backend accepts nothing this long after the burst starts */
#define ANSWER_S 40   /* every client answered within it (about 10 s here; never before the fix) */

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

struct backend {
    int lfd;
    atomic_bool stop;
    atomic_ullong resume_ms; /* 0: accept now */
    atomic_uint served;
};

/* A listener on 127.0.0.1 with an accept queue of backlog. @return its fd; *port its port. */
static int
listener(uint16_t *port, int backlog)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Reads one request's header block from fd (bounded in time) and answers it. */
static void
serve(struct backend *b, int fd)
{
    char buf[8192];
    size_t n = 0;
    uint64_t until = igw_mono_ms() + 5000;

    while (n < sizeof(buf) - 1 && igw_mono_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR))) {
            break; /* the guard's start-up probe sends nothing and closes */
        }
        n += r > 0 ? (size_t)r : 0;
        buf[n] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL) {
            (void)!write(fd, answer, sizeof(answer) - 1);
            atomic_fetch_add(&b->served, 1);
            break;
        }
    }
    close(fd);
}

/* The backend's thread: accept() is igw's (guard_handoff.c), as it is for nng's listener. */
static void *
backend_main(void *arg)
{
    struct backend *b = arg;

    while (!atomic_load(&b->stop)) {
        struct pollfd p = {.fd = b->lfd, .events = POLLIN};
        uint64_t resume = atomic_load(&b->resume_ms);
        int fd;
        if (resume != 0 && igw_mono_ms() < resume) {
            usleep(10 * 1000);
            continue;
        }
        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        fd = accept(b->lfd, NULL, NULL);
        if (fd >= 0) {
            serve(b, fd);
        }
    }
    return NULL;
}

/* A port nothing listens on now (for the guard's public listener). */
static uint16_t
free_port(void)
{
    uint16_t port = 0;
    int fd = listener(&port, 1);

    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static void
test_burst_beyond_pending_hops(void)
{
    struct backend b = {.lfd = -1};
    pthread_t thr;
    igw_guard *g = NULL;
    uint16_t be_port = 0;
    uint16_t pub = free_port();
    char port[8];
    char err[256] = "";
    int cl[CLIENTS];
    bool done[CLIENTS] = {false};
    unsigned answered = 0;
    uint64_t until;
    static const char req[] = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";

    struct rlimit rl;

    /* the guard and the clients: 4 descriptors per client at most */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4 * CLIENTS + 256) {
        rl.rlim_cur = rl.rlim_max < 4 * CLIENTS + 256 ? rl.rlim_max : 4 * CLIENTS + 256;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 4 * CLIENTS + 256) {
        IGWT_SKIP("needs more open files");
    }
    snprintf(port, sizeof(port), "%u", (unsigned)pub);
    b.lfd = listener(&be_port, 2);
    IGWT_ASSERT(b.lfd >= 0 && pub != 0);
    atomic_init(&b.stop, false);
    atomic_init(&b.resume_ms, 0);
    atomic_init(&b.served, 0);
    IGWT_ASSERT(pthread_create(&thr, NULL, backend_main, &b) == 0);
    {
        struct igw_guard_opts o = {.what = "test",
                                   .host = "127.0.0.1",
                                   .port = port,
                                   .backend_port = be_port,
                                   .header_timeout_ms = 10000,
                                   .idle_timeout_ms = 10000};
        int rv = igw_guard_start(&g, &o, err, sizeof(err));
        if (rv != IGW_OK) {
            fprintf(stderr, "  guard: %s\n", err);
        }
        IGWT_CHECK(rv == IGW_OK);
    }
    if (g != NULL) {
        atomic_store(&b.resume_ms, igw_mono_ms() + STALL_MS);
        for (int i = 0; i < CLIENTS; i++) {
            struct sockaddr_in sa = {.sin_family = AF_INET,
                                     .sin_port = htons(pub),
                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            cl[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            IGWT_ASSERT(cl[i] >= 0);
            IGWT_ASSERT(connect(cl[i], (struct sockaddr *)&sa, sizeof(sa)) == 0);
            IGWT_ASSERT(write(cl[i], req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1));
        }
        until = igw_mono_ms() + ANSWER_S * 1000;
        while (answered < CLIENTS && igw_mono_ms() < until) {
            for (int i = 0; i < CLIENTS; i++) {
                struct pollfd p = {.fd = cl[i], .events = POLLIN};
                char buf[512];
                if (done[i] || poll(&p, 1, 0) != 1) {
                    continue;
                }
                ssize_t r = read(cl[i], buf, sizeof(buf) - 1);
                buf[r > 0 ? r : 0] = '\0';
                IGWT_CHECK(r > 0 && strncmp(buf, "HTTP/1.1 200", 12) == 0);
                done[i] = true;
                answered++;
            }
            usleep(20 * 1000);
        }
        if (answered < CLIENTS) {
            fprintf(stderr, "  %u of %d clients answered in %d s\n", answered, CLIENTS, ANSWER_S);
        }
        IGWT_CHECK(answered == CLIENTS);
        IGWT_CHECK(atomic_load(&b.served) >= CLIENTS);
        for (int i = 0; i < CLIENTS; i++) {
            close(cl[i]);
        }
        igw_guard_stop(g);
    }
    atomic_store(&b.stop, true);
    pthread_join(thr, NULL);
    close(b.lfd);
}

IGWT_MAIN({"burst_beyond_pending_hops", test_burst_beyond_pending_hops})
