/*  Locality (issue 16) across a head restart: kill -9 of `start_node
    --head` (its pool-head and Redis with it) and a restart on the same
    port and directory leave the node's worker with its pool and its
    block cache, but the new head knows none of its blocks; the worker
    says its whole cache again when it connects, so the head knows where
    the blocks are without the worker fetching anything. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fail_util.h"

#define NBLOCKS 2

/*  Holdings (block, worker) the head knows, from start_node --status;
    -1 when it does not answer. */
static long long
s_holdings (const h_proc_t *head)
{
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *args[]
        = { "--status", "-a", "127.0.0.1", "-p", port, "-r", h_password (), NULL };
    char *out = NULL;
    h_run_start_node (args, h_timeout (30), &out);
    const char *line = out ? strstr (out, "locality: ") : NULL;
    long long holdings = -1;
    if (line)
        sscanf (line, "locality: wait %*d ms, %*d blocks held by workers (%lld",
                &holdings);
    free (out);
    return holdings;
}

/*  Polls until the head knows want holdings (30 s). */
static void
s_wait_holdings (const h_proc_t *head, long long want, const char *when)
{
    double deadline = h_now () + h_timeout (30);
    long long have;
    while ((have = s_holdings (head)) != want && h_now () < deadline) {
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep (&ts, NULL);
    }
    H_CHECK (have == want, "%s the head knows %lld holdings, want %lld", when, have,
             want);
}

static void
s_body (void)
{
    char port[16];
    snprintf (port, sizeof port, "%d", h_free_port ());
    const char *args[] = { "-p", port, FU_FAST_HEARTBEAT, NULL };
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, args);
    h_start_node (head, 1);
    pool_t *pool = h_open (head, "blockreader", 1);

    char input[512] = "0 -";
    uint8_t hashes[NBLOCKS][POOL_HASH_SIZE];
    for (int k = 0; k < NBLOCKS; k++) {
        char bytes[4096];
        memset (bytes, 'a' + k, sizeof bytes);
        H_CHECK (pool_put (pool, (pool_bytes_t){ bytes, sizeof bytes }, hashes[k]) == 0,
                 "pool_put: %s", pool_last_error (pool));
        size_t at = strlen (input);
        input[at++] = ' ';
        for (int i = 0; i < POOL_HASH_SIZE; i++)
            at += (size_t)snprintf (input + at, 3, "%02x", hashes[k][i]);
    }
    pool_bytes_t job = { input, strlen (input) };
    pool_future_t *f = NULL;
    H_CHECK (pool_submit (pool, job, &f) == 0, "submit: %s", pool_last_error (pool));
    H_CHECK (pool_future_wait (f, h_timeout (60)) == 0, "the first job did not finish");
    pool_future_destroy (&f);
    s_wait_holdings (head, NBLOCKS, "after the worker read the blocks");

    h_kill (head, SIGKILL);
    head = h_restart_head (head, 0, true, fast);
    /* The client opens its pool again; the worker, back with its cache,
       reads the blocks from it (no change to report) and answers. */
    H_CHECK (pool_submit_with (pool, job, (const uint8_t (*)[POOL_HASH_SIZE])hashes,
                               NBLOCKS, &f)
                 == 0,
             "submit after the restart: %s", pool_last_error (pool));
    H_CHECK (pool_future_wait (f, h_timeout (90)) == 0,
             "the job after the restart did not finish");
    pool_result_t r;
    H_CHECK (pool_future_result (f, &r) == 0 && r.status == 0, "job failed: %s",
             r.error ? r.error : "?");
    pool_future_destroy (&f);
    s_wait_holdings (head, NBLOCKS, "after the restart");
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_locality_blocks_known_again_after_head_restart", s_body);
}
