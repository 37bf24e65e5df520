/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal: the shape of the FHIR R4 tables in fhir_tables.c, which
 * translators/fhir/gen/gen-fhir-tables.mjs generates from the R4 StructureDefinitions and
 * ValueSets. Keep this header and the generator in step.
 *
 * Model: every type (resource, datatype, primitive) and every backbone element is a node, an
 * object shape. A node has its element definitions (fhir_elems, in spec order, one per
 * ElementDefinition; a choice element "value[x]" is one definition named "value" with the
 * FHIR_E_CHOICE flag) and its JSON member names (fhir_names, sorted by bytes for binary search;
 * a choice contributes one name per allowed type, "valueString" -> slot of string in the
 * element's types). Indices stored in a node are absolute; indices in a name are relative to the
 * node's first element. All tables are immutable.
 */
#ifndef IGW_FHIR_TABLES_H
#define IGW_FHIR_TABLES_H

#include <stdint.h>

#define FHIR_NONE 0xFFFFu
#define FHIR_UNBOUNDED 0xFFFFu
/* the largest number of element definitions in one node (checked by the generated file) */
#define FHIR_TABLES_MAX_NODE_ELEMS 64

enum fhir_kind {
    FHIR_KIND_PRIMITIVE = 0,
    FHIR_KIND_COMPLEX,
    FHIR_KIND_RESOURCE,
    FHIR_KIND_ABSTRACT, /* Resource, DomainResource, Element, BackboneElement */
};

/* Primitive types, in the generator's PRIMS order (fhir_prim_regex is indexed by this). */
enum fhir_prim {
    FHIR_P_NONE = 0,
    FHIR_P_BOOLEAN,
    FHIR_P_INTEGER,
    FHIR_P_POSITIVEINT,
    FHIR_P_UNSIGNEDINT,
    FHIR_P_DECIMAL,
    FHIR_P_STRING,
    FHIR_P_MARKDOWN,
    FHIR_P_CODE,
    FHIR_P_ID,
    FHIR_P_URI,
    FHIR_P_URL,
    FHIR_P_CANONICAL,
    FHIR_P_OID,
    FHIR_P_UUID,
    FHIR_P_DATE,
    FHIR_P_DATETIME,
    FHIR_P_INSTANT,
    FHIR_P_TIME,
    FHIR_P_BASE64BINARY,
    FHIR_P_XHTML,
};

struct fhir_type {
    const char *name; /* "Patient", "HumanName", "dateTime"; sorted by bytes */
    uint8_t name_len;
    uint8_t kind; /* enum fhir_kind */
    uint8_t prim; /* enum fhir_prim, FHIR_P_NONE unless primitive */
    uint16_t node;
};

struct fhir_node {
    const char *path; /* "Patient", "Patient.contact" */
    uint32_t first_elem;
    uint16_t n_elems;
    uint32_t first_name;
    uint16_t n_names;
};

#define FHIR_E_CHOICE 0x01u

struct fhir_elem {
    const char *name; /* without "[x]" for a choice */
    uint8_t name_len;
    uint8_t min;
    uint16_t max;  /* FHIR_UNBOUNDED for "*" */
    uint8_t flags; /* FHIR_E_* */
    uint8_t n_types;
    uint32_t first_type;   /* into fhir_elem_types (type indices) */
    uint16_t node;         /* children (backbone element or contentReference), FHIR_NONE */
    uint16_t vset;         /* required binding with an embedded code list, FHIR_NONE */
    uint32_t first_target; /* into fhir_targets: allowed resource types of a Reference */
    uint16_t n_targets;    /* 0 = any */
};

struct fhir_name {
    const char *name; /* JSON member name */
    uint8_t name_len;
    uint8_t slot;  /* index into the element's types */
    uint16_t elem; /* relative to the node's first_elem */
};

struct fhir_vset {
    const char *url;
    uint32_t first_code;
    uint16_t n_codes; /* codes sorted by (code, system) */
};

struct fhir_code {
    const char *code;
    uint16_t len;
    uint16_t system; /* into fhir_systems */
};

extern const char fhir_tables_version[];
extern const struct fhir_type fhir_types[];
extern const unsigned fhir_types_count;
extern const unsigned fhir_type_Resource;
extern const unsigned fhir_type_Element;
extern const unsigned fhir_type_BackboneElement;
extern const unsigned fhir_type_Extension;
extern const unsigned fhir_type_Reference;
extern const unsigned fhir_type_Coding;
extern const unsigned fhir_type_CodeableConcept;
extern const unsigned fhir_type_Bundle;
extern const unsigned fhir_type_Narrative;
extern const struct fhir_node fhir_nodes[];
extern const unsigned fhir_nodes_count;
extern const struct fhir_elem fhir_elems[];
extern const struct fhir_name fhir_names[];
extern const uint16_t fhir_elem_types[];
extern const uint16_t fhir_targets[];
extern const struct fhir_vset fhir_vsets[];
extern const unsigned fhir_vsets_count;
extern const struct fhir_code fhir_codes[];
extern const char *const fhir_systems[];
extern const unsigned fhir_systems_count;
extern const char *const fhir_prim_regex[];

#endif /* IGW_FHIR_TABLES_H */
