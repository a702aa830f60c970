/*  An update whose handle_update kills every worker that applies it (the
    echo_update worker dies of SIGSEGV on "crash") does not make the
    workers restart forever while the map waits: after max_attempts
    workers died in it, the map returns POOL_EWORKER with a message naming
    the update, every input gets a result (some are errors), the pool is
    broken for later calls, and the cluster serves the next pool.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "fail_util.h"

enum { N = 50 };

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "echo_update", 2);
    static pool_bytes_t inputs[N];
    static pool_result_t results[N];
    for (size_t i = 0; i < N; i++)
        inputs[i] = (pool_bytes_t){ "x", 1 };

    int rc = pool_update_workers (pool, (pool_bytes_t){ "fine", 4 });
    H_CHECK (rc == 0, "first update: %s", pool_strerror (rc));
    rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "map after a good update: %s", pool_strerror (rc));
    pool_results_release (pool, results, N);

    rc = pool_update_workers (pool, (pool_bytes_t){ "crash", 5 });
    H_CHECK (rc == 0, "pool_update_workers: %s", pool_strerror (rc));
    double t0 = h_now ();
    rc = pool_map (pool, inputs, N, results);
    const char *error = pool_last_error (pool);
    h_log ("map after the crashing update: %s after %.1f s: %s", pool_strerror (rc),
           h_now () - t0, error);
    H_CHECK (rc == POOL_EWORKER,
             "map after an update that kills workers: %s, "
             "want POOL_EWORKER",
             pool_strerror (rc));
    H_CHECK (strstr (error, "update 2") && strstr (error, "handle_update"),
             "the error '%s' does not name the update", error);
    for (size_t i = 0; i < N; i++)
        H_CHECK (results[i].status != 0 && results[i].error,
                 "input %zu ran although no worker could apply the update", i);
    pool_results_release (pool, results, N);
    rc = pool_map (pool, inputs, 1, results);
    H_CHECK (rc < 0, "a map on the failed pool succeeded");
    pool_results_release (pool, results, 1);
    pool_close (&pool);

    /* The workers the update killed come back and serve another pool. */
    pool = h_open (head, "square", 2);
    pool_bytes_t *squares = fu_inputs (200, "");
    static pool_result_t values[200];
    rc = pool_map (pool, squares, 200, values);
    H_CHECK (rc == 0, "map on the next pool: %s", pool_strerror (rc));
    for (size_t i = 0; i < 200; i++)
        fu_check_value (&values[i], (long long)i, "next pool");
    pool_results_release (pool, values, 200);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_fail_update_that_kills_workers_fails_the_pool", s_body);
}
