#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DCI registry facade benchmark, the asynchronous side (docs/DCI.md, "Asynchronous search and
# txn status"), bounded: 2 cases of DUR seconds (default 5) with CONNS client threads (default
# 4, keep-alive), Python as the client, with the openIMIS simulator (200 insurees) and the
# SP-MIS receiver (which verifies every callback's signature against igw's JWKS):
#   1. igw sync search: /registry/sync/search answered from openIMIS (dci-search), signed
#   2. igw async search: /registry/search ACKed after the commit (each request signed by the
#      partner, verified by igw), then the search at delivery time (answer_from), the signed
#      on-search POSTed to the receiver: ACKs/s, and callbacks/s end to end (first request to
#      last callback received)
# Exits 77 (skip) without python3-cryptography.
#   tests/bench/dci_async_bench.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
python3 -c 'import cryptography' 2>/dev/null || { echo "dci_async_bench: python3-cryptography missing: skipped" >&2; exit 77; }
IGW_BIN=${IGW_BIN:-$build/cli/igw} DUR=${DUR:-5} CONNS=${CONNS:-4} \
  exec python3 "$here/dci_async_bench.py"
