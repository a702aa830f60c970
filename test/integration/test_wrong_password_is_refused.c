/*  A client with the wrong password: pool_open fails with POOL_EAUTH within
    its connect timeout (not a hang), saying so; the head goes on serving a
    client with the right password.  The process opened a pool with the
    right password first, whose keys libpool keeps (keys_cache.h): the
    wrong password must not get them, and the right one, asked for again
    and again, still opens pools that run.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "square", 2); /* the right password's keys, kept */
    pool_close (&pool);

    pool_options_t options;
    h_options (&options, head, "square");
    options.password = "not-the-password";
    options.connect_timeout = 5;
    double t0 = h_now ();
    int rc = pool_open (&pool, &options);
    double took = h_now () - t0;
    const char *error = pool_open_error ();
    h_log ("wrong password: %s after %.2f s: %s", pool_strerror (rc), took,
           error ? error : "(null)");
    H_CHECK (rc == POOL_EAUTH,
             "pool_open with a wrong password returned %d "
             "(%s), want POOL_EAUTH; detail: %s",
             rc, pool_strerror (rc), error ? error : "(null)");
    H_CHECK (pool == NULL, "failed pool_open set *pool");
    H_CHECK (error && strcasestr (error, "password"),
             "the error '%s' does not mention the password", error ? error : "(null)");
    /* Within the connect timeout: key derivation and process start-up
       aside, which the margin covers. */
    H_CHECK (took < options.connect_timeout + h_timeout (10),
             "pool_open took %.1f s with connect_timeout %.0f s", took,
             options.connect_timeout);

    pool = h_open (head, "square", 2);
    static pool_bytes_t inputs[100];
    static char texts[100][8];
    static pool_result_t results[100];
    for (size_t i = 0; i < 100; i++) {
        snprintf (texts[i], sizeof texts[i], "%zu", i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    rc = pool_map (pool, inputs, 100, results);
    H_CHECK (rc == 0, "pool_map with the right password: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < 100; i++) {
        char want[32];
        snprintf (want, sizeof want, "%" PRId64, h_square ((int64_t)i));
        H_CHECK (results[i].status == 0 && results[i].value.size == strlen (want)
                     && memcmp (results[i].value.data, want, strlen (want)) == 0,
                 "input %zu wrong", i);
    }
    pool_results_release (pool, results, 100);
    pool_close (&pool);

    /* Once more with the right password, its keys from the cache now. */
    pool = h_open (head, "square", 2);
    rc = pool_map (pool, inputs, 10, results);
    H_CHECK (rc == 0, "pool_map on a pool opened again: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (int64_t i = 0; i < 10; i++)
        H_CHECK (h_is_square (&results[i], i),
                 "input %" PRId64 " wrong on a pool opened again", i);
    pool_results_release (pool, results, 10);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_wrong_password_is_refused", s_body);
}
