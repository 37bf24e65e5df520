/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One-line structured logging to stderr: `2026-11-23T17:40:00.123Z INFO accepted id=... ch=...`.
 * Thread-safe (one write(2) per line). Never log secrets: tokens, passwords, bodies.
 */
#ifndef IGW_LOG_H
#define IGW_LOG_H

enum igw_log_level { IGW_LOG_DEBUG = 0, IGW_LOG_INFO, IGW_LOG_WARN, IGW_LOG_ERROR };

void igw_log_set_level(enum igw_log_level lvl);
/** Parses "debug|info|warn|error"; IGW_OK or IGW_EINVAL. */
int igw_log_parse_level(const char *s, enum igw_log_level *out);
void igw_log(enum igw_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define IGW_DEBUG(...) igw_log(IGW_LOG_DEBUG, __VA_ARGS__)
#define IGW_INFO(...) igw_log(IGW_LOG_INFO, __VA_ARGS__)
#define IGW_WARN(...) igw_log(IGW_LOG_WARN, __VA_ARGS__)
#define IGW_ERROR(...) igw_log(IGW_LOG_ERROR, __VA_ARGS__)

#endif /* IGW_LOG_H */
