/*  A client that waits for results slower than its spin_wait (jobs of
    20 ms, one at a time) spins at most spin_wait of each wait: it sleeps
    until shortly before the time results took lately and spins from
    there, or sleeps through.  Over 40 such maps the client's whole
    process (its thread and libzmq's) uses less CPU than 40 spins of
    spin_wait and some work each, not the 40 x 20 ms a wait that spun
    throughout would burn; every result is right.  Then jobs that end
    much sooner than the last ones (1 ms after 20 ms): their results come
    while the client sleeps, and each map still returns its own.
*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

enum { MAPS = 40 };

static double
s_cpu_seconds (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One map of one input "MS" on pool: its output starts "MS@". */
static void
s_map_one (pool_t *pool, const char *ms, int k)
{
    pool_bytes_t input = { ms, strlen (ms) };
    pool_result_t result;
    int rc = pool_map (pool, &input, 1, &result);
    H_CHECK (rc == 0, "map %d of a %s ms job: %s: %s", k, ms, pool_strerror (rc),
             pool_last_error (pool));
    char want[16];
    int len = snprintf (want, sizeof want, "%s@", ms);
    H_CHECK (result.status == 0 && result.value.size > (size_t)len
                 && memcmp (result.value.data, want, (size_t)len) == 0,
             "map %d of a %s ms job: status %d, output '%.*s'", k, ms, result.status,
             (int)result.value.size, (const char *)result.value.data);
    pool_results_release (pool, &result, 1);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    pool_options_t options;
    h_options (&options, head, "sleepy");
    options.spin_wait = 0.002;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, 1, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_for_workers: %s", pool_strerror (rc));

    s_map_one (pool, "20", -1); /* the library and the worker warm */
    double cpu0 = s_cpu_seconds ();
    for (int k = 0; k < MAPS; k++)
        s_map_one (pool, "20", k);
    double cpu = s_cpu_seconds () - cpu0;
    /* Each wait may spin options.spin_wait; sending and taking in a
       result costs well under a millisecond more, even under sanitizers. */
    double most = h_timeout (MAPS * (options.spin_wait + 0.003));
    H_CHECK (cpu < most,
             "%d maps of a 20 ms job used %.1f ms of the client's CPU, more than "
             "%.1f ms: the waits spin longer than spin_wait",
             MAPS, cpu * 1e3, most * 1e3);
    printf ("%d maps of a 20 ms job: %.2f ms of the client's CPU each\n", MAPS,
            cpu * 1e3 / MAPS);

    for (int k = 0; k < 10; k++)
        s_map_one (pool, "1", k);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_wait_for_slow_results_spins_at_most_spin_wait", s_body);
}
