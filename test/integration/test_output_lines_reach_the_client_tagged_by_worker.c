/*  What a pool's workers write on stdout and stderr, in init, update and
    run, reaches the client's output callback line by line, with the id of
    the worker that wrote it and the stream, in the order each worker
    wrote it; and it is in the node's log too, tagged with the worker id.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output_util.h"

#define WORKERS 2
#define JOBS 8
#define LINES 5

/*  The lines of stream written by worker, in order: their texts must be
    "alpha init S", "alpha update S u1", "alpha run S I..." (S out or
    err), with each job's I counting up from 0. */
static void
s_check_order (const ou_lines_t *lines, const char *worker, int stream)
{
    const char *s = stream == 1 ? "out" : "err";
    char init[64], update[64], run[64];
    snprintf (init, sizeof init, "alpha init %s", s);
    snprintf (update, sizeof update, "alpha update %s u1", s);
    snprintf (run, sizeof run, "alpha run %s ", s);
    int phase = 0; /* 0 init, 1 update, 2 runs */
    long next = 0;
    size_t seen = 0;
    for (size_t i = 0; i < lines->count; i++) {
        const ou_line_t *line = &lines->lines[i];
        if (strcmp (line->worker, worker) || line->stream != stream)
            continue;
        seen++;
        if (phase == 0) {
            H_CHECK (strcmp (line->text, init) == 0, "%s's first %s line is '%s'", worker,
                     s, line->text);
            phase = 1;
        } else if (phase == 1) {
            H_CHECK (strcmp (line->text, update) == 0, "%s's second %s line is '%s'",
                     worker, s, line->text);
            phase = 2;
        } else {
            H_CHECK (strncmp (line->text, run, strlen (run)) == 0,
                     "%s wrote '%s' on %s after its update", worker, line->text, s);
            long at = strtol (line->text + strlen (run), NULL, 10);
            H_CHECK (at == next || (at == 0 && next == LINES),
                     "%s: '%s' on %s after line %ld of a job", worker, line->text, s,
                     next - 1);
            next = at + 1;
        }
    }
    H_CHECK (phase == 2, "%s: %zu lines on %s, not its init and update", worker, seen, s);
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (WORKERS, false);
    ou_lines_t lines = { 0 };
    pool_t *pool = ou_open (head, "alpha", &lines, 1, WORKERS);
    int rc = pool_update_workers (pool, (pool_bytes_t){ "u1", 2 });
    H_CHECK (rc == 0, "pool_update_workers: %s", pool_strerror (rc));
    const char *inputs[JOBS];
    for (int i = 0; i < JOBS; i++)
        inputs[i] = "5"; /* LINES */
    ou_map (pool, inputs, JOBS);

    H_CHECK (ou_wait (pool, &lines, "alpha run out 4", 1, JOBS, 30),
             "%zu of %d jobs' last stdout lines reached the client",
             ou_count (&lines, "alpha run out 4", 1), JOBS);
    H_CHECK (ou_wait (pool, &lines, "alpha run err 4", 2, JOBS, 30),
             "%zu of %d jobs' last stderr lines reached the client",
             ou_count (&lines, "alpha run err 4", 2), JOBS);
    H_CHECK (ou_count (&lines, "alpha init out", 1) == WORKERS
                 && ou_count (&lines, "alpha init err", 2) == WORKERS,
             "init lines: %zu on stdout, %zu on stderr, for %d workers",
             ou_count (&lines, "alpha init out", 1),
             ou_count (&lines, "alpha init err", 2), WORKERS);
    H_CHECK (ou_count (&lines, "alpha update out u1", 1) == WORKERS
                 && ou_count (&lines, "alpha update err u1", 2) == WORKERS,
             "update lines: %zu on stdout, %zu on stderr",
             ou_count (&lines, "alpha update out u1", 1),
             ou_count (&lines, "alpha update err u1", 2));
    H_CHECK (ou_count (&lines, "alpha run out", 1) == JOBS * LINES
                 && ou_count (&lines, "alpha run err", 2) == JOBS * LINES
                 && ou_count (&lines, "alpha run err", 1) == 0
                 && ou_count (&lines, "alpha run out", 2) == 0,
             "run lines: %zu on stdout, %zu on stderr, want %d each on its own",
             ou_count (&lines, "alpha run out", 0), ou_count (&lines, "alpha run err", 0),
             JOBS * LINES);

    /* Each worker's lines, in the order it wrote them, tagged with its id
       (a worker of the node: "NODEID/wK"). */
    char workers[WORKERS][128];
    int found = 0;
    for (size_t i = 0; i < lines.count; i++)
        if (strcmp (lines.lines[i].text, "alpha init out") == 0 && found < WORKERS)
            snprintf (workers[found++], sizeof workers[0], "%s", lines.lines[i].worker);
    H_CHECK (found == WORKERS && strcmp (workers[0], workers[1]) != 0,
             "init lines came from %d distinct workers", found);
    for (int w = 0; w < WORKERS; w++) {
        H_CHECK (strncmp (workers[w], head->id, strlen (head->id)) == 0
                     && strstr (workers[w], "/w"),
                 "worker id '%s' is not one of node %s's", workers[w], head->id);
        s_check_order (&lines, workers[w], 1);
        s_check_order (&lines, workers[w], 2);
    }

    /* And in the node's log, with the worker id. */
    char log[400], want[300];
    snprintf (log, sizeof log, "%s/node.log", head->dir);
    snprintf (want, sizeof want, "(%s) alpha init out", workers[0]);
    H_CHECK (h_file_has (log, want), "%s lacks '%s'", log, want);
    snprintf (want, sizeof want, "(%s) alpha update err u1", workers[1]);
    H_CHECK (h_file_has (log, want), "%s lacks '%s'", log, want);
    H_CHECK (h_file_has (log, "alpha run out 4") && h_file_has (log, "alpha run err 4"),
             "%s lacks the runs' lines", log);

    pool_close (&pool);
    ou_lines_free (&lines);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_output_lines_reach_the_client_tagged_by_worker", s_body);
}
