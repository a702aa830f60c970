/*  head/members.c - which worker serves which pool: the lists of idle,
    parked and each pool's workers (head.h), a worker joining a pool
    (ASSIGN) and leaving it (POOL_CLOSE), and whether it may run a pool's
    code at all. */
#include "members.h"

#include <stdio.h>
#include <string.h>

#include "views.h"

/* Takes the worker out of the list it is in, if any. */
void
head_members_unlist (head_peer_t *worker)
{
    head_worker_list_t *list = worker->list;
    if (!list)
        return;
    if (worker->list_prev)
        worker->list_prev->list_next = worker->list_next;
    else
        list->first = worker->list_next;
    if (worker->list_next)
        worker->list_next->list_prev = worker->list_prev;
    list->count--;
    worker->list = NULL;
    worker->list_prev = worker->list_next = NULL;
}

/* Puts the worker in list (out of any other first). */
void
head_members_list (head_worker_list_t *list, head_peer_t *worker)
{
    head_members_unlist (worker);
    worker->list = list;
    worker->list_prev = NULL;
    worker->list_next = list->first;
    if (list->first)
        list->first->list_prev = worker;
    list->first = worker;
    list->count++;
}

/* Detaches a worker from its pool's counters and list. */
void
head_members_leave (head_peer_t *worker)
{
    head_members_unlist (worker);
    head_pool_t *pool = worker->pool;
    if (!pool)
        return;
    if (worker->state == WORKER_READY || worker->state == WORKER_RELEASING)
        pool->ready--;
    if (worker->state == WORKER_RELEASING && worker->moving)
        pool->releasing--;
    if (worker->pid) {
        head_departed_t *departed
            = &pool->departed[pool->departed_next++ % HEAD_POOL_DEPARTED];
        snprintf (departed->id, sizeof departed->id, "%s", worker->id);
        departed->pid = worker->pid;
        departed->at = zclock_mono ();
    }
    worker->pool = NULL;
}

/* Sends POOL_CLOSE: the worker exits and its node starts a fresh one. */
void
head_members_close (head_t *head, head_peer_t *worker)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_POOL_CLOSE);
    proto_msg_set_pool (&msg, worker->pool ? worker->pool->id : 0);
    head_send (head, worker, &msg);
    proto_msg_reset (&msg);
    head_members_leave (worker);
    worker->state = WORKER_CLOSED;
    worker->closed_at = zclock_mono ();
}

/* Whether the worker may run the pool's code (GPU memory). */
bool
head_members_eligible (const head_peer_t *worker, const head_pool_t *pool)
{
    if (pool->min_gpu_memory == 0)
        return true;
    if (!worker->has_gpu)
        return false;
    /* Free memory where the node reported what is in use (other programs
       may hold some of the device), else the device's size. */
    uint64_t free = worker->gpu_memory;
    if (worker->gpu_used != UINT64_MAX && worker->gpu_used <= worker->gpu_memory)
        free -= worker->gpu_used;
    return free >= pool->min_gpu_memory;
}

void
head_members_assign (head_t *head, head_peer_t *worker, head_pool_t *pool)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_ASSIGN);
    proto_assign_t assign = { .pool = pool->id, .job_timeout_ms = pool->job_timeout_ms };
    snprintf (assign.name, sizeof assign.name, "%s", pool->name);
    memcpy (assign.lib_hash, pool->lib_hash, PROTO_HASH_SIZE);
    memcpy (assign.init_hash, pool->init_hash, PROTO_HASH_SIZE);
    snprintf (assign.data_endpoint, sizeof assign.data_endpoint, "%s",
              pool->data_endpoint);
    assign.direct_min = pool->direct_min;
    proto_assign_set (&msg, &assign);
    head_send (head, worker, &msg);
    proto_msg_reset (&msg);
    head_members_join (worker, pool);
    worker->state = WORKER_LOADING;
    worker->useq_sent = 0;
    worker->no_direct = false; /* another client, maybe reachable */
}

void
head_members_join (head_peer_t *worker, head_pool_t *pool)
{
    worker->pool = pool;
    head_members_list (&pool->members, worker);
}
