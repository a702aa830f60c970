#!/bin/sh
# test/bench/matrix.sh - build bench_matrix and run it.
#
#   test/bench/matrix.sh [BUILD_DIR] [bench_matrix args...]
#
# Against a running cluster when DCPOOL_SERVER (HOST:PORT) and
# DCPOOL_PASSWORD are set; otherwise it starts a local one (start_node
# --head, one worker per core, a throwaway data dir, a random password) and
# stops it afterwards.  `scripts/bench matrix` runs this.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
[ -d "$build" ] || meson setup "$build" "$root" >/dev/null
ninja -C "$build" test/bench/bench_matrix node/start_node >/dev/null
bench="$build/test/bench/bench_matrix"

started=""
cleanup() {
    if [ -n "$started" ]; then
        kill -TERM "$started" 2>/dev/null || true
        wait "$started" 2>/dev/null || true
        rm -rf "$data"
    fi
}
trap cleanup EXIT INT TERM
if [ -z "${DCPOOL_SERVER:-}" ]; then
    data=$(mktemp -d /tmp/dcpool-bench-matrix.XXXXXX)
    DCPOOL_PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    export DCPOOL_PASSWORD
    "$build/node/start_node" --head -p 0 --data-dir "$data" > "$data/out" 2> "$data/err" &
    started=$!
    for _ in $(seq 1 300); do
        grep -q "dcpool node ready" "$data/out" 2>/dev/null && break
        sleep 0.1
    done
    port=$(sed -n 's/^dcpool head ready: port=\([0-9]*\).*/\1/p' "$data/out")
    [ -n "$port" ] || { echo "matrix.sh: the head did not start" >&2; cat "$data/err" >&2; exit 1; }
    DCPOOL_SERVER=127.0.0.1:$port
fi
"$bench" -s "$DCPOOL_SERVER" "$@"
