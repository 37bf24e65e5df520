/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to gateway/admin/console/: the table of the console's assets, generated at build
 * time by embed.cmake from assets/ (console_assets.c in the build directory).
 */
#ifndef IGW_GATEWAY_ADMIN_CONSOLE_ASSETS_H
#define IGW_GATEWAY_ADMIN_CONSOLE_ASSETS_H

#include <stddef.h>

/* One embedded file: its name in assets/ (served as /console/<name>), its Content-Type and
 * its bytes (static storage; data[len] is a NUL not counted in len). */
struct igw_console_asset {
    const char *name;
    const char *content_type;
    const unsigned char *data;
    size_t len;
};

extern const struct igw_console_asset igw_console_assets[];
extern const size_t igw_console_nassets;

#endif /* IGW_GATEWAY_ADMIN_CONSOLE_ASSETS_H */
