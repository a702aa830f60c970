/*  head/balance.c - how many workers each pool should have, and moving
    them there: idle workers to the pools that want them most, one worker
    per pass from a pool over its need to one under it, and workers parked
    after a head restart back to their pool. */
#include "balance.h"

#include <string.h>

#include "feed.h"
#include "members.h"
#include "scheduler.h"

/*  How many workers a pool should have.  A pool with jobs wants its fair
    share; a pool whose client is still in pool_open wants min_workers (at
    most its share); an idle pool wants none, and keeps what it has only
    while nobody else needs it.  Keeping want and over-share on this one
    rule is what stops two pools from taking each other's workers in turn. */
static bool
s_busy (const head_pool_t *pool)
{
    return pool->pending.count > 0 || pool->running > 0;
}

static bool
s_active (const head_pool_t *pool)
{
    return s_busy (pool) || (!pool->served && pool->min_workers > 0);
}

static int
s_need (const head_pool_t *pool, int share)
{
    if (s_busy (pool))
        return share;
    if (!pool->served)
        return (int)pool->min_workers < share ? (int)pool->min_workers : share;
    return 0;
}

/* The workers a pool keeps: those a rebalance released are leaving it. */
static int
s_holding (const head_pool_t *pool)
{
    return (int)pool->members.count - pool->releasing;
}

/* The pool an idle worker should serve, or NULL. */
static head_pool_t *
s_pick_pool (head_t *head, head_peer_t *worker, int share)
{
    head_pool_t *best = NULL;
    int best_deficit = 0;
    bool best_active = false;
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools)) {
        if (pool->failed || !head_members_eligible (worker, pool))
            continue;
        int deficit = s_need (pool, share) - s_holding (pool);
        bool active = s_active (pool);
        if (!best || deficit > best_deficit
            || (deficit == best_deficit && active && !best_active)
            || (deficit == best_deficit && active == best_active
                && pool->members.count < best->members.count)) {
            best = pool;
            best_deficit = deficit;
            best_active = active;
        }
    }
    return best;
}

void
head_sched_rebalance (head_t *head)
{
    if (head->stopping)
        return;
    head_balance_unpark (head);
    /*  The workers shared out: idle ones, every pool's, and those released
        for another pool that are on their way back; not the parked (they
        serve nobody until their pool opens again, or they leave). */
    int total = (int)head->idle.count, active = 0, releasing = 0;
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools)) {
        total += (int)pool->members.count;
        releasing += pool->releasing;
        active += s_active (pool);
    }
    total += head->moving - releasing; /* closed, coming back */
    int share = active ? total / active : total;
    int spare = active ? total % active : 0;
    if (share < 1)
        share = 1;

    /* 1. Idle workers go where they are wanted most. */
    head_peer_t *worker, *next;
    for (worker = head->idle.first; worker; worker = next) {
        next = worker->list_next; /* head_members_assign moves it to the pool's list */
        head_pool_t *pool = s_pick_pool (head, worker, share);
        if (pool)
            head_members_assign (head, worker, pool);
    }
    /* 2. A pool below what it needs takes one worker, per pass, from a pool
          above what it needs.  Workers already released count as given:
          no more leave than the pools below their need lack.  When the
          workers do not divide evenly, `spare` busy pools may keep one
          over their share. */
    int lacking = 0, over = 0, npools = (int)zlistx_size (head->pools);
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools)) {
        int need = s_need (pool, share);
        if (s_holding (pool) < need)
            lacking += need - s_holding (pool);
        else if (s_busy (pool) && s_holding (pool) > need)
            over++;
    }
    if (lacking <= head->moving || npools == 0)
        return;
    bool may_keep_spare = spare > 0 && over <= spare;
    /* The neediest pool that some worker could serve: a pool nobody may
       run (GPU memory) does not stop the others from getting theirs. */
    head_pool_t *tried[npools];
    int ntried = 0;
    head_peer_t *victim = NULL;
    while (!victim && ntried < npools) {
        head_pool_t *starved = NULL;
        for (head_pool_t *pool = zlistx_first (head->pools); pool;
             pool = zlistx_next (head->pools)) {
            bool seen = false;
            for (int k = 0; k < ntried && !seen; k++)
                seen = tried[k] == pool;
            if (!seen && s_holding (pool) < s_need (pool, share)
                && (!starved || s_holding (pool) < s_holding (starved)))
                starved = pool;
        }
        if (!starved)
            return;
        tried[ntried++] = starved;
        for (head_pool_t *pool = zlistx_first (head->pools); pool;
             pool = zlistx_next (head->pools)) {
            int keep = s_need (pool, share) + (s_busy (pool) && may_keep_spare ? 1 : 0);
            if (pool == starved || s_holding (pool) <= keep)
                continue;
            for (worker = pool->members.first; worker; worker = worker->list_next)
                if (worker->state == WORKER_READY
                    && head_members_eligible (worker, starved)
                    && (!victim || worker->inflight.count < victim->inflight.count))
                    victim = worker;
        }
    }
    if (!victim)
        return;
    /* Let it finish what it holds; it gets nothing new. */
    victim->state = WORKER_RELEASING;
    victim->moving = true;
    victim->pool->releasing++;
    head->moving++;
    if (victim->inflight.count == 0)
        head_members_close (head, victim);
    else {
        /* Its queued jobs go back to its pool at once; only the one it is
           running stays with it. */
        head_pool_t *pool = victim->pool;
        head_job_t *keep = head_queue_pop_upto (&victim->inflight, 1);
        if (!keep)
            return; /* memory is short: it finishes them all */
        pool->running -= victim->inflight.count;
        pool->stats.requeued += victim->inflight.count;
        head_queue_splice_front (&pool->pending, &victim->inflight);
        head_queue_push (&victim->inflight, keep);
        victim->inflight_bytes = head_job_bytes (keep);
        head_feed_pool (head, pool);
    }
}

void
head_sched_worker_park (head_t *head, head_peer_t *worker, const head_parked_t *what)
{
    worker->state = WORKER_PARKED;
    head_members_list (&head->parked, worker);
    worker->parked = *what;
    worker->parked.since = zclock_mono ();
    zsys_info ("pool-head: worker %s has pool %llu of an earlier head loaded; it "
               "waits up to %d s for that pool's client to open it again",
               worker->id, (unsigned long long)what->pool_id, HEAD_PARK_MS / 1000);
    head_sched_rebalance (head); /* its pool may be open again already */
}

/*  The pool opened again that takes a parked worker back, or NULL: the same
    pool of the same earlier head, the same library and init data, and the
    updates the worker applied replayed by now. */
static head_pool_t *
s_parked_pool (head_t *head, const head_peer_t *worker)
{
    const head_parked_t *p = &worker->parked;
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools))
        if (pool->previous_id == p->pool_id && pool->previous_epoch == p->epoch
            && !memcmp (pool->lib_hash, p->lib_hash, PROTO_HASH_SIZE)
            && !memcmp (pool->init_hash, p->init_hash, PROTO_HASH_SIZE) && !pool->failed
            && pool->client && pool->useq >= p->useq
            && head_members_eligible (worker, pool))
            return pool;
    return NULL;
}

/*  Parked workers whose pool is back serve it: ASSIGN of the new pool id
    with the same hashes, which a worker with them loaded answers
    WORKER_READY at once; then the updates after the ones it applied. */
void
head_balance_unpark (head_t *head)
{
    head_peer_t *next;
    for (head_peer_t *worker = head->parked.first; worker; worker = next) {
        next = worker->list_next; /* head_members_assign moves it to the pool's list */
        head_pool_t *pool = s_parked_pool (head, worker);
        if (!pool)
            continue;
        zsys_info ("pool-head: worker %s takes pool %llu (pool %llu before the "
                   "restart) back with its library loaded",
                   worker->id, (unsigned long long)pool->id,
                   (unsigned long long)worker->parked.pool_id);
        head_members_assign (head, worker, pool);
        worker->useq_sent = worker->parked.useq;
    }
}

void
head_sched_park_expire (head_t *head)
{
    int64_t now = zclock_mono ();
    head_peer_t *next;
    for (head_peer_t *worker = head->parked.first; worker; worker = next) {
        next = worker->list_next;
        if (now - worker->parked.since < HEAD_PARK_MS)
            continue;
        zsys_info ("pool-head: worker %s: nobody opened pool %llu again within %d s; "
                   "it leaves for a fresh worker",
                   worker->id, (unsigned long long)worker->parked.pool_id,
                   HEAD_PARK_MS / 1000);
        proto_msg_t close;
        proto_msg_init (&close, PROTO_POOL_CLOSE);
        proto_msg_set_pool (&close, worker->parked.pool_id);
        head_send (head, worker, &close);
        proto_msg_reset (&close);
        head_members_unlist (worker);
        worker->state = WORKER_CLOSED;
        worker->closed_at = now;
    }
}
