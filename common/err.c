/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes: the English text of each (igw_strerror) and the error-buffer writer. */
#include <stdarg.h>
#include <stdio.h>

#include "igw/common.h"

static const char *const messages[IGW_ERR_COUNT] = {
    [IGW_OK] = "ok",
    [IGW_ENOMEM] = "out of memory",
    [IGW_EINVAL] = "invalid argument",
    [IGW_EAGAIN] = "try again",
    [IGW_ENOSPC] = "store full",
    [IGW_ECLOSED] = "closed",
    [IGW_ETRANSLATE] = "translation failed",
    [IGW_ENOENT] = "not found",
    [IGW_EIO] = "I/O error",
    [IGW_ETOOBIG] = "too large",
    [IGW_ELIMIT] = "limit exceeded",
    [IGW_EAUTH] = "authentication failed",
    [IGW_EPERM] = "not permitted",
    [IGW_EPARSE] = "malformed input",
    [IGW_ECONFIG] = "bad configuration",
    [IGW_EINTERNAL] = "internal error",
    [IGW_ETIMEDOUT] = "timed out",
    [IGW_ECONFLICT] = "conflict",
};

const char *
igw_strerror(int err)
{
    if (err < 0 || err >= IGW_ERR_COUNT || messages[err] == NULL) {
        return "unknown error";
    }
    return messages[err];
}

void
igw_errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (errbuf == NULL || errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}
