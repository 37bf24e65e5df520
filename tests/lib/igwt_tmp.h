/* SPDX-License-Identifier: Apache-2.0 */
/* igwt temporary directories: one flat mkdtemp directory per case, removed afterwards. */
#ifndef IGWT_TMP_H
#define IGWT_TMP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** Creates /tmp/<prefix>.XXXXXX into buf (at least 64 bytes); NULL on failure. */
static inline const char *
igwt_tmpdir(char *buf, size_t len, const char *prefix)
{
    snprintf(buf, len, "/tmp/%s.XXXXXX", prefix);
    return mkdtemp(buf);
}

/** Removes a directory and the files directly inside it (the queue's LMDB files). */
static inline void
igwt_rm_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char p[512];

    if (d == NULL) {
        return;
    }
    for (e = readdir(d); e != NULL; e = readdir(d)) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    rmdir(path);
}

#endif /* IGWT_TMP_H */
