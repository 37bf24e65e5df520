/* SPDX-License-Identifier: Apache-2.0 */
/* Parse-error positions for codecs (igw/codec.h): "line L, column C: detail". */
#include <stdarg.h>
#include <stdio.h>

#include "igw/common.h"
#include "igw/codec.h"

void
igw_parse_error_vset(struct igw_parse_error *err, const char *start, const char *pos,
                     const char *fmt, va_list ap)
{
    char detail[200];
    unsigned line;
    unsigned col;

    if (err == NULL) {
        return;
    }
    igw_text_position(start, pos, &line, &col);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    err->line = line;
    err->column = col;
    snprintf(err->msg, sizeof(err->msg), "line %u, column %u: %s", line, col, detail);
}
