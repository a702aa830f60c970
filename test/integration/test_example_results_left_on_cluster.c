/*  The README's "Results left on the cluster", run end to end: the
    results example (examples/results) on a cluster of two workers stores
    four walks of 1 MiB with pool_worker_block_put, reads them back by
    hash in a second map, fetches only the farthest one and checks it,
    and releases all with pool_delete; it exits 0 and says so.  Once it
    is gone and the grace (1 s) has passed, the store holds no block.

    What holds a block a worker put: the client of the worker's pool.  So
    pool_delete from that client releases it while the client is still
    there (checked with the blocks test worker, the key watched in Redis),
    and a second pool_delete is refused: nothing holds it for us any
    more. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_util.h"

static const char *s_argv[16];
static char s_out_path[512];

/* In the child: runs the example, stdout and stderr into s_out_path. */
static int
s_exec (void *arg)
{
    (void)arg;
    int fd = open (s_out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2 (fd, 1) < 0 || dup2 (fd, 2) < 0)
        return 126;
    execv (s_argv[0], (char *const *)s_argv);
    return 127;
}

static char *
s_read (const char *path)
{
    FILE *f = fopen (path, "r");
    H_CHECK (f, "cannot read %s", path);
    static char text[1 << 16];
    size_t n = fread (text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose (f);
    return text;
}

static void
s_body (void)
{
    const char *example = getenv ("DCPOOL_EXAMPLE_RESULTS");
    if (!example)
        h_skip ("DCPOOL_EXAMPLE_RESULTS is not set (the example is not built)");
    const char *grace[] = { "--block-grace", "1", NULL };
    h_proc_t *head = h_start_head_with (2, false, grace);

    snprintf (s_out_path, sizeof s_out_path, "%s/results.out", h_tmpdir ());
    int a = 0;
    s_argv[a++] = example;
    s_argv[a++] = "-s";
    s_argv[a++] = head->server;
    s_argv[a++] = "-r";
    s_argv[a++] = h_password ();
    s_argv[a++] = "-n";
    s_argv[a++] = "4";
    s_argv[a++] = "-k";
    s_argv[a++] = "262144";
    s_argv[a] = NULL;
    int code = h_wait (h_fork (s_exec, NULL), h_timeout (90));
    const char *out = s_read (s_out_path);
    h_log ("the results example exited %d:\n%s", code, out);
    H_CHECK (code == 0, "the example exited %d", code);
    const char *want[]
        = { "results: 4 walks of 1.0 MiB each left on the cluster (4.0 MiB)",
            "the client got 4 hashes of 32 bytes",
            "results: walk 3 went as far as ",
            "results: fetched walk ",
            "(1.0 MiB of 4.0 MiB)",
            " checks\n",
            "results: released 4 walks with pool_delete" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        H_CHECK (strstr (out, want[i]), "the example did not say '%s'", want[i]);
    long long left = su_wait_keys (head, "dcpool:block:*", 0, h_timeout (30));
    H_CHECK (left == 0, "%lld blocks left after the example and the grace", left);

    /* A worker's put is held for the pool's client; its pool_delete lets
       go while the client is still here. */
    pool_t *pool = h_open (head, "blocks", 2);
    pool_bytes_t in = { "put 65536 5", 11 };
    pool_result_t result;
    int rc = pool_map (pool, &in, 1, &result);
    H_CHECK (rc == 0 && result.status == 0 && result.value.size == POOL_HASH_SIZE,
             "a job's put: %s", result.error ? result.error : pool_last_error (pool));
    uint8_t hash[POOL_HASH_SIZE];
    memcpy (hash, result.value.data, POOL_HASH_SIZE);
    pool_results_release (pool, &result, 1);
    H_CHECK (su_block_exists (head, hash), "the job's block is not in the store");
    rc = pool_delete (pool, hash);
    H_CHECK (rc == 0, "pool_delete of the job's block: %s", pool_last_error (pool));
    double deadline = h_now () + h_timeout (30);
    while (su_block_exists (head, hash) && h_now () < deadline)
        usleep (50 * 1000);
    H_CHECK (!su_block_exists (head, hash),
             "the job's block is still there after pool_delete and the grace");
    rc = pool_delete (pool, hash);
    H_CHECK (rc == POOL_EINVAL, "a second pool_delete: %d (%s), want POOL_EINVAL", rc,
             pool_last_error (pool));
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_example_results_left_on_cluster", s_body);
}
