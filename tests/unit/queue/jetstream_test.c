/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The queue contract suite on the JetStream backend, against a real nats-server with JetStream
 * that this test starts on a free loopback port with a store in a temporary directory (and
 * stops at exit). Each case's location is a fresh stream prefix. SKIP (77) when the backend was
 * not built (no libnats) or nats-server is not installed. Own cases: two instances on one queue
 * (no double hand-out, takeover after the lease), bad options.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/queue_backend.h"
#include "igw/queue_jetstream.h"
#include "contract.h"
#include "igwt_tmp.h"
#include "../../../queue/jetstream/js_int.h"

static char url[64];
static char store[128];
static pid_t server = -1;
static unsigned serial;

static int
js_fresh(char *loc, size_t len)
{
    snprintf(loc, len, "c%ld_%u", (long)getpid(), ++serial);
    return IGW_OK;
}

static int
js_open_as(igw_queue **q, const char *loc, const char *inst, uint64_t ack_wait_ms,
           uint64_t retain_ms, char *errbuf, size_t errlen)
{
    struct igw_queue_jetstream_opts jo;
    struct igw_queue_opts o;

    memset(&jo, 0, sizeof(jo));
    jo.servers = url;
    jo.name = loc;
    jo.instance = inst;
    jo.ack_wait_ms = ack_wait_ms;
    memset(&o, 0, sizeof(o));
    o.backend = "jetstream";
    o.backend_opts = &jo;
    o.retain_delivered_ms = retain_ms;
    o.retain_idempotency_ms = retain_ms;
    return igw_queue_open(q, &o, errbuf, errlen);
}

static int
js_open(igw_queue **q, const char *loc, uint64_t retain_ms, char *errbuf, size_t errlen)
{
    return js_open_as(q, loc, "t", 0, retain_ms, errbuf, errlen);
}

static void
js_remove(const char *loc)
{
    IGW_UNUSED(loc); /* the server's whole store goes at exit */
}

static const struct qc_backend js_backend = {"jetstream", js_fresh, js_open, js_remove};

/* ---- the server --------------------------------------------------------------------------- */

static void
stop_server(void)
{
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
        server = -1;
    }
    if (store[0] != '\0') {
        igwt_rm_tree(store);
    }
}

static int
free_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static bool
reachable(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bool ok;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* Starts nats-server -js; false (with the reason in why) when it cannot run here. */
static bool
start_server(char *why, size_t len)
{
    static const char *const where[] = {"/usr/sbin/nats-server", "/usr/bin/nats-server",
                                        "/usr/local/bin/nats-server"};
    const char *bin = getenv("NATS_SERVER");
    char portstr[16];
    int port = free_port();

    for (size_t i = 0; bin == NULL && i < sizeof(where) / sizeof(where[0]); i++) {
        bin = access(where[i], X_OK) == 0 ? where[i] : NULL;
    }
    if (bin == NULL || access(bin, X_OK) != 0) {
        snprintf(why, len, "nats-server not installed (NATS_SERVER or /usr/sbin/nats-server)");
        return false;
    }
    if (port < 0 || igwt_tmpdir(store, sizeof(store), "igwjs") == NULL) {
        snprintf(why, len, "no free port or temporary directory");
        return false;
    }
    snprintf(portstr, sizeof(portstr), "%d", port);
    snprintf(url, sizeof(url), "nats://127.0.0.1:%d", port);
    server = fork();
    if (server == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execl(bin, bin, "-js", "-a", "127.0.0.1", "-p", portstr, "-sd", store, (char *)NULL);
        _exit(127);
    }
    atexit(stop_server);
    for (int i = 0; i < 200; i++) {
        if (reachable(port)) {
            usleep(200 * 1000); /* JetStream ready shortly after the port */
            return true;
        }
        usleep(25 * 1000);
    }
    snprintf(why, len, "nats-server did not start on port %d", port);
    return false;
}

/* ---- own cases ---------------------------------------------------------------------------- */

/* Two instances on one queue: a delivery is handed out once; one left in flight by an instance
 * that stops without completing comes back to the other after the lease. */
static void
test_two_instances(void)
{
    char loc[QC_LOC_MAX];
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *a = NULL;
    igw_queue *b = NULL;
    struct igw_queue_claim ca[16];
    struct igw_queue_claim cb[16];
    unsigned na;
    unsigned nb;
    uint64_t seen[16] = {0};

    js_fresh(loc, sizeof(loc));
    IGWT_OK(js_open_as(&a, loc, "a", 1500, 0, err, sizeof(err)));
    IGWT_OK(js_open_as(&b, loc, "b", 1500, 0, err, sizeof(err)));
    for (int i = 0; i < 10; i++) {
        qc_put1(i % 2 ? a : b, "r", NULL, "x");
    }
    for (int i = 0; i < 100 && qc_stats(a).messages < 10; i++) {
        usleep(20 * 1000); /* b's accepts reach a through the stream */
    }
    IGWT_CHECK(qc_stats(a).messages == 10);
    /* each instance hands out the other's messages once it has checked them against the
     * stream leader */
    na = qc_claim(a, igw_now_ms(), ca, 6);
    for (int i = 0; i < 100 && na < 6; i++) {
        usleep(20 * 1000);
        na += qc_claim(a, igw_now_ms(), ca + na, 6 - na);
    }
    nb = qc_claim(b, igw_now_ms(), cb, 16);
    for (int i = 0; i < 100 && na + nb < 10; i++) {
        usleep(20 * 1000);
        nb += qc_claim(b, igw_now_ms(), cb + nb, 16 - nb);
    }
    IGWT_CHECK(na == 6);
    IGWT_CHECK(na + nb == 10);
    for (unsigned i = 0; i < na; i++) {
        seen[ca[i].id]++;
    }
    for (unsigned i = 0; i < nb; i++) {
        seen[cb[i].id]++;
        qc_done(b, cb[i].id, "r", IGW_DELIVER_OK, 0);
    }
    for (int i = 1; i <= 10; i++) {
        IGWT_CHECK(seen[i] == 1); /* no double hand-out */
    }
    qc_fini_claims(cb, nb);
    qc_fini_claims(ca, na);
    igw_queue_close(a); /* a's 6 stay in flight under a's name */
    IGWT_CHECK(qc_claim(b, igw_now_ms(), cb, 16) == 0);
    usleep(1700 * 1000); /* the lease runs out */
    nb = qc_claim(b, igw_now_ms(), cb, 16);
    IGWT_CHECK(nb == na);
    qc_fini_claims(cb, nb);
    igw_queue_close(b);
}

/* The backend itself (not the facade) on location loc as instance inst, with an hour's
 * retention: for the cases that look into its view. */
static int
be_open(void **be, const char *loc, const char *inst)
{
    const struct igw_queue_backend *ops = igw_queue_backend_find("jetstream");
    struct igw_queue_jetstream_opts jo;
    struct igw_queue_opts o;
    char err[IGW_ERRBUF_SIZE] = "";
    int rv;

    memset(&jo, 0, sizeof(jo));
    jo.servers = url;
    jo.name = loc;
    jo.instance = inst;
    memset(&o, 0, sizeof(o));
    o.backend = "jetstream";
    o.backend_opts = &jo;
    o.retain_delivered_ms = 3600000;
    o.retain_idempotency_ms = 3600000;
    rv = ops->open(be, &o, err, sizeof(err));
    if (rv != IGW_OK) {
        fprintf(stderr, "  open: %s\n", err);
    }
    return rv;
}

/* The view's revision of delivery (id, route 0) moved by off, as a bucket watcher fed by a
 * replica whose sequences are off would leave it (the record itself right). */
static void
shift_rev(void *be, uint64_t id, uint64_t off)
{
    qjs *s = be;
    struct jsm *m;

    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, id);
    IGWT_CHECK(m != NULL && m->d[0].rev > 0);
    if (m != NULL) {
        m->d[0].rev += off;
    }
    pthread_mutex_unlock(&s->mu);
}

/* it.cluster: a node that diverged from its stream leader after a kill -9 and a restart fed
 * the bucket watcher every record with a revision 20 too high. The claims' and the outcomes'
 * compare-and-sets then failed; the view took the leader's (older, otherwise equal) record and
 * the outcome was dropped, so the same heads were delivered again every lease, for ever. Such
 * a write is now done again against the leader's revision: the claim and the outcome land. */
static void
test_view_revision_off(void)
{
    const struct igw_queue_backend *ops = igw_queue_backend_find("jetstream");
    struct igw_queue_route_init r = {"r", "k", 1, NULL, 0, NULL};
    struct igw_queue_msg m = {"ch", NULL, 0, NULL, NULL, 0, "x", 1, 1, &r};
    struct igw_queue_outcome out;
    struct igw_queue_claim c[2];
    struct igw_queue_stats st;
    char loc[QC_LOC_MAX];
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *v = NULL;
    void *be = NULL;
    uint64_t id = 0;
    unsigned n = 0;

    js_fresh(loc, sizeof(loc));
    IGWT_OK(be_open(&be, loc, "a"));
    IGWT_OK(ops->put(be, &m, &id, NULL));
    IGWT_OK(ops->claim(be, igw_now_ms(), 2, NULL, NULL, c, &n));
    IGWT_CHECK(n == 1);
    qc_fini_claims(c, n);
    /* the outcome against an off revision: recorded (a retry, due now) */
    shift_rev(be, id, 20);
    memset(&out, 0, sizeof(out));
    out.id = id;
    out.route = "r";
    out.result = IGW_DELIVER_RETRY;
    out.next_due_ms = igw_now_ms();
    out.status = 503;
    IGWT_OK(ops->complete(be, &out, 1));
    /* the claim against an off revision: handed out in the same call */
    shift_rev(be, id, 20);
    n = 0;
    IGWT_OK(ops->claim(be, igw_now_ms(), 2, NULL, NULL, c, &n));
    IGWT_CHECK(n == 1);
    IGWT_CHECK(n == 0 || c[0].attempts == 1);
    qc_fini_claims(c, n);
    shift_rev(be, id, 20);
    out.result = IGW_DELIVER_OK;
    out.status = 200;
    IGWT_OK(ops->complete(be, &out, 1));
    memset(&st, 0, sizeof(st));
    IGWT_OK(ops->stats(be, &st));
    IGWT_CHECK(st.delivered == 1 && st.inflight == 0);
    ops->close(be);
    /* what the stream leader holds, loaded by a new instance */
    IGWT_OK(js_open_as(&v, loc, "b", 0, 3600000, err, sizeof(err)));
    st = qc_stats(v);
    IGWT_CHECK(st.delivered == 1 && st.inflight == 0 && st.pending == 0);
    igw_queue_close(v);
}

/* b's view of message id replaced by record rec (unchecked), as an ordered consumer fed by a
 * node that diverged from its stream leader delivers it. */
static void
diverge(void *be, uint64_t id, const struct igw_buf *rec)
{
    qjs *s = be;
    struct jsm *m;

    pthread_mutex_lock(&s->mu);
    m = jsv_find(s, id);
    if (m != NULL) {
        jsv_remove(s, m);
    }
    IGWT_CHECK(jsv_add(s, id, rec->ptr, rec->len, false) != NULL);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* it.cluster: the node leading the message stream was cut off, kept a publish it never
 * committed under a sequence the new leader gave another message, and fed that record to the
 * ordered consumer of the instance connected to it. The instance delivered the other body
 * under the acknowledged message's id and recorded it as delivered: the acknowledged message
 * was never delivered. Now a record read from the node is compared with the stream leader's
 * before anything of it is handed out: the leader's body goes out, under the right order, and a
 * record the leader does not have is dropped (after 5 s: the leader may lag its followers) and
 * read from the leader once the leader gives its id to a message (the node's consumer, past it,
 * will not deliver that one). */
static void
test_replica_diverged(void)
{
    const struct igw_queue_backend *ops = igw_queue_backend_find("jetstream");
    struct igw_queue_route_init wr = {"r", "other", 5, NULL, 0, NULL};
    struct igw_queue_msg wm = {"ch", NULL, 0, NULL, NULL, 0, "wrong", 5, 1, &wr};
    struct igw_queue_claim c[4];
    struct igw_buf rec;
    char loc[QC_LOC_MAX];
    char err[IGW_ERRBUF_SIZE] = "";
    igw_queue *a = NULL;
    void *be = NULL;
    qjs *s;
    uint64_t id1;
    uint64_t id2;
    unsigned n = 0;
    bool got1 = false;

    js_fresh(loc, sizeof(loc));
    IGWT_OK(js_open_as(&a, loc, "a", 0, 3600000, err, sizeof(err)));
    IGWT_OK(be_open(&be, loc, "b"));
    s = be;
    id1 = qc_put1(a, "r", "k", "right");
    id2 = qc_put1(a, "r", "k", "next");
    /* both in b's view and checked: no look of the checker is under way with them */
    for (int i = 0; i < 200; i++) {
        struct jsm *m1;
        struct jsm *m2;
        bool both;
        pthread_mutex_lock(&s->mu);
        m1 = jsv_find(s, id1);
        m2 = jsv_find(s, id2);
        both = m1 != NULL && m2 != NULL && m1->checked && m2->checked;
        pthread_mutex_unlock(&s->mu);
        if (both) {
            break;
        }
        usleep(20 * 1000);
    }
    igw_buf_init(&rec, 1 << 20);
    IGWT_OK(jsrec_encode_msg(&rec, &wm, igw_now_ms()));
    pthread_mutex_lock(&s->mu);
    s->check_hold = true;
    /* from here b's ordered consumer delivers nothing: as a diverged node's, past id2 + 3 */
    natsSubscription_Unsubscribe(s->msub);
    s->msg_seen = id2 + 3;
    pthread_mutex_unlock(&s->mu);
    diverge(be, id1, &rec);     /* another record under id1, another order key */
    diverge(be, id2 + 3, &rec); /* a record the leader does not have (yet) */
    /* not checked yet: nothing of it goes out, and id2 (same key) waits behind it */
    n = 0;
    IGWT_OK(ops->claim(be, igw_now_ms(), 4, NULL, NULL, c, &n));
    IGWT_CHECK(n == 0);
    qc_fini_claims(c, n);
    pthread_mutex_lock(&s->mu);
    s->check_hold = false;
    s->check_req = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < 150 && !got1; i++) {
        n = 0;
        IGWT_OK(ops->claim(be, igw_now_ms(), 4, NULL, NULL, c, &n));
        for (unsigned k = 0; k < n; k++) {
            IGWT_CHECK(c[k].id == id1); /* id2 waits for id1 (same key); never the extra one */
            IGWT_CHECK(c[k].payload.len == 5 && memcmp(c[k].payload.ptr, "right", 5) == 0);
            got1 = got1 || c[k].id == id1;
        }
        qc_fini_claims(c, n);
        if (!got1) {
            usleep(20 * 1000);
        }
    }
    IGWT_CHECK(got1);
    /* "no such message" may be a leader that has not applied it yet: dropped after 5 s */
    for (int i = 0; i < 300; i++) {
        bool gone;
        pthread_mutex_lock(&s->mu);
        gone = jsv_find(s, id2 + 3) == NULL;
        pthread_mutex_unlock(&s->mu);
        if (gone) {
            break;
        }
        usleep(50 * 1000);
    }
    pthread_mutex_lock(&s->mu);
    IGWT_CHECK(s->ctr.msg_diverged == 2);
    IGWT_CHECK(jsv_find(s, id2 + 3) == NULL);
    pthread_mutex_unlock(&s->mu);
    /* the leader gives id2 + 3 to the third message accepted next: b reads it from the leader */
    qc_put1(a, "r", "k3", "a");
    qc_put1(a, "r", "k3", "b");
    IGWT_CHECK(qc_put1(a, "r", "k3", "c") == id2 + 3);
    for (int i = 0; i < 100; i++) {
        bool in;
        pthread_mutex_lock(&s->mu);
        in = jsv_find(s, id2 + 3) != NULL;
        pthread_mutex_unlock(&s->mu);
        if (in) {
            break;
        }
        usleep(50 * 1000);
    }
    pthread_mutex_lock(&s->mu);
    {
        struct jsm *m3 = jsv_find(s, id2 + 3);
        IGWT_CHECK(m3 != NULL && m3->checked && m3->nroutes == 1);
        IGWT_CHECK(m3 == NULL || (m3->d[0].okey_len == 2 && memcmp(m3->d[0].okey, "k3", 2) == 0));
    }
    IGWT_CHECK(s->nholes == 0);
    pthread_mutex_unlock(&s->mu);
    igw_buf_fini(&rec);
    ops->close(be);
    igw_queue_close(a);
}

static void
test_bad_options(void)
{
    struct igw_queue_jetstream_opts jo;
    struct igw_queue_opts o;
    igw_queue *q = NULL;
    char err[IGW_ERRBUF_SIZE] = "";

    memset(&o, 0, sizeof(o));
    o.backend = "jetstream";
    IGWT_ERR(igw_queue_open(&q, &o, err, sizeof(err)), IGW_EINVAL); /* no options */
    memset(&jo, 0, sizeof(jo));
    jo.servers = url;
    jo.name = "bad.name";
    o.backend_opts = &jo;
    IGWT_ERR(igw_queue_open(&q, &o, err, sizeof(err)), IGW_EINVAL);
    jo.name = "ok";
    jo.replicas = 9;
    IGWT_ERR(igw_queue_open(&q, &o, err, sizeof(err)), IGW_EINVAL);
    jo.replicas = 0;
    jo.servers = "nats://127.0.0.1:1";
    jo.timeout_ms = 300;
    IGWT_ERR(igw_queue_open(&q, &o, err, sizeof(err)), IGW_EIO);
    IGWT_CHECK(strstr(err, "connect") != NULL);
}

int
main(int argc, char **argv)
{
    static const struct igwt_case own[] = {
        {"two_instances", test_two_instances},
        {"view_revision_off", test_view_revision_off},
        {"replica_diverged", test_replica_diverged},
        {"bad_options", test_bad_options},
        {NULL, NULL},
    };
    char why[256];

    if (igw_queue_backend_find("jetstream") == NULL) {
        printf("SKIP: built without the JetStream backend (libnats not found)\n");
        return IGWT_SKIP_CODE;
    }
    if (!start_server(why, sizeof(why))) {
        printf("SKIP: %s\n", why);
        return IGWT_SKIP_CODE;
    }
    return qc_main(&js_backend, own, argc, argv);
}
