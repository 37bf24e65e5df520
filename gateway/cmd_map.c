/* SPDX-License-Identifier: Apache-2.0 */
/* igw map run|test|lint: placeholder until the mapping engine lands. */
#include <stdio.h>

#include "cmds.h"

int
igw_cmd_map(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "igw map: not available yet\n");
    return 2;
}
