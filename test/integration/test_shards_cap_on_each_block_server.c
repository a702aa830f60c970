/*  --store-max-memory with --block-store: the cap is on each block server
    (they hold the bytes), not on the head's Redis nor on their sum.
    Three servers capped at 4 MiB each take 256 KiB blocks until puts are
    refused with POOL_ENOSPACE and the figures; by then the servers hold
    more than one cap's worth in all, none holds more than its own cap,
    every block accepted reads back whole, and start_node --status names
    the cap per server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shards_util.h"

#define BLOCK_SIZE (256 * 1024)
#define TRIES 120
#define CAP (4 * 1024 * 1024)

static void
s_body (void)
{
    ru_redis_t servers[SU_SERVERS];
    const char *cap[] = { "--store-max-memory", "4M", NULL };
    h_proc_t *head = sh_start (servers, 1, cap);
    pool_t *pool = h_open (head, "square", 1);

    static uint8_t hashes[TRIES][POOL_HASH_SIZE];
    static bool stored[TRIES];
    uint8_t *bytes = malloc (BLOCK_SIZE);
    H_CHECK (bytes, "malloc");
    int accepted = 0, refused = 0;
    for (int i = 0; i < TRIES; i++) {
        memset (bytes, i + 1, BLOCK_SIZE);
        int rc = pool_put (pool, (pool_bytes_t){ bytes, BLOCK_SIZE }, hashes[i]);
        if (rc == 0) {
            stored[i] = true;
            accepted++;
            continue;
        }
        const char *why = pool_last_error (pool);
        H_CHECK (rc == POOL_ENOSPACE, "put %d: %s (%d), not POOL_ENOSPACE: %s", i,
                 pool_strerror (rc), rc, why);
        H_CHECK (strstr (why, "block store full") && strstr (why, "of 4.0 MiB"),
                 "put %d refused without the figures: %s", i, why);
        if (refused++ == 0)
            h_log ("first refusal at put %d: %s", i, why);
    }
    h_log ("%d of %d puts of 256 KiB accepted, %d refused", accepted, TRIES, refused);
    H_CHECK (refused > 0, "no put refused: the servers took %d blocks of 256 KiB",
             accepted);
    H_CHECK ((long long)accepted * BLOCK_SIZE > CAP,
             "only %d blocks of 256 KiB accepted in all: the cap was kept on the "
             "sum of the servers, not on each",
             accepted);
    for (int s = 0; s < SU_SERVERS; s++) {
        long long n = ru_count_keys (&servers[s], "dcpool:block:*");
        h_log ("%s holds %lld blocks", servers[s].name, n);
        H_CHECK (n * BLOCK_SIZE <= CAP, "%s holds %lld blocks of 256 KiB, past its cap",
                 servers[s].name, n);
    }
    for (int i = 0; i < TRIES; i++) {
        if (!stored[i])
            continue;
        (void)sh_server_of (servers, hashes[i]); /* on exactly one server */
        void *data = NULL;
        size_t size = 0;
        H_CHECK (pool_get (pool, hashes[i], &data, &size) == 0, "get %d: %s", i,
                 pool_last_error (pool));
        memset (bytes, i + 1, BLOCK_SIZE);
        H_CHECK (size == BLOCK_SIZE && memcmp (data, bytes, size) == 0,
                 "block %d came back wrong", i);
        free (data);
    }
    free (bytes);
    char *status = sh_status (head);
    H_CHECK (strstr (status, "3 block servers, 4.0 MiB on each"),
             "--status does not give the cap per server:\n%s", status);
    free (status);
    pool_close (&pool);
    h_stop (head);
    for (int s = 0; s < SU_SERVERS; s++)
        ru_stop (&servers[s]);
}

int
main (void)
{
    return h_main ("test_shards_cap_on_each_block_server", s_body);
}
