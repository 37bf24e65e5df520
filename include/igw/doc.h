/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Documents: one include for code that handles whole documents (the gateway, the mapping engine,
 * tools). It declares nothing itself and brings in
 *   igw/node.h   the neutral tree (nodes, building, reading, clone, equality);
 *   igw/codec.h  the codec seam: formats, the codec table, igw_doc_parse/igw_doc_write;
 *   igw/json.h, igw/xml.h, igw/csv.h  the built-in codecs' own entry points and options.
 * Code inside a codec includes the narrower headers it needs instead.
 */
#ifndef IGW_DOC_H
#define IGW_DOC_H

#include "igw/node.h"
#include "igw/codec.h"
#include "igw/json.h"
#include "igw/xml.h"
#include "igw/csv.h"

#endif /* IGW_DOC_H */
