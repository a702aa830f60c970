/*  A run that ends its worker with exit(S) -- status 0 included, no
    signal -- is charged an attempt like a crash: after max_attempts (2)
    its input gets POOL_ECRASHED naming the exit status ("... exited with
    status 0 ... on 2 attempts"), every other input its value, and the map
    returns instead of requeueing that input forever.
*/
#include <stdio.h>
#include <string.h>

#include "fail_util.h"

enum { N = 50, K = 7, WORKERS = 2 };

static const h_proc_t *s_head;

/* In a forked client, so that a map that never returns fails the test
   after a bound instead of hanging it: the pool of crash_on with init
   data arg, then one map of N inputs. */
static int
s_exit_map (void *arg)
{
    const char *init = arg;
    pool_options_t options;
    h_options (&options, s_head, "crash_on");
    options.init_data = (pool_bytes_t){ init, strlen (init) };
    options.max_attempts = 2;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, WORKERS, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_for_workers: %s", pool_strerror (rc));

    pool_bytes_t *inputs = fu_inputs (N, "");
    static pool_result_t results[N];
    double started = h_now ();
    rc = pool_map (pool, inputs, N, results);
    h_log ("%s: pool_map returned %s after %.1f s", init, pool_strerror (rc),
           h_now () - started);
    H_CHECK (rc == 0, "%s: pool_map: %s: %s", init, pool_strerror (rc),
             pool_last_error (pool));

    /* "7:exit3" -> "exited with status 3" */
    char want[64];
    snprintf (want, sizeof want, "exited with status %s", strstr (init, ":exit") + 5);
    for (size_t i = 0; i < N; i++) {
        H_CHECK (results[i].index == i, "index %zu at %zu", results[i].index, i);
        if (i != K) {
            fu_check_value (&results[i], (long long)i, init);
            continue;
        }
        H_CHECK (results[i].status == POOL_ECRASHED,
                 "%s: input %zu: status %d (%s), want POOL_ECRASHED", init, i,
                 results[i].status, pool_strerror (results[i].status));
        const char *error = results[i].error ? results[i].error : "(null)";
        H_CHECK (strstr (error, want) && strstr (error, "on 2 attempts"),
                 "%s: input %zu: error '%s', want one with '%s' and "
                 "'on 2 attempts'",
                 init, i, error, want);
        h_log ("%s: input %zu: %s", init, i, error);
    }
    pool_results_release (pool, results, N);

    /* The slots whose workers exited run the pool again. */
    rc = pool_wait_for_workers (pool, WORKERS, h_timeout (30));
    H_CHECK (rc == 0, "%s: after the exits the pool has %d of %d workers: %s", init,
             pool_workers_count (pool), WORKERS, pool_strerror (rc));
    pool_close (&pool);
    return 0;
}

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    s_head = h_start_head_with (WORKERS, false, fast);
    const char *inits[] = { "7:exit0", "7:exit3" };
    for (size_t i = 0; i < sizeof inits / sizeof inits[0]; i++) {
        h_log ("%s: a map of %d inputs in a forked client; it must return "
               "within %.0f s (a forked process that does not finish: the map "
               "hangs)",
               inits[i], N, h_timeout (60));
        pid_t client = h_fork (s_exit_map, (void *)inits[i]);
        int code = h_wait (client, h_timeout (60));
        H_CHECK (code == 0, "%s: the forked client failed (exit %d)", inits[i], code);
    }
    /* A worker whose user code called exit() leaves quietly: no report of
       a dangling socket from CZMQ's exit handler in the workers' log. */
    char path[400], line[512];
    snprintf (path, sizeof path, "%s/node.log", s_head->dir);
    FILE *log = fopen (path, "r");
    H_CHECK (log, "cannot read %s", path);
    while (fgets (line, sizeof line, log))
        H_CHECK (!strstr (line, "dangling"), "%s says: %s", path, line);
    fclose (log);
}

int
main (void)
{
    return h_main ("test_fail_exit_in_run_is_charged_like_a_crash", s_body);
}
