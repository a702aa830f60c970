/*  test/bench/bench_pool.c - the dcpool side of the benchmarks.

    bench_pool MEASURE -s HOST:PORT -l LIBRARY [-r PASSWORD] [--insecure]
               [-n N] [--reps R] [--size BYTES] [--label NAME]
               [--start-node PATH] [--timeout SECONDS] [--as MEASURE]
               [--no-shared-memory] [--no-direct] [--spin-wait SECONDS]

    --spin-wait sets pool_options_t.spin_wait (default: the library's).
    The password may come from DCPOOL_PASSWORD.  LIBRARY is bench_worker.so.
    Every measure opens one pool, waits for its workers (pool_wait_for_workers)
    and runs one untimed warm-up before R timed repetitions.  Each
    repetition prints one JSON line on stdout:

      {"measure":"noop","system":"NAME","n":N,"rep":K,"value":X,"unit":"tasks/s"}

    and a failure prints {"measure":...,"system":...,"error":"..."} and
    exits 1.  Measures:

      noop      map of N 8-byte inputs, each returned as is: tasks/s
      rtt       N sequential maps of one 8-byte input: rtt_p50 and rtt_p99 (us);
                --as NAME names them NAME_p50 and NAME_p99
      rtt_future  the same as N sequential pool_submit + pool_future_wait:
                rtt_future_p50 and rtt_future_p99 (us)
      bw        one input of BYTES (default 64 MiB) echoed back:
                GB/s = (BYTES in + BYTES out) / seconds, 1 GB = 1e9 bytes;
                --no-shared-memory sends it through the head and sockets
                even to workers on this host (shared_memory_min = 0): on
                the data plane, or with --no-direct (direct_min = 0)
                through the head
      ms        map of N jobs that each busy-wait 1 ms: efficiency = jobs/s
                over the ideal (workers x 1000 jobs/s); also ms_jobs_per_s
      ms_timeline  the same map, each job reporting when it ran and where:
                the efficiency, and per worker (JSON "workers") how long
                after the map's start its first job began (first_ms), its
                jobs, the idle time between them (gaps_ms, gaps of more
                than 50 us) and how long before the map's end its last
                job ended (tail_ms), the time its jobs ran (busy_ms: more
                than 1 ms each when something else took its CPU) and the
                time between jobs too short to be a gap (between_ms):
                where a map's time goes.  Job times are CLOCK_MONOTONIC:
                first_ms and tail_ms mean something for workers on this
                host (or in network namespaces of it) only
      recovery  starts a second node (--start-node, 2 CPU workers), runs a
                stream of short jobs over both nodes, kill -9s the second
                node's start_node while its workers run jobs, and measures
                the time from the kill to the first result of a job that
                had started on the killed node and was run again elsewhere
                (recovery_ms), and to that re-run's start (recovery_start_ms)

    No timing is asserted anywhere: this program only prints.
*/
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

static const char *s_measure = "?";
static const char *s_label = "dcpool";

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
s_emit (const char *measure, size_t n, int rep, double value, const char *unit)
{
    printf ("{\"measure\":\"%s\",\"system\":\"%s\",\"n\":%zu,\"rep\":%d,"
            "\"value\":%.6g,\"unit\":\"%s\"}\n",
            measure, s_label, n, rep, value, unit);
    fflush (stdout);
}

static void
s_fail (const char *format, ...)
{
    char text[512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    for (char *p = text; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 32)
            *p = ' ';
    printf ("{\"measure\":\"%s\",\"system\":\"%s\",\"error\":\"%s\"}\n", s_measure,
            s_label, text);
    fflush (stdout);
    fprintf (stderr, "bench_pool %s (%s): %s\n", s_measure, s_label, text);
}

static char s_alarm_line[512];
static volatile pid_t s_node_pid; /* the recovery's second start_node */

/*  Prepares the line s_on_alarm prints: an error record for the report. */
static void
s_alarm_prepare (double seconds)
{
    snprintf (s_alarm_line, sizeof s_alarm_line,
              "{\"measure\":\"%s\",\"system\":\"%s\","
              "\"error\":\"timed out after %.0f s\"}\n",
              s_measure, s_label, seconds);
}

static void
s_on_alarm (int sig)
{
    if (s_node_pid > 0)
        kill (s_node_pid, SIGKILL);
    ssize_t rc = write (1, s_alarm_line, strlen (s_alarm_line));
    static const char msg[] = "bench_pool: timed out\n";
    rc = write (2, msg, sizeof msg - 1);
    (void)rc;
    _exit (3);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
s_percentile (double *v, size_t n, double p)
{
    qsort (v, n, sizeof *v, s_cmp_double);
    size_t k = (size_t)(p * (n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

/* --- measures -------------------------------------------------------- */

/*  Whether result i is right (arg: what the measure compares it with). */
typedef bool (s_check_fn) (const pool_result_t *res, size_t i, void *arg);

/*  Maps count inputs, hands each result to check and releases them; *t0
    and *t1 bracket the map.  0, or -1 after printing why (the map failed,
    or results were wrong). */
static int
s_map_checked (pool_t *pool, pool_bytes_t *in, size_t count, pool_result_t *res,
               s_check_fn *check, void *arg, double *t0, double *t1)
{
    *t0 = s_now ();
    int rc = pool_map (pool, in, count, res);
    *t1 = s_now ();
    if (rc < 0) {
        s_fail ("pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
        pool_results_release (pool, res, count); /* they hold what arrived */
        return -1;
    }
    size_t bad = 0;
    for (size_t i = 0; i < count; i++)
        bad += !check (&res[i], i, arg);
    pool_results_release (pool, res, count);
    if (bad) {
        s_fail ("%zu of %zu results wrong", bad, count);
        return -1;
    }
    return 0;
}

/*  The input came back as it was (values: the inputs). */
static bool
s_echoed (const pool_result_t *res, size_t i, void *values)
{
    return res->status == 0 && res->value.size == sizeof (uint64_t)
           && memcmp (res->value.data, (const uint64_t *)values + i, sizeof (uint64_t))
                  == 0;
}

/*  A map's n 8-byte inputs (value i * mul), their byte views and room for
    their results. */
typedef struct {
    uint64_t *values;
    pool_bytes_t *in;
    pool_result_t *res;
} inputs_t;

static void
s_inputs_free (inputs_t *inputs)
{
    free (inputs->values);
    free (inputs->in);
    free (inputs->res);
}

/*  0, or -1 after printing why (out of memory). */
static int
s_inputs_new (inputs_t *inputs, size_t n, uint64_t mul)
{
    inputs->values = malloc (n * sizeof *inputs->values);
    inputs->in = malloc (n * sizeof *inputs->in);
    inputs->res = calloc (n, sizeof *inputs->res);
    if (!inputs->values || !inputs->in || !inputs->res) {
        s_fail ("out of memory for %zu inputs", n);
        s_inputs_free (inputs);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        inputs->values[i] = i * mul;
        inputs->in[i] = (pool_bytes_t){ &inputs->values[i], sizeof inputs->values[i] };
    }
    return 0;
}

static int
s_noop (pool_t *pool, size_t n, int reps, const char *measure_name, int spin_us,
        int workers)
{
    inputs_t inputs;
    if (s_inputs_new (&inputs, n, 2654435761u))
        return -1;
    int rc = 0;
    for (int rep = 0; rep <= reps && rc == 0; rep++) {
        /* rep 0: warm-up on a smaller map */
        size_t warm = spin_us ? 200 : 2000;
        size_t count = rep == 0 ? (n < warm ? n : warm) : n;
        double t0, t1;
        rc = s_map_checked (pool, inputs.in, count, inputs.res, s_echoed, inputs.values,
                            &t0, &t1);
        double t = t1 - t0;
        if (rc < 0)
            break;
        if (rep == 0)
            continue;
        if (spin_us) {
            double ideal = workers * 1e6 / spin_us;
            s_emit ("ms_jobs_per_s", count, rep, count / t, "jobs/s");
            s_emit (measure_name, count, rep, (count / t) / ideal, "fraction");
        } else
            s_emit (measure_name, count, rep, count / t, "tasks/s");
    }
    s_inputs_free (&inputs);
    return rc;
}

/*  The ms map with the jobs' own times (bench_worker "spinlog:US"): where
    the time between the map's start and its end went, per worker. */
#define TIMELINE_WORKERS 64
#define TIMELINE_GAP_NS 50000

typedef struct {
    uint64_t pid;
    uint64_t first, last; /* start of its first job, end of its last (ns) */
    uint64_t gaps_ns, busy_ns;
    size_t gaps, jobs;
} timeline_worker_t;

typedef struct {
    uint64_t start, end, pid;
} timeline_job_t;

static int
s_cmp_job (const void *a, const void *b)
{
    const timeline_job_t *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

typedef struct {
    const uint64_t *values; /* the inputs */
    timeline_job_t *jobs;   /* each job's times, by input */
} timeline_t;

/*  The input came back with the job's times, which go into jobs. */
static bool
s_timed (const pool_result_t *res, size_t i, void *arg)
{
    timeline_t *timeline = arg;
    uint64_t out[4];
    if (res->status != 0 || res->value.size != sizeof out)
        return false;
    memcpy (out, res->value.data, sizeof out);
    timeline->jobs[i] = (timeline_job_t){ out[1], out[2], out[3] };
    return out[0] == timeline->values[i];
}

static int
s_timeline (pool_t *pool, size_t n, int reps, int spin_us, int workers)
{
    inputs_t inputs;
    if (s_inputs_new (&inputs, n, 1))
        return -1;
    timeline_job_t *jobs = malloc (n * sizeof *jobs);
    if (!jobs) {
        s_fail ("out of memory for %zu inputs", n);
        s_inputs_free (&inputs);
        return -1;
    }
    int rc = 0;
    for (int rep = 0; rep <= reps && rc == 0; rep++) {
        size_t count = rep == 0 ? (n < 200 ? n : 200) : n;
        timeline_t timeline = { inputs.values, jobs };
        double t0, t1;
        rc = s_map_checked (pool, inputs.in, count, inputs.res, s_timed, &timeline, &t0,
                            &t1);
        if (rc < 0)
            break;
        if (rep == 0)
            continue;
        qsort (jobs, count, sizeof *jobs, s_cmp_job);
        timeline_worker_t w[TIMELINE_WORKERS];
        size_t nw = 0, left_out = 0; /* jobs of workers past TIMELINE_WORKERS */
        for (size_t i = 0; i < count; i++) {
            if (nw == TIMELINE_WORKERS && w[nw - 1].pid != jobs[i].pid) {
                left_out++;
                continue;
            }
            if (nw == 0 || w[nw - 1].pid != jobs[i].pid) {
                w[nw++]
                    = (timeline_worker_t){ .pid = jobs[i].pid, .first = jobs[i].start };
            } else if (jobs[i].start > w[nw - 1].last + TIMELINE_GAP_NS) {
                w[nw - 1].gaps_ns += jobs[i].start - w[nw - 1].last;
                w[nw - 1].gaps++;
            }
            w[nw - 1].busy_ns += jobs[i].end - jobs[i].start;
            w[nw - 1].last = jobs[i].end;
            w[nw - 1].jobs++;
        }
        double t0_ns = t0 * 1e9, t1_ns = t1 * 1e9;
        double ideal = workers * 1e6 / spin_us;
        printf ("{\"measure\":\"ms_timeline\",\"system\":\"%s\",\"n\":%zu,\"rep\":%d,"
                "\"value\":%.6g,\"unit\":\"fraction\",\"map_ms\":%.3f,"
                "\"jobs_left_out\":%zu,\"workers\":[",
                s_label, count, rep, (count / (t1 - t0)) / ideal, (t1 - t0) * 1e3,
                left_out);
        for (size_t k = 0; k < nw; k++) {
            /* Workers are told apart by pid: two of one pid on two hosts
               would overlap, and their time between jobs is then 0. */
            uint64_t span = w[k].last - w[k].first, counted = w[k].busy_ns + w[k].gaps_ns;
            printf ("%s{\"jobs\":%zu,\"first_ms\":%.3f,\"busy_ms\":%.3f,\"gaps_ms\":%.3f,"
                    "\"gaps\":%zu,\"between_ms\":%.3f,\"tail_ms\":%.3f}",
                    k ? "," : "", w[k].jobs, ((double)w[k].first - t0_ns) / 1e6,
                    (double)w[k].busy_ns / 1e6, (double)w[k].gaps_ns / 1e6, w[k].gaps,
                    (double)(span > counted ? span - counted : 0) / 1e6,
                    (t1_ns - (double)w[k].last) / 1e6);
        }
        printf ("]}\n");
        fflush (stdout);
    }
    s_inputs_free (&inputs);
    free (jobs);
    return rc;
}

/*  One 8-byte input there and back: a map of one input, or a future. */
static int
s_one (pool_t *pool, pool_bytes_t in, bool future, pool_result_t *res, pool_future_t **f)
{
    if (!future)
        return pool_map (pool, &in, 1, res);
    int rc = pool_submit (pool, in, f);
    if (rc == 0)
        rc = pool_future_wait (*f, 60);
    if (rc == 0)
        rc = pool_future_result (*f, res);
    return rc;
}

static int
s_rtt (pool_t *pool, size_t n, int reps, const char *name, bool future)
{
    char p50[64], p99[64];
    snprintf (p50, sizeof p50, "%s_p50", name);
    snprintf (p99, sizeof p99, "%s_p99", name);
    double *lat = malloc (n * sizeof *lat);
    if (!lat)
        return -1;
    for (int rep = 0; rep <= reps; rep++) {
        size_t count = rep == 0 ? (n < 200 ? n : 200) : n;
        for (size_t i = 0; i < count; i++) {
            uint64_t v = i;
            pool_bytes_t in = { &v, sizeof v };
            pool_result_t res;
            pool_future_t *f = NULL;
            double t0 = s_now ();
            int rc = s_one (pool, in, future, &res, &f);
            lat[i] = (s_now () - t0) * 1e6;
            if (rc < 0 || res.status != 0 || res.value.size != sizeof v
                || memcmp (res.value.data, &v, sizeof v)) {
                s_fail ("round trip %zu: %s", i,
                        rc < 0 ? pool_strerror (rc) : "wrong result");
                free (lat);
                return -1;
            }
            if (future)
                pool_future_destroy (&f);
            else
                pool_results_release (pool, &res, 1);
        }
        if (rep == 0)
            continue;
        s_emit (p50, count, rep, s_percentile (lat, count, 0.50), "us");
        s_emit (p99, count, rep, s_percentile (lat, count, 0.99), "us");
    }
    free (lat);
    return 0;
}

static int
s_bw (pool_t *pool, size_t size, int reps, const char *name)
{
    unsigned char *buf = malloc (size);
    if (!buf) {
        s_fail ("out of memory for %zu bytes", size);
        return -1;
    }
    for (size_t i = 0; i < size; i++)
        buf[i] = (unsigned char)(i * 131 + (i >> 12));
    for (int rep = 0; rep <= reps; rep++) {
        pool_bytes_t in = { buf, size };
        pool_result_t res;
        double t0 = s_now ();
        int rc = pool_map (pool, &in, 1, &res);
        double t = s_now () - t0;
        if (rc < 0 || res.status != 0) {
            s_fail ("64 MiB echo: %s: %s",
                    rc < 0 ? pool_strerror (rc) : pool_strerror (res.status),
                    rc < 0 ? pool_last_error (pool) : (res.error ? res.error : ""));
            free (buf);
            return -1;
        }
        int ok = res.value.size == size && memcmp (res.value.data, buf, size) == 0;
        pool_results_release (pool, &res, 1);
        if (!ok) {
            s_fail ("echo of %zu bytes came back different", size);
            free (buf);
            return -1;
        }
        if (rep > 0)
            s_emit (name, size, rep, 2.0 * size / t / 1e9, "GB/s");
    }
    free (buf);
    return 0;
}

/* --- recovery ---------------------------------------------------------- */

typedef struct {
    pid_t pid;
    char dir[256];
    char out[300];
    char node_id[128];
} node_t;

static int
s_node_start (node_t *node, const char *start_node, const char *port,
              const char *password, int insecure, double timeout)
{
    snprintf (node->dir, sizeof node->dir, "%s/dcpool-bench-node.XXXXXX",
              getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp");
    if (!mkdtemp (node->dir))
        return -1;
    snprintf (node->out, sizeof node->out, "%s/start_node.out", node->dir);
    node->pid = fork ();
    if (node->pid < 0)
        return -1;
    if (node->pid == 0) {
        int fd = open (node->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
        setenv ("DCPOOL_PASSWORD", password, 1);
        const char *argv[] = { start_node,  "-a",
                               "127.0.0.1", "-p",
                               port,        "--data-dir",
                               node->dir,   "--cpu-workers",
                               "2",         insecure ? "--insecure" : NULL,
                               NULL };
        execv (start_node, (char **)argv);
        _exit (127);
    }
    s_node_pid = node->pid;
    double deadline = s_now () + timeout;
    while (s_now () < deadline) {
        FILE *f = fopen (node->out, "r");
        char line[512];
        while (f && fgets (line, sizeof line, f)) {
            char *p = strstr (line, "dcpool node ready: id=");
            if (p) {
                sscanf (p + strlen ("dcpool node ready: id="), "%127s", node->node_id);
                fclose (f);
                return 0;
            }
        }
        if (f)
            fclose (f);
        if (waitpid (node->pid, NULL, WNOHANG) == node->pid) {
            node->pid = 0;
            return -1;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep (&ts, NULL);
    }
    return -1;
}

static void
s_node_reap (node_t *node)
{
    if (node->pid > 0) {
        kill (node->pid, SIGKILL);
        waitpid (node->pid, NULL, 0);
        node->pid = 0;
        s_node_pid = 0;
    }
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", node->dir);
    if (system (cmd) != 0)
        fprintf (stderr, "bench_pool: could not remove %s\n", node->dir);
}

/*  Reads DIR/<index> (who started the job first); 1 when it names a
    worker of node_id. */
static int
s_started_on (const char *dir, uint64_t index, const char *node_id)
{
    char path[600], who[256] = "";
    snprintf (path, sizeof path, "%s/%" PRIu64, dir, index);
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    size_t len = fread (who, 1, sizeof who - 1, f);
    who[len] = 0;
    fclose (f);
    size_t idlen = strlen (node_id);
    return strncmp (who, node_id, idlen) == 0 && who[idlen] == '/';
}

/* Whether node_id started a job that has no result yet. */
static int
s_running_on (const char *dir, const uint64_t *idx, const char *answered, size_t jobs,
              const char *node_id)
{
    for (size_t i = 0; i < jobs; i++)
        if (!answered[i] && s_started_on (dir, idx[i], node_id))
            return 1;
    return 0;
}

static int
s_recovery (pool_t *pool, const char *mark_dir, const char *start_node, const char *port,
            const char *password, int insecure, int reps, size_t jobs, double timeout)
{
    int round = 0, retries = 0;
    for (int rep = 1; rep <= reps; rep++) {
        node_t node = { 0 };
        if (s_node_start (&node, start_node, port, password, insecure, 30) < 0) {
            s_fail ("second start_node did not get ready (see %s)", node.out);
            return -1;
        }
        int rc = pool_wait_for_workers (pool, 4, 30);
        if (rc < 0) {
            s_fail ("the pool did not get 4 workers: %s", pool_strerror (rc));
            s_node_reap (&node);
            return -1;
        }
        uint64_t base = (uint64_t)++round * 1000000; /* fresh marks */
        uint64_t *idx = malloc (jobs * sizeof *idx);
        pool_bytes_t *in = malloc (jobs * sizeof *in);
        for (size_t i = 0; i < jobs; i++) {
            idx[i] = base + i;
            in[i] = (pool_bytes_t){ &idx[i], sizeof idx[i] };
        }
        pool_iter_t *iter = NULL;
        rc = pool_imap_unordered (pool, in, jobs, &iter);
        if (rc < 0) {
            s_fail ("pool_imap_unordered: %s", pool_strerror (rc));
            s_node_reap (&node);
            return -1;
        }
        s_alarm_prepare (timeout);
        alarm ((unsigned)timeout);
        size_t idlen = strlen (node.node_id), from_b = 0, got = 0;
        char *answered = calloc (jobs, 1);
        double t_kill = 0, t_result = 0;
        pool_result_t res;
        while ((rc = pool_iter_next (iter, &res)) == 1) {
            got++;
            if (res.status != 0)
                continue;
            const char *who = res.value.data;
            int on_b = res.value.size > idlen && memcmp (who, node.node_id, idlen) == 0
                       && who[idlen] == '/';
            answered[res.index] = 1;
            if (!t_kill) {
                /* Kill once node B has answered a few jobs and is running
                   one that has no answer yet (its mark says B started it):
                   right after B's results arrive its workers may be idle,
                   waiting for more, and then no job of B is left to time. */
                if (on_b)
                    from_b++;
                if (from_b >= 4
                    && s_running_on (mark_dir, idx, answered, jobs, node.node_id)) {
                    t_kill = s_now ();
                    kill (node.pid, SIGKILL);
                    snprintf (s_alarm_line, sizeof s_alarm_line,
                              "{\"measure\":\"recovery_ms\",\"system\":\"%s\","
                              "\"error\":\"no job of the killed node ran "
                              "elsewhere within %.0f s of the kill\"}\n",
                              s_label, timeout);
                    alarm ((unsigned)timeout);
                }
            } else if (!t_result && !on_b) {
                uint64_t index = idx[res.index];
                if (s_started_on (mark_dir, index, node.node_id))
                    t_result = s_now ();
            }
        }
        alarm (0);
        pool_iter_destroy (&iter);
        free (answered);
        free (idx);
        free (in);
        s_node_reap (&node);
        if (rc < 0) {
            s_fail ("pool_iter_next: %s: %s", pool_strerror (rc), pool_last_error (pool));
            return -1;
        }
        if (!t_kill) {
            s_fail ("node B ran fewer than 4 of %zu jobs; nothing killed", jobs);
            return -1;
        }
        if (!t_result && retries < 3) {
            /* The job B was running had already answered when the kill
               landed (its result was on the way): nothing to time.  Again,
               with a fresh node. */
            retries++;
            fprintf (stderr, "bench_pool recovery: the killed node had no job "
                             "left unanswered; repeating\n");
            pool_wait_for_workers (pool, 2, 10);
            rep--;
            continue;
        }
        if (!t_result) {
            s_fail ("no job that started on the killed node came back from "
                    "another (%zu results)",
                    got);
            return -1;
        }
        s_emit ("recovery_ms", jobs, rep, (t_result - t_kill) * 1e3, "ms");
        /* the survivors are the 2 workers of the head's node again */
        pool_wait_for_workers (pool, 2, 10);
    }
    return 0;
}

/* --- main -------------------------------------------------------------- */

int
main (int argc, char **argv)
{
    const char *server = NULL, *password = getenv ("DCPOOL_PASSWORD");
    const char *library = NULL, *start_node = NULL;
    int insecure = 0, reps = 3;
    size_t n = 20000, size = (size_t)64 << 20;
    double timeout = 120;
    const char *as_name = NULL; /* --as: the noop figure's measure name */

    static const struct option longopts[]
        = { { "server", required_argument, NULL, 's' },
            { "password", required_argument, NULL, 'r' },
            { "library", required_argument, NULL, 'l' },
            { "insecure", no_argument, NULL, 'i' },
            { "reps", required_argument, NULL, 'R' },
            { "size", required_argument, NULL, 'S' },
            { "label", required_argument, NULL, 'L' },
            { "start-node", required_argument, NULL, 'N' },
            { "timeout", required_argument, NULL, 'T' },
            { "as", required_argument, NULL, 'A' },
            { "no-shared-memory", no_argument, NULL, 'M' },
            { "no-direct", no_argument, NULL, 'D' },
            { "spin-wait", required_argument, NULL, 'W' },
            { NULL, 0, NULL, 0 } };
    if (argc < 2) {
        fprintf (stderr,
                 "usage: bench_pool noop|rtt|bw|ms|ms_timeline|recovery -s HOST:PORT "
                 "-l LIBRARY [-r PW] [--insecure] [-n N] [--reps R] ...\n");
        return 2;
    }
    s_measure = argv[1];
    optind = 2;
    int c, no_shm = 0, no_direct = 0;
    double spin_wait = -1;
    while ((c = getopt_long (argc, argv, "s:r:l:n:", longopts, NULL)) != -1) {
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
        case 'n':
            n = strtoull (optarg, NULL, 10);
            break;
        case 'i':
            insecure = 1;
            break;
        case 'R':
            reps = atoi (optarg);
            break;
        case 'S':
            size = strtoull (optarg, NULL, 10);
            break;
        case 'L':
            s_label = optarg;
            break;
        case 'N':
            start_node = optarg;
            break;
        case 'T':
            timeout = atof (optarg);
            break;
        case 'A':
            as_name = optarg;
            break;
        case 'M':
            no_shm = 1;
            break;
        case 'D':
            no_direct = 1;
            break;
        case 'W':
            spin_wait = atof (optarg);
            break;
        default:
            return 2;
        }
    }
    if (!server || !password || !library || n == 0 || reps < 1) {
        fprintf (stderr, "bench_pool: -s, -r (or DCPOOL_PASSWORD), -l needed\n");
        return 2;
    }
    if (as_name && strcmp (argv[1], "rtt") != 0)
        s_measure = as_name;
    signal (SIGALRM, s_on_alarm);
    signal (SIGPIPE, SIG_IGN);

    char init[600];
    char mark_dir[256] = "";
    int spin_us = 0;
    if (strcmp (s_measure, "ms") == 0) {
        spin_us = 1000;
        snprintf (init, sizeof init, "spin:%d", spin_us);
    } else if (strcmp (s_measure, "ms_timeline") == 0) {
        spin_us = 1000;
        snprintf (init, sizeof init, "spinlog:%d", spin_us);
    } else if (strcmp (s_measure, "recovery") == 0) {
        if (!start_node) {
            fprintf (stderr, "bench_pool: recovery needs --start-node\n");
            return 2;
        }
        snprintf (mark_dir, sizeof mark_dir, "%s/dcpool-bench-mark.XXXXXX",
                  getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp");
        if (!mkdtemp (mark_dir)) {
            perror ("mkdtemp");
            return 1;
        }
        snprintf (init, sizeof init, "mark:%s:%d", mark_dir, 5000);
    } else
        snprintf (init, sizeof init, "noop");

    pool_options_t opt;
    pool_options_default (&opt);
    opt.server = server;
    opt.password = password;
    opt.worker_library = library;
    opt.init_data = (pool_bytes_t){ init, strlen (init) };
    opt.insecure = insecure;
    if (no_shm)
        opt.shared_memory_min = 0;
    if (no_direct)
        opt.direct_min = 0;
    if (spin_wait >= 0)
        opt.spin_wait = spin_wait;
    opt.min_workers = 2;
    opt.connect_timeout = 30;

    /* A bound on the whole run, whatever blocks. */
    s_alarm_prepare (timeout);
    alarm ((unsigned)timeout);
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &opt);
    if (rc < 0) {
        s_fail ("pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
        return 1;
    }
    rc = pool_wait_for_workers (pool, 2, 30);
    if (rc < 0) {
        s_fail ("pool_wait_for_workers: %s", pool_strerror (rc));
        pool_close (&pool);
        return 1;
    }
    int workers = pool_workers_count (pool);
    if (workers < 1)
        workers = 2;

    if (strcmp (argv[1], "noop") == 0)
        rc = s_noop (pool, n, reps, as_name ? as_name : "noop", 0, workers);
    else if (strcmp (s_measure, "ms") == 0)
        rc = s_noop (pool, n, reps, "ms_efficiency", spin_us, workers);
    else if (strcmp (s_measure, "ms_timeline") == 0)
        rc = s_timeline (pool, n, reps, spin_us, workers);
    else if (strcmp (s_measure, "rtt") == 0)
        rc = s_rtt (pool, n, reps, as_name ? as_name : "rtt", false);
    else if (strcmp (s_measure, "rtt_future") == 0)
        rc = s_rtt (pool, n, reps, "rtt_future", true);
    else if (strcmp (argv[1], "bw") == 0)
        rc = s_bw (pool, size, reps, as_name ? as_name : "bw");
    else if (strcmp (s_measure, "recovery") == 0) {
        alarm (0);
        const char *colon = strrchr (server, ':');
        rc = s_recovery (pool, mark_dir, start_node, colon ? colon + 1 : "8899", password,
                         insecure, reps, n, timeout);
        char cmd[300];
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", mark_dir);
        if (system (cmd) != 0)
            fprintf (stderr, "bench_pool: could not remove %s\n", mark_dir);
    } else {
        fprintf (stderr, "bench_pool: unknown measure '%s'\n", s_measure);
        rc = -1;
    }
    s_alarm_prepare (30);
    alarm (30);
    pool_close (&pool);
    return rc < 0 ? 1 : 0;
}
