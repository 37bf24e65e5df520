// SPDX-License-Identifier: Apache-2.0
// Writes N deterministic openIMIS-like insuree records, one JSON object per line.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { record } = require('./gen.js');
const n = Number(process.argv[2] || 200000);
const out = [];
for (let i = 0; i < n; i++) {
  out.push(JSON.stringify(record(i)));
  if (out.length === 10000) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; }
}
if (out.length) process.stdout.write(out.join('\n') + '\n');
