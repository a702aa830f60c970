#!/bin/sh
# test/bench/callgrind.sh - instructions per job of pool-head, by callgrind.
#
#   test/bench/callgrind.sh BUILD_DIR [JOBS]
#
# A figure that moves less with machine noise than a time: pool-head runs under
# `valgrind --tool=callgrind` while a no-op map of JOBS (default 100,000)
# runs, then again with twice as many; the difference in instructions,
# divided by JOBS, is the head's marginal cost per job (start-up, Redis and
# idle heartbeats cancel out).  Done at batch sizes 1 (--prefetch 1: one
# job per JOB message) and 64 (--prefetch 64).  How many results a
# worker's RESULT carries still depends on timing (it sends them when it
# holds as many as it has jobs queued, and reads its socket once a
# millisecond between tiny jobs), so at --prefetch 64 the figure ranged
# 1,165-4,454 across runs on the 2-core VM (2026-11-30): run it on a quiet
# machine, more than once.  Then every process of the default set-up (the
# head's own window, 2 workers) under callgrind, the same marginal way:
# the client, pool-head and the workers together.  `scripts/bench
# callgrind` runs this.
set -eu
build=${1:?usage: callgrind.sh BUILD_DIR [JOBS]}
jobs=${2:-100000}
command -v valgrind >/dev/null || { echo "callgrind: valgrind is not installed" >&2; exit 1; }
tmp=$(mktemp -d /tmp/dcpool-callgrind.XXXXXX)
pid=""
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Starts start_node --head with 2 CPU workers on a fresh $tmp/data (the
# environment given first, e.g. DCPOOL_HEAD_BIN=...), waits for it (at most
# 90 s: programs under valgrind start slowly) and sets pid and port.
start_cluster() {
    rm -rf "$tmp/data" && mkdir "$tmp/data"
    env "$@" "$build/node/start_node" --head -p 0 -r cgpass --insecure --cpu-workers 2 \
        --data-dir "$tmp/data" >"$tmp/out" 2>&1 &
    pid=$!
    i=0
    until grep -q "dcpool node ready" "$tmp/out"; do
        i=$((i + 1))
        [ $i -gt 900 ] && { cat "$tmp/out" >&2; echo "callgrind: cluster not ready" >&2; exit 1; }
        sleep 0.1
    done
    port=$(sed -n 's/.*dcpool head ready: port=\([0-9]*\).*/\1/p' "$tmp/out" | head -n 1)
}

# One cluster per (prefetch, jobs): the head's whole life is measured.
run_one() {
    prefetch=$1 n=$2
    cat >"$tmp/head.sh" <<WRAP
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$tmp/cg.out "$build/head/pool-head" --prefetch $prefetch "\$@"
WRAP
    chmod +x "$tmp/head.sh"
    start_cluster DCPOOL_HEAD_BIN="$tmp/head.sh"
    "$build/test/bench/bench_pool" noop -s "127.0.0.1:$port" -r cgpass --insecure \
        -l "$build/test/bench/bench_worker.so" -n "$n" --reps 1 --timeout 600 >/dev/null
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$tmp/cg.out" | head -n 1
}

echo "pool-head instructions per job (callgrind, marginal over $jobs jobs, --insecure)"
for prefetch in 1 64; do
    a=$(run_one $prefetch "$jobs")
    b=$(run_one $prefetch $((2 * jobs)))
    echo "batch size $prefetch: $(( (b - a) / jobs )) instructions/job  ($a for $jobs jobs, $b for $((2 * jobs)))"
done

# Every process of a default cluster under callgrind: prints the client's,
# pool-head's and the workers' (summed) instructions for a map of n.
run_all() {
    n=$1
    rm -f "$tmp"/all.*.out
    for prog in head worker; do
        bin="$build/head/pool-head"
        [ $prog = worker ] && bin="$build/node/pool-worker"
        cat >"$tmp/$prog.sh" <<WRAP
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$tmp/all.$prog.%p.out "$bin" "\$@"
WRAP
        chmod +x "$tmp/$prog.sh"
    done
    start_cluster DCPOOL_HEAD_BIN="$tmp/head.sh" DCPOOL_WORKER_BIN="$tmp/worker.sh"
    valgrind --tool=callgrind --callgrind-out-file="$tmp/all.client.out" \
        "$build/test/bench/bench_pool" noop -s "127.0.0.1:$port" -r cgpass --insecure \
        -l "$build/test/bench/bench_worker.so" -n "$n" --reps 1 --timeout 900 >/dev/null 2>&1
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    for who in client head worker; do
        total=0
        for f in "$tmp"/all.$who*.out; do
            v=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$f" | head -n 1)
            total=$((total + ${v:-0}))
        done
        printf '%s ' "$total"
    done
    echo
}

echo "instructions per job of each process (callgrind, marginal over $jobs jobs, --insecure, 2 workers)"
set -- $(run_all "$jobs")
c1=$1 h1=$2 w1=$3
set -- $(run_all $((2 * jobs)))
echo "client $(( ($1 - c1) / jobs )), pool-head $(( ($2 - h1) / jobs )), the workers together $(( ($3 - w1) / jobs ))"
