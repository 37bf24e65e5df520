/* SPDX-License-Identifier: Apache-2.0 */
/* igw command line: igw serve | version | help (more subcommands are wired in by modules). */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"

#ifndef IGW_VERSION
#define IGW_VERSION "dev"
#endif

static int
usage(FILE *f)
{
    fprintf(f, "usage: igw <command> [options]\n"
               "  serve --config FILE   run the gateway\n"
               "  version               print the version\n"
               "  help                  this text\n");
    return f == stderr ? 2 : 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        return usage(stderr);
    }
    if (strcmp(argv[1], "version") == 0) {
        printf("igw %s\n", IGW_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        return usage(stdout);
    }
    return usage(stderr);
}
