/*  A stream's big inputs (pool_imap_stream) do not push their bytes
    through the head either:

    - with shared memory (the default; client and workers on one host) a
      worker maps each big input (it sees a mapping of the payload
      memfd) and writes its big output back into it: the results are
      mappings of the client's memfds, and once released and the
      iterator destroyed no memfd or mapping is left;
    - without shared memory (shared_memory_min = 0) they take the data
      plane, served from the stream's own copy of each input: the head
      receives far fewer bytes than the stream moves (`ss -ti`), while
      with direct_min = 0 as well it receives more than all of them;
    - every result is right and in order.
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

/*  The stream's callback: N 1 MiB inputs (xor mode 'A'), then one mode
    'P'; each made when asked, so only the stream's own copy outlives it. */
typedef struct {
    int next;
    uint8_t *last;
} s_source_t;

static int
s_next (void *arg, pool_bytes_t *input)
{
    s_source_t *src = arg;
    if (src->next > N)
        return 0;
    free (src->last);
    src->last = pu_make (src->next < N ? 'A' : 'P', MIB, (unsigned)src->next + 1);
    *input = (pool_bytes_t){ src->last, MIB };
    src->next++;
    return 1;
}

/*  Streams N + 1 inputs through an ordered iterator and checks every
    result; *page says what the 'P' one saw.  Returns how many big results
    were mappings of shared memory while held. */
static int
s_run (pool_t *pool, char *page, size_t page_size)
{
    s_source_t src = { 0, NULL };
    pool_iter_t *iter = NULL;
    int rc = pool_imap_stream (pool, s_next, &src, 1, &iter);
    H_CHECK (rc == 0, "pool_imap_stream: %s", pool_strerror (rc));
    /* A result is the iterator's until the next call: checked at once. */
    int got = 0, maps = 0;
    pool_result_t r;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        int i = got++;
        H_CHECK (i <= N && r.index == (size_t)i, "result %zu out of order", r.index);
        H_CHECK (r.status == 0, "input %d: %s", i, r.error ? r.error : "error");
        if (i == N) {
            snprintf (page, page_size, "%.*s", (int)r.value.size,
                      (const char *)r.value.data);
            continue;
        }
        maps += pu_count_memfds ("/proc/self/maps", false) > 0;
        uint8_t *want = pu_make ('A', MIB, (unsigned)i + 1);
        H_CHECK (r.value.size == MIB, "input %d: %zu bytes back", i, r.value.size);
        const uint8_t *out = r.value.data;
        for (size_t k = 0; k < MIB; k++)
            H_CHECK (out[k] == (want[k] ^ 0x5A), "input %d: byte %zu wrong", i, k);
        free (want);
    }
    H_CHECK (rc == 0 && got == N + 1, "pool_iter_next: %s after %d results: %s",
             pool_strerror (rc), got, pool_last_error (pool));
    pool_iter_destroy (&iter);
    free (src.last);
    return maps;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    char page[32];

    /* Shared memory: mapped inputs, outputs mapped back. */
    pool_t *pool = h_open (head, "xor", 2);
    int maps = s_run (pool, page, sizeof page);
    H_CHECK (strcmp (page, "page") == 0, "the worker got '%s', not a mapped input", page);
    h_log ("shared memory: %d of %d results were mappings", maps, N);
    H_CHECK (maps == N, "%d results were mappings of shared memory, want %d", maps, N);
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
        s_run (pool, page, sizeof page);
        through[way] = pu_head_received (head) - before;
        H_CHECK (strcmp (page, "bytes") == 0, "the worker got '%s', not bytes", page);
        pool_close (&pool);
    }
    h_log ("the head received %llu bytes on the data plane, %llu through itself, of %llu "
           "moved",
           through[0], through[1], moved);
    H_CHECK (through[1] > moved, "through the head it received only %llu of %llu bytes",
             through[1], moved);
    H_CHECK (through[0] < moved / 10,
             "on the data plane the head still received %llu bytes", through[0]);
}

int
main (void)
{
    return h_main ("test_stream_big_inputs_by_reference", s_body);
}
