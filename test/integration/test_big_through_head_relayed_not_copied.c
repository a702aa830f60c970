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
#include "proc_memory.h"

#define SIZE ((size_t)256 << 20)

/* A /proc/PID/status field of pid in KiB (VmRSS, VmHWM), or -1. */
static long
s_status_kib (pid_t pid, const char *field)
{
    char text[16];
    snprintf (text, sizeof text, "%d", (int)pid);
    return proc_status_kib (text, field);
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

    h_xor_echo (pool, SIZE);
    long peak = s_status_kib (pool_head, "VmHWM");
    H_CHECK (peak > 0, "cannot read pool-head's peak memory");
    double grew = (double)(peak - before) * 1024 / (double)SIZE;
    h_log ("pool-head's peak grew by %.2f times the payload", grew);
    H_CHECK (grew < 2.5,
             "pool-head's peak grew by %.2f times the %zu MiB payload: "
             "it copied what it should relay",
             grew, SIZE >> 20);
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
