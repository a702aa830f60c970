/*  test/integration/local_util.c - the local mode tests' client program
    and what it leaves.  See local_util.h. */
#include "local_util.h"
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LU_ENV_MAX 16

void
lu_start (lu_client_t *client, const char *mode, const char *const *extra_env)
{
    static int started;
    const char *program = getenv ("DCPOOL_TEST_LOCAL_CLIENT");
    const char *start_node = getenv ("DCPOOL_START_NODE");
    H_CHECK (program && start_node,
             "DCPOOL_TEST_LOCAL_CLIENT or DCPOOL_START_NODE unset");
    snprintf (client->tmpdir, sizeof client->tmpdir, "%s/client%d", h_tmpdir (),
              ++started);
    H_CHECK (mkdir (client->tmpdir, 0700) == 0, "mkdir %s: %s", client->tmpdir,
             strerror (errno));
    snprintf (client->mark, sizeof client->mark, "DCPOOL_TEST_MARK=%d-%d", (int)getpid (),
              started);

    static char path[4096], tmp[400], node[4096], mult[128];
    const char *env[LU_ENV_MAX];
    int n = 0;
    snprintf (path, sizeof path, "PATH=%s",
              getenv ("PATH") ? getenv ("PATH") : "/usr/bin:/bin");
    snprintf (tmp, sizeof tmp, "TMPDIR=%s", client->tmpdir);
    snprintf (node, sizeof node, "DCPOOL_START_NODE=%s", start_node);
    env[n++] = path;
    env[n++] = tmp;
    env[n++] = node;
    env[n++] = client->mark;
    if (getenv ("DCPOOL_TEST_TIMEOUT_MULTIPLIER")) {
        snprintf (mult, sizeof mult, "DCPOOL_TEST_TIMEOUT_MULTIPLIER=%s",
                  getenv ("DCPOOL_TEST_TIMEOUT_MULTIPLIER"));
        env[n++] = mult;
    }
    for (int i = 0; extra_env && extra_env[i] && n < LU_ENV_MAX - 1; i++)
        env[n++] = extra_env[i];
    env[n] = NULL;

    int out[2], in[2];
    H_CHECK (pipe2 (out, O_CLOEXEC) == 0 && pipe2 (in, O_CLOEXEC) == 0, "pipe: %s",
             strerror (errno));
    fflush (NULL);
    pid_t pid = fork ();
    H_CHECK (pid >= 0, "fork: %s", strerror (errno));
    if (pid == 0) {
        dup2 (in[0], STDIN_FILENO);
        dup2 (out[1], STDOUT_FILENO);
        const char *argv[] = { program, mode, h_worker_path ("square"), NULL };
        execve (program, (char *const *)argv, (char *const *)env);
        _exit (127);
    }
    /* Its stdin stays open (our end leaks into nothing: close-on-exec)
       until the test ends: "hold" waits on it. */
    close (in[0]);
    close (out[1]);
    client->pid = pid;
    client->out = out[0];
    h_track (pid, "local_client");
    h_log ("local_client %s started (pid %d, TMPDIR %s)", mode, (int)pid, client->tmpdir);
}

void
lu_read_line (lu_client_t *client, const char *prefix, char *line, size_t size,
              double timeout)
{
    static char text[8192];
    size_t used = 0;
    double deadline = h_now () + timeout;
    while (true) {
        text[used] = 0;
        for (char *start = text, *end; (end = strchr (start, '\n')); start = end + 1)
            if (!strncmp (start, prefix, strlen (prefix))) {
                snprintf (line, size, "%.*s", (int)(end - start), start);
                return;
            }
        double left = deadline - h_now ();
        H_CHECK (left > 0, "local_client printed no '%s' line within %.0f s", prefix,
                 timeout);
        H_CHECK (used < sizeof text - 1, "local_client printed too much");
        struct pollfd item = { .fd = client->out, .events = POLLIN };
        if (poll (&item, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        ssize_t got = read (client->out, text + used, sizeof text - 1 - used);
        H_CHECK (got > 0, "local_client ended before printing a '%s' line", prefix);
        used += (size_t)got;
    }
}

int
lu_wait (lu_client_t *client, double timeout)
{
    return h_wait (client->pid, timeout);
}

/* 1 when the environment of pid holds mark. */
static bool
s_has_mark (pid_t pid, const char *mark)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/environ", (int)pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    static char env[65536];
    size_t len = fread (env, 1, sizeof env - 1, file);
    fclose (file);
    env[len] = 0;
    size_t mark_len = strlen (mark);
    for (size_t at = 0; at < len; at += strlen (env + at) + 1)
        if (!strncmp (env + at, mark, mark_len) && env[at + mark_len] == 0)
            return true;
    return false;
}

int
lu_marked (const lu_client_t *client, pid_t *out, int max)
{
    int n = 0;
    DIR *dir = opendir ("/proc");
    H_CHECK (dir, "cannot read /proc");
    struct dirent *entry;
    while ((entry = readdir (dir)) && n < max) {
        pid_t pid = (pid_t)atoi (entry->d_name);
        if (pid > 0 && pid != client->pid && s_has_mark (pid, client->mark))
            out[n++] = pid;
    }
    closedir (dir);
    return n;
}

/* The first entry of dir (or "" when it is empty) into out[size]. */
static void
s_first_entry (const char *path, char *out, size_t size)
{
    out[0] = 0;
    DIR *dir = opendir (path);
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir (dir)))
        if (strcmp (entry->d_name, ".") && strcmp (entry->d_name, "..")) {
            snprintf (out, size, "%s", entry->d_name);
            break;
        }
    closedir (dir);
}

void
lu_check_nothing_left (const lu_client_t *client, double timeout)
{
    double deadline = h_now () + timeout;
    pid_t pids[64];
    int count;
    /* Each process still there is waited for through a pidfd: its exit,
       not a nap, ends the wait. */
    while ((count = lu_marked (client, pids, 64)) > 0) {
        double left = deadline - h_now ();
        char comm[64] = "?", path[64];
        snprintf (path, sizeof path, "/proc/%d/comm", (int)pids[0]);
        FILE *file = fopen (path, "r");
        if (file) {
            if (fgets (comm, sizeof comm, file))
                comm[strcspn (comm, "\n")] = 0;
            fclose (file);
        }
        H_CHECK (left > 0,
                 "%d process(es) of the private cluster left after %.0f s, "
                 "e.g. pid %d (%s)",
                 count, timeout, (int)pids[0], comm);
        int fd = (int)syscall (SYS_pidfd_open, pids[0], 0);
        if (fd < 0)
            continue; /* gone already */
        struct pollfd item = { .fd = fd, .events = POLLIN };
        poll (&item, 1, (int)(left * 1000) + 1);
        close (fd);
    }
    char left[256];
    s_first_entry (client->tmpdir, left, sizeof left);
    H_CHECK (!left[0], "the private cluster left %s/%s behind", client->tmpdir, left);
}
