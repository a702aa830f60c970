/*  One of three block servers (append-only file) is restarted under a
    running cluster -- SIGTERM, then redis-server again on the same port
    and directory: it comes back with every key it had, every block put
    before is still readable through the head (which reconnects by
    itself), and a new multiply of matrices made before the restart is
    right.  A block deleted while its server was down goes once the
    server is back (the sweep tries again); one on a live server goes
    after the grace as usual. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shards_util.h"

#define BLOCKS 100

/* Reads every block but two (deleted) and checks its bytes; fails the
   test on the first that does not come. */
static void
s_read_all (pool_t *pool, uint8_t hashes[][POOL_HASH_SIZE], int skip1, int skip2,
            const char *when)
{
    for (int i = 0; i < BLOCKS; i++) {
        if (i == skip1 || i == skip2)
            continue;
        void *data = NULL;
        size_t size = 0;
        char want[64];
        int len = snprintf (want, sizeof want, "block %d before the restart", i);
        int rc = pool_get (pool, hashes[i], &data, &size);
        H_CHECK (rc == 0, "%s: get %d: %s: %s", when, i, pool_strerror (rc),
                 pool_last_error (pool));
        H_CHECK (size == (size_t)len && memcmp (data, want, size) == 0,
                 "%s: block %d came back wrong", when, i);
        free (data);
    }
}

static void
s_body (void)
{
    ru_redis_t servers[SU_SERVERS];
    const char *grace[] = { "--block-grace", "1", NULL };
    h_proc_t *head = sh_start (servers, 2, grace);
    pool_options_t options;
    h_options (&options, head, NULL);
    pool_t *pool = NULL;
    int rc = pool_matrix_open (&pool, &options);
    H_CHECK (rc == 0, "pool_matrix_open: %s: %s", pool_strerror (rc), pool_open_error ());

    static uint8_t hashes[BLOCKS][POOL_HASH_SIZE];
    for (int i = 0; i < BLOCKS; i++) {
        char text[64];
        int len = snprintf (text, sizeof text, "block %d before the restart", i);
        pool_bytes_t bytes = { text, (size_t)len };
        H_CHECK (pool_put (pool, bytes, hashes[i]) == 0, "put %d: %s", i,
                 pool_last_error (pool));
    }
    double *a_host = malloc (SH_N * SH_N * sizeof *a_host);
    double *b_host = malloc (SH_N * SH_N * sizeof *b_host);
    H_CHECK (a_host && b_host, "malloc");
    sh_fill (a_host, b_host, 5);
    pool_matrix_t *a = NULL, *b = NULL;
    H_CHECK (pool_matrix_create (pool, &a, a_host, SH_N, SH_N, POOL_FLOAT64, SH_BS) == 0,
             "create a: %s", pool_last_error (pool));
    H_CHECK (pool_matrix_create (pool, &b, b_host, SH_N, SH_N, POOL_FLOAT64, SH_BS) == 0,
             "create b: %s", pool_last_error (pool));
    sh_product_check (pool, a, b, a_host, b_host);

    ru_redis_t *victim = &servers[1];
    long long before = ru_count_keys (victim, "dcpool:*");
    int on_victim = 0;
    for (int i = 0; i < BLOCKS; i++)
        on_victim += sh_server_of (servers, hashes[i]) == 1;
    H_CHECK (on_victim > 0, "no block on %s", victim->name);
    h_log ("restarting %s: %lld keys, %d of the %d blocks", victim->name, before,
           on_victim, BLOCKS);
    int gone = -1, other = -1, live = -1; /* deleted while the server is down */
    for (int i = 0; i < BLOCKS; i++) {
        int s = sh_server_of (servers, hashes[i]);
        if (s == 1 && gone < 0)
            gone = i;
        if (s != 1 && other < 0) {
            other = i;
            live = s;
        }
    }
    ru_stop (victim);
    H_CHECK (pool_delete (pool, hashes[gone]) == 0
                 && pool_delete (pool, hashes[other]) == 0,
             "delete while a block server is down: %s", pool_last_error (pool));
    char log[600];
    snprintf (log, sizeof log, "%s/head.log", head->dir);
    double deadline = h_now () + h_timeout (30);
    while (!h_file_has (log, "not deleted yet") && h_now () < deadline)
        usleep (100 * 1000);
    H_CHECK (h_file_has (log, "not deleted yet"), "the sweep did not try %s",
             victim->name);
    deadline = h_now () + h_timeout (30);
    while (ru_has_block (&servers[live], hashes[other]) && h_now () < deadline)
        usleep (100 * 1000);
    H_CHECK (!ru_has_block (&servers[live], hashes[other]),
             "a deleted block stays on a live server");
    ru_restart (victim);
    long long after = ru_count_keys (victim, "dcpool:*");
    H_CHECK (after == before, "%s had %lld keys, %lld after its restart", victim->name,
             before, after);
    deadline = h_now () + h_timeout (60);
    while (ru_has_block (victim, hashes[gone]) && h_now () < deadline)
        usleep (200 * 1000);
    H_CHECK (!ru_has_block (victim, hashes[gone]),
             "the block deleted while %s was down stays on it", victim->name);

    s_read_all (pool, hashes, gone, other, "after the restart");
    sh_product_check (pool, a, b, a_host, b_host);
    pool_matrix_delete (&a);
    pool_matrix_delete (&b);
    free (a_host);
    free (b_host);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_shards_block_server_restart_loses_nothing", s_body);
}
