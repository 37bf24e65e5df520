#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Regenerates tests/bench/maps/insuree-to-patient/tests/<case>/{input,expected}.json: inputs are records
# of the benchmark's record generator (tests/bench/peers/gen.js) or hand-made edge cases; expected
# outputs are what the JSONata peer (tests/bench/peers/insuree-to-patient.jsonata) returns for them.
# Needs node and npm: JSONata is installed from npm into BUILD_DIR/tests/bench/peers by
# tests/bench/peers/install.sh when missing.
#   tests/golden/regen-insuree-to-patient.sh [BUILD_DIR]   (default: build)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
peers=$src/tests/bench/peers
build=${1:-$src/build}
"$peers/install.sh" "$build/tests/bench/peers"
export NODE_PATH="$build/tests/bench/peers/node_modules"
out=$src/tests/bench/maps/insuree-to-patient/tests
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# case name <TAB> input record (JSON) -- gen(i) is record i of the peer generator
node --input-type=module -e '
import { createRequire } from "node:module";
const require = createRequire(process.argv[1] + "/");
const { record } = require("./gen.js");
const edit = (i, f) => { const r = record(i); f(r); return r; };
const cases = {
  "basic": record(1),                                   // F, phone, not head, one given name
  "head-of-family": record(0),                          // M, head, two given names
  "no-phone": record(4),                                // F, head, no phone
  "gender-other": record(2),                            // O, not head
  "gender-missing": edit(7, (r) => { delete r.gender; }),  // no gender member: no gender
  "gender-unmapped": edit(5, (r) => { r.gender = "X"; }),   // unknown code: "unknown"
  "multi-word-names": edit(3, (r) => { r.otherNames = "Neema Rehema Zawadi"; }),
  "no-family": edit(6, (r) => { delete r.family; delete r.phone; }),  // no extension
  // edges the generator never produces, where igw follows JSONata too
  "empty-phone": edit(8, (r) => { r.phone = ""; }),            // "" is false: no telecom
  "no-health-facility": edit(9, (r) => { delete r.healthFacility; }),  // "Organization/"
  "double-space": edit(10, (r) => { r.otherNames = "Juma  Musa"; }),  // an empty given name
};
for (const [name, r] of Object.entries(cases)) console.log(name + "\t" + JSON.stringify(r));
' "$peers" > "$tmp/cases.tsv"

cut -f2 "$tmp/cases.tsv" > "$tmp/in.jsonl"
node "$src/tests/bench/peer_map.mjs" jsonata "$tmp/in.jsonl" "$peers" > "$tmp/out.jsonl"
# Where igw differs from JSONata on purpose (its output stays valid FHIR R4, see the mapping's
# README: no "Organization/" reference, no "" in name.given), expected.json is kept as it is.
own_expected=" double-space no-health-facility "
paste "$tmp/cases.tsv" "$tmp/out.jsonl" | while IFS="$(printf '\t')" read -r name input expected; do
    mkdir -p "$out/$name"
    printf '%s' "$input" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>
        process.stdout.write(JSON.stringify(JSON.parse(s),null,2)+"\n"))' > "$out/$name/input.json"
    case "$own_expected" in *" $name "*) echo "kept $out/$name/expected.json"; continue ;; esac
    printf '%s' "$expected" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>
        process.stdout.write(JSON.stringify(JSON.parse(s),null,2)+"\n"))' > "$out/$name/expected.json"
    echo "wrote $out/$name"
done

# The invertible cut used by golden.roundtrip (tests/golden/maps/insuree-demographics): the same
# cases minus gender-unmapped (an unmapped code becomes "unknown", which cannot run backwards),
# expected = the JSONata Patient without identifier use/type and without the is-head extension.
rt=$src/tests/golden/maps/insuree-demographics/tests
for name in basic head-of-family no-phone gender-other gender-missing multi-word-names no-family; do
    mkdir -p "$rt/$name"
    cp "$out/$name/input.json" "$rt/$name/input.json"
    node -e 'const p=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
        p.identifier=p.identifier.map(i=>({system:i.system,value:i.value}));
        delete p.extension;
        process.stdout.write(JSON.stringify(p,null,2)+"\n")' "$out/$name/expected.json" \
        > "$rt/$name/expected.json"
    echo "wrote $rt/$name"
done
