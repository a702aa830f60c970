/*  A block store capped at 8 MiB (--store-max-memory 8M): the managed
    Redis runs with maxmemory a little above it and noeviction; pool_put
    of 256 KiB blocks goes on until one gets POOL_ENOSPACE naming the
    figures, and every block put before is still there, byte for byte.  A
    map whose job puts a block (pool_worker_block_put) gets an error
    result saying the store is full, and the pool goes on serving; a
    pool_open whose init data does not fit gets POOL_ENOSPACE;
    start_node --status shows the use and the cap.  Once the blocks are
    deleted and the grace (1 s) has passed, the same puts succeed, from
    the client and from a job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_util.h"

#define BLOCK_SIZE (256 * 1024)
#define MOST 100 /* 25 MiB: far past the cap */

static uint8_t s_hashes[MOST][POOL_HASH_SIZE];

/* The block the blocks worker makes from seed (test/workers/blocks.c). */
static void
s_fill (uint8_t *bytes, size_t size, unsigned seed)
{
    for (size_t i = 0; i < size; i++)
        bytes[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 9));
}

/*  pool_put of blocks seed 0, 1, ... until one is refused: how many went
    in; the refusal's code and message checked. */
static int
s_fill_store (pool_t *pool, uint8_t *bytes)
{
    for (int i = 0; i < MOST; i++) {
        s_fill (bytes, BLOCK_SIZE, (unsigned)i);
        int rc = pool_put (pool, (pool_bytes_t){ bytes, BLOCK_SIZE }, s_hashes[i]);
        if (rc == 0)
            continue;
        const char *why = pool_last_error (pool);
        h_log ("put %d refused: %d %s", i, rc, why);
        H_CHECK (rc == POOL_ENOSPACE, "put %d: %d (%s), want POOL_ENOSPACE", i, rc, why);
        H_CHECK (strstr (why, "block store full: ") && strstr (why, " used of 8.0 MiB")
                     && strstr (why, "this block needs 256 KiB")
                     && strstr (why, "--store-max-memory"),
                 "the refusal does not say the figures: %s", why);
        return i;
    }
    H_FAIL ("%d blocks of 256 KiB went into a store capped at 8 MiB", MOST);
}

/* A one-job map of the blocks worker: its result (released by caller). */
static void
s_job (pool_t *pool, const char *input, pool_result_t *result)
{
    pool_bytes_t in = { input, strlen (input) };
    int rc = pool_map (pool, &in, 1, result);
    H_CHECK (rc == 0, "pool_map '%s': %d %s", input, rc, pool_last_error (pool));
}

static void
s_body (void)
{
    const char *extra[] = { "--store-max-memory", "8M", "--block-grace", "1", NULL };
    h_proc_t *head = h_start_head_with (1, false, extra);
    H_CHECK (strstr (head->out, "Block store: up to 8.0 MiB"),
             "start_node's banner does not show the cap:\n%s", head->out);
    char *policy = su_config_get (head, "maxmemory-policy");
    char *maxmemory = su_config_get (head, "maxmemory");
    h_log ("managed Redis: maxmemory %s, maxmemory-policy %s", maxmemory, policy);
    H_CHECK (strcmp (policy, "noeviction") == 0, "maxmemory-policy %s", policy);
    long long max = atoll (maxmemory);
    H_CHECK (max > 8 << 20 && max < 128 << 20, "maxmemory %lld for a cap of 8 MiB", max);
    free (policy);
    free (maxmemory);

    pool_t *pool = h_open (head, "blocks", 1);
    uint8_t *bytes = malloc (BLOCK_SIZE);
    H_CHECK (bytes, "malloc");
    int stored = s_fill_store (pool, bytes);
    H_CHECK (stored >= 8, "only %d blocks of 256 KiB fitted in 8 MiB", stored);
    long long used = su_used_memory (head);
    h_log ("%d blocks stored; used_memory %lld", stored, used);
    /* Redis's used_memory also counts its transient buffers (the query
       buffer of the last SET, a block's size): a little past the cap at
       most, never the blocks that were refused. */
    H_CHECK (used <= (8 << 20) + 2 * BLOCK_SIZE,
             "the store uses %lld bytes, past its cap", used);

    /* Nothing was evicted: every block is there as it was put. */
    for (int i = 0; i < stored; i++) {
        void *data = NULL;
        size_t size = 0;
        int rc = pool_get (pool, s_hashes[i], &data, &size);
        H_CHECK (rc == 0, "pool_get %d after the store filled: %s", i,
                 pool_last_error (pool));
        s_fill (bytes, BLOCK_SIZE, (unsigned)i);
        H_CHECK (size == BLOCK_SIZE && memcmp (data, bytes, size) == 0,
                 "block %d came back different", i);
        free (data);
    }

    /* A job's put is refused the same way; the map says why. */
    pool_result_t result;
    s_job (pool, "put 1048576 7777", &result);
    h_log ("job put: status %d, %s", result.status, result.error ? result.error : "");
    H_CHECK (result.status != 0 && result.error
                 && strstr (result.error, "block store full: ")
                 && strstr (result.error, "this block needs 1.0 MiB"),
             "a job's put past the cap: status %d, '%s'", result.status,
             result.error ? result.error : "");
    pool_results_release (pool, &result, 1);
    /* ... and the pool goes on: a job that reads a block. */
    char get[80] = "get ";
    for (int i = 0; i < POOL_HASH_SIZE; i++)
        snprintf (get + 4 + 2 * i, 3, "%02x", s_hashes[0][i]);
    s_job (pool, get, &result);
    H_CHECK (result.status == 0, "a get after the refused put: %s", result.error);
    H_CHECK (result.value.size > 7 && memcmp (result.value.data, "262144 ", 7) == 0,
             "the job read %.*s", (int)result.value.size,
             (const char *)result.value.data);
    pool_results_release (pool, &result, 1);

    /* A pool whose init data does not fit is refused at pool_open. */
    pool_options_t options;
    h_options (&options, head, "blocks");
    uint8_t *init = malloc (1 << 20);
    H_CHECK (init, "malloc");
    memset (init, 'z', 1 << 20);
    options.init_data = (pool_bytes_t){ init, 1 << 20 };
    pool_t *other = NULL;
    int rc = pool_open (&other, &options);
    h_log ("pool_open with 1 MiB of init data: %d %s", rc, pool_open_error ());
    H_CHECK (rc == POOL_ENOSPACE && !other
                 && strstr (pool_open_error (), "block store full: "),
             "pool_open past the cap: %d (%s)", rc, pool_open_error ());
    free (init);

    /* --status shows the use and the cap. */
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *args[]
        = { "--status", "-a", "127.0.0.1", "-p", port, "-r", h_password (), NULL };
    char *output = NULL;
    int code = h_run_start_node (args, h_timeout (30), &output);
    h_log ("start_node --status:\n%s", output);
    H_CHECK (code == 0, "--status exited %d", code);
    char *line = strstr (output, "store: ");
    H_CHECK (line && strstr (line, " used of 8.0 MiB, "), "--status: no store line");
    char blocks[64];
    snprintf (blocks, sizeof blocks, ", %d blocks (0 unheld)", stored + 2);
    H_CHECK (strstr (line, blocks), "--status does not say '%s'", blocks);
    free (output);

    /* Deleted, and past the grace: the same puts go in again. */
    for (int i = 0; i < stored; i++) {
        int rc = pool_delete (pool, s_hashes[i]);
        H_CHECK (rc == 0, "pool_delete %d: %s", i, pool_last_error (pool));
    }
    long long left = su_wait_keys (head, "dcpool:block:*", 2, h_timeout (30));
    H_CHECK (left == 2, "%lld block keys after the grace, want the pool's 2", left);
    s_job (pool, "put 1048576 7777", &result);
    H_CHECK (result.status == 0 && result.value.size == POOL_HASH_SIZE,
             "a job's put after the deletes: %s", result.error ? result.error : "");
    pool_results_release (pool, &result, 1);
    int again = s_fill_store (pool, bytes);
    h_log ("%d blocks stored again", again);
    H_CHECK (again >= stored - 5, "only %d blocks went in again, %d the first time",
             again, stored);
    free (bytes);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_store_limit_full_refused_nothing_lost", s_body);
}
