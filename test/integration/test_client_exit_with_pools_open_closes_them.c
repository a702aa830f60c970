/*  A program that ends (a return from main, exit) with pools still open
    does not abort in CZMQ's exit handler (it used to: "zsock_set_sndtimeo:
    Assertion ... failed", status 134, after "dangling socket" reports):
    libpool closes its open pools first, so the program's exit status is
    its own and the head hears a clean goodbye (the pools closed, not
    dropped for a closed connection or missed heartbeats).
*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const h_proc_t *s_head;

/* Opens two pools, maps on one, and leaves without pool_close. */
static int
s_leave_open (void *arg)
{
    (void)arg;
    pool_t *first = h_open (s_head, "square", 1);
    pool_t *second = h_open (s_head, "square", 1);
    pool_bytes_t input = { "12", 2 };
    pool_result_t result;
    int rc = pool_map (first, &input, 1, &result);
    H_CHECK (rc == 0 && result.status == 0, "map: %s", pool_strerror (rc));
    pool_results_release (first, &result, 1);
    (void)second;
    return 7; /* exit (7), two pools open */
}

/* Counts the pools head.log says were closed, and fails on a client
   dropped instead. */
static int
s_closed_in (const char *path)
{
    char line[512];
    FILE *log = fopen (path, "r");
    H_CHECK (log, "cannot read %s", path);
    int closed = 0;
    while (fgets (line, sizeof line, log)) {
        closed += strstr (line, "(square.so) closed") != NULL;
        H_CHECK (!strstr (line, "closing its"),
                 "the head dropped the client "
                 "instead of hearing it close: %s",
                 line);
    }
    fclose (log);
    return closed;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    s_head = head;
    pid_t client = h_fork (s_leave_open, NULL);
    int code = h_wait (client, h_timeout (60));
    H_CHECK (code == 7,
             "a program that exits with pools open ended with status %d, "
             "want its own 7 (134 is an abort)",
             code);

    /* The goodbyes left with the program; the head logs them when it
       reads them, which can be just after the program's exit. */
    char path[400];
    snprintf (path, sizeof path, "%s/head.log", head->dir);
    double deadline = h_now () + h_timeout (30);
    int closed = s_closed_in (path);
    while (closed < 2 && h_now () < deadline) {
        usleep (20000);
        closed = s_closed_in (path);
    }
    H_CHECK (closed == 2, "head.log says %d pools closed, want 2", closed);

    /* The cluster serves the next program. */
    pool_t *pool = h_open (head, "square", 1);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_client_exit_with_pools_open_closes_them", s_body);
}
