/*  primes.c - client of the primes example.

    Maps COUNT integers 2, 3, ... over the cluster; each worker returns the
    prime divisors of its input (primes_worker.c).  Every result is checked
    against the same computation done here, and a summary is printed.
    Exits 0 when every input came back with the right answer, 1 on any
    error or mismatch, 2 on a usage error.

    primes [-s HOST:PORT] [-r PASSWORD] [-n COUNT] [-l LIBRARY] [--insecure]
*/
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "next_to_me.h"
#include "pool.h"
#include "progress_bar.h"

#define MAX_REPORTED 5 /* errors and mismatches printed in full */

static void
usage (FILE *out)
{
    fprintf (out, "usage: primes [-s HOST:PORT] [-r PASSWORD] [-n COUNT] [-l LIBRARY] "
                  "[--insecure]\n"
                  "  -s, --server HOST:PORT  head to connect to (default: local mode:\n"
                  "                          $DCPOOL_SERVER, else a head on\n"
                  "                          127.0.0.1:8899 when a password is set,\n"
                  "                          else a private cluster started here)\n"
                  "  -r, --password PW       cluster password (or DCPOOL_PASSWORD)\n"
                  "  -n, --count N           inputs 2..N+1 (10000)\n"
                  "  -l, --library PATH      worker library (primes_worker.so next to "
                  "this program)\n"
                  "      --insecure          plain TCP, for a head started with "
                  "--insecure\n");
}

static void
put_u64 (unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t
get_u64 (const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/*  The reference: same contract as the worker's (distinct, ascending). */
static size_t
prime_divisors (uint64_t n, uint64_t *divisors)
{
    size_t count = 0;
    for (uint64_t d = 2; d <= n / d; d += (d == 2 ? 1 : 2)) {
        if (n % d == 0) {
            divisors[count++] = d;
            while (n % d == 0)
                n /= d;
        }
    }
    if (n > 1)
        divisors[count++] = n;
    return count;
}

/*  1 when the worker's output equals the local answer for n. */
static int
result_matches (uint64_t n, pool_bytes_t value)
{
    uint64_t expected[64];
    size_t count = prime_divisors (n, expected);
    if (value.size != count * 8)
        return 0;
    const unsigned char *p = value.data;
    for (size_t i = 0; i < count; i++)
        if (get_u64 (p + 8 * i) != expected[i])
            return 0;
    return 1;
}

static double
now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
    const char *server = NULL;   /* local mode (pool.h) */
    const char *password = NULL; /* libpool reads DCPOOL_PASSWORD */
    const char *library = NULL;
    char library_buf[PATH_MAX];
    size_t count = 10000;
    int insecure = 0;

    static const struct option longopts[] = {
        { "server", required_argument, NULL, 's' },
        { "password", required_argument, NULL, 'r' },
        { "count", required_argument, NULL, 'n' },
        { "library", required_argument, NULL, 'l' },
        { "insecure", no_argument, NULL, 'I' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long (argc, argv, "s:r:n:l:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 's':
            server = optarg;
            break;
        case 'r':
            password = optarg;
            break;
        case 'n': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull (optarg, &end, 10);
            if (errno || *end || end == optarg || v == 0 || optarg[0] == '-') {
                fprintf (stderr, "primes: bad count '%s'\n", optarg);
                return 2;
            }
            count = (size_t)v;
            break;
        }
        case 'l':
            library = optarg;
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
        if (next_to_me ("primes_worker.so", library_buf, sizeof library_buf) != 0) {
            fprintf (stderr, "primes: cannot locate primes_worker.so; use -l\n");
            return 2;
        }
        library = library_buf;
    }

    int rc = 1;
    pool_t *pool = NULL;
    unsigned char *input_bytes = malloc (count * 8);
    pool_bytes_t *inputs = malloc (count * sizeof *inputs);
    pool_result_t *results = calloc (count, sizeof *results);
    if (!input_bytes || !inputs || !results) {
        fprintf (stderr, "primes: out of memory for %zu inputs\n", count);
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        put_u64 (input_bytes + 8 * i, (uint64_t)i + 2);
        inputs[i] = (pool_bytes_t){ input_bytes + 8 * i, 8 };
    }

    pool_options_t options;
    pool_options_default (&options);
    options.server = server;
    options.password = password;
    options.worker_library = library;
    options.insecure = insecure;
    progress_bar_attach (&options); /* on a terminal only */

    double t0 = now ();
    int err = pool_open (&pool, &options);
    if (err < 0) {
        fprintf (stderr, "primes: cannot open a pool on %s: %s (%s)\n",
                 server ? server : "the local cluster", pool_strerror (err),
                 pool_open_error ());
        goto cleanup;
    }
    double t1 = now ();
    int workers = pool_workers_count (pool);

    err = pool_map (pool, inputs, count, results);
    double elapsed = now () - t1;
    progress_bar_end ();
    if (err < 0) {
        fprintf (stderr, "primes: map failed: %s (%s)\n", pool_strerror (err),
                 pool_last_error (pool));
        /* results hold what arrived: still counted below. */
    }

    size_t received = 0, errors = 0, mismatches = 0;
    for (size_t i = 0; i < count; i++) {
        pool_result_t *r = &results[i];
        uint64_t n = (uint64_t)i + 2;
        /* Every n >= 2 has a prime divisor, so an empty success is a slot
           the map never filled (it can only happen when the map failed). */
        if (r->status == 0 && r->value.size == 0)
            continue;
        received++;
        if (r->status != 0) {
            if (errors++ < MAX_REPORTED)
                fprintf (stderr, "primes: %" PRIu64 ": %s: %s\n", n,
                         pool_strerror (r->status), r->error ? r->error : "");
        } else if (!result_matches (n, r->value)) {
            if (mismatches++ < MAX_REPORTED)
                fprintf (stderr, "primes: %" PRIu64 ": wrong divisors (%zu bytes)\n", n,
                         r->value.size);
        }
    }
    size_t missing = count - received;

    printf ("primes: %zu inputs on %d workers (pool open %.2f s)\n", count, workers,
            t1 - t0);
    printf ("primes: %zu results, %zu errors, %zu mismatches", received, errors,
            mismatches);
    if (missing)
        printf (", %zu missing", missing);
    printf (" in %.3f s, %.0f tasks/s\n", elapsed,
            elapsed > 0 ? (double)received / elapsed : 0.0);
    rc = (err == 0 && errors == 0 && mismatches == 0 && missing == 0) ? 0 : 1;
    pool_results_release (pool, results, count);

cleanup:
    if (pool)
        pool_close (&pool);
    free (results);
    free (inputs);
    free (input_bytes);
    return rc;
}
