#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Payments benchmark (docs/PERFORMANCE.md, "Payments"): disbursements/s end to end through igw
# (payroll event -> signed batches -> the G2P Connect simulator -> callbacks -> openIMIS status
# receiver) and, as the reference, the same DisburseRequests POSTed straight to the simulator.
# Bounded by BENCH_PAY_DEADLINE (default 240 s per case); BENCH_PAY_N benefits (default 10000),
# BENCH_PAY_BATCH per DisburseRequest (default 500). Exits 77 without python3-cryptography.
#   tests/bench/payments_bench.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
python3 -c 'import cryptography' 2>/dev/null || { echo "payments_bench: python3-cryptography missing: skipped" >&2; exit 77; }
IGW_BIN=${IGW_BIN:-$build/cli/igw} IGW_SRC=$src PYTHONDONTWRITEBYTECODE=1 exec python3 "$here/payments_bench.py"
