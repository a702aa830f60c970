/*  kill -9 of a client with 10,000 jobs queued at the head (two pools of
    5,000 slow jobs): the head hears nothing from it for liveness
    heartbeats, closes its pools, drops their queued jobs and releases
    their workers (fresh processes); another client's pool then gets every
    worker and its map completes.
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fail_util.h"

enum { PER_POOL = 5000, WORKERS = 2, M = 300 };

static const h_proc_t *s_head;
static int s_ready_fd;

/* The doomed client: two pools, 5,000 jobs each, then it waits to die. */
static int
s_client (void *arg)
{
    (void)arg;
    pool_t *pools[2] = { NULL, NULL };
    pool_iter_t *iters[2] = { NULL, NULL };
    pool_bytes_t *inputs = fu_inputs (PER_POOL, "s50");
    for (int i = 0; i < 2; i++) {
        pools[i] = h_open (s_head, "square", 1);
        int rc = pool_imap_unordered (pools[i], inputs, PER_POOL, &iters[i]);
        H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    }
    /* One result from each: the jobs are at the head and running. */
    for (int i = 0; i < 2; i++) {
        pool_result_t r;
        int rc = pool_iter_next (iters[i], &r);
        H_CHECK (rc == 1, "pool_iter_next: %s", pool_strerror (rc));
    }
    H_CHECK (write (s_ready_fd, "r", 1) == 1, "write");
    while (true)
        pause ();
    return 0;
}

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (WORKERS, false, fast);
    s_head = head;
    int pipefd[2];
    H_CHECK (pipe (pipefd) == 0, "pipe");
    s_ready_fd = pipefd[1];
    pid_t client = h_fork (s_client, NULL);
    close (pipefd[1]);
    char c;
    H_CHECK (read (pipefd[0], &c, 1) == 1,
             "the doomed client died before its "
             "jobs ran (exit %d)",
             h_wait (client, 10));
    close (pipefd[0]);
    int nodes, workers, pools;
    fu_status (head, &nodes, &workers, &pools);
    H_CHECK (pools == 2, "the head has %d pools open, want the client's 2", pools);
    h_log ("kill -9 the client (pid %d) with its jobs queued", (int)client);
    kill (client, SIGKILL);
    int code = h_wait (client, 10);
    H_CHECK (code == 128 + SIGKILL, "the client ended with %d", code);

    /* Its pools are closed (no pools left), and every worker serves ours. */
    fu_wait_status (head, 1, WORKERS, 0, 30);
    pool_t *pool = h_open (head, "square", WORKERS);
    pool_bytes_t *inputs = fu_inputs (M, "@s5");
    static pool_result_t results[M];
    int rc = pool_map (pool, inputs, M, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    char ids[WORKERS][128];
    int distinct = 0;
    for (size_t i = 0; i < M; i++) {
        fu_check_value (&results[i], (long long)i, "map");
        char id[128];
        fu_worker_of (&results[i], id, sizeof id);
        bool known = false;
        for (int k = 0; k < distinct; k++)
            known |= strcmp (ids[k], id) == 0;
        if (!known && distinct < WORKERS)
            snprintf (ids[distinct++], sizeof ids[0], "%s", id);
    }
    H_CHECK (distinct == WORKERS, "the map ran on %d workers, want %d", distinct,
             WORKERS);
    pool_results_release (pool, results, M);
    fu_status (head, &nodes, &workers, &pools);
    H_CHECK (pools == 1, "the head has %d pools open, want 1", pools);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_client_kill9_workers_serve_next_pool", s_body);
}
