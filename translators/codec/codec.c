/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The codec table (igw/codec.h): IGW_CODEC_LIST expanded into an array indexed by enum
 * igw_format, and the lookups and the parse/write dispatch built on it. The top layer of the
 * codecs: it uses every codec, and no codec uses it.
 */
#include <string.h>

#include "igw/codec.h"

#define IGW_CODEC_ENTRY_(id, name) [IGW_FMT_##id] = &igw_codec_##name,
static const struct igw_codec *const codecs[IGW_FMT_COUNT] = {IGW_CODEC_LIST(IGW_CODEC_ENTRY_)};
#undef IGW_CODEC_ENTRY_

const struct igw_codec *
igw_codec_get(enum igw_format f)
{
    return (unsigned)f < IGW_FMT_COUNT ? codecs[f] : NULL;
}

enum igw_format
igw_codec_format(const struct igw_codec *c)
{
    for (unsigned f = IGW_FMT_NONE + 1; c != NULL && f < IGW_FMT_COUNT; f++) {
        if (codecs[f] == c) {
            return (enum igw_format)f;
        }
    }
    return IGW_FMT_NONE;
}

static bool
ascii_ieq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
        if (ca != cb) {
            return false;
        }
    }
    return *a == *b;
}

/* True when s equals (ASCII case-insensitive) one entry of the NULL-terminated list. */
static bool
in_list(const char *const *list, const char *s)
{
    for (; list != NULL && *list != NULL; list++) {
        if (ascii_ieq(*list, s)) {
            return true;
        }
    }
    return false;
}

enum igw_format
igw_format_parse(const char *name)
{
    if (name == NULL) {
        return IGW_FMT_NONE;
    }
    for (unsigned f = IGW_FMT_NONE + 1; f < IGW_FMT_COUNT; f++) {
        if (ascii_ieq(codecs[f]->name, name) || in_list(codecs[f]->aliases, name)) {
            return (enum igw_format)f;
        }
    }
    return IGW_FMT_NONE;
}

enum igw_format
igw_format_from_path(const char *path)
{
    const char *dot;
    const char *slash;

    if (path == NULL) {
        return IGW_FMT_NONE;
    }
    dot = strrchr(path, '.');
    slash = strrchr(path, '/');
    if (dot == NULL || (slash != NULL && dot < slash)) {
        return IGW_FMT_NONE;
    }
    for (unsigned f = IGW_FMT_NONE + 1; f < IGW_FMT_COUNT; f++) {
        if (in_list(codecs[f]->extensions, dot + 1)) {
            return (enum igw_format)f;
        }
    }
    return IGW_FMT_NONE;
}

enum igw_format
igw_format_from_media_type(const char *content_type)
{
    const char *slash = content_type != NULL ? strchr(content_type, '/') : NULL;

    if (slash == NULL) {
        return IGW_FMT_NONE;
    }
    for (unsigned f = IGW_FMT_NONE + 1; f < IGW_FMT_COUNT; f++) {
        if (codecs[f]->media_match != NULL && strstr(slash, codecs[f]->media_match) != NULL) {
            return (enum igw_format)f;
        }
    }
    return IGW_FMT_NONE;
}

int
igw_doc_parse(enum igw_format f, igw_arena *a, const char *text, size_t len,
              const struct igw_parse_limits *lim, struct igw_node **root,
              struct igw_parse_error *err)
{
    const struct igw_codec *c = igw_codec_get(f);

    return c != NULL ? c->parse(a, text, len, lim, root, err) : IGW_EINVAL;
}

int
igw_doc_write(enum igw_format f, const struct igw_node *root, struct igw_buf *out, unsigned flags)
{
    const struct igw_codec *c = igw_codec_get(f);

    return c != NULL ? c->write(root, out, flags) : IGW_EINVAL;
}
