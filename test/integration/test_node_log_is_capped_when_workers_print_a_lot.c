/*  Workers that print a lot do not fill the disk: a node started with
    --log-max-mb 4 whose workers write 40 MB of stdout keeps node.log
    under the cap and the latest lines in node.log.1 (it used to grow
    node.log without bound: 100 MB in two jobs).  The map's results are
    right and the node serves on.
*/
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define CAP ((off_t)4 << 20)

static off_t
s_size (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 ? st.st_size : 0;
}

static void
s_body (void)
{
    const char *cap[] = { "--log-max-mb", "4", NULL };
    h_proc_t *head = h_start_head_with (2, false, cap);
    pool_t *pool = h_open (head, "chatty", 2);
    enum { N = 4 };
    /* 4 jobs of 100,000 lines of 100 bytes: 40 MB. */
    pool_bytes_t inputs[N] = { { "100000:alpha", 12 },
                               { "100000:bravo", 12 },
                               { "100000:charlie", 14 },
                               { "100000:delta", 12 } };
    const char *tags[N] = { "alpha", "bravo", "charlie", "delta" };
    pool_result_t results[N];
    int rc = pool_map (pool, inputs, N, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (int i = 0; i < N; i++)
        H_CHECK (results[i].status == 0 && results[i].value.size == strlen (tags[i])
                     && memcmp (results[i].value.data, tags[i], strlen (tags[i])) == 0,
                 "input %d: status %d", i, results[i].status);
    pool_results_release (pool, results, N);

    char log[400], old[420];
    snprintf (log, sizeof log, "%s/node.log", head->dir);
    snprintf (old, sizeof old, "%s/node.log.1", head->dir);
    /* The node looks at the size twice a second. */
    double deadline = h_now () + h_timeout (10);
    while (s_size (log) > CAP && h_now () < deadline)
        usleep (50000);
    h_log ("node.log %lld bytes, node.log.1 %lld bytes", (long long)s_size (log),
           (long long)s_size (old));
    H_CHECK (s_size (log) <= CAP, "node.log is %lld bytes, over the 4 MiB cap",
             (long long)s_size (log));
    H_CHECK (s_size (old) > 0 && s_size (old) <= CAP, "node.log.1 is %lld bytes",
             (long long)s_size (old));
    /* The latest output is kept: the last line some job printed. */
    H_CHECK (h_file_has (log, "line 99999 ") || h_file_has (old, "line 99999 "),
             "neither node.log nor node.log.1 holds a job's last line");

    /* The node serves on. */
    pool_bytes_t one = { "3:echo", 6 };
    pool_result_t result;
    rc = pool_map (pool, &one, 1, &result);
    H_CHECK (rc == 0 && result.status == 0, "map after the cut: %s",
             pool_strerror (rc ? rc : result.status));
    pool_results_release (pool, &result, 1);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_node_log_is_capped_when_workers_print_a_lot", s_body);
}
