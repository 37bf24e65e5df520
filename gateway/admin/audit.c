/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin audit log (audit.h): a JSON-lines file appended with O_APPEND and fdatasync'd per
 * record, rotated to FILE.1 at its size limit, listed newest first by reading both files back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "igw/common.h"
#include "igw/log.h"
#include "admin/audit.h"

#define RECORD_MAX (1u << 20)
#define TAIL_READ 65536

struct igw_audit {
    pthread_mutex_t mu;
    char *path;
    char *old_path; /* path + ".1" */
    int fd;
    uint64_t size;
    uint64_t max;
    uint64_t seq; /* last written */
};

/* The seq of the last complete line of the file at path (0 when none). */
static uint64_t
last_seq(const char *path)
{
    char buf[TAIL_READ + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    ssize_t n;
    off_t off;
    unsigned long long seq = 0;
    char *p;

    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        close(fd);
        return 0;
    }
    off = st.st_size > TAIL_READ ? st.st_size - TAIL_READ : 0;
    n = pread(fd, buf, TAIL_READ, off);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    while (n > 0 && buf[n - 1] == '\n') {
        buf[--n] = '\0';
    }
    p = strrchr(buf, '\n');
    p = p != NULL ? p + 1 : buf;
    if (sscanf(p, "{\"seq\":%llu", &seq) != 1) {
        return 0;
    }
    return (uint64_t)seq;
}

static int
open_file(igw_audit *a)
{
    struct stat st;

    a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (a->fd < 0 || fstat(a->fd, &st) != 0) {
        return IGW_EIO;
    }
    a->size = (uint64_t)st.st_size;
    return IGW_OK;
}

int
igw_audit_open(igw_audit **out, const char *path, uint64_t max_bytes, char *errbuf, size_t errlen)
{
    igw_audit *a;
    uint64_t s1;

    if (out == NULL || path == NULL) {
        return IGW_EINVAL;
    }
    a = IGW_NEW(igw_audit);
    if (a == NULL) {
        return IGW_ENOMEM;
    }
    pthread_mutex_init(&a->mu, NULL);
    a->fd = -1;
    a->max = max_bytes < 4096 ? 4096 : max_bytes;
    a->path = igw_strdup(path);
    a->old_path = igw_malloc(strlen(path) + 3);
    if (a->path == NULL || a->old_path == NULL) {
        igw_audit_close(a);
        return IGW_ENOMEM;
    }
    snprintf(a->old_path, strlen(path) + 3, "%s.1", path);
    if (open_file(a) != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "cannot open audit log %s: %s", path, strerror(errno));
        igw_audit_close(a);
        return IGW_EIO;
    }
    a->seq = last_seq(a->path);
    s1 = last_seq(a->old_path);
    a->seq = s1 > a->seq ? s1 : a->seq;
    *out = a;
    return IGW_OK;
}

void
igw_audit_close(igw_audit *a)
{
    if (a == NULL) {
        return;
    }
    if (a->fd >= 0) {
        close(a->fd);
    }
    pthread_mutex_destroy(&a->mu);
    igw_free(a->path);
    igw_free(a->old_path);
    igw_free(a);
}

/* The record's line, without the seq's lock-dependent part. */
static int
format_record(struct igw_buf *b, uint64_t seq, const struct igw_admin_caller *c, const char *action,
              const char *target, const char *detail)
{
    const char *who = c != NULL && c->name[0] != '\0' ? c->name : "-";
    const char *role = igw_admin_role_name(c != NULL ? c->role : IGW_ROLE_NONE);
    int rv =
        igw_buf_printf(b, "{\"seq\":%" PRIu64 ",\"ts_ms\":%" PRIu64 ",\"who\":", seq, igw_now_ms());

    rv = rv == IGW_OK ? igw_buf_json_str(b, who, strlen(who)) : rv;
    rv = rv == IGW_OK ? igw_buf_printf(b, ",\"role\":\"%s\",\"action\":", role) : rv;
    rv = rv == IGW_OK ? igw_buf_json_str(b, action, strlen(action)) : rv;
    rv = rv == IGW_OK ? igw_buf_puts(b, ",\"target\":") : rv;
    if (rv == IGW_OK) {
        rv = target != NULL ? igw_buf_json_str(b, target, strlen(target)) : igw_buf_puts(b, "null");
    }
    if (rv == IGW_OK && detail != NULL) {
        rv = igw_buf_puts(b, ",\"detail\":");
        if (rv == IGW_OK && strpbrk(detail, "\r\n") == NULL && detail[0] != '\0') {
            rv = igw_buf_puts(b, detail);
        } else if (rv == IGW_OK) {
            rv = igw_buf_json_str(b, detail, strlen(detail));
        }
    }
    return rv == IGW_OK ? igw_buf_puts(b, "}\n") : rv;
}

/* Moves the full file to FILE.1 and starts a new one (under a->mu). */
static int
rotate(igw_audit *a)
{
    close(a->fd);
    a->fd = -1;
    if (rename(a->path, a->old_path) != 0) {
        IGW_ERROR("audit: cannot rotate %s: %s", a->path, strerror(errno));
    }
    return open_file(a);
}

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return IGW_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return IGW_OK;
}

int
igw_audit_append(igw_audit *a, const struct igw_admin_caller *c, const char *action,
                 const char *target, const char *detail_json)
{
    struct igw_buf b;
    int rv;

    if (a == NULL || action == NULL) {
        return IGW_EINVAL;
    }
    igw_buf_init(&b, RECORD_MAX);
    pthread_mutex_lock(&a->mu);
    rv = a->size >= a->max ? rotate(a) : IGW_OK;
    rv = rv == IGW_OK ? format_record(&b, a->seq + 1, c, action, target, detail_json) : rv;
    rv = rv == IGW_OK && a->fd < 0 ? IGW_EIO : rv;
    rv = rv == IGW_OK ? write_all(a->fd, b.ptr, b.len) : rv;
    if (rv == IGW_OK && fdatasync(a->fd) != 0) {
        rv = IGW_EIO;
    }
    if (rv == IGW_OK) {
        a->seq++;
        a->size += b.len;
    }
    pthread_mutex_unlock(&a->mu);
    igw_buf_fini(&b);
    return rv;
}

void
igw_audit_write(igw_audit *a, const struct igw_admin_caller *c, const char *action,
                const char *target, const char *detail_json)
{
    int rv;

    if (a == NULL) {
        return;
    }
    rv = igw_audit_append(a, c, action, target, detail_json);
    if (rv != IGW_OK) {
        IGW_ERROR("audit: cannot record %s: %s", action, igw_strerror(rv));
    }
}

/* Appends the lines of text (newest last in the file) with seq < before to out, newest first,
 * until *left reaches 0; *next is the seq of the last one taken. */
static int
take_lines(const struct igw_buf *text, uint64_t before, unsigned *left, bool *first, uint64_t *next,
           struct igw_buf *out)
{
    size_t end = text->len;
    int rv = IGW_OK;

    while (rv == IGW_OK && end > 0 && *left > 0) {
        size_t start = end - 1;
        unsigned long long seq = 0;
        while (start > 0 && text->ptr[start - 1] != '\n') {
            start--;
        }
        if (end - start > 1 && sscanf(text->ptr + start, "{\"seq\":%llu", &seq) == 1 &&
            (before == 0 || seq < before)) {
            size_t len = end - start - (text->ptr[end - 1] == '\n' ? 1 : 0);
            rv = *first ? IGW_OK : igw_buf_putc(out, ',');
            rv = rv == IGW_OK ? igw_buf_append(out, text->ptr + start, len) : rv;
            *first = false;
            *next = seq;
            (*left)--;
        }
        end = start;
    }
    return rv;
}

static int
read_into(const char *path, struct igw_buf *b)
{
    int rv = igw_buf_read_file(b, path);
    return rv == IGW_EIO && errno == ENOENT ? IGW_OK : rv;
}

int
igw_audit_list(igw_audit *a, uint64_t before, unsigned limit, struct igw_buf *out)
{
    struct igw_buf text;
    unsigned left = limit;
    bool first = true;
    uint64_t next = 0;
    int rv;

    if (a == NULL || out == NULL || limit == 0 || limit > IGW_AUDIT_LIST_MAX) {
        return IGW_EINVAL;
    }
    igw_buf_init(&text, (size_t)a->max + RECORD_MAX + 1);
    rv = igw_buf_puts(out, "{\"items\":[");
    pthread_mutex_lock(&a->mu); /* no rotation while the two files are read */
    rv = rv == IGW_OK ? read_into(a->path, &text) : rv;
    rv = rv == IGW_OK ? take_lines(&text, before, &left, &first, &next, out) : rv;
    if (rv == IGW_OK && left > 0) {
        igw_buf_reset(&text);
        rv = read_into(a->old_path, &text);
        rv = rv == IGW_OK ? take_lines(&text, before, &left, &first, &next, out) : rv;
    }
    pthread_mutex_unlock(&a->mu);
    igw_buf_fini(&text);
    /* a full page may be the last one: next then leads to an empty page, which is cheap */
    if (rv == IGW_OK) {
        rv = left == 0 && next > 1 ? igw_buf_printf(out, "],\"next\":\"%" PRIu64 "\"}", next)
                                   : igw_buf_puts(out, "],\"next\":null}");
    }
    return rv;
}
