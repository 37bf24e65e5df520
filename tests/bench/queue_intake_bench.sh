#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The queue writer's cost per accept, this build against an older one, interleaved
# (docs/PERFORMANCE.md "Admin listing"):
#   tests/bench/queue_intake_bench.sh BUILD_DIR [OLD_BUILD_DIR]
# OLD_BUILD_DIR: a build of an older revision with its queue and common libraries, e.g. the one
# `make bench-compare OLD=main` leaves in BUILD_DIR/bench-compare/<sha> (default: the newest
# there; without one only this build is measured). queue_intake.c is compiled against each
# build's libigw_queue.a and libigw_common.a (the API it uses is the same in every version).
# ROUNDS (default 3) x N (default 300000) messages each, no_sync.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-build}" && pwd)
old=${2:-$(ls -td "$build"/bench-compare/*/ 2>/dev/null | head -n 1)}
ROUNDS=${ROUNDS:-3}
N=${N:-300000}
work=$(mktemp -d "${TMPDIR:-/tmp}/igw-intake.XXXXXX")
trap 'rm -rf "$work"' EXIT
mk() { # BUILD OUT
  cc -O2 -std=c11 -D_GNU_SOURCE -I"$src/include" "$here/queue_intake.c" \
    "$1/queue/libigw_queue.a" "$1/common/libigw_common.a" -llmdb -lpthread -o "$2"
}
mk "$build" "$work/new"
builds=(new)
if [ -n "$old" ] && [ -f "$old/queue/libigw_queue.a" ]; then
  mk "${old%/}" "$work/old"
  builds=(new old)
fi
echo "== queue_intake: N=$N, ROUNDS=$ROUNDS, old=${old:-none} ($(date -u +%FT%TZ), $(nproc) cores)"
for r in $(seq 1 "$ROUNDS"); do
  for b in "${builds[@]}"; do
    rm -rf "$work/q"
    printf '  round %d %-3s ' "$r" "$b"
    "$work/$b" "$work/q" "$N" | tee -a "$work/$b.txt"
  done
done
for b in "${builds[@]}"; do
  printf '%s median: ' "$b"
  sort -n -k3 "$work/$b.txt" | awk '{a[NR]=$3} END {printf "%.3f us/accept\n", a[int((NR+1)/2)]}'
done
