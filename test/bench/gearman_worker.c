/*  test/bench/gearman_worker.c - a Gearman worker for the benchmarks.

    gearman_worker -p PORT [-h HOST]

    Registers, on the gearmand at HOST:PORT (default 127.0.0.1):
      bench_noop  returns its workload unchanged (no-op, round trip, echo)
      bench_spin  busy-waits 1 ms of wall-clock time, returns its workload
    and serves jobs until killed.  scripts/bench runs two of them.
*/
#include <libgearman/gearman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <signal.h>
#include <time.h>

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *
s_echo (gearman_job_st *job, size_t *result_size, gearman_return_t *ret)
{
    size_t size = gearman_job_workload_size (job);
    void *out = malloc (size ? size : 1);
    if (!out) {
        *ret = GEARMAN_WORK_FAIL;
        return NULL;
    }
    memcpy (out, gearman_job_workload (job), size);
    *result_size = size;
    *ret = GEARMAN_SUCCESS;
    return out;
}

static void *
s_noop (gearman_job_st *job, void *context, size_t *result_size, gearman_return_t *ret)
{
    return s_echo (job, result_size, ret);
}

static void *
s_spin (gearman_job_st *job, void *context, size_t *result_size, gearman_return_t *ret)
{
    double until = s_now () + 1e-3;
    while (s_now () < until)
        ;
    return s_echo (job, result_size, ret);
}

int
main (int argc, char **argv)
{
    const char *host = "127.0.0.1";
    if ((argc != 3 && argc != 5) || strcmp (argv[1], "-p")
        || (argc == 5 && strcmp (argv[3], "-h"))) {
        fprintf (stderr, "usage: gearman_worker -p PORT [-h HOST]\n");
        return 2;
    }
    if (argc == 5)
        host = argv[4];
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    gearman_worker_st *worker = gearman_worker_create (NULL);
    if (!worker
        || gearman_worker_add_server (worker, host, (in_port_t)atoi (argv[2]))
               != GEARMAN_SUCCESS
        || gearman_worker_add_function (worker, "bench_noop", 0, s_noop, NULL)
               != GEARMAN_SUCCESS
        || gearman_worker_add_function (worker, "bench_spin", 0, s_spin, NULL)
               != GEARMAN_SUCCESS) {
        fprintf (stderr, "gearman_worker: %s\n",
                 worker ? gearman_worker_error (worker) : "out of memory");
        return 1;
    }
    while (1) {
        gearman_return_t rc = gearman_worker_work (worker);
        if (rc != GEARMAN_SUCCESS) {
            fprintf (stderr, "gearman_worker: %s\n", gearman_worker_error (worker));
            break;
        }
    }
    gearman_worker_free (worker);
    return 1;
}
