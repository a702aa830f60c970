#!/bin/sh
# test/bench/net.sh BUILD - dcpool between machines: the head, two nodes
# (one CPU worker each) and the client each in a network namespace of their
# own, joined by test/net/netswitch (the one-way delay is added to every
# frame; shared memory is off by construction: the client passes
# --no-shared-memory).  Run by `scripts/bench net`, as root.
#
# For each one-way delay (0, 0.5, 1 and 10 ms) it measures, median of 3:
#   noop   20,000 tiny jobs (8-byte no-op), tasks/s
#   ms     400 jobs of 1 ms busy work on the 2 workers, share of the ideal
#          (2,000 jobs/s)
# and prints them with each delay's share of the 0-delay figure.  Nothing
# here asserts a time.  Everything it makes (namespaces dcpb<PID>-*, the
# switch, the cluster) is removed on exit.  Addresses 10.203.1.0/24 exist
# only inside those namespaces.
set -u
build="$1"
start_node="$build/node/start_node"
bench_pool="$build/test/bench/bench_pool"
bench_lib="$build/test/bench/bench_worker.so"
netswitch="$build/test/net/netswitch"
for f in "$start_node" "$bench_pool" "$bench_lib" "$netswitch"; do
    [ -e "$f" ] || { echo "bench net: $f was not built" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench net: needs root (network namespaces)" >&2; exit 1; }

tag="dcpb$$"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/dcpool-bench-net.XXXXXX")"
ctl="$tmp/switch.ctl"
pids=""
hosts="head node1 node2 client"

cleanup () {
    for p in $pids; do kill "$p" 2>/dev/null; done
    sleep 1
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    for h in $hosts; do ip netns delete "$tag-$h" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ports=""
i=0
for h in $hosts; do
    ip netns add "$tag-$h" || { echo "bench net: cannot make namespaces" >&2; exit 1; }
    ip -n "$tag-$h" link set lo up
    ports="$ports ${tag}t$i"
    i=$((i + 1))
done
"$netswitch" --control "$ctl" $ports >"$tmp/switch.out" 2>"$tmp/switch.err" &
pids="$pids $!"
for _ in $(seq 100); do grep -q ready "$tmp/switch.out" && break; sleep 0.05; done
i=0
for h in $hosts; do
    ip link set "${tag}t$i" netns "$tag-$h"
    ip -n "$tag-$h" addr add "10.203.1.$((i + 1))/24" dev "${tag}t$i"
    ip -n "$tag-$h" link set "${tag}t$i" up
    i=$((i + 1))
done

password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export DCPOOL_PASSWORD="$password"

ip netns exec "$tag-head" "$start_node" --head --server-only -p 0 \
    --data-dir "$tmp/head" >"$tmp/head.out" 2>&1 &
pids="$! $pids"
port=""
for _ in $(seq 300); do
    port="$(sed -n 's/^dcpool head ready: port=\([0-9]*\).*/\1/p' "$tmp/head.out")"
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "bench net: the head did not start" >&2; cat "$tmp/head.out" >&2; exit 1; }
for n in node1 node2; do
    ip netns exec "$tag-$n" "$start_node" -a 10.203.1.1 -p "$port" --cpu-workers 1 \
        --data-dir "$tmp/$n" >"$tmp/$n.out" 2>&1 &
    pids="$! $pids"
done
for n in node1 node2; do
    for _ in $(seq 300); do grep -q "node ready" "$tmp/$n.out" && break; sleep 0.1; done
done

records="$tmp/records.jsonl"
: >"$records"
for delay in 0 0.5 1 10; do
    echo "delay $delay" >"$ctl"
    for measure in noop ms; do
        n=20000
        [ "$measure" = ms ] && n=400
        echo "bench net: $measure at $delay ms one-way" >&2
        timeout -k 5 240 ip netns exec "$tag-client" "$bench_pool" "$measure" \
            -s "10.203.1.1:$port" -l "$bench_lib" -n "$n" --reps 3 --no-shared-memory \
            --label "delay=$delay" --timeout 230 2>>"$tmp/client.err" \
            | grep '^{' >>"$records"
    done
done

python3 - "$records" <<'EOF'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "value" not in r or r["measure"] not in ("noop", "ms_efficiency"):
        continue
    rows.setdefault((r["measure"], r["system"]), []).append(r["value"])
med = {k: statistics.median(v) for k, v in rows.items()}
print("dcpool between namespaces (head, 2 nodes x 1 CPU worker, client), CURVE, shared memory off")
print("%-10s %18s %10s %22s %10s" % ("one-way", "20,000 tiny jobs", "of 0 ms", "400 x 1 ms jobs", "of 0 ms"))
base_noop = med.get(("noop", "delay=0"))
base_ms = med.get(("ms_efficiency", "delay=0"))
for d in ("0", "0.5", "1", "10"):
    key = "delay=" + d
    noop = med.get(("noop", key))
    ms = med.get(("ms_efficiency", key))
    def fmt(v, unit):
        return "n/a" if v is None else unit % v
    print("%-10s %18s %10s %22s %10s" % (
        d + " ms", fmt(noop, "%.0f tasks/s"),
        fmt(noop / base_noop * 100 if noop and base_noop else None, "%.0f%%"),
        fmt(ms * 100 if ms else None, "%.1f%% of ideal"),
        fmt(ms / base_ms * 100 if ms and base_ms else None, "%.0f%%")))
EOF
