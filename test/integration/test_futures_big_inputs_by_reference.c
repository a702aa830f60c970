/*  Futures with big inputs do not push their bytes through the head:

    - with shared memory (the default; client and workers on one host) a
      worker maps a future's input (it sees a mapping of the payload
      memfd) and writes its big output back into it: the result is a
      mapping of the client's memfd, and once the futures are destroyed
      no memfd or mapping is left;
    - without shared memory (shared_memory_min = 0) big inputs and outputs
      take the data plane: the head receives far fewer bytes than the
      futures move (the kernel's count of its connections, `ss -ti`),
      while with direct_min = 0 as well it receives more than all of them
      (so the count does see what passes);
    - every result is right, whichever way its bytes went.
*/
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "payload_util.h"

#define MIB ((size_t)1 << 20)

enum { N = 12 };

/*  Submits N 1 MiB futures (xor mode 'A') and one mode 'P', waits for all,
    checks them; *page says what the 'P' one saw.  Returns the futures
    (the caller destroys them). */
static void
s_run (pool_t *pool, pool_future_t *futures[N + 1], char *page, size_t page_size)
{
    uint8_t *inputs[N + 1];
    for (int i = 0; i <= N; i++) {
        inputs[i] = pu_make (i < N ? 'A' : 'P', MIB, (unsigned)i + 1);
        int rc = pool_submit (pool, (pool_bytes_t){ inputs[i], MIB }, &futures[i]);
        H_CHECK (rc == 0, "pool_submit: %s", pool_strerror (rc));
    }
    int rc = pool_wait_all (futures, N + 1, h_timeout (120));
    H_CHECK (rc == 0, "pool_wait_all: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (int i = 0; i <= N; i++) {
        pool_result_t r;
        H_CHECK (pool_future_result (futures[i], &r) == 0, "future %d has no result", i);
        H_CHECK (r.status == 0, "future %d: %s", i, r.error ? r.error : "error");
        if (i == N) {
            snprintf (page, page_size, "%.*s", (int)r.value.size,
                      (const char *)r.value.data);
            break;
        }
        H_CHECK (r.value.size == MIB, "future %d: %zu bytes back", i, r.value.size);
        const uint8_t *out = r.value.data;
        for (size_t k = 0; k < MIB; k++)
            H_CHECK (out[k] == (inputs[i][k] ^ 0x5A), "future %d: byte %zu wrong", i, k);
    }
    for (int i = 0; i <= N; i++)
        free (inputs[i]);
}

static void
s_destroy (pool_future_t *futures[N + 1])
{
    for (int i = 0; i <= N; i++)
        pool_future_destroy (&futures[i]);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_future_t *futures[N + 1];
    char page[32];

    /* Shared memory: mapped inputs, outputs mapped back. */
    pool_t *pool = h_open (head, "xor", 2);
    s_run (pool, futures, page, sizeof page);
    H_CHECK (strcmp (page, "page") == 0, "the worker got '%s', not a mapped input", page);
    int maps = pu_count_memfds ("/proc/self/maps", false);
    h_log ("shared memory: %d of %d results are mappings", maps, N);
    H_CHECK (maps == N, "%d results are mappings of shared memory, want %d", maps, N);
    s_destroy (futures);
    H_CHECK (pu_count_memfds ("/proc/self/maps", false) == 0, "mappings left");
    H_CHECK (pu_count_memfds ("/proc/self/fd", true) == 0, "memfds left open");
    pool_close (&pool);

    /* No shared memory: the data plane, then through the head. */
    /* N inputs and outputs of 1 MiB, and the 1 MiB input of the last. */
    unsigned long long moved = (2ull * N + 1) * MIB, through[2];
    for (int way = 0; way < 2; way++) {
        pool_options_t options;
        h_options (&options, head, "xor");
        options.shared_memory_min = 0;
        if (way == 1)
            options.direct_min = 0;
        int rc = pool_open (&pool, &options);
        H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
        H_CHECK (pool_wait_for_workers (pool, 2, h_timeout (60)) == 0, "workers");
        unsigned long long before = pu_head_received (head);
        s_run (pool, futures, page, sizeof page);
        through[way] = pu_head_received (head) - before;
        H_CHECK (strcmp (page, "bytes") == 0, "the worker got '%s', not bytes", page);
        s_destroy (futures);
        pool_close (&pool);
    }
    h_log ("the head received %llu bytes on the data plane, %llu through itself, of %llu "
           "moved",
           through[0], through[1], moved);
    H_CHECK (through[1] > moved, "through the head it read only %llu of %llu bytes",
             through[1], moved);
    H_CHECK (through[0] < moved / 10, "on the data plane the head still read %llu bytes",
             through[0]);
}

int
main (void)
{
    return h_main ("test_futures_big_inputs_by_reference", s_body);
}
