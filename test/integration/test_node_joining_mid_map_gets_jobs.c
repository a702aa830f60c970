/*  A node that joins while a map runs receives jobs of that map: its worker
    ids appear in the results, and every result is still right.  The map is
    made long enough (jobs of 5 ms on a single worker) that it is still
    running when the node has joined; results are consumed while the node
    starts, as a program would.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { N = 3000, JOIN_AFTER = 50 };

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    pool_t *pool = h_open (head, "square", 1);

    static char texts[N][32];
    static pool_bytes_t inputs[N];
    for (size_t i = 0; i < N; i++) {
        snprintf (texts[i], sizeof texts[i], "%zu@s5", i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    pool_iter_t *iter = NULL;
    int rc = pool_imap (pool, inputs, N, &iter);
    H_CHECK (rc == 0, "pool_imap: %s: %s", pool_strerror (rc), pool_last_error (pool));

    h_proc_t *late = NULL;
    size_t count = 0, from_late = 0, joined_at = 0;
    pool_result_t r;
    while ((rc = pool_iter_next (iter, &r)) == 1) {
        H_CHECK (r.index == count, "imap yielded %zu as #%zu", r.index, count);
        H_CHECK (r.status == 0, "input %zu: %s", r.index, r.error ? r.error : "");
        char want[32];
        int len
            = snprintf (want, sizeof want, "%" PRId64 "@", h_square ((int64_t)r.index));
        H_CHECK (r.value.size > (size_t)len
                     && memcmp (r.value.data, want, (size_t)len) == 0,
                 "input %zu: got '%.*s', want '%s<worker id>'", r.index,
                 (int)r.value.size, (const char *)r.value.data, want);
        const char *id = (const char *)r.value.data + len;
        size_t id_len = r.value.size - (size_t)len;
        if (late && late->id[0] && id_len > strlen (late->id)
            && memcmp (id, late->id, strlen (late->id)) == 0
            && id[strlen (late->id)] == '/')
            from_late++;
        count++;
        if (count == JOIN_AFTER)
            late = h_start_node_async (head, 2);
        if (late && !joined_at && h_node_ready (late)) {
            joined_at = count;
            h_log ("node joined after %zu of %d results", count, N);
        }
    }
    H_CHECK (rc == 0, "pool_iter_next: %s: %s", pool_strerror (rc),
             pool_last_error (pool));
    H_CHECK (count == N, "%zu results for %d inputs", count, N);
    pool_iter_destroy (&iter);
    H_CHECK (joined_at > 0, "the map ended before the node said it was ready: "
                            "cannot tell whether a joining node gets jobs");
    h_log ("%zu of the %zu results after the join ran on the new node", from_late,
           N - joined_at);
    H_CHECK (from_late > 0,
             "no job ran on the node that joined during the "
             "map (%zu results came after it was ready)",
             N - joined_at);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_node_joining_mid_map_gets_jobs", s_body);
}
