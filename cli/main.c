/* SPDX-License-Identifier: Apache-2.0 */
/* igw command line: dispatches argv[1] to a subcommand (cli/cmds.h). */
#include <stdio.h>
#include <string.h>

#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "igw/gateway.h"
#include "cmds.h"

#ifndef IGW_VERSION
#define IGW_VERSION "dev"
#endif

static int
usage(FILE *f)
{
    fprintf(f, "usage: igw <command> [options]\n"
               "  serve --config FILE     run the gateway (SIGTERM or SIGINT to stop)\n"
               "  config reference        print the configuration reference (Markdown)\n"
               "  config check FILE       load a config, check what serve would refuse\n"
               "  map run|test|lint ...   run, test or lint mappings\n"
               "  wait-ready --config FILE  wait until the admin API's /readyz answers 200\n"
               "  gen [options]           synthetic openIMIS data (igw gen --help)\n"
               "  queue ls|show|... ...   find, look at and repair messages (admin API)\n"
               "  version                 print the version\n"
               "  help                    this text\n");
    return f == stderr ? 2 : 0;
}

static int
config_check(const char *path)
{
    struct igw_config *cfg = NULL;
    char err[IGW_ERRBUF_SIZE] = "";

    if (igw_config_load(&cfg, path, err, sizeof(err)) != IGW_OK) {
        fprintf(stderr, "igw: %s\n", err);
        return 1;
    }
    if (igw_gateway_check(cfg, err, sizeof(err)) != IGW_OK) {
        fprintf(stderr, "igw: %s: %s\n", path, err);
        igw_config_free(cfg);
        return 1;
    }
    printf("%s: ok (%zu channels)\n", path, cfg->nchannels);
    igw_config_free(cfg);
    return 0;
}

static int
cmd_config(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "reference") == 0) {
        igw_config_print_reference();
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "check") == 0) {
        return config_check(argv[2]);
    }
    fprintf(stderr, "usage: igw config reference | igw config check FILE\n");
    return 2;
}

int
main(int argc, char **argv)
{
    const char *cmd = argc >= 2 ? argv[1] : NULL;

    if (cmd == NULL) {
        return usage(stderr);
    }
    if (strcmp(cmd, "serve") == 0) {
        return igw_cmd_serve(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "config") == 0) {
        return cmd_config(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "map") == 0) {
        return igw_cmd_map(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "wait-ready") == 0) {
        return igw_cmd_wait_ready(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "gen") == 0) {
        return igw_cmd_gen(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "queue") == 0) {
        return igw_cmd_queue(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("igw %s\n", IGW_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        return usage(stdout);
    }
    fprintf(stderr, "igw: unknown command \"%s\"\n", cmd);
    return usage(stderr);
}
