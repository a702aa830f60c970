/*  A block multiply keeps going when a node is killed in the middle of it:
    a second start_node (two workers) is killed with SIGKILL while the 64
    jobs of a 512 x 512 float64 multiply (block size 64) run; its jobs are
    requeued to the head's worker and every block of the result is right.
    DCPOOL_MATRIX_JOB_DELAY_MS (test only) stretches each job so the kill
    lands mid-way.
*/
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pool_matrix.h"

#define N 512
#define BS 64

/*  The node to kill is started here, not through the harness, which
    expects every node it started to stop cleanly. */
static pid_t
s_start_victim (const h_proc_t *head)
{
    char dir[512], port[16];
    snprintf (dir, sizeof dir, "%s/victim", h_tmpdir ());
    mkdir (dir, 0700);
    snprintf (port, sizeof port, "%d", head->port);
    int fds[2];
    H_CHECK (pipe (fds) == 0, "pipe");
    pid_t pid = fork ();
    H_CHECK (pid >= 0, "fork");
    if (pid == 0) {
        char err[600];
        snprintf (err, sizeof err, "%s/victim.stderr", h_tmpdir ());
        FILE *e = freopen (err, "a", stderr);
        (void)e;
        dup2 (fds[1], 1);
        close (fds[0]);
        const char *bin = getenv ("DCPOOL_START_NODE");
        execl (bin, bin, "-a", "127.0.0.1", "-p", port, "-r", h_password (),
               "--cpu-workers", "2", "--data-dir", dir, (char *)NULL);
        _exit (127);
    }
    close (fds[1]);
    FILE *out = fdopen (fds[0], "r");
    char line[512];
    bool ready = false;
    while (!ready && fgets (line, sizeof line, out))
        ready = strstr (line, "dcpool node ready:") != NULL;
    /* Leave the pipe open in a forked reader?  Not needed: start_node
       prints nothing more; its writes after this would only see EPIPE. */
    H_CHECK (ready, "the victim node never said it was ready");
    h_log ("victim node ready (pid %d)", (int)pid);
    return pid;
}

static int
s_killer (void *arg)
{
    pid_t victim = *(pid_t *)arg;
    struct timespec nap = { 0, 700 * 1000000L };
    nanosleep (&nap, NULL);
    h_log ("kill -9 the victim node (pid %d) mid-multiply", (int)victim);
    /* _exit: this child inherited the parent's open pool, which is the
       parent's to close; exit () would have LeakSanitizer report it. */
    fflush (NULL);
    _exit (kill (victim, SIGKILL) == 0 ? 0 : 1);
}

static void
s_body (void)
{
    setenv ("DCPOOL_MATRIX_JOB_DELAY_MS", "60", 1);
    const char *const extra[] = { "--heartbeat", "250", NULL };
    h_proc_t *head = h_start_head_with (1, false, extra);
    pid_t victim = s_start_victim (head);
    pool_options_t options;
    h_options (&options, head, NULL);
    pool_t *pool = NULL;
    int rc = pool_matrix_open (&pool, &options);
    H_CHECK (rc == 0, "pool_matrix_open: %s: %s", pool_strerror (rc), pool_open_error ());
    H_CHECK (pool_wait_for_workers (pool, 3, h_timeout (60)) == 0, "3 workers, has %d",
             pool_workers_count (pool));

    double *a = malloc (N * N * sizeof *a), *b = malloc (N * N * sizeof *b);
    double *want = malloc (N * N * sizeof *want), *got = malloc (N * N * sizeof *got);
    unsigned seed = 7;
    for (int i = 0; i < N * N; i++) {
        seed = seed * 1103515245u + 12345u;
        a[i] = 0.5 + ((seed >> 8) & 0xffff) / 65536.0;
        seed = seed * 1103515245u + 12345u;
        b[i] = -1.5 + ((seed >> 8) & 0xffff) / 65536.0;
    }
    cblas_dgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, a, N, b, N, 0.0,
                 want, N);
    pool_matrix_t *ma = NULL, *mb = NULL, *mc = NULL;
    H_CHECK (pool_matrix_create (pool, &ma, a, N, N, POOL_FLOAT64, BS) == 0
                 && pool_matrix_create (pool, &mb, b, N, N, POOL_FLOAT64, BS) == 0,
             "create: %s", pool_last_error (pool));

    pid_t killer = h_fork (s_killer, &victim);
    double start = h_now ();
    rc = pool_matrix_multiply (pool, ma, false, mb, false, &mc);
    double took = h_now () - start;
    H_CHECK (h_wait (killer, h_timeout (30)) == 0, "the killer failed");
    int status = 0;
    H_CHECK (waitpid (victim, &status, 0) == victim && WIFSIGNALED (status),
             "the victim node was not killed");
    H_CHECK (rc == 0, "multiply: %s: %s", pool_strerror (rc), pool_last_error (pool));
    h_log ("multiply took %.2f s with the kill at 0.7 s", took);
    H_CHECK (took > 0.7, "the multiply ended (%.2f s) before the kill: nothing proved",
             took);
    H_CHECK (pool_matrix_get (pool, mc, got) == 0, "get: %s", pool_last_error (pool));
    for (int bi = 0; bi < N / BS; bi++)
        for (int bj = 0; bj < N / BS; bj++)
            for (int i = bi * BS; i < (bi + 1) * BS; i++)
                for (int j = bj * BS; j < (bj + 1) * BS; j++)
                    H_CHECK (fabs (got[i * N + j] - want[i * N + j])
                                 <= 1e-12 * fmax (1, fabs (want[i * N + j])),
                             "block (%d, %d), element (%d, %d): %.15g, want %.15g", bi,
                             bj, i, j, got[i * N + j], want[i * N + j]);
    h_log ("all %d blocks right", (N / BS) * (N / BS));
    pool_matrix_delete (&ma);
    pool_matrix_delete (&mb);
    pool_matrix_delete (&mc);
    free (a), free (b), free (want), free (got);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_gpu_matrix_multiply_survives_node_kill", s_body);
}
