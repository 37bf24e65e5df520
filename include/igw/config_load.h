/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw configuration loader: a YAML file (libyaml) read once at start into the data model of
 * igw/config.h. Every option is documented in docs/CONFIG.md, generated from the option tables
 * (gateway/config/config_opts.c and each plugin's own options), and in deploy/igw.example.conf.
 * Errors name file:line:column and the option.
 *
 * Ownership: igw_config_load returns one heap object owning every string and array inside;
 * free it with igw_config_free. Thread-safe: no global state (each call is independent).
 */
#ifndef IGW_CONFIG_LOAD_H
#define IGW_CONFIG_LOAD_H

#include <stddef.h>

#include "igw/config.h"

/** Loads and validates a config file. Secrets referenced by `tokens_file`/`password_file` are
 *  read relative to the config file's directory. out and path must not be NULL; errbuf may be
 *  NULL only when errlen is 0. On error *out is not written and "file:line:column: option:
 *  problem" is written into errbuf.
 *  @return IGW_OK (*out owned by the caller: igw_config_free), IGW_ECONFIG (invalid config,
 *          or a secret file unreadable), IGW_EIO (the file unreadable or over 16 MiB),
 *          IGW_ENOMEM. */
int igw_config_load(struct igw_config **out, const char *path, char *errbuf, size_t errlen);

/** Same as igw_config_load for YAML text in memory; name (not NULL) is used in messages and
 *  relative secret paths are resolved against its directory. text[0..len) is borrowed for
 *  the call only. @return as igw_config_load. */
int igw_config_parse(struct igw_config **out, const char *name, const char *text, size_t len,
                     char *errbuf, size_t errlen);

/** Frees a config; NULL-safe. */
void igw_config_free(struct igw_config *c);

/** Finds a route by its full name ("<channel>.<route>"); NULL if none or if c or name is
 *  NULL. The result is owned by c. */
const struct igw_route *igw_config_route(const struct igw_config *c, const char *name);

/** Writes the option reference (Markdown) to stdout; used to generate docs/CONFIG.md. Never
 *  fails (a write error is stdout's). */
void igw_config_print_reference(void);

#endif /* IGW_CONFIG_LOAD_H */
