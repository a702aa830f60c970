/*  A big input and output through the head (shared memory and the data
    plane off, as for a worker that cannot reach its client): the head
    passes the pieces the payload came in on as they are.  It holds the
    input until the result comes (a retry needs it) and the output while
    it goes on, so its peak memory is about twice the payload; joining
    each payload into one fresh buffer first made it three times. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SIZE ((size_t)256 << 20)

/* A /proc/PID/status line's value in KiB (VmRSS, VmHWM), or -1. */
static long
s_status_kib (pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    long kib = -1;
    size_t len = strlen (key);
    while (fgets (line, sizeof line, file))
        if (!strncmp (line, key, len) && line[len] == ':')
            kib = strtol (line + len + 1, NULL, 10);
    fclose (file);
    return kib;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    pid_t pool_head;
    H_CHECK (h_children (head->pid, "pool-head", &pool_head, 1) == 1, "no pool-head");
    long before = s_status_kib (pool_head, "VmRSS");
    H_CHECK (before > 0, "cannot read pool-head's memory");
    pool_options_t options;
    h_options (&options, head, "xor");
    options.shared_memory_min = 0; /* every byte through the head */
    options.direct_min = 0;
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());

    uint8_t *input = malloc (SIZE);
    H_CHECK (input, "out of memory");
    input[0] = 'S'; /* the xor worker's mode: the whole input, xor 0x5A */
    for (size_t i = 1; i < SIZE; i++)
        input[i] = (uint8_t)(i * 2654435761u >> 11);
    pool_bytes_t in = { input, SIZE };
    pool_result_t result;
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
    long peak = s_status_kib (pool_head, "VmHWM");
    H_CHECK (peak > 0, "cannot read pool-head's peak memory");
    double grew = (double)(peak - before) * 1024 / (double)SIZE;
    h_log ("pool-head's peak grew by %.2f times the payload", grew);
    H_CHECK (grew < 2.5,
             "pool-head's peak grew by %.2f times the %zu MiB payload: "
             "it copied what it should relay",
             grew, SIZE >> 20);
    pool_results_release (pool, &result, 1);
    free (input);
    pool_close (&pool);
    h_stop (head);
}

/* ASan's allocator keeps freed memory in quarantine: peaks mean nothing. */
#if defined(__SANITIZE_ADDRESS__)
static const bool s_sanitized = true;
#else
static const bool s_sanitized = false;
#endif

int
main (void)
{
    if (s_sanitized)
        return 77; /* meson's "skipped" */
    return h_main ("test_big_through_head_relayed_not_copied", s_body);
}
