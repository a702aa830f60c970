/*  A long job in a pool without job_timeout is never killed: a 3 s run,
    three liveness periods of the cluster (heartbeat 300 ms, liveness 3),
    runs exactly once and gives its value; its worker is not declared dead
    while it runs.
*/
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fail_util.h"

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (1, false, fast);
    char dir[300];
    snprintf (dir, sizeof dir, "%s/runs", h_tmpdir ());
    H_CHECK (mkdir (dir, 0700) == 0, "mkdir %s", dir);
    pool_options_t options;
    h_options (&options, head, "tally");
    options.init_data = (pool_bytes_t){ dir, strlen (dir) };
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    pool_bytes_t slow = { "12s3000", 7 };
    pool_result_t result;
    double started = h_now ();
    rc = pool_map (pool, &slow, 1, &result);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    h_log ("the 3 s job took %.1f s", h_now () - started);
    fu_check_value (&result, 12, "slow job");
    H_CHECK (memmem (result.value.data, result.value.size, "#1@", 3),
             "the slow job's value comes from a repeated run: '%.*s'",
             (int)result.value.size, (const char *)result.value.data);
    pool_results_release (pool, &result, 1);
    char marker[400];
    snprintf (marker, sizeof marker, "%s/12.2", dir);
    H_CHECK (access (marker, F_OK) != 0, "the slow job was started twice");
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_long_job_without_timeout_runs_once", s_body);
}
