// SPDX-License-Identifier: Apache-2.0
// A stock FHIR client library (fhir-kit-client from npm, not written here) drives igw's FHIR
// face: metadata, search, read, create, update, patch, transaction and batch. Run by
// tests/integration/test_fhir_client.py, which starts igw and the simulators:
//   node client.mjs BASE_URL TOKEN PARTNER_PATIENT_ID
// Prints one line per step ("ok <step> <detail>") and exits 1 at the first failure.
import { Client } from 'fhir-kit-client';

const [baseUrl, token, partnerId] = process.argv.slice(2);
const client = new Client({ baseUrl, bearerToken: token });

function check(cond, what) {
  if (!cond) {
    throw new Error(what);
  }
}

const patient = (value, family) => ({
  resourceType: 'Patient',
  identifier: [{ system: 'https://partner.example.org/chfid', value }],
  name: [{ family, given: ['Ann'] }],
  gender: 'female',
});

const steps = {
  async metadata() {
    const cs = await client.capabilityStatement();
    check(cs.resourceType === 'CapabilityStatement', 'not a CapabilityStatement');
    check(cs.fhirVersion === '4.0.1', 'fhirVersion ' + cs.fhirVersion);
    const p = cs.rest[0].resource.find((r) => r.type === 'Patient');
    const codes = p.interaction.map((i) => i.code);
    for (const c of ['read', 'search-type', 'create', 'update', 'patch']) {
      check(codes.includes(c), 'Patient lacks ' + c + ': ' + codes);
    }
    return codes.join(',');
  },
  async search() {
    const b = await client.search({ resourceType: 'Patient', searchParams: { _count: 3 } });
    check(b.resourceType === 'Bundle' && b.type === 'searchset', 'not a searchset');
    check(b.entry && b.entry.length === 3, 'entries: ' + (b.entry || []).length);
    steps.found = b.entry[0].resource.id;
    return b.entry.map((e) => e.resource.id).join(',');
  },
  async read() {
    const p = await client.read({ resourceType: 'Patient', id: steps.found });
    check(p.resourceType === 'Patient' && p.id === steps.found, 'read ' + p.id);
    return p.id;
  },
  async create() {
    const p = await client.create({ resourceType: 'Patient', body: patient('FKC-1', 'Kamau') });
    check(p.resourceType === 'Patient' && p.id && p.meta.versionId, 'create answer');
    return p.id;
  },
  async update() {
    const body = { ...patient('FKC-P', 'Otieno'), id: partnerId };
    const p = await client.update({ resourceType: 'Patient', id: partnerId, body });
    check(p.id === partnerId && p.name[0].family === 'Otieno', 'update answer');
    return p.meta.versionId;
  },
  async patch() {
    const p = await client.patch({
      resourceType: 'Patient',
      id: partnerId,
      jsonPatch: [{ op: 'replace', path: '/gender', value: 'male' }],
    });
    check(p.id === partnerId && p.gender === 'male', 'patch answer ' + JSON.stringify(p));
    return p.meta.versionId;
  },
  async transaction() {
    const b = await client.transaction({
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: patient('FKC-T', 'Banda'), request: { method: 'POST', url: 'Patient' } }],
      },
    });
    check(b.type === 'transaction-response', b.type);
    check(b.entry[0].response.status.startsWith('201'), b.entry[0].response.status);
    return b.entry[0].response.status;
  },
  async batch() {
    const b = await client.batch({
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [{ resource: patient('FKC-B', 'Phiri'), request: { method: 'POST', url: 'Patient' } }],
      },
    });
    check(b.type === 'batch-response', b.type);
    return b.entry[0].response.status;
  },
};

for (const name of ['metadata', 'search', 'read', 'create', 'update', 'patch', 'transaction', 'batch']) {
  try {
    const detail = await steps[name]();
    console.log('ok ' + name + ' ' + detail);
  } catch (e) {
    const body = e.response && e.response.data ? JSON.stringify(e.response.data) : '';
    console.log('FAIL ' + name + ' ' + e.message + ' ' + body.slice(0, 400));
    process.exit(1);
  }
}
