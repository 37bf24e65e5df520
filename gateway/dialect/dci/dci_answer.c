/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCI dialect, the answers (answer op; docs/DCI.md): a committed message is answered HTTP 200
 * with a Response whose ack_status is ACK (the callback will follow: the message is durable)
 * and whose correlation_id is igw's message id (the handle for txn/status). A repeated
 * message_id from the same sender (the queue's idempotency: dci_message_key) is answered NACK
 * with rjct.message_id.duplicate and the first message's id, and is not a second transaction.
 *
 * CPU only, nothing blocks: called on the queue's writer thread after the commit.
 */
#include <stdio.h>

#include "igw/queue.h"
#include "dialect/dci/dci_int.h"

int
dci_answer(const struct igw_ingest *in, uint64_t id, bool duplicate, struct igw_accept_resp *out)
{
    char qid[IGW_QUEUE_ID_STRLEN];
    int rv;

    (void)in;
    igw_queue_id_format(id, qid);
    out->status = 200;
    out->content_type = DCI_CT;
    if (duplicate) {
        rv = dci_response(&out->body, "NACK", qid, IGW_DCI_MESSAGE_ID_DUPLICATE,
                          "this sender already sent this message_id; it is being processed as "
                          "the transaction named by correlation_id");
    } else {
        rv = dci_response(&out->body, "ACK", qid, NULL, NULL);
    }
    return rv == IGW_OK ? IGW_OK : IGW_ENOMEM;
}
