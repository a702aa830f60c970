/*  A pool whose init never returns (badinit "hang") fails to open within
    its connect_timeout (POOL_ENOWORKERS), and the workers stuck in that
    init are given back: the next pool opens on the same workers at once
    and its map gets right values, instead of waiting minutes for workers
    still sleeping in the dead pool's init.
*/
#include <stdio.h>
#include <string.h>

#include "fail_util.h"

enum { WORKERS = 2, M = 20 };

static void
s_body (void)
{
    h_proc_t *head = h_start_head (WORKERS, false);

    pool_options_t options;
    h_options (&options, head, "badinit");
    options.init_data = (pool_bytes_t){ "hang", 4 };
    options.connect_timeout = 5;
    pool_t *pool = NULL;
    double started = h_now ();
    int rc = pool_open (&pool, &options);
    h_log ("pool_open of an init that hangs: %s after %.1f s: %s", pool_strerror (rc),
           h_now () - started, pool_open_error ());
    H_CHECK (rc == POOL_ENOWORKERS || rc == POOL_EWORKER,
             "pool_open of an init that never returns: %s, want "
             "POOL_ENOWORKERS (or POOL_EWORKER)",
             pool_strerror (rc));
    H_CHECK (pool == NULL, "a failed pool_open left a pool");

    /* The workers stuck in that init serve the next pool. */
    h_options (&options, head, "square");
    options.connect_timeout = h_timeout (20);
    options.min_workers = WORKERS;
    started = h_now ();
    rc = pool_open (&pool, &options);
    h_log ("pool_open of square after it: %s after %.1f s: %s", pool_strerror (rc),
           h_now () - started, rc ? pool_open_error () : "");
    H_CHECK (rc == 0,
             "pool_open of the next pool (min_workers %d, connect_timeout "
             "%.0f s): %s: %s; the workers are still stuck in the hung init?",
             WORKERS, h_timeout (20), pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, WORKERS, h_timeout (20));
    H_CHECK (rc == 0, "the next pool has %d of %d workers: %s", pool_workers_count (pool),
             WORKERS, pool_strerror (rc));

    pool_bytes_t *inputs = fu_inputs (M, "");
    static pool_result_t results[M];
    rc = pool_map (pool, inputs, M, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (size_t i = 0; i < M; i++)
        fu_check_value (&results[i], (long long)i, "next pool");
    pool_results_release (pool, results, M);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_fail_hung_init_gives_workers_back", s_body);
}
