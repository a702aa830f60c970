/*  A worker run that fails for some inputs (multiples of 7, "bad input N"):
    those inputs get error results with the worker's message, every other
    input its value, and the map goes on to the end; the pool keeps
    serving afterwards.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { N = 2000 };

static char s_texts[N][16];
static pool_bytes_t s_inputs[N];

static bool
s_ends_with (const char *s, const char *suffix)
{
    size_t a = strlen (s), b = strlen (suffix);
    return a >= b && strcmp (s + a - b, suffix) == 0;
}

static void
s_check (const pool_result_t *r, const char *what)
{
    size_t i = r->index;
    H_CHECK (i < N, "%s: index %zu", what, i);
    if (i % 7 == 0) {
        char want[32];
        snprintf (want, sizeof want, "bad input %zu", i);
        H_CHECK (r->status == POOL_EJOB,
                 "%s: input %zu: status %d (%s), "
                 "want POOL_EJOB",
                 what, i, r->status, pool_strerror (r->status));
        H_CHECK (r->error && s_ends_with (r->error, want),
                 "%s: input %zu: error '%s', want '%s'", what, i,
                 r->error ? r->error : "(null)", want);
    } else {
        char want[32];
        int len = snprintf (want, sizeof want, "%" PRId64, (int64_t)i * (int64_t)i + 1);
        H_CHECK (r->status == 0, "%s: input %zu: status %d (%s)", what, i, r->status,
                 r->error ? r->error : "");
        H_CHECK (r->error == NULL, "%s: input %zu: error text on success", what, i);
        H_CHECK (r->value.size == (size_t)len
                     && memcmp (r->value.data, want, (size_t)len) == 0,
                 "%s: input %zu: got '%.*s', want '%s'", what, i, (int)r->value.size,
                 (const char *)r->value.data, want);
    }
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "failing", 2);
    for (size_t i = 0; i < N; i++) {
        int len = snprintf (s_texts[i], sizeof s_texts[i], "%zu", i);
        s_inputs[i] = (pool_bytes_t){ s_texts[i], (size_t)len };
    }
    static pool_result_t results[N];
    int rc = pool_map (pool, s_inputs, N, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    size_t errors = 0;
    for (size_t i = 0; i < N; i++) {
        H_CHECK (results[i].index == i, "index %zu", i);
        s_check (&results[i], "map");
        errors += results[i].status != 0;
    }
    H_CHECK (errors == (N + 6) / 7, "%zu error results, want %d", errors, (N + 6) / 7);
    pool_results_release (pool, results, N);

    /* The same through an unordered iterator. */
    pool_iter_t *iter = NULL;
    rc = pool_imap_unordered (pool, s_inputs, N, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    pool_result_t r;
    size_t count = 0;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        s_check (&r, "imap_unordered");
        count++;
    }
    H_CHECK (rc == 0 && count == N, "imap_unordered: rc %d, %zu results", rc, count);
    pool_iter_destroy (&iter);

    /* Workers that reported errors still serve: only good inputs now. */
    size_t good = 0;
    for (size_t i = 0; i < N && good < 500; i++)
        if (i % 7)
            s_inputs[good++] = (pool_bytes_t){ s_texts[i], strlen (s_texts[i]) };
    rc = pool_map (pool, s_inputs, good, results);
    H_CHECK (rc == 0, "pool_map after errors: %s", pool_strerror (rc));
    for (size_t i = 0; i < good; i++)
        H_CHECK (results[i].status == 0, "input '%.*s' after errors: %s",
                 (int)s_inputs[i].size, (const char *)s_inputs[i].data,
                 results[i].error ? results[i].error : "");
    pool_results_release (pool, results, good);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_failing_inputs_get_error_results", s_body);
}
