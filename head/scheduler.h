/*  head/scheduler.h - pools, jobs and which worker runs what.

    The scheduler owns every decision about jobs: it queues submitted jobs,
    hands idle workers to pools (fair share among pools with work), feeds
    ready workers up to their prefetch, accepts each result only from the
    worker that holds that attempt, and requeues what a lost worker held.
    It never reads the socket; server.c calls it with decoded messages.
*/
#ifndef DCPOOL_HEAD_SCHEDULER_H
#define DCPOOL_HEAD_SCHEDULER_H

#include "head.h"

/*  Opens a pool for client from a POOL_OPEN (whose two frames are taken:
    they go to the block store).  Answers POOL_READY or ERROR itself. */
void head_sched_pool_open (head_t *head, head_peer_t *client, proto_msg_t *msg);
/*  Closes a pool: its queued jobs are dropped, its workers sent
    POOL_CLOSE (they exit and the node starts fresh ones). */
void head_sched_pool_close (head_t *head, head_pool_t *pool);
/*  The client's pool with that id, or NULL. */
head_pool_t *head_sched_pool (head_t *head, head_peer_t *client, uint64_t id);

void head_sched_submit (head_t *head, head_pool_t *pool, proto_msg_t *msg);
void head_sched_update (head_t *head, head_pool_t *pool, proto_msg_t *msg);
void head_sched_result (head_t *head, head_peer_t *worker, proto_msg_t *msg);
void head_sched_worker_ready (head_t *head, head_peer_t *worker, proto_msg_t *msg);
/*  A new worker said HELLO: it is idle and may get a pool. */
void head_sched_worker_join (head_t *head, head_peer_t *worker);
/*  Which job a lost worker's death is charged to. */
typedef enum {
    HEAD_CHARGE_OLDEST, /* unknown (node lost): the oldest job it held */
    HEAD_CHARGE_NONE,   /* it ran nothing (its node's scoreboard says) */
    HEAD_CHARGE_JOB     /* the job its node's scoreboard names */
} head_charge_t;

/*  The worker is gone.  code: the signal that killed it (>0), -(exit
    status), or 0 for a clean exit; why: words for the job's error;
    job_error: POOL_ECRASHED or POOL_ETIMEDOUT for the job charged;
    culprit: with HEAD_CHARGE_JOB, the job (id, attempt) it was running. */
void head_sched_worker_lost (head_t *head, head_peer_t *worker, int code, const char *why,
                             int job_error, head_charge_t charge,
                             const proto_job_t *culprit);
/*  A worker of pool died (code: signal, or -exit status) applying update
    seq.  true when that update has now killed max_attempts workers: its
    handle_update fails every time, and the pool must fail (text says why)
    instead of restarting workers forever. */
bool head_sched_update_crashed (head_pool_t *pool, uint64_t seq, int code, char *text,
                                size_t text_size);
/*  A worker that had pool_id loaded says HELLO again (its link was cut, or
    the head declared its node lost): when the pool is still open with the
    same library and the worker may run it, it is ready for it at once,
    gets the updates after useq and jobs, and true; false otherwise (the
    caller closes it: it leaves and its node starts a fresh one).  The
    library and the init data must both be the pool's. */
bool head_sched_worker_rejoin (head_t *head, head_peer_t *worker, uint64_t pool_id,
                               const uint8_t *lib_hash, const uint8_t *init_hash,
                               uint64_t useq);
/*  A worker that had a pool of another head's life loaded says HELLO
    (this head restarted): it waits, parked, for that pool's client to
    open the pool again (POOL_OPEN naming the pool and head it had), and
    then serves the new pool with its library and state as they are,
    once the client has replayed the updates it applied.  A worker nobody
    takes back within HEAD_PARK_MS is closed (head_sched_park_expire). */
void head_sched_worker_park (head_t *head, head_peer_t *worker,
                             const head_parked_t *what);
/*  Closes workers parked longer than HEAD_PARK_MS: their pool's client did
    not come back; they leave and their nodes start fresh workers. */
void head_sched_park_expire (head_t *head);
#define HEAD_PARK_MS 30000
/*  A worker refused update seq of its pool (handle_update failed, why):
    it runs nothing more and what it held is requeued, uncharged.
    Refusals count with deaths in handle_update; the pool fails once
    max_attempts workers in a row refused or died in the same update.
    Returns true when the pool failed (it is gone). */
bool head_sched_update_refused (head_t *head, head_peer_t *worker, uint64_t seq,
                                const char *why);
/*  A worker died in its pool's init (its node's scoreboard says): the
    pool fails with POOL_EWORKER once init has killed max_attempts workers
    and no worker of it is ready. */
void head_sched_init_crashed (head_t *head, head_peer_t *worker, const char *why);
/*  Fails a pool: ERROR {pool, code, text} to its client, then closes it. */
void head_sched_pool_fail (head_t *head, head_pool_t *pool, int code, const char *text);
/*  Hands idle workers to pools and moves workers between pools toward a
    fair share.  Cheap; called after anything that changes demand. */
void head_sched_rebalance (head_t *head);

#endif
