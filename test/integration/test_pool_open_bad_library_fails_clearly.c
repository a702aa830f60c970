/*  pool_open with a worker library that cannot work fails with a clear
    error naming the cause, and leaves the cluster serving:
    - a path that does not exist: POOL_ELIBRARY, the path named;
    - a shared object without the pool_worker symbol: POOL_ELIBRARY;
    - a library of another ABI version (999): POOL_ELIBRARY;
    - a library whose init fails ("no data"): POOL_EWORKER with the message.
    Afterwards a good pool gets all the workers and a correct map.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
s_expect_failure (const h_proc_t *head, const char *worker, int want_rc,
                  const char *want_a, const char *want_b)
{
    pool_options_t options;
    h_options (&options, head, worker);
    pool_t *pool = NULL;
    double t0 = h_now ();
    int rc = pool_open (&pool, &options);
    const char *error = pool_open_error ();
    h_log ("pool_open (%s): %s after %.2f s: %s", worker, pool_strerror (rc),
           h_now () - t0, error ? error : "(null)");
    H_CHECK (rc == want_rc,
             "pool_open (%s) returned %d (%s), want %d (%s); "
             "detail: %s",
             worker, rc, pool_strerror (rc), want_rc, pool_strerror (want_rc),
             error ? error : "(null)");
    H_CHECK (pool == NULL, "pool_open (%s) failed but set *pool", worker);
    H_CHECK (
        error && (strcasestr (error, want_a) || (want_b && strcasestr (error, want_b))),
        "pool_open (%s): the error '%s' does not name the cause ('%s'%s%s)", worker,
        error ? error : "(null)", want_a, want_b ? " or " : "", want_b ? want_b : "");
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);

    s_expect_failure (head, "does_not_exist", POOL_ELIBRARY,
                      h_worker_path ("does_not_exist"), NULL);
    s_expect_failure (head, "nosymbol", POOL_ELIBRARY, "pool_worker", NULL);
    s_expect_failure (head, "badabi", POOL_ELIBRARY, "999", "abi");
    s_expect_failure (head, "initfail", POOL_EWORKER, "no data", NULL);
    /* Twice: a failed init leaves nothing behind that breaks the next. */
    s_expect_failure (head, "initfail", POOL_EWORKER, "no data", NULL);

    pool_t *pool = h_open (head, "square", 2);
    H_CHECK (pool_workers_count (pool) == 2, "pool has %d workers, want 2",
             pool_workers_count (pool));
    enum { N = 500 };
    static char texts[N][16];
    static pool_bytes_t inputs[N];
    static pool_result_t results[N];
    for (size_t i = 0; i < N; i++) {
        snprintf (texts[i], sizeof texts[i], "%zu", i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    int rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map after the failures: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < N; i++) {
        char want[32];
        snprintf (want, sizeof want, "%" PRId64, h_square ((int64_t)i));
        H_CHECK (results[i].status == 0 && results[i].value.size == strlen (want)
                     && memcmp (results[i].value.data, want, strlen (want)) == 0,
                 "input %zu: status %d, '%.*s', want '%s'", i, results[i].status,
                 (int)results[i].value.size, (const char *)results[i].value.data, want);
    }
    pool_results_release (pool, results, N);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_pool_open_bad_library_fails_clearly", s_body);
}
