/*  A pool opened with forward_output = 0: its workers' lines reach the
    node's log, never the client (nor its callback).
*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "output_util.h"

#define ROUND_TRIPS 20 /* maps after the log had the lines */

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    ou_lines_t lines = { 0 };
    pool_t *pool = ou_open (head, "gamma", &lines, 0, 1);
    static const char *const three[] = { "3" };
    ou_map (pool, three, 1);

    /* The node logs a batch, then sends it: once the log has the last
       line, what would reach us is on its way. */
    char log[400];
    snprintf (log, sizeof log, "%s/node.log", head->dir);
    double deadline = h_now () + h_timeout (30);
    while (!(h_file_has (log, "gamma run out 2") && h_file_has (log, "gamma run err 2"))
           && h_now () < deadline)
        usleep (20000);
    H_CHECK (h_file_has (log, "gamma init out") && h_file_has (log, "gamma run out 2")
                 && h_file_has (log, "gamma run err 2"),
             "%s lacks the pool's lines", log);
    static const char *const nothing[] = { "0" };
    for (int i = 0; i < ROUND_TRIPS; i++)
        ou_map (pool, nothing, 1);
    H_CHECK (lines.count == 0, "%zu lines reached the client, the first '%s'",
             lines.count, lines.count ? lines.lines[0].text : "");
    pool_close (&pool);
    ou_lines_free (&lines);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_output_forward_off_stays_in_the_node_log", s_body);
}
