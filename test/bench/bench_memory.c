/*  test/bench/bench_memory.c - memory of a streamed map, client and head.

    bench_memory -s HOST:PORT -r PW -l LIBRARY -n N --head-pid PID [--insecure]

    Streams N no-op inputs through pool_imap_unordered and prints, as JSON
    lines, the peak resident memory (VmHWM) of this client beyond what its
    own input array costs, and of pool-head (read from /proc/PID/status).
    The inputs are one array of N 8-byte values and N pool_bytes_t: the
    caller's own arrays, measured before the map starts and subtracted.
    Both peaks are reset just before the map (clear_refs), so they are the
    map's own and not the key derivation's at start.
*/
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"

/*  Resets a process's peak resident size (VmHWM) to its current size, so
    the peak read later is the map's, not the 64 MiB that Argon2id (the
    password's key derivation, once at start) briefly takes. */
static void
s_reset_peak (const char *pid)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%s/clear_refs", pid);
    FILE *f = fopen (path, "w");
    if (f) {
        fputs ("5", f);
        fclose (f);
    }
}

/* A field of /proc/PID/status in KiB ("VmHWM", "VmRSS"), or -1. */
static long
s_status_kib (const char *pid, const char *field)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    long kib = -1;
    size_t len = strlen (field);
    while (fgets (line, sizeof line, f))
        if (strncmp (line, field, len) == 0 && line[len] == ':') {
            kib = atol (line + len + 1);
            break;
        }
    fclose (f);
    return kib;
}

int
main (int argc, char *argv[])
{
    const char *server = NULL, *password = getenv ("DCPOOL_PASSWORD"), *library = NULL;
    const char *head_pid = NULL;
    size_t n = 10000000;
    int insecure = 0;
    static const struct option options[] = { { "insecure", no_argument, NULL, 'i' },
                                             { "head-pid", required_argument, NULL, 'p' },
                                             { NULL, 0, NULL, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "s:r:l:n:", options, NULL)) != -1)
        switch (c) {
        case 's':
            server = optarg;
            break;
        case 'r':
            password = optarg;
            break;
        case 'l':
            library = optarg;
            break;
        case 'n':
            n = strtoull (optarg, NULL, 10);
            break;
        case 'i':
            insecure = 1;
            break;
        case 'p':
            head_pid = optarg;
            break;
        default:
            return 2;
        }
    if (!server || !library || !head_pid || n == 0) {
        fprintf (stderr,
                 "usage: bench_memory -s HOST:PORT -r PW -l LIB -n N --head-pid PID\n");
        return 2;
    }
    pool_options_t o;
    pool_options_default (&o);
    o.server = server;
    o.password = password;
    o.worker_library = library;
    o.insecure = insecure;
    o.min_workers = 2;
    o.init_data = (pool_bytes_t){ "noop", 4 }; /* bench_worker's mode */
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &o);
    if (rc) {
        fprintf (stderr, "bench_memory: %s\n", pool_open_error ());
        return 1;
    }
    uint64_t *values = malloc (n * sizeof *values);
    pool_bytes_t *inputs = malloc (n * sizeof *inputs);
    if (!values || !inputs)
        return 1;
    for (size_t i = 0; i < n; i++) {
        values[i] = i;
        inputs[i] = (pool_bytes_t){ &values[i], sizeof values[i] };
    }
    s_reset_peak ("self");
    s_reset_peak (head_pid);
    long arrays_kib = s_status_kib ("self", "VmRSS");
    long head_before = s_status_kib (head_pid, "VmRSS");
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    pool_iter_t *iter = NULL;
    rc = pool_imap_unordered (pool, inputs, n, &iter);
    size_t got = 0, bad = 0;
    pool_result_t result;
    while (rc == 0 && (rc = pool_iter_next (iter, &result)) == 1) {
        got++;
        if (result.status != 0 || result.value.size != 8
            || memcmp (result.value.data, &values[result.index], 8) != 0)
            bad++;
        rc = 0;
    }
    clock_gettime (CLOCK_MONOTONIC, &t1);
    pool_iter_destroy (&iter);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    long client_peak = s_status_kib ("self", "VmHWM");
    long head_peak = s_status_kib (head_pid, "VmHWM");
    printf ("{\"measure\":\"stream_memory\",\"n\":%zu,\"results\":%zu,\"bad\":%zu,"
            "\"seconds\":%.2f,\"tasks_per_s\":%.0f,"
            "\"client_peak_beyond_arrays_mib\":%.1f,\"client_arrays_mib\":%.1f,"
            "\"head_rss_before_mib\":%.1f,\"head_peak_mib\":%.1f}\n",
            n, got, bad, s, got / s, (client_peak - arrays_kib) / 1024.0,
            arrays_kib / 1024.0, head_before / 1024.0, head_peak / 1024.0);
    free (values);
    free (inputs);
    pool_close (&pool);
    return got == n && bad == 0 ? 0 : 1;
}
