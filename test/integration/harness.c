/*  test/integration/harness.c - real clusters for integration tests.

    See harness.h for the contract.  Two processes take part:

    - the parent (h_main) makes the temporary directory, becomes a child
      subreaper (so that anything the body started and orphaned is
      reparented to it and can be waited for), forks the body, waits for it
      with a deadline, then stops what the body started, reaps every
      descendant left, scans logs and removes the directory;
    - the child runs the body.  Every process it starts is written to a
      registry in shared memory first, so that the parent knows exactly
      which processes to stop, in reverse order of start.
*/
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define H_MAX_PROCS 256   /* start_node runs, --status ones too */
#define H_STOP_WAIT 20.0  /* seconds from SIGTERM to SIGKILL */
#define H_READY_WAIT 60.0 /* seconds for a ready line */
#define H_BODY_WAIT 100.0 /* seconds for the whole body */

/* Shared between parent and child: what the child started. */
typedef struct {
    pid_t pid;
    int reaped;  /* waited for by the child */
    int status;  /* its wait status when reaped */
    int is_node; /* a start_node to stop with SIGTERM */
    char name[32];
    char dir[300];
} h_entry_t;

typedef struct {
    int count;
    h_entry_t entries[H_MAX_PROCS];
} h_registry_t;

static h_registry_t *s_registry;
static char s_base[200]; /* the temporary directory */
static char s_netns[64]; /* namespace for processes started next */
static pid_t s_main_pid; /* h_main's process: names namespaces */
int h_netns_join (const char *netns);
static void s_netns_cleanup (void);
static const char *s_test_name = "test";
static h_proc_t *s_procs[H_MAX_PROCS];
static int s_nprocs;
static int s_node_counter;
static volatile sig_atomic_t s_signalled;

/* ---- small helpers ----------------------------------------------------- */

double
h_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
h_timeout (double seconds)
{
    const char *m = getenv ("DCPOOL_TEST_TIMEOUT_MULTIPLIER");
    double mult = m ? atof (m) : 1.0;
    return seconds * (mult >= 1.0 ? mult : 1.0);
}

static void
s_nap (double seconds)
{
    struct timespec ts
        = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
    nanosleep (&ts, NULL);
}

void
h_log (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (stderr, "[%s] ", s_test_name);
    vfprintf (stderr, format, args);
    fputc ('\n', stderr);
    va_end (args);
}

const char *
h_password (void)
{
    /* One per test process (set in h_main, before any fork): two suites
       run at once on one machine never join each other's clusters, even
       when a head restarted on a port the other suite has just taken. */
    static char password[64];
    if (!password[0])
        snprintf (password, sizeof password, "dcpool-test-password-%d",
                  (int)(s_main_pid ? s_main_pid : getpid ()));
    return password;
}

const char *
h_tmpdir (void)
{
    return s_base;
}

int64_t
h_square (int64_t n)
{
    return (int64_t)((uint64_t)n * (uint64_t)n + 1);
}

bool
h_is_square (const pool_result_t *r, int64_t n)
{
    char want[32];
    int len = snprintf (want, sizeof want, "%" PRId64, h_square (n));
    return r->status == 0 && r->value.size == (size_t)len
           && memcmp (r->value.data, want, (size_t)len) == 0;
}

const char *
h_worker_path (const char *worker)
{
    /* A few distinct names per test: keep them for the process' life. */
    static char paths[16][512];
    static int used;
    const char *dir = getenv ("DCPOOL_TEST_WORKERS");
    char path[512];
    snprintf (path, sizeof path, "%s/%s.so", dir ? dir : ".", worker);
    for (int i = 0; i < used; i++)
        if (strcmp (paths[i], path) == 0)
            return paths[i];
    if (used == 16)
        H_FAIL ("too many worker paths");
    memcpy (paths[used], path, sizeof path);
    return paths[used++];
}

static void
s_print_output (const h_proc_t *proc)
{
    fprintf (stderr, "---- stdout of start_node %s (%s) ----\n%.*s\n", proc->name,
             proc->dir, (int)proc->out_len, proc->out ? proc->out : "");
}

void
h_fail (const char *file, int line, const char *what, const char *format, ...)
{
    fflush (stdout);
    fprintf (stderr, "FAIL %s:%d: ", file, line);
    if (what)
        fprintf (stderr, "check failed: %s -- ", what);
    va_list args;
    va_start (args, format);
    vfprintf (stderr, format, args);
    va_end (args);
    fputc ('\n', stderr);
    for (int i = 0; i < s_nprocs; i++)
        s_print_output (s_procs[i]);
    fflush (stderr);
    exit (1);
}

/* ---- registry ---------------------------------------------------------- */

static int
s_register (pid_t pid, bool is_node, const char *name, const char *dir)
{
    if (s_registry->count >= H_MAX_PROCS)
        return -1;
    h_entry_t *e = &s_registry->entries[s_registry->count];
    memset (e, 0, sizeof *e);
    e->pid = pid;
    e->is_node = is_node;
    snprintf (e->name, sizeof e->name, "%s", name);
    snprintf (e->dir, sizeof e->dir, "%s", dir ? dir : "");
    /* Publish the entry only once it is complete. */
    __atomic_store_n (&s_registry->count, s_registry->count + 1, __ATOMIC_SEQ_CST);
    return s_registry->count - 1;
}

static void
s_mark_reaped (pid_t pid, int status)
{
    for (int i = 0; i < s_registry->count; i++)
        if (s_registry->entries[i].pid == pid && !s_registry->entries[i].reaped) {
            s_registry->entries[i].status = status;
            s_registry->entries[i].reaped = 1;
        }
}

/* Waits up to timeout for pid: 1 and *status when it exited, 0 when not. */
static int
s_wait_pid (pid_t pid, double timeout, int *status, void (*drain) (void *), void *arg)
{
    double deadline = h_now () + timeout;
    while (true) {
        pid_t got = waitpid (pid, status, WNOHANG);
        if (got == pid)
            return 1;
        if (got < 0 && errno != EINTR) {
            *status = 0;
            return 1; /* not ours any more: nothing to wait for */
        }
        if (h_now () >= deadline)
            return 0;
        if (drain)
            drain (arg);
        s_nap (0.01);
    }
}

static void
s_describe_status (int status, char *out, size_t size)
{
    if (WIFEXITED (status))
        snprintf (out, size, "exit status %d", WEXITSTATUS (status));
    else if (WIFSIGNALED (status))
        snprintf (out, size, "killed by signal %d (%s)", WTERMSIG (status),
                  strsignal (WTERMSIG (status)));
    else
        snprintf (out, size, "wait status %d", status);
}

static int
s_exit_code (int status)
{
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    if (WIFSIGNALED (status))
        return 128 + WTERMSIG (status);
    return 255;
}

/* ---- output of start_node ------------------------------------------------ */

/* Reads what is available; returns false at end of file. */
static bool
s_read_some (h_proc_t *proc)
{
    if (proc->fd < 0)
        return false;
    while (true) {
        if (proc->out_cap - proc->out_len < 4096) {
            size_t cap = proc->out_cap ? proc->out_cap * 2 : 16384;
            char *out = realloc (proc->out, cap + 1);
            if (!out)
                H_FAIL ("out of memory");
            proc->out = out;
            proc->out_cap = cap;
        }
        ssize_t n
            = read (proc->fd, proc->out + proc->out_len, proc->out_cap - proc->out_len);
        if (n > 0) {
            proc->out_len += (size_t)n;
            proc->out[proc->out_len] = 0;
            continue;
        }
        if (n == 0) {
            close (proc->fd);
            proc->fd = -1;
            return false;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
}

static void
s_drain (void *arg)
{
    s_read_some ((h_proc_t *)arg);
}

/* Finds the next complete line containing what after proc->scanned; copies
   it into line and moves past it.  Waits up to timeout. */
static bool
s_wait_line (h_proc_t *proc, const char *what, double timeout, char *line, size_t size)
{
    double deadline = h_now () + timeout;
    while (true) {
        while (proc->out && proc->scanned < proc->out_len) {
            char *start = proc->out + proc->scanned;
            char *nl = memchr (start, '\n', proc->out_len - proc->scanned);
            if (!nl)
                break;
            proc->scanned = (size_t)(nl + 1 - proc->out);
            *nl = 0;
            bool found = strstr (start, what) != NULL;
            if (found)
                snprintf (line, size, "%s", start);
            *nl = '\n';
            if (found)
                return true;
        }
        double left = deadline - h_now ();
        if (left <= 0 || proc->fd < 0)
            return false;
        struct pollfd pfd = { proc->fd, POLLIN, 0 };
        poll (&pfd, 1, (int)(left * 1000) + 1);
        s_read_some (proc);
    }
}

/* ---- starting and stopping start_node ---------------------------------- */

/* Starts start_node with args and --data-dir: a fresh directory named for
   name, or the existing directory dir (a restart on the same data). */
static h_proc_t *
s_spawn_in (const char *name, const char *dir, const char *const *args)
{
    const char *start_node = getenv ("DCPOOL_START_NODE");
    h_proc_t *proc = calloc (1, sizeof *proc);
    if (!proc)
        H_FAIL ("out of memory");
    snprintf (proc->name, sizeof proc->name, "%s", name);
    if (dir)
        snprintf (proc->dir, sizeof proc->dir, "%s", dir);
    else {
        snprintf (proc->dir, sizeof proc->dir, "%s/%s", s_base, name);
        if (mkdir (proc->dir, 0700))
            H_FAIL ("mkdir %s: %s", proc->dir, strerror (errno));
    }

    const char *argv[40];
    int argc = 0;
    argv[argc++] = start_node;
    for (int i = 0; args[i] && argc < 36; i++)
        argv[argc++] = args[i];
    argv[argc++] = "--data-dir";
    argv[argc++] = proc->dir;
    argv[argc] = NULL;

    char cmdline[1024] = "";
    for (int i = 0; i < argc; i++) {
        strncat (cmdline, argv[i], sizeof cmdline - strlen (cmdline) - 2);
        strncat (cmdline, " ", sizeof cmdline - strlen (cmdline) - 1);
    }
    h_log ("starting %s: %s", name, cmdline);

    int pipefd[2];
    if (pipe2 (pipefd, O_CLOEXEC))
        H_FAIL ("pipe: %s", strerror (errno));
    /* A roomy pipe: start_node must never block on writing its stdout. */
    fcntl (pipefd[0], F_SETPIPE_SZ, 1 << 20);
    char err_path[300];
    snprintf (err_path, sizeof err_path, "%s/%s.stderr", s_base, name);
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0)
        H_FAIL ("fork: %s", strerror (errno));
    if (pid == 0) {
        int err = open (err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int null = open ("/dev/null", O_RDONLY);
        if (err < 0 || null < 0)
            _exit (126);
        dup2 (null, 0);
        dup2 (pipefd[1], 1);
        dup2 (err, 2);
        if (s_netns[0] && h_netns_join (s_netns))
            _exit (125);
        /* Same process group as the test: when meson kills the test's
           group on its timeout, start_node goes too. */
        execv (start_node, (char *const *)argv);
        dprintf (2, "exec %s: %s\n", start_node, strerror (errno));
        _exit (127);
    }
    close (pipefd[1]);
    proc->pid = pid;
    proc->fd = pipefd[0];
    fcntl (proc->fd, F_SETFL, fcntl (proc->fd, F_GETFL) | O_NONBLOCK);
    proc->slot = s_register (pid, true, name, proc->dir);
    if (proc->slot < 0)
        H_FAIL ("too many processes");
    s_procs[s_nprocs++] = proc;
    return proc;
}

static h_proc_t *
s_spawn (const char *name, const char *const *args)
{
    return s_spawn_in (name, NULL, args);
}

/* Fails the test because proc did not print `line` in time: says whether
   it ended (and how) or is still running. */
static void s_not_ready (h_proc_t *proc, const char *line, double timeout)
    __attribute__ ((noreturn));

static void
s_not_ready (h_proc_t *proc, const char *line, double timeout)
{
    int status = 0;
    if (proc->fd < 0 && s_wait_pid (proc->pid, 5, &status, NULL, NULL)) {
        s_mark_reaped (proc->pid, status);
        proc->stopped = true;
        char how[64];
        s_describe_status (status, how, sizeof how);
        H_FAIL ("start_node %s ended (%s) before saying '%s' (its stderr is "
                "printed below)",
                proc->name, how, line);
    }
    H_FAIL ("start_node %s did not say '%s' within %.0f s", proc->name, line, timeout);
}

/* Reads the node's ready line; fails the test when it does not come
   within timeout (0: only what was printed so far).  True when ready. */
static bool
s_ready (h_proc_t *proc, int cpu_workers, double timeout)
{
    char line[512];
    if (!s_wait_line (proc, "dcpool node ready:", timeout, line, sizeof line)) {
        if (timeout == 0 && proc->fd >= 0)
            return false;
        s_not_ready (proc, "dcpool node ready", timeout);
    }
    const char *id = strstr (line, "id=");
    const char *workers = strstr (line, "workers=");
    if (!id || !workers)
        H_FAIL ("cannot read the ready line '%s'", line);
    sscanf (id + 3, "%127s", proc->id);
    proc->workers = atoi (workers + 8);
    H_CHECK (proc->workers == cpu_workers,
             "start_node %s says workers=%d, started with --cpu-workers %d", proc->name,
             proc->workers, cpu_workers);
    h_log ("%s ready: id=%s workers=%d", proc->name, proc->id, proc->workers);
    return true;
}

static void
s_expect_ready (h_proc_t *proc, int cpu_workers)
{
    s_ready (proc, cpu_workers, h_timeout (H_READY_WAIT));
}

/* args, then extra (may be NULL), into out[max] with a NULL at the end. */
static void
s_join_args (const char **out, int max, const char *const *args, const char *const *extra)
{
    int n = 0;
    for (int i = 0; args[i] && n < max - 1; i++)
        out[n++] = args[i];
    for (int i = 0; extra && extra[i] && n < max - 1; i++)
        out[n++] = extra[i];
    out[n] = NULL;
}

h_proc_t *
h_start_head (int cpu_workers, bool server_only)
{
    return h_start_head_with (cpu_workers, server_only, NULL);
}

h_proc_t *
h_start_head_with (int cpu_workers, bool server_only, const char *const *extra)
{
    char workers[16];
    snprintf (workers, sizeof workers, "%d", cpu_workers);
    /* Not -p 0: a port of the kernel's ephemeral range could be taken
       by another test between a kill of this head and its restart. */
    char port[16];
    snprintf (port, sizeof port, "%d", h_free_port ());
    const char *base[] = { "--head",      "-p",
                           port,          "-r",
                           h_password (), "--cpu-workers",
                           workers,       server_only ? "--server-only" : NULL,
                           NULL };
    const char *args[32];
    s_join_args (args, 32, base, extra);
    /* A second head in one test gets its own name and data directory. */
    static int heads;
    char name[32] = "head";
    if (++heads > 1)
        snprintf (name, sizeof name, "head%d", heads);
    h_proc_t *proc = s_spawn (name, args);
    char line[512];
    double timeout = h_timeout (H_READY_WAIT);
    if (!s_wait_line (proc, "dcpool head ready: port=", timeout, line, sizeof line))
        s_not_ready (proc, "dcpool head ready: port=", timeout);
    proc->port = atoi (strstr (line, "port=") + 5);
    H_CHECK (proc->port > 0 && proc->port < 65536, "port in '%s'", line);
    snprintf (proc->server, sizeof proc->server, "127.0.0.1:%d", proc->port);
    h_log ("head ready on port %d", proc->port);
    if (!server_only)
        s_expect_ready (proc, cpu_workers);
    return proc;
}

h_proc_t *
h_start_node_async (const h_proc_t *head, int cpu_workers)
{
    return h_start_node_async_with (head, cpu_workers, NULL);
}

h_proc_t *
h_start_node_async_with (const h_proc_t *head, int cpu_workers, const char *const *extra)
{
    char name[32], port[16], workers[16];
    snprintf (name, sizeof name, "node%d", ++s_node_counter);
    snprintf (port, sizeof port, "%d", head->port);
    snprintf (workers, sizeof workers, "%d", cpu_workers);
    /* The head's address as its clients see it: loopback, or its address
       in a network namespace (h_set_address). */
    char host[64];
    snprintf (host, sizeof host, "%s", head->server);
    char *colon = strrchr (host, ':');
    if (colon)
        *colon = 0;
    const char *base[]
        = { "-a", host, "-p", port, "-r", h_password (), "--cpu-workers", workers, NULL };
    const char *args[32];
    s_join_args (args, 32, base, extra);
    h_proc_t *proc = s_spawn (name, args);
    proc->port = head->port;
    snprintf (proc->server, sizeof proc->server, "%s", head->server);
    proc->want_workers = cpu_workers;
    proc->started = h_now ();
    return proc;
}

bool
h_node_ready (h_proc_t *proc)
{
    if (proc->id[0])
        return true;
    if (h_now () - proc->started > h_timeout (H_READY_WAIT))
        H_FAIL ("start_node %s did not say 'dcpool node ready' within %.0f s", proc->name,
                h_timeout (H_READY_WAIT));
    s_read_some (proc);
    return s_ready (proc, proc->want_workers, 0);
}

h_proc_t *
h_start_node (const h_proc_t *head, int cpu_workers)
{
    return h_start_node_with (head, cpu_workers, NULL);
}

h_proc_t *
h_start_node_with (const h_proc_t *head, int cpu_workers, const char *const *extra)
{
    h_proc_t *proc = h_start_node_async_with (head, cpu_workers, extra);
    s_expect_ready (proc, cpu_workers);
    return proc;
}

/* SIGTERM, wait, SIGKILL.  Returns the wait status; *clean when it exited
   by itself after SIGTERM. */
static int
s_terminate (pid_t pid, double timeout, bool *clean, void (*drain) (void *), void *arg)
{
    int status = 0;
    kill (pid, SIGTERM);
    *clean = true;
    if (!s_wait_pid (pid, timeout, &status, drain, arg)) {
        *clean = false;
        kill (pid, SIGKILL);
        s_wait_pid (pid, 10, &status, NULL, NULL);
    }
    return status;
}

void
h_stop (h_proc_t *proc)
{
    if (proc->stopped)
        return;
    h_log ("stopping %s (pid %d)", proc->name, (int)proc->pid);
    bool clean;
    int status = s_terminate (proc->pid, h_timeout (H_STOP_WAIT), &clean, s_drain, proc);
    s_mark_reaped (proc->pid, status);
    proc->stopped = true;
    while (s_read_some (proc))
        if (proc->fd >= 0) {
            struct pollfd pfd = { proc->fd, POLLIN, 0 };
            if (poll (&pfd, 1, 1000) <= 0)
                break;
        }
    if (proc->fd >= 0) {
        close (proc->fd);
        proc->fd = -1;
    }
    char how[64];
    s_describe_status (status, how, sizeof how);
    H_CHECK (clean, "start_node %s did not stop within %.0f s of SIGTERM", proc->name,
             h_timeout (H_STOP_WAIT));
    H_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0,
             "start_node %s stopped with %s after SIGTERM, expected exit 0", proc->name,
             how);
}

int
h_run_start_node (const char *const *args, double timeout, char **output)
{
    const char *start_node = getenv ("DCPOOL_START_NODE");
    const char *argv[40];
    int argc = 0;
    argv[argc++] = start_node;
    for (int i = 0; args[i] && argc < 39; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    int pipefd[2];
    if (pipe2 (pipefd, O_CLOEXEC))
        H_FAIL ("pipe: %s", strerror (errno));
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0)
        H_FAIL ("fork: %s", strerror (errno));
    if (pid == 0) {
        int null = open ("/dev/null", O_RDONLY);
        dup2 (null, 0);
        dup2 (pipefd[1], 1);
        dup2 (pipefd[1], 2);
        execv (start_node, (char *const *)argv);
        dprintf (2, "exec %s: %s\n", start_node, strerror (errno));
        _exit (127);
    }
    close (pipefd[1]);
    s_register (pid, true, "start_node (one-shot)", NULL);
    h_proc_t capture = { .fd = pipefd[0] };
    snprintf (capture.name, sizeof capture.name, "one-shot");
    fcntl (capture.fd, F_SETFL, fcntl (capture.fd, F_GETFL) | O_NONBLOCK);
    double deadline = h_now () + timeout;
    while (capture.fd >= 0 && h_now () < deadline) {
        struct pollfd pfd = { capture.fd, POLLIN, 0 };
        poll (&pfd, 1, 100);
        s_read_some (&capture);
    }
    int status = 0;
    bool exited = s_wait_pid (pid, deadline - h_now () > 0 ? deadline - h_now () : 0.5,
                              &status, s_drain, &capture);
    if (!exited) {
        bool clean;
        status = s_terminate (pid, 5, &clean, s_drain, &capture);
    }
    s_mark_reaped (pid, status);
    if (capture.fd >= 0)
        close (capture.fd);
    *output = capture.out ? capture.out : strdup ("");
    if (!exited)
        H_FAIL ("start_node did not finish within %.0f s; it printed:\n%s", timeout,
                *output);
    return s_exit_code (status);
}

pid_t
h_fork (int (*fn) (void *arg), void *arg)
{
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0)
        H_FAIL ("fork: %s", strerror (errno));
    if (pid == 0) {
        /* Not the owner of the start_node processes: never stop them. */
        s_nprocs = 0;
        int code = fn (arg);
        fflush (NULL);
        exit (code);
    }
    s_register (pid, false, "forked client", NULL);
    return pid;
}

int
h_wait (pid_t pid, double timeout)
{
    int status = 0;
    if (!s_wait_pid (pid, timeout, &status, NULL, NULL)) {
        kill (pid, SIGKILL);
        s_wait_pid (pid, 10, &status, NULL, NULL);
        s_mark_reaped (pid, status);
        H_FAIL ("forked process %d did not finish within %.0f s", (int)pid, timeout);
    }
    s_mark_reaped (pid, status);
    return s_exit_code (status);
}

/* ---- failures: kills, restarts, process trees ---------------------------- */

void
h_kill (h_proc_t *proc, int sig)
{
    H_CHECK (!proc->stopped, "h_kill: start_node %s is already stopped", proc->name);
    h_log ("sending signal %d (%s) to %s (pid %d)", sig, strsignal (sig), proc->name,
           (int)proc->pid);
    H_CHECK (kill (proc->pid, sig) == 0, "kill %d: %s", (int)proc->pid, strerror (errno));
    if (sig != SIGKILL)
        return;
    int status = 0;
    if (!s_wait_pid (proc->pid, h_timeout (10), &status, s_drain, proc))
        H_FAIL ("start_node %s did not die of SIGKILL within 10 s", proc->name);
    s_mark_reaped (proc->pid, status);
    proc->stopped = true;
    s_read_some (proc);
    if (proc->fd >= 0) {
        close (proc->fd);
        proc->fd = -1;
    }
}

/* The pids of /proc entries whose parent is parent, and whose comm starts
   with comm when comm is not NULL. */
int
h_children (pid_t parent, const char *comm, pid_t *out, int max)
{
    int n = 0;
    DIR *dir = opendir ("/proc");
    if (!dir)
        return 0;
    struct dirent *de;
    while ((de = readdir (dir)) && n < max) {
        pid_t pid = (pid_t)atoi (de->d_name);
        if (pid <= 0)
            continue;
        char path[64], buf[512];
        snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen (path, "r");
        if (!f)
            continue;
        size_t len = fread (buf, 1, sizeof buf - 1, f);
        fclose (f);
        buf[len] = 0;
        char *lp = strchr (buf, '(');
        char *rp = strrchr (buf, ')');
        char state;
        int ppid;
        if (!lp || !rp || sscanf (rp + 1, " %c %d", &state, &ppid) != 2)
            continue;
        if (ppid != (int)parent || state == 'Z')
            continue;
        if (comm
            && (strncmp (lp + 1, comm, strlen (comm)) != 0
                || (size_t)(rp - lp - 1) < strlen (comm)))
            continue;
        out[n++] = pid;
    }
    closedir (dir);
    return n;
}

/*  A TCP socket bound to addr:port (port 0: the kernel picks one), its
    port into *bound: the socket, or -1 when the bind failed. */
static int
s_bound_socket (uint32_t addr, int port, int *bound)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    H_CHECK (fd >= 0, "socket: %s", strerror (errno));
    struct sockaddr_in sa;
    memset (&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl (addr);
    sa.sin_port = htons ((uint16_t)port);
    socklen_t len = sizeof sa;
    if (bind (fd, (struct sockaddr *)&sa, sizeof sa) != 0
        || getsockname (fd, (struct sockaddr *)&sa, &len) != 0) {
        close (fd);
        return -1;
    }
    *bound = ntohs (sa.sin_port);
    return fd;
}

/* 1 when nothing is bound to TCP port on any address now. */
static bool
s_port_free (int port)
{
    int bound;
    int fd = s_bound_socket (INADDR_ANY, port, &bound);
    if (fd < 0)
        return false;
    close (fd);
    return true;
}

/* A port the kernel picks (bind to port 0): free now, but any bind to
   port 0 may take it once it is let go. */
static int
s_kernel_port (void)
{
    int port = 0;
    int fd = s_bound_socket (INADDR_LOOPBACK, 0, &port);
    H_CHECK (fd >= 0, "bind 127.0.0.1:0: %s", strerror (errno));
    close (fd);
    return port;
}

/* Tests run side by side (meson test runs several at once), so a port
   must stay free after a test lets it go: a head it killed is started
   again on the same port.  The kernel hands out ports of its ephemeral
   range (net.ipv4.ip_local_port_range) to every bind to port 0 and every
   outgoing connection, any of which could take such a port in between;
   so the ports come from outside that range (below it, or above it when
   it starts too low), at random, checked free; where neither leaves
   room, from the kernel as before (bind to port 0). */
int
h_free_port (void)
{
    int low = 32768, high = 60999;
    FILE *file = fopen ("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (file) {
        if (fscanf (file, "%d %d", &low, &high) != 2)
            low = 32768, high = 60999;
        fclose (file);
    }
    int first = 10000, last = low - 1; /* the ports to pick from */
    if (last - first < 1000) {
        first = high + 1;
        last = 65535;
    }
    if (last - first < 1000)
        return s_kernel_port ();
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t pick;
        H_CHECK (getrandom (&pick, sizeof pick, 0) == (ssize_t)sizeof pick,
                 "getrandom: %s", strerror (errno));
        int port = first + (int)(pick % (uint32_t)(last - first + 1));
        if (s_port_free (port))
            return port;
    }
    H_FAIL ("no free TCP port in %d..%d after 1000 tries", first, last);
}

h_proc_t *
h_restart_head (const h_proc_t *old, int cpu_workers, bool server_only,
                const char *const *extra)
{
    H_CHECK (old->stopped, "h_restart_head: start_node %s still runs", old->name);
    char workers[16], port[16], name[32];
    snprintf (workers, sizeof workers, "%d", cpu_workers);
    snprintf (port, sizeof port, "%d", old->port);
    const char *base[] = { "--head",      "-p",
                           port,          "-r",
                           h_password (), "--cpu-workers",
                           workers,       server_only ? "--server-only" : NULL,
                           NULL };
    const char *args[32];
    s_join_args (args, 32, base, extra);
    snprintf (name, sizeof name, "%.24s-again", old->name);
    h_proc_t *proc = s_spawn_in (name, old->dir, args);
    char line[512];
    double timeout = h_timeout (H_READY_WAIT);
    if (!s_wait_line (proc, "dcpool head ready: port=", timeout, line, sizeof line))
        s_not_ready (proc, "dcpool head ready: port=", timeout);
    proc->port = atoi (strstr (line, "port=") + 5);
    H_CHECK (proc->port == old->port, "the head came back on port %d, not %d", proc->port,
             old->port);
    snprintf (proc->server, sizeof proc->server, "127.0.0.1:%d", proc->port);
    h_log ("head back on port %d", proc->port);
    if (!server_only)
        s_expect_ready (proc, cpu_workers);
    return proc;
}

/* ---- pools --------------------------------------------------------------- */

double
h_xor_echo (pool_t *pool, size_t size)
{
    uint8_t *input = malloc (size);
    H_CHECK (input, "out of memory for an input of %zu bytes", size);
    input[0] = 'S';
    for (size_t i = 1; i < size; i++)
        input[i] = (uint8_t)(i * 2654435761u >> 13);
    pool_bytes_t in = { input, size };
    pool_result_t result;
    double started = h_now ();
    int rc = pool_map (pool, &in, 1, &result);
    double took = h_now () - started;
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    H_CHECK (result.status == 0, "status %d (%s): %s", result.status,
             pool_strerror (result.status), result.error ? result.error : "");
    H_CHECK (result.value.size == size, "output of %zu bytes, want %zu",
             result.value.size, size);
    const uint8_t *out = result.value.data;
    for (size_t i = 0; i < size; i++)
        if (out[i] != (uint8_t)(input[i] ^ 0x5A))
            H_FAIL ("output byte %zu is %u, want %u", i, out[i],
                    (uint8_t)(input[i] ^ 0x5A));
    pool_results_release (pool, &result, 1);
    free (input);
    return took;
}

void
h_options (pool_options_t *options, const h_proc_t *head, const char *worker)
{
    pool_options_default (options);
    options->server = head->server;
    options->password = h_password ();
    options->worker_library = worker ? h_worker_path (worker) : NULL;
    options->connect_timeout = h_timeout (10);
}

pool_t *
h_open (const h_proc_t *head, const char *worker, int workers)
{
    pool_options_t options;
    h_options (&options, head, worker);
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0 && pool, "pool_open (%s) failed: %s: %s", worker, pool_strerror (rc),
             pool_open_error ());
    rc = pool_wait_for_workers (pool, workers, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_for_workers (%d) for %s: %s: %s (has %d)", workers,
             worker, pool_strerror (rc), pool_last_error (pool),
             pool_workers_count (pool));
    return pool;
}

/* ---- the parent ---------------------------------------------------------- */

static void
s_on_signal (int sig)
{
    s_signalled = sig;
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove (path);
    return 0;
}

/* Children of this process that are still alive (the subreaper collects
   orphans): their pids into out, count returned. */
static int
s_live_children (pid_t *out, int max)
{
    int n = 0;
    DIR *dir = opendir ("/proc");
    if (!dir)
        return 0;
    struct dirent *de;
    pid_t self = getpid ();
    while ((de = readdir (dir)) && n < max) {
        pid_t pid = (pid_t)atoi (de->d_name);
        if (pid <= 0)
            continue;
        char path[64], buf[512];
        snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen (path, "r");
        if (!f)
            continue;
        size_t len = fread (buf, 1, sizeof buf - 1, f);
        fclose (f);
        buf[len] = 0;
        /* pid (comm) state ppid ...: comm may hold spaces, find the last ')'. */
        char *rp = strrchr (buf, ')');
        char state;
        int ppid;
        if (!rp || sscanf (rp + 1, " %c %d", &state, &ppid) != 2)
            continue;
        if (ppid == self && state != 'Z')
            out[n++] = pid;
    }
    closedir (dir);
    return n;
}

static void
s_comm (pid_t pid, char *out, size_t size)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen (path, "r");
    out[0] = 0;
    if (f) {
        if (fgets (out, (int)size, f))
            out[strcspn (out, "\n")] = 0;
        fclose (f);
    }
}

/* Prints a file's last max bytes to stderr. */
static void
s_print_tail (const char *path, long max)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return;
    fseek (f, 0, SEEK_END);
    long size = ftell (f);
    if (size <= 0) {
        fclose (f);
        return;
    }
    fseek (f, size > max ? size - max : 0, SEEK_SET);
    fprintf (stderr, "---- %s%s ----\n", path, size > max ? " (tail)" : "");
    char buf[4096];
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, f)) > 0)
        fwrite (buf, 1, n, stderr);
    fputc ('\n', stderr);
    fclose (f);
}

static bool s_found_sanitizer;
static bool s_dump_logs;

static bool
s_file_has_sanitizer_report (const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets (line, sizeof line, f))
        found = strstr (line, "ERROR: AddressSanitizer")
                || strstr (line, "ERROR: LeakSanitizer")
                || strstr (line, "SUMMARY: UndefinedBehaviorSanitizer")
                || strstr (line, ": runtime error: ");
    fclose (f);
    return found;
}

static int
s_visit_log (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    size_t len = strlen (path);
    bool is_log = (len > 4 && strcmp (path + len - 4, ".log") == 0)
                  || (len > 7 && strcmp (path + len - 7, ".stderr") == 0);
    if (!is_log)
        return 0;
    if (s_file_has_sanitizer_report (path)) {
        fprintf (stderr, "FAIL: a sanitizer reported an error in %s\n", path);
        s_found_sanitizer = true;
        s_print_tail (path, 64 * 1024);
    } else if (s_dump_logs)
        s_print_tail (path, 16 * 1024);
    return 0;
}

/* Stops everything the body left running; returns false when something
   did not stop cleanly. */
static bool
s_cleanup (void)
{
    bool ok = true;
    /* Reverse order of start: joined nodes before the head. */
    for (int i = s_registry->count - 1; i >= 0; i--) {
        h_entry_t *e = &s_registry->entries[i];
        if (e->reaped)
            continue;
        bool clean = true;
        int status = 0;
        if (waitpid (e->pid, &status, WNOHANG) == e->pid) {
            /* Died on its own after the body left. */
        } else
            status = s_terminate (e->pid, h_timeout (H_STOP_WAIT), &clean, NULL, NULL);
        e->reaped = 1;
        e->status = status;
        char how[64];
        s_describe_status (status, how, sizeof how);
        if (!clean) {
            fprintf (stderr,
                     "FAIL: %s (pid %d) did not stop within %.0f s "
                     "of SIGTERM; killed\n",
                     e->name, (int)e->pid, h_timeout (H_STOP_WAIT));
            ok = false;
        } else if (e->is_node && !(WIFEXITED (status) && WEXITSTATUS (status) == 0)) {
            fprintf (stderr,
                     "FAIL: start_node %s (pid %d) stopped with %s "
                     "after SIGTERM, expected exit 0\n",
                     e->name, (int)e->pid, how);
            ok = false;
        }
    }
    /* Whatever is left is a descendant that outlived its start_node. */
    double deadline = h_now () + h_timeout (10);
    while (true) {
        int status;
        while (waitpid (-1, &status, WNOHANG) > 0)
            ;
        pid_t left[64];
        int n = s_live_children (left, 64);
        if (n == 0)
            break;
        if (h_now () >= deadline) {
            for (int i = 0; i < n; i++) {
                char comm[64];
                s_comm (left[i], comm, sizeof comm);
                fprintf (stderr,
                         "FAIL: process %d (%s) was left running "
                         "after its start_node stopped; killed\n",
                         (int)left[i], comm);
                kill (left[i], SIGKILL);
            }
            ok = false;
            while (waitpid (-1, &status, 0) > 0)
                ;
            break;
        }
        s_nap (0.02);
    }
    return ok;
}

/* ------------------------------------------------------------------------
    Network namespaces (test/net/): the harness runs start_node in one when
    asked, and removes every namespace a test made, whatever happened. */

bool
h_file_has (const char *path, const char *text)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets (line, sizeof line, f))
        found = strstr (line, text) != NULL;
    fclose (f);
    return found;
}

void
h_skip (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (stderr, "[%s] skipped: ", s_test_name);
    vfprintf (stderr, format, args);
    fprintf (stderr, "\n");
    va_end (args);
    fflush (NULL);
    exit (77);
}

const char *
h_netns_prefix (void)
{
    static char prefix[32];
    if (!prefix[0])
        snprintf (prefix, sizeof prefix, "dcpt%d-", (int)s_main_pid);
    return prefix;
}

int
h_netns_join (const char *netns)
{
    char path[128];
    snprintf (path, sizeof path, "/var/run/netns/%s", netns);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = setns (fd, CLONE_NEWNET);
    close (fd);
    return rc;
}

void
h_use_netns (const char *netns)
{
    snprintf (s_netns, sizeof s_netns, "%s", netns ? netns : "");
}

void
h_enter_netns (const char *netns)
{
    if (h_netns_join (netns))
        H_FAIL ("cannot enter network namespace %s: %s", netns, strerror (errno));
}

void
h_set_address (h_proc_t *head, const char *address)
{
    snprintf (head->server, sizeof head->server, "%s:%d", address, head->port);
}

void
h_track (pid_t pid, const char *name)
{
    if (s_register (pid, false, name, NULL) < 0)
        H_FAIL ("too many processes");
}

void
h_untrack (pid_t pid, int status)
{
    s_mark_reaped (pid, status);
}

/* Removes the namespaces named with this test's prefix. */
static void
s_netns_cleanup (void)
{
    DIR *dir = opendir ("/var/run/netns");
    if (!dir)
        return;
    const char *prefix = h_netns_prefix ();
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (strncmp (entry->d_name, prefix, strlen (prefix)))
            continue;
        pid_t pid = fork ();
        if (pid == 0) {
            execlp ("ip", "ip", "netns", "delete", entry->d_name, (char *)NULL);
            _exit (127);
        }
        int status;
        if (pid > 0)
            waitpid (pid, &status, 0);
    }
    closedir (dir);
}

int
h_main (const char *name, void (*body) (void))
{
    s_test_name = name;
    s_main_pid = getpid ();
    (void)h_password (); /* fixed before anything forks */
    setvbuf (stdout, NULL, _IOLBF, 0);
    const char *start_node = getenv ("DCPOOL_START_NODE");
    const char *workers = getenv ("DCPOOL_TEST_WORKERS");
    if (!start_node || !workers || access (start_node, X_OK)) {
        fprintf (stderr,
                 "%s: skipped: DCPOOL_START_NODE and "
                 "DCPOOL_TEST_WORKERS must name start_node and the test "
                 "workers (meson test sets them)\n",
                 name);
        return 77;
    }
    s_registry = mmap (NULL, sizeof *s_registry, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s_registry == MAP_FAILED) {
        perror ("mmap");
        return 1;
    }
    memset (s_registry, 0, sizeof *s_registry);
    snprintf (s_base, sizeof s_base, "/tmp/dcpool-test-XXXXXX");
    if (!mkdtemp (s_base)) {
        perror ("mkdtemp");
        return 1;
    }
    prctl (PR_SET_CHILD_SUBREAPER, 1);

    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGALRM, &sa, NULL);

    double started = h_now ();
    fflush (NULL);
    pid_t child = fork ();
    if (child < 0) {
        perror ("fork");
        return 1;
    }
    if (child == 0) {
        signal (SIGTERM, SIG_DFL);
        signal (SIGINT, SIG_DFL);
        signal (SIGALRM, SIG_DFL);
        body ();
        fflush (NULL);
        exit (0);
    }
    /* Soak runs (scripts/chaos --seconds N) ask for more. */
    const char *body_wait = getenv ("DCPOOL_TEST_BODY_WAIT");
    double wait
        = body_wait && atof (body_wait) > H_BODY_WAIT ? atof (body_wait) : H_BODY_WAIT;
    alarm ((unsigned)h_timeout (wait));
    int status = 0;
    bool timed_out = false;
    while (waitpid (child, &status, 0) < 0) {
        if (errno != EINTR) {
            perror ("waitpid");
            break;
        }
        if (s_signalled) {
            timed_out = s_signalled == SIGALRM;
            fprintf (stderr, "FAIL: %s\n",
                     timed_out ? "the test did not finish in time; stopping it"
                               : "interrupted; stopping the test");
            kill (child, SIGKILL);
            s_signalled = 0;
        }
    }
    alarm (0);
    bool skipped = WIFEXITED (status) && WEXITSTATUS (status) == 77 && !timed_out;
    if (skipped) {
        s_cleanup ();
        s_netns_cleanup ();
        nftw (s_base, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        fprintf (stderr, "[%s] skipped\n", name);
        return 77;
    }
    bool passed = WIFEXITED (status) && WEXITSTATUS (status) == 0 && !timed_out;
    if (!passed && WIFSIGNALED (status) && !timed_out)
        fprintf (stderr, "FAIL: the test body was killed by signal %d (%s)\n",
                 WTERMSIG (status), strsignal (WTERMSIG (status)));
    bool clean = s_cleanup ();
    s_netns_cleanup ();
    s_dump_logs = !passed || !clean;
    nftw (s_base, s_visit_log, 16, FTW_PHYS);
    bool ok = passed && clean && !s_found_sanitizer;
    fprintf (stderr, "[%s] %s in %.1f s\n", name, ok ? "passed" : "FAILED",
             h_now () - started);
    if (getenv ("DCPOOL_TEST_KEEP") && !ok)
        fprintf (stderr, "[%s] kept %s\n", name, s_base);
    else
        nftw (s_base, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return ok ? 0 : 1;
}
