/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin audit log (docs/ADMIN-API.md, "Audit"): every admin action that changes something,
 * appended as one JSON line and fsync'd before the action's answer:
 *   {"seq":N,"ts_ms":T,"who":"name","role":"operator","action":"release",
 *    "target":"00000000000000a1","detail":{...}}
 * seq grows by one per record and survives restarts (read back from the file's last line).
 * Retention is bounded: at audit_max bytes the file becomes FILE.1 (the older FILE.1 is
 * removed). Why a JSON-lines file and not an LMDB table: it is independent of the queue backend
 * (a JetStream queue has no LMDB), readable with grep and jq when igw is down, and an append
 * plus fdatasync is one write; listing reads at most two bounded files.
 *
 * Threads: every function may be called from any thread (one mutex); appends block for the
 * fsync, so call them from the admin worker, never from nng's task threads.
 */
#ifndef IGW_GATEWAY_ADMIN_AUDIT_H
#define IGW_GATEWAY_ADMIN_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "igw/buf.h"
#include "admin/roles.h"

typedef struct igw_audit igw_audit;

#define IGW_AUDIT_LIST_MAX 500 /* most records one listing returns */

/** Opens (creating, mode 0600) the audit log at path and reads the last seq back. path is
 *  copied. max_bytes: rotation size (>= 4096).
 *  @return IGW_OK, IGW_ENOMEM, IGW_EINVAL (NULL path or out), IGW_EIO (cannot open; errbuf). */
int igw_audit_open(igw_audit **out, const char *path, uint64_t max_bytes, char *errbuf,
                   size_t errlen);

/** Closes the file and frees a. NULL-safe. */
void igw_audit_close(igw_audit *a);

/** Appends one record and waits until it is on disk (fdatasync). c: the caller (NULL: written
 *  as who "-"); action: a short verb ("release"); target: what it applied to (a message id, a
 *  route, a filter), may be NULL; detail_json: a JSON value written verbatim (the caller
 *  guarantees it is JSON, e.g. {"before":...,"after":...} for an edit), or NULL. A detail with
 *  a line break is stored as a JSON string instead, so a record is always one line. Borrowed.
 *  @return IGW_OK, IGW_EINVAL (a or action NULL), IGW_ENOMEM, IGW_ETOOBIG (record over 1 MiB),
 *  IGW_EIO (write or fsync failed: the record may be missing). */
int igw_audit_append(igw_audit *a, const struct igw_admin_caller *c, const char *action,
                     const char *target, const char *detail_json);

/** igw_audit_append for callers that cannot refuse any more (the action is done): a failure is
 *  logged at error level. a may be NULL (nothing is written). */
void igw_audit_write(igw_audit *a, const struct igw_admin_caller *c, const char *action,
                     const char *target, const char *detail_json);

/** Appends {"items":[records newest first],"next":"<seq>"|null} to out: at most limit
 *  (1..IGW_AUDIT_LIST_MAX) records whose seq is below before (0: from the newest). next is the
 *  cursor for the following page (pass it as before), null at the end.
 *  @return IGW_OK, IGW_EINVAL, IGW_ENOMEM/IGW_ETOOBIG (out's max), IGW_EIO. */
int igw_audit_list(igw_audit *a, uint64_t before, unsigned limit, struct igw_buf *out);

#endif /* IGW_GATEWAY_ADMIN_AUDIT_H */
