/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Delivery engine, file:// routes (out_file): the NDJSON line format and the file mode.
 * Environment and sink helpers: dlvtest.h.
 */
#include "dlvtest.h"

static char *
slurp(const char *path, size_t *len)
{
    struct igw_buf b;
    char chunk[4096];
    size_t k;
    FILE *f = fopen(path, "rb");

    igw_buf_init(&b, 1u << 20);
    if (f == NULL) {
        return NULL;
    }
    for (;;) {
        k = fread(chunk, 1, sizeof(chunk), f);
        if (k == 0) {
            break;
        }
        (void)igw_buf_append(&b, chunk, k);
    }
    fclose(f);
    return igw_buf_steal(&b, len);
}

static void
test_file_ndjson(void)
{
    static const char bin[] = {'a', (char)0xff, 'b'};
    struct igw_queue_delivery_info info;
    struct igw_route *r;
    struct stat st;
    char path[256];
    uint64_t ids[4];
    char *text;
    size_t len = 0;
    char *line;
    int n = 0;

    env_init();
    r = route_add("file");
    snprintf(path, sizeof(path), "%s/out/sub/events.ndjson", E.dir);
    snprintf(E.urls[0], sizeof(E.urls[0]), "file://%s", path);
    r->kind = IGW_DEST_FILE;
    r->file_path = path;
    env_start();
    ids[0] = put_json("ev.file", "{\"a\":1,\"b\":[1,2]}");
    ids[1] = put_json("ev.file", "{\n  \"pretty\": true\n}");
    ids[2] = put_msg("ev.file", "plain \"text\"", 12, "text/plain", NULL);
    ids[3] = put_msg("ev.file", bin, sizeof(bin), NULL, NULL);
    for (int i = 0; i < 4; i++) {
        IGWT_CHECK(wait_state(ids[i], IGW_DS_DELIVERED, &info));
    }
    IGWT_ASSERT(stat(path, &st) == 0);
    IGWT_CHECK((st.st_mode & 0777) == 0640);
    text = slurp(path, &len);
    IGWT_ASSERT(text != NULL);
    for (line = text; line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        cJSON *j;
        IGWT_ASSERT(nl != NULL);
        *nl = '\0';
        j = cJSON_Parse(line);
        IGWT_CHECK(j != NULL);
        if (n == 0) {
            IGWT_STREQ(line, "{\"a\":1,\"b\":[1,2]}");
        } else if (n == 1) {
            IGWT_STREQ(rec_str(j, "body"), "{\n  \"pretty\": true\n}");
            IGWT_STREQ(rec_str(j, "content_type"), "application/json");
        } else if (n == 2) {
            IGWT_STREQ(rec_str(j, "body"), "plain \"text\"");
        } else if (n == 3) {
            IGWT_STREQ(rec_str(j, "body_base64"), "Yf9i");
            IGWT_CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "content_type")));
        }
        cJSON_Delete(j);
        n++;
        line = nl + 1;
    }
    IGWT_CHECK(n == 4);
    igw_free(text);
    env_fini();
}

IGWT_MAIN({"file_ndjson", test_file_ndjson})
