#!/bin/sh
# test/bench/locality.sh - block bytes the head serves during a block
# multiply on 2 nodes, with locality (--locality-wait 50, the default) and
# without (--locality-wait 0).  `scripts/bench locality` runs this.
#
#   test/bench/locality.sh [BUILD_DIR] [bench_locality args...]
#
# For each setting: a fresh cluster on this host (start_node --head and a
# second start_node, LOCALITY_WORKERS workers each, default 1; a
# throwaway data dir, a random password), bench_locality (4096 x 4096
# float64, block 512 unless told), then everything is stopped.  The
# workers' block caches start empty each time.  Prints a table.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
[ -d "$build" ] || meson setup "$build" "$root" >/dev/null
ninja -C "$build" test/bench/bench_locality gpu/dcpool-matrix.so node/start_node \
      node/pool-worker head/pool-head >/dev/null
workers=${LOCALITY_WORKERS:-1}
start_node="$build/node/start_node"

pids=""
data=""
cleanup() {
    for pid in $pids; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    pids=""
    [ -n "$data" ] && rm -rf "$data"
    data=""
}
trap cleanup EXIT INT TERM

# Waits (60 s) for "dcpool node ready" in file $1.
ready() {
    for _ in $(seq 1 600); do
        grep -q "dcpool node ready" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "locality.sh: a node did not start:" >&2
    cat "$1" "$1.err" >&2 || true
    return 1
}

# One run: $1 = --locality-wait ms; prints bench_locality's lines.
run() {
    data=$(mktemp -d /tmp/dcpool-bench-locality.XXXXXX)
    DCPOOL_PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    export DCPOOL_PASSWORD
    "$start_node" --head -p 0 --cpu-workers "$workers" --locality-wait "$1" \
        --data-dir "$data/head" > "$data/head.out" 2> "$data/head.out.err" &
    pids="$!"
    ready "$data/head.out"
    port=$(sed -n 's/^dcpool head ready: port=\([0-9]*\).*/\1/p' "$data/head.out")
    "$start_node" -a 127.0.0.1 -p "$port" --cpu-workers "$workers" \
        --data-dir "$data/node" > "$data/node.out" 2> "$data/node.out.err" &
    pids="$! $pids"
    ready "$data/node.out"
    "$build/test/bench/bench_locality" -s "127.0.0.1:$port" -w $((2 * workers)) \
        --start-node "$start_node" "$@"
    cleanup
}

shift_args="$*"
on=$(run 50 $shift_args)
off=$(run 0 $shift_args)
get() { echo "$1" | sed -n "s/^$2 //p"; }
echo "$on" | sed 's/^/locality_on_/'
echo "$off" | sed 's/^/locality_off_/'
echo
printf '%-34s %14s %14s\n' "block multiply $(get "$on" n)^2, block $(get "$on" block)" \
    "locality on" "locality off"
printf '%-34s %14s %14s\n' "nodes x workers" "2 x $workers" "2 x $workers"
printf '%-34s %14s %14s\n' "block MiB fetched from the store" \
    "$(get "$on" fetched_mib)" "$(get "$off" fetched_mib)"
printf '%-34s %14s %14s\n' "multiply seconds" "$(get "$on" multiply_s)" \
    "$(get "$off" multiply_s)"
printf '%-34s %14s %14s\n' "then C .* C: MiB fetched" \
    "$(get "$on" cells_fetched_mib)" "$(get "$off" cells_fetched_mib)"
echo "(each matrix is $(get "$on" matrix_mib) MiB; $(date -u '+%Y-%m-%d'))"
