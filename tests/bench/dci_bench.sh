#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DCI client benchmark (docs/DCI.md, "igw as openIMIS's DCI client"), bounded: 3 cases of DUR
# seconds (default 5) with CONNS client threads (default 8, keep-alive), Python as the client:
#   1. direct: POST /registry/sync/search to tests/sim/dci_registry.py (the reference)
#   2. igw sync: openIMIS JSON -> igw dci-client (map, RS256 signature, call, response map)
#   3. igw async: openIMIS JSON -> igw (signed, committed, ACKed) -> registry -> signed on-search
#      -> igw dci-callback (verified, correlated, committed) -> map -> sink: callbacks/s delivered
# Prints requests/s and p50/p99 of 1-2 and the end-to-end rate of 3. Not yet: the same search
# through the FHIR face in the same run. Exits 77 (skip) without python3-cryptography.
#   tests/bench/dci_bench.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
python3 -c 'import cryptography' 2>/dev/null || { echo "dci_bench: python3-cryptography missing: skipped" >&2; exit 77; }
IGW_BIN=${IGW_BIN:-$build/cli/igw} DUR=${DUR:-5} CONNS=${CONNS:-8} \
  exec python3 "$here/dci_bench.py"
