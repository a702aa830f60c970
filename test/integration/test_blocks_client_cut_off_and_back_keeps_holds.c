/*  A client frozen (SIGSTOP) until the head declares it lost (its pool
    closed) and then thawed comes back under the same client id (libpool
    opens its pool again): its holds were only marked gone, and its HELLO
    took them back, so its block is still there after the grace, and
    pool_delete releases it as before.  A client that stayed away past
    the grace would have lost them (test_blocks_killed_client_*). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fail_util.h"
#include "store_util.h"

static h_proc_t *s_head;
static int s_ready_fd, s_go_fd;

/* Puts and deletes a marker, and waits until the sweep took it. */
static void
s_sweep_past (pool_t *pool, const char *text)
{
    uint8_t marker[POOL_HASH_SIZE];
    pool_bytes_t bytes = { text, strlen (text) };
    H_CHECK (pool_put (pool, bytes, marker) == 0, "put marker: %s",
             pool_last_error (pool));
    H_CHECK (pool_delete (pool, marker) == 0, "delete marker: %s",
             pool_last_error (pool));
    double deadline = h_now () + h_timeout (30);
    while (su_block_exists (s_head, marker) && h_now () < deadline)
        usleep (50 * 1000);
    H_CHECK (!su_block_exists (s_head, marker), "the marker was not deleted");
}

/* The client: puts its block, is frozen and thawed, then checks. */
static int
s_client (void *arg)
{
    (void)arg;
    pool_t *pool = h_open (s_head, "square", 1);
    uint8_t kept[POOL_HASH_SIZE];
    pool_bytes_t bytes = { "held by a client cut off a while", 32 };
    H_CHECK (pool_put (pool, bytes, kept) == 0, "put: %s", pool_last_error (pool));
    H_CHECK (write (s_ready_fd, "r", 1) == 1, "write");
    char c;
    H_CHECK (read (s_go_fd, &c, 1) == 1, "read");
    /* A map brings the client back (it opens its pool again). */
    pool_bytes_t input = { "4", 1 };
    pool_result_t result;
    H_CHECK (pool_map (pool, &input, 1, &result) == 0 && h_is_square (&result, 4),
             "a map after the thaw: %s", pool_last_error (pool));
    pool_results_release (pool, &result, 1);
    s_sweep_past (pool, "marker");
    H_CHECK (su_block_exists (s_head, kept),
             "the block went although its client is back");
    H_CHECK (pool_delete (pool, kept) == 0, "delete after coming back: %s",
             pool_last_error (pool));
    s_sweep_past (pool, "marker 2");
    H_CHECK (!su_block_exists (s_head, kept), "the block stayed after its delete");
    pool_close (&pool);
    return 0;
}

static void
s_body (void)
{
    /* The grace outlasts the time the client is away (about 1 s after its
       pool closed); the sweeps below each wait about one grace. */
    const char *extra[] = { FU_FAST_HEARTBEAT, "--block-grace", "3", NULL };
    s_head = h_start_head_with (1, false, extra);
    int ready[2], go[2];
    H_CHECK (pipe (ready) == 0 && pipe (go) == 0, "pipe");
    s_ready_fd = ready[1];
    s_go_fd = go[0];
    pid_t client = h_fork (s_client, NULL);
    close (ready[1]);
    close (go[0]);
    char c;
    H_CHECK (read (ready[0], &c, 1) == 1, "the client died before its put (exit %d)",
             h_wait (client, 10));
    h_log ("SIGSTOP the client until the head closes its pool");
    kill (client, SIGSTOP);
    fu_wait_status (s_head, 1, 1, 0, 20);
    h_log ("SIGCONT the client");
    kill (client, SIGCONT);
    H_CHECK (write (go[1], "g", 1) == 1, "write");
    int code = h_wait (client, 60);
    H_CHECK (code == 0, "the client ended with %d", code);
    close (ready[0]);
    close (go[1]);
}

int
main (void)
{
    return h_main ("test_blocks_client_cut_off_and_back_keeps_holds", s_body);
}
