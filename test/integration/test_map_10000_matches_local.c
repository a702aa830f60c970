/*  A map of 10,000 inputs on two workers: every output equals the square
    worker's function computed here, in input order.  A second map (binary
    inputs) is right too, on a second pool whose calls sleep at once
    instead of spinning first (spin_wait = 0).
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { N = 10000, NBIN = 2000 };

static int64_t
s_input (size_t i)
{
    /* Small, negative and huge values: the arithmetic wraps the same way. */
    if (i % 3 == 0)
        return (int64_t)i;
    if (i % 3 == 1)
        return -(int64_t)i * 7919;
    return (int64_t)((uint64_t)i * 0x9E3779B97F4A7C15ULL);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "square", 2);

    static char texts[N][24];
    static pool_bytes_t inputs[N];
    static pool_result_t results[N];
    for (size_t i = 0; i < N; i++) {
        int len = snprintf (texts[i], sizeof texts[i], "%" PRId64, s_input (i));
        inputs[i] = (pool_bytes_t){ texts[i], (size_t)len };
    }
    int rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (size_t i = 0; i < N; i++) {
        char want[24];
        int len = snprintf (want, sizeof want, "%" PRId64, h_square (s_input (i)));
        H_CHECK (results[i].index == i, "results[%zu].index is %zu", i, results[i].index);
        H_CHECK (results[i].status == 0, "input %zu: status %d (%s)", i,
                 results[i].status, results[i].error ? results[i].error : "no message");
        H_CHECK (results[i].error == NULL, "input %zu has an error text", i);
        H_CHECK (results[i].value.size == (size_t)len
                     && memcmp (results[i].value.data, want, (size_t)len) == 0,
                 "input %zu (%s): got '%.*s', want '%s'", i, texts[i],
                 (int)results[i].value.size, (const char *)results[i].value.data, want);
    }
    pool_results_release (pool, results, N);
    pool_close (&pool);
    H_CHECK (pool == NULL, "pool_close must null the pointer");

    /* Binary inputs and outputs, on a pool that never spins. */
    pool_options_t options;
    h_options (&options, head, "square");
    options.spin_wait = 0;
    pool_t *sleeper = NULL;
    rc = pool_open (&sleeper, &options);
    H_CHECK (rc == 0, "pool_open with spin_wait = 0: %s: %s", pool_strerror (rc),
             pool_open_error ());
    rc = pool_wait_for_workers (sleeper, 2, h_timeout (60));
    H_CHECK (rc == 0, "pool_wait_for_workers (spin_wait = 0): %s", pool_strerror (rc));
    static uint8_t bins[NBIN][9];
    for (size_t i = 0; i < NBIN; i++) {
        uint64_t n = (uint64_t)s_input (i * 31 + 5);
        bins[i][0] = 'b';
        for (int b = 0; b < 8; b++)
            bins[i][1 + b] = (uint8_t)(n >> (8 * b));
        inputs[i] = (pool_bytes_t){ bins[i], 9 };
    }
    rc = pool_map (sleeper, inputs, NBIN, results);
    H_CHECK (rc == 0, "binary pool_map: %s: %s", pool_strerror (rc),
             pool_last_error (sleeper));
    for (size_t i = 0; i < NBIN; i++) {
        uint64_t want = (uint64_t)h_square (s_input (i * 31 + 5));
        H_CHECK (results[i].status == 0 && results[i].value.size == 8,
                 "binary input %zu: status %d, %zu bytes", i, results[i].status,
                 results[i].value.size);
        const uint8_t *v = results[i].value.data;
        uint64_t got = 0;
        for (int b = 7; b >= 0; b--)
            got = (got << 8) | v[b];
        H_CHECK (got == want, "binary input %zu: got %" PRIu64 ", want %" PRIu64, i, got,
                 want);
    }
    pool_results_release (sleeper, results, NBIN);
    pool_close (&sleeper);
}

int
main (void)
{
    return h_main ("test_map_10000_matches_local", s_body);
}
