#!/usr/bin/python3
"""test/bench/report.py - turns the benchmark's JSON lines into one table.

    report.py RECORDS.jsonl JSON_OUT MODE

RECORDS holds one JSON object a line, as bench_pool, zmq_broker,
gearman_client and peers.py print them ({"measure", "system", "n", "rep",
"value", "unit"} or {"measure", "system", "error"}), plus what scripts/bench
adds: {"measure": "*", "system": S, "error": "not installed: ..."} for a
peer that could not be installed, {"measure": M, "system": S, "error": ...}
for a run that failed without saying why, and {"meta": {...}} (machine).
Figures are medians over the repetitions.  Prints the table (ratios first)
and writes everything, raw records included, to JSON_OUT.
"""
import json
import statistics
import sys

PEERS = {
    "mp-1": "multiprocessing.Pool(2) chunksize=1",
    "mp-default": "multiprocessing.Pool(2) default chunks",
    "mp": "multiprocessing.Pool(2) apply",
    "dask": "Dask distributed LocalCluster(2 processes)",
    "gearman": "Gearman (C client, 2 C workers)",
    "zmq-1": "ZeroMQ LRU broker (C), 1 job/worker in flight",
    "zmq-64": "ZeroMQ LRU broker (C), 64 jobs/worker in flight",
    "zmq-1-curve": "ZeroMQ LRU broker (C), CURVE on every socket",
}

# measure, title, unit, higher is better, peers compared
MEASURES = [
    ("noop", "no-op map, tasks/s", True,
     ["mp-1", "mp-default", "dask", "gearman", "zmq-1", "zmq-64"]),
    ("rtt_p50", "one task round trip p50, us (lower better)", False,
     ["mp", "dask", "gearman", "zmq-1", "zmq-1-curve"]),
    ("rtt_p99", "one task round trip p99, us (lower better)", False,
     ["mp", "dask", "gearman", "zmq-1", "zmq-1-curve"]),
    ("rtt_future_p50", "one future round trip p50 (pool_submit + wait), us", False,
     ["mp", "dask", "gearman", "zmq-1", "zmq-1-curve"]),
    ("rtt_future_p99", "one future round trip p99 (pool_submit + wait), us", False,
     ["mp", "dask", "gearman", "zmq-1", "zmq-1-curve"]),
    ("rtt_sleep_p50", "round trip p50, client sleeps at once (spin_wait 0), us", False,
     ["mp", "gearman", "zmq-1", "zmq-1-curve"]),
    ("rtt_sleep_p99", "round trip p99, client sleeps at once (spin_wait 0), us", False,
     ["mp", "gearman", "zmq-1", "zmq-1-curve"]),
    ("bw", "64 MiB in + 64 MiB out, GB/s", True,
     ["mp", "dask", "gearman", "zmq-1", "zmq-1-curve"]),
    ("bw_net", "64 MiB in + out over sockets (as between hosts), GB/s", True,
     ["mp", "dask", "gearman", "zmq-1", "zmq-1-curve"]),
    ("bw_head", "64 MiB in + out through the head (data plane off), GB/s", True,
     ["mp", "dask", "gearman", "zmq-1", "zmq-1-curve"]),
    ("ms_efficiency", "1 ms-job map, efficiency vs 2 x 1000 jobs/s", True,
     ["mp-1", "mp-default", "dask", "gearman", "zmq-1", "zmq-64"]),
]

# a dcpool variant compared with the peers' figure of its plain measure
PEER_OF = {"bw_net": "bw", "bw_head": "bw", "rtt_sleep_p50": "rtt_p50", "rtt_sleep_p99": "rtt_p99",
           "rtt_future_p50": "rtt_p50", "rtt_future_p99": "rtt_p99"}

# which group of runs a measure belongs to (for --only and "not run")
GROUP = {"noop": "noop", "noop_1m": "noop", "rtt_p50": "rtt", "rtt_p99": "rtt", "bw": "bw",
         "rtt_sleep_p50": "rtt", "rtt_sleep_p99": "rtt", "rtt_future_p50": "rtt",
         "rtt_future_p99": "rtt", "bw_net": "bw", "bw_head": "bw",
         "ms_efficiency": "ms", "recovery_ms": "recovery"}


def fmt(v, unit=None):
    if v is None:
        return "-"
    if unit == "fraction":
        return "%.1f%%" % (100 * v)
    if abs(v) >= 100:
        return "{:,.0f}".format(v)
    if abs(v) >= 1:
        return "%.2f" % v
    return "%.3g" % v


def size_note(n, measure):
    if measure in ("bw", "bw_net", "bw_head") and n and n != 64 << 20:
        return " [%g MiB]" % (n / (1 << 20))
    if measure in ("noop", "ms_efficiency", "rtt_p50", "rtt_p99",
                   "rtt_sleep_p50", "rtt_sleep_p99", "rtt_future_p50",
                   "rtt_future_p99") and n:
        return " [n=%s]" % "{:,}".format(n)
    return ""


def load(records_path):
    """(meta, records) of a JSON-lines file: {"meta"} lines merged, lines
    that are not JSON objects skipped (also used by net_report.py)."""
    meta, recs = {}, []
    with open(records_path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if "meta" in r:
                meta.update(r["meta"])
            else:
                recs.append(r)
    return meta, recs


def main():
    records_path, json_out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    meta, recs = load(records_path)
    ran = set(meta.get("measures", []))

    values, errors, ns, units = {}, {}, {}, {}
    for r in recs:
        key = (r.get("measure"), r.get("system"))
        if "error" in r:
            errors.setdefault(key, r["error"])
        elif "value" in r:
            values.setdefault(key, []).append(float(r["value"]))
            ns[key] = r.get("n")
            units[key] = r.get("unit")

    def figure(measure, system):
        """(median or None, text)"""
        key = (measure, system)
        if key in values:
            med = statistics.median(values[key])
            return med, fmt(med, units.get(key)) + size_note(ns.get(key), measure)
        err = (errors.get(key) or errors.get((GROUP.get(measure), system))
               or errors.get(("*", system)))
        if err:
            return None, err if err.startswith("not installed") else "failed: " + err
        return None, "not run"

    def ratio(a, b):
        if a is None or b is None or b == 0:
            return "-"
        return "%.2fx" % (a / b)

    rows = []
    table = [("sec/peer", "ins/peer", "measure", "dcpool", "dcpool insecure",
              "peer", "peer figure")]
    for measure, title, higher, peers in MEASURES:
        if ran and GROUP[measure] not in ran:
            continue
        sec, sec_t = figure(measure, "dcpool")
        ins, ins_t = figure(measure, "dcpool-insecure")
        if measure == "ms_efficiency":
            ins, ins_t = None, "-"
        base_n = ns.get((measure, "dcpool"))
        for p in peers:
            # peers have one way to move bytes and one way to wait
            peer_measure = PEER_OF.get(measure, measure)
            pv, pt = figure(peer_measure, p)
            if pv is not None and ns.get((peer_measure, p)) == base_n:
                pt = fmt(pv, units.get((peer_measure, p)))   # same n: no note
            r1, r2 = ratio(sec, pv), ratio(ins, pv)
            rows.append({"measure": measure, "title": title,
                         "higher_is_better": higher,
                         "dcpool": sec, "dcpool_insecure": ins,
                         "n": base_n, "peer_n": ns.get((peer_measure, p)),
                         "peer": p, "peer_name": PEERS[p], "peer_value": pv,
                         "peer_text": pt, "ratio": None if r1 == "-" else sec / pv,
                         "ratio_insecure": None if r2 == "-" else ins / pv})
            table.append((r1, r2, title, sec_t, ins_t, PEERS[p], pt))
        table.append(None)
    widths = [max(len(r[i]) for r in table if r) for i in range(6)]
    lines = []
    for r in table:
        if r is None:
            lines.append("")
            continue
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(6)) + "  " + r[6])
        if len(lines) == 1:
            lines.append("-" * len(lines[0]))

    extra = []
    if not ran or "noop" in ran:
        v, t = figure("noop_1m", "dcpool")
        mv, mt = figure("noop_1m", "mp-default")
        if v is not None and mv is not None:
            t += " (%.2fx multiprocessing.Pool(2) default chunks, %s)" % (v / mv, mt)
        if mode == "full" or v is not None or ("noop_1m", "dcpool") in errors:
            extra.append(("no-op map of 1,000,000 inputs, tasks/s", t, v))
    if not ran or "recovery" in ran:
        v, t = figure("recovery_ms", "dcpool")
        extra.append(("recovery ms (kill -9 of a node -> first result of one "
                      "of its jobs run elsewhere)", t, v))
    # CURVE cost: secure / insecure, same run
    curve = []
    for measure, title in (("noop", "no-op map, tasks/s"),
                           ("bw", "64 MiB in + out, GB/s"),
                           ("bw_net", "64 MiB over sockets, GB/s"),
                           ("bw_head", "64 MiB via the head, GB/s")):
        if ran and GROUP[measure] not in ran:
            continue
        s, st = figure(measure, "dcpool")
        i, it = figure(measure, "dcpool-insecure")
        curve.append((title, st, it, ratio(s, i), s, i))
        rows.append({"measure": "curve_" + measure, "title": "CURVE cost: " + title,
                     "dcpool": s, "dcpool_insecure": i,
                     "ratio": None if ratio(s, i) == "-" else s / i})
    for title, t, v in extra:
        rows.append({"measure": title, "dcpool": v, "text": t})

    print("dcpool benchmark (%s run), %s" % (mode, meta.get("date", "")))
    print("machine: %s, nproc=%s, %s" % (meta.get("cpu", "?"), meta.get("nproc", "?"),
                                         meta.get("kernel", "")))
    print("ratios: dcpool figure / peer figure (secure = default CURVE; "
          "insecure = --insecure); medians of %s" % meta.get("reps", "3"))
    print("GB/s = (bytes in + bytes out) / round-trip seconds, 1 GB = 1e9 bytes")
    print()
    for line in lines:
        print(line)
    if curve:
        print("CURVE cost (same run)        secure          insecure        secure/insecure")
        for title, st, it, r, _, _ in curve:
            print("  %-26s %-15s %-15s %s" % (title, st, it, r))
        print()
    for title, t, _ in extra:
        print("%s: %s" % (title, t))

    with open(json_out, "w") as f:
        json.dump({"mode": mode, "meta": meta, "rows": rows, "records": recs},
                  f, indent=1)
    print()
    print("JSON: %s" % json_out)


if __name__ == "__main__":
    main()
