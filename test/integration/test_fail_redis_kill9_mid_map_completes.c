/*  kill -9 of redis-server in the middle of a map: start_node --head
    starts it again (same configuration and password, same append-only
    file), pool-head reconnects on its next command and carries on; the
    map completes with every input exactly once, each the right value,
    and the pool keeps serving.
*/
#include <signal.h>
#include <stdio.h>

#include "fail_util.h"

enum { N = 3000, KILL_AFTER = 500, WORKERS = 2 };

static void
s_body (void)
{
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (WORKERS, false, fast);
    pool_t *pool = h_open (head, "square", WORKERS);

    pool_bytes_t *inputs = fu_inputs (N, "@s5");
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, N, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, N);
    pid_t redis = 0;
    pool_result_t r;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        fu_once_add (&once, &r);
        fu_check_value (&r, (long long)r.index, "map");
        if (once.results == KILL_AFTER) {
            int n = h_children (head->pid, "redis-server", &redis, 1);
            H_CHECK (n == 1, "start_node %s has no redis-server child", head->name);
            h_log ("kill -9 redis-server (pid %d)", (int)redis);
            H_CHECK (kill (redis, SIGKILL) == 0, "kill redis-server");
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    pool_iter_destroy (&iter);
    fu_once_check (&once);

    /* A fresh redis-server runs under start_node, and the head uses it:
       a new pool stores its library there and serves. */
    pid_t now = 0;
    H_CHECK (h_children (head->pid, "redis-server", &now, 1) == 1 && now != redis,
             "no new redis-server under start_node (old pid %d, now %d)", (int)redis,
             (int)now);
    pool_close (&pool);
    pool = h_open (head, "square", WORKERS);
    static pool_result_t results[200];
    rc = pool_map (pool, inputs, 200, results);
    H_CHECK (rc == 0, "pool_map after the Redis restart: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < 200; i++)
        fu_check_value (&results[i], (long long)i, "map after the restart");
    pool_results_release (pool, results, 200);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_fail_redis_kill9_mid_map_completes", s_body);
}
