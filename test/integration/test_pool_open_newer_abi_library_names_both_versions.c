/*  A worker library built against a newer pool_worker.h than this dcpool's
    (newabi: ABI POOL_WORKER_ABI + 1, calling a host function this dcpool
    lacks, bound at load) is refused before anything tries to resolve that
    function, with an error naming both versions and no "undefined symbol":
    - pool_open: POOL_ELIBRARY, "built for pool_worker ABI 3; this dcpool
      (libpool) supports ABI 1..2";
    - the same bytes sent straight to the head by a raw client (as a client
      whose libpool is newer than the nodes would): every worker refuses it
      the same way and the pool's ERROR, POOL_ELIBRARY, says so;
    - badabi (999) is refused naming both versions too;
    - a library built for ABI 1 (oldabi) still loads and serves a map.
    At the end every worker serves a correct map.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_worker.h"
#include "sec_util.h"

/* The error names the library's version and the range this dcpool has. */
static void
s_check_names_both (const char *what, const char *error, int library_abi)
{
    char built[64], supports[64];
    snprintf (built, sizeof built, "built for pool_worker ABI %d;", library_abi);
    snprintf (supports, sizeof supports, "supports ABI 1..%d", POOL_WORKER_ABI);
    H_CHECK (error && strstr (error, built) && strstr (error, supports),
             "%s: the error '%s' does not name both versions ('%s', '%s')", what,
             error ? error : "(null)", built, supports);
    H_CHECK (!strcasestr (error, "undefined symbol"),
             "%s: the error '%s' is dlopen's, not the version check's", what, error);
    H_CHECK (strstr (error, "upgrade dcpool"), "%s: the error '%s' says not what to do",
             what, error);
}

static void
s_expect_refused (const h_proc_t *head, const char *worker, int library_abi)
{
    pool_options_t options;
    h_options (&options, head, worker);
    pool_t *pool = NULL;
    int rc = pool_open (&pool, &options);
    const char *error = pool_open_error ();
    h_log ("pool_open (%s): %s: %s", worker, pool_strerror (rc),
           error ? error : "(null)");
    H_CHECK (rc == POOL_ELIBRARY && !pool, "pool_open (%s) returned %s, want %s", worker,
             pool_strerror (rc), pool_strerror (POOL_ELIBRARY));
    s_check_names_both (worker, error, library_abi);
}

/* oldabi answers "abi1:" and the input. */
static void
s_map_oldabi_ok (const h_proc_t *head)
{
    pool_t *pool = h_open (head, "oldabi", 2);
    enum { N = 50 };
    static char texts[N][16];
    static pool_bytes_t inputs[N];
    static pool_result_t results[N];
    for (size_t i = 0; i < N; i++) {
        snprintf (texts[i], sizeof texts[i], "%zu", i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    int rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map of the ABI 1 library: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < N; i++) {
        char want[32];
        snprintf (want, sizeof want, "abi1:%zu", i);
        H_CHECK (results[i].status == 0 && results[i].value.size == strlen (want)
                     && memcmp (results[i].value.data, want, strlen (want)) == 0,
                 "input %zu: status %d, '%.*s', want '%s'", i, results[i].status,
                 (int)results[i].value.size, (const char *)results[i].value.data, want);
    }
    pool_results_release (pool, results, N);
    pool_close (&pool);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);

    s_expect_refused (head, "newabi", POOL_WORKER_ABI + 1);
    s_expect_refused (head, "badabi", 999);

    /* Past libpool's check: the workers read the version themselves. */
    size_t size;
    uint8_t *lib = sec_read_file (h_worker_path ("newabi"), &size);
    int code = 0;
    char *error = sec_raw_open_error (head, "newabi.so", lib, size, &code);
    h_log ("raw POOL_OPEN of newabi: ERROR %d '%s'", code, error);
    H_CHECK (code == POOL_ELIBRARY, "the pool's ERROR has code %d (%s), want %s", code,
             pool_strerror (code), pool_strerror (POOL_ELIBRARY));
    H_CHECK (strstr (error, "worker library newabi.so"),
             "the workers' error '%s' does not name the library", error);
    s_check_names_both ("the workers", error, POOL_WORKER_ABI + 1);
    free (error);
    free (lib);

    s_map_oldabi_ok (head);
    sec_map_square_ok (head, 2, 100);
}

int
main (void)
{
    return h_main ("test_pool_open_newer_abi_library_names_both_versions", s_body);
}
