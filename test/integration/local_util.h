/*  test/integration/local_util.h - what the local mode tests share: the
    client program (local_client.c) started with a chosen environment, and
    the processes it left.

    The client runs with an empty environment except PATH, TMPDIR (a fresh
    directory of the test's, where its private cluster's data directory
    goes), DCPOOL_START_NODE, DCPOOL_TEST_TIMEOUT_MULTIPLIER when set, a
    mark DCPOOL_TEST_MARK=<unique> and what the test adds.  Every process
    of its private cluster (start_node, pool-head, redis-server,
    pool-worker) inherits the mark: that is how the tests find them, and
    no other process of the machine has it.

    No password is in that environment, so local mode never tries a head
    on 127.0.0.1:8899 (that is tried only with a password at hand): the
    tests cannot pick up an unrelated head there.
*/
#ifndef DCPOOL_TEST_LOCAL_UTIL_H
#define DCPOOL_TEST_LOCAL_UTIL_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int out;          /* read end of its stdout */
    char mark[96];    /* "DCPOOL_TEST_MARK=..." */
    char tmpdir[320]; /* its TMPDIR */
} lu_client_t;

/*  Starts local_client MODE (square worker) with extra environment
    entries ("NAME=VALUE", NULL terminated; NULL: none); tracked by the
    harness (stopped at the end whatever happens). */
void lu_start (lu_client_t *client, const char *mode, const char *const *extra_env);

/*  Reads the client's stdout until a line starting with prefix, into
    line[size] (the whole line); fails the test at end of file or after
    timeout seconds. */
void lu_read_line (lu_client_t *client, const char *prefix, char *line, size_t size,
                   double timeout);

/*  Waits for the client to exit: its exit code (fails the test after
    timeout seconds). */
int lu_wait (lu_client_t *client, double timeout);

/*  Live processes carrying the client's mark: their count, pids into
    out[max]. */
int lu_marked (const lu_client_t *client, pid_t *out, int max);

/*  Waits until no process carries the mark and the client's TMPDIR is
    empty; fails the test, naming what is left, after timeout seconds. */
void lu_check_nothing_left (const lu_client_t *client, double timeout);

#endif
