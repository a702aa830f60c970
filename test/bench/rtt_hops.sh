#!/bin/sh
# test/bench/rtt_hops.sh - where a one-job round trip spends its time.
#
#   test/bench/rtt_hops.sh BUILD_DIR [--insecure] [--spin-wait S] [--cpus LIST]
#
# Starts a `start_node --head --cpu-workers 2` cluster of BUILD_DIR (CURVE
# unless --insecure), runs `bench_pool rtt` against it (sequential maps of
# one 8-byte input) and, while it runs:
#
#   1. counts, per thread of the client, pool-head and the busy pool-worker,
#      CPU time, context switches and system calls (polls among them) per
#      round trip (`perf stat` software counters and syscall tracepoints);
#   2. records the scheduler for one second (`perf sched record`) and
#      follows each round trip from thread to thread: client I/O thread ->
#      head I/O -> head main -> head I/O -> worker I/O -> worker main -> ...
#      -> client I/O, printing the median time of each hop.  A hop is "A
#      woke B" in the trace; its time covers A's work after it woke B's
#      predecessor, B's wake-up and, on this kind of VM, an idle vCPU's
#      way back from HLT.
#
# --spin-wait S is the client's pool_options_t.spin_wait (0: it sleeps at
# once); --cpus LIST runs everything under `taskset -c LIST` (one CPU:
# wake-ups never cross CPUs, what is left is the work).  Needs perf and root
# (or perf_event_paranoid <= 1).  Tracing slows every hop: compare hops
# with hops, not with bench_pool's own p50.  Stops everything it started.
set -eu
build=${1:?usage: rtt_hops.sh BUILD_DIR [--insecure] [--spin-wait S] [--cpus LIST]}
shift
insecure="" spin="" cpus=""
while [ $# -gt 0 ]; do
    case "$1" in
        --insecure) insecure=--insecure ;;
        --spin-wait) spin="--spin-wait $2"; shift ;;
        --cpus) cpus="$2"; shift ;;
        *) echo "rtt_hops: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
command -v perf >/dev/null || { echo "rtt_hops: perf is not installed" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/dcpool-rtt-hops.XXXXXX)
node="" client="" stat=""
cleanup() {
    for p in $stat $client; do kill -TERM "$p" 2>/dev/null || true; done
    [ -n "$node" ] && kill -TERM "$node" 2>/dev/null && wait "$node" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
pin=""
[ -n "$cpus" ] && pin="taskset -c $cpus"

DCPOOL_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export DCPOOL_PASSWORD
mkdir "$tmp/data"
# shellcheck disable=SC2086
$pin "$build/node/start_node" --head -p 0 --data-dir "$tmp/data" --cpu-workers 2 \
    $insecure >"$tmp/out" 2>&1 &
node=$!
i=0
until grep -q "dcpool node ready" "$tmp/out"; do
    i=$((i + 1))
    [ $i -gt 600 ] && { cat "$tmp/out" >&2; echo "rtt_hops: cluster not ready" >&2; exit 1; }
    sleep 0.05
done
port=$(sed -n 's/^.*dcpool head ready: port=\([0-9]*\).*$/\1/p' "$tmp/out" | head -n 1)

# shellcheck disable=SC2086
$pin "$build/test/bench/bench_pool" rtt -s "127.0.0.1:$port" \
    -l "$build/test/bench/bench_worker.so" -n 20000 --reps 1 --timeout 100 \
    $insecure $spin >"$tmp/client.out" 2>&1 &
client=$!
sleep 1.5 # pool open and the warm-up round trips
procs="$(pgrep -d, -P "$node"),$(pgrep -d, -f "pool-worker.*$tmp"),$client"
ps -eLo pid,tid,comm >"$tmp/threads"
events=task-clock,context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_poll
events=$events,syscalls:sys_enter_sendto
perf stat --per-thread -x, -e "$events" -p "$procs" -o "$tmp/stat" -- sleep 2 \
    >/dev/null 2>&1 &
stat=$!
wait "$stat" || true
stat=""
perf sched record -a -o "$tmp/sched.data" -- sleep 1 >/dev/null 2>&1
perf sched timehist -i "$tmp/sched.data" -w >"$tmp/timehist" 2>/dev/null
kill -TERM "$client" 2>/dev/null || true
wait "$client" 2>/dev/null || true
client=""
python3 "$here/rtt_hops.py" "$tmp/threads" "$tmp/stat" "$tmp/timehist"
