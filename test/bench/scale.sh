#!/bin/sh
# test/bench/scale.sh BUILD_DIR - one pool as the cluster grows, on this host.
#
# For 2, 16, 64 and 128 workers (SCALE_WORKERS overrides the list) it starts
# `start_node --head --server-only` and nodes of 2 CPU workers each (CURVE),
# all on this machine, then measures with bench_scale:
#   pool_open    ms from pool_open's call to its return
#   ready        ms from pool_open's call until every worker has the pool
#   update       ms from pool_update_workers until the last worker applied it
#   noop         a no-op map of SCALE_INPUTS inputs (default 1,000,000),
#                tasks/s, the best and worst of SCALE_REPS (default 2)
#   head cpu     pool-head's CPU seconds for one such map
#   head rss     pool-head's peak resident memory (VmHWM), MiB
#   status       `start_node --status` wall time, ms (median of 3; it derives
#                the CURVE keys from the password: Argon2, ~0.1 s, each time)
# and prints one table with each figure's ratio to the first row's.  Nodes
# start 8 at a time (Argon2 takes 64 MiB while it runs).  Nothing here
# asserts a time; everything it starts is stopped on exit, by pid.
# `scripts/bench scale` runs this; under ~5 minutes on the 2-core VM.
set -u
build=${1:?usage: scale.sh BUILD_DIR}
start_node="$build/node/start_node"
bench_scale="$build/test/bench/bench_scale"
bench_lib="$build/test/bench/bench_worker.so"
for f in "$start_node" "$bench_scale" "$bench_lib"; do
    [ -e "$f" ] || { echo "bench scale: $f was not built" >&2; exit 1; }
done
sizes=${SCALE_WORKERS:-2 16 64 128}
inputs=${SCALE_INPUTS:-1000000}
reps=${SCALE_REPS:-2}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dcpool-scale.XXXXXX")
export TMPDIR="$tmp"
head_pid=""
node_pids=""
DCPOOL_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export DCPOOL_PASSWORD

# stop PIDS...: SIGTERM, then SIGKILL what is left after 15 s
stop () {
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    i=0
    while [ $i -lt 150 ]; do
        alive=""
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
        [ -z "$alive" ] && break
        sleep 0.1
        i=$((i + 1))
    done
    for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
    for p in "$@"; do wait "$p" 2>/dev/null; done
}

stop_cluster () {
    # shellcheck disable=SC2086
    stop $node_pids
    node_pids=""
    [ -n "$head_pid" ] && stop "$head_pid"
    head_pid=""
}

cleanup () {
    stop_cluster
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_line FILE TEXT SECONDS: 0 once FILE holds TEXT
wait_line () {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $(($3 * 10)) ] && return 1
        sleep 0.1
    done
}

# ms_of CMD...: wall milliseconds of one run
ms_of () {
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

results="$tmp/results.jsonl"
: >"$results"
for workers in $sizes; do
    nodes=$((workers / 2))
    dir="$tmp/w$workers"
    mkdir -p "$dir"
    echo "bench scale: $workers workers ($nodes nodes)" >&2
    "$start_node" --head --server-only -p 0 --data-dir "$dir/head" >"$dir/head.out" 2>&1 &
    head_pid=$!
    if ! wait_line "$dir/head.out" "dcpool head ready" 60; then
        cat "$dir/head.out" >&2
        echo "bench scale: the head did not start" >&2
        exit 1
    fi
    port=$(sed -n 's/^dcpool head ready: port=\([0-9]*\).*/\1/p' "$dir/head.out")
    pool_head=$(pgrep -f "pool-head.*$dir/head" | head -n 1)
    t0=$(date +%s%N)
    k=1
    while [ $k -le $nodes ]; do
        wave=""
        j=0
        while [ $j -lt 8 ] && [ $k -le $nodes ]; do
            "$start_node" -a 127.0.0.1 -p "$port" --cpu-workers 2 \
                --data-dir "$dir/n$k" >"$dir/n$k.out" 2>&1 &
            node_pids="$node_pids $!"
            wave="$wave $k"
            k=$((k + 1))
            j=$((j + 1))
        done
        for w in $wave; do
            if ! wait_line "$dir/n$w.out" "dcpool node ready" 120; then
                cat "$dir/n$w.out" >&2
                echo "bench scale: node $w did not start" >&2
                exit 1
            fi
        done
    done
    t1=$(date +%s%N)
    echo "{\"workers\":$workers,\"measure\":\"nodes_start_s\",\"value\":$(((t1 - t0) / 1000000))e-3}" >>"$results"
    timeout -k 5 280 "$bench_scale" -s "127.0.0.1:$port" -l "$bench_lib" -w "$workers" \
        -n "$inputs" --reps "$reps" --head-pid "$pool_head" >>"$results" \
        || echo "bench scale: bench_scale failed at $workers workers" >&2
    for _ in 1 2 3; do
        echo "{\"workers\":$workers,\"measure\":\"status_ms\",\"value\":$(ms_of "$start_node" --status -p "$port")}" >>"$results"
    done
    stop_cluster
done

python3 - "$results" "$inputs" <<'EOF'
import json, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    if "error" in r:
        print("error at %d workers, %s: %s" % (r["workers"], r["measure"], r["error"]))
        continue
    rows.setdefault(r["workers"], {}).setdefault(r["measure"], []).append(r["value"])
cols = [("pool_open_ms", "pool_open ms", "med"), ("ready_ms", "all ready ms", "med"),
        ("update_ms", "update ms", "med"), ("noop", "noop tasks/s", "range"),
        ("head_cpu_s", "head cpu s", "med"), ("head_rss_mib", "head rss MiB", "med"),
        ("status_ms", "--status ms", "med"), ("nodes_start_s", "nodes up s", "med")]
def fmt(vals, how):
    if not vals:
        return "-"
    if how == "range" and len(vals) > 1:
        return "%.0fk-%.0fk" % (min(vals) / 1e3, max(vals) / 1e3)
    v = statistics.median(vals)
    if how == "range":
        return "%.0fk" % (v / 1e3)
    return "%.3g" % v
print("one pool on N workers (nodes of 2 CPU workers, this host), no-op map of %s inputs" % sys.argv[2])
print("%-8s" % "workers" + "".join("%15s" % c[1] for c in cols))
first = None
for w in sorted(rows):
    print("%-8d" % w + "".join("%15s" % fmt(rows[w].get(c[0], []), c[2]) for c in cols))
    if first is None:
        first = w
if first is not None and len(rows) > 1:
    print("ratio to %d workers (noop: best of each)" % first)
    for w in sorted(rows):
        if w == first:
            continue
        out = []
        for c in cols:
            a, b = rows[first].get(c[0]), rows[w].get(c[0])
            if not a or not b:
                out.append("-")
                continue
            f = max if c[2] == "range" else statistics.median
            out.append("%.2fx" % (f(b) / f(a)) if f(a) else "-")
        print("%-8d" % w + "".join("%15s" % o for o in out))
EOF
