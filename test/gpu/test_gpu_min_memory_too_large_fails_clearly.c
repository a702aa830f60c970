/*  A pool asking for more GPU memory than any worker has (three simulated
    1 GiB devices, min_gpu_memory 64 GiB) fails in pool_open after its
    connect timeout with POOL_ENOWORKERS and a message that names the
    largest device seen, and does not hang.
*/
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void
s_body (void)
{
    const char *const extra[] = { "--simulate-gpus", "3", NULL };
    h_proc_t *head = h_start_head_with (3, false, extra);
    pool_options_t options;
    h_options (&options, head, "gpu_info");
    options.min_gpu_memory = 64ULL << 30;
    options.connect_timeout = 3;
    pool_t *pool = NULL;
    double start = h_now ();
    int rc = pool_open (&pool, &options);
    double took = h_now () - start;
    const char *why = pool_open_error ();
    h_log ("pool_open: %s: %s (%.1f s)", pool_strerror (rc), why, took);
    H_CHECK (rc == POOL_ENOWORKERS && !pool, "pool_open gave %s (%s), want %s",
             pool_strerror (rc), why, pool_strerror (POOL_ENOWORKERS));
    H_CHECK (took < h_timeout (3 + 15), "pool_open took %.1f s", took);
    /* The message says why: what was asked and the largest device seen. */
    H_CHECK (strstr (why, "largest")
                 && (strstr (why, "1.0 GiB") || strstr (why, "1024 MiB")
                     || strstr (why, "1073741824")),
             "pool_open's message does not name the largest device (1 GiB): '%s'", why);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_gpu_min_memory_too_large_fails_clearly", s_body);
}
