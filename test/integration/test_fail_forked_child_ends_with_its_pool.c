/*  A process that a job forks and leaves behind (the forker worker's child
    sleeps forever) ends with its pool: once pool_close returns, the
    child goes within seconds, instead of living on, reparented, after
    the worker that started it is gone.
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fail_util.h"

/* 1: pid runs, 0: gone (no such process, or a zombie waiting for its
   parent to reap it, which is gone too for what a user sees). */
static int
s_alive (pid_t pid)
{
    if (kill (pid, 0) != 0 && errno == ESRCH)
        return 0;
    char path[64], buf[512];
    snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    size_t len = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
    buf[len] = 0;
    /* pid (comm) state ...: comm may hold spaces, find the last ')'. */
    const char *rp = strrchr (buf, ')');
    char state = 0;
    if (!rp || sscanf (rp + 1, " %c", &state) != 1)
        return 0;
    return state != 'Z' && state != 'X';
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    pool_t *pool = h_open (head, "forker", 1);
    pool_result_t result;
    int rc = pool_map (pool, &(pool_bytes_t){ "x", 1 }, 1, &result);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    H_CHECK (result.status == 0, "the run failed: %s (%s)", pool_strerror (result.status),
             result.error ? result.error : "");
    char text[32] = "";
    size_t len
        = result.value.size < sizeof text - 1 ? result.value.size : sizeof text - 1;
    memcpy (text, result.value.data, len);
    text[len] = 0;
    pool_results_release (pool, &result, 1);
    char *end = NULL;
    long value = strtol (text, &end, 10);
    H_CHECK (end != text && *end == 0 && value > 1, "the output '%s' is not a pid", text);
    pid_t child = (pid_t)value;
    H_CHECK (s_alive (child),
             "the job's child %d is not running before the pool "
             "closes",
             (int)child);
    h_log ("the job forked process %d; closing the pool", (int)child);

    pool_close (&pool);
    double started = h_now ();
    double deadline = started + h_timeout (10);
    while (s_alive (child) && h_now () < deadline) {
        /* A poll, not a wait for time to pass: the condition decides. */
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep (&ts, NULL);
    }
    if (s_alive (child)) {
        /* Leave nothing behind even when failing. */
        kill (child, SIGKILL);
        H_FAIL ("process %d, forked by a job of the pool, still runs %.0f s "
                "after pool_close (killed now)",
                (int)child, h_now () - started);
    }
    h_log ("process %d ended %.2f s after pool_close", (int)child, h_now () - started);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_fail_forked_child_ends_with_its_pool", s_body);
}
