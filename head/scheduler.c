/*  head/scheduler.c - the scheduler's entries: pools opened, fed jobs and
    updates, closed and failed; workers joining, rejoining, ready, lost.

    The scheduler is four files, each calling only those below it:
    scheduler.c (these entries) -> balance.c (fair share, parked workers)
    -> feed.c (jobs and updates to workers, results back) -> members.c
    (which worker serves which pool). */
#include "scheduler.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "balance.h"
#include "feed.h"
#include "members.h"
#include "lifetimes.h"
#include "shards.h"
#include "locality.h"
#include "results_out.h"
#include "store.h"
#include "store_limit.h"
#include "views.h"

head_pool_t *
head_sched_pool (head_t *head, head_peer_t *client, uint64_t id)
{
    for (head_pool_t *pool = zlistx_first (head->pools); pool;
         pool = zlistx_next (head->pools))
        if (pool->id == id && pool->client == client)
            return pool;
    return NULL;
}

static void
s_pool_destroy (head_pool_t **pool_p)
{
    head_pool_t *pool = *pool_p;
    if (!pool)
        return;
    head_queue_purge (&pool->pending);
    zframe_destroy (&pool->relay);
    if (pool->updates) {
        zframe_t *frame;
        while ((frame = zlist_pop (pool->updates)))
            zframe_destroy (&frame);
        zlist_destroy (&pool->updates);
    }
    free (pool);
    *pool_p = NULL;
}

void
head_sched_pool_open (head_t *head, head_peer_t *client, proto_msg_t *msg)
{
    head_pool_t *pool = NULL;
    zframe_t *lib = NULL, *init = NULL;
    proto_pool_open_t open;
    char reason[128];
    if (proto_pool_open_get (msg, &open, reason, sizeof reason) != PROTO_OK) {
        head_send_error (head, client, 0, PROTO_CODE_EINVAL, "%s", reason);
        goto cleanup;
    }
    if (zlist_size (client->pools) >= head->config.max_pools_per_client) {
        head_send_error (head, client, 0, PROTO_CODE_EDENIED,
                         "too many pools open on this connection (limit %zu)",
                         head->config.max_pools_per_client);
        goto cleanup;
    }
    lib = proto_msg_pop_frame (msg);
    init = proto_msg_pop_frame (msg);
    uint8_t hash[PROTO_HASH_SIZE];
    proto_hash (zframe_data (lib), zframe_size (lib), hash);
    bool lib_ok = memcmp (hash, open.lib_hash, PROTO_HASH_SIZE) == 0;
    proto_hash (zframe_data (init), zframe_size (init), hash);
    if (!lib_ok || memcmp (hash, open.init_hash, PROTO_HASH_SIZE) != 0) {
        head_send_error (head, client, 0, PROTO_CODE_EINVAL,
                         "POOL_OPEN frames do not match their hashes");
        goto cleanup;
    }
    char why[512];
    int code = head_store_limit_put (head, open.lib_hash, zframe_data (lib),
                                     zframe_size (lib), why, sizeof why);
    if (!code)
        code = head_store_limit_put (head, open.init_hash, zframe_data (init),
                                     zframe_size (init), why, sizeof why);
    if (code) {
        head_send_error (head, client, 0, code,
                         "the head cannot store the worker library or init data: %s",
                         why);
        goto cleanup;
    }
    pool = calloc (1, sizeof *pool);
    if (!pool || !(pool->updates = zlist_new ())) {
        head_send_error (head, client, 0, PROTO_CODE_ENOMEM, "head out of memory");
        goto cleanup;
    }
    pool->id = head_store_next_pool_id (head->store);
    if (!pool->id)
        pool->id = ++head->next_pool_id;
    else if (pool->id > head->next_pool_id)
        head->next_pool_id = pool->id;
    pool->client = client;
    snprintf (pool->name, sizeof pool->name, "%s", open.name);
    memcpy (pool->lib_hash, open.lib_hash, PROTO_HASH_SIZE);
    memcpy (pool->init_hash, open.init_hash, PROTO_HASH_SIZE);
    pool->max_attempts = open.max_attempts;
    pool->job_timeout_ms = open.job_timeout_ms;
    pool->cancel_grace_ms = open.cancel_grace_ms;
    snprintf (pool->data_endpoint, sizeof pool->data_endpoint, "%s", open.data_endpoint);
    pool->direct_min = open.direct_min;
    pool->has_relay_key = open.has_relay_key;
    memcpy (pool->relay_key, open.relay_key, sizeof pool->relay_key);
    pool->min_workers = open.min_workers;
    pool->min_gpu_memory = open.min_gpu_memory_mb * 1024 * 1024;
    pool->forward_output = open.forward_output;
    pool->previous_id = open.previous_pool;
    pool->previous_epoch = open.previous_epoch;
    pool->stats.opened_at = zclock_mono ();
    if (!zlistx_add_end (head->pools, pool) || zlist_append (client->pools, pool)) {
        head_send_error (head, client, 0, PROTO_CODE_ENOMEM, "head out of memory");
        zlistx_delete (head->pools, zlistx_find (head->pools, pool));
        goto cleanup;
    }
    head_store_pool_save (head->store, pool->id, pool->name, client->id);
    head_lifetimes_pool_open (head, pool);
    zsys_info ("pool-head: pool %llu (%s) opened by %s", (unsigned long long)pool->id,
               pool->name, client->id);

    proto_msg_t ready;
    proto_msg_init (&ready, PROTO_POOL_READY);
    proto_msg_set_pool (&ready, pool->id);
    head_send (head, client, &ready);
    proto_msg_reset (&ready);
    pool = NULL;
    head_sched_rebalance (head);
cleanup:
    zframe_destroy (&lib);
    zframe_destroy (&init);
    s_pool_destroy (&pool);
}

void
head_sched_pool_close (head_t *head, head_pool_t *pool)
{
    zsys_info ("pool-head: pool %llu (%s) closed: %llu jobs done",
               (unsigned long long)pool->id, pool->name, (unsigned long long)pool->done);
    head_peer_t *worker;
    while ((worker = pool->members.first)) {
        head_queue_purge (&worker->inflight);
        head_members_close (head, worker); /* takes it off the list */
    }
    head_metrics_pool_closed (head, pool);
    head_store_pool_forget (head->store, pool->id);
    head_lifetimes_pool_close (head, pool);
    head_results_out_forget (head, pool);
    if (pool->client)
        zlist_remove (pool->client->pools, pool);
    void *handle = zlistx_find (head->pools, pool);
    if (handle)
        zlistx_detach (head->pools, handle);
    s_pool_destroy (&pool);
    head_sched_rebalance (head);
}

void
head_sched_submit (head_t *head, head_pool_t *pool, proto_msg_t *msg)
{
    if (pool->pending.count + pool->running + msg->njobs
        > head->config.max_pending_per_pool) {
        head_send_error (head, pool->client, pool->id, PROTO_CODE_EDENIED,
                         "pool %llu: more than %zu jobs pending",
                         (unsigned long long)pool->id, head->config.max_pending_per_pool);
        return;
    }
    head_named_t *named = NULL; /* the blocks its jobs read (locality.h) */
    const char *why = NULL;
    if ((msg->present & PROTO_F_TEXT) && head_locality_named (msg, &named, &why)) {
        head_send_error (head, pool->client, pool->id, PROTO_CODE_EINVAL, "%s", why);
        return;
    }
    bool was_idle = pool->pending.count == 0 && pool->running == 0;
    pool->served = true; /* its client is past pool_open */
    /* Small inputs came packed: the packed frame is kept as it came, and
       each run of consecutive ids is one record reading its inputs there. */
    head_blob_t *blob = msg->packed ? head_blob_take (msg) : NULL;
    head_job_t *run = NULL; /* the record being extended */
    for (size_t i = 0; i < msg->njobs; i++) {
        const proto_job_t *entry = &msg->jobs[i];
        bool shared = (entry->flags & PROTO_JOB_SHARED) != 0;
        if (blob && run && entry->id == run->id + run->count && shared == run->shared
            && run->count < UINT32_MAX) {
            run->count++;
            pool->pending.count++;
            pool->submitted++;
            continue;
        }
        head_job_t *job = head_job_new ();
        if (!job) {
            head_blob_unref (&blob);
            head_named_unref (&named);
            head_send_error (head, pool->client, pool->id, PROTO_CODE_ENOMEM,
                             "head out of memory");
            return;
        }
        job->id = entry->id;
        job->useq = pool->useq;
        job->shared = shared;
        if (named)
            job->named = head_named_ref (named);
        if (blob) {
            job->blob = blob;
            blob->refs++;
            job->first = i;
            run = job;
        } else {
            /* Big inputs came as frames: a small one is copied into the
               job, a big one keeps its frame, or the pieces it came in
               (moved, not copied). */
            zframe_t *frame = NULL;
            zmsg_t *tail = NULL;
            proto_msg_pop_pieces (msg, &frame, &tail);
            size_t size = frame ? zframe_size (frame) : 0;
            if (tail) {
                job->input = frame;
                job->input_tail = tail;
            } else if (size <= HEAD_JOB_INLINE) {
                if (size)
                    memcpy (job->inline_data, zframe_data (frame), size);
                job->inline_size = (uint32_t)size;
                zframe_destroy (&frame);
            } else
                job->input = frame;
        }
        head_queue_push (&pool->pending, job);
        pool->submitted++;
    }
    head_blob_unref (&blob); /* the records hold it now */
    head_named_unref (&named);
    if (was_idle)
        head_sched_rebalance (head);
    head_feed_pool (head, pool);
}

void
head_sched_update (head_t *head, head_pool_t *pool, proto_msg_t *msg)
{
    zframe_t *frame = proto_msg_pop_frame (msg);
    if (!frame || zlist_append (pool->updates, frame)) {
        zframe_destroy (&frame);
        head_send_error (head, pool->client, pool->id, PROTO_CODE_ENOMEM,
                         "head out of memory");
        return;
    }
    pool->useq++;
    pool->served = true;
    /* Ready workers get it now, in order behind what they were sent;
       loading workers get every update when they report ready. */
    for (head_peer_t *worker = pool->members.first; worker; worker = worker->list_next) {
        if (worker->state != WORKER_READY && worker->state != WORKER_RELEASING)
            continue;
        proto_msg_t out;
        proto_msg_init (&out, PROTO_UPDATE);
        proto_msg_set_pool (&out, pool->id);
        proto_msg_set_seq (&out, pool->useq);
        zframe_t *copy = zframe_dup (frame);
        proto_msg_add_frame (&out, &copy);
        head_send (head, worker, &out);
        proto_msg_reset (&out);
        worker->useq_sent = pool->useq;
    }
    if (pool->previous_id)
        head_balance_unpark (head); /* a parked worker may wait for this replay */
}

void
head_sched_worker_ready (head_t *head, head_peer_t *worker, proto_msg_t *msg)
{
    head_pool_t *pool = worker->pool;
    if (worker->state != WORKER_LOADING || !pool || pool->id != msg->pool)
        return;
    if (msg->code != 0) {
        const char *why = msg->text ? msg->text : "no reason given";
        zsys_warning ("pool-head: worker %s cannot serve pool %llu: %s", worker->id,
                      (unsigned long long)pool->id, why);
        head_members_leave (worker);
        worker->state = WORKER_CLOSED; /* it exits; the node respawns it */
        worker->closed_at = zclock_mono ();
        pool->init_failures++;
        if (pool->ready == 0 && pool->client) {
            /* No worker could load it: the pool is of no use. */
            int code = proto_code_known (msg->code) ? (int)msg->code : PROTO_CODE_EWORKER;
            char text[PROTO_TEXT_MAX / 4];
            snprintf (text, sizeof text, "worker %s: %s", worker->id, why);
            head_sched_pool_fail (head, pool, code, text);
        }
        return;
    }
    pool->init_crashes = 0; /* they count in a row */
    head_feed_serve (head, worker);
    head_sched_rebalance (head);
}

/*  One more worker lost to update seq (a death in handle_update or a
    refusal): they count in a row, per update. */
static void
s_count_update_failure (head_pool_t *pool, uint64_t seq)
{
    if (pool->crashed_update == seq)
        pool->update_crashes++;
    else {
        pool->crashed_update = seq;
        pool->update_crashes = 1;
    }
}

bool
head_sched_update_crashed (head_pool_t *pool, uint64_t seq, int code, char *text,
                           size_t text_size)
{
    s_count_update_failure (pool, seq);
    snprintf (text, text_size,
              "update %llu killed %u worker%s in handle_update "
              "(%s %d); the pool cannot go on",
              (unsigned long long)seq, pool->update_crashes,
              pool->update_crashes == 1 ? "" : "s", code > 0 ? "signal" : "exit status",
              code > 0 ? code : -code);
    return pool->update_crashes >= pool->max_attempts;
}

bool
head_sched_update_refused (head_t *head, head_peer_t *worker, uint64_t seq,
                           const char *why)
{
    head_pool_t *pool = worker->pool;
    if (!pool || worker->state == WORKER_CLOSED)
        return false;
    s_count_update_failure (pool, seq);
    zsys_warning ("pool-head: worker %s refused update %llu of pool %llu: %s", worker->id,
                  (unsigned long long)seq, (unsigned long long)pool->id, why);
    /* It runs nothing more: what it held goes back, uncharged.  It leaves
       now; if its destroy hangs, its node kills it (s_kill_overdue). */
    head_sched_worker_lost (head, worker, 0, "refused an update", PROTO_CODE_EWORKER,
                            HEAD_CHARGE_NONE, NULL);
    worker->closed_at = zclock_mono ();
    if (pool->update_crashes < pool->max_attempts)
        return false;
    char text[PROTO_TEXT_MAX / 4];
    snprintf (text, sizeof text,
              "update %llu refused by %u worker%s (the last, %s: "
              "%s); the pool cannot go on",
              (unsigned long long)seq, pool->update_crashes,
              pool->update_crashes == 1 ? "" : "s", worker->id, why);
    head_sched_pool_fail (head, pool, PROTO_CODE_EWORKER, text);
    return true;
}

void
head_sched_init_crashed (head_t *head, head_peer_t *worker, const char *why)
{
    head_pool_t *pool = worker->pool;
    if (!pool || worker->state != WORKER_LOADING)
        return;
    pool->init_crashes++;
    zsys_warning ("pool-head: worker %s died loading pool %llu: %s", worker->id,
                  (unsigned long long)pool->id, why);
    if (pool->init_crashes < pool->max_attempts || pool->ready > 0 || !pool->client)
        return;
    char text[PROTO_TEXT_MAX / 4];
    snprintf (text, sizeof text,
              "the worker library's init killed its worker on "
              "%u attempt%s (the last, %s: %s)",
              pool->init_crashes, pool->init_crashes == 1 ? "" : "s", worker->id, why);
    head_sched_pool_fail (head, pool, PROTO_CODE_EWORKER, text);
}

void
head_sched_pool_fail (head_t *head, head_pool_t *pool, int code, const char *text)
{
    zsys_warning ("pool-head: pool %llu failed: %s", (unsigned long long)pool->id, text);
    if (pool->client)
        head_send_error (head, pool->client, pool->id, code, "%s", text);
    head_sched_pool_close (head, pool);
}

bool
head_sched_worker_rejoin (head_t *head, head_peer_t *worker, uint64_t pool_id,
                          const uint8_t *lib_hash, const uint8_t *init_hash,
                          uint64_t useq)
{
    head_pool_t *pool = NULL;
    for (head_pool_t *it = zlistx_first (head->pools); it; it = zlistx_next (head->pools))
        if (it->id == pool_id) {
            pool = it;
            break;
        }
    if (!pool || !lib_hash || memcmp (lib_hash, pool->lib_hash, PROTO_HASH_SIZE)
        || !init_hash || memcmp (init_hash, pool->init_hash, PROTO_HASH_SIZE)
        || pool->failed || !pool->client || useq > pool->useq
        || !head_members_eligible (worker, pool))
        return false;
    head_members_join (worker, pool);
    worker->useq_sent = useq;
    zsys_info ("pool-head: worker %s rejoined pool %llu with its library loaded",
               worker->id, (unsigned long long)pool->id);
    head_feed_serve (head, worker);
    head_sched_rebalance (head);
    return true;
}

void
head_sched_worker_join (head_t *head, head_peer_t *worker)
{
    worker->state = WORKER_IDLE;
    head_members_list (&head->idle, worker);
    head_sched_rebalance (head);
}

static bool
s_cancelled (const head_job_t *job, void *arg)
{
    (void)arg;
    return job->cancelled;
}

void
head_sched_worker_lost (head_t *head, head_peer_t *worker, int code, const char *why,
                        int job_error, head_charge_t charge, const proto_job_t *culprit)
{
    head_pool_t *pool = worker->pool;
    head_members_leave (worker);
    worker->state = WORKER_CLOSED;
    if (worker->moving) { /* gone: its slot comes back as a fresh worker */
        worker->moving = false;
        head->moving--;
    }
    if (!pool) {
        head_queue_purge (&worker->inflight);
        return;
    }
    /* The job it was running is charged an attempt: the one its node's
       scoreboard names, or, not knowing, the oldest it held (results are
       batched, so the oldest may be done; the scoreboard avoids that).
       The rest only waited on it and go back as they were, in order, to
       the front of the queue. */
    head_job_t *running = NULL;
    if (charge == HEAD_CHARGE_OLDEST)
        running = head_queue_pop_upto (&worker->inflight, 1);
    else if (charge == HEAD_CHARGE_JOB && culprit)
        running = head_queue_take (&worker->inflight, culprit->id, culprit->attempt);
    pool->running -= worker->inflight.count + (running ? 1 : 0);
    /* Jobs its client cancelled are done with: not charged (a worker
       killed for running on past the cancel grace dies in one), not run
       again. */
    head_queue_t cancelled = { 0 };
    pool->done += head_queue_extract (&worker->inflight, s_cancelled, NULL, &cancelled);
    head_queue_purge (&cancelled);
    if (running && running->cancelled) {
        pool->done++;
        head_job_destroy (&running);
    }
    pool->stats.requeued += worker->inflight.count;
    head_queue_splice_front (&pool->pending, &worker->inflight);
    if (running) {
        if (code == 0 && charge == HEAD_CHARGE_OLDEST) {
            /* A clean leave (BYE) ran nothing to a crash.  A worker whose
               node names the job it was running left in the middle of the
               run, whatever its exit status: that is charged. */
            head_queue_push_front (&pool->pending, running);
            pool->stats.requeued++;
        } else {
            running->attempt++;
            free (running->cause);
            running->cause = strdup (why);
            if (running->attempt >= pool->max_attempts) {
                char text[512];
                snprintf (text, sizeof text, "%s on %u attempt%s", why, running->attempt,
                          running->attempt == 1 ? "" : "s");
                head_feed_job_fail (head, pool, &running, job_error, text);
            } else {
                head_queue_push_front (&pool->pending, running);
                pool->stats.requeued++;
            }
        }
    }
    head_sched_rebalance (head);
    head_feed_pool (head, pool);
}

void
head_sched_result (head_t *head, head_peer_t *worker, proto_msg_t *msg)
{
    if (head_feed_result (head, worker, msg))
        head_sched_rebalance (head); /* the pool went idle */
}
