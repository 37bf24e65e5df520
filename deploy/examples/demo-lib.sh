# SPDX-License-Identifier: Apache-2.0
# What the demo scripts share (sourced by demo-fhir.sh, demo-dci.sh, demo-pay.sh; POSIX sh).
# Before sourcing: demo (its name for messages) and dir (its var/ folder).
#   demo_track PID          stop PID with the others on Ctrl-C or exit
#   demo_gen FILE           generate 10,000 insurees (igw gen --seed 1) into FILE once
#   demo_start WORD CMD...  run CMD in the background; wait for its first line, which must
#                           start with WORD ("ready <port>"); its pid is tracked
demo_pids=''

demo_stop() {
    trap - INT TERM EXIT
    for p in $demo_pids; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    echo "$demo: stopped"
}
trap demo_stop INT TERM EXIT
mkdir -p "$dir"

demo_track() {
    demo_pids="$1 $demo_pids"
}

demo_gen() {
    if [ ! -s "$1" ]; then
        echo "$demo: generating 10,000 insurees (igw gen --seed 1) into $1"
        "$igw" gen --seed 1 --insurees 10000 > "$1.tmp"
        mv "$1.tmp" "$1"
    fi
}

demo_start() {
    want=$1
    shift
    fifo="$dir/start.$$.fifo"
    rm -f "$fifo"
    mkfifo "$fifo"
    (trap - INT TERM EXIT; exec "$@") > "$fifo" & # exec: $! is the command itself
    demo_track $!
    read -r word _ < "$fifo" || true
    rm -f "$fifo"
    [ "${word:-}" = "$want" ] || { echo "$demo: $1 $2 did not start" >&2; exit 1; }
}
