/*  sweep.c - client of the sweep example: a hyper-parameter sweep.

    Builds a grid of (learning rate, epochs, L2 penalty), sends it to the
    cluster with pool_imap_unordered, and takes results as they finish.
    Whenever a result beats the best validation MSE so far, the new best is
    broadcast with pool_update_workers, so workers give up early on
    parameter sets that cannot beat it (sweep_worker.c).  Prints the best
    parameters at the end.  Exits 1 on any error result.

    sweep [-s HOST:PORT] [-r PASSWORD] [-l LIBRARY] [--points N] [--seed N]
          [--insecure]
*/
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "next_to_me.h"
#include "pool.h"
#include "progress_bar.h"
#include "sweep.h"

/* The line the synthetic data set is drawn from. */
#define TRUE_SLOPE 2.5
#define TRUE_INTERCEPT -0.7

static const double learning_rates[] = { 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0 };
static const uint64_t epoch_counts[] = { 20, 50, 100, 200, 500, 1000 };
static const double l2_penalties[] = { 0, 0.001, 0.01, 0.1 };

#define N_LR (sizeof learning_rates / sizeof learning_rates[0])
#define N_EPOCHS (sizeof epoch_counts / sizeof epoch_counts[0])
#define N_L2 (sizeof l2_penalties / sizeof l2_penalties[0])
#define N_SETS (N_LR * N_EPOCHS * N_L2)

typedef struct {
    double lr;
    uint64_t epochs;
    double l2;
} params_t;

static void
usage (FILE *out)
{
    fprintf (out, "usage: sweep [-s HOST:PORT] [-r PASSWORD] [-l LIBRARY] [--points N] "
                  "[--seed N] [--insecure]\n"
                  "  -s, --server HOST:PORT  head to connect to (default: local mode:\n"
                  "                          $DCPOOL_SERVER, else a head on\n"
                  "                          127.0.0.1:8899 when a password is set,\n"
                  "                          else a private cluster started here)\n"
                  "  -r, --password PW       cluster password (or DCPOOL_PASSWORD)\n"
                  "  -l, --library PATH      worker library (sweep_worker.so next to "
                  "this program)\n"
                  "      --points N          size of the synthetic data set (20000)\n"
                  "      --seed N            seed of the synthetic data set (1)\n"
                  "      --insecure          plain TCP, for a head started with "
                  "--insecure\n");
}

static int
parse_u64 (const char *text, uint64_t *value)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno || *end || end == text || text[0] == '-')
        return -1;
    *value = v;
    return 0;
}

int
main (int argc, char **argv)
{
    const char *server = NULL;   /* local mode (pool.h) */
    const char *password = NULL; /* libpool reads DCPOOL_PASSWORD */
    const char *library = NULL;
    char library_buf[PATH_MAX];
    uint64_t points = 20000, seed = 1;
    int insecure = 0;

    static const struct option longopts[] = {
        { "server", required_argument, NULL, 's' },
        { "password", required_argument, NULL, 'r' },
        { "library", required_argument, NULL, 'l' },
        { "points", required_argument, NULL, 'P' },
        { "seed", required_argument, NULL, 'S' },
        { "insecure", no_argument, NULL, 'I' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "s:r:l:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            server = optarg;
            break;
        case 'r':
            password = optarg;
            break;
        case 'l':
            library = optarg;
            break;
        case 'P':
        case 'S':
            if (parse_u64 (optarg, opt == 'P' ? &points : &seed) != 0) {
                fprintf (stderr, "sweep: bad number '%s'\n", optarg);
                return 2;
            }
            break;
        case 'I':
            insecure = 1;
            break;
        case 'h':
            usage (stdout);
            return 0;
        default:
            usage (stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage (stderr);
        return 2;
    }
    if (server && !password)
        password = getenv ("DCPOOL_PASSWORD");
    if (!library) {
        if (next_to_me ("sweep_worker.so", library_buf, sizeof library_buf) != 0) {
            fprintf (stderr, "sweep: cannot locate sweep_worker.so; use -l\n");
            return 2;
        }
        library = library_buf;
    }

    /* The grid.  The inputs must stay valid until the iterator is done. */
    static params_t grid[N_SETS];
    static unsigned char input_bytes[N_SETS][SWEEP_INPUT_SIZE];
    static pool_bytes_t inputs[N_SETS];
    size_t k = 0;
    for (size_t i = 0; i < N_LR; i++)
        for (size_t j = 0; j < N_EPOCHS; j++)
            for (size_t l = 0; l < N_L2; l++, k++) {
                grid[k]
                    = (params_t){ learning_rates[i], epoch_counts[j], l2_penalties[l] };
                sweep_put_f64 (input_bytes[k], grid[k].lr);
                sweep_put_u64 (input_bytes[k] + 8, grid[k].epochs);
                sweep_put_f64 (input_bytes[k] + 16, grid[k].l2);
                inputs[k] = (pool_bytes_t){ input_bytes[k], SWEEP_INPUT_SIZE };
            }

    /* Init data: what each worker needs to build the data set once. */
    unsigned char init[SWEEP_INIT_SIZE];
    sweep_put_u64 (init, seed);
    sweep_put_u64 (init + 8, points);
    sweep_put_f64 (init + 16, TRUE_SLOPE);
    sweep_put_f64 (init + 24, TRUE_INTERCEPT);

    pool_options_t options;
    pool_options_default (&options);
    options.server = server;
    options.password = password;
    options.worker_library = library;
    options.init_data = (pool_bytes_t){ init, sizeof init };
    options.insecure = insecure;
    progress_bar_attach (&options); /* on a terminal only */

    int rc = 1;
    pool_t *pool = NULL;
    pool_iter_t *iter = NULL;
    int err = pool_open (&pool, &options);
    if (err < 0) {
        fprintf (stderr, "sweep: cannot open a pool on %s: %s (%s)\n",
                 server ? server : "the local cluster", pool_strerror (err),
                 pool_open_error ());
        goto cleanup;
    }
    printf ("sweep: %zu parameter sets on %d workers\n", (size_t)N_SETS,
            pool_workers_count (pool));

    err = pool_imap_unordered (pool, inputs, N_SETS, &iter);
    if (err < 0) {
        fprintf (stderr, "sweep: %s (%s)\n", pool_strerror (err), pool_last_error (pool));
        goto cleanup;
    }

    double best = INFINITY, best_w = 0, best_b = 0;
    size_t best_index = 0, results = 0, errors = 0, stopped = 0, diverged = 0, on_gpu = 0;
    pool_result_t r;
    while ((err = pool_iter_next (iter, &r)) == 1) {
        results++;
        if (r.status != 0 || r.value.size != SWEEP_OUTPUT_SIZE) {
            errors++;
            progress_bar_clear ();
            fprintf (stderr, "sweep: set %zu: %s: %s\n", r.index,
                     pool_strerror (r.status ? r.status : POOL_EPROTO),
                     r.error ? r.error : "output of the wrong size");
            continue;
        }
        const unsigned char *p = r.value.data;
        double score = sweep_get_f64 (p);
        uint64_t flags = sweep_get_u64 (p + 16);
        stopped += (flags & SWEEP_STOPPED_EARLY) != 0;
        diverged += (flags & SWEEP_DIVERGED) != 0;
        on_gpu += (flags & SWEEP_ON_GPU) != 0;
        /* Count only real progress: many sets converge to the same fit. */
        if (isfinite (score) && (!isfinite (best) || best - score > 1e-6 * best)) {
            best = score;
            best_index = r.index;
            best_w = sweep_get_f64 (p + 24);
            best_b = sweep_get_f64 (p + 32);
            const params_t *g = &grid[r.index];
            progress_bar_clear ();
            printf ("sweep: new best MSE %.8f: lr=%g epochs=%" PRIu64 " l2=%g"
                    " (after %zu results)\n",
                    best, g->lr, g->epochs, g->l2, results);
            /* Share it: jobs that start after this skip hopeless sets. */
            unsigned char update[SWEEP_UPDATE_SIZE];
            sweep_put_f64 (update, best);
            int uerr
                = pool_update_workers (pool, (pool_bytes_t){ update, sizeof update });
            if (uerr < 0)
                fprintf (stderr, "sweep: update failed: %s (%s)\n", pool_strerror (uerr),
                         pool_last_error (pool));
        }
    }
    progress_bar_end ();
    if (err < 0) {
        fprintf (stderr, "sweep: results stopped: %s (%s)\n", pool_strerror (err),
                 pool_last_error (pool));
        goto cleanup;
    }

    printf ("sweep: %zu results, %zu errors, %zu stopped early, %zu diverged, "
            "%zu on GPU workers\n",
            results, errors, stopped, diverged, on_gpu);
    if (isfinite (best)) {
        const params_t *g = &grid[best_index];
        printf ("sweep: best lr=%g epochs=%" PRIu64 " l2=%g: validation MSE %.8f, "
                "fit y = %.4f x %+.4f (data drawn from y = %.4f x %+.4f, "
                "noise %.2f)\n",
                g->lr, g->epochs, g->l2, best, best_w, best_b, TRUE_SLOPE, TRUE_INTERCEPT,
                SWEEP_NOISE);
    }
    rc = (errors == 0 && results == N_SETS && isfinite (best)) ? 0 : 1;

cleanup:
    if (iter)
        pool_iter_destroy (&iter);
    if (pool)
        pool_close (&pool);
    return rc;
}
