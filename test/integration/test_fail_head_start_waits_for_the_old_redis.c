/*  kill -9 of `start_node --head` leaves its redis-server writing out its
    data (it gets SIGTERM): a head started again on that data directory
    meanwhile waits until that redis-server is gone before it starts its
    own, and says so.  Two on the same files would clash (the first one's
    exit removes the second one's socket file).  A stand-in plays the old
    Redis here: `sleep` under the name redis-server, working in the data
    directory's redis/, for 3 s.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Whether old, a child of this test, runs under the name redis-server. */
static bool
s_named_redis (pid_t old)
{
    pid_t found[4];
    int n = h_children (getpid (), "redis-server", found, 4);
    for (int i = 0; i < n; i++)
        if (found[i] == old)
            return true;
    return false;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    h_stop (head);

    char dir[400], name[400];
    snprintf (dir, sizeof dir, "%s/redis", head->dir);
    snprintf (name, sizeof name, "%s/redis-server", h_tmpdir ());
    H_CHECK (symlink ("/bin/sleep", name) == 0, "symlink %s: %s", name, strerror (errno));
    fflush (NULL);
    pid_t old = fork ();
    H_CHECK (old >= 0, "fork: %s", strerror (errno));
    if (old == 0) {
        if (chdir (dir) == 0)
            execl (name, "redis-server", "3", (char *)NULL);
        _exit (127);
    }
    h_track (old, "stand-in redis-server");
    double deadline = h_now () + h_timeout (10);
    while (!s_named_redis (old) && h_now () < deadline)
        usleep (10 * 1000);
    H_CHECK (s_named_redis (old), "the stand-in redis-server did not start");

    head = h_restart_head (head, 1, false, NULL);
    int status = 0;
    H_CHECK (waitpid (old, &status, WNOHANG) == old,
             "the head started while the old redis-server still ran");
    h_untrack (old, status);
    H_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0,
             "the stand-in did not end by itself (status %d): it was killed", status);
    char err[400];
    snprintf (err, sizeof err, "%s/%s.stderr", h_tmpdir (), head->name);
    H_CHECK (h_file_has (err, "is still writing out its data: waiting for it"),
             "%s does not say the head waited", err);

    /* The head serves as ever. */
    pool_t *pool = h_open (head, "square", 1);
    pool_bytes_t input = { "7", 1 };
    pool_result_t result;
    H_CHECK (pool_map (pool, &input, 1, &result) == 0 && h_is_square (&result, 7),
             "a map after the wait: %s", pool_last_error (pool));
    pool_results_release (pool, &result, 1);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_fail_head_start_waits_for_the_old_redis", s_body);
}
