/*  futures.c - client of the futures example: single calls with callbacks.

    Like CluPy's parallel + wait_all, or Ray's remote calls: it submits
    BLOCKS blocks of starting values (collatz_worker.c finds the value of
    each block with the longest Collatz sequence), each as a future with a
    success and a failure callback, plus one bad block that fails on
    purpose and one huge block it cancels.  Then it waits for all with a
    timeout, saying how far it is each time the timeout runs out.  The
    callbacks run in this thread, inside the waits.  Exits 0 when every
    block came back as expected, 1 otherwise, 2 on a usage error.

    futures [-s HOST:PORT] [-r PASSWORD] [-n BLOCKS] [-l LIBRARY] [--insecure]

    Without -s it runs in local mode (pool.h): a head on this machine when
    one answers, else a private cluster that it starts and stops itself.
*/
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "next_to_me.h"
#include "pool.h"

#define BLOCK_SIZE 200000

typedef struct {
    int done, failed;
    uint64_t best, best_steps;
} tally_t;

static void
on_success (pool_future_t *future, const pool_result_t *result, void *arg)
{
    tally_t *tally = arg;
    uint64_t value = 0, steps = 0;
    char text[64];
    snprintf (text, sizeof text, "%.*s", (int)result->value.size,
              (const char *)result->value.data);
    if (sscanf (text, "%" SCNu64 " %" SCNu64, &value, &steps) == 2
        && steps > tally->best_steps) {
        tally->best = value;
        tally->best_steps = steps;
        printf ("futures: new longest: %" PRIu64 " takes %" PRIu64 " steps\n", value,
                steps);
    }
    tally->done++;
}

static void
on_failure (pool_future_t *future, const pool_result_t *result, void *arg)
{
    tally_t *tally = arg;
    printf ("futures: a block failed: %s (%s)\n", pool_strerror (result->status),
            result->error ? result->error : "");
    tally->failed++;
}

static pool_bytes_t
block (char *buf, size_t size, uint64_t first, uint64_t count)
{
    int len = snprintf (buf, size, "%" PRIu64 " %" PRIu64, first, count);
    return (pool_bytes_t){ buf, (size_t)len };
}

int
main (int argc, char *argv[])
{
    const char *server = NULL, *password = getenv ("DCPOOL_PASSWORD"), *library = NULL;
    int insecure = 0, blocks = 40;
    static const struct option longopts[]
        = { { "server", required_argument, NULL, 's' },
            { "password", required_argument, NULL, 'r' },
            { "blocks", required_argument, NULL, 'n' },
            { "library", required_argument, NULL, 'l' },
            { "insecure", no_argument, NULL, 'I' },
            { NULL, 0, NULL, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "s:r:n:l:", longopts, NULL)) != -1)
        switch (c) {
        case 's':
            server = optarg;
            break;
        case 'r':
            password = optarg;
            break;
        case 'n':
            blocks = atoi (optarg);
            break;
        case 'l':
            library = optarg;
            break;
        case 'I':
            insecure = 1;
            break;
        default:
            fprintf (stderr, "usage: futures [-s HOST:PORT] [-r PASSWORD] [-n BLOCKS] "
                             "[-l LIBRARY] [--insecure]\n");
            return 2;
        }
    if (blocks < 1 || blocks > 100000) {
        fprintf (stderr, "futures: -n wants 1..100000 blocks\n");
        return 2;
    }
    char library_buf[PATH_MAX];
    if (!library) {
        if (next_to_me ("collatz_worker.so", library_buf, sizeof library_buf) != 0) {
            fprintf (stderr, "futures: cannot locate collatz_worker.so; use -l\n");
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
        fprintf (stderr, "futures: cannot open a pool: %s (%s)\n", pool_strerror (err),
                 pool_open_error ());
        return 1;
    }

    /* BLOCKS good blocks, one bad one, one huge one cancelled below. */
    size_t count = (size_t)blocks + 2;
    pool_future_t **futures = calloc (count, sizeof *futures);
    tally_t tally = { 0 };
    char text[64];
    int rc = 1;
    if (!futures)
        goto cleanup;
    for (int i = 0; i < blocks; i++) {
        err = pool_submit (
            pool, block (text, sizeof text, 1 + (uint64_t)i * BLOCK_SIZE, BLOCK_SIZE),
            &futures[i]);
        if (err == 0)
            err = pool_future_then (futures[i], on_success, on_failure, &tally);
        if (err < 0)
            goto failed;
    }
    err = pool_submit (pool, block (text, sizeof text, 1, 0), &futures[blocks]);
    if (err == 0)
        err = pool_future_then (futures[blocks], on_success, on_failure, &tally);
    if (err == 0)
        err = pool_submit (pool, block (text, sizeof text, 1, UINT64_C (1) << 40),
                           &futures[blocks + 1]);
    if (err == 0)
        err = pool_future_cancel (futures[blocks + 1]); /* never mind */
    if (err < 0)
        goto failed;

    /* Wait for all, a second at a time, saying how far it is. */
    while ((err = pool_wait_all (futures, count, 1.0)) == POOL_ETIMEOUT)
        printf ("futures: still waiting, %d of %d blocks done\n",
                tally.done + tally.failed, blocks + 1);
    if (err < 0)
        goto failed;
    pool_result_t cancelled;
    pool_future_result (futures[blocks + 1], &cancelled);
    printf ("futures: %d blocks done, %d failed, the huge one: %s; longest below %" PRIu64
            ": %" PRIu64 " (%" PRIu64 " steps)\n",
            tally.done, tally.failed, pool_strerror (cancelled.status),
            1 + (uint64_t)blocks * BLOCK_SIZE, tally.best, tally.best_steps);
    rc = tally.done == blocks && tally.failed == 1 && cancelled.status == POOL_ECANCELED
             ? 0
             : 1;
    goto cleanup;
failed:
    fprintf (stderr, "futures: %s (%s)\n", pool_strerror (err), pool_last_error (pool));
cleanup:
    for (size_t i = 0; futures && i < count; i++)
        pool_future_destroy (&futures[i]);
    free (futures);
    pool_close (&pool);
    return rc;
}
