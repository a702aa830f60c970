/*  A 512 MiB input and a 512 MiB output through the head (shared memory
    and the data plane off, as for a worker on another host that cannot
    reach its client), with CURVE and the default heartbeat (1 s,
    liveness 3): the value comes back, right, once.  A big message used to
    hold the head's heartbeats back behind it for longer than the worker's
    liveness, so the worker left "because the head was silent" while it was
    still receiving the job, was started again, and the map never ended.
*/
#include "harness.h"

#define SIZE ((size_t)512 << 20)

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    pool_options_t options;
    h_options (&options, head, "xor");
    options.shared_memory_min = 0; /* every byte through the head: */
    options.direct_min = 0;        /* not on the data plane either */
    options.max_attempts = 1;      /* a lost worker must show, not hide */
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());

    double took = h_xor_echo (pool, SIZE);
    h_log ("512 MiB in and out through the head in %.1f s", took);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_big_512mib_through_head_finishes_on_default_heartbeat", s_body);
}
