/*  Big inputs and outputs between a client and workers on the same host
    go through shared memory, and still arrive exactly right:

    - a map of inputs from 100 bytes to 17 MiB, each worker output built
      in place (pool_output_alloc) or copied (pool_output_set), or small:
      every result equals what the xor worker computes, here;
    - the big results are mappings of the client's memfds (the user sees
      them in /proc/self/maps) and the worker saw its input in a mapping
      of the payload memfd; after pool_results_release no mapping and no
      memfd is left;
    - an unordered iterator over big outputs, destroyed half way, leaves
      nothing behind either;
    - with shared_memory_min = 0 and the data plane off the same map goes
      through the head;
    - workers that die of SIGSEGV after writing a big output into the
      client's memory (once per input) leave it there; the run again
      elsewhere writes its own, and every result is right, exactly once.
*/
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

/* Lines of /proc/self/maps, or links of /proc/self/fd, naming our memfds. */
static int
s_count_maps (void)
{
    FILE *f = fopen ("/proc/self/maps", "r");
    H_CHECK (f, "open /proc/self/maps");
    char line[1024];
    int n = 0;
    while (fgets (line, sizeof line, f))
        n += strstr (line, "memfd:dcpool-payload") != NULL;
    fclose (f);
    return n;
}

static int
s_count_fds (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    H_CHECK (dir, "open /proc/self/fd");
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        char path[300], target[256];
        snprintf (path, sizeof path, "/proc/self/fd/%s", entry->d_name);
        ssize_t len = readlink (path, target, sizeof target - 1);
        if (len > 0) {
            target[len] = 0;
            n += strstr (target, "memfd:dcpool-payload") != NULL;
        }
    }
    closedir (dir);
    return n;
}

/* Input i: mode byte then size - 1 pseudo-random bytes. */
static uint8_t *
s_make (char mode, size_t size, unsigned seed)
{
    uint8_t *p = malloc (size);
    H_CHECK (p, "out of memory for %zu bytes", size);
    p[0] = (uint8_t)mode;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 1; i < size; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
    return p;
}

static void
s_check (const pool_bytes_t *input, const pool_result_t *r, size_t i)
{
    const uint8_t *in = input->data;
    H_CHECK (r->status == 0, "input %zu (%zu bytes, mode %c): status %d (%s)", i,
             input->size, in[0], r->status, r->error ? r->error : "");
    const uint8_t *out = r->value.data;
    if (in[0] == 'C') {
        uint64_t sum = 0, got = 0;
        for (size_t k = 0; k < input->size; k++)
            sum += in[k];
        H_CHECK (r->value.size == 8, "input %zu: sum of %zu bytes", i, r->value.size);
        for (int b = 7; b >= 0; b--)
            got = (got << 8) | out[b];
        H_CHECK (got == sum, "input %zu: sum %llu, want %llu", i, (unsigned long long)got,
                 (unsigned long long)sum);
        return;
    }
    H_CHECK (r->value.size == input->size, "input %zu: %zu bytes back, want %zu", i,
             r->value.size, input->size);
    for (size_t k = 0; k < input->size; k++)
        if (out[k] != (in[k] ^ 0x5A))
            H_CHECK (false, "input %zu (mode %c, %zu bytes): byte %zu is %u, want %u", i,
                     in[0], input->size, k, out[k], in[k] ^ 0x5A);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "xor", 2);

    static const size_t sizes[] = { 100, 64 * KIB - 1, 64 * KIB, MIB, 5 * MIB, 17 * MIB };
    static const char modes[] = { 'A', 'S', 'C' };
    enum { NS = sizeof sizes / sizeof sizes[0], NM = 3, N = NS * NM + 1 };
    pool_bytes_t inputs[N];
    pool_result_t results[N];
    int want_maps = 0;
    size_t n = 0;
    for (size_t s = 0; s < NS; s++)
        for (size_t m = 0; m < NM; m++) {
            inputs[n]
                = (pool_bytes_t){ s_make (modes[m], sizes[s], (unsigned)n), sizes[s] };
            want_maps += modes[m] != 'C' && sizes[s] >= 64 * KIB;
            n++;
        }
    inputs[n++] = (pool_bytes_t){ s_make ('P', MIB, 7), MIB };

    int rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (size_t i = 0; i + 1 < N; i++)
        s_check (&inputs[i], &results[i], i);
    H_CHECK (results[N - 1].status == 0 && results[N - 1].value.size == 4
                 && memcmp (results[N - 1].value.data, "page", 4) == 0,
             "the worker did not get a mapped 1 MiB input: '%.*s'",
             (int)results[N - 1].value.size, (const char *)results[N - 1].value.data);
    int maps = s_count_maps ();
    h_log ("%d of %d results are mappings of shared memory", maps, N);
    H_CHECK (maps == want_maps, "%d big results mapped from shared memory, want %d", maps,
             want_maps);
    pool_results_release (pool, results, N);
    H_CHECK (s_count_maps () == 0, "%d mappings left after pool_results_release",
             s_count_maps ());
    H_CHECK (s_count_fds () == 0, "%d memfds left open after the map", s_count_fds ());

    /* An unordered iterator over big outputs, left half way. */
    pool_iter_t *iter;
    pool_bytes_t big[8];
    for (size_t i = 0; i < 8; i++)
        big[i] = (pool_bytes_t){ s_make (i % 2 ? 'A' : 'S', 2 * MIB, (unsigned)i + 100),
                                 2 * MIB };
    rc = pool_imap_unordered (pool, big, 8, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    pool_result_t r;
    for (int k = 0; k < 4; k++) {
        H_CHECK (pool_iter_next (iter, &r) == 1, "pool_iter_next %d", k);
        s_check (&big[r.index], &r, r.index);
        H_CHECK (s_count_maps () >= 1, "the result out is not a mapping");
    }
    pool_iter_destroy (&iter);
    H_CHECK (s_count_maps () == 0, "%d mappings left after pool_iter_destroy",
             s_count_maps ());
    /* The rest of that map may still be running: the next map waits its
       turn on the workers and its results are right. */
    rc = pool_map (pool, big, 8, results);
    H_CHECK (rc == 0, "map after the iterator: %s", pool_strerror (rc));
    for (size_t i = 0; i < 8; i++)
        s_check (&big[i], &results[i], i);
    pool_results_release (pool, results, 8);
    H_CHECK (s_count_fds () == 0, "%d memfds left open", s_count_fds ());
    pool_close (&pool);

    /* shared_memory_min = 0 and direct_min = 0 (nor the data plane):
       through the head, in pieces past 1 MiB, the same results. */
    pool_options_t options;
    h_options (&options, head, "xor");
    options.shared_memory_min = 0;
    options.direct_min = 0;
    rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map without shared memory: %s", pool_strerror (rc));
    for (size_t i = 0; i + 1 < N; i++)
        s_check (&inputs[i], &results[i], i);
    H_CHECK (results[N - 1].value.size == 5
                 && memcmp (results[N - 1].value.data, "bytes", 5) == 0,
             "shared_memory_min = 0 still mapped the input");
    H_CHECK (s_count_maps () == 0 && s_count_fds () == 0,
             "shared_memory_min = 0 still used shared memory");
    pool_results_release (pool, results, N);
    pool_close (&pool);

    /* Crashes after the output is in shared memory. */
    enum { NK = 6 };
    pool_bytes_t crashing[NK];
    for (size_t i = 0; i < NK; i++)
        crashing[i] = (pool_bytes_t){ s_make ('K', MIB, (unsigned)i + 1000), MIB };
    h_options (&options, head, "xor");
    options.init_data = (pool_bytes_t){ h_tmpdir (), strlen (h_tmpdir ()) };
    rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    rc = pool_map (pool, crashing, NK, results);
    H_CHECK (rc == 0, "map with crashes: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < NK; i++)
        s_check (&crashing[i], &results[i], i);
    int markers = 0;
    DIR *dir = opendir (h_tmpdir ());
    H_CHECK (dir, "open %s", h_tmpdir ());
    for (struct dirent *e; (e = readdir (dir));)
        markers += strncmp (e->d_name, "k-", 2) == 0;
    closedir (dir);
    H_CHECK (markers == NK, "%d inputs crashed a worker, want %d", markers, NK);
    h_log ("%d workers died after writing their output; every result is right", NK);
    pool_results_release (pool, results, NK);
    H_CHECK (s_count_maps () == 0 && s_count_fds () == 0, "shared memory left");
    pool_close (&pool);

    for (size_t i = 0; i < N; i++)
        free ((void *)inputs[i].data);
    for (size_t i = 0; i < 8; i++)
        free ((void *)big[i].data);
    for (size_t i = 0; i < NK; i++)
        free ((void *)crashing[i].data);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_big_payloads_shared_memory_same_host", s_body);
}
