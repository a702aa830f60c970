/*  kill -9 of pool-head between maps: start_node starts it again, and the
    workers that had the open pool loaded are not thrown away.  Each comes
    back, waits for the pool's client to open the pool again, and serves
    it with its library, init and updates as they were: no worker process
    is restarted, the slow init (counted on disk) does not run again, and
    the updates the client replays are not applied a second time (every
    job still sees exactly "a,b").
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail_util.h"

enum { WORKERS = 2, N = 200 };

static int
s_pid_cmp (const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

/* The node's worker pids, sorted, into out[WORKERS]. */
static void
s_worker_pids (const h_proc_t *node, pid_t out[WORKERS])
{
    int n = fu_workers (node, out, WORKERS);
    H_CHECK (n == WORKERS, "the node has %d pool-worker processes, not %d", n, WORKERS);
    qsort (out, WORKERS, sizeof *out, s_pid_cmp);
}

/* Maps N inputs: every job saw "b" last and exactly the history "a,b". */
static void
s_check_map (pool_t *pool, const char *what)
{
    static pool_result_t results[N];
    int rc = pool_map (pool, fu_inputs (N, ""), N, results);
    H_CHECK (rc == 0, "%s: pool_map: %s: %s", what, pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < N; i++) {
        char text[512];
        size_t size = results[i].value.size < sizeof text - 1 ? results[i].value.size
                                                              : sizeof text - 1;
        memcpy (text, results[i].value.data, size);
        text[size] = 0;
        H_CHECK (results[i].status == 0, "%s: input %zu failed: %s", what, i, text);
        const char *first = strchr (text, '|');
        const char *second = first ? strchr (first + 1, '|') : NULL;
        H_CHECK (second && strncmp (text, "b|", 2) == 0
                     && strcmp (second + 1, "a,b") == 0,
                 "%s: input %zu saw \"%s\", not the last update b and the history a,b",
                 what, i, text);
    }
    pool_results_release (pool, results, N);
}

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, fast);
    h_proc_t *node = h_start_node (head, WORKERS);

    char count[400], init[420];
    snprintf (count, sizeof count, "%s/inits", h_tmpdir ());
    snprintf (init, sizeof init, "count:%s", count);
    pool_options_t options;
    h_options (&options, head, "echo_update");
    options.init_data = (pool_bytes_t){ init, strlen (init) };
    options.min_workers = WORKERS;
    options.connect_timeout = h_timeout (30);
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    H_CHECK (pool_update_workers (pool, (pool_bytes_t){ "a", 1 }) == 0, "update a");
    H_CHECK (pool_update_workers (pool, (pool_bytes_t){ "b", 1 }) == 0, "update b");
    s_check_map (pool, "before the restart");
    H_CHECK (fu_count_lines (count) == WORKERS, "init ran %d times for %d workers",
             fu_count_lines (count), WORKERS);
    pid_t before[WORKERS];
    s_worker_pids (node, before);

    pid_t heads[4];
    int n = h_children (head->pid, "pool-head", heads, 4);
    H_CHECK (n == 1, "start_node %s has %d pool-head children", head->name, n);
    h_log ("kill -9 pool-head (pid %d)", (int)heads[0]);
    H_CHECK (kill (heads[0], SIGKILL) == 0, "kill pool-head");

    /* The next call finds the head restarted: the pool is opened again,
       the updates replayed, and the workers come back to it. */
    double t0 = h_now ();
    s_check_map (pool, "after the restart");
    h_log ("the pool served again %.2f s after the kill", h_now () - t0);
    H_CHECK (pool_wait_for_workers (pool, WORKERS, h_timeout (30)) == 0,
             "the pool has %d workers after the restart", pool_workers_count (pool));
    s_check_map (pool, "with its workers back");

    pid_t after[WORKERS];
    s_worker_pids (node, after);
    for (int i = 0; i < WORKERS; i++)
        H_CHECK (before[i] == after[i],
                 "worker processes were restarted across the head restart "
                 "(pid %d before is gone)",
                 (int)before[i]);
    int inits = fu_count_lines (count);
    h_log ("init ran %d times for %d workers across a head restart", inits, WORKERS);
    H_CHECK (inits == WORKERS,
             "init ran %d times for %d workers: workers loaded the pool again "
             "instead of taking it back",
             inits, WORKERS);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_head_restart_keeps_loaded_workers", s_body);
}
