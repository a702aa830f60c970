/*  pool-head frozen with SIGSTOP for longer than its peers' liveness: when
    it wakes up it does not count its own gap against its peers, so it
    does not declare its clients dead and close their pools at once (it
    used to: "client ... missed heartbeats: closing its 1 pools" on
    wake-up).  The client's pool serves a map afterwards, and head.log
    has no such line.
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fail_util.h"

enum { N = 200 };

static void
s_map (pool_t *pool, const char *what)
{
    pool_bytes_t *inputs = fu_inputs (N, "");
    static pool_result_t results[N];
    int rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "%s: pool_map: %s: %s", what, pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < N; i++)
        fu_check_value (&results[i], (long long)i, what);
    pool_results_release (pool, results, N);
}

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (2, false, fast);
    pool_t *pool = h_open (head, "square", 2);
    s_map (pool, "before the freeze");

    pid_t pids[4];
    int found = h_children (head->pid, "pool-head", pids, 4);
    H_CHECK (found == 1, "start_node runs %d pool-head processes, want 1", found);
    h_log ("freezing pool-head (pid %d) for 2.5 s; liveness is 0.9 s", (int)pids[0]);
    kill (pids[0], SIGSTOP);
    /* Time itself is the point here: a freeze of a set length. */
    double until = h_now () + 2.5;
    while (h_now () < until)
        usleep (50000);
    kill (pids[0], SIGCONT);

    s_map (pool, "after the freeze");
    pool_close (&pool);

    char path[400], line[512];
    snprintf (path, sizeof path, "%s/head.log", head->dir);
    FILE *log = fopen (path, "r");
    H_CHECK (log, "cannot read %s", path);
    while (fgets (line, sizeof line, log))
        H_CHECK (!(strstr (line, "client") && strstr (line, "missed heartbeats")),
                 "the head dropped its client after its own freeze: %s", line);
    fclose (log);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_fail_head_frozen_does_not_drop_its_clients", s_body);
}
