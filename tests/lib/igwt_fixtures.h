/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igwt fixtures: sample documents kept in tests/fixtures/ (openIMIS, DCI), found through the
 * environment so a case can run from any directory. The directory is $IGW_FIXTURES, else
 * $IGW_SRC/tests/fixtures (ctest sets both), else tests/fixtures below the current directory.
 * A case whose fixtures are missing here ends as skipped (IGWT_FIXTURE_DIR), never as passed.
 * igwt_read_file reads a fixture (or any test data file) whole.
 */
#ifndef IGWT_FIXTURES_H
#define IGWT_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "lib/igwt.h"

/** Writes the fixture directory joined with sub ("" for the directory itself) into buf.
 *  @return buf when that directory exists, NULL when it does not or the path does not fit. */
static inline const char *
igwt_fixture_path(char *buf, size_t len, const char *sub)
{
    const char *fx = getenv("IGW_FIXTURES");
    const char *src = getenv("IGW_SRC");
    struct stat st;
    int n;

    if (fx != NULL && fx[0] != '\0') {
        n = snprintf(buf, len, "%s/%s", fx, sub);
    } else {
        n = snprintf(buf, len, "%s/tests/fixtures/%s", src != NULL ? src : ".", sub);
    }
    if (n < 0 || (size_t)n >= len || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return NULL;
    }
    return buf;
}

/** Reads the whole file at path (not NULL) into a new NUL-terminated buffer and writes its
 *  length (without the NUL) into *len (0 unless it succeeds).
 *  @return the buffer, which the caller frees with igw_free; NULL when the file cannot be
 *  opened, sized or read, or memory runs out. */
static inline char *
igwt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;

    *len = 0;
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0) {
        n = ftell(f);
    }
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = igw_malloc((size_t)n + 1);
    }
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        IGW_FREE(buf);
    }
    if (buf != NULL) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

/* Sets the char array buf to the fixture directory sub, or ends the case as skipped. */
#define IGWT_FIXTURE_DIR(buf, sub)                                                                 \
    do {                                                                                           \
        if (igwt_fixture_path((buf), sizeof(buf), (sub)) == NULL) {                                \
            char igwt_why_[200];                                                                   \
            snprintf(igwt_why_, sizeof(igwt_why_),                                                 \
                     "fixtures missing: '%.120s' (set IGW_FIXTURES)", (sub));                      \
            IGWT_SKIP(igwt_why_);                                                                  \
        }                                                                                          \
    } while (0)

#endif /* IGWT_FIXTURES_H */
