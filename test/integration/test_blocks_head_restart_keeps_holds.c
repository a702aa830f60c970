/*  The holds live in the head's Redis: after kill -9 of `start_node
    --head` and a start on the same data directory, a block the client put
    before is still held by it (the client opened its pool again under
    the same client id), stays past the grace, and pool_delete releases it
    as before.  The hold is written just before the kill: Redis must not
    lose a write it acknowledged. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fail_util.h"
#include "store_util.h"

/* Puts and deletes a marker, and waits until the sweep took it. */
static void
s_sweep_past (h_proc_t *head, pool_t *pool, const char *text)
{
    uint8_t marker[POOL_HASH_SIZE];
    pool_bytes_t bytes = { text, strlen (text) };
    H_CHECK (pool_put (pool, bytes, marker) == 0, "put marker: %s",
             pool_last_error (pool));
    H_CHECK (pool_delete (pool, marker) == 0, "delete marker: %s",
             pool_last_error (pool));
    double deadline = h_now () + h_timeout (20);
    while (su_block_exists (head, marker) && h_now () < deadline)
        usleep (50 * 1000);
    H_CHECK (!su_block_exists (head, marker), "the marker was not deleted");
}

static void
s_body (void)
{
    char port[16];
    snprintf (port, sizeof port, "%d", h_free_port ());
    /* The grace is also how long a lost client has to come back before
       its holds go (lifetimes.h): 4 s, so that a loaded machine's slow
       reconnect after the restart is not taken for a client gone. */
    const char *args[] = { "-p", port, FU_FAST_HEARTBEAT, "--block-grace", "4", NULL };
    const char *again[] = { FU_FAST_HEARTBEAT, "--block-grace", "4", NULL };
    h_proc_t *head = h_start_head_with (1, false, args);
    pool_t *pool = h_open (head, "square", 1);
    uint8_t kept[POOL_HASH_SIZE];
    pool_bytes_t bytes = { "held across a head restart", 26 };
    H_CHECK (pool_put (pool, bytes, kept) == 0, "put: %s", pool_last_error (pool));

    h_log ("kill -9 the head and start it again");
    h_kill (head, SIGKILL);
    head = h_restart_head (head, 1, false, again);
    /* Its Redis went on SIGTERM, writing out what it had acknowledged
       (the hold of the put just before); SIGKILL could lose it when an
       fsync is slow, as on a loaded CI machine. */
    char log[400];
    snprintf (log, sizeof log, "%s/head.log", head->dir);
    H_CHECK (h_file_has (log, "ready to exit"),
             "%s: the first Redis did not shut down cleanly", log);
    /* A map brings the client back (it opens its pool again). */
    pool_bytes_t input = { "5", 1 };
    pool_result_t result;
    H_CHECK (pool_map (pool, &input, 1, &result) == 0 && h_is_square (&result, 5),
             "a map after the restart: %s", pool_last_error (pool));
    pool_results_release (pool, &result, 1);
    H_CHECK (su_block_exists (head, kept), "the block is gone after the restart");
    s_sweep_past (head, pool, "marker");
    H_CHECK (su_block_exists (head, kept), "the block went although its client held it");
    H_CHECK (pool_delete (pool, kept) == 0, "delete after the restart: %s",
             pool_last_error (pool));
    s_sweep_past (head, pool, "marker 2");
    H_CHECK (!su_block_exists (head, kept), "the block stayed after its delete");
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_blocks_head_restart_keeps_holds", s_body);
}
