/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR R4 primitive values: the JSON type each primitive must have (boolean, number, string)
 * and the lexical formats of the R4 regexes (fhir_prim_regex, from the R4 definitions),
 * hand-written as small matchers instead of a regex engine. \s and \S follow Java (the
 * reference validator): whitespace is space, \t, \n, \x0B, \f, \r. Beyond the regexes, a full
 * date must exist in the calendar (2023-02-30 is rejected), as the reference validator does.
 */
#include <string.h>

#include "fhir_int.h"

#define FHIR_STRING_MAX (1024u * 1024u) /* "FHIR strings SHALL NOT exceed 1MB" */

static bool
is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\x0B' || ch == '\f' || ch == '\r';
}

static bool
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

const char *
fhir_clip(char *buf, size_t cap, const char *s, size_t n)
{
    size_t k = n;

    if (cap < 8) {
        return "";
    }
    if (k > 48 || k + 4 > cap) {
        k = cap - 4 < 48 ? cap - 4 : 48;
        while (k > 0 && ((unsigned char)s[k] & 0xC0u) == 0x80u) {
            k--;
        }
    }
    for (size_t i = 0; i < k; i++) {
        /* control characters would make the OperationOutcome's own strings invalid */
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
    }
    if (k < n) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}

/* ---- strings without dates --------------------------------------------------------------- */

static bool
string_ok(const char *s, size_t n)
{
    return n > 0 && memchr(s, '\x0B', n) == NULL && memchr(s, '\f', n) == NULL;
}

static bool
no_ws(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (is_ws(s[i])) {
            return false;
        }
    }
    return true;
}

/* [^\s]+(\s[^\s]+)* */
static bool
code_ok(const char *s, size_t n)
{
    if (n == 0 || is_ws(s[0]) || is_ws(s[n - 1])) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (is_ws(s[i]) && is_ws(s[i - 1])) {
            return false;
        }
    }
    return true;
}

/* [A-Za-z0-9\-\.]{1,64} */
static bool
id_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  ch == '-' || ch == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* urn:oid:[0-2](\.(0|[1-9][0-9]*))+ */
static bool
oid_ok(const char *s, size_t n)
{
    size_t i = 9;
    unsigned arcs = 0;

    if (n < 11 || memcmp(s, "urn:oid:", 8) != 0 || s[8] < '0' || s[8] > '2') {
        return false;
    }
    while (i < n) {
        size_t start;
        if (s[i] != '.' || i + 1 >= n || !is_digit(s[i + 1])) {
            return false;
        }
        start = ++i;
        while (i < n && is_digit(s[i])) {
            i++;
        }
        if (s[start] == '0' && i - start > 1) {
            return false;
        }
        arcs++;
    }
    return arcs > 0;
}

static bool
hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f')) {
            return false;
        }
    }
    return true;
}

/* urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} */
static bool
uuid_ok(const char *s, size_t n)
{
    static const size_t dash[] = {17, 22, 27, 32};

    if (n != 45 || memcmp(s, "urn:uuid:", 9) != 0) {
        return false;
    }
    for (size_t i = 0; i < 4; i++) {
        if (s[dash[i]] != '-') {
            return false;
        }
    }
    return hex_lower(s + 9, 8) && hex_lower(s + 18, 4) && hex_lower(s + 23, 4) &&
           hex_lower(s + 28, 4) && hex_lower(s + 33, 12);
}

static bool
b64_char(char ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '+' ||
           ch == '/' || ch == '=';
}

/* (\s*([0-9a-zA-Z\+/=]){4}\s*)+ */
static bool
base64_ok(const char *s, size_t n)
{
    size_t i = 0;
    unsigned groups = 0;

    while (i < n) {
        while (i < n && is_ws(s[i])) {
            i++;
        }
        if (i == n) {
            break;
        }
        if (n - i < 4 || !b64_char(s[i]) || !b64_char(s[i + 1]) || !b64_char(s[i + 2]) ||
            !b64_char(s[i + 3])) {
            return false;
        }
        i += 4;
        groups++;
    }
    return groups > 0;
}

/* light check: the narrative is an XHTML div element */
static bool
xhtml_ok(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && is_ws(s[i])) {
        i++;
    }
    while (n > i && is_ws(s[n - 1])) {
        n--;
    }
    return n - i >= 6 && memcmp(s + i, "<div", 4) == 0 && (s[i + 4] == ' ' || s[i + 4] == '>') &&
           (memcmp(s + n - 6, "</div>", 6) == 0 || memcmp(s + n - 2, "/>", 2) == 0);
}

/* ---- dates and times --------------------------------------------------------------------- */

struct scan {
    const char *s;
    size_t n;
    size_t i;
};

/* k digits as a number in [lo, hi] */
static bool
num(struct scan *sc, unsigned k, unsigned lo, unsigned hi, unsigned *out)
{
    unsigned v = 0;

    if (sc->n - sc->i < k) {
        return false;
    }
    for (unsigned j = 0; j < k; j++) {
        char ch = sc->s[sc->i + j];
        if (!is_digit(ch)) {
            return false;
        }
        v = v * 10 + (unsigned)(ch - '0');
    }
    sc->i += k;
    if (out != NULL) {
        *out = v;
    }
    return v >= lo && v <= hi;
}

static bool
lit(struct scan *sc, char ch)
{
    if (sc->i < sc->n && sc->s[sc->i] == ch) {
        sc->i++;
        return true;
    }
    return false;
}

static unsigned
days_in(unsigned y, unsigned m)
{
    static const unsigned d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : d[m - 1];
}

/* YYYY(-MM(-DD)?)?; *parts = 1, 2 or 3 */
static bool
date_part(struct scan *sc, unsigned *parts)
{
    unsigned y;
    unsigned m;
    unsigned d;

    if (!num(sc, 4, 1, 9999, &y)) {
        return false;
    }
    *parts = 1;
    if (!lit(sc, '-')) {
        return true;
    }
    if (!num(sc, 2, 1, 12, &m)) {
        return false;
    }
    *parts = 2;
    if (!lit(sc, '-')) {
        return true;
    }
    *parts = 3;
    return num(sc, 2, 1, 31, &d) && d <= days_in(y, m);
}

/* hh:mm:ss(\.[0-9]+)? */
static bool
time_part(struct scan *sc)
{
    if (!num(sc, 2, 0, 23, NULL) || !lit(sc, ':') || !num(sc, 2, 0, 59, NULL) || !lit(sc, ':') ||
        !num(sc, 2, 0, 60, NULL)) {
        return false;
    }
    if (lit(sc, '.')) {
        size_t start = sc->i;
        while (sc->i < sc->n && is_digit(sc->s[sc->i])) {
            sc->i++;
        }
        return sc->i > start;
    }
    return true;
}

/* Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00) */
static bool
zone_part(struct scan *sc)
{
    unsigned h;
    unsigned m;

    if (lit(sc, 'Z')) {
        return true;
    }
    if (!lit(sc, '+') && !lit(sc, '-')) {
        return false;
    }
    if (!num(sc, 2, 0, 14, &h) || !lit(sc, ':') || !num(sc, 2, 0, 59, &m)) {
        return false;
    }
    return h < 14 || m == 0;
}

static bool
date_time_ok(const char *s, size_t n, bool date_only, bool instant)
{
    struct scan sc = {s, n, 0};
    unsigned parts = 0;

    if (!date_part(&sc, &parts)) {
        return false;
    }
    if (sc.i == n) {
        return !instant;
    }
    if (date_only || parts != 3 || !lit(&sc, 'T')) {
        return false;
    }
    return time_part(&sc) && zone_part(&sc) && sc.i == n;
}

static bool
time_ok(const char *s, size_t n)
{
    struct scan sc = {s, n, 0};

    return time_part(&sc) && sc.i == n;
}

bool
fhir_prim_string_ok(unsigned prim, const char *s, size_t n)
{
    switch (prim) {
    case FHIR_P_STRING:
    case FHIR_P_MARKDOWN:
        return string_ok(s, n);
    case FHIR_P_CODE:
        return code_ok(s, n);
    case FHIR_P_ID:
        return id_ok(s, n);
    case FHIR_P_URI:
    case FHIR_P_URL:
    case FHIR_P_CANONICAL:
        return n > 0 && no_ws(s, n);
    case FHIR_P_OID:
        return oid_ok(s, n);
    case FHIR_P_UUID:
        return uuid_ok(s, n);
    case FHIR_P_DATE:
        return date_time_ok(s, n, true, false);
    case FHIR_P_DATETIME:
        return date_time_ok(s, n, false, false);
    case FHIR_P_INSTANT:
        return date_time_ok(s, n, false, true);
    case FHIR_P_TIME:
        return time_ok(s, n);
    case FHIR_P_BASE64BINARY:
        return base64_ok(s, n);
    case FHIR_P_XHTML:
        return xhtml_ok(s, n);
    default:
        return false;
    }
}

/* ---- numbers ----------------------------------------------------------------------------- */

/* -?(0|[1-9][0-9]*) within 32 bits; *neg and *zero describe the value */
static bool
integer_ok(const char *s, size_t n, bool *neg, bool *zero)
{
    size_t i = 0;
    unsigned long long v = 0;

    *neg = n > 0 && s[0] == '-';
    i = *neg ? 1 : 0;
    if (i >= n || (s[i] == '0' && n - i > 1)) {
        return false;
    }
    for (; i < n; i++) {
        if (!is_digit(s[i]) || v > 2147483648ull) {
            return false;
        }
        v = v * 10 + (unsigned long long)(s[i] - '0');
    }
    *zero = v == 0;
    return v <= (*neg ? 2147483648ull : 2147483647ull);
}

static void
check_number(struct fhir_ctx *c, const struct igw_node *v, unsigned prim)
{
    char clip[64];
    bool neg = false;
    bool zero = false;
    bool ok;

    if (prim == FHIR_P_DECIMAL) {
        return; /* any JSON number matches the decimal regex */
    }
    ok = integer_ok(v->str, v->len, &neg, &zero);
    if (ok && prim == FHIR_P_POSITIVEINT) {
        ok = !neg && !zero;
    } else if (ok && prim == FHIR_P_UNSIGNEDINT) {
        ok = !neg;
    }
    if (!ok) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_VALUE,
                   "%s is not a valid %s (32-bit, regex %s)",
                   fhir_clip(clip, sizeof(clip), v->str, v->len),
                   prim == FHIR_P_INTEGER       ? "integer"
                   : prim == FHIR_P_POSITIVEINT ? "positiveInt"
                                                : "unsignedInt",
                   fhir_prim_regex[prim]);
    }
}

/* ---- entry ------------------------------------------------------------------------------- */

static const char *
json_kind(unsigned prim)
{
    if (prim == FHIR_P_BOOLEAN) {
        return "boolean";
    }
    if (prim >= FHIR_P_INTEGER && prim <= FHIR_P_DECIMAL) {
        return "number";
    }
    return "string";
}

static bool
json_type_ok(const struct igw_node *v, unsigned prim)
{
    if (prim == FHIR_P_BOOLEAN) {
        return v->type == IGW_NODE_BOOL;
    }
    if (prim >= FHIR_P_INTEGER && prim <= FHIR_P_DECIMAL) {
        return v->type == IGW_NODE_NUMBER;
    }
    return v->type == IGW_NODE_STRING;
}

static const char *
prim_name(unsigned prim)
{
    static const char *const names[] = {
        "",         "boolean", "integer",  "positiveInt", "unsignedInt", "decimal",      "string",
        "markdown", "code",    "id",       "uri",         "url",         "canonical",    "oid",
        "uuid",     "date",    "dateTime", "instant",     "time",        "base64Binary", "xhtml",
    };

    return prim < sizeof(names) / sizeof(names[0]) ? names[prim] : "?";
}

/* true when the string is well formed (else an issue is recorded) */
static bool
check_string(struct fhir_ctx *c, const struct igw_node *v, unsigned prim)
{
    char clip[64];

    if (v->len == 0) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_VALUE,
                   "empty strings are not allowed in FHIR JSON (%s)", prim_name(prim));
    } else if (v->len > FHIR_STRING_MAX) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_VALUE, "%s longer than 1 MiB",
                   prim_name(prim));
    } else if (!fhir_prim_string_ok(prim, v->str, v->len)) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_VALUE, "'%s' is not a valid %s%s%s%s",
                   fhir_clip(clip, sizeof(clip), v->str, v->len), prim_name(prim),
                   fhir_prim_regex[prim][0] != '\0' ? " (regex " : "", fhir_prim_regex[prim],
                   fhir_prim_regex[prim][0] != '\0' ? ")" : "");
    } else {
        return true;
    }
    return false;
}

void
fhir_check_prim(struct fhir_ctx *c, const struct igw_node *v, unsigned prim,
                const struct fhir_elem *e)
{
    if (!json_type_ok(v, prim)) {
        fhir_issue(c, IGW_FHIR_SEV_ERROR, IGW_FHIR_IT_INVALID, "'%s' is a %s and must be a JSON %s",
                   e->name, prim_name(prim), json_kind(prim));
        return;
    }
    if (v->type == IGW_NODE_NUMBER) {
        check_number(c, v, prim);
    } else if (v->type == IGW_NODE_STRING && check_string(c, v, prim)) {
        fhir_check_code(c, v->str, v->len, e);
    }
}
