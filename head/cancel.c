/*  head/cancel.c - a client's CANCEL: its queued jobs dropped, its running
    ones stopped.

    Queued jobs are freed at once.  A job a worker holds cannot be taken
    back: it is marked cancelled in the worker's in-flight list, which
    keeps its window slot until the worker answers it (any status; the
    answer is dropped, feed.c) or dies (its death is not charged to it and
    it does not run again, scheduler.c).  The worker is sent CANCEL, so it
    drops the jobs it has queued, and its node CANCEL with the worker's
    pid and the pool's grace: the node tells a run in progress through the
    scoreboard (pool_worker_cancelled) and kills the worker when the run
    is still going after the grace.  No other job is touched. */
#include "cancel.h"

#include <stdio.h>

#include "scheduler.h"
#include "views.h"

typedef struct {
    uint64_t from, to;
} range_t;

/*  Whether the record lies in the range (after s_cut, a record lies in it
    or out of it). */
static bool
s_in_range (const head_job_t *job, void *arg)
{
    const range_t *range = arg;
    return job->id >= range->from && job->id + job->count - 1 < range->to;
}

/*  Cuts the records of q at the range's ends, so that each lies wholly in
    it or out of it: 0, or -1 when memory is short (a record across an end
    is then left as it is: not cancelled). */
static int
s_cut (head_queue_t *q, const range_t *range)
{
    int rc = head_queue_cut (q, range->from);
    if (head_queue_cut (q, range->to))
        rc = -1;
    if (rc)
        zsys_error ("pool-head: out of memory cancelling jobs [%llu, %llu): some "
                    "run on",
                    (unsigned long long)range->from, (unsigned long long)range->to);
    return rc;
}

/*  Marks the worker's jobs in the range cancelled: how many were not
    already. */
static size_t
s_mark (head_peer_t *worker, const range_t *range)
{
    size_t marked = 0;
    s_cut (&worker->inflight, range);
    for (head_job_t *job = worker->inflight.first; job; job = job->next)
        if (!job->cancelled && s_in_range (job, (void *)range)) {
            job->cancelled = true;
            marked += job->count;
        }
    return marked;
}

/*  CANCEL to the worker (its queued jobs) and to its node (its run). */
static void
s_tell (head_t *head, head_peer_t *worker, head_pool_t *pool, const range_t *range)
{
    proto_cancel_t cancel = { .pool = pool->id, .from = range->from, .to = range->to };
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_CANCEL);
    if (proto_cancel_set (&msg, &cancel) == PROTO_OK)
        head_send (head, worker, &msg);
    proto_msg_reset (&msg);
    head_peer_t *node = zhashx_lookup (head->nodes, worker->node);
    if (!node || !worker->pid)
        return; /* its node is gone: so is it, soon */
    snprintf (cancel.id, sizeof cancel.id, "%s", worker->id);
    cancel.pid = worker->pid;
    cancel.grace_ms = pool->cancel_grace_ms;
    proto_msg_init (&msg, PROTO_CANCEL);
    if (proto_cancel_set (&msg, &cancel) == PROTO_OK)
        head_send (head, node, &msg);
    proto_msg_reset (&msg);
}

void
head_cancel (head_t *head, head_pool_t *pool, uint64_t from, uint64_t to)
{
    range_t range = { from, to };
    if (from >= to)
        return;
    head_queue_t dropped = { 0 };
    s_cut (&pool->pending, &range);
    size_t queued = head_queue_extract (&pool->pending, s_in_range, &range, &dropped);
    head_queue_purge (&dropped);
    pool->done += queued;
    pool->stats.cancelled += queued;
    size_t held = 0;
    for (head_peer_t *worker = pool->members.first; worker; worker = worker->list_next) {
        size_t marked = s_mark (worker, &range);
        if (marked)
            s_tell (head, worker, pool, &range);
        held += marked;
        pool->stats.cancelled += marked;
    }
    if (head->config.verbose || queued || held)
        zsys_info ("pool-head: pool %llu: jobs [%llu, %llu) cancelled: %zu dropped from "
                   "the queue, %zu stopped on workers",
                   (unsigned long long)pool->id, (unsigned long long)from,
                   (unsigned long long)to, queued, held);
    if (pool->pending.count == 0 && pool->running == 0)
        head_sched_rebalance (head); /* it went idle */
}
