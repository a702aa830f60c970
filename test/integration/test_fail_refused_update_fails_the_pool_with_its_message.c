/*  An update that every worker refuses (echo_update's handle_update fails
    "update refused: custom" on "refuse", without dying) fails the pool:
    the next map returns POOL_EWORKER with the workers' own message in
    pool_last_error, no job runs as if the update had been applied, and
    the cluster serves the next pool.
*/
#include <stdio.h>
#include <string.h>

#include "fail_util.h"

enum { N = 20, M = 10, WORKERS = 2 };

static const h_proc_t *s_head;

/* The LAST field of an echo_update output "LAST|WORKER_ID|HISTORY" is
   text. */
static bool
s_last_is (const pool_result_t *result, const char *text)
{
    size_t len = strlen (text);
    return result->value.size > len && memcmp (result->value.data, text, len) == 0
           && ((const char *)result->value.data)[len] == '|';
}

/* In a forked client, so that a map that never returns fails the test
   after a bound instead of hanging it. */
static int
s_refused (void *arg)
{
    (void)arg;
    pool_t *pool = h_open (s_head, "echo_update", WORKERS);
    static pool_bytes_t inputs[N];
    static pool_result_t results[N];
    for (size_t i = 0; i < N; i++)
        inputs[i] = (pool_bytes_t){ "x", 1 };

    int rc = pool_update_workers (pool, (pool_bytes_t){ "fine", 4 });
    H_CHECK (rc == 0, "first update: %s", pool_strerror (rc));
    rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "map after a good update: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < N; i++)
        H_CHECK (results[i].status == 0 && s_last_is (&results[i], "fine"),
                 "input %zu after the good update: status %d (%s), '%.*s'", i,
                 results[i].status, pool_strerror (results[i].status),
                 results[i].status == 0 ? (int)results[i].value.size : 0,
                 results[i].status == 0 ? (const char *)results[i].value.data : "");
    pool_results_release (pool, results, N);

    rc = pool_update_workers (pool, (pool_bytes_t){ "refuse", 6 });
    h_log ("pool_update_workers (refuse): %s", pool_strerror (rc));
    H_CHECK (rc == 0 || rc == POOL_EWORKER,
             "pool_update_workers (refuse): %s, "
             "want OK or POOL_EWORKER",
             pool_strerror (rc));
    /* A map refused at once (the pool already failed) leaves results as
       they are: none of them says it ran. */
    for (size_t i = 0; i < N; i++)
        results[i] = (pool_result_t){ .index = i, .status = POOL_EWORKER };
    double started = h_now ();
    rc = pool_map (pool, inputs, N, results);
    const char *error = pool_last_error (pool);
    size_t ran = 0;
    for (size_t i = 0; i < N; i++)
        ran += results[i].status == 0;
    h_log ("map after the refused update: %s after %.1f s: '%s'; %zu of %d "
           "inputs ran (the first: '%.*s')",
           pool_strerror (rc), h_now () - started, error, ran, N,
           results[0].status == 0 ? (int)results[0].value.size : 0,
           results[0].status == 0 ? (const char *)results[0].value.data : "");
    H_CHECK (rc == POOL_EWORKER,
             "map after an update every worker refuses: %s, "
             "want POOL_EWORKER (%zu of %d inputs ran without the update)",
             pool_strerror (rc), ran, N);
    H_CHECK (strstr (error, "update refused: custom"),
             "pool_last_error '%s' does not give the workers' message "
             "'update refused: custom'",
             error);
    for (size_t i = 0; i < N; i++)
        H_CHECK (results[i].status != 0 || !s_last_is (&results[i], "refuse"),
                 "input %zu ran on a worker that shows the refused update as "
                 "applied: '%.*s'",
                 i, (int)results[i].value.size, (const char *)results[i].value.data);
    pool_results_release (pool, results, N);
    pool_close (&pool);
    return 0;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (WORKERS, false);
    s_head = head;
    h_log ("the echo_update pool in a forked client; it must finish within "
           "%.0f s (a forked process that does not finish: a map hangs)",
           h_timeout (60));
    pid_t client = h_fork (s_refused, NULL);
    int code = h_wait (client, h_timeout (60));
    H_CHECK (code == 0, "the forked client failed (exit %d)", code);

    /* The workers that refused it serve the next pool. */
    pool_t *pool = h_open (head, "square", WORKERS);
    pool_bytes_t *squares = fu_inputs (M, "");
    static pool_result_t values[M];
    int rc = pool_map (pool, squares, M, values);
    H_CHECK (rc == 0, "map on the next pool: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < M; i++)
        fu_check_value (&values[i], (long long)i, "next pool");
    pool_results_release (pool, values, M);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_fail_refused_update_fails_the_pool_with_its_message", s_body);
}
