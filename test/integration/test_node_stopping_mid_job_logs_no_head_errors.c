/*  SIGTERM to a node while one of its two workers runs a job of 1.5 s:
    the node says BYE to the head at once, its idle worker leaves, and the
    busy one finishes, its result reaching the client.  The node sends
    the head nothing after its BYE (the head no longer knows it, and
    answered each worker's end with ERROR "unknown peer", which the node
    printed as a warning for every message), so its log holds no ERROR
    from the head; and it stops cleanly (exit 0, within the drain).
*/
#include <stdio.h>
#include <string.h>

#include "cancel_util.h"

enum { WORKERS = 2 };

static const h_proc_t *s_head;
static const char *s_dir;

/* The client, in its own process (its library sends and takes messages
   while it waits for a result): one job of 1.5 s, whose value must come. */
static int
s_client (void *arg)
{
    (void)arg;
    pool_t *pool = cu_open (s_head, s_dir, 0.5, 1, WORKERS);
    pool_bytes_t *inputs = cu_inputs (1, "1500");
    pool_iter_t *iter = NULL;
    int rc = pool_imap_unordered (pool, inputs, 1, &iter);
    H_CHECK (rc == 0, "pool_imap_unordered: %s", pool_strerror (rc));
    pool_result_t result;
    rc = pool_iter_next (iter, &result);
    H_CHECK (rc == 1 && result.status == 0, "the job in hand: %d, status %d (%s)", rc,
             rc == 1 ? result.status : 0, rc == 1 && result.error ? result.error : "");
    H_CHECK (result.value.size > 5 && memcmp (result.value.data, "1500@", 5) == 0,
             "the job in hand gave '%.*s'", (int)result.value.size,
             (const char *)result.value.data);
    pool_iter_destroy (&iter);
    pool_close (&pool);
    return 0;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (0, true);
    h_proc_t *node = h_start_node (head, WORKERS);
    s_head = head;
    s_dir = cu_dir ("markers");
    pid_t client = h_fork (s_client, NULL);
    cu_wait_files (s_dir, "-1500", 1, 30); /* the job runs */
    h_stop (node);                         /* waits for its clean exit */
    int code = h_wait (client, h_timeout (60));
    H_CHECK (code == 0, "the client's job failed (exit %d)", code);

    char log[400];
    snprintf (log, sizeof log, "%s/%s.stderr", h_tmpdir (), node->name);
    H_CHECK (h_file_has (log, "Terminated: stopping"), "%s: no sign of the stop", log);
    H_CHECK (!h_file_has (log, "the head answered ERROR"),
             "the stopping node sent the head messages after its BYE (%s)", log);
}

int
main (void)
{
    return h_main ("test_node_stopping_mid_job_logs_no_head_errors", s_body);
}
