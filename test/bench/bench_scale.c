/*  test/bench/bench_scale.c - what one pool costs as the cluster grows.

    bench_scale -s HOST:PORT -l LIBRARY -w WORKERS [-r PASSWORD] [--insecure]
                [-n N] [--reps R] [--head-pid PID] [--timeout SECONDS]

    Against a cluster of WORKERS workers (test/bench/scale.sh starts it),
    prints one JSON line per figure:

      {"workers":W,"measure":"NAME","value":X,"unit":"U"}

      pool_open_ms     pool_open, from the call to its return
      ready_ms         from the pool_open call until all WORKERS workers
                       have the library loaded (pool_wait_for_workers)
      update_ms        from pool_update_workers until the last worker has
                       applied it (bench_worker.so writes the moment into a
                       directory of ours; one host, one monotonic clock)
      noop             a map of N 8-byte no-op inputs, tasks/s (one per
                       repetition, after an untimed warm-up of 2,000)
      head_cpu_s       pool-head's CPU seconds (user + system) during that
                       map (with --head-pid)
      head_rss_mib     pool-head's peak resident memory from pool_open to
                       after the maps (VmHWM reset first, with --head-pid)

    A failure prints {"workers":W,"measure":...,"error":"..."} and exits 1.
    Nothing is asserted: this program only prints.
*/
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"
#include "proc_memory.h"

static int s_workers;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
s_emit (const char *measure, double value, const char *unit)
{
    printf ("{\"workers\":%d,\"measure\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}\n",
            s_workers, measure, value, unit);
    fflush (stdout);
}

static int
s_fail (const char *measure, const char *text)
{
    printf ("{\"workers\":%d,\"measure\":\"%s\",\"error\":\"%s\"}\n", s_workers, measure,
            text);
    fflush (stdout);
    fprintf (stderr, "bench_scale %s: %s\n", measure, text);
    return -1;
}

/* utime + stime of /proc/PID/stat in seconds, or -1. */
static double
s_cpu_seconds (const char *pid)
{
    char path[64], line[1024];
    snprintf (path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    char *got = fgets (line, sizeof line, f);
    fclose (f);
    char *p = got ? strrchr (line, ')') : NULL;
    if (!p)
        return -1;
    /* fields after ") ": state(3) ... utime(14) stime(15) */
    unsigned long long utime = 0, stime = 0;
    if (sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                &stime)
        != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf (_SC_CLK_TCK);
}

/*  The marks read so far (their names: workers' pids).  Each file is
    read once: opening all of them every millisecond took the client most
    of a core while 64 workers woke on the same two, which the figure then
    counted. */
#define MARKS_MAX 4096
static long s_seen[MARKS_MAX];
static int s_nseen;

static bool
s_seen_before (long pid)
{
    for (int i = 0; i < s_nseen; i++)
        if (s_seen[i] == pid)
            return true;
    return false;
}

/*  Marks in dir, each read once: how many, and the latest time (ns)
    written in them. */
static int
s_marks (const char *dir, long long *latest)
{
    DIR *d = opendir (dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir (d)) && s_nseen < MARKS_MAX) {
        if (e->d_name[0] == '.')
            continue;
        long pid = strtol (e->d_name, NULL, 10);
        if (s_seen_before (pid))
            continue;
        char path[600];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen (path, "r");
        long long ns = 0;
        /* A file still empty (created, not yet written) is read next time. */
        if (f && fscanf (f, "%lld", &ns) == 1) {
            s_seen[s_nseen++] = pid;
            if (ns > *latest)
                *latest = ns;
        }
        if (f)
            fclose (f);
    }
    closedir (d);
    return s_nseen;
}

/*  pool_update_workers until every worker has applied it: ms, or <0. */
static double
s_update (pool_t *pool, double timeout)
{
    char dir[256];
    snprintf (dir, sizeof dir, "%s/dcpool-scale-update.XXXXXX",
              getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp");
    if (!mkdtemp (dir))
        return s_fail ("update_ms", "mkdtemp failed");
    char update[300];
    int len = snprintf (update, sizeof update, "mark:%s", dir);
    double result = -1;
    s_nseen = 0;
    struct timespec t0;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    int rc = pool_update_workers (pool, (pool_bytes_t){ update, (size_t)len });
    if (rc < 0)
        s_fail ("update_ms", pool_strerror (rc));
    else {
        double deadline = s_now () + timeout;
        long long latest = 0;
        int count = 0;
        while ((count = s_marks (dir, &latest)) < s_workers && s_now () < deadline) {
            /* a 1 ms pause that keeps the pool's socket served */
            pool_poll (pool, 0.001);
        }
        if (count < s_workers)
            s_fail ("update_ms", "not every worker applied the update in time");
        else
            result = (double)(latest - ((long long)t0.tv_sec * 1000000000LL + t0.tv_nsec))
                     / 1e6;
    }
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "bench_scale: could not remove %s\n", dir);
    return result;
}

/*  Maps of n no-op inputs: tasks/s and the head's CPU seconds each. */
static int
s_noop (pool_t *pool, size_t n, int reps, const char *head_pid)
{
    uint64_t *values = malloc (n * sizeof *values);
    pool_bytes_t *in = malloc (n * sizeof *in);
    pool_result_t *res = calloc (n, sizeof *res);
    int rc = 0;
    if (!values || !in || !res)
        rc = s_fail ("noop", "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        values[i] = i * 2654435761u;
        in[i] = (pool_bytes_t){ &values[i], sizeof values[i] };
    }
    for (int rep = 0; rc == 0 && rep <= reps; rep++) {
        size_t count = rep == 0 ? (n < 2000 ? n : 2000) : n;
        double cpu0 = head_pid ? s_cpu_seconds (head_pid) : -1;
        double t0 = s_now ();
        rc = pool_map (pool, in, count, res);
        double t = s_now () - t0;
        double cpu1 = head_pid ? s_cpu_seconds (head_pid) : -1;
        if (rc < 0) {
            rc = s_fail ("noop", pool_last_error (pool));
            break;
        }
        size_t bad = 0;
        for (size_t i = 0; i < count; i++)
            if (res[i].status != 0 || res[i].value.size != sizeof (uint64_t)
                || memcmp (res[i].value.data, &values[i], sizeof (uint64_t)))
                bad++;
        pool_results_release (pool, res, count);
        if (bad) {
            rc = s_fail ("noop", "wrong results");
            break;
        }
        if (rep == 0)
            continue;
        s_emit ("noop", count / t, "tasks/s");
        if (cpu0 >= 0 && cpu1 >= 0)
            s_emit ("head_cpu_s", cpu1 - cpu0, "s");
    }
    free (values);
    free (in);
    free (res);
    return rc;
}

static void
s_on_alarm (int sig)
{
    (void)sig;
    static const char msg[] = "bench_scale: timed out\n";
    ssize_t rc = write (2, msg, sizeof msg - 1);
    (void)rc;
    _exit (3);
}

int
main (int argc, char **argv)
{
    const char *server = NULL, *password = getenv ("DCPOOL_PASSWORD");
    const char *library = NULL, *head_pid = NULL;
    int insecure = 0, reps = 3;
    size_t n = 1000000;
    double timeout = 240;
    static const struct option longopts[]
        = { { "server", required_argument, NULL, 's' },
            { "password", required_argument, NULL, 'r' },
            { "library", required_argument, NULL, 'l' },
            { "workers", required_argument, NULL, 'w' },
            { "insecure", no_argument, NULL, 'i' },
            { "reps", required_argument, NULL, 'R' },
            { "head-pid", required_argument, NULL, 'p' },
            { "timeout", required_argument, NULL, 'T' },
            { NULL, 0, NULL, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "s:r:l:w:n:", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            server = optarg;
            break;
        case 'r':
            password = optarg;
            break;
        case 'l':
            library = optarg;
            break;
        case 'w':
            s_workers = atoi (optarg);
            break;
        case 'n':
            n = strtoull (optarg, NULL, 10);
            break;
        case 'i':
            insecure = 1;
            break;
        case 'R':
            reps = atoi (optarg);
            break;
        case 'p':
            head_pid = optarg;
            break;
        case 'T':
            timeout = atof (optarg);
            break;
        default:
            return 2;
        }
    }
    if (!server || !password || !library || s_workers < 1 || n == 0 || reps < 1) {
        fprintf (stderr, "usage: bench_scale -s HOST:PORT -l LIBRARY -w WORKERS "
                         "[-r PW] [-n N] [--reps R] [--head-pid PID]\n");
        return 2;
    }
    signal (SIGALRM, s_on_alarm);
    alarm ((unsigned)timeout);

    pool_options_t opt;
    pool_options_default (&opt);
    opt.server = server;
    opt.password = password;
    opt.worker_library = library;
    opt.init_data = (pool_bytes_t){ "noop", 4 };
    opt.insecure = insecure;
    opt.min_workers = 1;
    opt.connect_timeout = 30;

    if (head_pid)
        proc_reset_peak (head_pid);
    pool_t *pool = NULL;
    double t0 = s_now ();
    int rc = pool_open (&pool, &opt);
    double t_open = s_now () - t0;
    if (rc < 0) {
        s_fail ("pool_open_ms", pool_open_error ());
        return 1;
    }
    s_emit ("pool_open_ms", t_open * 1e3, "ms");
    rc = pool_wait_for_workers (pool, s_workers, 120);
    if (rc < 0) {
        s_fail ("ready_ms", pool_strerror (rc));
        pool_close (&pool);
        return 1;
    }
    s_emit ("ready_ms", (s_now () - t0) * 1e3, "ms");

    double update_ms = s_update (pool, 60);
    if (update_ms >= 0)
        s_emit ("update_ms", update_ms, "ms");
    rc = s_noop (pool, n, reps, head_pid);
    if (head_pid)
        s_emit ("head_rss_mib", proc_status_kib (head_pid, "VmHWM") / 1024.0, "MiB");
    alarm (30);
    pool_close (&pool);
    return rc < 0 || update_ms < 0 ? 1 : 0;
}
