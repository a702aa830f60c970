/*  --store-max-memory that is not a size (garbage, 0, a unit that is
    none), or given without --head: start_node says what it wants and
    exits non-zero.  A cap below what the store already holds (a head
    restarted on its data directory with a smaller one): start_node says
    so, with both figures, and exits non-zero; the blocks are untouched
    and the head starts again with a cap that fits them. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_util.h"

#define BLOCK_SIZE (256 * 1024)
#define BLOCKS 24 /* 6 MiB */

/* start_node with args must fail saying want: what it printed (freed by
   the caller), or NULL when keep is false. */
static char *
s_refused (const char *const *args, const char *want, bool keep)
{
    char *output = NULL;
    int code = h_run_start_node (args, h_timeout (60), &output);
    h_log ("start_node %s %s exited %d:\n%s", args[0], args[1] ? args[1] : "", code,
           output);
    H_CHECK (code != 0, "start_node exited 0:\n%s", output);
    H_CHECK (strstr (output, want), "start_node did not say '%s':\n%s", want, output);
    if (keep)
        return output;
    free (output);
    return NULL;
}

static void
s_body (void)
{
    const char *pw = h_password ();
    const char *garbage[]
        = { "--head", "-r", pw, "--server-only", "--store-max-memory", "lots", NULL };
    s_refused (garbage, "--store-max-memory wants bytes", false);
    const char *zero[]
        = { "--head", "-r", pw, "--server-only", "--store-max-memory", "0", NULL };
    s_refused (zero, "--store-max-memory wants bytes", false);
    const char *unit[]
        = { "--head", "-r", pw, "--server-only", "--store-max-memory", "4X", NULL };
    s_refused (unit, "--store-max-memory wants bytes", false);
    const char *no_head[]
        = { "-a", "127.0.0.1", "-r", pw, "--store-max-memory", "1G", NULL };
    s_refused (no_head, "go with --head", false);

    const char *extra[] = { "--store-max-memory", "64M", NULL };
    h_proc_t *head = h_start_head_with (1, false, extra);
    pool_t *pool = h_open (head, "blocks", 1);
    static uint8_t hashes[BLOCKS][POOL_HASH_SIZE];
    uint8_t *bytes = malloc (BLOCK_SIZE);
    H_CHECK (bytes, "malloc");
    for (int i = 0; i < BLOCKS; i++) {
        memset (bytes, i + 1, BLOCK_SIZE);
        int rc = pool_put (pool, (pool_bytes_t){ bytes, BLOCK_SIZE }, hashes[i]);
        H_CHECK (rc == 0, "pool_put %d: %s", i, pool_last_error (pool));
    }
    free (bytes);
    pool_close (&pool);
    long long keys = su_count_keys (head, "dcpool:block:*");
    h_stop (head);

    char port[16];
    snprintf (port, sizeof port, "%d", h_free_port ());
    const char *small[] = { "--head",     "-p",      port,
                            "-r",         pw,        "--server-only",
                            "--data-dir", head->dir, "--store-max-memory",
                            "4M",         NULL };
    char *output = s_refused (small, "below what the block store already uses", true);
    H_CHECK (strstr (output, "4.0 MiB") && strstr (output, " MiB)"),
             "the refusal does not give both figures:\n%s", output);
    free (output);

    const char *fits[] = { "--store-max-memory", "64M", NULL };
    h_proc_t *again = h_restart_head (head, 1, false, fits);
    long long after = su_count_keys (again, "dcpool:block:*");
    H_CHECK (after == keys, "%lld block keys after the refused start, %lld before", after,
             keys);
}

int
main (void)
{
    return h_main ("test_store_limit_bad_input", s_body);
}
