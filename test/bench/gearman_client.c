/*  test/bench/gearman_client.c - the Gearman client of the benchmarks.

    gearman_client MEASURE -p PORT [-h HOST] [-n N] [--reps R] [--size BYTES]
                   [--label NAME] [--workers W] [--timeout SECONDS]

    Talks to the gearmand on HOST:PORT (default 127.0.0.1), whose workers are
    gearman_worker processes (W of them, default 2).  Prints JSON lines like
    bench_pool's.  Measures:
      noop  N 8-byte echoes submitted at once as concurrent tasks
            (gearman_client_add_task + gearman_client_run_tasks): tasks/s
      rtt   N sequential gearman_client_do of 8 bytes: rtt_p50/rtt_p99 (us)
      bw    BYTES (default 64 MiB) echoed with gearman_client_do:
            GB/s = 2 x BYTES / s
      ms    N concurrent tasks that each busy-wait 1 ms: ms_efficiency
            against W x 1000 jobs/s
*/
#include <getopt.h>
#include <libgearman/gearman.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *s_measure = "?";
static const char *s_label = "gearman";
static size_t s_done, s_bad;
static size_t s_window = 1000;

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
s_fail (const char *what, const char *detail)
{
    char text[400];
    snprintf (text, sizeof text, "%s: %s", what, detail ? detail : "");
    for (char *p = text; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 32)
            *p = ' ';
    printf ("{\"measure\":\"%s\",\"system\":\"%s\",\"error\":\"%s\"}\n", s_measure,
            s_label, text);
    fflush (stdout);
    fprintf (stderr, "gearman_client %s: %s\n", s_measure, text);
}

static char s_alarm_line[512];

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
    ssize_t rc = write (1, s_alarm_line, strlen (s_alarm_line));
    static const char msg[] = "gearman_client: timed out\n";
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

static gearman_return_t
s_complete (gearman_task_st *task)
{
    const uint64_t *want = gearman_task_context (task);
    if (gearman_task_data_size (task) != sizeof *want
        || memcmp (gearman_task_data (task), want, sizeof *want))
        s_bad++;
    s_done++;
    return GEARMAN_SUCCESS;
}

/* count concurrent tasks; 0 or -1 */
static int
s_tasks (gearman_client_st *client, const char *function, uint64_t *values, size_t count)
{
    s_done = s_bad = 0;
    /* libgearman's run_tasks costs grow with the task list: submit in
       windows of s_window tasks (1000 by default, --window) */
    for (size_t first = 0; first < count; first += s_window) {
        size_t end = first + s_window < count ? first + s_window : count;
        for (size_t i = first; i < end; i++) {
            gearman_return_t ret;
            if (!gearman_client_add_task (client, NULL, &values[i], function, NULL,
                                          &values[i], sizeof values[i], &ret)
                || ret != GEARMAN_SUCCESS) {
                s_fail ("add_task", gearman_client_error (client));
                return -1;
            }
        }
        gearman_return_t ret = gearman_client_run_tasks (client);
        gearman_client_task_free_all (client);
        if (ret != GEARMAN_SUCCESS) {
            s_fail ("run_tasks", gearman_client_error (client));
            return -1;
        }
    }
    if (s_done != count || s_bad) {
        s_fail ("results", "missing or wrong");
        return -1;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    int port = 4730, reps = 3, workers = 2;
    const char *host = "127.0.0.1";
    size_t n = 20000, size = (size_t)64 << 20;
    double timeout = 120;
    static const struct option longopts[] = { { "reps", required_argument, NULL, 'R' },
                                              { "size", required_argument, NULL, 'S' },
                                              { "label", required_argument, NULL, 'L' },
                                              { "workers", required_argument, NULL, 'w' },
                                              { "timeout", required_argument, NULL, 'T' },
                                              { "window", required_argument, NULL, 'W' },
                                              { NULL, 0, NULL, 0 } };
    if (argc < 2) {
        fprintf (stderr,
                 "usage: gearman_client noop|rtt|bw|ms -p PORT [-h HOST] [-n N]\n");
        return 2;
    }
    s_measure = argv[1];
    optind = 2;
    int c;
    while ((c = getopt_long (argc, argv, "p:h:n:", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            port = atoi (optarg);
            break;
        case 'h':
            host = optarg;
            break;
        case 'n':
            n = strtoull (optarg, NULL, 10);
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
        case 'w':
            workers = atoi (optarg);
            break;
        case 'T':
            timeout = atof (optarg);
            break;
        case 'W':
            s_window = strtoull (optarg, NULL, 10);
            break;
        default:
            return 2;
        }
    }
    signal (SIGALRM, s_on_alarm);
    s_alarm_prepare (timeout);
    alarm ((unsigned)timeout);

    gearman_client_st *client = gearman_client_create (NULL);
    if (!client
        || gearman_client_add_server (client, host, (in_port_t)port) != GEARMAN_SUCCESS) {
        s_fail ("connect", client ? gearman_client_error (client) : "no memory");
        return 1;
    }
    gearman_client_set_complete_fn (client, s_complete);

    int rc = 0;
    if (strcmp (s_measure, "noop") == 0 || strcmp (s_measure, "ms") == 0) {
        int spin = strcmp (s_measure, "ms") == 0;
        uint64_t *values = malloc (n * sizeof *values);
        for (size_t i = 0; i < n; i++)
            values[i] = i * 2654435761u;
        for (int rep = 0; rep <= reps && rc == 0; rep++) {
            size_t count = rep == 0 ? (n < 200 ? n : 200) : n;
            double t0 = s_now ();
            rc = s_tasks (client, spin ? "bench_spin" : "bench_noop", values, count);
            double t = s_now () - t0;
            if (rc == 0 && rep > 0 && spin) {
                s_emit ("ms_jobs_per_s", count, rep, count / t, "jobs/s");
                s_emit ("ms_efficiency", count, rep, count / t / (workers * 1000.0),
                        "fraction");
            } else if (rc == 0 && rep > 0)
                s_emit ("noop", count, rep, count / t, "tasks/s");
        }
        free (values);
    } else if (strcmp (s_measure, "rtt") == 0) {
        double *lat = malloc (n * sizeof *lat);
        for (int rep = 0; rep <= reps && rc == 0; rep++) {
            size_t count = rep == 0 ? (n < 200 ? n : 200) : n;
            for (size_t i = 0; i < count; i++) {
                uint64_t v = i;
                size_t result_size = 0;
                gearman_return_t ret;
                double t0 = s_now ();
                void *out = gearman_client_do (client, "bench_noop", NULL, &v, sizeof v,
                                               &result_size, &ret);
                lat[i] = (s_now () - t0) * 1e6;
                int ok = ret == GEARMAN_SUCCESS && out && result_size == sizeof v
                         && memcmp (out, &v, sizeof v) == 0;
                free (out);
                if (!ok) {
                    s_fail ("do", gearman_client_error (client));
                    rc = -1;
                    break;
                }
            }
            if (rc == 0 && rep > 0) {
                qsort (lat, count, sizeof *lat, s_cmp_double);
                s_emit ("rtt_p50", count, rep, lat[(size_t)(0.50 * (count - 1) + 0.5)],
                        "us");
                s_emit ("rtt_p99", count, rep, lat[(size_t)(0.99 * (count - 1) + 0.5)],
                        "us");
            }
        }
        free (lat);
    } else if (strcmp (s_measure, "bw") == 0) {
        unsigned char *buf = malloc (size);
        for (size_t i = 0; i < size; i++)
            buf[i] = (unsigned char)(i * 131 + (i >> 12));
        for (int rep = 0; rep <= reps && rc == 0; rep++) {
            size_t result_size = 0;
            gearman_return_t ret;
            double t0 = s_now ();
            void *out = gearman_client_do (client, "bench_noop", NULL, buf, size,
                                           &result_size, &ret);
            double t = s_now () - t0;
            int ok = ret == GEARMAN_SUCCESS && out && result_size == size
                     && memcmp (out, buf, size) == 0;
            free (out);
            if (!ok) {
                s_fail ("64 MiB echo", ret != GEARMAN_SUCCESS
                                           ? gearman_client_error (client)
                                           : "wrong result");
                rc = -1;
            } else if (rep > 0)
                s_emit ("bw", size, rep, 2.0 * size / t / 1e9, "GB/s");
        }
        free (buf);
    } else {
        fprintf (stderr, "gearman_client: unknown measure '%s'\n", s_measure);
        rc = -1;
    }
    gearman_client_free (client);
    return rc < 0 ? 1 : 0;
}
