/*  node/worker_run.h - running a worker's next update or job.

    Updates and jobs run one at a time, in the order they arrived
    (worker_queue.h), on the worker's one thread, user code included.  An
    update goes to the class's handle_update; one it refuses ends the
    worker (it must run nothing sent after it).  A job's input is read in
    place from its JOB message, or mapped from the client's memory when it
    came by shared memory (proto/shm.h); its result goes to the batch
    (worker_results.h), or back into the client's memory when it is big.

    A job's run blocks this thread: no heartbeat leaves while it runs, so
    a job longer than heartbeat_ms * liveness gets this worker declared
    dead by the head (the node still heartbeats for the machine).  Running
    user code on a thread of its own would lift that; not done yet.  A
    pool's job_timeout is enforced here, by the kernel (SIGALRM).

    While it runs, the scoreboard the node shares (scoreboard.h) names the
    job or update: should the process die, only that one is charged.  A
    job whose id the node marked there as cancelled is not run but
    answered PROTO_CODE_ECANCELED; the library may look at the same mark
    during its run (pool_worker_cancelled).
*/
#ifndef DCPOOL_NODE_WORKER_RUN_H
#define DCPOOL_NODE_WORKER_RUN_H

#include "scoreboard.h"
#include "worker_ctx.h"
#include "worker_link.h"
#include "worker_load.h"
#include "worker_queue.h"
#include "worker_results.h"

typedef struct worker_run worker_run_t;

/*  Runs the actions of queue for the pool of load, with ctx, adding
    results to results; a refused update is reported on link.  Every
    pointer is borrowed (board may be NULL); id names the worker in log
    lines.  NULL when out of memory. */
worker_run_t *worker_run_new (const char *id, pool_worker_ctx_t *ctx,
                              node_scoreboard_t *board, worker_load_t *load,
                              worker_queue_t *queue, worker_results_t *results,
                              worker_link_t *link);
/*  Frees its buffers; nulls *self. */
void worker_run_destroy (worker_run_t **self);

/*  Runs the oldest queued action, if any (the pool must be READY).  0, or
    -1 when the worker must end: an update was refused (the head was told
    why and the class destroyed), or memory or the link failed. */
int worker_run_next (worker_run_t *self);

/*  The head cancelled the jobs with ids in [from, to): those queued are
    taken out and answered PROTO_CODE_ECANCELED without running.  0, or -1
    when memory or the link failed (the worker must end). */
int worker_run_cancel (worker_run_t *self, uint64_t from, uint64_t to);

#endif
