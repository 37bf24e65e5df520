/* SPDX-License-Identifier: Apache-2.0 */
/* Channel path patterns, media types and small header parsers (see http_int.h). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "igw/common.h"
#include "igw/utf8.h"
#include "http/http.h"

/* A segment of a pattern or a path: [p, p + len). */
struct seg {
    const char *p;
    size_t len;
};

/* Returns the next '/'-separated segment after *pos (which points at a '/'), advancing *pos.
 * False at the end of the string (end). */
static bool
next_seg(const char **pos, const char *end, struct seg *s)
{
    const char *p = *pos;
    const char *q;

    if (p >= end || *p != '/') {
        return false;
    }
    p++;
    q = p;
    while (q < end && *q != '/') {
        q++;
    }
    s->p = p;
    s->len = (size_t)(q - p);
    *pos = q;
    return true;
}

static bool
is_param(const struct seg *s)
{
    return s->len >= 3 && s->p[0] == '{' && s->p[s->len - 1] == '}';
}

static bool
literal_char_ok(char c)
{
    return isalnum((unsigned char)c) || strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

static bool
param_name_ok(const struct seg *s)
{
    for (size_t i = 1; i + 1 < s->len; i++) {
        if (!isalnum((unsigned char)s->p[i]) && s->p[i] != '_') {
            return false;
        }
    }
    return true;
}

static bool
literal_ok(const struct seg *s)
{
    for (size_t i = 0; i < s->len; i++) {
        if (!literal_char_ok(s->p[i])) {
            return false;
        }
    }
    return true;
}

static bool
name_seen(const struct seg *names, unsigned n, const struct seg *s)
{
    for (unsigned i = 0; i < n; i++) {
        if (names[i].len == s->len && memcmp(names[i].p, s->p, s->len) == 0) {
            return true;
        }
    }
    return false;
}

static int
check_seg(const struct seg *s, struct seg *names, unsigned *n, char *err, size_t errlen)
{
    if (s->len == 0) {
        igw_errbuf_set(err, errlen, "empty path segment");
        return IGW_EINVAL;
    }
    if (!is_param(s)) {
        if (!literal_ok(s)) {
            igw_errbuf_set(err, errlen, "invalid character in segment \"%.*s\"", (int)s->len, s->p);
            return IGW_EINVAL;
        }
        return IGW_OK;
    }
    if (!param_name_ok(s)) {
        igw_errbuf_set(err, errlen, "invalid parameter \"%.*s\" (use {name})", (int)s->len, s->p);
        return IGW_EINVAL;
    }
    if (*n >= IGW_PATH_MAX_PARAMS || name_seen(names, *n, s)) {
        igw_errbuf_set(err, errlen, "duplicate or too many parameters at \"%.*s\"", (int)s->len,
                       s->p);
        return IGW_EINVAL;
    }
    names[(*n)++] = *s;
    return IGW_OK;
}

int
igw_path_pattern_check(const char *pattern, char *err, size_t errlen)
{
    struct seg names[IGW_PATH_MAX_PARAMS];
    struct seg s;
    unsigned n = 0;
    const char *pos = pattern;
    const char *end = pattern + strlen(pattern);
    int rv;

    if (*pattern != '/') {
        igw_errbuf_set(err, errlen, "path must start with '/'");
        return IGW_EINVAL;
    }
    if (strcmp(pattern, "/") == 0) {
        return IGW_OK;
    }
    while (next_seg(&pos, end, &s)) {
        rv = check_seg(&s, names, &n, err, errlen);
        if (rv != IGW_OK) {
            return rv;
        }
    }
    return IGW_OK;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Percent-decodes s into out (room for s->len + 1 bytes). False on a bad escape, or when the
 * result holds a NUL or '/'. */
static bool
decode_seg(const struct seg *s, char *out, size_t *outlen)
{
    size_t n = 0;
    for (size_t i = 0; i < s->len; i++) {
        char c = s->p[i];
        if (c == '%') {
            if (i + 2 >= s->len || hexval(s->p[i + 1]) < 0 || hexval(s->p[i + 2]) < 0) {
                return false;
            }
            c = (char)(hexval(s->p[i + 1]) * 16 + hexval(s->p[i + 2]));
            i += 2;
            if (c == '\0' || c == '/') {
                return false;
            }
        }
        out[n++] = c;
    }
    out[n] = '\0';
    *outlen = n;
    return true;
}

static size_t
path_len(const char *target, size_t target_len)
{
    const char *q = memchr(target, '?', target_len);
    const char *h = memchr(target, '#', target_len);
    size_t n = q != NULL ? (size_t)(q - target) : target_len;
    if (h != NULL && (size_t)(h - target) < n) {
        n = (size_t)(h - target);
    }
    return n;
}

/* Matches one segment; captures params. *used counts scratch bytes consumed. */
static bool
match_seg(const struct seg *ps, const struct seg *ts, struct igw_path_match *m, size_t *used)
{
    char *out = m->scratch + *used;
    size_t n;

    if (ts->len == 0 || *used + ts->len + 1 > sizeof(m->scratch)) {
        return false;
    }
    if (!decode_seg(ts, out, &n)) {
        return false;
    }
    if (!is_param(ps)) {
        if (n != ps->len || memcmp(out, ps->p, n) != 0) {
            return false;
        }
        m->literals++;
        return true;
    }
    if (n > IGW_PATH_PARAM_MAX || m->nparams >= IGW_PATH_MAX_PARAMS) {
        return false;
    }
    m->params[m->nparams].name = ps->p + 1;
    m->params[m->nparams].name_len = ps->len - 2;
    m->params[m->nparams].value = out;
    m->params[m->nparams].value_len = n;
    m->nparams++;
    *used += n + 1;
    return true;
}

bool
igw_path_match(const char *pattern, const char *target, size_t target_len, struct igw_path_match *m)
{
    const char *pp = pattern;
    const char *pend = pattern + strlen(pattern);
    const char *tp = target;
    const char *tend;
    struct seg ps = {NULL, 0};
    struct seg ts = {NULL, 0};
    size_t used = 0;

    m->nparams = 0;
    m->literals = 0;
    target_len = path_len(target, target_len);
    if (target_len == 0 || target_len > IGW_PATH_MAX_LEN || target[0] != '/') {
        return false;
    }
    tend = target + target_len;
    if (strcmp(pattern, "/") == 0) {
        return target_len == 1;
    }
    for (;;) {
        bool pmore = next_seg(&pp, pend, &ps);
        bool tmore = next_seg(&tp, tend, &ts);
        if (!pmore || !tmore) {
            return pmore == tmore;
        }
        if (!match_seg(&ps, &ts, m, &used)) {
            return false;
        }
    }
}

bool
igw_path_params_utf8(const struct igw_path_match *m)
{
    for (unsigned i = 0; i < m->nparams; i++) {
        if (!igw_utf8_valid(m->params[i].value, m->params[i].value_len, NULL)) {
            return false;
        }
    }
    return true;
}

bool
igw_path_has_param(const char *pattern, const char *name)
{
    const char *pos = pattern;
    const char *end = pattern + strlen(pattern);
    size_t nlen = strlen(name);
    struct seg s;

    while (next_seg(&pos, end, &s)) {
        if (is_param(&s) && s.len == nlen + 2 && memcmp(s.p + 1, name, nlen) == 0) {
            return true;
        }
    }
    return false;
}

bool
igw_path_same_shape(const char *a, const char *b)
{
    const char *pa = a;
    const char *pb = b;
    const char *ea = a + strlen(a);
    const char *eb = b + strlen(b);
    struct seg sa = {NULL, 0};
    struct seg sb = {NULL, 0};

    for (;;) {
        bool ma = next_seg(&pa, ea, &sa);
        bool mb = next_seg(&pb, eb, &sb);
        if (!ma || !mb) {
            return ma == mb;
        }
        if (is_param(&sa) != is_param(&sb)) {
            return false;
        }
        if (!is_param(&sa) && (sa.len != sb.len || memcmp(sa.p, sb.p, sa.len) != 0)) {
            return false;
        }
    }
}

const struct igw_path_param *
igw_path_param_get(const struct igw_path_match *m, const char *name)
{
    size_t n = strlen(name);
    for (unsigned i = 0; i < m->nparams; i++) {
        if (m->params[i].name_len == n && memcmp(m->params[i].name, name, n) == 0) {
            return &m->params[i];
        }
    }
    return NULL;
}

bool
igw_media_type_is(const char *content_type, const char *want)
{
    const char *p = content_type;
    size_t n;
    size_t wlen = strlen(want);

    if (p == NULL) {
        return false;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    n = strcspn(p, ";");
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }
    return n == wlen && strncasecmp(p, want, n) == 0;
}

int
igw_content_length_parse(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0') {
        return IGW_EINVAL;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX / 2 - 9) / 10) {
            return IGW_EINVAL;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return IGW_OK;
}

bool
igw_header_has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;

    while (p != NULL && *p != '\0') {
        size_t n;
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
            n--;
        }
        if (n == tlen && strncasecmp(p, token, n) == 0) {
            return true;
        }
        p = strchr(p, ',');
    }
    return false;
}
