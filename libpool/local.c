/*  libpool/local.c - local mode's private cluster: start_node started,
    watched while it comes up, and stopped.  See local.h. */
#include "local.h"
#include "pool.h"
#include "proto/tree.h"

#include <czmq.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define LOCAL_START_MS 60000 /* until both ready lines: only catches a hang */
#define LOCAL_STOP_MS 30000  /* start_node's stop (its workers drain up to 5 s) */
#define LOCAL_PASSWORD_BYTES 24
#define LOCAL_READY_HEAD "dcpool head ready: port="
#define LOCAL_READY_NODE "dcpool node ready:"

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int refs;
    pid_t pid;    /* start_node; 0 when none runs */
    pid_t owner;  /* the process that started it: a forked child does not own it */
    int lifeline; /* the write end of start_node's stdin, or -1 */
    char dir[PATH_MAX];
    char server[64];
    char password[LOCAL_PASSWORD_BYTES * 2 + 1];
} s_local = { .lifeline = -1 };

/*  True when this libpool is the build tree's (not an installed copy):
    only then is the build tree's start_node the one that goes with it. */
static bool
s_in_build_tree (void)
{
#ifdef DCPOOL_BUILD_ROOT
    Dl_info info;
    return dladdr ((void *)s_in_build_tree, &info) && info.dli_fname
           && strncmp (info.dli_fname, DCPOOL_BUILD_ROOT "/",
                       strlen (DCPOOL_BUILD_ROOT) + 1)
                  == 0;
#else
    return true;
#endif
}

/*  start_node's path into out[size]: $DCPOOL_START_NODE, the build tree's
    (for a libpool of the build tree), the installed one; else only its
    name, and *search says to look on PATH. */
static void
s_find_start_node (char *out, size_t size, bool *search)
{
    *search = false;
    const char *env = getenv ("DCPOOL_START_NODE");
    if (env && *env) {
        snprintf (out, size, "%s", env);
        return;
    }
    const char *known[] = {
#ifdef DCPOOL_START_NODE_BUILD
        DCPOOL_START_NODE_BUILD,
#endif
#ifdef DCPOOL_START_NODE_INSTALL
        DCPOOL_START_NODE_INSTALL,
#endif
        NULL
    };
    size_t first = 0;
#ifdef DCPOOL_START_NODE_BUILD
    if (!s_in_build_tree ())
        first = 1; /* an installed libpool: never a build tree's start_node */
#endif
    for (size_t i = first; known[i]; i++)
        if (access (known[i], X_OK) == 0) {
            snprintf (out, size, "%s", known[i]);
            return;
        }
    snprintf (out, size, "start_node");
    *search = true;
}

/*  Waits up to timeout_ms for pid to exit, and reaps it: true when it is
    gone.  A pidfd is what is waited on; without one (a kernel before
    5.3) the wait is not bounded. */
static bool
s_wait_exit (pid_t pid, int64_t timeout_ms)
{
    int pidfd = (int)syscall (SYS_pidfd_open, pid, 0);
    if (pidfd >= 0) {
        struct pollfd item = { .fd = pidfd, .events = POLLIN };
        int64_t deadline = zclock_mono () + timeout_ms;
        int rc;
        do {
            int64_t left = deadline - zclock_mono ();
            rc = poll (&item, 1, left > 0 ? (int)left : 0);
        } while (rc < 0 && errno == EINTR);
        close (pidfd);
        if (rc == 0)
            return false;
    }
    /* ECHILD: reaped already (SIGCHLD ignored by the program) */
    while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return true;
}

/*  Stops the cluster, with s_lock held: SIGTERM (and the lifeline
    closed), a bounded wait, then SIGKILL, whose children die with it;
    whatever start_node could not remove of its directory is removed here.
    In a forked child, which does not own it, only our end of the
    lifeline goes. */
static void
s_stop (void)
{
    if (s_local.lifeline >= 0)
        close (s_local.lifeline);
    s_local.lifeline = -1;
    if (s_local.owner == getpid ()) {
        if (s_local.pid > 0) {
            kill (s_local.pid, SIGTERM);
            if (!s_wait_exit (s_local.pid, LOCAL_STOP_MS)) {
                kill (s_local.pid, SIGKILL);
                s_wait_exit (s_local.pid, LOCAL_STOP_MS);
            }
        }
        if (s_local.dir[0])
            proto_remove_tree (s_local.dir);
    }
    s_local.pid = 0;
    s_local.dir[0] = 0;
    s_local.server[0] = 0;
    sodium_memzero (s_local.password, sizeof s_local.password);
}

/*  The last lines start_node wrote to its log (its reason for failing),
    into out[size], newlines made "; ". */
static void
s_log_tail (char *out, size_t size)
{
    out[0] = 0;
    char path[PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/start_node.log", s_local.dir);
    FILE *file = fopen (path, "re");
    if (!file)
        return;
    char text[512];
    if (fseek (file, -(long)(sizeof text - 1), SEEK_END))
        rewind (file);
    size_t got = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    while (got && (text[got - 1] == '\n' || text[got - 1] == ' '))
        got--;
    text[got] = 0;
    for (char *p = text; *p; p++)
        if (*p == '\n')
            *p = ';';
    snprintf (out, size, "%s", text);
}

/*  A pipe end that is not stdin, stdout or stderr (a program may have
    closed those), so the dup2 of the spawn cannot clobber another: 0 or
    -1. */
static int
s_above_stdio (int *fd)
{
    if (*fd > STDERR_FILENO)
        return 0;
    int moved = fcntl (*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    close (*fd);
    *fd = moved;
    return moved < 0 ? -1 : 0;
}

/*  Reads start_node's stdout until both ready lines came: 0 and the
    head's port in *port, or -1 when start_node ended first or the
    deadline passed (*timed_out says which). */
static int
s_wait_ready (int fd, int *port, bool *timed_out)
{
    char text[4096];
    size_t used = 0;
    bool node = false;
    *port = 0;
    *timed_out = false;
    int64_t deadline = zclock_mono () + LOCAL_START_MS;
    while (!*port || !node) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0) {
            *timed_out = true;
            return -1;
        }
        struct pollfd item = { .fd = fd, .events = POLLIN };
        if (poll (&item, 1, (int)left) <= 0)
            continue; /* EINTR or the deadline: the loop decides */
        ssize_t got = read (fd, text + used, sizeof text - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        used += (size_t)got;
        text[used] = 0;
        /* Whole lines only: a line is read once its newline came. */
        char *line = text, *end;
        while ((end = strchr (line, '\n'))) {
            *end = 0;
            if (strncmp (line, LOCAL_READY_HEAD, strlen (LOCAL_READY_HEAD)) == 0)
                *port = atoi (line + strlen (LOCAL_READY_HEAD));
            else if (strncmp (line, LOCAL_READY_NODE, strlen (LOCAL_READY_NODE)) == 0)
                node = true;
            line = end + 1;
        }
        used = strlen (line);
        memmove (text, line, used + 1);
        if (used == sizeof text - 1)
            used = 0; /* a line this long is none of ours */
    }
    return 0;
}

/*  Starts start_node --head, with s_lock held: 0 once it is ready, or a
    POOL_E* code with the reason in error[error_size] and nothing left. */
static int
s_start (char *error, size_t error_size)
{
    char program[PATH_MAX];
    bool search;
    s_find_start_node (program, sizeof program, &search);
    s_local.owner = getpid ();
    const char *tmp = getenv ("TMPDIR");
    snprintf (s_local.dir, sizeof s_local.dir, "%s/dcpool-local.XXXXXX",
              tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp (s_local.dir)) {
        snprintf (error, error_size,
                  "local mode: cannot create a temporary directory %s: %s", s_local.dir,
                  strerror (errno));
        s_local.dir[0] = 0;
        return POOL_EIO;
    }
    if (sodium_init () < 0) {
        proto_remove_tree (s_local.dir);
        s_local.dir[0] = 0;
        snprintf (error, error_size, "local mode: libsodium cannot start");
        return POOL_ENOMEM;
    }
    unsigned char raw[LOCAL_PASSWORD_BYTES];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (s_local.password, sizeof s_local.password, raw, sizeof raw);
    sodium_memzero (raw, sizeof raw);

    int rc = POOL_ECONNECT;
    int out[2] = { -1, -1 }, life[2] = { -1, -1 }, log_fd = -1;
    char **envp = NULL;
    char password_env[sizeof s_local.password + 32];
    snprintf (password_env, sizeof password_env, "DCPOOL_PASSWORD=%s", s_local.password);
    char log_path[PATH_MAX + 32];
    snprintf (log_path, sizeof log_path, "%s/start_node.log", s_local.dir);
    if (pipe2 (out, O_CLOEXEC) || pipe2 (life, O_CLOEXEC)
        || (log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0
        || s_above_stdio (&out[0]) || s_above_stdio (&out[1]) || s_above_stdio (&life[0])
        || s_above_stdio (&life[1]) || s_above_stdio (&log_fd)) {
        snprintf (error, error_size, "local mode: cannot make pipes: %s",
                  strerror (errno));
        rc = POOL_EIO;
        goto failed;
    }
    /*  Our environment, the password replaced: never on a command line. */
    size_t count = 0;
    while (environ && environ[count])
        count++;
    envp = calloc (count + 2, sizeof *envp);
    if (!envp) {
        snprintf (error, error_size, "out of memory");
        rc = POOL_ENOMEM;
        goto failed;
    }
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (strncmp (environ[i], "DCPOOL_PASSWORD=", 16))
            envp[kept++] = environ[i];
    envp[kept] = password_env;
    char *argv[] = { program,
                     "--head",
                     "-p",
                     "0",
                     "--data-dir",
                     s_local.dir,
                     "--stdin-lifeline",
                     "--remove-data-dir",
                     NULL };

    /*  Its own process group: a Ctrl-C the program handles does not stop
        the cluster under it; the signals it ignores or blocks are not
        passed on. */
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset (&none);
    sigfillset (&all);
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_adddup2 (&actions, life[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2 (&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2 (&actions, log_fd, STDERR_FILENO);
    posix_spawnattr_init (&attr);
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
                                         | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setsigmask (&attr, &none);
    posix_spawnattr_setsigdefault (&attr, &all);
    posix_spawnattr_setpgroup (&attr, 0);
    pid_t pid;
    int spawned = search ? posix_spawnp (&pid, program, &actions, &attr, argv, envp)
                         : posix_spawn (&pid, program, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy (&actions);
    posix_spawnattr_destroy (&attr);
    sodium_memzero (password_env, sizeof password_env);
    if (spawned) {
        snprintf (error, error_size,
                  "local mode: cannot run %s: %s (set DCPOOL_START_NODE to its path, or "
                  "put it on PATH)",
                  program, strerror (spawned));
        goto failed;
    }
    s_local.pid = pid;
    s_local.owner = getpid ();
    s_local.lifeline = life[1];
    life[1] = -1;
    close (life[0]);
    close (out[1]);
    close (log_fd);
    life[0] = out[1] = log_fd = -1;

    int port;
    bool timed_out;
    if (s_wait_ready (out[0], &port, &timed_out)) {
        char tail[512];
        s_log_tail (tail, sizeof tail);
        snprintf (error, error_size, "local mode: the private cluster (%s) %s: %s",
                  program,
                  timed_out ? "was not ready within 60 s" : "stopped before it was ready",
                  tail[0] ? tail : "it said nothing");
        goto failed;
    }
    snprintf (s_local.server, sizeof s_local.server, "127.0.0.1:%d", port);
    close (out[0]);
    free (envp);
    return 0;

failed:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close (out[i]);
        if (life[i] >= 0)
            close (life[i]);
    }
    if (log_fd >= 0)
        close (log_fd);
    free (envp);
    s_stop ();
    return rc;
}

int
pool_local_acquire (char *server, size_t server_size, char *password,
                    size_t password_size, char *error, size_t error_size)
{
    pthread_mutex_lock (&s_lock);
    int rc = 0;
    if (s_local.pid > 0 && s_local.owner != getpid ()) {
        /* a forked child: the parent's cluster is not ours to use */
        s_stop ();
        s_local.refs = 0;
    }
    if (s_local.pid == 0)
        rc = s_start (error, error_size);
    if (rc == 0) {
        s_local.refs++;
        snprintf (server, server_size, "%s", s_local.server);
        snprintf (password, password_size, "%s", s_local.password);
    }
    pthread_mutex_unlock (&s_lock);
    return rc;
}

void
pool_local_release (void)
{
    pthread_mutex_lock (&s_lock);
    if (s_local.refs > 0 && --s_local.refs == 0)
        s_stop ();
    pthread_mutex_unlock (&s_lock);
}

void
pool_local_exit (void)
{
    pthread_mutex_lock (&s_lock);
    s_stop ();
    pthread_mutex_unlock (&s_lock);
}
