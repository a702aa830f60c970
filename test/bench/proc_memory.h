/*  test/bench/proc_memory.h - a process's memory from /proc, for the
    benchmarks that report peaks (bench_memory, bench_scale) and the
    integration tests that bound a process's memory (the harness links it).
*/
#ifndef DCPOOL_BENCH_PROC_MEMORY_H
#define DCPOOL_BENCH_PROC_MEMORY_H

/*  Resets the peak resident size (VmHWM) of pid ("self" or a number) to
    what it holds now, so a later peak is that of what ran since: the
    64 MiB Argon2id takes at start is not the map's. */
void proc_reset_peak (const char *pid);

/*  A field of /proc/PID/status in KiB ("VmHWM", "VmRSS"), or -1. */
long proc_status_kib (const char *pid, const char *field);

#endif
