/*  A cancelled run that ignores the cancellation (sleeps 60 s) is killed
    after the pool's grace and its worker replaced (a new process; the
    node's log says why), and the next map runs on the fresh worker; a
    run that looks at pool_worker_cancelled returns early and its worker
    is not killed (the next map runs in the same process).
*/
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cancel_util.h"

enum { WORKERS = 2, MAP = 40 };
#define GRACE 0.5

/* The node's workers, once there are WORKERS alive: their pids. */
static void
s_workers (const h_proc_t *head, pid_t pids[WORKERS])
{
    pid_t found[8];
    double deadline = h_now () + h_timeout (30);
    int n;
    while ((n = fu_workers (head, found, 8)) != WORKERS) {
        H_CHECK (h_now () < deadline, "%d pool-worker processes, want %d", n, WORKERS);
        usleep (10000);
    }
    memcpy (pids, found, sizeof found[0] * WORKERS);
}

static bool
s_alive (pid_t pid)
{
    return kill (pid, 0) == 0;
}

/* The pid in the marker file "run-PID-K-<input>" of the run of input. */
static pid_t
s_runner (const char *dir, const char *input)
{
    char part[64];
    snprintf (part, sizeof part, "-%s", input);
    size_t len = strlen (part);
    cu_wait_files (dir, part, 1, 30);
    DIR *d = opendir (dir);
    H_CHECK (d, "opendir %s", dir);
    pid_t pid = -1;
    struct dirent *entry;
    while ((entry = readdir (d))) {
        size_t n = strlen (entry->d_name);
        if (n > len && strcmp (entry->d_name + n - len, part) == 0)
            pid = (pid_t)atoi (entry->d_name + 4);
    }
    closedir (d);
    H_CHECK (pid > 0, "no marker of the run of %s", input);
    return pid;
}

/* An unordered iterator of a quick input and the given one (one for each
   worker): takes the first result, waits until the second runs, cancels
   the iterator and checks the second's result is POOL_ECANCELED.
   Returns the pid of the process that ran the second. */
static pid_t
s_cancel_one (pool_t *pool, const char *dir, const char *input)
{
    pool_bytes_t *inputs = cu_inputs (2, input);
    inputs[0] = (pool_bytes_t){ "0", 1 };
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, 2, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    pool_result_t result;
    rc = pool_iter_next (iter, &result);
    H_CHECK (rc == 1 && result.status == 0 && result.index == 0,
             "the quick input: %d, index %zu, status %d", rc, result.index,
             result.status);
    pid_t runner = s_runner (dir, input);
    rc = pool_iter_cancel (iter);
    H_CHECK (rc == 0, "pool_iter_cancel: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    size_t taken = 0;
    size_t done = cu_drain_cancelled (iter, 2, input, &taken, 1);
    H_CHECK (done == 0, "the cancelled run of '%s' gave a value", input);
    pool_iter_destroy (&iter);
    return runner;
}

/* Maps MAP quick inputs; true when one of them ran in process pid. */
static bool
s_map_uses (pool_t *pool, pid_t pid, pid_t avoid)
{
    pool_bytes_t *inputs = cu_inputs (MAP, "20");
    pool_result_t results[MAP];
    int rc = pool_map (pool, inputs, MAP, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    bool used = false;
    for (size_t i = 0; i < MAP; i++) {
        H_CHECK (results[i].status == 0, "input %zu: status %d", i, results[i].status);
        pid_t ran = cu_pid_of (&results[i]);
        H_CHECK (ran != avoid, "input %zu ran in the killed worker %d", i, (int)avoid);
        used |= ran == pid;
    }
    pool_results_release (pool, results, MAP);
    return used;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (WORKERS, false);
    const char *dir = cu_dir ("markers");
    pool_t *pool = cu_open (head, dir, GRACE, 3, WORKERS);
    pid_t before[WORKERS];
    s_workers (head, before);

    /* Ignores the cancellation: killed after the grace, replaced. */
    pid_t stuck = s_cancel_one (pool, dir, "60000");
    double deadline = h_now () + h_timeout (30);
    while (s_alive (stuck)) {
        H_CHECK (h_now () < deadline, "worker %d still runs 30 s after the cancel",
                 (int)stuck);
        usleep (10000);
    }
    pid_t after[WORKERS];
    s_workers (head, after);
    pid_t fresh = after[0] == before[0] || after[0] == before[1] ? after[1] : after[0];
    H_CHECK (fresh != before[0] && fresh != before[1], "no fresh worker");
    H_CHECK (pool_wait_for_workers (pool, WORKERS, h_timeout (30)) == 0,
             "the pool has %d of %d workers", pool_workers_count (pool), WORKERS);
    bool used = false;
    for (int k = 0; k < 10 && !used; k++)
        used = s_map_uses (pool, fresh, stuck);
    H_CHECK (used, "no map ran on the fresh worker %d", (int)fresh);
    char log[400];
    snprintf (log, sizeof log, "%s/head.stderr", h_tmpdir ());
    H_CHECK (h_file_has (log, "was cancelled and still runs after the grace"),
             "the node's log does not say why it killed the worker (%s)", log);
    h_log ("worker %d killed after the grace, %d serves the next map", (int)stuck,
           (int)fresh);

    /* Looks at pool_worker_cancelled: returns early, kept. */
    pid_t polite = s_cancel_one (pool, dir, "60000c");
    used = false;
    for (int k = 0; k < 10 && !used; k++)
        used = s_map_uses (pool, polite, -1);
    H_CHECK (used, "no map ran on worker %d after it returned early", (int)polite);
    H_CHECK (s_alive (polite), "the worker that returned early was replaced");
    pid_t last[WORKERS];
    s_workers (head, last);
    for (int k = 0; k < WORKERS; k++)
        H_CHECK (last[k] == after[0] || last[k] == after[1],
                 "worker %d is new: one was replaced", (int)last[k]);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_cancel_ignoring_run_killed_polling_run_kept", s_body);
}
