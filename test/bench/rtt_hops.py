"""test/bench/rtt_hops.py - the tables of test/bench/rtt_hops.sh.

    python3 rtt_hops.py THREADS STAT TIMEHIST

THREADS: `ps -eLo pid,tid,comm` taken while the round trips ran; STAT:
`perf stat --per-thread -x,` of the client, pool-head and the workers;
TIMEHIST: `perf sched timehist -w` of one second of them.  Prints the cost
per round trip of each thread, then the median time of each hop of a round
trip.
"""
import re
import statistics
import sys

HOPS = [
    ("cIO", "hIO", "SUBMIT: client I/O thread -> head I/O thread (TCP)"),
    ("hIO", "hM", "head I/O -> head main (SUBMIT handed over)"),
    ("hM", "hIO", "head main: SUBMIT decoded, JOB out"),
    ("hIO", "wIO", "JOB: head I/O -> worker I/O (TCP)"),
    ("wIO", "wM", "worker I/O -> worker main"),
    ("wM", "wIO", "worker main: job run, RESULT out"),
    ("wIO", "hIO", "RESULT: worker I/O -> head I/O (TCP)"),
    ("hIO", "hM", "head I/O -> head main (RESULT handed over)"),
    ("hM", "hIO", "head main: RESULT decoded, forwarded"),
    ("hIO", "cIO", "RESULT: head I/O -> client I/O (TCP)"),
]
CLIENT_SIDE = "client: RESULT in (client I/O) -> next SUBMIT at the head's I/O"


def read_threads(path):
    """tid -> (pid, comm), and pid -> comm of its main thread."""
    threads, procs = {}, {}
    with open(path) as f:
        next(f)
        for line in f:
            p = line.split(None, 2)
            if len(p) < 3:
                continue
            threads[p[1]] = (p[0], p[2].strip())
            if p[0] == p[1]:
                procs[p[0]] = p[2].strip()
    return threads, procs


def read_stat(path):
    """tid -> {event: value} from perf stat --per-thread -x, output."""
    rows = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            p = line.strip().split(",")
            if len(p) < 4:
                continue
            try:
                value = float(p[1])
            except ValueError:
                continue
            m = re.match(r".*-(\d+)$", p[0])
            if m:
                rows.setdefault(m.group(1), {})[p[3].split(":")[-1]] = value
    return rows


def roles(threads, procs):
    """tid -> role: cM/cIO (client), hM/hIO (pool-head), wM/wIO (workers)."""
    short = {"bench_pool": "c", "pool-head": "h", "pool-worker": "w"}
    out = {}
    for tid, (pid, comm) in threads.items():
        proc = short.get(procs.get(pid, ""))
        if not proc:
            continue
        if tid == pid:
            out[tid] = proc + "M"
        elif comm.startswith("ZMQbg/IO"):
            out[tid] = proc + "IO"
    return out


def per_thread(stat, role):
    names = {"cM": "client main", "cIO": "client I/O", "hM": "head main",
             "hIO": "head I/O", "wM": "worker main", "wIO": "worker I/O"}
    heads = [t for t in stat if role.get(t) == "hIO"]
    sent = sum(stat[t].get("sys_enter_sendto", 0) for t in heads)
    n = sent / 2  # JOB to the worker and RESULT to the client
    if n < 1:
        print("rtt_hops: no round trips counted")
        return
    print("per round trip (%d round trips)     cpu us  switches  syscalls  polls" % n)
    for t in sorted(stat, key=lambda t: -stat[t].get("task-clock", 0)):
        if t not in role:
            continue
        d = stat[t]
        if d.get("task-clock", 0) / n < 0.001:
            continue  # the idle worker
        print("  %-32s %7.1f %9.2f %9.1f %6.1f" % (
            names[role[t]], d.get("task-clock", 0) / n * 1000,
            d.get("context-switches", 0) / n, d.get("sys_enter", 0) / n,
            d.get("sys_enter_poll", 0) / n))


def hops(path, role):
    wakes = []
    with open(path) as f:
        for line in f:
            if "awakened:" not in line:
                continue
            left, right = line.split("awakened:", 1)
            fields = left.split()
            if len(fields) < 3:
                continue
            a = re.search(r"\[(\d+)(?:/\d+)?\]", " ".join(fields[2:]))
            b = re.search(r"\[(\d+)(?:/\d+)?\]", right)
            if not a or not b:
                continue
            ra, rb = role.get(a.group(1)), role.get(b.group(1))
            if ra and rb:
                wakes.append((float(fields[0]), ra, rb))
    times = [[] for _ in HOPS]
    client = []
    at, stamps = 0, []
    for t, a, b in wakes:
        if (a, b) == HOPS[0][:2]:
            if at == len(HOPS):
                for k in range(1, len(HOPS)):
                    times[k].append((stamps[k] - stamps[k - 1]) * 1e6)
                client.append((t - stamps[-1]) * 1e6)
            at, stamps = 1, [t]
        elif 0 < at < len(HOPS) and (a, b) == HOPS[at][:2]:
            stamps.append(t)
            at += 1
    if not client:
        print("rtt_hops: no whole round trip in the scheduler trace")
        return
    print("\nhops of a round trip (%d followed), median us" % len(client))
    total = 0.0
    rows = [(CLIENT_SIDE, client)] + [(h[2], times[k]) for k, h in enumerate(HOPS) if k]
    for name, values in rows:
        med = statistics.median(values)
        total += med
        print("  %-66s %6.1f" % (name, med))
    print("  %-66s %6.1f" % ("sum", total))


def main():
    threads, procs = read_threads(sys.argv[1])
    role = roles(threads, procs)
    per_thread(read_stat(sys.argv[2]), role)
    hops(sys.argv[3], role)


if __name__ == "__main__":
    main()
