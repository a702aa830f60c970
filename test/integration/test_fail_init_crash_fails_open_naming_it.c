/*  An init that kills its worker -- SIGSEGV, or exit(0) without a word --
    fails pool_open with POOL_EWORKER as soon as the worker dies, naming
    how it died ("... signal 11 ...", "... status 0 ..."), instead of
    POOL_ENOWORKERS after the whole connect_timeout; the cluster then
    serves the next pool.
*/
#include <stdio.h>
#include <string.h>

#include "fail_util.h"

enum { M = 10 };

static void
s_open_dies (const h_proc_t *head, const char *init, const char *want)
{
    pool_options_t options;
    h_options (&options, head, "badinit");
    options.init_data = (pool_bytes_t){ init, strlen (init) };
    options.connect_timeout = h_timeout (30);
    pool_t *pool = NULL;
    double started = h_now ();
    int rc = pool_open (&pool, &options);
    double took = h_now () - started;
    const char *error = pool_open_error ();
    h_log ("pool_open of an init that dies (%s): %s after %.1f s: %s", init,
           pool_strerror (rc), took, error);
    H_CHECK (rc == POOL_EWORKER,
             "%s: pool_open: %s after %.1f s, want "
             "POOL_EWORKER: %s",
             init, pool_strerror (rc), took, error);
    H_CHECK (pool == NULL, "a failed pool_open left a pool");
    H_CHECK (took < h_timeout (15),
             "%s: pool_open failed only after %.1f s "
             "(connect_timeout %.0f s)",
             init, took, h_timeout (30));
    H_CHECK (strstr (error, want), "%s: pool_open_error '%s' does not say '%s'", init,
             error, want);
}

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (1, false, fast);
    s_open_dies (head, "segv", "signal 11");
    s_open_dies (head, "exit0", "status 0");

    pool_t *pool = h_open (head, "square", 1);
    pool_bytes_t *inputs = fu_inputs (M, "");
    static pool_result_t results[M];
    int rc = pool_map (pool, inputs, M, results);
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
    return h_main ("test_fail_init_crash_fails_open_naming_it", s_body);
}
