/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `igw queue retry|replay|release|purge|edit` (queue_int.h): one message by id, or every
 * message a filter selects as a bulk job on the server, with a dry run, a confirmation and a
 * progress bar; edit opens $VISUAL or $EDITOR on a route's payload or the body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "igw/common.h"
#include "queue_int.h"

#define JOB_POLL_MS 200
#define EDIT_MAX (4u << 20) /* the API's limit of an edit request */

static void
print_done(const struct qcli *c, const struct qresp *r)
{
    const cJSON *rt;
    char *s;

    if (c->json) {
        s = cJSON_PrintUnformatted(r->doc);
        printf("%s\n", s != NULL ? s : "{}");
        cJSON_free(s);
        return;
    }
    printf("%s %s", qjstr(r->doc, "status") != NULL ? qjstr(r->doc, "status") : "done",
           qjstr(r->doc, "id") != NULL ? qjstr(r->doc, "id") : "");
    cJSON_ArrayForEach(rt, cJSON_GetObjectItemCaseSensitive(r->doc, "routes"))
    {
        printf(" %s", cJSON_IsString(rt) ? rt->valuestring : "");
    }
    putchar('\n');
}

/* ---- one message ----------------------------------------------------------------------- */

static int
repair_one(struct qcli *c, const char *action, const char *id, const char *route)
{
    struct igw_buf path;
    struct qresp r;
    int x;

    igw_buf_init(&path, 1024);
    /* purge: DELETE, which every admin API version takes (POST .../purge is the same) */
    if (strcmp(action, "purge") == 0) {
        igw_buf_printf(&path, "/admin/messages/%s", id);
    } else {
        igw_buf_printf(&path, "/admin/messages/%s/%s", id, action);
    }
    if (route != NULL) {
        qurl_param(&path, "route", route);
    }
    x = qhttp(c, strcmp(action, "purge") == 0 ? "DELETE" : "POST", path.ptr, NULL, &r, false);
    if (x == QX_OK) {
        print_done(c, &r);
    }
    qresp_fini(&r);
    igw_buf_fini(&path);
    return x;
}

/* ---- bulk ------------------------------------------------------------------------------ */

static void
sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void
progress(const cJSON *job, bool tty)
{
    double total = qjnum(job, "total", 0), done = qjnum(job, "done", 0);
    int width = 30, filled = total > 0 ? (int)(done / total * width) : width;

    if (!tty) {
        return;
    }
    fprintf(stderr, "\r[%.*s%.*s] %.0f/%.0f", filled, "##############################",
            width - filled, "..............................", done, total);
    fflush(stderr);
}

/* Follows a job until it is no longer running; its last state in *r. */
static int
follow_job(struct qcli *c, const char *id, struct qresp *r)
{
    bool tty = isatty(STDERR_FILENO) && !c->json;
    char path[160];
    int x = QX_OK;

    snprintf(path, sizeof(path), "/admin/jobs/%s", id);
    progress(r->doc, tty);
    while (x == QX_OK &&
           strcmp(qjstr(r->doc, "state") ? qjstr(r->doc, "state") : "", "running") == 0) {
        sleep_ms(JOB_POLL_MS);
        qresp_fini(r);
        x = qhttp(c, "GET", path, NULL, r, false);
        if (x == QX_OK) {
            progress(r->doc, tty);
        }
    }
    if (tty) {
        fputc('\n', stderr);
    }
    return x;
}

static char *
bulk_body(const struct qfilter *f, bool dry)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *flt = cJSON_AddObjectToObject(o, "filter");
    char *s;

    qfilter_json(f, flt);
    cJSON_AddBoolToObject(o, "dry_run", dry);
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* The dry run: the count of messages the action would change, or -1 (printed). */
static double
bulk_count(struct qcli *c, const char *path, const struct qfilter *f, int *x)
{
    struct qresp r;
    char *body = bulk_body(f, true);
    double n = -1;

    *x = qhttp(c, "POST", path, body, &r, false);
    if (*x == QX_OK) {
        n = qjnum(r.doc, "count", -1);
    }
    qresp_fini(&r);
    cJSON_free(body);
    return n;
}

static bool
confirm(const char *action, double n)
{
    char line[16];

    fprintf(stderr, "%s %.0f message(s)? [y/N] ", action, n);
    return fgets(line, sizeof(line), stdin) != NULL && (line[0] == 'y' || line[0] == 'Y');
}

static int
repair_bulk(struct qcli *c, const char *action, const struct qfilter *f, bool dry)
{
    char path[64], *body;
    struct qresp r;
    double n;
    int x;

    snprintf(path, sizeof(path), "/admin/bulk/%s", action);
    if (dry || (!c->yes && isatty(STDIN_FILENO))) {
        n = bulk_count(c, path, f, &x);
        if (x != QX_OK || n < 0) {
            return x != QX_OK ? x : QX_SERVER;
        }
        if (dry) {
            printf(c->json ? "{\"dry_run\":true,\"action\":\"%s\",\"count\":%.0f}\n"
                           : "%s would change %.0f message(s)\n",
                   action, n);
            return n > 0 ? QX_OK : QX_NOTHING;
        }
        if (n == 0) {
            fprintf(stderr, "igw queue %s: no message to change\n", action);
            return QX_NOTHING;
        }
        if (!confirm(action, n)) {
            fprintf(stderr, "igw queue %s: nothing done\n", action);
            return QX_NOTHING;
        }
    } else if (!c->yes) {
        fprintf(stderr, "igw queue %s: bulk work without a terminal needs --yes (or --dry-run)\n",
                action);
        return QX_USAGE;
    }
    body = bulk_body(f, false);
    x = qhttp(c, "POST", path, body, &r, false);
    cJSON_free(body);
    if (x == QX_OK && qjstr(r.doc, "id") != NULL) {
        char *id = igw_strdup(qjstr(r.doc, "id"));
        x = id != NULL ? follow_job(c, id, &r) : QX_SERVER;
        igw_free(id);
    }
    if (x == QX_OK) {
        const char *st = qjstr(r.doc, "state");
        if (c->json) {
            print_done(c, &r);
        } else {
            printf("%s: %s, %.0f of %.0f handled, %.0f changed, %.0f refused\n", action,
                   st != NULL ? st : "?", qjnum(r.doc, "done", 0), qjnum(r.doc, "total", 0),
                   qjnum(r.doc, "changed", 0), qjnum(r.doc, "failed", 0));
        }
        x = st != NULL && strcmp(st, "failed") == 0 ? QX_SERVER
            : qjnum(r.doc, "changed", 0) == 0       ? QX_NOTHING
                                                    : QX_OK;
    }
    qresp_fini(&r);
    return x;
}

int
qcmd_repair(struct qcli *c, int argc, char **argv)
{
    const char *action = argv[0], *id = NULL;
    struct qfilter f = {0};
    bool dry = false;
    int i = 1;

    while (i < argc) {
        int k = qfilter_opt(&f, argc, argv, &i);
        if (k < 0) {
            return QX_USAGE;
        }
        if (k > 0) {
            continue;
        }
        if (strcmp(argv[i], "--dry-run") == 0) {
            dry = true;
        } else if (argv[i][0] != '-' && id == NULL) {
            id = argv[i];
        } else {
            fprintf(stderr, "igw queue %s: unexpected %s\n", action, argv[i]);
            return qhelp(action, stderr);
        }
        i++;
    }
    if (id != NULL) {
        bool other = f.channel || f.state || f.since || f.until || f.order_key || f.idem || f.q;
        if (!qid_ok(id)) {
            return QX_USAGE;
        }
        if (other || dry || f.limit || f.cursor || (f.route && strcmp(action, "purge") == 0)) {
            fprintf(stderr, "igw queue %s: with an id only --route is taken%s\n", action,
                    strcmp(action, "purge") == 0 ? " (not by purge)" : "");
            return QX_USAGE;
        }
        return repair_one(c, action, id, f.route);
    }
    if (!qfilter_any(&f)) {
        fprintf(stderr, "igw queue %s: give a message id, or filters for bulk work\n", action);
        return qhelp(action, stderr);
    }
    if (f.q != NULL || f.limit != NULL || f.cursor != NULL) {
        fprintf(stderr, "igw queue %s: bulk work takes no --q, --limit or --cursor\n", action);
        return QX_USAGE;
    }
    return repair_bulk(c, action, &f, dry);
}

/* ---- edit ------------------------------------------------------------------------------ */

/* The delivery of route (full name, or the part after the channel), or the only one. */
static const cJSON *
pick_delivery(const cJSON *msg, const char *route)
{
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(msg, "deliveries"), *d;

    if (route == NULL) {
        return cJSON_GetArraySize(ds) == 1 ? cJSON_GetArrayItem(ds, 0) : NULL;
    }
    cJSON_ArrayForEach(d, ds)
    {
        const char *r = qjstr(d, "route"), *dot = r != NULL ? strchr(r, '.') : NULL;
        if (r != NULL && (strcmp(r, route) == 0 || (dot != NULL && strcmp(dot + 1, route) == 0))) {
            return d;
        }
    }
    return NULL;
}

/* Runs the editor on path; true when it exited 0. */
static bool
run_editor(const char *path)
{
    pid_t pid = fork();
    int st = 0;

    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "exec ${VISUAL:-${EDITOR:-vi}} \"$1\"", "sh", path,
              (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) < 0) {
        return false;
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Writes text to a private temporary file, edits it, reads it back into out. */
static int
edit_text(const char *text, struct igw_buf *out)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    int fd, x = QX_OK;
    FILE *f;

    snprintf(path, sizeof(path), "%s/igw-edit-XXXXXX", dir != NULL && *dir ? dir : "/tmp");
    fd = mkstemp(path); /* mode 0600: the payload is nobody else's to read */
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "igw queue edit: cannot write a temporary file in %s\n", path);
        if (fd >= 0) {
            unlink(path);
        }
        return QX_SERVER;
    }
    if (!run_editor(path)) {
        fprintf(stderr, "igw queue edit: the editor failed; nothing sent\n");
        x = QX_NOTHING;
    } else if (igw_buf_read_file(out, path) != IGW_OK) {
        fprintf(stderr, "igw queue edit: cannot read the edited file back (over 4 MiB?)\n");
        x = QX_USAGE;
    }
    unlink(path);
    return x;
}

static int
send_edit(struct qcli *c, const char *id, const char *route, const struct igw_buf *text)
{
    cJSON *o = cJSON_CreateObject();
    struct qresp r;
    char path[64], *body;
    int x;

    if (route != NULL) {
        cJSON_AddStringToObject(o, "route", route);
    }
    cJSON_AddItemToObject(o, route != NULL ? "payload" : "body",
                          cJSON_CreateString(text->ptr != NULL ? text->ptr : ""));
    body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    snprintf(path, sizeof(path), "/admin/messages/%s/edit", id);
    x = qhttp(c, "POST", path, body, &r, false);
    cJSON_free(body);
    if (x == QX_OK) {
        print_done(c, &r);
    }
    qresp_fini(&r);
    return x;
}

int
qcmd_edit(struct qcli *c, int argc, char **argv)
{
    const char *id = NULL, *route = NULL, *text, *full = NULL;
    bool whole = false;
    struct igw_buf out;
    struct qresp r;
    char path[64];
    int i, x;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--route") == 0 && i + 1 < argc) {
            route = argv[++i];
        } else if (strcmp(argv[i], "--body") == 0) {
            whole = true;
        } else if (argv[i][0] != '-' && id == NULL) {
            id = argv[i];
        } else {
            return qhelp("edit", stderr);
        }
    }
    if (id == NULL || (whole && route != NULL)) {
        return qhelp("edit", stderr);
    }
    if (!qid_ok(id)) {
        return QX_USAGE;
    }
    snprintf(path, sizeof(path), "/admin/messages/%s", id);
    x = qhttp(c, "GET", path, NULL, &r, false);
    if (x != QX_OK) {
        qresp_fini(&r);
        return x;
    }
    text = qjstr(r.doc, "body");
    if (!whole) {
        const cJSON *d = pick_delivery(r.doc, route);
        if (d == NULL) {
            fprintf(stderr,
                    "igw queue edit: %s; give --route (one of the message's routes) "
                    "or --body\n",
                    route != NULL ? "no such route" : "the message has several routes");
            qresp_fini(&r);
            return route != NULL ? QX_NOTHING : QX_USAGE;
        }
        full = qjstr(d, "route");
        /* no payload at all: the route delivers the original body */
        if (qjstr(d, "payload") != NULL) {
            text = qjstr(d, "payload");
        } else if (cJSON_GetObjectItemCaseSensitive(d, "payload") != NULL ||
                   cJSON_GetObjectItemCaseSensitive(d, "payload_len") != NULL) {
            text = NULL;
        }
    }
    if (text == NULL) {
        fprintf(stderr, "igw queue edit: that text is not shown by the API (not UTF-8 text, or "
                        "over 64 KiB): it cannot be edited here\n");
        qresp_fini(&r);
        return QX_NOTHING;
    }
    igw_buf_init(&out, EDIT_MAX);
    x = edit_text(text, &out);
    if (x == QX_OK && out.len == strlen(text) && memcmp(out.ptr, text, out.len) == 0) {
        fprintf(stderr, "igw queue edit: no change; nothing sent\n");
        x = QX_NOTHING;
    } else if (x == QX_OK) {
        char *rt = full != NULL ? igw_strdup(full) : NULL;
        x = send_edit(c, id, rt, &out);
        igw_free(rt);
    }
    igw_buf_fini(&out);
    qresp_fini(&r);
    return x;
}
