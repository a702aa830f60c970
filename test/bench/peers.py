#!/usr/bin/python3
"""test/bench/peers.py - the Python peers of the dcpool benchmarks.

    peers.py mp|dask MEASURE [-n N] [--reps R] [--size BYTES]
             [--chunksize 1|default] [--label NAME]

mp:   multiprocessing.Pool(2); map with chunksize=1 or the default chunks.
dask: Dask distributed, a LocalCluster of 2 worker processes with 1 thread
      each, futures through a Client.

Measures, the same work as bench_pool's: noop (N 8-byte inputs returned as
they are: tasks/s), rtt (N sequential one-input submissions: rtt_p50 and
rtt_p99 in us), bw (BYTES, default 64 MiB, echoed: GB/s = 2 x BYTES / s),
ms (N jobs that each busy-wait 1 ms: ms_efficiency against 2 x 1000
jobs/s).  Prints one JSON line per repetition, after one untimed warm-up;
on failure one line with "error".  Run it with Debian's /usr/bin/python3
(python3-distributed lives there).
"""
import argparse
import json
import os
import sys
import time


def noop(x):
    return x


def spin(x):
    until = time.perf_counter() + 1e-3
    while time.perf_counter() < until:
        pass
    return x


def emit(label, measure, n, rep, value, unit):
    print(json.dumps({"measure": measure, "system": label, "n": n, "rep": rep,
                      "value": value, "unit": unit}), flush=True)


def fail(label, measure, text):
    print(json.dumps({"measure": measure, "system": label, "error": text}),
          flush=True)
    print("peers.py %s (%s): %s" % (measure, label, text), file=sys.stderr)


def inputs(n):
    return [((i * 2654435761) & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
            for i in range(n)]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * (len(values) - 1) + 0.5))]


def run(args, map_fn, call_fn):
    """map_fn(fn, list) -> list, call_fn(fn, x) -> result."""
    label, m = args.label, args.measure
    for rep in range(args.reps + 1):
        if m in ("noop", "ms"):
            count = min(args.n, 200) if rep == 0 else args.n
            data = inputs(count)
            t0 = time.perf_counter()
            out = map_fn(spin if m == "ms" else noop, data)
            t = time.perf_counter() - t0
            if out != data:
                fail(label, m, "results missing or wrong")
                return 1
            if rep == 0:
                continue
            if m == "ms":
                emit(label, "ms_jobs_per_s", count, rep, count / t, "jobs/s")
                emit(label, "ms_efficiency", count, rep, count / t / 2000.0,
                     "fraction")
            else:
                emit(label, args.as_name or "noop", count, rep, count / t, "tasks/s")
        elif m == "rtt":
            count = min(args.n, 50) if rep == 0 else args.n
            lat = []
            for i in range(count):
                x = i.to_bytes(8, "little")
                t0 = time.perf_counter()
                y = call_fn(noop, x)
                lat.append((time.perf_counter() - t0) * 1e6)
                if y != x:
                    fail(label, m, "wrong result")
                    return 1
            if rep > 0:
                emit(label, "rtt_p50", count, rep, percentile(lat, 0.50), "us")
                emit(label, "rtt_p99", count, rep, percentile(lat, 0.99), "us")
        elif m == "bw":
            data = bytes(os.urandom(1 << 20)) * (args.size >> 20)
            t0 = time.perf_counter()
            y = call_fn(noop, data)
            t = time.perf_counter() - t0
            if y != data:
                fail(label, m, "echo came back different")
                return 1
            if rep > 0:
                emit(label, "bw", len(data), rep, 2.0 * len(data) / t / 1e9,
                     "GB/s")
        else:
            fail(label, m, "unknown measure")
            return 2
    return 0


def run_mp(args):
    import multiprocessing
    chunksize = None if args.chunksize == "default" else int(args.chunksize)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return run(args,
                   lambda fn, data: pool.map(fn, data, chunksize=chunksize),
                   lambda fn, x: pool.apply(fn, (x,)))


def run_dask(args):
    import logging
    import warnings
    warnings.filterwarnings("ignore")
    logging.getLogger("distributed").setLevel(logging.ERROR)
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(2)
        return run(args,
                   lambda fn, data: client.gather(client.map(fn, data, pure=False)),
                   lambda fn, x: client.submit(fn, x, pure=False).result())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=["mp", "dask"])
    ap.add_argument("measure")
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--size", type=int, default=64 << 20)
    ap.add_argument("--chunksize", default="1")
    ap.add_argument("--label", default=None)
    ap.add_argument("--as", dest="as_name", default=None,
                    help="report the no-op map's figure under this measure")
    args = ap.parse_args()
    if args.label is None:
        args.label = args.peer
    try:
        return run_mp(args) if args.peer == "mp" else run_dask(args)
    except Exception as e:  # a peer that breaks is reported, not dropped
        fail(args.label, args.measure, "%s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
