/*  Pools opened and closed one after the other, and jobs that time out,
    make workers exit on purpose: the node starts their next process at
    once.  It backs off (and logs "worker ID restarts in N ms") only for
    workers that die on their own; 20 open/map/close cycles and 3 maps
    whose every job times out never make it wait, so each next pool gets
    its workers without delays that grow up to 5 s a cycle.  (The node
    logs the first back-off it makes, which fails the test at once.)
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail_util.h"

enum { WORKERS = 2, CYCLES = 20, M = 4, TIMEOUT_ROUNDS = 3 };

static const char *const s_back_off = "restarts in";

/* The first line of the file at path that contains s_back_off, into line;
   false when none (or no such file). */
static bool
s_backed_off (const char *path, char *line, size_t size)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return false;
    bool found = false;
    while (!found && fgets (line, (int)size, f))
        found = strstr (line, s_back_off) != NULL;
    fclose (f);
    if (found)
        line[strcspn (line, "\n")] = 0;
    return found;
}

/* Fails the test when the head's node logged a back-off: its workers' log
   DATA/node.log, or start_node's own log (its stderr, kept by the harness
   as TMP/head.stderr), wherever the supervisor writes it. */
static void
s_check_no_back_off (const h_proc_t *head, const char *when)
{
    char paths[2][400], line[512];
    snprintf (paths[0], sizeof paths[0], "%s/node.log", head->dir);
    snprintf (paths[1], sizeof paths[1], "%s/%s.stderr", h_tmpdir (), head->name);
    for (int i = 0; i < 2; i++)
        H_CHECK (!s_backed_off (paths[i], line, sizeof line),
                 "%s the node delayed a worker's restart with back-off, as for "
                 "a worker that died on its own; %s says: %s",
                 when, paths[i], line);
}

static void
s_square_cycle (const h_proc_t *head, int cycle)
{
    pool_t *pool = h_open (head, "square", WORKERS);
    pool_bytes_t *inputs = fu_inputs (M, "");
    pool_result_t results[M];
    int rc = pool_map (pool, inputs, M, results);
    H_CHECK (rc == 0, "cycle %d: pool_map: %s: %s", cycle, pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < M; i++)
        fu_check_value (&results[i], (long long)i, "cycle");
    pool_results_release (pool, results, M);
    pool_close (&pool);
}

static void
s_timeout_round (const h_proc_t *head, int round)
{
    pool_options_t options;
    h_options (&options, head, "hang");
    options.job_timeout = 0.3;
    options.max_attempts = 1;
    options.min_workers = WORKERS;
    options.connect_timeout = h_timeout (60);
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "round %d: pool_open (hang): %s: %s", round, pool_strerror (rc),
             pool_open_error ());
    static const char *const texts[M] = { "1h", "2h", "3h", "4h" };
    pool_bytes_t inputs[M];
    for (size_t i = 0; i < M; i++)
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    pool_result_t results[M];
    rc = pool_map (pool, inputs, M, results);
    H_CHECK (rc == 0, "round %d: pool_map: %s: %s", round, pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < M; i++)
        H_CHECK (results[i].status == POOL_ETIMEDOUT,
                 "round %d: input '%s': status %d (%s), want POOL_ETIMEDOUT", round,
                 texts[i], results[i].status, pool_strerror (results[i].status));
    pool_results_release (pool, results, M);
    pool_close (&pool);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (WORKERS, false);

    double started = h_now ();
    for (int cycle = 1; cycle <= CYCLES; cycle++) {
        s_square_cycle (head, cycle);
        char when[64];
        snprintf (when, sizeof when, "after %d pool cycles (%.1f s),", cycle,
                  h_now () - started);
        s_check_no_back_off (head, when);
    }
    h_log ("%d open/map/close cycles took %.1f s (%.2f s each)", CYCLES,
           h_now () - started, (h_now () - started) / CYCLES);

    started = h_now ();
    for (int round = 1; round <= TIMEOUT_ROUNDS; round++) {
        s_timeout_round (head, round);
        char when[64];
        snprintf (when, sizeof when, "after %d maps whose jobs all timed out,", round);
        s_check_no_back_off (head, when);
    }
    h_log ("%d maps whose %d jobs all timed out took %.1f s", TIMEOUT_ROUNDS, M,
           h_now () - started);

    /* And the workers serve the next pool. */
    s_square_cycle (head, CYCLES + 1);
    s_check_no_back_off (head, "at the end,");
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_fail_pool_cycles_restart_workers_without_back_off", s_body);
}
