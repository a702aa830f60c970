/*  test/integration/chaos.c - the chaos soak and the recovery figures
    (issue 3), run by scripts/chaos.

    dcpool-chaos [--seconds N] [--jobs N] [--big] [--measure]

    Default: starts a head (server only) and three nodes of two workers,
    and runs 20,000-job maps (--jobs N: N-job maps; tally worker, 10 ms
    jobs) from this client for N seconds (default 60: at least one whole
    map, another only when it fits in the time left) while a loop, every
    0.3 to 1.2 s, kills a random pool-worker (kill -9), kills a random
    node (kill -9 of start_node, its workers die with it) or starts a node
    again.  The client checks that every input of every map gets exactly
    one result and that each is right.  Prints the counts: kills by kind,
    node restarts, maps, results, runs beyond one per input (requeued jobs
    that ran again: each run leaves a file), and results that came from a
    repeated run.  Exits 0 when every check held.

    --big: the maps are of BIG_MAP inputs of BIG_SIZE bytes (xor worker,
    each output the input's bytes XOR 0x5A, as big) with shared memory off,
    so every input and output travels on the data plane (DESIGN.md
    section 13) while workers and nodes die mid-transfer; every byte of
    every result is checked.

    --measure: prints the recovery figures instead: the time from kill -9
    of a node to its jobs running elsewhere (median of 10, default
    heartbeat 1 s and liveness 3), and the time from a head restart to the
    first new result (pool-head killed and restarted by start_node; and
    start_node --head killed and started again on the same port and data
    directory), 3 times each.

    Uses the integration harness: it stops everything it started.
*/
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fail_util.h"

enum { NODES = 3, WORKERS = 2, MAX_NODES = 64 };

static double s_seconds = 60;
/* Jobs per tally map: a map should last about as long as the chaos, so
   that kills fall during it (one of 20,000 takes some 45 s here). */
static size_t s_jobs = 20000;
static bool s_measure;
static bool s_big;

enum { BIG_MAP = 200, BIG_SIZE = 1 << 20 };

/* ---- chaos ---------------------------------------------------------------- */

typedef struct {
    h_proc_t *nodes[MAX_NODES];
    int count;
    size_t worker_kills, node_kills, node_starts;
} s_cluster_t;

static int
s_alive (const s_cluster_t *c)
{
    int alive = 0;
    for (int i = 0; i < c->count; i++)
        alive += !c->nodes[i]->stopped;
    return alive;
}

/* One chaos action: kill a worker, kill a node, or start a node. */
static void
s_chaos_step (s_cluster_t *c, const h_proc_t *head)
{
    int alive = s_alive (c);
    int roll = rand () % 10;
    if (alive < NODES && (roll < 3 || alive < 2)) {
        if (c->count == MAX_NODES)
            return;
        c->nodes[c->count++] = h_start_node_async (head, WORKERS);
        c->node_starts++;
        return;
    }
    /* A live node that said it is ready. */
    h_proc_t *pick[MAX_NODES];
    int n = 0;
    for (int i = 0; i < c->count; i++)
        if (!c->nodes[i]->stopped && h_node_ready (c->nodes[i]))
            pick[n++] = c->nodes[i];
    if (n == 0)
        return;
    h_proc_t *node = pick[rand () % n];
    if (roll < 8 || n < 2) {
        pid_t pids[16];
        int w = fu_workers (node, pids, 16);
        if (w > 0 && kill (pids[rand () % w], SIGKILL) == 0)
            c->worker_kills++;
        return;
    }
    h_kill (node, SIGKILL);
    c->node_kills++;
}

/*  BIG_MAP inputs for the xor worker: mode 'A', then BIG_SIZE - 1 bytes
    that differ from input to input. */
static pool_bytes_t *
s_big_inputs (void)
{
    pool_bytes_t *inputs = calloc (BIG_MAP, sizeof *inputs);
    H_CHECK (inputs, "out of memory");
    for (size_t i = 0; i < BIG_MAP; i++) {
        uint8_t *bytes = malloc (BIG_SIZE);
        H_CHECK (bytes, "out of memory");
        bytes[0] = 'A';
        for (size_t k = 1; k < BIG_SIZE; k++)
            bytes[k] = (uint8_t)(k * 131 + i * 7 + (k >> 12));
        inputs[i] = (pool_bytes_t){ bytes, BIG_SIZE };
    }
    return inputs;
}

static void
s_big_free (pool_bytes_t *inputs)
{
    for (size_t i = 0; i < BIG_MAP; i++)
        free ((void *)inputs[i].data);
    free (inputs);
}

/*  A big result must be its input's bytes XOR 0x5A. */
static void
s_big_check (const pool_result_t *r, const pool_bytes_t *input)
{
    H_CHECK (r->status == 0, "chaos --big: input %zu: %s", r->index,
             r->error ? r->error : "error");
    H_CHECK (r->value.size == input->size, "chaos --big: input %zu: %zu bytes back",
             r->index, r->value.size);
    const uint8_t *in = input->data, *out = r->value.data;
    for (size_t k = 0; k < r->value.size; k++)
        H_CHECK (out[k] == (in[k] ^ 0x5A), "chaos --big: input %zu: byte %zu wrong",
                 r->index, k);
}

static size_t
s_count_files (const char *dir)
{
    size_t files = 0;
    DIR *d = opendir (dir);
    H_CHECK (d, "opendir %s: %s", dir, strerror (errno));
    for (struct dirent *de; (de = readdir (d));)
        files += de->d_name[0] != '.';
    closedir (d);
    return files;
}

static void
s_chaos (void)
{
    srand ((unsigned)time (NULL) ^ (unsigned)getpid ());
    const char *fast[] = { FU_FAST_HEARTBEAT, NULL };
    h_proc_t *head = h_start_head_with (0, true, fast);
    static s_cluster_t c;
    for (int i = 0; i < NODES; i++)
        c.nodes[c.count++] = h_start_node (head, WORKERS);

    double started = h_now ();
    double end = started + s_seconds;
    size_t maps = 0, results = 0, repeated = 0, runs = 0;
    double last_map = 0;
    /* Another map only when it can end within the time: a soak is bounded. */
    while (maps == 0 || h_now () + last_map < end) {
        double map_started = h_now ();
        char dir[300];
        snprintf (dir, sizeof dir, "%s/runs%zu", h_tmpdir (), maps);
        H_CHECK (mkdir (dir, 0700) == 0, "mkdir %s", dir);
        pool_options_t options;
        h_options (&options, head, s_big ? "xor" : "tally");
        options.init_data = (pool_bytes_t){ dir, strlen (dir) };
        /* Chaos kills workers mid-job: a job may be on a killed worker
           more than 3 times in a long soak.  Exactly-once is what is
           checked here, not the give-up rule. */
        options.max_attempts = 1000;
        if (s_big)
            options.shared_memory_min = 0; /* the data plane, even here */
        pool_t *pool = NULL;
        int rc = pool_open (&pool, &options);
        H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
        size_t count = s_big ? BIG_MAP : s_jobs;
        pool_bytes_t *inputs = s_big ? s_big_inputs () : fu_inputs (s_jobs, "s10");
        pool_iter_t *iter = NULL;
        rc = pool_imap_unordered (pool, inputs, count, &iter);
        H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
        fu_once_t once;
        fu_once_init (&once, count);
        double next = h_now () + 0.3 + (rand () % 900) / 1000.0;
        pool_result_t r;
        while ((rc = pool_iter_next (iter, &r)) == 1) {
            fu_once_add (&once, &r);
            if (s_big)
                s_big_check (&r, &inputs[r.index]);
            else {
                fu_check_value (&r, (long long)r.index, "chaos map");
                repeated += memmem (r.value.data, r.value.size, "#1@", 3) == NULL;
            }
            double now = h_now ();
            if (now < end && now >= next) {
                s_chaos_step (&c, head);
                next = now + 0.3 + (rand () % 900) / 1000.0;
            } else if (now >= end && s_alive (&c) == 0)
                c.nodes[c.count++] = h_start_node_async (head, WORKERS);
            for (int i = 0; i < c.count; i++)
                if (!c.nodes[i]->stopped)
                    h_node_ready (c.nodes[i]);
        }
        H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
                 pool_last_error (pool));
        pool_iter_destroy (&iter);
        fu_once_check (&once);
        results += once.results;
        pool_close (&pool);
        if (s_big)
            s_big_free (inputs);
        runs += s_big ? once.results : s_count_files (dir);
        maps++;
        last_map = h_now () - map_started;
        h_log ("map %zu: %zu results, each once and right (%.0f s in)", maps, count,
               h_now () - started);
    }
    /* Let nodes still starting finish, so they stop cleanly. */
    for (int i = 0; i < c.count; i++)
        while (!c.nodes[i]->stopped && !h_node_ready (c.nodes[i])) {
            struct timespec ts = { 0, 20 * 1000000L };
            nanosleep (&ts, NULL);
        }
    if (s_big)
        printf ("chaos --big: %.0f s, %zu map(s) of %d inputs and outputs of %d MiB on "
                "the data plane, %d+ nodes of %d workers\n",
                h_now () - started, maps, BIG_MAP, BIG_SIZE >> 20, NODES, WORKERS);
    else
        printf ("chaos: %.0f s, %zu map(s) of %zu jobs (10 ms each), %d+ nodes of %d "
                "workers\n",
                h_now () - started, maps, s_jobs, NODES, WORKERS);
    printf ("kills: %zu worker (kill -9 pool-worker), %zu node (kill -9 start_node); "
            "node starts: %zu\n",
            c.worker_kills, c.node_kills, c.node_starts);
    printf ("results: %zu, every input exactly once, every value right\n", results);
    if (!s_big)
        printf ("requeues: %zu runs beyond one per input (jobs that ran again after "
                "their worker or node died); %zu results came from a repeated run\n",
                runs - results, repeated);
    fflush (stdout);
}

/* ---- measurements -------------------------------------------------------- */

static int
s_cmp (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
s_median (double *v, int n)
{
    qsort (v, (size_t)n, sizeof *v, s_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Files in dir whose name ends with suffix. */
static int
s_files_ending (const char *dir, const char *suffix)
{
    int n = 0;
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    size_t sl = strlen (suffix);
    for (struct dirent *de; (de = readdir (d));) {
        size_t l = strlen (de->d_name);
        n += l > sl && strcmp (de->d_name + l - sl, suffix) == 0;
    }
    closedir (d);
    return n;
}

/* Workers the head reports ready (status text "  ready pool"). */
static int
s_ready_workers (const h_proc_t *head)
{
    char port[16];
    snprintf (port, sizeof port, "%d", head->port);
    const char *args[] = { "--status", "-p", port, "-r", h_password (), NULL };
    char *out = NULL;
    h_run_start_node (args, h_timeout (30), &out);
    int n = 0;
    for (const char *p = out; (p = strstr (p, "  ready pool")); p++)
        n++;
    free (out);
    return n;
}

static void
s_nap_ms (int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

/* The client of one node-kill measurement, in its own process: it drives
   its iterator (jobs are sent as it iterates) to the end and closes. */
static const h_proc_t *s_measure_head_proc;
static const char *s_measure_dir;

static int
s_slow_client (void *arg)
{
    (void)arg;
    pool_options_t options;
    h_options (&options, s_measure_head_proc, "tally");
    options.init_data = (pool_bytes_t){ s_measure_dir, strlen (s_measure_dir) };
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    H_CHECK (pool_wait_for_workers (pool, WORKERS, h_timeout (60)) == 0, "workers");
    static pool_bytes_t inputs[WORKERS];
    static char texts[WORKERS][32];
    for (int i = 0; i < WORKERS; i++) {
        int len = snprintf (texts[i], sizeof texts[i], "%ds6000", i);
        inputs[i] = (pool_bytes_t){ texts[i], (size_t)len };
    }
    pool_iter_t *iter = NULL;
    rc = pool_imap_unordered (pool, inputs, WORKERS, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    pool_result_t r;
    while (pool_iter_next (iter, &r) == 1)
        ;
    pool_iter_destroy (&iter);
    pool_close (&pool);
    return 0;
}

/* kill -9 of a node whose workers hold jobs, to the first of them running
   on another node (its second run's file appears). */
static double
s_measure_node_kill (const h_proc_t *head, int rep)
{
    char dir[300];
    snprintf (dir, sizeof dir, "%s/nodekill%d", h_tmpdir (), rep);
    H_CHECK (mkdir (dir, 0700) == 0, "mkdir %s", dir);
    h_proc_t *doomed = h_start_node (head, WORKERS);
    s_measure_head_proc = head;
    s_measure_dir = dir;
    pid_t client = h_fork (s_slow_client, NULL);
    double deadline = h_now () + h_timeout (60);
    while (s_files_ending (dir, ".1") < 1 && h_now () < deadline)
        s_nap_ms (2);
    H_CHECK (s_files_ending (dir, ".1") >= 1, "no job started");
    /* Somewhere to go: a second node, its workers loaded for this pool. */
    h_proc_t *spare = h_start_node (head, WORKERS);
    while (s_ready_workers (head) < 2 * WORKERS && h_now () < deadline)
        s_nap_ms (50);
    H_CHECK (s_ready_workers (head) >= 2 * WORKERS, "the spare node's workers "
                                                    "did not load the pool");
    H_CHECK (s_files_ending (dir, ".2") == 0, "a job ran twice before the kill");
    h_kill (doomed, SIGKILL);
    double killed = h_now ();
    deadline = killed + h_timeout (30);
    while (s_files_ending (dir, ".2") == 0 && h_now () < deadline)
        s_nap_ms (1);
    double took = h_now () - killed;
    H_CHECK (s_files_ending (dir, ".2") > 0, "the dead node's jobs never ran elsewhere");
    H_CHECK (h_wait (client, h_timeout (60)) == 0, "the client failed");
    h_kill (spare, SIGKILL);
    return took;
}

/* Head restart (kill -9 of pool-head, or of start_node --head and a new
   one) in a map: seconds from the restart to the first result of a job
   that started after it. */
static double
s_measure_head (h_proc_t **head_p, bool whole, int rep)
{
    h_proc_t *head = *head_p;
    char dir[300];
    snprintf (dir, sizeof dir, "%s/headkill%d%s", h_tmpdir (), rep, whole ? "w" : "");
    H_CHECK (mkdir (dir, 0700) == 0, "mkdir %s", dir);
    pool_options_t options;
    h_options (&options, head, "tally");
    options.init_data = (pool_bytes_t){ dir, strlen (dir) };
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    H_CHECK (rc == 0, "pool_open: %s: %s", pool_strerror (rc), pool_open_error ());
    H_CHECK (pool_wait_for_workers (pool, WORKERS, h_timeout (60)) == 0, "workers");
    enum { M = 2000 };
    pool_bytes_t *inputs = fu_inputs (M, "s10");
    pool_iter_t *iter = NULL;
    rc = pool_imap_unordered (pool, inputs, M, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    fu_once_t once;
    fu_once_init (&once, M);
    double restarted = 0, first = 0;
    struct timespec wall;
    pool_result_t r;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        fu_once_add (&once, &r);
        fu_check_value (&r, (long long)r.index, "map");
        if (restarted > 0 && first == 0) {
            /* A job that started after the restart: its run file is newer. */
            char path[400];
            const char *hash = memchr (r.value.data, '#', r.value.size);
            int run = hash ? atoi (hash + 1) : 1;
            snprintf (path, sizeof path, "%s/%zu.%d", dir, r.index, run);
            struct stat st;
            if (stat (path, &st) == 0
                && (st.st_mtim.tv_sec > wall.tv_sec
                    || (st.st_mtim.tv_sec == wall.tv_sec
                        && st.st_mtim.tv_nsec >= wall.tv_nsec)))
                first = h_now ();
        }
        if (once.results == 200) {
            if (whole) {
                h_kill (head, SIGKILL);
                const char *fast[] = { NULL };
                head = h_restart_head (head, 0, true, fast);
                *head_p = head;
            } else {
                pid_t ph;
                H_CHECK (h_children (head->pid, "pool-head", &ph, 1) == 1, "pool-head");
                kill (ph, SIGKILL);
            }
            restarted = h_now ();
            clock_gettime (CLOCK_REALTIME, &wall);
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    fu_once_check (&once);
    pool_iter_destroy (&iter);
    pool_close (&pool);
    return first - restarted;
}

static void
s_measurements (void)
{
    /* Default settings (heartbeat 1 s, liveness 3): what a user gets. */
    h_proc_t *head = h_start_head_with (0, true, NULL);
    enum { REPS = 10 };
    double node[REPS];
    for (int i = 0; i < REPS; i++) {
        node[i] = s_measure_node_kill (head, i);
        h_log ("node kill %d: jobs running elsewhere after %.3f s", i + 1, node[i]);
    }
    double copy[REPS];
    memcpy (copy, node, sizeof node);
    double lo = s_median (copy, REPS);
    printf ("node kill -9 to its jobs running elsewhere (heartbeat 1000 ms, "
            "liveness 3), %d runs: median %.2f s, min %.2f s, max %.2f s\n",
            REPS, lo, copy[0], copy[REPS - 1]);
    fflush (stdout);

    h_stop (head);
    char port[16];
    snprintf (port, sizeof port, "%d", h_free_port ());
    const char *args[] = { "-p", port, NULL };
    head = h_start_head_with (0, true, args);
    h_start_node (head, WORKERS);
    double ph[3], whole[3];
    for (int i = 0; i < 3; i++) {
        ph[i] = s_measure_head (&head, false, i);
        h_log ("pool-head kill %d: first new result %.3f s after", i + 1, ph[i]);
    }
    for (int i = 0; i < 3; i++) {
        whole[i] = s_measure_head (&head, true, i);
        h_log ("start_node --head restart %d: first new result %.3f s after "
               "its ready line",
               i + 1, whole[i]);
    }
    printf ("pool-head kill -9 (start_node restarts it) to the first new result: "
            "%.2f, %.2f, %.2f s (median %.2f s)\n",
            ph[0], ph[1], ph[2], s_median (ph, 3));
    printf ("start_node --head kill -9, started again (same port and data "
            "directory): its ready line to the first new result: %.2f, %.2f, "
            "%.2f s (median %.2f s)\n",
            whole[0], whole[1], whole[2], s_median (whole, 3));
    fflush (stdout);
}

static void
s_body (void)
{
    if (s_measure)
        s_measurements ();
    else
        s_chaos ();
}

int
main (int argc, char *argv[])
{
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--seconds") == 0 && i + 1 < argc)
            s_seconds = atof (argv[++i]);
        else if (strcmp (argv[i], "--jobs") == 0 && i + 1 < argc)
            s_jobs = strtoul (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--measure") == 0)
            s_measure = true;
        else if (strcmp (argv[i], "--big") == 0)
            s_big = true;
        else {
            fprintf (
                stderr,
                "usage: dcpool-chaos [--seconds N] [--jobs N] [--big] [--measure]\n");
            return 2;
        }
    }
    if (!(s_seconds > 0)) {
        fprintf (stderr, "dcpool-chaos: --seconds wants a positive number\n");
        return 2;
    }
    if (s_jobs == 0) {
        fprintf (stderr, "dcpool-chaos: --jobs wants a positive number\n");
        return 2;
    }
    /* The whole run's bound: the chaos time, then the last map. */
    char wait[32];
    snprintf (wait, sizeof wait, "%.0f", s_measure ? 600 : s_seconds + 240);
    if (!getenv ("DCPOOL_TEST_BODY_WAIT"))
        setenv ("DCPOOL_TEST_BODY_WAIT", wait, 1);
    return h_main (s_measure ? "chaos --measure" : "chaos", s_body);
}
