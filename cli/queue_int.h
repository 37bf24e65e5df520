/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the `igw queue` command (docs/ADMIN-API.md, "igw queue"): a client of the admin
 * API over libcurl. Files:
 *   queue.c         dispatch, the common options, credentials, exit codes, help texts
 *   queue_http.c    requests (libcurl), answers parsed as JSON (cJSON), the event stream
 *   queue_view.c    ls, show, stats, tail: tables for people, --json for scripts
 *   queue_admin.c   audit, alerts
 *   queue_fmt.c     output helpers: tables, JSON values, times
 *   queue_repair.c  retry, replay, release, purge (one message or bulk with a job's progress)
 *                   and edit ($EDITOR on the payload)
 */
#ifndef IGW_CLI_QUEUE_INT_H
#define IGW_CLI_QUEUE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "igw/buf.h"

/* Exit codes (documented in docs/ADMIN-API.md): scripts test them. */
enum {
    QX_OK = 0,      /* done */
    QX_NOTHING = 1, /* nothing to do, not found, refused as it stands (404, 409, 422) */
    QX_USAGE = 2,   /* bad command line, or the server said the request is malformed (400) */
    QX_AUTH = 3,    /* no credentials, or refused (401, 403, 429) */
    QX_SERVER = 4   /* the server failed (5xx), could not be reached, or answered nonsense */
};

/* The connection to the admin API and the options every subcommand takes. */
struct qcli {
    char url[512];  /* base URL without a trailing slash */
    char *token;    /* owned; never printed */
    bool json;      /* --json: machine output */
    bool yes;       /* --yes: no confirmation for bulk work */
    long timeout_s; /* total time of one request */
};

/* One answer: the HTTP status (0 when no answer came) and the body parsed as JSON (NULL when
 * it was not JSON). raw holds the body bytes. */
struct qresp {
    long status;
    cJSON *doc;
    struct igw_buf raw;
    char err[256]; /* the transport error when status is 0 */
};

/* ---- queue_fmt.c: output helpers ------------------------------------------------------ */

#define QTABLE_COLS 8
#define QCELL_MAX 96

/* A table printed with columns as wide as their widest cell (cells cut at QCELL_MAX - 1
 * bytes). Zero it with ncols set; qtable_print prints and frees it. */
struct qtable {
    int ncols;
    size_t w[QTABLE_COLS];
    char (*cells)[QTABLE_COLS][QCELL_MAX];
    size_t nrows, cap;
};

/** Adds a row of t->ncols strings (NULL: empty); out of memory leaves the row out. */
void qtable_row(struct qtable *t, ...);
/** Prints the rows to stdout, then frees them. */
void qtable_print(struct qtable *t);
/** o's string member k, or NULL (o may be NULL). Borrowed from o. */
const char *qjstr(const cJSON *o, const char *k);
/** o's number member k, or dflt. */
double qjnum(const cJSON *o, const char *k, double dflt);
/** v as an integer into buf; returns buf. */
const char *qfmt_u(char *buf, size_t n, double v);
/** Unix ms as ISO 8601 UTC with ms into buf ("" for 0); returns buf. */
const char *qfmt_time(char *buf, size_t n, double ms);
/** A duration in ms as "12s", "5min", "1.5h" ("-" below 0); returns buf. */
const char *qfmt_age(char *buf, size_t n, double ms);
/** Prints doc as one line of JSON. */
void qprint_json(const cJSON *doc);

/* ---- queue_http.c ---------------------------------------------------------------------- */

/** Sends method path (path starts with /admin; body: JSON text or NULL) and fills r (free with
 *  qresp_fini even on failure). @return the exit code the answer means (QX_OK for 2xx). On a
 *  failure the cause is printed to stderr (what, status, the server's error code and message),
 *  unless quiet. */
int qhttp(const struct qcli *c, const char *method, const char *path, const char *body,
          struct qresp *r, bool quiet);
void qresp_fini(struct qresp *r);

/** Streams the Server-Sent Events of GET path: each event's data (one JSON text) is handed to
 *  cb with the event's name (may be ""). cb returns false to stop. @return an exit code. */
int qhttp_events(const struct qcli *c, const char *path,
                 bool (*cb)(void *arg, const char *event, const char *data), void *arg);

/** Exit code of an HTTP status. */
int qhttp_exit_of(long status);

/** Appends "&name=value" (the first one with "?") to b with value percent-encoded. */
int qurl_param(struct igw_buf *b, const char *name, const char *value);

/* ---- the subcommands: argv[0] is the subcommand's name; each returns an exit code --------- */

int qcmd_ls(struct qcli *c, int argc, char **argv);
int qcmd_show(struct qcli *c, int argc, char **argv);
int qcmd_stats(struct qcli *c, int argc, char **argv);
int qcmd_tail(struct qcli *c, int argc, char **argv);
int qcmd_repair(struct qcli *c, int argc, char **argv); /* retry|replay|release|purge */
int qcmd_edit(struct qcli *c, int argc, char **argv);
int qcmd_audit(struct qcli *c, int argc, char **argv);
int qcmd_alerts(struct qcli *c, int argc, char **argv);

/* ---- queue.c: shared option helpers ---------------------------------------------------- */

/** The filters of GET /admin/messages (and of bulk work), as given on the command line. */
struct qfilter {
    const char *channel, *route, *state, *since, *until, *order_key, *idem, *q, *limit, *cursor;
};

/** If argv[*i] is a filter option, stores its value, advances *i past it and returns 1; 0
 *  when it is none; -1 (message printed) when its value is missing. */
int qfilter_opt(struct qfilter *f, int argc, char **argv, int *i);
/** True when any filter is set (limit and cursor do not count). */
bool qfilter_any(const struct qfilter *f);
/** Appends the filters as a query string (for ls). */
int qfilter_query(const struct qfilter *f, struct igw_buf *b);
/** Adds the filters to a JSON object (for bulk work). */
void qfilter_json(const struct qfilter *f, cJSON *o);

/** Prints the help of a subcommand (from the table in queue.c) to f; returns QX_OK for stdout
 *  and QX_USAGE for stderr. */
int qhelp(const char *sub, FILE *f);
/** True (and the help printed) when argv holds -h or --help. */
bool qwants_help(const char *sub, int argc, char **argv);
/** Checks that a message id is 16 hex digits; prints and returns false otherwise. */
bool qid_ok(const char *id);

#endif /* IGW_CLI_QUEUE_INT_H */
