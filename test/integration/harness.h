/*  test/integration/harness.h - start a real dcpool cluster for a test.

    Each integration test is its own executable whose main is

        int main (void) { return h_main ("test_name", s_body); }

    h_main makes a temporary directory, forks, and runs the body in the
    child.  The body starts start_node processes (h_start_head,
    h_start_node), which run pool-head, redis-server and pool-worker as
    their children, and talks to them through libpool.  Whatever happens to
    the body -- success, a failed H_CHECK, a crash, a hang past the test's
    deadline -- the parent then stops exactly the start_node processes the
    body started (SIGTERM, a wait, then SIGKILL), checks that they exited
    0 and left no process behind, scans their logs for sanitizer reports,
    prints the logs when something failed and removes the directory.

    Readiness is always a line that start_node prints ("dcpool head ready:
    port=PORT", "dcpool node ready: id=ID workers=N") or
    pool_wait_for_workers, with a deadline; never a fixed sleep.

    Environment, set by meson test: DCPOOL_START_NODE (the start_node
    binary), DCPOOL_TEST_WORKERS (the directory of the test worker .so
    files), DCPOOL_TEST_POOL_WORKER and DCPOOL_TEST_POOL_HEAD (the
    pool-worker and pool-head binaries, for tests that run them directly),
    and optionally DCPOOL_TEST_TIMEOUT_MULTIPLIER (slow builds:
    sanitizers, valgrind) and DCPOOL_TEST_BODY_WAIT (seconds the body may
    run, when more than the default 100: soak runs).
*/
#ifndef DCPOOL_TEST_HARNESS_H
#define DCPOOL_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pool.h"

/* One start_node process started by the body. */
typedef struct {
    pid_t pid;
    int fd;          /* read end of its stdout */
    int slot;        /* its entry in the registry h_main shares */
    char name[32];   /* "head", "node1", ... */
    char dir[300];   /* its --data-dir */
    char id[128];    /* node id from its ready line ("" when none) */
    char server[64]; /* "127.0.0.1:PORT" of the head it runs/joined */
    int port;
    int workers; /* from its ready line */
    char *out;   /* everything it printed on stdout so far */
    size_t out_len;
    size_t out_cap;
    size_t scanned; /* lines before this offset were searched */
    bool stopped;
    int want_workers; /* h_start_node_async */
    double started;
} h_proc_t;

/* Runs body in a child process, cleans up after it; returns the exit code
   for main: 0 passed, 1 failed, 77 skipped (environment not set). */
int h_main (const char *name, void (*body) (void));

/* Starts `start_node --head -p 0` with cpu_workers workers (0 and
   server_only: --server-only) and waits for its ready lines. */
h_proc_t *h_start_head (int cpu_workers, bool server_only);
/* The same with more start_node arguments (NULL terminated; NULL: none),
   e.g. { "--insecure", NULL } or { "--max-pools", "2", NULL }. */
h_proc_t *h_start_head_with (int cpu_workers, bool server_only, const char *const *extra);
/* Starts `start_node -a 127.0.0.1 -p PORT` joining head; waits until it
   says it is ready with cpu_workers workers. */
h_proc_t *h_start_node (const h_proc_t *head, int cpu_workers);
h_proc_t *h_start_node_with (const h_proc_t *head, int cpu_workers,
                             const char *const *extra);
/* Starts the same without waiting: poll h_node_ready while doing
   something else. */
h_proc_t *h_start_node_async (const h_proc_t *head, int cpu_workers);
h_proc_t *h_start_node_async_with (const h_proc_t *head, int cpu_workers,
                                   const char *const *extra);
/* Does not block: true once the node said it is ready (id, workers set);
   fails the test when it died or is not ready within the ready timeout. */
bool h_node_ready (h_proc_t *proc);
/* SIGTERM, wait (then SIGKILL); fails the test unless it exits 0. */
void h_stop (h_proc_t *proc);

/* Runs start_node with the given arguments (after the program name, NULL
   terminated) to completion, stdout and stderr captured into *output
   (caller frees).  Returns its exit status, 128 + N for signal N; fails
   the test when it runs past timeout seconds. */
int h_run_start_node (const char *const *args, double timeout, char **output);

/* Forks a process running fn (arg); returns its pid.  Its exit code is
   fn's return value; an H_CHECK failing in it exits 1. */
pid_t h_fork (int (*fn) (void *arg), void *arg);
/* Waits for a process from h_fork: its exit code (128 + N for signal N);
   fails the test when it runs past timeout seconds. */
int h_wait (pid_t pid, double timeout);

/* Failures (kills, freezes, restarts).  h_kill sends sig to the start_node
   process only; for SIGKILL it also waits for it, so the cleanup knows it
   is gone (its children die with it: PR_SET_PDEATHSIG). */
void h_kill (h_proc_t *proc, int sig);
/* Live processes whose parent is parent (a start_node's workers are its
   children "pool-worker"; a head's also "pool-head" and "redis-server"),
   filtered by the start of their comm when comm is not NULL: the count,
   pids into out[max]. */
int h_children (pid_t parent, const char *comm, pid_t *out, int max);
/* A TCP port free on every address now, below the kernel's ephemeral
   range (so no bind to port 0 of a test running beside this one takes it). */
int h_free_port (void);
/* Starts `start_node --head -p PORT` again on the data directory and the
   port of old, which h_kill (SIGKILL) ended; waits for its ready lines. */
h_proc_t *h_restart_head (const h_proc_t *old, int cpu_workers, bool server_only,
                          const char *const *extra);

/* Pool options for a pool on head's cluster running test worker `worker`
   ("square", "failing", ...). */
void h_options (pool_options_t *options, const h_proc_t *head, const char *worker);
/* pool_open with h_options, then waits until the pool has `workers`
   workers; fails the test when either does not happen. */
pool_t *h_open (const h_proc_t *head, const char *worker, int workers);
/* Maps one input of size bytes (at least 1) through the "xor" test worker
   in mode 'S' (every byte XOR 0x5A, built in a buffer of the worker's
   own) on pool, and checks every byte of the output; fails the test
   otherwise.  Returns the seconds the map took. */
double h_xor_echo (pool_t *pool, size_t size);
/* Path of a test worker library (borrowed, valid for the process' life). */
const char *h_worker_path (const char *worker);
const char *h_password (void);
/* The test's temporary directory (removed at the end). */
const char *h_tmpdir (void);
/* Seconds, monotonic. */
double h_now (void);
/* A timeout scaled by DCPOOL_TEST_TIMEOUT_MULTIPLIER. */
double h_timeout (double seconds);
/* Network namespaces (test/net/netlab.h builds them).  The test is
   skipped (exit 77, its reason printed) by h_skip. */
void h_skip (const char *format, ...) __attribute__ ((format (printf, 1, 2), noreturn));
/* The prefix of every namespace this test makes ("dcptPID-"): h_main
   deletes them all at the end, whatever happened to the body. */
const char *h_netns_prefix (void);
/* start_node processes started from now on run in namespace netns (NULL:
   the test's own). */
void h_use_netns (const char *netns);
/* Moves the calling process (the body, before it makes any socket) into
   netns; fails the test when it cannot. */
void h_enter_netns (const char *netns);
/* The address clients and joining nodes use for head (its address in its
   namespace); nodes started later join there. */
void h_set_address (h_proc_t *head, const char *address);
/* A helper process the body started: stopped (SIGTERM) at the end. */
void h_track (pid_t pid, const char *name);
/* A tracked helper the body has stopped and reaped itself (status from
   waitpid): the end leaves its pid alone. */
void h_untrack (pid_t pid, int status);

/* True when a line of the file at path contains text (false when there is
   no such file): for what a process wrote to its log. */
bool h_file_has (const char *path, const char *text);

/* Prints a progress line to stderr (it lands in the test log). */
void h_log (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

/* What the square test worker computes, and its text form of n. */
int64_t h_square (int64_t n);
/* True when r is a value that is h_square (n) as text (the square
   worker's output for input "n"). */
bool h_is_square (const pool_result_t *r, int64_t n);

/* Fails the test (the body's process exits 1): prints where, what was
   checked (when not NULL) and the message, and what start_node printed. */
void h_fail (const char *file, int line, const char *what, const char *format, ...)
    __attribute__ ((format (printf, 4, 5), noreturn));

/* H_CHECK (cond, "format", args...): fails the test unless cond holds. */
#define H_CHECK(cond, ...)                                                               \
    do {                                                                                 \
        if (!(cond))                                                                     \
            h_fail (__FILE__, __LINE__, #cond, __VA_ARGS__);                             \
    } while (0)
#define H_FAIL(...) h_fail (__FILE__, __LINE__, NULL, __VA_ARGS__)

#endif
