/*  start_node --head --block-store URL,URL,URL with three redis-servers:
    300 blocks put by a client land on all three in about equal shares
    (each between 20% and 47%), none in the head's own Redis (the pool's
    library and init data neither), each is read back, a block-matrix
    multiply over them is right, start_node --status shows each server's
    memory and block count, and once deleted the blocks go from the
    servers after the grace (the pool's library and init data once it
    closes).  A 9 MiB block is chunked on the one server its name maps
    to, chunks and all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool_matrix.h"
#include "shards_util.h"
#include "store_util.h"

#define BLOCKS 300

/* Polls until the servers hold want blocks in all (or 30 s): the count. */
static long long
s_wait_blocks (ru_redis_t servers[SU_SERVERS], long long want)
{
    double deadline = h_now () + h_timeout (30);
    long long n;
    while (true) {
        n = 0;
        for (int s = 0; s < SU_SERVERS; s++)
            n += ru_count_keys (&servers[s], "dcpool:block:*");
        if (n == want || h_now () > deadline)
            break;
        usleep (100 * 1000);
    }
    h_log ("%lld blocks on the servers (want %lld)", n, want);
    return n;
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
    int on[SU_SERVERS] = { 0 };
    for (int i = 0; i < BLOCKS; i++) {
        char text[64];
        int len = snprintf (text, sizeof text, "block %d of the spread test", i);
        pool_bytes_t bytes = { text, (size_t)len };
        H_CHECK (pool_put (pool, bytes, hashes[i]) == 0, "put %d: %s", i,
                 pool_last_error (pool));
    }
    for (int i = 0; i < BLOCKS; i++)
        on[sh_server_of (servers, hashes[i])]++;
    for (int s = 0; s < SU_SERVERS; s++) {
        h_log ("%s has %d of the %d blocks", servers[s].name, on[s], BLOCKS);
        H_CHECK (on[s] >= BLOCKS * 20 / 100 && on[s] <= BLOCKS * 47 / 100,
                 "%s has %d of %d blocks: not about a third", servers[s].name, on[s],
                 BLOCKS);
    }
    H_CHECK (su_count_keys (head, "dcpool:block:*") == 0
                 && su_count_keys (head, "dcpool:chunk*") == 0,
             "blocks in the head's own Redis");
    for (int i = 0; i < BLOCKS; i++) {
        void *data = NULL;
        size_t size = 0;
        char want[64];
        int len = snprintf (want, sizeof want, "block %d of the spread test", i);
        H_CHECK (pool_get (pool, hashes[i], &data, &size) == 0, "get %d: %s", i,
                 pool_last_error (pool));
        H_CHECK (size == (size_t)len && memcmp (data, want, size) == 0,
                 "block %d came back wrong", i);
        free (data);
    }
    sh_multiply_check (pool, 1);

    /* A big block: its manifest and its 3 chunks on one server. */
    size_t big_size = 9u << 20;
    unsigned char *big = malloc (big_size);
    H_CHECK (big, "malloc");
    for (size_t i = 0; i < big_size; i++)
        big[i] = (unsigned char)(i * 7 + i / 4096);
    uint8_t big_hash[POOL_HASH_SIZE];
    pool_bytes_t big_bytes = { big, big_size };
    H_CHECK (pool_put (pool, big_bytes, big_hash) == 0, "put 9 MiB: %s",
             pool_last_error (pool));
    int big_on = sh_server_of (servers, big_hash);
    for (int s = 0; s < SU_SERVERS; s++) {
        long long chunks = ru_count_keys (&servers[s], "dcpool:chunk:*");
        H_CHECK (chunks == (s == big_on ? 3 : 0), "%lld chunks on %s", chunks,
                 servers[s].name);
    }
    void *back = NULL;
    size_t back_size = 0;
    H_CHECK (pool_get (pool, big_hash, &back, &back_size) == 0, "get 9 MiB: %s",
             pool_last_error (pool));
    H_CHECK (back_size == big_size && memcmp (back, big, big_size) == 0,
             "the 9 MiB block came back wrong");
    free (back);
    free (big);
    H_CHECK (pool_delete (pool, big_hash) == 0, "delete 9 MiB: %s",
             pool_last_error (pool));

    char *status = sh_status (head);
    h_log ("status:\n%s", status);
    for (int s = 0; s < SU_SERVERS; s++) {
        char want[160];
        snprintf (want, sizeof want, "block server %s: used_memory ", servers[s].name);
        const char *line = strstr (status, want);
        H_CHECK (line, "--status does not show %s", servers[s].name);
        long long blocks = -1;
        const char *comma = strstr (line, "), ");
        H_CHECK (comma && sscanf (comma, "), %lld blocks", &blocks) == 1,
                 "no block count for %s", servers[s].name);
        H_CHECK (blocks >= on[s], "--status says %lld blocks on %s, it has at least %d",
                 blocks, servers[s].name, on[s]);
    }
    free (status);
    for (int i = 0; i < BLOCKS; i++)
        H_CHECK (pool_delete (pool, hashes[i]) == 0, "delete %d: %s", i,
                 pool_last_error (pool));
    /* The grace (1 s) over, only the open pool's library and init data
       are left; then nothing. */
    H_CHECK (s_wait_blocks (servers, 2) == 2, "blocks left after the deletes");
    pool_close (&pool);
    H_CHECK (s_wait_blocks (servers, 0) == 0, "blocks left after the pool closed");
    for (int s = 0; s < SU_SERVERS; s++)
        H_CHECK (ru_count_keys (&servers[s], "dcpool:chunk*") == 0, "chunks left on %s",
                 servers[s].name);
}

int
main (void)
{
    return h_main ("test_shards_300_blocks_spread_over_three_servers", s_body);
}
