/*  pool_imap yields results in input order; pool_imap_unordered yields
    every index exactly once (in whatever order they complete), each with
    the output of its own input.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { N = 3000 };

static char s_texts[N][24];
static pool_bytes_t s_inputs[N];

static void
s_check_value (const pool_result_t *r, const char *what)
{
    H_CHECK (r->index < N, "%s: index %zu out of range", what, r->index);
    H_CHECK (r->status == 0, "%s: input %zu: status %d (%s)", what, r->index, r->status,
             r->error ? r->error : "");
    char want[24];
    int len = snprintf (want, sizeof want, "%" PRId64,
                        h_square ((int64_t)r->index * 3 - 1000));
    H_CHECK (r->value.size == (size_t)len
                 && memcmp (r->value.data, want, (size_t)len) == 0,
             "%s: input %zu: got '%.*s', want '%s'", what, r->index, (int)r->value.size,
             (const char *)r->value.data, want);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    pool_t *pool = h_open (head, "square", 2);
    for (size_t i = 0; i < N; i++) {
        int len
            = snprintf (s_texts[i], sizeof s_texts[i], "%" PRId64, (int64_t)i * 3 - 1000);
        s_inputs[i] = (pool_bytes_t){ s_texts[i], (size_t)len };
    }

    pool_iter_t *iter = NULL;
    int rc = pool_imap (pool, s_inputs, N, &iter);
    H_CHECK (rc == 0 && iter, "pool_imap: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    size_t count = 0;
    pool_result_t r;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        H_CHECK (r.index == count, "imap yielded index %zu as result #%zu", r.index,
                 count);
        s_check_value (&r, "imap");
        count++;
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    H_CHECK (count == N, "imap yielded %zu results for %d inputs", count, N);
    /* Done means done: asking again does not yield more. */
    H_CHECK (pool_iter_next (iter, &r) == 0, "imap yielded after the end");
    pool_iter_destroy (&iter);
    H_CHECK (iter == NULL, "pool_iter_destroy must null the pointer");

    static unsigned char seen[N];
    rc = pool_imap_unordered (pool, s_inputs, N, &iter);
    H_CHECK (rc == 0 && iter, "pool_imap_unordered: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    count = 0;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        s_check_value (&r, "imap_unordered");
        H_CHECK (!seen[r.index], "imap_unordered yielded index %zu twice", r.index);
        seen[r.index] = 1;
        count++;
    }
    H_CHECK (rc == 0, "pool_iter_next (unordered): %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    H_CHECK (count == N, "imap_unordered yielded %zu results for %d inputs", count, N);
    for (size_t i = 0; i < N; i++)
        H_CHECK (seen[i], "imap_unordered never yielded index %zu", i);
    pool_iter_destroy (&iter);

    /* An iterator dropped half way leaves the pool usable. */
    rc = pool_imap (pool, s_inputs, N, &iter);
    H_CHECK (rc == 0, "pool_imap: %s", pool_strerror (rc));
    for (size_t i = 0; i < 10; i++)
        H_CHECK (pool_iter_next (iter, &r) == 1 && r.index == i, "imap result %zu", i);
    pool_iter_destroy (&iter);
    static pool_result_t results[100];
    rc = pool_map (pool, s_inputs, 100, results);
    H_CHECK (rc == 0, "pool_map after an abandoned imap: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < 100; i++) {
        H_CHECK (results[i].index == i, "index %zu", i);
        s_check_value (&results[i], "map after abandoned imap");
    }
    pool_results_release (pool, results, 100);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_imap_order_and_unordered_once", s_body);
}
