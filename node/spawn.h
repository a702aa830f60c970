/*  node/spawn.h - starting start_node's children.

    Every child of start_node (redis-server, pool-head, pool-worker) is
    started the same way: program found ahead of time, environment built
    ahead of time, fork, then only async-signal-safe calls in the child:
    PR_SET_PDEATHSIG SIGKILL (so kill -9 of start_node takes the child with
    it; redis-server gets SIGTERM instead, so that it writes out what it
    acknowledged before it goes), its own process group (so a terminal's
    Ctrl-C reaches start_node alone, which then stops everything in
    order), the signal mask cleared, stdout and stderr to a log file (or
    pipes), stdin from /dev/null, every other file descriptor closed,
    exec.
*/
#ifndef DCPOOL_NODE_SPAWN_H
#define DCPOOL_NODE_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/*  Finds an executable: $env_var when set (and then only there), else next
    to /proc/self/exe, in its ../head/ and ../node/ (the meson build tree),
    then on PATH.  0 and the path in out[size], or -1 with a message in
    error[error_size]. */
int spawn_find_program (const char *name, const char *env_var, char *out, size_t size,
                        char *error, size_t error_size);

/*  An environment under construction: a copy of ours, then edited. */
typedef struct spawn_env spawn_env_t;

spawn_env_t *spawn_env_new (void);
void spawn_env_destroy (spawn_env_t **self);
/*  Sets name=value, replacing an existing entry: 0 or -1 (out of memory). */
int spawn_env_set (spawn_env_t *self, const char *name, const char *value);
void spawn_env_unset (spawn_env_t *self, const char *name);
/*  The NULL-terminated array for execve, borrowed. */
char *const *spawn_env_array (spawn_env_t *self);

/*  Starts path with argv and envp.  log_fd receives the child's stdout and
    stderr (-1: keep ours); pass_fd, when >= 0, becomes the child's fd 3.
    Returns the pid, or -1 with errno set when fork fails.  An exec failure
    is written to the log and the child exits with status 127. */
pid_t spawn_start (const char *path, char *const argv[], char *const envp[], int log_fd,
                   int pass_fd);

/*  What a child gets as its descriptors (spawn_start_io). */
typedef struct {
    int out_fd;       /* its stdout; -1: ours */
    int err_fd;       /* its stderr; -1: ours */
    int pass_fds[2];  /* become its fd 3 and 4, in that order; -1: none
                         (the second only with the first) */
    int death_signal; /* sent to it when start_node dies; 0: SIGKILL */
} spawn_io_t;

/*  spawn_start with the child's stdout and stderr apart and up to two
    descriptors passed: the pid, or -1 with errno set. */
pid_t spawn_start_io (const char *path, char *const argv[], char *const envp[],
                      const spawn_io_t *io);

/*  Opens (creates) a log file for appending: the fd, or -1. */
int spawn_open_log (const char *path);

/*  Waits up to timeout_ms for pid to exit, reaping it: 1 and *status set
    when it did, 0 when it still runs, -1 when it is not our child. */
int spawn_wait (pid_t pid, int timeout_ms, int *status);

/*  Describes a wait status ("exited with status 3", "killed by signal 11
    (Segmentation fault)") into out[size]. */
void spawn_describe (int status, char *out, size_t size);

#endif
