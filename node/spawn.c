/*  node/spawn.c - program lookup, environment building, fork/exec of a child. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static bool
s_is_executable (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISREG (st.st_mode) && access (path, X_OK) == 0;
}

int
spawn_find_program (const char *name, const char *env_var, char *out, size_t size,
                    char *error, size_t error_size)
{
    const char *forced = env_var ? getenv (env_var) : NULL;
    if (forced && *forced) {
        if (!s_is_executable (forced)) {
            snprintf (error, error_size, "%s=%s is not an executable file", env_var,
                      forced);
            return -1;
        }
        snprintf (out, size, "%s", forced);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        const char *dir = dirname (self);
        static const char *const near[] = { "%s", "%s/../head", "%s/../node" };
        for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
            char where[PATH_MAX], candidate[PATH_MAX * 2];
            snprintf (where, sizeof where, near[i], dir);
            snprintf (candidate, sizeof candidate, "%s/%s", where, name);
            if (s_is_executable (candidate)) {
                /*  The directory resolved, not the program: a symlink keeps
                    its name (Debian's redis-server links to redis-check-rdb,
                    which acts by the name it runs under). */
                char resolved[PATH_MAX];
                snprintf (out, size, "%s/%s",
                          realpath (where, resolved) ? resolved : where, name);
                return 0;
            }
        }
    }
    const char *path = getenv ("PATH");
    char *copy = strdup (path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    if (!copy) {
        snprintf (error, error_size, "out of memory");
        return -1;
    }
    int rc = -1;
    char *save = NULL;
    for (char *dir = strtok_r (copy, ":", &save); dir;
         dir = strtok_r (NULL, ":", &save)) {
        char candidate[PATH_MAX];
        snprintf (candidate, sizeof candidate, "%s/%s", *dir ? dir : ".", name);
        if (s_is_executable (candidate)) {
            snprintf (out, size, "%s", candidate);
            rc = 0;
            break;
        }
    }
    free (copy);
    if (rc)
        snprintf (error, error_size,
                  "cannot find the program %s: not next to start_node, not in the "
                  "build tree, not on PATH%s%s%s",
                  name, env_var ? " (set " : "", env_var ? env_var : "",
                  env_var ? " to its path)" : "");
    return rc;
}

struct spawn_env {
    char **vars;
    size_t count;
    size_t cap;
};

static int
s_env_append (spawn_env_t *self, char *entry)
{
    if (self->count + 2 > self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        char **vars = realloc (self->vars, cap * sizeof *vars);
        if (!vars)
            return -1;
        self->vars = vars;
        self->cap = cap;
    }
    self->vars[self->count++] = entry;
    self->vars[self->count] = NULL;
    return 0;
}

spawn_env_t *
spawn_env_new (void)
{
    spawn_env_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    for (char **var = environ; var && *var; var++) {
        char *copy = strdup (*var);
        if (!copy || s_env_append (self, copy)) {
            free (copy);
            spawn_env_destroy (&self);
            return NULL;
        }
    }
    if (!self->vars && s_env_append (self, NULL) == 0)
        self->count = 0; /* an empty but valid array */
    return self;
}

void
spawn_env_destroy (spawn_env_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    spawn_env_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        /* Values may be secrets (passwords, keys): wipe before freeing. */
        memset (self->vars[i], 0, strlen (self->vars[i]));
        free (self->vars[i]);
    }
    free (self->vars);
    free (self);
    *self_p = NULL;
}

void
spawn_env_unset (spawn_env_t *self, const char *name)
{
    size_t len = strlen (name);
    for (size_t i = 0; i < self->count; i++)
        if (strncmp (self->vars[i], name, len) == 0 && self->vars[i][len] == '=') {
            memset (self->vars[i], 0, strlen (self->vars[i]));
            free (self->vars[i]);
            self->vars[i] = self->vars[--self->count];
            self->vars[self->count] = NULL;
            i--;
        }
}

int
spawn_env_set (spawn_env_t *self, const char *name, const char *value)
{
    spawn_env_unset (self, name);
    size_t size = strlen (name) + strlen (value) + 2;
    char *entry = malloc (size);
    if (!entry)
        return -1;
    snprintf (entry, size, "%s=%s", name, value);
    if (s_env_append (self, entry)) {
        free (entry);
        return -1;
    }
    return 0;
}

char *const *
spawn_env_array (spawn_env_t *self)
{
    return self->vars;
}

int
spawn_open_log (const char *path)
{
    return open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

/* In the child, after fork: async-signal-safe calls only. */
static void
s_write_str (int fd, const char *text)
{
    ssize_t ignored = write (fd, text, strlen (text));
    (void)ignored;
}

pid_t
spawn_start (const char *path, char *const argv[], char *const envp[], int log_fd,
             int pass_fd)
{
    spawn_io_t io = { .out_fd = log_fd, .err_fd = log_fd, .pass_fds = { pass_fd, -1 } };
    return spawn_start_io (path, argv, envp, &io);
}

/*  Lowest descriptor the passed ones are moved to before they take 3 and
    4, so that one never overwrites the other. */
#define SPAWN_FD_PARK 64

pid_t
spawn_start_io (const char *path, char *const argv[], char *const envp[],
                const spawn_io_t *io)
{
    int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid != 0) {
        if (devnull >= 0)
            close (devnull);
        return pid;
    }
    /* The child. */
    prctl (PR_SET_PDEATHSIG, io->death_signal ? io->death_signal : SIGKILL);
    if (getppid () != parent)
        _exit (1); /* start_node died before prctl took effect */
    setpgid (0, 0);
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    signal (SIGPIPE, SIG_DFL);
    if (devnull >= 0)
        dup2 (devnull, 0);
    if (io->out_fd >= 0)
        dup2 (io->out_fd, 1);
    if (io->err_fd >= 0)
        dup2 (io->err_fd, 2);
    int parked[2] = { -1, -1 };
    for (int i = 0; i < 2; i++)
        if (io->pass_fds[i] >= 0)
            parked[i] = fcntl (io->pass_fds[i], F_DUPFD, SPAWN_FD_PARK);
    unsigned int first_closed = 3;
    for (int i = 0; i < 2 && parked[i] >= 0; i++) {
        dup2 (parked[i], 3 + i);
        fcntl (3 + i, F_SETFD, 0);
        first_closed = 4 + (unsigned int)i;
    }
    close_range (first_closed, ~0U, 0);
    execve (path, argv, envp);
    s_write_str (2, "start_node: cannot execute ");
    s_write_str (2, path);
    s_write_str (2, ": ");
    s_write_str (2, strerror (errno));
    s_write_str (2, "\n");
    _exit (127);
}

int
spawn_wait (pid_t pid, int timeout_ms, int *status)
{
    struct timespec start, now;
    clock_gettime (CLOCK_MONOTONIC, &start);
    while (true) {
        pid_t rc = waitpid (pid, status, WNOHANG);
        if (rc == pid)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
        clock_gettime (CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000
                       + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= timeout_ms)
            return 0;
        struct timespec pause = { 0, 10 * 1000000 };
        nanosleep (&pause, NULL);
    }
}

void
spawn_describe (int status, char *out, size_t size)
{
    if (WIFSIGNALED (status))
        snprintf (out, size, "killed by signal %d (%s)", WTERMSIG (status),
                  strsignal (WTERMSIG (status)));
    else if (WIFEXITED (status))
        snprintf (out, size, "exited with status %d", WEXITSTATUS (status));
    else
        snprintf (out, size, "stopped (wait status %d)", status);
}
