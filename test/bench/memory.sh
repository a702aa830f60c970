#!/bin/sh
# test/bench/memory.sh - peak memory of a streamed map, client and head.
#
#   test/bench/memory.sh BUILD_DIR [INPUTS]
#
# Starts a local cluster (2 CPU workers, CURVE), streams INPUTS (default
# 10,000,000) no-op inputs through pool_imap_unordered and prints the peak
# resident memory of the client beyond its own input arrays and of
# pool-head.  Then, on a head with no workers, queues PENDING (default
# 1,000,000) jobs of 100 bytes and prints what each costs pool-head beyond
# its payload.  `scripts/bench memory` runs this.
set -eu
build=${1:?usage: memory.sh BUILD_DIR [INPUTS]}
inputs=${2:-10000000}
pending=${3:-1000000}
tmp=$(mktemp -d /tmp/dcpool-memory.XXXXXX)
pid=""
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
export DCPOOL_PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
# start_head DIR READY_LINE ARGS...: sets pid, port and head_pid
start_head() {
    dir=$1 ready=$2
    shift 2
    "$build/node/start_node" --head -p 0 --data-dir "$tmp/$dir" "$@" >"$tmp/$dir.out" 2>&1 &
    pid=$!
    i=0
    until grep -q "$ready" "$tmp/$dir.out"; do
        i=$((i + 1))
        [ $i -gt 600 ] && { cat "$tmp/$dir.out" >&2; echo "memory: cluster not ready" >&2; exit 1; }
        sleep 0.1
    done
    port=$(sed -n 's/.*dcpool head ready: port=\([0-9]*\).*/\1/p' "$tmp/$dir.out" | head -n 1)
    head_pid=$(pgrep -f "pool-head.*$tmp/$dir" | head -n 1)
}
start_head data "dcpool node ready" --cpu-workers 2
"$build/test/bench/bench_memory" -s "127.0.0.1:$port" -l "$build/test/bench/bench_worker.so" \
    -n "$inputs" --head-pid "$head_pid"

# The pending queue: a head with no workers, so every job waits.
kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
start_head pending "dcpool head ready" --server-only
"$build/test/bench/bench_pending" -s "127.0.0.1:$port" -l "$build/test/bench/bench_worker.so" \
    -n "$pending" --head-pid "$head_pid"
