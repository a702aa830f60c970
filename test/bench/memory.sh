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
"$build/node/start_node" --head -p 0 --cpu-workers 2 --data-dir "$tmp/data" >"$tmp/out" 2>&1 &
pid=$!
i=0
until grep -q "dcpool node ready" "$tmp/out"; do
    i=$((i + 1))
    [ $i -gt 600 ] && { cat "$tmp/out" >&2; echo "memory: cluster not ready" >&2; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/.*dcpool head ready: port=\([0-9]*\).*/\1/p' "$tmp/out" | head -n 1)
head_pid=$(pgrep -f "pool-head.*$tmp/data" | head -n 1)
"$build/test/bench/bench_memory" -s "127.0.0.1:$port" -l "$build/test/bench/bench_worker.so" \
    -n "$inputs" --head-pid "$head_pid"

# The pending queue: a head with no workers, so every job waits.
kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
"$build/node/start_node" --head -p 0 --server-only --data-dir "$tmp/data2" >"$tmp/out2" 2>&1 &
pid=$!
i=0
until grep -q "dcpool head ready" "$tmp/out2"; do
    i=$((i + 1))
    [ $i -gt 600 ] && { cat "$tmp/out2" >&2; echo "memory: head not ready" >&2; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/.*dcpool head ready: port=\([0-9]*\).*/\1/p' "$tmp/out2" | head -n 1)
head_pid=$(pgrep -f "pool-head.*$tmp/data2" | head -n 1)
"$build/test/bench/bench_pending" -s "127.0.0.1:$port" -l "$build/test/bench/bench_worker.so" \
    -n "$pending" --head-pid "$head_pid"
