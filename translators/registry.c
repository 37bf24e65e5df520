/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the codecs land: keeps the translators library non-empty. */
#include "igw/common.h"

int igw_translators_version(void);

int
igw_translators_version(void)
{
    return 1;
}
