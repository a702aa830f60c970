/*  test/integration/local_client.c - the client program of the local mode
    tests (test_local_mode_*): pool_open with no server, run as a child
    process with the environment the test gives it.

    local_client MODE WORKER_LIBRARY

    map    open, map 200 inputs on the square worker and check them, print
           "open_s=SECONDS" (pool_open's time), close; exit 0
    hold   open, map, print "mapped", then wait for the end of stdin (the
           test kills it with SIGKILL before that)
    env    like map, and check that no start_node child was started; print
           "nodes=N" (the head's node count)
    two    open two pools; one start_node child serves both; it stays
           after the first pool_close (the second pool still maps) and is
           gone after the second
    Exits 1 (the reason on stderr) on any failure.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define INPUTS 200

static pool_t *
s_open (const char *library, double *seconds)
{
    pool_options_t options;
    pool_options_default (&options);
    options.worker_library = library;
    options.connect_timeout = h_timeout (30);
    pool_t *pool = NULL;
    double started = h_now ();
    int rc = pool_open (&pool, &options);
    if (seconds)
        *seconds = h_now () - started;
    H_CHECK (rc == 0, "pool_open with no server: %s: %s", pool_strerror (rc),
             pool_open_error ());
    return pool;
}

/* INPUTS inputs through the square worker, every result checked. */
static void
s_map (pool_t *pool)
{
    static char text[INPUTS][24];
    pool_bytes_t inputs[INPUTS];
    pool_result_t results[INPUTS];
    for (int i = 0; i < INPUTS; i++) {
        snprintf (text[i], sizeof text[i], "%d", i);
        inputs[i] = (pool_bytes_t){ text[i], strlen (text[i]) };
    }
    int rc = pool_map (pool, inputs, INPUTS, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (int i = 0; i < INPUTS; i++) {
        char want[32];
        snprintf (want, sizeof want, "%lld", (long long)h_square (i));
        H_CHECK (results[i].status == 0 && results[i].value.size == strlen (want)
                     && memcmp (results[i].value.data, want, strlen (want)) == 0,
                 "input %d: status %d, %zu bytes, want %s", i, results[i].status,
                 results[i].value.size, want);
    }
    pool_results_release (pool, results, INPUTS);
}

static int
s_start_nodes (void)
{
    pid_t pids[8];
    return h_children (getpid (), "start_node", pids, 8);
}

int
main (int argc, char *argv[])
{
    if (argc != 3) {
        fprintf (stderr, "usage: local_client map|hold|env|two WORKER_LIBRARY\n");
        return 2;
    }
    const char *mode = argv[1], *library = argv[2];
    double seconds;
    pool_t *pool = s_open (library, &seconds);
    s_map (pool);
    if (!strcmp (mode, "map"))
        printf ("open_s=%.3f\n", seconds);
    else if (!strcmp (mode, "hold")) {
        H_CHECK (s_start_nodes () == 1, "%d start_node children, want 1",
                 s_start_nodes ());
        printf ("mapped\n");
        fflush (stdout);
        char buffer[64];
        while (fread (buffer, 1, sizeof buffer, stdin) > 0)
            ;
    } else if (!strcmp (mode, "env")) {
        H_CHECK (s_start_nodes () == 0, "started %d start_node with $DCPOOL_SERVER set",
                 s_start_nodes ());
        printf ("nodes=%d\n", pool_nodes_count (pool));
    } else if (!strcmp (mode, "two")) {
        pool_t *second = s_open (library, NULL);
        H_CHECK (s_start_nodes () == 1, "two pools: %d start_node children, want 1",
                 s_start_nodes ());
        pool_close (&pool);
        H_CHECK (s_start_nodes () == 1,
                 "the first pool_close stopped the cluster under the second pool");
        s_map (second);
        pool_close (&second);
        H_CHECK (s_start_nodes () == 0, "the last pool_close left %d start_node",
                 s_start_nodes ());
        printf ("two pools, one cluster\n");
    } else {
        fprintf (stderr, "local_client: unknown mode %s\n", mode);
        return 2;
    }
    pool_close (&pool);
    fflush (stdout);
    return 0;
}
