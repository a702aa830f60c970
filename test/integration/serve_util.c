/*  test/integration/serve_util.c - start_node --serve and curl, for the
    tests of published functions.  See serve_util.h. */
#include "serve_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *const *argv;
    int out_fd; /* stdout */
    int err_fd; /* stderr, or -1: /dev/null */
} s_exec_t;

static int
s_exec (void *arg)
{
    s_exec_t *exec = arg;
    int null = open ("/dev/null", O_RDWR);
    dup2 (null, 0);
    dup2 (exec->out_fd, 1);
    dup2 (exec->err_fd >= 0 ? exec->err_fd : null, 2);
    execvp (exec->argv[0], (char *const *)exec->argv);
    dprintf (2, "exec %s: %s\n", exec->argv[0], strerror (errno));
    return 127;
}

/*  Reads what fd has into buffer (size) until text (or other, when not
    NULL) appears in it, the other side closes or the deadline passes:
    true when it came. */
static bool
s_read_until (int fd, char *buffer, size_t size, size_t *used, const char *text,
              const char *other, double deadline)
{
    while (!strstr (buffer, text) && !(other && strstr (buffer, other))) {
        double left = deadline - h_now ();
        if (left <= 0)
            return false;
        struct pollfd item = { .fd = fd, .events = POLLIN };
        if (poll (&item, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        ssize_t got = read (fd, buffer + *used, size - 1 - *used);
        if (got <= 0)
            return false;
        *used += (size_t)got;
        buffer[*used] = 0;
    }
    return true;
}

void
serve_start (serve_proc_t *serve, const h_proc_t *head, const char *const *extra)
{
    memset (serve, 0, sizeof *serve);
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *argv[40] = { getenv ("DCPOOL_START_NODE"),
                             "--serve",
                             "0",
                             "--library",
                             h_worker_path ("serve_echo"),
                             "-a",
                             "127.0.0.1",
                             "-p",
                             port };
    int argc = 9;
    for (int i = 0; extra && extra[i] && argc < 39; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    setenv ("DCPOOL_PASSWORD", h_password (), 1);
    static int count;
    snprintf (serve->log, sizeof serve->log, "%s/serve%d.log", h_tmpdir (), ++count);
    int pipefd[2];
    H_CHECK (pipe2 (pipefd, O_CLOEXEC) == 0, "pipe: %s", strerror (errno));
    int err_fd = open (serve->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    H_CHECK (err_fd >= 0, "%s: %s", serve->log, strerror (errno));
    s_exec_t exec = { .argv = argv, .out_fd = pipefd[1], .err_fd = err_fd };
    serve->pid = h_fork (s_exec, &exec);
    close (pipefd[1]);
    close (err_fd);
    size_t used = 0;
    double deadline = h_now () + h_timeout (30);
    bool ready = s_read_until (pipefd[0], serve->said, sizeof serve->said, &used,
                               "dcpool serve ready: url=", NULL, deadline)
                 && s_read_until (pipefd[0], serve->said, sizeof serve->said, &used,
                                  "/run\n", NULL, deadline)
                 && s_read_until (pipefd[0], serve->said, sizeof serve->said, &used,
                                  "no authentication\n", "opens it)\n", deadline);
    if (!ready) {
        size_t size = 0;
        char *log = serve_read_file (serve->log, &size);
        H_FAIL ("start_node --serve did not say it is ready; it printed:\n%s\nlog:\n%s",
                serve->said, log ? log : "");
    }
    /* The rest of its stdout is not needed: it prints nothing more. */
    close (pipefd[0]);
    const char *url = strstr (serve->said, "url=") + 4;
    size_t len = strcspn (url, "\n");
    H_CHECK (len < sizeof serve->url, "url too long");
    memcpy (serve->url, url, len);
    serve->url[len] = 0;
    H_CHECK (sscanf (serve->url, "http://%63[^:]:%d/run", serve->host, &serve->port) == 2,
             "cannot read the url '%s'", serve->url);
    h_log ("serve ready at %s", serve->url);
}

int
serve_stop (serve_proc_t *serve)
{
    H_CHECK (kill (serve->pid, SIGTERM) == 0, "kill: %s", strerror (errno));
    return h_wait (serve->pid, h_timeout (30));
}

int
serve_run_program (const char *const *argv, double timeout, char **out)
{
    char path[320];
    static int count;
    snprintf (path, sizeof path, "%s/run%d.out", h_tmpdir (), ++count);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    H_CHECK (fd >= 0, "%s: %s", path, strerror (errno));
    s_exec_t exec = { .argv = argv, .out_fd = fd, .err_fd = -1 };
    pid_t pid = h_fork (s_exec, &exec);
    close (fd);
    int code = h_wait (pid, timeout);
    size_t size;
    *out = serve_read_file (path, &size);
    H_CHECK (*out, "cannot read %s", path);
    unlink (path);
    return code;
}

char *
serve_read_file (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    size_t capacity = 4096, used = 0;
    char *data = malloc (capacity + 1);
    size_t got;
    while (data && (got = fread (data + used, 1, capacity - used, file)) > 0) {
        used += got;
        if (used == capacity) {
            char *bigger = realloc (data, capacity * 2 + 1);
            if (!bigger) {
                free (data);
                data = NULL;
                break;
            }
            data = bigger;
            capacity *= 2;
        }
    }
    fclose (file);
    if (data) {
        data[used] = 0;
        *size = used;
    }
    return data;
}

int
serve_post (const char *url, const void *body, size_t size, char **out, size_t *out_size)
{
    static int count;
    char in_path[320], out_path[320], data[340];
    ++count;
    snprintf (in_path, sizeof in_path, "%s/post%d.in", h_tmpdir (), count);
    snprintf (out_path, sizeof out_path, "%s/post%d.out", h_tmpdir (), count);
    snprintf (data, sizeof data, "@%s", in_path);
    FILE *file = fopen (in_path, "wb");
    H_CHECK (file && fwrite (body, 1, size, file) == size && fclose (file) == 0,
             "cannot write %s", in_path);
    const char *argv[] = { "curl",
                           "-s",
                           "-o",
                           out_path,
                           "-w",
                           "%{http_code}",
                           "--max-time",
                           "60",
                           "-H",
                           "Content-Type: application/octet-stream",
                           "--data-binary",
                           data,
                           url,
                           NULL };
    char *said = NULL;
    serve_run_program (argv, h_timeout (90), &said);
    int status = atoi (said);
    free (said);
    size_t got = 0;
    char *answer = serve_read_file (out_path, &got);
    if (out) {
        *out = answer ? answer : calloc (1, 1);
        if (out_size)
            *out_size = answer ? got : 0;
    } else
        free (answer);
    unlink (in_path);
    unlink (out_path);
    return status;
}
