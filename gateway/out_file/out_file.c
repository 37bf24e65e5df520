/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file:// destinations: one NDJSON line per delivery appended to the route's file.
 *
 * Line format (documented in docs/DELIVERY.md):
 *   - a payload that is a JSON object or array on one line (no CR/LF), valid UTF-8, is written
 *     as is, so a file of JSON events stays greppable and loads with any NDJSON reader;
 *   - anything else is wrapped: {"id":"<16 hex>","content_type":"..."|null,"body":"<string>"}
 *     with the body as an escaped JSON string, or "body_base64" when it is not valid UTF-8.
 *
 * Durability: the deliveries started in one loop round are written together and the file is
 * fsync'ed once before any of them is reported delivered. On a write or sync error the file is
 * truncated back to its length before the batch (no torn line stays behind), closed (reopened
 * next time) and every delivery of the batch is a transient failure.
 *
 * The file is opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC with mode 0640; missing parent
 * directories are created (mode 0750). Writes happen on the delivery thread: a batch costs one
 * fsync of the loop's time, which is the price of "delivered means on disk".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "igw/common.h"
#include "igw/log.h"
#include "igw/utf8.h"
#include "delivery/output.h"
#include "out_file/file_conf.h"

#define FILE_PATH_MAX 4096

/* The route's context: open descriptor (-1 = closed) and this round's batch. */
struct file_route {
    const struct igw_route *cfg;
    int fd;
    struct igw_dlv *head;
    struct igw_dlv *tail;
};

/* Per-delivery state: the batch link. */
struct file_dlv {
    struct igw_dlv *next;
};

static struct igw_dlv **
link_of(struct igw_dlv *dl)
{
    return &((struct file_dlv *)igw_dlv_state(dl))->next;
}

static const char *
file_path(const struct file_route *rs)
{
    const struct igw_route *r = rs->cfg;
    if (r->file_path != NULL) {
        return r->file_path;
    }
    return strncmp(r->url, "file://", 7) == 0 ? r->url + 7 : r->url;
}

static int
mkdir_parents(const char *path)
{
    char tmp[FILE_PATH_MAX];
    size_t n = strlen(path);

    if (n >= sizeof(tmp)) {
        return ENAMETOOLONG;
    }
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i < n; i++) {
        if (tmp[i] != '/') {
            continue;
        }
        tmp[i] = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST) {
            return errno;
        }
        tmp[i] = '/';
    }
    return 0;
}

static int
file_open(struct file_route *rs)
{
    const char *path = file_path(rs);
    int err;

    if (rs->fd >= 0) {
        return 0;
    }
    err = mkdir_parents(path);
    if (err != 0) {
        return err;
    }
    rs->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    return rs->fd < 0 ? errno : 0;
}

/* ---- line format -------------------------------------------------------------------------- */

static bool
is_json_line(const char *p, size_t n)
{
    size_t i = 0;
    const char *end = NULL;
    cJSON *j;
    bool ok;

    if (n == 0 || memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL) {
        return false;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }
    if (i == n || (p[i] != '{' && p[i] != '[') || !igw_utf8_valid(p, n, NULL)) {
        return false;
    }
    j = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (j == NULL) {
        return false;
    }
    cJSON_Delete(j);
    ok = end != NULL;
    for (const char *c = end; ok && c < p + n; c++) {
        ok = *c == ' ' || *c == '\t';
    }
    return ok;
}

static int
base64_append(struct igw_buf *b, const unsigned char *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rv = igw_buf_reserve(b, (n + 2) / 3 * 4);
    for (size_t i = 0; i < n && rv == IGW_OK; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        char q[4];
        v |= i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0;
        v |= i + 2 < n ? (uint32_t)p[i + 2] : 0;
        q[0] = tbl[(v >> 18) & 63];
        q[1] = tbl[(v >> 12) & 63];
        q[2] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tbl[v & 63] : '=';
        rv = igw_buf_append(b, q, 4);
    }
    return rv;
}

static int
line_wrapped(struct igw_buf *b, const struct igw_queue_claim *c)
{
    char id[IGW_QUEUE_ID_STRLEN];
    int rv;

    igw_queue_id_format(c->id, id);
    rv = igw_buf_printf(b, "{\"id\":\"%s\",\"content_type\":", id);
    if (rv == IGW_OK) {
        rv = c->content_type != NULL ? igw_buf_json_str(b, c->content_type, strlen(c->content_type))
                                     : igw_buf_puts(b, "null");
    }
    if (rv != IGW_OK) {
        return rv;
    }
    if (igw_utf8_valid(c->payload.ptr, c->payload.len, NULL)) {
        rv = igw_buf_puts(b, ",\"body\":");
        rv = rv == IGW_OK ? igw_buf_json_str(b, c->payload.ptr, c->payload.len) : rv;
    } else {
        rv = igw_buf_puts(b, ",\"body_base64\":\"");
        rv = rv == IGW_OK ? base64_append(b, (const unsigned char *)c->payload.ptr, c->payload.len)
                          : rv;
        rv = rv == IGW_OK ? igw_buf_putc(b, '"') : rv;
    }
    return rv == IGW_OK ? igw_buf_putc(b, '}') : rv;
}

static int
line_build(struct igw_buf *b, const struct igw_queue_claim *c)
{
    const struct igw_buf *p = &c->payload;
    int rv;

    if (p->len > 0 && is_json_line(p->ptr, p->len)) {
        rv = igw_buf_append(b, p->ptr, p->len);
    } else {
        rv = line_wrapped(b, c);
    }
    return rv == IGW_OK ? igw_buf_putc(b, '\n') : rv;
}

/* ---- batch -------------------------------------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int
batch_write(struct file_route *rs)
{
    struct igw_buf line;
    int err = 0;

    for (struct igw_dlv *dl = rs->head; dl != NULL && err == 0; dl = *link_of(dl)) {
        const struct igw_queue_claim *c = igw_dlv_claim(dl);
        igw_buf_init(&line, c->payload.len * 6 + 512);
        err = line_build(&line, c) == IGW_OK ? 0 : ENOMEM;
        if (err == 0) {
            err = write_all(rs->fd, line.ptr, line.len);
        }
        igw_buf_fini(&line);
    }
    if (err == 0 && fsync(rs->fd) != 0) {
        err = errno;
    }
    return err;
}

static void
batch_finish(struct file_route *rs, int err)
{
    char what[IGW_DLV_ERROR_MAX];
    struct igw_dlv *dl = rs->head;

    what[0] = '\0';
    rs->head = NULL;
    rs->tail = NULL;
    if (err != 0) {
        snprintf(what, sizeof(what), "file: %s", strerror(err));
    }
    while (dl != NULL) {
        struct igw_dlv *next = *link_of(dl);
        if (err == 0) {
            igw_dlv_finish_ok(dl);
        } else {
            igw_dlv_finish_transient(dl, 0, what);
        }
        dl = next;
    }
}

static void
file_close(struct file_route *rs)
{
    if (rs->fd >= 0) {
        close(rs->fd);
        rs->fd = -1;
    }
}

static void
flush_route(struct file_route *rs)
{
    struct stat st;
    int err = file_open(rs);

    if (err == 0 && fstat(rs->fd, &st) != 0) {
        err = errno;
    }
    if (err == 0) {
        err = batch_write(rs);
        if (err != 0 && ftruncate(rs->fd, st.st_size) != 0) {
            IGW_ERROR("deliver: route %s: cannot truncate a torn batch: %s", rs->cfg->name,
                      strerror(errno));
        }
    }
    if (err != 0) {
        IGW_WARN("deliver: route %s: file write failed: %s", rs->cfg->name, strerror(err));
        file_close(rs);
    }
    batch_finish(rs, err);
}

/* Adds dl to its route's batch; the flush of this loop round writes it. */
static void
file_start(struct igw_dlv *dl)
{
    struct file_route *rs = igw_dlv_route_ctx(dl);

    *link_of(dl) = NULL;
    if (rs->tail == NULL) {
        rs->head = dl;
    } else {
        *link_of(rs->tail) = dl;
    }
    rs->tail = dl;
}

/* Writes the route's batch (one fsync) and finishes its deliveries. */
static void
file_flush(void *rctx)
{
    struct file_route *rs = rctx;

    if (rs->head != NULL) {
        flush_route(rs);
    }
}

static int
file_route_init(const struct igw_output_route *r, void **rctx)
{
    struct file_route *rs = IGW_NEW(struct file_route);

    if (rs == NULL) {
        return IGW_ENOMEM;
    }
    rs->cfg = r->cfg;
    rs->fd = -1;
    *rctx = rs;
    return IGW_OK;
}

static void
file_route_fini(void *rctx)
{
    struct file_route *rs = rctx;

    if (rs != NULL) {
        file_close(rs);
        igw_free(rs);
    }
}

static const struct igw_output_scheme file_schemes[] = {{"file://", false}};

const struct igw_output_ops igw_output_file = {
    .name = "file",
    .description = "one NDJSON line per delivery appended to a file, fsync'ed per batch",
    .schemes = file_schemes,
    .nschemes = IGW_ARRAY_LEN(file_schemes),
    .url_check = igw_file_url_check,
    .dlv_size = sizeof(struct file_dlv),
    .route_init = file_route_init,
    .route_fini = file_route_fini,
    .start = file_start,
    .flush = file_flush,
};
