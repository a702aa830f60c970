/*  Updates: after pool_update_workers (k), every job submitted afterwards
    sees update k, having applied 1..k in order (the echo_update worker
    returns "LAST|WORKER_ID|HISTORY").  A node started after three updates
    applies all three, in order, before its first job.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { N = 400, NLATE = 2000 };

static pool_bytes_t s_inputs[NLATE];

/* Splits "LAST|ID|HISTORY" of r into its parts (copies). */
static void
s_parse (const pool_result_t *r, char *last, char *id, char *history)
{
    H_CHECK (r->status == 0, "input %zu: status %d (%s)", r->index, r->status,
             r->error ? r->error : "");
    char text[512];
    H_CHECK (r->value.size < sizeof text, "output of %zu bytes", r->value.size);
    memcpy (text, r->value.data, r->value.size);
    text[r->value.size] = 0;
    char *a = strchr (text, '|');
    char *b = a ? strchr (a + 1, '|') : NULL;
    H_CHECK (a && b, "output '%s' is not LAST|ID|HISTORY", text);
    *a = *b = 0;
    strcpy (last, text);
    strcpy (id, a + 1);
    strcpy (history, b + 1);
}

/* Maps count inputs; every job must have seen exactly updates 1..k. */
static void
s_map_expecting (pool_t *pool, size_t count, int k, const char *node_id,
                 size_t *from_node)
{
    char want_last[16] = "", want_history[128] = "";
    for (int u = 1; u <= k; u++) {
        snprintf (want_last, sizeof want_last, "u%d", u);
        if (u > 1)
            strcat (want_history, ",");
        strcat (want_history, want_last);
    }
    static pool_result_t results[NLATE];
    int rc = pool_map (pool, s_inputs, count, results);
    H_CHECK (rc == 0, "pool_map after update %d: %s: %s", k, pool_strerror (rc),
             pool_last_error (pool));
    for (size_t i = 0; i < count; i++) {
        char last[512], id[512], history[512];
        s_parse (&results[i], last, id, history);
        H_CHECK (strcmp (last, want_last) == 0,
                 "job %zu submitted after update %d ran on %s with last "
                 "update '%s'",
                 i, k, id, last);
        H_CHECK (strcmp (history, want_history) == 0,
                 "job %zu after update %d ran on %s having applied '%s', "
                 "want '%s'",
                 i, k, id, history, want_history);
        H_CHECK (id[0], "job %zu: empty worker id", i);
        if (node_id && strncmp (id, node_id, strlen (node_id)) == 0
            && id[strlen (node_id)] == '/')
            (*from_node)++;
    }
    pool_results_release (pool, results, count);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    pool_t *pool = h_open (head, "echo_update", 1);
    for (size_t i = 0; i < NLATE; i++)
        s_inputs[i] = (pool_bytes_t){ "x", 1 };

    s_map_expecting (pool, N, 0, NULL, NULL);
    for (int k = 1; k <= 3; k++) {
        char update[16];
        int len = snprintf (update, sizeof update, "u%d", k);
        int rc = pool_update_workers (pool, (pool_bytes_t){ update, (size_t)len });
        H_CHECK (rc == 0, "pool_update_workers (%s): %s: %s", update, pool_strerror (rc),
                 pool_last_error (pool));
        s_map_expecting (pool, N, k, NULL, NULL);
    }

    /* Updates back to back, with no job between them, apply in order. */
    for (int k = 4; k <= 6; k++) {
        char update[16];
        int len = snprintf (update, sizeof update, "u%d", k);
        int rc = pool_update_workers (pool, (pool_bytes_t){ update, (size_t)len });
        H_CHECK (rc == 0, "pool_update_workers (%s): %s", update, pool_strerror (rc));
    }
    s_map_expecting (pool, N, 6, NULL, NULL);

    /* A node that joins now must apply u1..u6 before its first job. */
    h_proc_t *late = h_start_node (head, 2);
    int rc = pool_wait_for_workers (pool, 3, h_timeout (60));
    H_CHECK (rc == 0,
             "the late node's workers did not join the pool: %s "
             "(pool has %d workers)",
             pool_strerror (rc), pool_workers_count (pool));
    size_t from_late = 0;
    s_map_expecting (pool, NLATE, 6, late->id, &from_late);
    H_CHECK (from_late > 0, "no job of %d ran on the late node %s", NLATE, late->id);
    h_log ("%zu of %d jobs ran on the late node", from_late, NLATE);

    /* And the late node's workers follow new updates too. */
    rc = pool_update_workers (pool, (pool_bytes_t){ "u7", 2 });
    H_CHECK (rc == 0, "pool_update_workers (u7): %s", pool_strerror (rc));
    from_late = 0;
    s_map_expecting (pool, NLATE, 7, late->id, &from_late);
    pool_close (&pool);
}

int
main (void)
{
    return h_main ("test_updates_reach_jobs_in_order", s_body);
}
