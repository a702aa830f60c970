/*  kill -9 of one of three block servers under a running cluster: a get
    of a block it held fails with POOL_EIO and a message naming that
    server, a get of a block on another server works, puts of new blocks
    either land on a live server or fail naming the dead one, and a plain
    map (whose pool was open before) still runs.  Once the server runs
    again the head reconnects by itself: a put that failed goes through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fail_util.h"
#include "shards_util.h"

#define BLOCKS 30
#define NEW_BLOCKS 40

static void
s_body (void)
{
    ru_redis_t servers[SU_SERVERS];
    h_proc_t *head = sh_start (servers, 2, NULL);
    pool_t *pool = h_open (head, "square", 2);

    static uint8_t hashes[BLOCKS][POOL_HASH_SIZE];
    int on[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        char text[64];
        int len = snprintf (text, sizeof text, "block %d before the kill", i);
        pool_bytes_t bytes = { text, (size_t)len };
        H_CHECK (pool_put (pool, bytes, hashes[i]) == 0, "put %d: %s", i,
                 pool_last_error (pool));
        on[i] = sh_server_of (servers, hashes[i]);
    }
    int dead = 2, lost = -1, kept = -1;
    for (int i = 0; i < BLOCKS; i++) {
        if (on[i] == dead && lost < 0)
            lost = i;
        if (on[i] != dead && kept < 0)
            kept = i;
    }
    H_CHECK (lost >= 0 && kept >= 0, "the blocks are not on all servers");
    ru_redis_t *victim = &servers[dead];
    ru_kill (victim);

    char want[160];
    snprintf (want, sizeof want, "block store %s failed", victim->name);
    void *data = NULL;
    size_t size = 0;
    double start = h_now ();
    int rc = pool_get (pool, hashes[lost], &data, &size);
    H_CHECK (rc == POOL_EIO, "get of a block on the dead server: %s (%d), want POOL_EIO",
             pool_strerror (rc), rc);
    H_CHECK (strstr (pool_last_error (pool), want), "the error does not name %s: %s",
             victim->name, pool_last_error (pool));
    h_log ("get of a block on the dead server: %s (%.2f s)", pool_last_error (pool),
           h_now () - start);
    rc = pool_get (pool, hashes[kept], &data, &size);
    H_CHECK (rc == 0, "get of a block on a live server: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    free (data);

    /* New blocks: each lands on a live server or fails naming the dead one;
       with 40 of them some map to the dead one. */
    int failed = 0, first_failed = -1;
    for (int i = 0; i < NEW_BLOCKS; i++) {
        char text[64];
        int len = snprintf (text, sizeof text, "block %d after the kill", i);
        pool_bytes_t bytes = { text, (size_t)len };
        uint8_t hash[POOL_HASH_SIZE];
        rc = pool_put (pool, bytes, hash);
        if (rc == 0) {
            int live = 0;
            for (int s = 0; s < SU_SERVERS; s++)
                live += s != dead && ru_has_block (&servers[s], hash);
            H_CHECK (live == 1, "put %d: the block is on %d live servers", i, live);
            continue;
        }
        H_CHECK (rc == POOL_EIO, "put %d: %s, want POOL_EIO", i, pool_strerror (rc));
        H_CHECK (strstr (pool_last_error (pool), want), "put %d: %s does not name %s", i,
                 pool_last_error (pool), victim->name);
        if (first_failed < 0)
            first_failed = i;
        failed++;
    }
    h_log ("%d of %d new blocks failed to go to the dead server", failed, NEW_BLOCKS);
    H_CHECK (failed > 0 && failed < NEW_BLOCKS, "%d of %d puts failed", failed,
             NEW_BLOCKS);

    fu_map_once (pool, 200, "", "a map with a block server dead");

    /* Back: the head reconnects (after at most its 1 s pause). */
    ru_restart (victim);
    char text[64];
    int len = snprintf (text, sizeof text, "block %d after the kill", first_failed);
    pool_bytes_t bytes = { text, (size_t)len };
    uint8_t hash[POOL_HASH_SIZE];
    double deadline = h_now () + h_timeout (20);
    while ((rc = pool_put (pool, bytes, hash)) != 0 && h_now () < deadline)
        usleep (100 * 1000);
    H_CHECK (rc == 0, "put after the server came back: %s", pool_last_error (pool));
    H_CHECK (ru_has_block (victim, hash), "the block is not on %s", victim->name);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_shards_block_server_killed_named_rest_goes_on", s_body);
}
