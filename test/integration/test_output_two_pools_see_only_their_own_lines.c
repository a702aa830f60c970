/*  Two programs whose pools' workers print at the same time: each sees
    its own pool's lines, all of them, and never a line of the other's
    (every line carries its pool's name: red or blue).
*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "output_util.h"

#define JOBS 10
#define LINES 10 /* per job and stream: 200 lines a pool, within the burst */

typedef struct {
    const h_proc_t *head;
    const char *tag, *other;
    int ready_fd; /* one byte once its pool is open */
    int go_fd;    /* one byte to start */
} s_program_t;

static int
s_program (void *arg)
{
    s_program_t *self = arg;
    ou_lines_t lines = { 0 };
    pool_t *pool = ou_open (self->head, self->tag, &lines, 1, 1);
    char byte = 1;
    H_CHECK (write (self->ready_fd, &byte, 1) == 1, "cannot say ready");
    H_CHECK (read (self->go_fd, &byte, 1) == 1, "no go");
    const char *inputs[JOBS];
    for (int i = 0; i < JOBS; i++)
        inputs[i] = "10"; /* LINES */
    ou_map (pool, inputs, JOBS);
    char last[64];
    snprintf (last, sizeof last, "%s run err 9", self->tag);
    H_CHECK (ou_wait (pool, &lines, last, 2, JOBS, 30), "%s: %zu of %d jobs' last lines",
             self->tag, ou_count (&lines, last, 2), JOBS);
    snprintf (last, sizeof last, "%s run ", self->tag);
    /* At least: the two pools take workers from each other, and a job a
       moving worker held may run again (and print again). */
    H_CHECK (ou_count (&lines, last, 0) >= 2 * JOBS * LINES,
             "%s got %zu run lines, fewer than %d", self->tag, ou_count (&lines, last, 0),
             2 * JOBS * LINES);
    for (size_t i = 0; i < lines.count; i++)
        H_CHECK (strncmp (lines.lines[i].text, self->tag, strlen (self->tag)) == 0
                     && !strstr (lines.lines[i].text, self->other),
                 "%s's client got '%s' from %s", self->tag, lines.lines[i].text,
                 lines.lines[i].worker);
    pool_close (&pool);
    ou_lines_free (&lines);
    return 0;
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (4, false);
    int ready[2], go[2];
    H_CHECK (pipe (ready) == 0 && pipe (go) == 0, "pipe");
    s_program_t red = { head, "red", "blue", ready[1], go[0] };
    s_program_t blue = { head, "blue", "red", ready[1], go[0] };
    pid_t a = h_fork (s_program, &red);
    pid_t b = h_fork (s_program, &blue);
    close (ready[1]);
    close (go[0]);
    char bytes[2];
    for (int got = 0; got < 2;) {
        ssize_t n = read (ready[0], bytes, 2 - (size_t)got);
        H_CHECK (n > 0, "a program ended before its pool was open");
        got += (int)n;
    }
    H_CHECK (write (go[1], "gg", 2) == 2, "cannot say go");
    int ca = h_wait (a, h_timeout (90));
    int cb = h_wait (b, h_timeout (90));
    H_CHECK (ca == 0 && cb == 0, "red exited %d, blue %d", ca, cb);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_output_two_pools_see_only_their_own_lines", s_body);
}
