/*  results.c - client of the results example: big results left on the
    cluster, and only what is needed brought back (kitchensink's pattern;
    README, "Results left on the cluster").

    1. A map of WALKS jobs: each worker walks STEPS random steps and keeps
       the walk (STEPS int32 positions) in the cluster's block store with
       pool_worker_block_put; only its hash comes back.
    2. A second map reads each walk by its hash, on whichever worker runs
       it (pool_worker_block_get), and answers three numbers.
    3. The client fetches the one walk it wants, the one that went
       farthest (pool_get), and checks it against what the workers said.
    4. pool_delete releases every walk: the store deletes them once the
       head's --block-grace has passed.

    results [-s HOST:PORT] [-r PASSWORD] [-n WALKS] [-k STEPS] [-l LIBRARY]
            [--insecure]

    Without -s it runs in local mode (pool.h).  Exits 0 when everything
    checked, 1 otherwise, 2 on a usage error.
*/
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "next_to_me.h"
#include "pool.h"

#define WALKS_MAX 1000

typedef struct {
    uint8_t hash[POOL_HASH_SIZE];
    long long steps, farthest, final;
} walk_t;

static void
hex_of (const uint8_t hash[POOL_HASH_SIZE], char hex[2 * POOL_HASH_SIZE + 1])
{
    for (int i = 0; i < POOL_HASH_SIZE; i++)
        snprintf (hex + 2 * i, 3, "%02x", hash[i]);
}

/* "12.0 MiB" */
static const char *
mib (double bytes, char *out, size_t size)
{
    snprintf (out, size, "%.1f MiB", bytes / (1024.0 * 1024.0));
    return out;
}

/* Step 1: the walks, left on the cluster; their hashes into walks. */
static int
make_walks (pool_t *pool, walk_t *walks, int count, long long steps)
{
    char (*texts)[64] = calloc ((size_t)count, sizeof *texts);
    pool_bytes_t *inputs = calloc ((size_t)count, sizeof *inputs);
    pool_result_t *results = calloc ((size_t)count, sizeof *results);
    int rc = -1;
    if (!texts || !inputs || !results)
        goto cleanup;
    for (int i = 0; i < count; i++) {
        int n = snprintf (texts[i], sizeof texts[i], "walk %d %lld", i, steps);
        inputs[i] = (pool_bytes_t){ texts[i], (size_t)n };
    }
    if (pool_map (pool, inputs, (size_t)count, results) != 0) {
        fprintf (stderr, "results: the walks failed: %s\n", pool_last_error (pool));
        goto cleanup;
    }
    rc = 0;
    for (int i = 0; i < count; i++) {
        if (results[i].status != 0 || results[i].value.size != POOL_HASH_SIZE) {
            /* e.g. the store is full: "block store full: ..." */
            fprintf (stderr, "results: walk %d: %s\n", i,
                     results[i].error ? results[i].error : "no hash");
            rc = -1;
        } else
            memcpy (walks[i].hash, results[i].value.data, POOL_HASH_SIZE);
    }
    pool_results_release (pool, results, (size_t)count);
cleanup:
    free (texts);
    free (inputs);
    free (results);
    return rc;
}

/* Step 2: each walk read by hash where a job runs; its numbers. */
static int
read_walks (pool_t *pool, walk_t *walks, int count)
{
    char (*texts)[96] = calloc ((size_t)count, sizeof *texts);
    pool_bytes_t *inputs = calloc ((size_t)count, sizeof *inputs);
    pool_result_t *results = calloc ((size_t)count, sizeof *results);
    int rc = -1;
    if (!texts || !inputs || !results)
        goto cleanup;
    for (int i = 0; i < count; i++) {
        char hex[2 * POOL_HASH_SIZE + 1];
        hex_of (walks[i].hash, hex);
        int n = snprintf (texts[i], sizeof texts[i], "stats %s", hex);
        inputs[i] = (pool_bytes_t){ texts[i], (size_t)n };
    }
    if (pool_map (pool, inputs, (size_t)count, results) != 0) {
        fprintf (stderr, "results: reading the walks failed: %s\n",
                 pool_last_error (pool));
        goto cleanup;
    }
    rc = 0;
    for (int i = 0; i < count; i++) {
        char text[96] = "";
        if (results[i].status == 0)
            snprintf (text, sizeof text, "%.*s", (int)results[i].value.size,
                      (const char *)results[i].value.data);
        if (sscanf (text, "%lld %lld %lld", &walks[i].steps, &walks[i].farthest,
                    &walks[i].final)
            != 3) {
            fprintf (stderr, "results: stats of walk %d: %s\n", i,
                     results[i].error ? results[i].error : text);
            rc = -1;
        }
    }
    pool_results_release (pool, results, (size_t)count);
cleanup:
    free (texts);
    free (inputs);
    free (results);
    return rc;
}

/* Step 3: the one walk wanted, fetched and checked. */
static int
fetch_farthest (pool_t *pool, const walk_t *walks, int count, long long steps)
{
    int best = 0;
    for (int i = 1; i < count; i++)
        if (walks[i].farthest > walks[best].farthest)
            best = i;
    void *data = NULL;
    size_t size = 0;
    if (pool_get (pool, walks[best].hash, &data, &size) != 0) {
        fprintf (stderr, "results: pool_get: %s\n", pool_last_error (pool));
        return -1;
    }
    const int32_t *positions = data;
    size_t n = size / sizeof *positions;
    long long farthest = 0;
    for (size_t i = 0; i < n; i++) {
        long long distance = positions[i] < 0 ? -(long long)positions[i] : positions[i];
        if (distance > farthest)
            farthest = distance;
    }
    bool same = (long long)n == steps && farthest == walks[best].farthest && n > 0
                && positions[n - 1] == walks[best].final;
    char one[32], all[32];
    printf ("results: fetched walk %d only (%s of %s); its farthest point, %lld, "
            "%s\n",
            best, mib ((double)size, one, sizeof one),
            mib ((double)size * count, all, sizeof all), farthest,
            same ? "checks" : "DOES NOT CHECK");
    free (data);
    return same ? 0 : -1;
}

int
main (int argc, char *argv[])
{
    const char *server = NULL, *password = getenv ("DCPOOL_PASSWORD"), *library = NULL;
    int insecure = 0, count = 8;
    long long steps = 1 << 20;
    static const struct option longopts[]
        = { { "server", required_argument, NULL, 's' },
            { "password", required_argument, NULL, 'r' },
            { "walks", required_argument, NULL, 'n' },
            { "steps", required_argument, NULL, 'k' },
            { "library", required_argument, NULL, 'l' },
            { "insecure", no_argument, NULL, 'I' },
            { NULL, 0, NULL, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "s:r:n:k:l:", longopts, NULL)) != -1)
        switch (c) {
        case 's':
            server = optarg;
            break;
        case 'r':
            password = optarg;
            break;
        case 'n':
            count = atoi (optarg);
            break;
        case 'k':
            steps = atoll (optarg);
            break;
        case 'l':
            library = optarg;
            break;
        case 'I':
            insecure = 1;
            break;
        default:
            fprintf (stderr, "usage: results [-s HOST:PORT] [-r PASSWORD] [-n WALKS] "
                             "[-k STEPS] [-l LIBRARY] [--insecure]\n");
            return 2;
        }
    if (count < 1 || count > WALKS_MAX || steps < 1 || steps > (1LL << 28)) {
        fprintf (stderr, "results: -n wants 1..%d walks, -k 1..2^28 steps\n", WALKS_MAX);
        return 2;
    }
    char library_buf[PATH_MAX];
    if (!library) {
        if (next_to_me ("results_worker.so", library_buf, sizeof library_buf) != 0) {
            fprintf (stderr, "results: cannot locate results_worker.so; use -l\n");
            return 2;
        }
        library = library_buf;
    }
    pool_options_t options;
    pool_options_default (&options);
    options.server = server;
    options.password = password;
    options.worker_library = library;
    options.insecure = insecure;
    pool_t *pool = NULL;
    int err = pool_open (&pool, &options);
    if (err < 0) {
        fprintf (stderr, "results: cannot open a pool: %s (%s)\n", pool_strerror (err),
                 pool_open_error ());
        return 1;
    }
    int rc = 1;
    walk_t *walks = calloc ((size_t)count, sizeof *walks);
    if (!walks || make_walks (pool, walks, count, steps))
        goto cleanup;
    char each[32], all[32];
    double bytes = (double)steps * sizeof (int32_t);
    printf ("results: %d walks of %s each left on the cluster (%s); the client got "
            "%d hashes of %d bytes\n",
            count, mib (bytes, each, sizeof each), mib (bytes * count, all, sizeof all),
            count, POOL_HASH_SIZE);
    if (read_walks (pool, walks, count))
        goto cleanup;
    for (int i = 0; i < count; i++)
        printf ("results: walk %d went as far as %lld and ended at %lld\n", i,
                walks[i].farthest, walks[i].final);
    if (fetch_farthest (pool, walks, count, steps))
        goto cleanup;
    rc = 0;
cleanup:
    /* Released whatever happened: nothing stays held for us. */
    if (walks) {
        int released = 0;
        for (int i = 0; i < count; i++) {
            static const uint8_t none[POOL_HASH_SIZE];
            if (memcmp (walks[i].hash, none, POOL_HASH_SIZE) == 0)
                continue;
            if (pool_delete (pool, walks[i].hash) == 0)
                released++;
            else {
                fprintf (stderr, "results: pool_delete: %s\n", pool_last_error (pool));
                rc = 1;
            }
        }
        printf ("results: released %d walks with pool_delete\n", released);
    }
    free (walks);
    pool_close (&pool);
    return rc;
}
