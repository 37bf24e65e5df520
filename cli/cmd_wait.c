/* SPDX-License-Identifier: Apache-2.0 */
/*
 * igw wait-ready --config FILE [--timeout SECONDS]: waits until the gateway the config describes
 * answers 200 on its admin listener's /readyz (queue open, not full, not shutting down), for
 * systemd's ExecStartPost and scripts. Exit 0 when ready (or when the config has no admin
 * listener: there is nothing to ask), 1 when the time ran out, 2 on bad usage or a bad config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "igw/common.h"
#include "igw/config.h"
#include "igw/config_load.h"
#include "cmds.h"

#define POLL_MS 200

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* One probe: the HTTP status of GET url, or 0 when nothing answered. */
static long
probe(CURL *c, const char *url)
{
    long status = 0;

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    return status;
}

static int
wait_usage(void)
{
    fprintf(stderr, "usage: igw wait-ready --config FILE [--timeout SECONDS]\n"
                    "  waits for 200 from the admin listener's /readyz; exit 0 ready (or no\n"
                    "  admin listener), 1 timed out, 2 bad usage or config\n");
    return 2;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int
igw_cmd_wait_ready(int argc, char **argv)
{
    const char *path = NULL;
    long timeout_s = 60;
    struct igw_config *cfg = NULL;
    char err[IGW_ERRBUF_SIZE] = "";
    char url[512];
    uint64_t deadline;
    CURL *c;
    long status = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            char *end;
            timeout_s = strtol(argv[++i], &end, 10);
            if (*end != '\0' || timeout_s <= 0 || timeout_s > 86400) {
                return wait_usage();
            }
        } else {
            return wait_usage();
        }
    }
    if (path == NULL) {
        return wait_usage();
    }
    if (igw_config_load(&cfg, path, err, sizeof(err)) != IGW_OK) {
        fprintf(stderr, "igw: %s\n", err);
        return 2;
    }
    if (cfg->admin_listen == NULL) {
        printf("igw: %s has no admin listener: nothing to wait for\n", path);
        igw_config_free(cfg);
        return 0;
    }
    (void)snprintf(url, sizeof(url), "%s/readyz", cfg->admin_listen);
    igw_config_free(cfg);
    c = curl_easy_init();
    if (c == NULL) {
        fprintf(stderr, "igw: curl_easy_init failed\n");
        return 2;
    }
    deadline = igw_mono_ms() + (uint64_t)timeout_s * 1000;
    for (;;) {
        status = probe(c, url);
        if (status == 200 || igw_mono_ms() >= deadline) {
            break;
        }
        sleep_ms(POLL_MS);
    }
    curl_easy_cleanup(c);
    if (status != 200) {
        fprintf(stderr, "igw: %s not ready after %ld s (last status %ld)\n", url, timeout_s,
                status);
        return 1;
    }
    return 0;
}
