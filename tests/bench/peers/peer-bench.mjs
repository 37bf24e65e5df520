// SPDX-License-Identifier: Apache-2.0
// Maps every line of FILE (one insuree JSON each) to a FHIR Patient with ENGINE, JSON text in and
// out, and prints the rate. Usage: NODE_PATH=<peers>/node_modules node peer-bench.mjs ENGINE FILE
import fs from 'node:fs';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const [engine = 'jsonata', file] = process.argv.slice(2);
if (!file) { console.error('usage: peer-bench.mjs jsonata|fumifier|handjs FILE'); process.exit(2); }
const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const exprText = fs.readFileSync(new URL('./insuree-to-patient.jsonata', import.meta.url), 'utf8');
const GENDER = { M: 'male', F: 'female', O: 'other' };
const ID_SYS = 'https://openimis.github.io/openimis_fhir_r4_ig/CodeSystem/openimis-identifiers';
function handMap(r) {
  const p = { resourceType: 'Patient',
    identifier: [{ use: 'usual', type: { coding: [{ system: ID_SYS, code: 'Code' }] },
                   system: 'urn:openimis:insuree:chfid', value: r.chfId }],
    name: [{ use: 'official', family: r.lastName, given: r.otherNames.split(' ') }],
    birthDate: r.dob };
  if (r.gender !== undefined) p.gender = GENDER[r.gender] || 'unknown';
  if (r.phone) p.telecom = [{ system: 'phone', value: r.phone }];
  p.managingOrganization = { reference: 'Organization/' + r.healthFacility.code };
  if (r.family && r.family.headChfId)
    p.extension = [{ url: 'https://openimis.github.io/openimis_fhir_r4_ig/StructureDefinition/patient-is-head',
                     valueBoolean: r.family.headChfId === r.chfId }];
  return p;
}
let evalFn;
if (engine === 'jsonata') {
  const e = require('jsonata')(exprText);
  evalFn = (x) => e.evaluate(x);
} else if (engine === 'fumifier') {
  const fumifier = (await import('fumifier')).default;
  const e = await fumifier(exprText);
  evalFn = (x) => e.evaluate(x);
} else if (engine === 'handjs') {
  evalFn = async (x) => handMap(x);
} else { console.error('unknown engine ' + engine); process.exit(2); }
const warm = Math.min(10000, lines.length);
for (let i = 0; i < warm; i++) await evalFn(JSON.parse(lines[i]));
const hash = crypto.createHash('sha256');
const t0 = process.hrtime.bigint();
for (const l of lines) hash.update(JSON.stringify(await evalFn(JSON.parse(l))) + '\n');
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ engine, records: lines.length, secs: +secs.toFixed(3),
  rps: Math.round(lines.length / secs), sha256: hash.digest('hex'), node: process.version }));
