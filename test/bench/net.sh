#!/bin/sh
# test/bench/net.sh BUILD [JSON_OUT] - dcpool and the raw ZeroMQ broker
# between machines: the head (or the broker), two nodes (one CPU worker
# each, or one broker worker each) and the client each in a network
# namespace of their own, joined twice: by a Linux bridge (a veth pair
# per host, the bridge in a namespace of its own) and by test/net/netswitch
# (a user-space switch that adds the one-way delay to every frame and can
# cap every port's rate; this kernel has no netem).  The links' MTU is
# 9000 (jumbo frames, as in many clusters; NET_MTU=1500 for plain
# Ethernet), and the switch's devices have TCP segmentation offload
# (netswitch --offload), as network cards and veth pairs have: the switch
# moves every frame through two system calls on the cores the systems
# measured use, and per packet of the MTU it, not they, would set the
# 64 MiB figures on a small machine.  Shared memory is off by
# construction (the client also passes --no-shared-memory).  Run by
# `scripts/bench net`, as root.
#
# Systems: dcpool (default CURVE), dcpool --insecure, the raw ZeroMQ
# broker of test/bench/zmq_broker.c (broker in the head's namespace,
# workers in the nodes', 64 jobs in flight per worker) insecure and with
# CURVE on every socket, and Gearman (gearmand in the head's namespace,
# test/bench/gearman_worker in the nodes'; rtt and ms only: its workers
# take one job per round trip to gearmand, so a no-op map of 20,000 at
# 1 ms of delay alone would take minutes; where gearmand or the client
# is missing, the table says so).  Link settings: the kernel's bridge (no delay, no
# rate cap: as machines whose switch is hardware, which takes nothing
# from their CPUs), then through the user-space switch one-way delay 0,
# one-way delay 1 ms, and every port at 1 Gbit/s with no delay.  The
# switch copies every frame through two system calls on the same two
# cores the systems measured share, so its 0 ms figures are set by it as
# much as by them; the bridge's are not.  On each network all systems
# are started side by side (their heads or brokers reached at that
# network's address, so every byte and message takes it), and at each
# setting every measure runs on every system in turn, so that the figures
# a ratio compares are taken seconds apart.  Measures, at each setting,
# for each system:
#   bw     64 MiB in + 64 MiB out (an echo), GB/s; median of 3
#   rtt    one task round trip, p50 and p99 over 200, us; median of 3
#          (bw and rtt, whose ratios have targets, run in rounds: one
#          repetition of every system per round, after its own warm-up,
#          every other round in reverse order)
#   ms     2,000 jobs of 1 ms busy work on the 2 workers (as the full
#          scripts/bench), share of the ideal (2,000 jobs/s); median of 3.
#          A map's first job waits for two one-way delays and its last
#          result for two more: at 1 ms of delay, 4 ms on top of 1 s of
#          work (a ceiling of 99.6%; 98.0% for a map of 400)
#   noop   20,000 tiny jobs (8-byte echo), tasks/s; median of 3
# and, for dcpool on the bridge and the 1 Gbit/s link, bw with a client
# its workers cannot reach: through the head's relay (streamed chunks)
# and as whole messages through the head (the data plane off)
# (fewer repetitions and smaller counts than scripts/bench, to stay under
# 5 minutes) and prints them with the ratios dcpool / broker through
# test/bench/net_report.py, which also writes them as JSON to JSON_OUT
# (default BUILD/bench-net.json).  Nothing here asserts a time.
#
# Everything it makes (namespaces dcpb<PID>-*, the bridge's namespace
# dcpb<PID>-br, the switch, the clusters,
# the brokers) is stopped and removed on exit.  Addresses 10.203.1.0/24
# (the switch) and 10.203.2.0/24 (the bridge) exist only inside those
# namespaces.
set -uf   # -f: a Z85 key has * and ? in it
build="$1"
json_out="${2:-$build/bench-net.json}"
here="$(cd "$(dirname "$0")" && pwd)"
start_node="$build/node/start_node"
bench_pool="$build/test/bench/bench_pool"
bench_lib="$build/test/bench/bench_worker.so"
zmq_broker="$build/test/bench/zmq_broker"
gearman_client="$build/test/bench/gearman_client"
gearman_worker="$build/test/bench/gearman_worker"
netswitch="$build/test/net/netswitch"
for f in "$start_node" "$bench_pool" "$bench_lib" "$zmq_broker" "$netswitch"; do
    [ -e "$f" ] || { echo "bench net: $f was not built" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench net: needs root (network namespaces)" >&2; exit 1; }

# link settings: name, one-way delay (ms), rate (Mbit/s, 0: none), network
# (bridge: the kernel's, no delay or rate; switch: test/net/netswitch)
settings="bridge:0:0:bridge 0ms:0:0:switch 1ms:1:0:switch 1gbit:0:1000:switch"
networks="bridge switch"
mtu="${NET_MTU:-9000}"
bw_size=$((64 << 20))
bw_reps=3
reps=3
n_rtt=200
n_ms=2000
n_noop=20000
started=$(date +%s)

tag="dcpb$$"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/dcpool-bench-net.XXXXXX")"
ctl="$tmp/switch.ctl"
switch_pid=""
pids=""        # what runs now on the hosts (a cluster or a broker)
hosts="head node1 node2 client"
records="$tmp/records.jsonl"
: >"$records"

say () { echo "bench net: $*" >&2; }

# stop_pids SECONDS: SIGTERM to everything in $pids, SIGKILL to what is
# left after SECONDS, then waits for them
stop_pids () {
    for p in $pids; do kill "$p" 2>/dev/null; done
    deadline=$(($(date +%s) + $1))
    for p in $pids; do
        while kill -0 "$p" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    pids=""
}

cleanup () {
    # start_node drains its workers (SIGKILL after 5 s), then stops the
    # head and Redis
    stop_pids 15
    if [ -n "$switch_pid" ]; then
        kill "$switch_pid" 2>/dev/null
        wait "$switch_pid" 2>/dev/null
    fi
    for h in $hosts; do ip netns delete "$tag-$h" 2>/dev/null; done
    ip netns delete "$tag-br" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# note MEASURE SYSTEM TEXT: an error record for the table
note () {
    python3 -c 'import json,sys; print(json.dumps({"measure": sys.argv[1], "system": sys.argv[2], "error": sys.argv[3]}))' \
        "$1" "$2" "$3" >>"$records"
}

# wait_for FILE PATTERN COUNT SECONDS: until FILE has COUNT lines matching
wait_for () {
    deadline=$(($(date +%s) + $4))
    while [ "$(grep -c -- "$2" "$1" 2>/dev/null)" -lt "$3" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# --- the hosts and the switch ---------------------------------------------------
ports=""
i=0
for h in $hosts; do
    ip netns add "$tag-$h" || { say "cannot make namespaces"; exit 1; }
    ip -n "$tag-$h" link set lo up
    ports="$ports ${tag}t$i"
    i=$((i + 1))
done
# shellcheck disable=SC2086  # one TAP name per word
"$netswitch" --control "$ctl" --offload $ports >"$tmp/switch.out" 2>"$tmp/switch.err" &
switch_pid=$!
wait_for "$tmp/switch.out" "netswitch ready" 1 10 || { say "the switch did not start"; exit 1; }
i=0
for h in $hosts; do
    ip link set "${tag}t$i" netns "$tag-$h"
    ip -n "$tag-$h" addr add "10.203.1.$((i + 1))/24" dev "${tag}t$i"
    ip -n "$tag-$h" link set "${tag}t$i" mtu "$mtu" up
    i=$((i + 1))
done
# the bridge: a veth pair per host, its other end on a bridge in a
# namespace of its own
ip netns add "$tag-br" || { say "cannot make namespaces"; exit 1; }
ip -n "$tag-br" link add br0 type bridge || { say "cannot make a bridge"; exit 1; }
ip -n "$tag-br" link set br0 up
i=0
for h in $hosts; do
    ip -n "$tag-br" link add "${tag}b$i" type veth peer name "${tag}v$i" \
        || { say "cannot make a veth pair"; exit 1; }
    ip -n "$tag-br" link set "${tag}v$i" netns "$tag-$h"
    ip -n "$tag-br" link set "${tag}b$i" master br0 mtu "$mtu" up
    ip -n "$tag-$h" addr add "10.203.2.$((i + 1))/24" dev "${tag}v$i"
    ip -n "$tag-$h" link set "${tag}v$i" mtu "$mtu" up
    i=$((i + 1))
done
# head_addr NETWORK: the head's (or the broker's) address on it
head_addr () {
    if [ "$1" = bridge ]; then echo 10.203.2.1; else echo 10.203.1.1; fi
}

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
python3 -c 'import json,sys; print(json.dumps({"meta": {"date": sys.argv[1], "nproc": int(sys.argv[2]), "cpu": sys.argv[3], "kernel": sys.argv[4], "settings": sys.argv[5].split(), "reps": int(sys.argv[6]), "bw_reps": int(sys.argv[7]), "mtu": int(sys.argv[8]), "n_ms": int(sys.argv[9]), "n_noop": int(sys.argv[10])}}))' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$cpu" "$(uname -sr)" "$settings" \
    "$reps" "$bw_reps" "$mtu" "$n_ms" "$n_noop" >>"$records"

# set_link DELAY RATE: the switch's settings for frames from now on
set_link () {
    printf 'delay %s\nrate %s\n' "$1" "$2" >"$ctl"
}

# use_setting SETTING NETWORK: 1 when SETTING (name:delay:rate:network) is
# for another network; else sets the link as it says and sname to its name
use_setting () {
    _rest="${1#*:}"
    [ "${_rest##*:}" = "$2" ] || return 1
    _rest="${_rest%:*}"
    set_link "${_rest%%:*}" "${_rest#*:}"
    sname="${1%%:*}"
}

# client MEASURE SYSTEM/SETTING SECONDS CMD...: runs one benchmark client in
# the client's namespace, bounded, keeps its JSON lines, and records a
# failure that printed no error itself
client () {
    measure="$1" label="$2" limit="$3"
    shift 3
    say "$measure / $label"
    rc=0
    timeout -k 5 "$limit" ip netns exec "$tag-client" "$@" >"$tmp/run.out" \
        2>>"$tmp/client.err" || rc=$?
    grep '^{' "$tmp/run.out" >>"$records"
    if [ "$rc" -ne 0 ] && ! grep -q '"error"' "$tmp/run.out"; then
        why="exit status $rc"
        [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && why="timed out after $limit s"
        note "$measure" "$label" "$why"
    fi
}

# --- dcpool ---------------------------------------------------------------------
password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export DCPOOL_PASSWORD="$password"   # never on a command line

# start_cluster NAME NETWORK [--insecure]: a head (server only) in the
# head's namespace, a node of one CPU worker in each node's, joined over
# NETWORK; sets $port
start_cluster () {
    name="$1-$2" addr="$(head_addr "$2")"
    shift 2
    ip netns exec "$tag-head" "$start_node" --head --server-only -p 0 "$@" \
        --data-dir "$tmp/$name-head" >"$tmp/$name-head.out" 2>&1 &
    pids="$! $pids"
    wait_for "$tmp/$name-head.out" "dcpool head ready" 1 30 || return 1
    port="$(sed -n 's/^dcpool head ready: port=\([0-9]*\).*/\1/p' "$tmp/$name-head.out")"
    for n in node1 node2; do
        ip netns exec "$tag-$n" "$start_node" -a "$addr" -p "$port" --cpu-workers 1 "$@" \
            --data-dir "$tmp/$name-$n" >"$tmp/$name-$n.out" 2>&1 &
        pids="$! $pids"
    done
    for n in node1 node2; do
        wait_for "$tmp/$name-$n.out" "node ready" 1 30 || return 1
    done
}

# note_network MEASURE SYSTEM NETWORK TEXT: an error record for every
# setting of that network
note_network () {
    for s in $settings; do
        [ "${s##*:}" = "$3" ] && note "$1" "$2/${s%%:*}" "$4"
    done
}

# --- the raw ZeroMQ broker --------------------------------------------------------
# start_broker NAME SPIN_US NETWORK [--curve]: the broker in the head's
# namespace, a worker (64 jobs in flight) in each node's, joined over
# NETWORK; sets $front and $key_args
start_broker () {
    name="$1" spin="$2" addr="$(head_addr "$3")"
    shift 3
    out="$tmp/$name-broker-$spin-$addr.out"
    ip netns exec "$tag-head" "$zmq_broker" broker --bind "$addr" "$@" >"$out" 2>&1 &
    pids="$! $pids"
    wait_for "$out" "^zmq_broker ready" 1 10 || return 1
    line="$(sed -n 's/^zmq_broker ready //p' "$out")"
    front="${line%% *}" rest="${line#* }"
    back="${rest%% *}" key="${rest#* }"
    key_args=""
    [ "$key" = "-" ] || key_args="--server-key $key"
    for n in node1 node2; do
        # shellcheck disable=SC2086  # a Z85 key has no spaces
        ip netns exec "$tag-$n" "$zmq_broker" worker --connect "$back" $key_args \
            --inflight 64 --spin-us "$spin" >"$tmp/$name-$n-$spin-$addr.out" 2>&1 &
        pids="$! $pids"
    done
    wait_for "$out" "^zmq_broker worker ready" 2 10
}

# --- Gearman ----------------------------------------------------------------------
# start_gearman NETWORK: gearmand in the head's namespace (its port is its
# own there), a gearman_worker in each node's, connected over NETWORK
gearman_port=4730
start_gearman () {
    addr="$(head_addr "$1")"
    ip netns exec "$tag-head" gearmand -L "$addr" -p "$gearman_port" -t 1 \
        -l "$tmp/gearmand-$1.log" -P "$tmp/gearmand-$1.pid" >"$tmp/gearmand-$1.out" 2>&1 &
    pids="$! $pids"
    deadline=$(($(date +%s) + 20))
    until ip netns exec "$tag-head" ss -Hltn "sport = :$gearman_port" | grep -q .; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
    for n in node1 node2; do
        ip netns exec "$tag-$n" "$gearman_worker" -p "$gearman_port" -h "$addr" \
            >>"$tmp/gearman-worker.out" 2>&1 &
        pids="$! $pids"
    done
    # the workers register on connecting: the first round trips wait for
    # them (gearman_client_do blocks until a worker takes the job)
}

# --- every system on one network, measure by measure -------------------------------
# All five systems are started on a network side by side (each idle while
# the others run), and at each setting every measure runs on every system
# in turn: the figures a ratio compares are taken seconds apart, not
# minutes (run system by system, the same figure of one build moved by a
# third between two runs within the hour on this project's 2-core VM).

# start_all NETWORK: every system joined over NETWORK; $up lists those that
# started (the others get an error record for each of the network's
# settings)
start_all () {
    up=""
    if start_cluster dcpool "$1"; then
        dcpool_port="$port" up="$up dcpool"
    else
        say "dcpool: the cluster did not start on the $1"
        note_network "*" dcpool "$1" "the cluster did not start"
    fi
    if start_cluster dcpool-insecure "$1" --insecure; then
        dcpool_insecure_port="$port" up="$up dcpool-insecure"
    else
        say "dcpool-insecure: the cluster did not start on the $1"
        note_network "*" dcpool-insecure "$1" "the cluster did not start"
    fi
    # the busy-wait is the broker worker's: workers without it for bw,
    # rtt and noop, workers with 1 ms for ms
    if start_broker zmq 0 "$1" && zmq_0="--connect $front $key_args" \
        && start_broker zmq 1000 "$1" && zmq_1000="--connect $front $key_args"; then
        up="$up zmq"
    else
        say "zmq: the broker or its workers did not start on the $1"
        note_network "*" zmq "$1" "the broker or its workers did not start"
    fi
    if start_broker zmq-curve 0 "$1" --curve && zmq_curve_0="--connect $front $key_args" \
        && start_broker zmq-curve 1000 "$1" --curve \
        && zmq_curve_1000="--connect $front $key_args"; then
        up="$up zmq-curve"
    else
        say "zmq-curve: the broker or its workers did not start on the $1"
        note_network "*" zmq-curve "$1" "the broker or its workers did not start"
    fi
    if ! command -v gearmand >/dev/null 2>&1; then
        note "*" gearman "not installed (gearman-job-server)"
    elif [ ! -x "$gearman_client" ] || [ ! -x "$gearman_worker" ]; then
        note "*" gearman "not built (libgearman-dev missing)"
    elif start_gearman "$1"; then
        up="$up gearman"
    else
        say "gearman: gearmand did not listen on the $1"
        note_network "*" gearman "$1" "gearmand did not listen within 20 s"
    fi
}

# measure MEASURE SYSTEM [REPS]: MEASURE (bw, rtt, ms, noop) on SYSTEM at
# the current setting ($sname), its head or broker at $addr; REPS timed
# repetitions after the warm-up (default $reps, $bw_reps for bw)
measure () {
    label="$2/$sname"
    r="${3:-$reps}" br="${3:-$bw_reps}"
    case "$2" in
    dcpool | dcpool-insecure)
        if [ "$2" = dcpool ]; then
            common="-s $addr:$dcpool_port"
        else
            common="-s $addr:$dcpool_insecure_port --insecure"
        fi
        prog="$bench_pool"
        common="$common -l $bench_lib --no-shared-memory --label $label"
        ;;
    zmq | zmq-curve)
        if [ "$2" = zmq ]; then
            connect="$zmq_0"
            [ "$1" = ms ] && connect="$zmq_1000"
        else
            connect="$zmq_curve_0"
            [ "$1" = ms ] && connect="$zmq_curve_1000"
        fi
        prog="$zmq_broker"
        common="$connect --workers 2 --inflight 64 --label $label"
        ;;
    gearman)
        case "$1" in rtt | ms) ;; *) return 0 ;; esac
        prog="$gearman_client"
        common="-p $gearman_port -h $addr --label $label"
        ;;
    esac
    # shellcheck disable=SC2086  # $common: words without spaces
    case "$1" in
    bw) client bw "$label" 120 "$prog" bw $common --size "$bw_size" --reps "$br" \
        --timeout 110 ;;
    rtt) client rtt "$label" 60 "$prog" rtt $common -n "$n_rtt" --reps "$r" --timeout 55 ;;
    ms) client ms "$label" 90 "$prog" ms $common -n "$n_ms" --reps "$reps" --timeout 85 ;;
    noop) client noop "$label" 60 "$prog" noop $common -n "$n_noop" --reps "$reps" \
        --timeout 55 ;;
    esac
}

for net in $networks; do
    start_all "$net"
    addr="$(head_addr "$net")"
    backwards=""   # the systems up, last first (the rounds below)
    for system in $up; do backwards="$system $backwards"; done
    for s in $settings; do
        use_setting "$s" "$net" || continue
        for m in bw rtt ms noop; do
            case "$m" in
            bw | rtt)
                # The measures with ratio targets run in rounds of one
                # repetition per system, every other round in reverse
                # order: a machine that drifts over the seconds a measure
                # takes then moves every system's median alike.
                rounds="$reps"
                [ "$m" = bw ] && rounds="$bw_reps"
                for round in $(seq "$rounds"); do
                    order="$up"
                    [ $((round % 2)) -eq 0 ] && order="$backwards"
                    for system in $order; do
                        measure "$m" "$system" 1
                    done
                done
                ;;
            *)
                for system in $up; do
                    measure "$m" "$system"
                done
                ;;
            esac
        done
        # A client its workers cannot reach (it advertises an address
        # nobody has): 64 MiB through the head's relay, in chunks, and as
        # whole messages (the data plane off), on the bridge and the
        # 1 Gbit/s link.  Each worker first waits WORKER_DATA_CONNECT_MS
        # for the endpoint, once per client: in the warm-up, or in one of
        # the three timed echoes (the median leaves it out).
        case " $up /$sname" in
        *" dcpool "*/bridge | *" dcpool "*/1gbit)
            for way in relay head; do
                l="dcpool-$way/$sname"
                more="--no-direct"
                [ "$way" = relay ] && more=""
                # shellcheck disable=SC2086  # words without spaces
                client bw "$l" 120 env DCPOOL_DATA_ADDRESS="${addr%.*}.200" \
                    "$bench_pool" bw -s "$addr:$dcpool_port" -l "$bench_lib" \
                    --no-shared-memory $more --label "$l" --size "$bw_size" \
                    --reps "$bw_reps" --timeout 110
            done
            ;;
        esac
    done
    stop_pids 15
done

# --- the table ----------------------------------------------------------------------
mkdir -p "$(dirname "$json_out")"
echo
python3 "$here/net_report.py" "$records" "$json_out"
say "done in $(($(date +%s) - started)) s"
