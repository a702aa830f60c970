/*  A program opens a pool while every worker of the cluster is still
    loading another program's pool: once those workers are ready, the head
    must share them, so the second program's pool_open gets a worker and
    both programs get their own results.

    The first pool's workers are held in their init (the square worker's
    gate: init data names a file init waits for) until the head has seen
    the second pool (start_node --status lists it), which makes the order
    of events certain instead of a race.
*/
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

enum { N = 500 };

typedef struct {
    const h_proc_t *head;
    const char *worker;
    const char *gate; /* square: init waits for this file */
    int ready_fd;
    int go_fd;
    int not_mine[2];
} s_program_t;

static int
s_program (void *arg)
{
    s_program_t *self = arg;
    close (self->not_mine[0]);
    close (self->not_mine[1]);
    pool_options_t options;
    h_options (&options, self->head, self->worker);
    if (self->gate)
        options.init_data = (pool_bytes_t){ self->gate, strlen (self->gate) };
    options.connect_timeout = h_timeout (15);
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "%s: pool_open: %s: %s", self->worker, pool_strerror (rc),
             pool_open_error ());
    H_CHECK (write (self->ready_fd, "r", 1) == 1, "barrier write");
    struct pollfd pfd = { self->go_fd, POLLIN, 0 };
    char go;
    H_CHECK (poll (&pfd, 1, (int)(h_timeout (90) * 1000)) == 1
                 && read (self->go_fd, &go, 1) == 1,
             "%s: the other program never opened its pool", self->worker);

    static char texts[N][32];
    static pool_bytes_t inputs[N];
    static pool_result_t results[N];
    bool square = strcmp (self->worker, "square") == 0;
    for (size_t i = 0; i < N; i++) {
        snprintf (texts[i], sizeof texts[i], square ? "%zu" : "in%zu", i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "%s: pool_map: %s: %s", self->worker, pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < N; i++) {
        char want[32];
        if (square)
            snprintf (want, sizeof want, "%" PRId64, h_square ((int64_t)i));
        else {
            size_t len = strlen (texts[i]);
            for (size_t k = 0; k < len; k++)
                want[k] = texts[i][len - 1 - k];
            want[len] = 0;
        }
        H_CHECK (results[i].status == 0 && results[i].value.size == strlen (want)
                     && memcmp (results[i].value.data, want, strlen (want)) == 0,
                 "%s: input '%s': status %d, '%.*s', want '%s'", self->worker, texts[i],
                 results[i].status, (int)results[i].value.size,
                 (const char *)results[i].value.data, want);
    }
    pool_results_release (pool, results, N);
    pool_close (&pool);
    return 0;
}

/* How many "gate.loading.*" markers the workers left. */
static int
s_loading (void)
{
    int n = 0;
    DIR *dir = opendir (h_tmpdir ());
    struct dirent *de;
    while (dir && (de = readdir (dir)))
        n += strncmp (de->d_name, "gate.loading.", 13) == 0;
    if (dir)
        closedir (dir);
    return n;
}

/* Whether a forked program has ended (it stays waitable for h_wait). */
static bool
s_exited (pid_t pid)
{
    siginfo_t info;
    memset (&info, 0, sizeof info);
    return waitid (P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0
           && info.si_pid == pid;
}

static void
s_nap (void)
{
    struct timespec ts = { 0, 20 * 1000000L };
    nanosleep (&ts, NULL);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    char gate[512];
    snprintf (gate, sizeof gate, "%s/gate", h_tmpdir ());
    int ready[2], go[2];
    H_CHECK (pipe (ready) == 0 && pipe (go) == 0, "pipe");
    s_program_t a = { head, "square", gate, ready[1], go[0], { ready[0], go[1] } };
    s_program_t b = { head, "other", NULL, ready[1], go[0], { ready[0], go[1] } };

    pid_t pa = h_fork (s_program, &a);
    double deadline = h_now () + h_timeout (60);
    while (s_loading () < 2 && h_now () < deadline)
        s_nap ();
    H_CHECK (s_loading () == 2,
             "%d of the 2 workers started loading the "
             "first pool",
             s_loading ());
    h_log ("both workers are loading the first pool; opening the second");

    pid_t pb = h_fork (s_program, &b);
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *status[]
        = { "--status", "-a", "127.0.0.1", "-p", port, "-r", h_password (), NULL };
    bool seen = false;
    while (!seen && h_now () < deadline) {
        char *output = NULL;
        h_run_start_node (status, h_timeout (30), &output);
        seen = strstr (output, "other.so") != NULL;
        free (output);
    }
    H_CHECK (seen, "start_node --status never listed the second pool");
    h_log ("the head has the second pool; letting the first pool's workers "
           "finish loading");
    int fd = open (gate, O_WRONLY | O_CREAT, 0600);
    H_CHECK (fd >= 0, "cannot create %s", gate);
    close (fd);

    close (ready[1]);
    close (go[0]);
    int opened = 0;
    char byte;
    deadline = h_now () + h_timeout (60);
    while (opened < 2 && h_now () < deadline && !s_exited (pa) && !s_exited (pb)) {
        struct pollfd pfd = { ready[0], POLLIN, 0 };
        if (poll (&pfd, 1, 200) == 1) {
            if (read (ready[0], &byte, 1) != 1)
                break;
            opened++;
        }
    }
    if (opened == 2)
        H_CHECK (write (go[1], "gg", 2) == 2, "barrier write");
    close (go[1]);
    int ca = h_wait (pa, h_timeout (90));
    int cb = h_wait (pb, h_timeout (90));
    H_CHECK (ca == 0, "the first program (square) failed (exit %d)", ca);
    H_CHECK (cb == 0,
             "the second program (other) failed (exit %d): its pool "
             "never got one of the workers that were loading the first pool",
             cb);
}

int
main (void)
{
    return h_main ("test_pool_opened_while_workers_load_gets_a_share", s_body);
}
