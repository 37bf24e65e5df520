// SPDX-License-Identifier: Apache-2.0
// Prints the peer's output for every line of FILE (one insuree JSON each), one Patient JSON per
// line, in input order: the reference outputs for igw's golden cases and benchmark comparison.
// Usage: NODE_PATH=BUILD_DIR/tests/bench/peers/node_modules node peer_map.mjs jsonata|fumifier FILE
//        [PEERS_DIR]  (PEERS_DIR, holding insuree-to-patient.jsonata, defaults to peers/ beside
//        this script; tests/bench/peers/install.sh installs the engines)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const [engine = 'jsonata', file, peersArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: peer_map.mjs jsonata|fumifier FILE [PEERS_DIR]');
  process.exit(2);
}
const peers = peersArg || path.resolve(here, 'peers');
const exprText = fs.readFileSync(path.join(peers, 'insuree-to-patient.jsonata'), 'utf8');
let evalFn;
if (engine === 'jsonata') {
  const e = require('jsonata')(exprText);
  evalFn = (x) => e.evaluate(x);
} else if (engine === 'fumifier') {
  const fumifier = (await import('fumifier')).default;
  const e = await fumifier(exprText);
  evalFn = (x) => e.evaluate(x);
} else {
  console.error('unknown engine ' + engine);
  process.exit(2);
}
const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const out = [];
for (const l of lines) out.push(JSON.stringify(await evalFn(JSON.parse(l))));
process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
