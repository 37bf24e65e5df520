/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Map sets: every mappings/<name>/map under a directory, compiled together so maps can call
 * each other by name (names are scanned first, so a map may call one compiled after it).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "igw/common.h"
#include "map_int.h"

static void
free_maps(igw_map **maps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        igw_map_free(maps[i]);
    }
    igw_free(maps);
}

void
igw_map_set_free(igw_map_set *s)
{
    if (s == NULL) {
        return;
    }
    free_maps(s->maps, s->n);
    igw_free(s);
}

const igw_map *
igw_map_set_get(const igw_map_set *s, const char *name)
{
    for (size_t i = 0; s != NULL && name != NULL && i < s->n; i++) {
        if (strcmp(s->maps[i]->name, name) == 0) {
            return s->maps[i];
        }
    }
    return NULL;
}

size_t
igw_map_set_count(const igw_map_set *s)
{
    return s != NULL ? s->n : 0;
}

const igw_map *
igw_map_set_at(const igw_map_set *s, size_t i)
{
    return s != NULL && i < s->n ? s->maps[i] : NULL;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the sub-directories of dir that hold a file called map. */
static int
list_dirs(const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t cnt = 0;
    struct dirent *e;
    int rv = IGW_OK;
    if (d == NULL) {
        return IGW_EIO;
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s/map", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        char **nn = igw_realloc(names, (cnt + 1) * sizeof(*nn));
        char *name = igw_strdup(e->d_name);
        if (nn == NULL || name == NULL) {
            igw_free(name);
            names = nn != NULL ? nn : names;
            rv = IGW_ENOMEM;
            break;
        }
        names = nn;
        names[cnt++] = name;
    }
    closedir(d);
    if (cnt > 1) {
        qsort(names, cnt, sizeof(*names), cmp_names);
    }
    *out = names;
    *n = cnt;
    return rv;
}

struct loaded {
    char *text;
    size_t len;
    char base[4096];
    char file[4112];
};

static int
prepare(igw_map_set *s, const char *dir, char **names, struct loaded *ld, char *errbuf,
        size_t errlen)
{
    for (size_t i = 0; i < s->n; i++) {
        char name[256];
        snprintf(ld[i].base, sizeof(ld[i].base), "%s/%s", dir, names[i]);
        snprintf(ld[i].file, sizeof(ld[i].file), "%s/map", ld[i].base);
        int rv = map_read_file(ld[i].file, &ld[i].text, &ld[i].len);
        if (rv != IGW_OK) {
            igw_errbuf_set(errbuf, errlen, "%s: cannot read (%s)", ld[i].file, igw_strerror(rv));
            return rv;
        }
        if (map_scan_name(ld[i].text, ld[i].len, name, sizeof(name)) != IGW_OK) {
            igw_errbuf_set(errbuf, errlen, "%s:1:1: a map starts with: map <name> from ...",
                           ld[i].file);
            return IGW_EPARSE;
        }
        rv = map_new_shell(&s->maps[i], ld[i].file, name);
        if (rv != IGW_OK) {
            igw_errbuf_set(errbuf, errlen, "%s: out of memory", ld[i].file);
            return rv;
        }
        s->maps[i]->pending = s;
    }
    return IGW_OK;
}

static int
compile_all(igw_map_set *s, struct loaded *ld, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < s->n; i++) {
        int rv = map_compile_text(s->maps[i], ld[i].text, ld[i].len, ld[i].base, errbuf, errlen);
        if (rv != IGW_OK) {
            return rv;
        }
        s->maps[i]->set = s;
        s->maps[i]->pending = NULL;
    }
    /* the post-compile plan (memo slots, clock use) once every map of the set is compiled */
    for (size_t i = 0; i < s->n; i++) {
        map_plan_scan(s->maps[i]);
    }
    return IGW_OK;
}

int
igw_map_set_load(igw_map_set **out, const char *dir, char *errbuf, size_t errlen)
{
    char **names = NULL;
    size_t n = 0;
    struct loaded *ld = NULL;
    igw_map_set *s = NULL;
    int rv = list_dirs(dir, &names, &n);
    if (rv != IGW_OK) {
        igw_errbuf_set(errbuf, errlen, "%s: cannot list map directories", dir);
        goto out;
    }
    s = IGW_NEW(igw_map_set);
    ld = igw_calloc(n + 1, sizeof(*ld));
    if (s != NULL) {
        s->maps = igw_calloc(n + 1, sizeof(*s->maps));
    }
    if (s == NULL || ld == NULL || s->maps == NULL) {
        rv = IGW_ENOMEM;
        igw_errbuf_set(errbuf, errlen, "%s: out of memory", dir);
        goto out;
    }
    s->n = n;
    rv = prepare(s, dir, names, ld, errbuf, errlen);
    if (rv == IGW_OK) {
        rv = compile_all(s, ld, errbuf, errlen);
    }
out:
    for (size_t i = 0; ld != NULL && i < n; i++) {
        igw_free(ld[i].text);
    }
    igw_free(ld);
    for (size_t i = 0; i < n; i++) {
        igw_free(names[i]);
    }
    igw_free(names);
    if (rv != IGW_OK) {
        igw_map_set_free(s);
        return rv;
    }
    *out = s;
    return IGW_OK;
}
