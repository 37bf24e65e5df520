/* SPDX-License-Identifier: Apache-2.0 */
/* FHIR dialect of a channel. First version: no validation yet, the plain 202 answer. */
#include <string.h>

#include "igw/common.h"
#include "fhir_int.h"
#include "ingest_int.h"

bool
igw_channel_is_fhir(const struct igw_channel *ch)
{
    return ch != NULL && ch->dialect != NULL && strcmp(ch->dialect, "fhir") == 0;
}

int
igw_fhir_check_input(struct igw_ingest *in, char *err, size_t errlen)
{
    IGW_UNUSED(in);
    IGW_UNUSED(err);
    IGW_UNUSED(errlen);
    return IGW_OK;
}

int
igw_fhir_check_output(struct igw_ingest *in, char *err, size_t errlen)
{
    IGW_UNUSED(in);
    IGW_UNUSED(err);
    IGW_UNUSED(errlen);
    return IGW_OK;
}

int
igw_fhir_accept_response(const struct igw_ingest *in, uint64_t id, bool duplicate,
                         struct igw_accept_resp *out)
{
    IGW_UNUSED(in);
    out->status = 202;
    out->content_type = "application/json";
    return igw_http_accept_json(&out->body, id, duplicate);
}
