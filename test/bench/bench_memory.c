/*  test/bench/bench_memory.c - memory of a streamed map, client and head.

    bench_memory -s HOST:PORT -r PW -l LIBRARY -n N --head-pid PID [--insecure]

    Streams N no-op inputs through pool_imap_unordered and prints, as JSON
    lines, the peak resident memory (VmHWM) of this client beyond what its
    own input array costs, and of pool-head (read from /proc/PID/status).
    The inputs are one array of N 8-byte values and N pool_bytes_t: the
    caller's own arrays, measured before the map starts and subtracted.
    Both peaks are reset just before the map (clear_refs), so they are the
    map's own and not the key derivation's at start.

    Then the same N inputs through pool_imap_stream (a callback, no array),
    unordered and ordered: the client's peak beyond its resident size
    before the stream ("beyond its own state").  And 100,000 futures
    outstanding at once (pool_submit all, then pool_wait_all) against a
    pool_map of the same 100,000 inputs: client and head peaks of each.
*/
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"
#include "proc_memory.h"

static double
s_seconds (const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime (CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

typedef struct {
    uint64_t next, n;
} source_t;

static int
s_next (void *arg, pool_bytes_t *input)
{
    static uint64_t value;
    source_t *src = arg;
    if (src->next == src->n)
        return 0;
    value = src->next++;
    *input = (pool_bytes_t){ &value, sizeof value };
    return 1;
}

/*  n inputs from a callback: the client's peak beyond what it held
    before, and the head's. */
static int
s_stream (pool_t *pool, size_t n, int ordered, const char *head_pid)
{
    proc_reset_peak ("self");
    proc_reset_peak (head_pid);
    long before = proc_status_kib ("self", "VmRSS");
    struct timespec t0;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    source_t src = { 0, n };
    pool_iter_t *iter = NULL;
    int rc = pool_imap_stream (pool, s_next, &src, ordered, &iter);
    size_t got = 0, bad = 0;
    pool_result_t result;
    while (rc == 0 && (rc = pool_iter_next (iter, &result)) == 1) {
        uint64_t want = result.index;
        got++;
        if (result.status != 0 || result.value.size != 8
            || memcmp (result.value.data, &want, 8) != 0
            || (ordered && result.index != got - 1))
            bad++;
        rc = 0;
    }
    pool_iter_destroy (&iter);
    double s = s_seconds (&t0);
    long peak = proc_status_kib ("self", "VmHWM");
    printf ("{\"measure\":\"stream_callback_memory\",\"ordered\":%d,\"n\":%zu,"
            "\"results\":%zu,\"bad\":%zu,\"seconds\":%.2f,\"tasks_per_s\":%.0f,"
            "\"client_peak_beyond_state_mib\":%.1f,\"head_peak_mib\":%.1f}\n",
            ordered, n, got, bad, s, got / s, (peak - before) / 1024.0,
            proc_status_kib (head_pid, "VmHWM") / 1024.0);
    fflush (stdout);
    return got == n && bad == 0 ? 0 : 1;
}

/*  n futures outstanding at once against a map of n: client and head
    peaks beyond their sizes before each. */
static int
s_futures_vs_map (pool_t *pool, size_t n, const char *head_pid)
{
    uint64_t *values = malloc (n * sizeof *values);
    pool_bytes_t *inputs = malloc (n * sizeof *inputs);
    pool_result_t *results = calloc (n, sizeof *results);
    pool_future_t **futures = calloc (n, sizeof *futures);
    if (!values || !inputs || !results || !futures)
        return 1;
    for (size_t i = 0; i < n; i++) {
        values[i] = i;
        inputs[i] = (pool_bytes_t){ &values[i], sizeof values[i] };
    }
    int bad = 0;
    for (int futures_run = 0; futures_run < 2; futures_run++) {
        proc_reset_peak ("self");
        proc_reset_peak (head_pid);
        long before = proc_status_kib ("self", "VmRSS");
        long head_before = proc_status_kib (head_pid, "VmRSS");
        struct timespec t0;
        clock_gettime (CLOCK_MONOTONIC, &t0);
        if (futures_run) {
            for (size_t i = 0; i < n; i++)
                if (pool_submit (pool, inputs[i], &futures[i]) != 0)
                    return 1;
            if (pool_wait_all (futures, n, 600) != 0)
                return 1;
            for (size_t i = 0; i < n; i++) {
                pool_result_t r;
                if (pool_future_result (futures[i], &r) != 0 || r.status != 0
                    || r.value.size != 8 || memcmp (r.value.data, &values[i], 8) != 0)
                    bad++;
            }
        } else {
            if (pool_map (pool, inputs, n, results) != 0)
                return 1;
            for (size_t i = 0; i < n; i++)
                if (results[i].status != 0 || results[i].value.size != 8
                    || memcmp (results[i].value.data, &values[i], 8) != 0)
                    bad++;
        }
        double s = s_seconds (&t0);
        long peak = proc_status_kib ("self", "VmHWM");
        long head_peak = proc_status_kib (head_pid, "VmHWM");
        if (futures_run)
            for (size_t i = 0; i < n; i++)
                pool_future_destroy (&futures[i]);
        else
            pool_results_release (pool, results, n);
        printf ("{\"measure\":\"%s_memory\",\"n\":%zu,\"bad\":%d,\"seconds\":%.2f,"
                "\"client_peak_beyond_state_mib\":%.1f,\"head_peak_beyond_mib\":%.1f}\n",
                futures_run ? "futures" : "map", n, bad, s, (peak - before) / 1024.0,
                (head_peak - head_before) / 1024.0);
        fflush (stdout);
    }
    free (values);
    free (inputs);
    free (results);
    free (futures);
    return bad ? 1 : 0;
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
    proc_reset_peak ("self");
    proc_reset_peak (head_pid);
    long arrays_kib = proc_status_kib ("self", "VmRSS");
    long head_before = proc_status_kib (head_pid, "VmRSS");
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
    long client_peak = proc_status_kib ("self", "VmHWM");
    long head_peak = proc_status_kib (head_pid, "VmHWM");
    printf ("{\"measure\":\"stream_memory\",\"n\":%zu,\"results\":%zu,\"bad\":%zu,"
            "\"seconds\":%.2f,\"tasks_per_s\":%.0f,"
            "\"client_peak_beyond_arrays_mib\":%.1f,\"client_arrays_mib\":%.1f,"
            "\"head_rss_before_mib\":%.1f,\"head_peak_mib\":%.1f}\n",
            n, got, bad, s, got / s, (client_peak - arrays_kib) / 1024.0,
            arrays_kib / 1024.0, head_before / 1024.0, head_peak / 1024.0);
    free (values);
    free (inputs);
    int ok = got == n && bad == 0;
    for (int ordered = 0; ordered < 2 && ok; ordered++)
        ok = s_stream (pool, n, ordered, head_pid) == 0;
    if (ok)
        ok = s_futures_vs_map (pool, 100000, head_pid) == 0;
    pool_close (&pool);
    return ok ? 0 : 1;
}
