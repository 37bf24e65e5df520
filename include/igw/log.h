/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One-line structured logging to stderr: `2026-11-23T17:40:00.123Z INFO accepted id=... ch=...`.
 * Thread-safe (one write(2) per line). Never log secrets: tokens, passwords, bodies.
 */
#ifndef IGW_LOG_H
#define IGW_LOG_H

#include "igw/err.h"

enum igw_log_level { IGW_LOG_DEBUG = 0, IGW_LOG_INFO, IGW_LOG_WARN, IGW_LOG_ERROR };

/** Sets the lowest level that is written (process-wide, thread-safe; default INFO). */
void igw_log_set_level(enum igw_log_level lvl);
/** Parses "debug|info|warn|error" (lower case, s not NULL) into *out (not NULL).
 *  @return IGW_OK, or IGW_EINVAL for any other string (*out untouched). */
int igw_log_parse_level(const char *s, enum igw_log_level *out);
/** Writes one line "<UTC time> <LEVEL> <message>" to stderr when lvl is at or above the set
 *  level. fmt must not be NULL; newlines in the message are folded into spaces and the line is
 *  cut at 2 KiB. Never fails (a write error is ignored); allocates nothing. */
void igw_log(enum igw_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define IGW_DEBUG(...) igw_log(IGW_LOG_DEBUG, __VA_ARGS__)
#define IGW_INFO(...) igw_log(IGW_LOG_INFO, __VA_ARGS__)
#define IGW_WARN(...) igw_log(IGW_LOG_WARN, __VA_ARGS__)
#define IGW_ERROR(...) igw_log(IGW_LOG_ERROR, __VA_ARGS__)

#endif /* IGW_LOG_H */
