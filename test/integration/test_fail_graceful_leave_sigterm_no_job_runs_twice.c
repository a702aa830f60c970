/*  SIGTERM to a node during a map of slow jobs: its workers finish the
    job in hand, send the result and leave; the head requeues only the
    jobs they had not started.  The map completes, every input exactly
    once with the right value, and no input ran twice (each run leaves a
    file DIR/N.K, K the run number; the tally worker returns K).
*/
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fail_util.h"

enum { N = 300, LEAVE_AFTER = 100, WORKERS = 2 };

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, fast);
    h_proc_t *leaving = h_start_node (head, WORKERS);
    h_proc_t *staying = h_start_node (head, WORKERS);
    (void)staying;
    char dir[300];
    snprintf (dir, sizeof dir, "%s/runs", h_tmpdir ());
    H_CHECK (mkdir (dir, 0700) == 0, "mkdir %s", dir);
    pool_options_t options;
    h_options (&options, head, "tally");
    options.init_data = (pool_bytes_t){ dir, strlen (dir) };
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_wait_for_workers (pool, 2 * WORKERS, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_for_workers: %s", pool_strerror (rc));

    pool_bytes_t *inputs = fu_inputs (N, "s40");
    pool_iter_t *iter = NULL;
    rc = pool_imap_unordered (pool, inputs, N, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, N);
    bool left = false;
    pool_result_t r;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        fu_once_add (&once, &r);
        fu_check_value (&r, (long long)r.index, "map");
        H_CHECK (memmem (r.value.data, r.value.size, "#1@", 3),
                 "input %zu ran more than once: '%.*s'", r.index, (int)r.value.size,
                 (const char *)r.value.data);
        if (once.results == LEAVE_AFTER) {
            /* SIGTERM, and wait for the clean exit (0) it must make. */
            h_stop (leaving);
            left = true;
            h_log ("%s left after %zu results", leaving->name, once.results);
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    H_CHECK (left, "the map ended before the node left");
    pool_iter_destroy (&iter);
    fu_once_check (&once);

    /* Every input ran exactly once: N.1 for each, no N.2 anywhere. */
    size_t runs = 0, repeats = 0;
    DIR *d = opendir (dir);
    H_CHECK (d, "opendir %s", dir);
    for (struct dirent *de; (de = readdir (d));) {
        if (de->d_name[0] == '.')
            continue;
        runs++;
        const char *dot = strrchr (de->d_name, '.');
        if (dot && strcmp (dot, ".1") != 0) {
            repeats++;
            h_log ("ran again: %s", de->d_name);
        }
    }
    closedir (d);
    H_CHECK (repeats == 0 && runs == N, "%zu runs for %d inputs, %zu repeated", runs, N,
             repeats);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_graceful_leave_sigterm_no_job_runs_twice", s_body);
}
