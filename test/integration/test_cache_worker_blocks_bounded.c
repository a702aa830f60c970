/*  A worker's block cache holds at most DCPOOL_BLOCK_CACHE_MB (2 here):
    a block read twice in a row is fetched from the store once, but after
    six other blocks of 512 KiB went through the cache it is fetched
    again.  The fetches are counted where they land: the GET commands of
    the head's Redis (INFO commandstats), one per block fetched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_util.h"

#define BLOCK_SIZE (512 * 1024)
#define OTHERS 6

static void
s_get_input (const uint8_t hash[POOL_HASH_SIZE], char text[80])
{
    strcpy (text, "get ");
    for (int i = 0; i < POOL_HASH_SIZE; i++)
        snprintf (text + 4 + 2 * i, 3, "%02x", hash[i]);
}

/*  Runs one job per input (one worker: one after the other) and returns
    how many blocks the store was asked for meanwhile. */
static long long
s_gets (const h_proc_t *head, pool_t *pool, char (*texts)[80], size_t count)
{
    pool_bytes_t inputs[OTHERS + 1];
    pool_result_t results[OTHERS + 1];
    for (size_t i = 0; i < count; i++)
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    long long before = su_command_calls (head, "get");
    int rc = pool_map (pool, inputs, count, results);
    H_CHECK (rc == 0, "pool_map: %s", pool_last_error (pool));
    for (size_t i = 0; i < count; i++) {
        H_CHECK (results[i].status == 0, "get %zu: %s", i, results[i].error);
        H_CHECK (results[i].value.size > 7
                     && memcmp (results[i].value.data, "524288 ", 7) == 0,
                 "get %zu read %.*s", i, (int)results[i].value.size,
                 (const char *)results[i].value.data);
    }
    pool_results_release (pool, results, count);
    return su_command_calls (head, "get") - before;
}

static void
s_body (void)
{
    setenv ("DCPOOL_BLOCK_CACHE_MB", "2", 1);
    h_proc_t *head = h_start_head (1, false);
    pool_t *pool = h_open (head, "blocks", 1);
    uint8_t hashes[OTHERS + 1][POOL_HASH_SIZE];
    char texts[OTHERS + 1][80];
    uint8_t *bytes = malloc (BLOCK_SIZE);
    H_CHECK (bytes, "malloc");
    for (int i = 0; i <= OTHERS; i++) {
        memset (bytes, i + 1, BLOCK_SIZE);
        int rc = pool_put (pool, (pool_bytes_t){ bytes, BLOCK_SIZE }, hashes[i]);
        H_CHECK (rc == 0, "pool_put: %s", pool_last_error (pool));
        s_get_input (hashes[i], texts[i]);
    }
    free (bytes);

    long long first = s_gets (head, pool, texts, 1);
    long long second = s_gets (head, pool, texts, 1);
    long long others = s_gets (head, pool, texts + 1, OTHERS);
    long long third = s_gets (head, pool, texts, 1);
    h_log ("block A fetched %lld, %lld times; %d others %lld; A again %lld", first,
           second, OTHERS, others, third);
    H_CHECK (first == 1, "the first read of A fetched it %lld times", first);
    H_CHECK (second == 0, "A, just read, was fetched again (%lld): no cache?", second);
    H_CHECK (others == OTHERS, "%d other blocks, %lld fetches", OTHERS, others);
    H_CHECK (third == 1,
             "A after 3 MiB of other blocks through a 2 MiB cache: %lld fetches, "
             "want 1 (it must have been evicted)",
             third);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_cache_worker_blocks_bounded", s_body);
}
