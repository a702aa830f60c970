/*  A 512 MiB input and a 512 MiB output through the head (shared memory
    off, as between hosts), with CURVE and the default heartbeat (1 s,
    liveness 3): the value comes back, right, once.  A big message used to
    hold the head's heartbeats back behind it for longer than the worker's
    liveness, so the worker left "because the head was silent" while it was
    still receiving the job, was started again, and the map never ended.
*/
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SIZE ((size_t)512 << 20)

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    pool_options_t options;
    h_options (&options, head, "xor");
    options.shared_memory_min = 0; /* every byte through the head */
    options.max_attempts = 1;      /* a lost worker must show, not hide */
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());

    uint8_t *input = malloc (SIZE);
    H_CHECK (input, "out of memory");
    input[0] = 'S';
    for (size_t i = 1; i < SIZE; i++)
        input[i] = (uint8_t)(i * 2654435761u >> 13);
    pool_bytes_t in = { input, SIZE };
    pool_result_t result;
    double started = h_now ();
    rc = pool_map (pool, &in, 1, &result);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    H_CHECK (result.status == 0, "status %d (%s): %s", result.status,
             pool_strerror (result.status), result.error ? result.error : "");
    H_CHECK (result.value.size == SIZE, "output of %zu bytes, want %zu",
             result.value.size, SIZE);
    const uint8_t *out = result.value.data;
    for (size_t i = 0; i < SIZE; i++)
        if (out[i] != (uint8_t)(input[i] ^ 0x5A))
            H_FAIL ("output byte %zu is %u, want %u", i, out[i],
                    (uint8_t)(input[i] ^ 0x5A));
    h_log ("512 MiB in and out through the head in %.1f s", h_now () - started);
    pool_results_release (pool, &result, 1);
    free (input);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_big_512mib_through_head_finishes_on_default_heartbeat", s_body);
}
