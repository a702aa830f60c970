/*  node/worker_results.h - the results of a worker's jobs, batched.

    Results go to the head in RESULT messages of many jobs: small outputs
    are copied into an arena and go packed, by reference, when the batch
    is flushed; a big output goes at once in a RESULT of its own (after
    the batch so far, so the head sees results in the order jobs ran).
    When a batch goes is the caller's choice (worker_run.c): when no job
    is left queued, or when worker_results_due says so.

    Each RESULT also tells the head how long its jobs ran and how long the
    last one waited here: it sizes this worker's window from them
    (head/scheduler.c).
*/
#ifndef DCPOOL_NODE_WORKER_RESULTS_H
#define DCPOOL_NODE_WORKER_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "worker_link.h"

typedef struct worker_results worker_results_t;

/*  An empty batch whose RESULTs go on link (borrowed), for the worker
    named id (for its log lines; borrowed).  NULL when out of memory. */
worker_results_t *worker_results_new (worker_link_t *link, const char *id);
/*  Drops what is batched and frees it; nulls *self. */
void worker_results_destroy (worker_results_t **self);

/*  Adds the result of job (its id, attempt, status and flags) of pool
    with its output data[size]: batched (copied) when small, sent at once
    when big.  0, or -1 when out of memory or the link failed: the worker
    must end (the head requeues what it held). */
int worker_results_add (worker_results_t *self, uint64_t pool, const proto_job_t *job,
                        const void *data, size_t size);
/*  Sends a big output in the frame it was built in (taken), in a RESULT
    of its own after the batch so far: 0, or -1 as worker_results_add. */
int worker_results_add_frame (worker_results_t *self, uint64_t pool, uint64_t id,
                              uint32_t attempt, zframe_t **frame);
/*  Sends what is batched as one RESULT of pool and empties the batch.
    0 (also when nothing was batched), or -1 as worker_results_add. */
int worker_results_flush (worker_results_t *self, uint64_t pool);
/*  Empties the batch (what it holds is dropped) and its timings. */
void worker_results_clear (worker_results_t *self);
/*  True when the batch should go now, at now (a zclock_mono reading),
    with queued jobs still to run here: it holds many results, many bytes,
    as many results as there are jobs left and those run for a millisecond
    or more (the head then refills this worker while it runs the rest),
    jobs of a quarter millisecond or more left that run out before a
    refill could come (as long as the last one took), the result of a job
    run again, or its first is getting old. */
bool worker_results_due (worker_results_t *self, int64_t now, size_t queued);

/*  A job is about to run: the batch's run time starts here unless it
    started with an earlier job (it ends at the next flush). */
void worker_results_busy (worker_results_t *self);
/*  The last job added was read from the socket at arrived_us
    (zclock_usecs): the head learns how long it waited here. */
void worker_results_arrived (worker_results_t *self, int64_t arrived_us);

/*  Answers at once, with an error result of POOL_EJOB saying reason,
    every job of a JOB message this worker cannot run (another pool, no
    pool loaded), so no job waits for a worker's death.  0 (also when out
    of memory: then nothing is sent), or -1 when the link failed. */
int worker_results_refuse (worker_results_t *self, const proto_msg_t *job_msg,
                           const char *reason);

#endif
