/*  node/node_workers.h - the node's worker slots.

    One slot per GPU (or CPU worker) the node planned (slots.h); each runs
    one pool-worker at a time, started with fork/exec (spawn.h) with the
    node's keys in its environment and its GPU alone visible, its own log
    lines into DATA/node.log (node_log.h) and its stdout and stderr into
    pipes the node reads (worker_output.h: logged, and forwarded to the
    client of its pool).  Every exit is reported to the head at
    once as WORKER_DIED, naming the job or update it was running (read
    from the scoreboard the slot shares with its process, scoreboard.h);
    the slot then starts a fresh process, after a back-off when the last
    one died young on its own.
*/
#ifndef DCPOOL_NODE_WORKERS_H
#define DCPOOL_NODE_WORKERS_H

#include <czmq.h>
#include <stdbool.h>
#include <sys/types.h>

#include "node_link.h"
#include "supervisor.h"
#include "proto/msg.h"

#define NODE_WORKERS_DRAIN_MS 5000 /* SIGTERM to SIGKILL of workers */

typedef struct node_workers node_workers_t;

/*  Prepares a slot for each of config's slots (nothing is started yet)
    and opens node.log.  Exits are reported on link; timers run on loop
    (all borrowed).  NULL with the reason in error[error_size]. */
node_workers_t *node_workers_new (const supervisor_config_t *config, zloop_t *loop,
                                  node_link_t *link, char *error, size_t error_size);
/*  Kills the workers still alive (SIGKILL, waiting up to 2 s each), closes
    node.log (the loop must still exist); nulls *self. */
void node_workers_destroy (node_workers_t **self);

/*  Starts every slot's worker (a slot whose fork failed tries again
    later). */
void node_workers_start (node_workers_t *self);
/*  The node is stopping: no more restarts, SIGTERM to every worker, and
    SIGKILL to those still alive NODE_WORKERS_DRAIN_MS later. */
void node_workers_stop (node_workers_t *self);
/*  SIGKILL to every worker and its process group, now. */
void node_workers_kill_all (node_workers_t *self);
/*  How many workers are alive. */
int node_workers_live (const node_workers_t *self);

/*  When pid is one of our workers that exited but is not reaped yet
    (waitid WNOWAIT), kills its process group: whatever it forked goes
    with it, and the pid cannot have gone to anyone else yet.  True when
    pid is a worker's. */
bool node_workers_kill_group (node_workers_t *self, pid_t pid);
/*  Worker pid was reaped with status: reports it to the head and, unless
    stopping, starts the slot again (now or after its back-off). */
void node_workers_reaped (node_workers_t *self, pid_t pid, int status);

/*  WORKER_KILL from the head: kills the process it names (id and pid). */
void node_workers_kill (node_workers_t *self, const proto_msg_t *msg);
/*  CANCEL from the head for one worker (id and pid): the cancelled range
    goes on its scoreboard (pool_worker_cancelled; a job of it not yet
    started is not run), and a job of it that the worker runs now gets
    grace_ms to return before the node kills the worker's process group
    (the slot restarts at once). */
void node_workers_cancel (node_workers_t *self, const proto_msg_t *msg);
/*  Adds to a heartbeat what the workers' GPUs have in use (every few
    seconds, for GPU slots only). */
void node_workers_gpu_usage (node_workers_t *self, proto_msg_t *msg);

#endif
