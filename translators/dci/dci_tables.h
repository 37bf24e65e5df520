/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal: the shape of the SPDCI tables in dci_tables.c, which
 * translators/dci/gen/gen-dci-tables.py generates from the SPDCI 1.0.0 OpenAPI text. Keep this
 * header and the generator in step.
 *
 * Model: a JSON-schema subset compiled into nodes. An object node's properties are
 * dci_props[first .. first+n) in spec order; an array node's items are node `first`; an anyof
 * node (oneOf/anyOf) has its alternatives in dci_alts[first .. first+n); a string node may have
 * an enum dci_enums[first_enum .. first_enum+n_enum). A property carries the DCI reason code a
 * failure below it is reported with (DCI_CODE_NONE: the enclosing property's). All tables are
 * immutable.
 */
#ifndef IGW_DCI_TABLES_H
#define IGW_DCI_TABLES_H

#include <stddef.h>
#include <stdint.h>

#define DCI_CODE_NONE 0xFFu

enum dci_type {
    DCI_T_ANY = 0,
    DCI_T_OBJECT,
    DCI_T_ARRAY,
    DCI_T_STRING,
    DCI_T_INTEGER,
    DCI_T_NUMBER,
    DCI_T_BOOLEAN,
    DCI_T_ANYOF,
};

enum dci_fmt {
    DCI_F_NONE = 0,
    DCI_F_DATETIME, /* ISO 8601 date-time with a zone */
    DCI_F_URI,      /* absolute URI */
    DCI_F_LOCALE,   /* ISO 639-3: three lowercase letters */
};

#define DCI_N_NUMSTR 0x01u /* drift: a numeric string is accepted for a number */
#define DCI_N_SINGLE 0x02u /* drift: one object is accepted for an array of objects */
#define DCI_N_NOCASE 0x04u /* drift: the enum is matched without regard to case */

struct dci_node {
    uint8_t type;              /* enum dci_type */
    uint8_t fmt;               /* enum dci_fmt (strings) */
    uint8_t flags;             /* DCI_N_* */
    uint16_t min_len, max_len; /* string length in bytes; max 0 = unbounded */
    uint8_t has_min;
    int32_t minimum; /* numbers, when has_min */
    uint16_t first, n;
    uint16_t first_enum, n_enum;
};

struct dci_prop {
    const char *name;
    uint8_t name_len;
    uint16_t node;
    uint8_t required;
    uint8_t code; /* index into dci_codes, or DCI_CODE_NONE */
};

#define DCI_EP_SYNC 0x01u     /* /registry/sync/...: answered in the HTTP response */
#define DCI_EP_CALLBACK 0x02u /* the header is a MsgCallbackHeader (status required) */
#define DCI_EP_ASYNC 0x04u    /* an asynchronous request: sender_uri required */

struct dci_endpoint {
    const char *path; /* "/registry/sync/search" */
    const char *action;
    uint16_t root; /* node of the whole envelope */
    uint8_t flags; /* DCI_EP_* */
};

extern const char *const dci_codes[]; /* sorted by bytes */
extern const unsigned dci_ncodes;
extern const char *const dci_enums[];
extern const uint16_t dci_alts[];
extern const struct dci_prop dci_props[];
extern const struct dci_node dci_nodes[];
extern const unsigned dci_nnodes;
extern const struct dci_endpoint dci_endpoints[];
extern const unsigned dci_nendpoints;
extern const unsigned dci_default_code; /* err.request.bad */

#endif /* IGW_DCI_TABLES_H */
