/*  Two programs at once, two pools, two worker libraries (square and
    other): each program gets only its own library's results.  The first
    program's pool has both workers before the second program opens its
    pool, so the head must share them (it takes one back from the idle
    first pool); both pools are open before either maps, and the maps
    overlap.
*/
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

enum { N = 3000, ROUNDS = 3 };

typedef struct {
    const h_proc_t *head;
    const char *worker;
    int workers;     /* waits for this many before "ready" */
    int ready_fd;    /* writes one byte once its pool is open */
    int go_fd;       /* reads one byte before mapping */
    int not_mine[2]; /* the parent's ends: closed at once */
} s_program_t;

static void
s_input (const char *worker, size_t i, char *out, size_t size)
{
    if (strcmp (worker, "square") == 0)
        snprintf (out, size, "%zu", i + 1000);
    else
        snprintf (out, size, "other-%zu-abc", i);
}

static void
s_expected (const char *worker, size_t i, char *out, size_t size)
{
    if (strcmp (worker, "square") == 0)
        snprintf (out, size, "%" PRId64, h_square ((int64_t)i + 1000));
    else {
        char in[64];
        s_input (worker, i, in, sizeof in);
        size_t len = strlen (in);
        for (size_t k = 0; k < len && k + 1 < size; k++)
            out[k] = in[len - 1 - k];
        out[len < size ? len : size - 1] = 0;
    }
}

static int
s_program (void *arg)
{
    s_program_t *self = arg;
    close (self->not_mine[0]);
    close (self->not_mine[1]);
    pool_t *pool = h_open (self->head, self->worker, self->workers);
    H_CHECK (write (self->ready_fd, "r", 1) == 1, "barrier write");
    struct pollfd pfd = { self->go_fd, POLLIN, 0 };
    char go;
    H_CHECK (poll (&pfd, 1, (int)(h_timeout (60) * 1000)) == 1
                 && read (self->go_fd, &go, 1) == 1,
             "%s: the other program never opened its pool", self->worker);

    static char texts[N][64];
    static pool_bytes_t inputs[N];
    static pool_result_t results[N];
    for (size_t i = 0; i < N; i++) {
        s_input (self->worker, i, texts[i], sizeof texts[i]);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    for (int round = 0; round < ROUNDS; round++) {
        int rc = pool_map (pool, inputs, N, results);
        H_CHECK (rc == 0, "%s: pool_map: %s: %s", self->worker, pool_strerror (rc),
                 pool_last_error (pool));
        for (size_t i = 0; i < N; i++) {
            char want[64];
            s_expected (self->worker, i, want, sizeof want);
            H_CHECK (results[i].status == 0, "%s: input %zu: %s", self->worker, i,
                     results[i].error ? results[i].error : "");
            H_CHECK (results[i].value.size == strlen (want)
                         && memcmp (results[i].value.data, want, strlen (want)) == 0,
                     "%s: input '%s' gave '%.*s', want '%s' (another "
                     "program's result?)",
                     self->worker, texts[i], (int)results[i].value.size,
                     (const char *)results[i].value.data, want);
        }
        pool_results_release (pool, results, N);
    }
    pool_close (&pool);
    return 0;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    int ready[2], go[2];
    H_CHECK (pipe (ready) == 0 && pipe (go) == 0, "pipe");
    s_program_t a = { head, "square", 2, ready[1], go[0], { ready[0], go[1] } };
    s_program_t b = { head, "other", 1, ready[1], go[0], { ready[0], go[1] } };
    /* The first program's pool gets both workers, then the second opens. */
    char byte;
    int opened = 0;
    double deadline = h_now () + h_timeout (90);
    pid_t pa = h_fork (s_program, &a);
    pid_t pb = -1;
    while (opened < 2 && h_now () < deadline) {
        struct pollfd pfd = { ready[0], POLLIN, 0 };
        if (poll (&pfd, 1, 1000) == 1) {
            if (read (ready[0], &byte, 1) != 1)
                break;
            if (++opened == 1) {
                h_log ("the first program's pool has both workers; "
                       "starting the second program");
                pb = h_fork (s_program, &b);
            }
        }
        /* The first program died before its pool was ready: stop waiting
           (WNOWAIT: h_wait still collects its exit code). */
        siginfo_t info = { 0 };
        if (opened == 0
            && waitid (P_PID, (id_t)pa, &info, WEXITED | WNOHANG | WNOWAIT) == 0
            && info.si_pid == pa)
            break;
    }
    close (ready[1]);
    close (go[0]);
    if (opened == 2)
        H_CHECK (write (go[1], "gg", 2) == 2, "barrier write");
    close (go[1]);
    int ca = h_wait (pa, h_timeout (90));
    int cb = pb > 0 ? h_wait (pb, h_timeout (90)) : -1;
    H_CHECK (opened == 2, "only %d of the two programs opened its pool", opened);
    H_CHECK (ca == 0, "the square program failed (exit %d)", ca);
    H_CHECK (cb == 0, "the other program failed (exit %d)", cb);
}

int
main (void)
{
    return h_main ("test_two_programs_get_only_their_own_results", s_body);
}
