# SPDX-License-Identifier: Apache-2.0
# What the benchmark scripts share (bash; sourced after they set `here`):
#   bench_init PREFIX   a work directory $work (/tmp/PREFIX.XXXXXX) and the array $pids;
#                       on exit every pid in $pids is killed and $work removed
#   port                prints a free TCP port on 127.0.0.1
#   wait_port PORT [N]  waits until PORT accepts a connection, N tenths of a second (100)
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

bench_init() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  for _ in $(seq "${2:-100}"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 not up" >&2
  return 1
}
