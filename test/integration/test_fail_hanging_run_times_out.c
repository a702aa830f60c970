/*  job_timeout: a run that never returns is ended by its worker's alarm
    after job_timeout (1 s), requeued, and after max_attempts (3) its input
    gets POOL_ETIMEDOUT ("job timed out after 1 s on 3 attempts"); a run
    that hangs only on its first attempt gets its value from the second.
*/
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fail_util.h"

enum { N = 40, WORKERS = 2 };

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (WORKERS, false, fast);
    char dir[300];
    snprintf (dir, sizeof dir, "%s/markers", h_tmpdir ());
    H_CHECK (mkdir (dir, 0700) == 0, "mkdir %s", dir);

    pool_options_t options;
    h_options (&options, head, "hang");
    options.init_data = (pool_bytes_t){ dir, strlen (dir) };
    options.job_timeout = 1;
    options.max_attempts = 3;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());

    /* 5 hangs for good, 9 and 17 on their first attempt only. */
    static char texts[N][16];
    static pool_bytes_t inputs[N];
    for (size_t i = 0; i < N; i++) {
        const char *suffix = i == 5 ? "h" : (i == 9 || i == 17) ? "~" : "";
        int len = snprintf (texts[i], sizeof texts[i], "%zu%s", i, suffix);
        inputs[i] = (pool_bytes_t){ texts[i], (size_t)len };
    }
    static pool_result_t results[N];
    double started = h_now ();
    rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    h_log ("map with a hanging input took %.1f s", h_now () - started);
    for (size_t i = 0; i < N; i++) {
        if (i != 5) {
            fu_check_value (&results[i], (long long)i, "hang");
            continue;
        }
        H_CHECK (results[i].status == POOL_ETIMEDOUT,
                 "input 5: status %d (%s), want POOL_ETIMEDOUT", results[i].status,
                 pool_strerror (results[i].status));
        H_CHECK (results[i].error && strstr (results[i].error, "timed out")
                     && strstr (results[i].error, "3 attempts"),
                 "input 5: error '%s', want 'job timed out after 1 s on 3 attempts'",
                 results[i].error ? results[i].error : "(null)");
        h_log ("input 5: %s", results[i].error);
    }
    pool_results_release (pool, results, N);
    char marker[400];
    snprintf (marker, sizeof marker, "%s/9", dir);
    H_CHECK (access (marker, F_OK) == 0, "input 9 never hung (no %s)", marker);
    rc = pool_wait_for_workers (pool, WORKERS, h_timeout (30));
    H_CHECK (rc == 0, "the pool has %d of %d workers after the timeouts",
             pool_workers_count (pool), WORKERS);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_hanging_run_times_out", s_body);
}
