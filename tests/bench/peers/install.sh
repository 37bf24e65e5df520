#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the mapping peers pinned in package-lock.json (JSONata, and fumifier, the engine inside
# FUME) into DIR/node_modules with `npm ci`, only when they are missing or the lock file changed.
#   tests/bench/peers/install.sh DIR     (the benchmarks use BUILD_DIR/tests/bench/peers)
# Exits 0 when installed, 77 (skip) when node or npm is missing or npm cannot install them (no
# registry access), so that a benchmark needing them reports SKIP rather than failing or passing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: install.sh DIR}
if ! command -v node >/dev/null 2>&1; then
  echo "peers: node not found: cannot run the mapping peers (skipped)" >&2
  exit 77
fi
mkdir -p "$dir"
if [ -d "$dir/node_modules/jsonata" ] && [ -d "$dir/node_modules/fumifier" ] &&
   cmp -s "$here/package-lock.json" "$dir/package-lock.json"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "peers: npm not found: cannot install the mapping peers (skipped)" >&2
  exit 77
fi
cp "$here/package.json" "$here/package-lock.json" "$dir/"
echo "peers: npm ci in $dir"
if ! (cd "$dir" && npm ci --no-audit --no-fund --silent); then
  echo "peers: npm ci failed in $dir (no registry access?): cannot run the peers (skipped)" >&2
  exit 77
fi
