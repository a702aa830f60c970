/*  node/worker_output.h - a worker process's stdout and stderr, read by
    the node.

    A worker gets two pipes as its fd 1 and 2 (its own log lines go to
    node.log straight, through --log-fd).  The node reads their other ends
    without blocking from its zloop, at most WORKER_OUTPUT_TURN bytes a
    stream per loop turn, and gives what it read to output_lines (cut into
    lines, logged, rate-limited); the batches go to the head as OUTPUT
    {id: worker id, seq: pid, code: stream, text: lines}.  The pipes are
    always drained, whatever is dropped, so a worker never blocks on a full
    pipe.  When the worker exits, what is left in the pipes is read and
    its unfinished lines are sent before the node reports its exit.
*/
#ifndef DCPOOL_NODE_WORKER_OUTPUT_H
#define DCPOOL_NODE_WORKER_OUTPUT_H

#include <czmq.h>
#include <sys/types.h>

#include "node_link.h"

#define WORKER_OUTPUT_TURN (256 * 1024) /* bytes read from a pipe per loop turn */

typedef struct worker_output worker_output_t;

/*  For the slot of worker id (copied); reads on loop, logs to log_fd,
    sends on link (all borrowed).  NULL when out of memory. */
worker_output_t *worker_output_new (zloop_t *loop, node_link_t *link, const char *id,
                                    int log_fd);
/*  Closes the pipes, stops reading (the loop must still exist); nulls
 *self. */
void worker_output_destroy (worker_output_t **self);

/*  Before a fork: fresh pipes.  0 with the ends the child gets as its
    stdout and stderr in fds[0] and fds[1], or -1 (then the child writes
    to the log as before: fds are the log fd). */
int worker_output_open (worker_output_t *self, int fds[2]);
/*  After the fork: the process pid (or -1 when the fork failed) now holds
    the write ends; they are closed here and reading starts. */
void worker_output_started (worker_output_t *self, pid_t pid);
/*  The process exited: reads what is left, sends its last lines and stops
    reading. */
void worker_output_ended (worker_output_t *self);
/*  About every second: reports dropped lines when the rate allows. */
void worker_output_tick (worker_output_t *self);

#endif
