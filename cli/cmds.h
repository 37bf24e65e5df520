/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands of the igw binary; main.c dispatches argv[1] to one of these. Each returns the
 * process exit status (0 success, 1 failure, 2 usage). argv[0] is the subcommand name. */
#ifndef IGW_GATEWAY_CMDS_H
#define IGW_GATEWAY_CMDS_H

int igw_cmd_serve(int argc, char **argv);      /* cli/serve.c */
int igw_cmd_map(int argc, char **argv);        /* cli/cmd_map.c: igw map run|test|lint */
int igw_cmd_wait_ready(int argc, char **argv); /* cli/cmd_wait.c: igw wait-ready */
int igw_cmd_gen(int argc, char **argv);        /* cli/gen.c: synthetic openIMIS data */
int igw_cmd_queue(int argc, char **argv);      /* cli/queue.c: igw queue ls|show|... (admin API) */

#endif /* IGW_GATEWAY_CMDS_H */
