/*  head/scheduler.c - pools, job queues, fair sharing of workers, requeueing. */
#include "scheduler.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "views.h"

static void s_feed (head_t *head, head_peer_t *worker);
static void s_feed_pool (head_t *head, head_pool_t *pool);
static bool s_eligible (const head_peer_t *worker, const head_pool_t *pool);
static void s_assign (head_t *head, head_peer_t *worker, head_pool_t *pool);
static void s_unpark (head_t *head);

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
    if (head_store_block_put (head->store, open.lib_hash, zframe_data (lib),
                              zframe_size (lib))
        || head_store_block_put (head->store, open.init_hash, zframe_data (init),
                                 zframe_size (init))) {
        head_send_error (head, client, 0, PROTO_CODE_EIO,
                         "the head cannot store the worker library: %s",
                         head_store_error (head->store));
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
    pool->min_workers = open.min_workers;
    pool->min_gpu_memory = open.min_gpu_memory_mb * 1024 * 1024;
    pool->previous_id = open.previous_pool;
    pool->previous_epoch = open.previous_epoch;
    if (!zlistx_add_end (head->pools, pool) || zlist_append (client->pools, pool)) {
        head_send_error (head, client, 0, PROTO_CODE_ENOMEM, "head out of memory");
        zlistx_delete (head->pools, zlistx_find (head->pools, pool));
        goto cleanup;
    }
    head_store_pool_save (head->store, pool->id, pool->name, client->id);
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

/* Takes the worker out of the list it is in, if any. */
static void
s_unlist (head_peer_t *worker)
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
static void
s_list (head_worker_list_t *list, head_peer_t *worker)
{
    s_unlist (worker);
    worker->list = list;
    worker->list_prev = NULL;
    worker->list_next = list->first;
    if (list->first)
        list->first->list_prev = worker;
    list->first = worker;
    list->count++;
}

/* Detaches a worker from its pool's counters and list. */
static void
s_worker_leave_pool (head_peer_t *worker)
{
    s_unlist (worker);
    head_pool_t *pool = worker->pool;
    if (!pool)
        return;
    if (worker->state == WORKER_LOADING || worker->state == WORKER_READY
        || worker->state == WORKER_RELEASING)
        pool->workers--;
    if (worker->state == WORKER_READY || worker->state == WORKER_RELEASING)
        pool->ready--;
    if (worker->state == WORKER_RELEASING && worker->moving)
        pool->releasing--;
    worker->pool = NULL;
}

/* Sends POOL_CLOSE: the worker exits and its node starts a fresh one. */
static void
s_worker_close (head_t *head, head_peer_t *worker)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_POOL_CLOSE);
    proto_msg_set_pool (&msg, worker->pool ? worker->pool->id : 0);
    head_send (head, worker, &msg);
    proto_msg_reset (&msg);
    s_worker_leave_pool (worker);
    worker->state = WORKER_CLOSED;
    worker->closed_at = zclock_mono ();
}

void
head_sched_pool_close (head_t *head, head_pool_t *pool)
{
    zsys_info ("pool-head: pool %llu (%s) closed: %llu jobs done",
               (unsigned long long)pool->id, pool->name, (unsigned long long)pool->done);
    head_peer_t *worker;
    while ((worker = pool->members.first)) {
        head_queue_purge (&worker->inflight);
        s_worker_close (head, worker); /* takes it off the list */
    }
    head_store_pool_forget (head->store, pool->id);
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
    bool was_idle = pool->pending.count == 0 && pool->running == 0;
    bool packed = msg->packed != NULL;
    pool->served = true; /* its client is past pool_open */
    for (size_t i = 0; i < msg->njobs; i++) {
        head_job_t *job = head_job_new ();
        if (!job) {
            head_send_error (head, pool->client, pool->id, PROTO_CODE_ENOMEM,
                             "head out of memory");
            return;
        }
        job->id = msg->jobs[i].id;
        job->useq = pool->useq;
        job->shared = (msg->jobs[i].flags & PROTO_JOB_SHARED) != 0;
        /* Small inputs are copied into the job; a big one keeps its frame
           (moved, not copied, when it came as a frame of its own). */
        const void *data = NULL;
        size_t size = 0;
        zframe_t *frame = NULL;
        if (packed)
            proto_msg_payload (msg, i, &data, &size);
        else {
            frame = proto_msg_pop_frame (msg);
            data = frame ? zframe_data (frame) : NULL;
            size = frame ? zframe_size (frame) : 0;
        }
        if (size <= HEAD_JOB_INLINE) {
            if (size)
                memcpy (job->inline_data, data, size);
            job->inline_size = (uint32_t)size;
            zframe_destroy (&frame);
        } else
            job->input = frame ? frame : zframe_new (data, size);
        head_queue_push (&pool->pending, job);
        pool->submitted++;
    }
    if (was_idle)
        head_sched_rebalance (head);
    s_feed_pool (head, pool);
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
        s_unpark (head); /* a parked worker may wait for this replay */
}

/* Sends the pool's updates the worker has not been sent yet. */
static void
s_send_updates (head_t *head, head_peer_t *worker)
{
    head_pool_t *pool = worker->pool;
    uint64_t seq = 0;
    for (zframe_t *frame = zlist_first (pool->updates); frame;
         frame = zlist_next (pool->updates)) {
        if (++seq <= worker->useq_sent)
            continue;
        proto_msg_t out;
        proto_msg_init (&out, PROTO_UPDATE);
        proto_msg_set_pool (&out, pool->id);
        proto_msg_set_seq (&out, seq);
        zframe_t *copy = zframe_dup (frame);
        proto_msg_add_frame (&out, &copy);
        head_send (head, worker, &out);
        proto_msg_reset (&out);
        worker->useq_sent = seq;
    }
}

/*  Whether the worker can read inputs the pool's client shares through
    memory (proto/shm.h): same host key, and no failure so far. */
static bool
s_shares_memory (const head_peer_t *worker, const head_pool_t *pool)
{
    return !worker->no_shm && worker->host[0] && pool->client
           && strcmp (worker->host, pool->client->host) == 0;
}

/*  Input bytes a worker may hold in its window, whatever its prefetch: a
    long round trip times many jobs of big inputs must not move the head's
    memory into one worker. */
#define WINDOW_BYTES_MAX (64ULL << 20)

static uint64_t
s_job_bytes (const head_job_t *job)
{
    return job->input ? zframe_size (job->input) : job->inline_size;
}

/*  Sends the worker as many pending jobs as its prefetch allows, and at
    most `most` of them. */
static void
s_feed_some (head_t *head, head_peer_t *worker, size_t most)
{
    head_pool_t *pool = worker->pool;
    if (!pool || worker->state != WORKER_READY)
        return;
    size_t prefetch = worker->prefetch ? worker->prefetch : 1;
    if (worker->inflight.count >= prefetch || pool->pending.count == 0)
        return;
    /* Top up only when a worthwhile batch can go: one message per job
       would cost more than the jobs when they are tiny. */
    if (worker->inflight.count > 0 && prefetch - worker->inflight.count < prefetch / 4
        && pool->pending.count >= prefetch / 4)
        return;
    proto_msg_t out, resend; /* resend: set up on the first bounce */
    bool resending = false;
    int64_t now_us = zclock_usecs ();
    proto_msg_init (&out, PROTO_JOB);
    proto_msg_set_pool (&out, pool->id);
    if (worker->inflight.count == 0)
        worker->inflight_bytes = 0;
    size_t sent = 0;
    while (
        worker->inflight.count < prefetch && pool->pending.first && sent < most
        && pool->pending.first->useq <= worker->useq_sent
        && (worker->inflight.count == 0 || worker->inflight_bytes < WINDOW_BYTES_MAX)) {
        head_job_t *job = head_queue_pop (&pool->pending);
        if (job->shared && !s_shares_memory (worker, pool)) {
            /* Its input is in the client's memory, which this worker
               cannot read: the client sends it again as bytes. */
            if (!resending) {
                proto_msg_init (&resend, PROTO_RESULT);
                proto_msg_set_pool (&resend, pool->id);
                resending = true;
            }
            proto_job_t *entry = proto_msg_add_job (&resend);
            if (!entry) {
                head_queue_push_front (&pool->pending, job);
                break;
            }
            entry->id = job->id;
            entry->status = PROTO_CODE_RESEND;
            proto_msg_add_bytes (&resend, "", 0);
            pool->submitted--;
            head_job_destroy (&job);
            continue;
        }
        proto_job_t *entry = proto_msg_add_job (&out);
        /* By reference: the job stays in the worker's in-flight list until
           it is answered, so its input outlives the send; a big one goes
           as a shared copy of its frame (never copied in the head). */
        int added = !entry       ? PROTO_EIO
                    : job->input ? proto_msg_add_frame_ref (&out, job->input)
                                 : proto_msg_add_borrowed (&out, job->inline_data,
                                                           job->inline_size);
        if (added != PROTO_OK) {
            head_queue_push_front (&pool->pending, job);
            if (entry)
                out.njobs--;
            break;
        }
        entry->id = job->id;
        entry->attempt = job->attempt;
        entry->useq = job->useq;
        entry->flags = job->shared ? PROTO_JOB_SHARED : 0;
        job->sent_us = now_us;
        sent++;
        worker->inflight_bytes += s_job_bytes (job);
        head_queue_push (&worker->inflight, job);
        pool->running++;
    }
    if (out.njobs)
        head_send (head, worker, &out);
    proto_msg_reset (&out);
    if (resending) {
        if (resend.njobs && pool->client)
            head_send (head, pool->client, &resend);
        proto_msg_reset (&resend);
    }
}

/* Sends the worker as many pending jobs as its prefetch allows. */
static void
s_feed (head_t *head, head_peer_t *worker)
{
    s_feed_some (head, worker, SIZE_MAX);
}

/* Feeds every ready worker of the pool: after jobs were submitted, or came
   back to the queue from a worker that died or was released.  The jobs
   there are shared out evenly: with windows of thousands, the first
   worker would otherwise take a whole SUBMIT and the others wait. */
static void
s_feed_pool (head_t *head, head_pool_t *pool)
{
    /* The workers that take new jobs: ready, not released. */
    int taking = pool->ready - pool->releasing;
    size_t ready = taking > 0 ? (size_t)taking : 1;
    size_t share = (pool->pending.count + ready - 1) / ready;
    for (head_peer_t *worker = pool->members.first; worker && pool->pending.count;
         worker = worker->list_next)
        if (worker->state == WORKER_READY)
            s_feed_some (head, worker, share);
}

/* Sends one job's final error to its client and frees it. */
static void
s_job_fail (head_t *head, head_pool_t *pool, head_job_t **job_p, int code,
            const char *text)
{
    head_job_t *job = *job_p;
    proto_msg_t out;
    proto_msg_init (&out, PROTO_RESULT);
    proto_msg_set_pool (&out, pool->id);
    proto_job_t *entry = proto_msg_add_job (&out);
    if (entry) {
        entry->id = job->id;
        entry->attempt = job->attempt;
        entry->status = code;
        proto_msg_add_bytes (&out, text, strlen (text));
        head_send (head, pool->client, &out);
    }
    proto_msg_reset (&out);
    pool->done++;
    head_job_destroy (job_p);
}

/*  Adapts how many jobs the worker may hold (its window) so that it never
    waits for work: the job it runs, plus enough to cover the round trip
    to it and PREFETCH_AHEAD_US more, at its run time per job.  Tiny jobs
    get hundreds (batches amortise the messages), slow jobs one (no job
    waits behind another on one worker while a second worker idles at the
    end of a map), and a link with milliseconds of delay gets the jobs that
    fill it.

    The worker says in each RESULT how long its jobs ran and how long the
    last one was in its hands; the head knows when it sent that job, so the
    round trip is measured without the time jobs queue on the worker (the
    window would otherwise inflate what it measures).  A worker that
    answers with nothing left in flight while jobs wait was starved: its
    window doubles.  Workers that send no timings get the older estimate,
    their answer rate times PREFETCH_AHEAD_US. */
#define PREFETCH_AHEAD_US 5000.0

static void
s_timing (head_peer_t *worker, const proto_msg_t *msg, int64_t last_sent_us)
{
    proto_timing_t timing;
    if (!proto_timing_get (msg, &timing) || msg->njobs == 0)
        return;
    double run = (double)timing.busy_us / (double)msg->njobs;
    if (run < 0.05)
        run = 0.05; /* a no-op still costs the worker */
    worker->run_us = worker->run_us > 0 ? 0.7 * worker->run_us + 0.3 * run : run;
    if (!last_sent_us)
        return;
    double rtt = (double)(zclock_usecs () - last_sent_us) - (double)timing.residence_us;
    if (rtt < 0)
        rtt = 0;
    /* Quick to fall, slow to rise: a job read late (the worker looks at
       its socket between runs) only ever adds to a sample. */
    if (worker->rtt_us < 0 || rtt < worker->rtt_us)
        worker->rtt_us = rtt;
    else
        worker->rtt_us += (rtt - worker->rtt_us) / 16;
}

static void
s_adapt (head_t *head, head_peer_t *worker, size_t answered)
{
    int64_t now = zclock_usecs ();
    if (worker->last_result && answered) {
        double span = (double)(now - worker->last_result);
        double rate = span > 0 ? answered * 1e6 / span : 1e6;
        worker->rate = worker->rate ? 0.7 * worker->rate + 0.3 * rate : rate;
    }
    worker->last_result = now;
    double want;
    if (worker->run_us > 0)
        want = 1
               + ((worker->rtt_us > 0 ? worker->rtt_us : 0) + PREFETCH_AHEAD_US
                  + PROTO_RESULTS_AGE_MS * 1000.0)
                     / worker->run_us;
    else {
        want = worker->rate * PREFETCH_AHEAD_US / 1e6;
        if (worker->pool && worker->inflight.count == 0 && worker->pool->pending.count
            && want < 2.0 * (double)worker->prefetch)
            want = 2.0 * (double)worker->prefetch; /* it was starved */
    }
    size_t cap = (size_t)head->config.prefetch;
    size_t target = want < 1 ? 1 : want > (double)cap ? cap : (size_t)want;
    /* Without timings, grow at most twofold per answer: one fast batch
       proves little.  Measured run times and round trips are trusted. */
    if (worker->run_us <= 0 && target > 2 * worker->prefetch)
        target = 2 * worker->prefetch;
    worker->prefetch = target ? target : 1;
}

void
head_sched_result (head_t *head, head_peer_t *worker, proto_msg_t *msg)
{
    head_pool_t *pool = worker->pool;
    if (!pool || pool->id != msg->pool) {
        /* Results for a pool the worker no longer serves: late, dropped. */
        return;
    }
    proto_msg_t out;
    proto_msg_init (&out, PROTO_RESULT);
    proto_msg_set_pool (&out, pool->id);
    /* Small results came packed: they go on by reference, copied once into
       the client's packed frame.  Big ones are frames: moved, not copied. */
    bool packed = msg->packed != NULL;
    int64_t last_sent_us = 0; /* of the message's last job */
    for (size_t i = 0; i < msg->njobs; i++) {
        zframe_t *frame = packed ? NULL : proto_msg_pop_frame (msg);
        const proto_job_t *entry = &msg->jobs[i];
        /* Jobs run in the order sent, so the match is nearly always first. */
        head_job_t *prev = NULL, *job = worker->inflight.first;
        while (job && !(job->id == entry->id && job->attempt == entry->attempt)) {
            prev = job;
            job = job->next;
        }
        if (!job) {
            zframe_destroy (&frame);
            continue;
        }
        if (prev)
            prev->next = job->next;
        else
            worker->inflight.first = job->next;
        if (worker->inflight.last == job)
            worker->inflight.last = prev;
        worker->inflight.count--;
        uint64_t bytes = s_job_bytes (job);
        worker->inflight_bytes
            -= bytes < worker->inflight_bytes ? bytes : worker->inflight_bytes;
        pool->running--;
        pool->done++;
        worker->jobs_done++;
        proto_job_t *reply = proto_msg_add_job (&out);
        if (reply) {
            reply->id = job->id;
            reply->attempt = job->attempt;
            reply->status = entry->status < 0 ? PROTO_CODE_EJOB : 0;
            const void *data;
            size_t size;
            if (job->shared && entry->status == PROTO_CODE_RESEND) {
                /* It could not read the client's memory: neither will it
                   next time.  The client sends the input as bytes. */
                if (!worker->no_shm)
                    zsys_warning ("pool-head: worker %s cannot read inputs in "
                                  "shared memory; it gets them as bytes",
                                  worker->id);
                worker->no_shm = true;
                reply->status = PROTO_CODE_RESEND;
                pool->done--;
                pool->submitted--;
            }
            bool bad_ref = (entry->flags & PROTO_JOB_SHARED)
                           && (!job->shared || reply->status != 0);
            if ((entry->flags & PROTO_JOB_SHARED) && !bad_ref)
                reply->flags = PROTO_JOB_SHARED;
            if (bad_ref) { /* only a shared input has a memfd to use */
                static const char text[] = "the worker answered with a "
                                           "shared-memory reference it had no memory for";
                reply->status = PROTO_CODE_EJOB;
                proto_msg_add_bytes (&out, text, sizeof text - 1);
            } else if (!packed)
                proto_msg_add_frame (&out, &frame);
            else if (proto_msg_payload (msg, i, &data, &size) == 0)
                proto_msg_add_borrowed (&out, data, size);
        }
        zframe_destroy (&frame);
        if (i + 1 == msg->njobs)
            last_sent_us = job->sent_us;
        head_job_destroy (&job);
    }
    s_timing (worker, msg, last_sent_us);
    if (out.njobs && pool->client)
        head_send (head, pool->client, &out);
    proto_msg_reset (&out);

    s_adapt (head, worker, msg->njobs);
    if (worker->state == WORKER_RELEASING && worker->inflight.count == 0)
        s_worker_close (head, worker);
    else
        s_feed (head, worker);
    if (pool->pending.count == 0 && pool->running == 0)
        head_sched_rebalance (head); /* the pool went idle */
}

/*  The worker has its pool loaded (WORKER_READY, or a rejoin): ready, a
    fresh window, the updates it lacks, jobs; then the demand of every pool
    (one that opened while it was loading may want a share). */
static void
s_worker_serve (head_t *head, head_peer_t *worker)
{
    worker->state = WORKER_READY;
    worker->pool->ready++;
    worker->prefetch = 2;
    worker->rate = 0;
    worker->run_us = 0;
    worker->rtt_us = -1;
    worker->last_result = 0;
    s_send_updates (head, worker);
    s_feed (head, worker);
    head_sched_rebalance (head);
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
        s_worker_leave_pool (worker);
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
    s_worker_serve (head, worker);
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
        || !s_eligible (worker, pool))
        return false;
    worker->pool = pool;
    pool->workers++;
    s_list (&pool->members, worker);
    worker->useq_sent = useq;
    zsys_info ("pool-head: worker %s rejoined pool %llu with its library loaded",
               worker->id, (unsigned long long)pool->id);
    s_worker_serve (head, worker);
    return true;
}

void
head_sched_worker_park (head_t *head, head_peer_t *worker, const head_parked_t *what)
{
    worker->state = WORKER_PARKED;
    s_list (&head->parked, worker);
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
            && pool->client && pool->useq >= p->useq && s_eligible (worker, pool))
            return pool;
    return NULL;
}

/*  Parked workers whose pool is back serve it: ASSIGN of the new pool id
    with the same hashes, which a worker with them loaded answers
    WORKER_READY at once; then the updates after the ones it applied. */
static void
s_unpark (head_t *head)
{
    head_peer_t *next;
    for (head_peer_t *worker = head->parked.first; worker; worker = next) {
        next = worker->list_next; /* s_assign moves it to the pool's list */
        head_pool_t *pool = s_parked_pool (head, worker);
        if (!pool)
            continue;
        zsys_info ("pool-head: worker %s takes pool %llu (pool %llu before the "
                   "restart) back with its library loaded",
                   worker->id, (unsigned long long)pool->id,
                   (unsigned long long)worker->parked.pool_id);
        s_assign (head, worker, pool);
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
        s_unlist (worker);
        worker->state = WORKER_CLOSED;
        worker->closed_at = now;
    }
}

void
head_sched_worker_join (head_t *head, head_peer_t *worker)
{
    worker->state = WORKER_IDLE;
    s_list (&head->idle, worker);
    head_sched_rebalance (head);
}

void
head_sched_worker_lost (head_t *head, head_peer_t *worker, int code, const char *why,
                        int job_error, head_charge_t charge, const proto_job_t *culprit)
{
    head_pool_t *pool = worker->pool;
    s_worker_leave_pool (worker);
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
        running = head_queue_pop (&worker->inflight);
    else if (charge == HEAD_CHARGE_JOB && culprit) {
        head_job_t *prev = NULL, *job = worker->inflight.first;
        while (job && !(job->id == culprit->id && job->attempt == culprit->attempt)) {
            prev = job;
            job = job->next;
        }
        if (job) {
            if (prev)
                prev->next = job->next;
            else
                worker->inflight.first = job->next;
            if (worker->inflight.last == job)
                worker->inflight.last = prev;
            worker->inflight.count--;
            job->next = NULL;
            running = job;
        }
    }
    pool->running -= worker->inflight.count + (running ? 1 : 0);
    head_queue_splice_front (&pool->pending, &worker->inflight);
    if (running) {
        if (code == 0 && charge == HEAD_CHARGE_OLDEST) {
            /* A clean leave (BYE) ran nothing to a crash.  A worker whose
               node names the job it was running left in the middle of the
               run, whatever its exit status: that is charged. */
            head_queue_push_front (&pool->pending, running);
        } else {
            running->attempt++;
            free (running->cause);
            running->cause = strdup (why);
            if (running->attempt >= pool->max_attempts) {
                char text[512];
                snprintf (text, sizeof text, "%s on %u attempt%s", why, running->attempt,
                          running->attempt == 1 ? "" : "s");
                s_job_fail (head, pool, &running, job_error, text);
            } else
                head_queue_push_front (&pool->pending, running);
        }
    }
    head_sched_rebalance (head);
    s_feed_pool (head, pool);
}

/* Whether the worker may run the pool's code (GPU memory). */
static bool
s_eligible (const head_peer_t *worker, const head_pool_t *pool)
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
    return pool->workers - pool->releasing;
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
        if (pool->failed || !s_eligible (worker, pool))
            continue;
        int deficit = s_need (pool, share) - s_holding (pool);
        bool active = s_active (pool);
        if (!best || deficit > best_deficit
            || (deficit == best_deficit && active && !best_active)
            || (deficit == best_deficit && active == best_active
                && pool->workers < best->workers)) {
            best = pool;
            best_deficit = deficit;
            best_active = active;
        }
    }
    return best;
}

static void
s_assign (head_t *head, head_peer_t *worker, head_pool_t *pool)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_ASSIGN);
    proto_assign_t assign = { .pool = pool->id, .job_timeout_ms = pool->job_timeout_ms };
    snprintf (assign.name, sizeof assign.name, "%s", pool->name);
    memcpy (assign.lib_hash, pool->lib_hash, PROTO_HASH_SIZE);
    memcpy (assign.init_hash, pool->init_hash, PROTO_HASH_SIZE);
    proto_assign_set (&msg, &assign);
    head_send (head, worker, &msg);
    proto_msg_reset (&msg);
    worker->pool = pool;
    worker->state = WORKER_LOADING;
    worker->useq_sent = 0;
    pool->workers++;
    s_list (&pool->members, worker);
}

void
head_sched_rebalance (head_t *head)
{
    if (head->stopping)
        return;
    s_unpark (head);
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
        next = worker->list_next; /* s_assign moves it to the pool's list */
        head_pool_t *pool = s_pick_pool (head, worker, share);
        if (pool)
            s_assign (head, worker, pool);
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
                if (worker->state == WORKER_READY && s_eligible (worker, starved)
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
        s_worker_close (head, victim);
    else {
        /* Its queued jobs go back to its pool at once; only the one it is
           running stays with it. */
        head_pool_t *pool = victim->pool;
        head_job_t *keep = head_queue_pop (&victim->inflight);
        pool->running -= victim->inflight.count;
        head_queue_splice_front (&pool->pending, &victim->inflight);
        head_queue_push (&victim->inflight, keep);
        victim->inflight_bytes = s_job_bytes (keep);
        s_feed_pool (head, pool);
    }
}
