#!/usr/bin/python3
"""test/bench/net_report.py - the table of `scripts/bench net`.

    net_report.py RECORDS.jsonl JSON_OUT

RECORDS holds the JSON lines of bench_pool, zmq_broker and gearman_client
(the format of report.py), each "system" being SYSTEM/SETTING (dcpool,
dcpool-insecure, zmq, zmq-curve, gearman; a setting's name from meta
"settings", NAME:DELAY_MS:RATE_MBIT[:NETWORK], the network "bridge" or
"switch"), error records of the same form (system "*" for every measure),
and one {"meta": {...}} line (test/bench/net.sh writes it).  Prints, for
each measure and link setting, the systems' medians and the ratios the
targets of issue 15 name (dcpool / broker), then writes everything, raw
records included, to JSON_OUT.
"""
import json
import os
import statistics
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import fmt, load  # noqa: E402  (the path above first)

SYSTEMS = ["dcpool", "dcpool-insecure", "zmq", "zmq-curve", "gearman"]
# what a system is measured on, where not everything (net.sh says why)
ONLY = {"gearman": {"rtt_p50", "rtt_p99", "ms_efficiency"}}

# measure, title, higher is better
MEASURES = [
    ("bw", "64 MiB in + 64 MiB out, GB/s", True),
    ("rtt_p50", "one task round trip p50, us (lower better)", False),
    ("rtt_p99", "one task round trip p99, us (lower better)", False),
    ("ms_efficiency", "{n_ms:,} jobs of 1 ms, share of 2 x 1000 jobs/s", True),
    ("noop", "{n_noop:,} tiny jobs, tasks/s", True),
]

# ratio columns: (heading, numerator system, denominator system)
RATIOS = [("sec/zmq-curve", "dcpool", "zmq-curve"),
          ("sec/zmq", "dcpool", "zmq"),
          ("ins/zmq", "dcpool-insecure", "zmq"),
          ("sec/gearman", "dcpool", "gearman")]

# the measure group a record's error stands for
GROUP = {"bw": "bw", "rtt_p50": "rtt", "rtt_p99": "rtt", "ms_efficiency": "ms",
         "noop": "noop"}


def parse_settings(meta):
    """[(name, delay ms, rate Mbit/s, network, title)] in run order."""
    out = []
    for s in meta.get("settings", []):
        name, delay, rate, network = (s.split(":") + ["switch"])[:4]
        delay, rate = float(delay), float(rate)
        if network == "bridge":
            title = "bridge"
        elif rate > 0:
            title = "%g Gbit/s" % (rate / 1000) if rate >= 1000 else "%g Mbit/s" % rate
            if delay > 0:
                title += " + %g ms" % delay
        else:
            title = "%g ms" % delay
        out.append((name, delay, rate, network, title))
    return out


def main():
    records_path, json_out = sys.argv[1], sys.argv[2]
    meta, recs = load(records_path)
    settings = parse_settings(meta)

    values, errors, units = {}, {}, {}
    for r in recs:
        system, _, setting = str(r.get("system", "")).partition("/")
        key = (r.get("measure"), system, setting)
        if "error" in r:
            errors.setdefault(key, r["error"])
        elif "value" in r:
            values.setdefault(key, []).append(float(r["value"]))
            units[r.get("measure")] = r.get("unit")

    def figure(measure, system, setting):
        """(median or None, text)"""
        if measure not in ONLY.get(system, {measure}):
            return None, "-"
        key = (measure, system, setting)
        if key in values:
            med = statistics.median(values[key])
            return med, fmt(med, units.get(measure))
        err = (errors.get(key) or errors.get((GROUP[measure], system, setting))
               or errors.get(("*", system, setting)) or errors.get(("*", system, "")))
        return None, ("failed: " + err) if err else "not run"

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    # the 1 ms figures' base: 0 ms on the same network (the switch)
    zero = next((s[0] for s in settings
                 if s[1] == 0 and s[2] == 0 and s[3] == "switch"), None)
    head = (["measure", "link"] + SYSTEMS + [r[0] for r in RATIOS] + ["note"])
    table, rows = [head], []
    for measure, title, higher in MEASURES:
        title = title.format(n_ms=meta.get("n_ms", 400), n_noop=meta.get("n_noop", 20000))
        first = True
        for name, delay, rate, network, stitle in settings:
            figs = {s: figure(measure, s, name) for s in SYSTEMS}
            ratios = [ratio(figs[a][0], figs[b][0]) for _, a, b in RATIOS]
            notes, extra = [], {}
            if measure == "bw" and rate > 0:
                # in and out go one after the other: at the link's rate
                # each way the figure is the rate itself
                link = rate * 1e6 / 8 / 1e9
                share = {s: ratio(figs[s][0], link) for s in SYSTEMS}
                extra["link_share"] = share
                notes.append("of the link: " + ", ".join(
                    "%s %s" % (s, fmt(share[s], "fraction"))
                    for s in SYSTEMS if share[s] is not None))
            if measure == "rtt_p50" and delay > 0 and zero:
                # a round trip crosses 4 links: client-head-worker and back
                base = {s: ratio(figs[s][0], 4 * delay * 1000
                                 + (figure(measure, s, zero)[0] or float("nan")))
                        for s in SYSTEMS[:2]}
                extra["of_4_delays_plus_0ms"] = base
                notes.append("of 4 x %g ms + the 0 ms figure: " % delay + ", ".join(
                    "%s %.2fx" % (s, base[s]) for s in SYSTEMS[:2]
                    if base[s] is not None and base[s] == base[s]))
            table.append([title if first else "", stitle]
                         + [figs[s][1] for s in SYSTEMS]
                         + ["-" if r is None else "%.2fx" % r for r in ratios]
                         + ["; ".join(notes)])
            first = False
            row = {"measure": measure, "title": title, "higher_is_better": higher,
                   "setting": name, "network": network, "delay_ms": delay,
                   "rate_mbit": rate}
            row.update({s: figs[s][0] for s in SYSTEMS})
            row.update({h: r for (h, _, _), r in zip(RATIOS, ratios)})
            row.update(extra)
            rows.append(row)
        table.append(None)

    widths = [max(len(r[i]) for r in table if r) for i in range(len(head) - 1)]
    print("dcpool, the raw ZeroMQ broker and Gearman between network namespaces "
          "(scripts/bench net), %s" % meta.get("date", ""))
    print("machine: %s, nproc=%s, %s" % (meta.get("cpu", "?"), meta.get("nproc", "?"),
                                         meta.get("kernel", "")))
    print("head (broker, gearmand), 2 nodes of 1 worker, client: a namespace each, joined by "
          "a Linux bridge of veth pairs (link \"bridge\") or by test/net/netswitch, a "
          "user-space switch on the same cores (the other links); MTU %s; shared memory "
          "off" % meta.get("mtu", "?"))
    print("dcpool = default CURVE, dcpool-insecure = --insecure; zmq = raw ZeroMQ LRU "
          "broker (C), 64 jobs in flight per worker; zmq-curve = the same, CURVE on "
          "every socket; gearman = gearmand, a worker process per node (rtt and 1 ms "
          "jobs only)")
    print("medians of %s (bw: %s repetition%s); GB/s = (bytes in + bytes out) / "
          "seconds, 1 GB = 1e9 bytes" % (meta.get("reps", "?"), meta.get("bw_reps", "?"),
                                        "" if meta.get("bw_reps") == 1 else "s"))
    print()
    for i, r in enumerate(table):
        if r is None:
            print()
            continue
        print("  ".join(r[k].ljust(widths[k]) for k in range(len(widths))) + "  " + r[-1])
        if i == 0:
            print("-" * (sum(widths) + 2 * len(widths) + len("note")))
    # The fallback for a client its workers cannot reach.
    fallback = []
    for name, delay, rate, network, stitle in settings:
        relay = figure("bw", "dcpool-relay", name)
        whole = figure("bw", "dcpool-head", name)
        if relay[1] == "not run" and whole[1] == "not run":
            continue
        note = ""
        if rate > 0 and relay[0] is not None:
            note = "relay %s of the link" % fmt(relay[0] / (rate * 1e6 / 8 / 1e9),
                                                 "fraction")
        r = ratio(relay[0], whole[0])
        fallback.append([stitle, relay[1], whole[1], "-" if r is None else "%.2fx" % r,
                         note])
        rows.append({"measure": "bw_unreachable", "setting": name, "network": network,
                     "delay_ms": delay, "rate_mbit": rate, "dcpool-relay": relay[0],
                     "dcpool-head": whole[0], "relay/head": r})
    if fallback:
        print("64 MiB in + 64 MiB out, GB/s, for a client its workers cannot reach "
              "(dcpool, CURVE): through the head's relay in 2 MiB chunks, and as whole "
              "messages through the head (data plane off)")
        head2 = ["link", "relay", "whole messages", "relay/whole", "note"]
        w2 = [max(len(r[i]) for r in [head2] + fallback) for i in range(4)]
        for i, r in enumerate([head2] + fallback):
            print("  ".join(r[k].ljust(w2[k]) for k in range(4)) + "  " + r[4])
            if i == 0:
                print("-" * (sum(w2) + 8 + len("note")))
        print()
    print("targets (issue 15): bw with no delay sec/zmq >= 1.0x, sec/zmq-curve >= 5x, ins/zmq >= 3x, "
          ">= 80% of a 1 Gbit/s link each way; rtt p50 sec/zmq-curve <= 0.8x, at 1 ms "
          "within 15% of 4 delays + the 0 ms figure; sec/gearman <= 1.0x; 1 ms jobs >= 97%")

    with open(json_out, "w") as f:
        json.dump({"meta": meta, "rows": rows, "records": recs}, f, indent=1)
    print()
    print("JSON: %s" % json_out)


if __name__ == "__main__":
    main()
