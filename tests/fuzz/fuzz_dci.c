/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer driver for the SPDCI envelope validator (translators/dci/): the first input byte
 * picks the endpoint, the rest is parsed as JSON with limits and validated; the result's
 * invariants are checked (a failure has a known spec code, a place and a message that fit
 * their buffers; a pass has no code), and the format checks run on the raw bytes too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "igw/common.h"
#include "igw/dci.h"
#include "igw/doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static igw_arena *a;
    struct igw_parse_limits lim = {0};
    const struct igw_dci_endpoint *ep;
    struct igw_node *root = NULL;
    struct igw_dci_error e;
    size_t n = 0;

    if (size < 1) {
        return 0;
    }
    while (igw_dci_endpoint_at(n) != NULL) {
        n++;
    }
    ep = igw_dci_endpoint_at(data[0] % n);
    if (a == NULL && igw_arena_new(&a, 64u << 20) != IGW_OK) {
        return 0;
    }
    igw_arena_reset(a);
    (void)igw_dci_datetime_ok((const char *)data + 1, size - 1);
    (void)igw_dci_locale_ok((const char *)data + 1, size - 1);
    lim.max_depth = 128;
    if (igw_json_parse(a, (const char *)data + 1, size - 1, &lim, &root, NULL) != IGW_OK) {
        root = NULL;
    }
    if (igw_dci_validate(root, ep, &e)) {
        if (e.code != NULL || root == NULL) {
            igw_panic("dci: valid with a code or without a body");
        }
        return 0;
    }
    if (e.code == NULL || !igw_dci_code_known(e.code) || e.where[0] == '\0' ||
        e.message[0] == '\0' || strlen(e.where) >= sizeof(e.where) ||
        strlen(e.message) >= sizeof(e.message)) {
        igw_panic("dci: malformed failure %s", e.code != NULL ? e.code : "(null)");
    }
    return 0;
}
