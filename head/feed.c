/*  head/feed.c - jobs and updates to workers, results back to clients:
    each worker's window (how many jobs it may hold), feeding it from its
    pool's queue, and what a RESULT means for both. */
#include "feed.h"
#include "results_out.h"

#include <stdio.h>
#include <string.h>

#include "locality.h"
#include "members.h"
#include "views.h"

/*  Input bytes a worker may hold in its window, whatever its prefetch: a
    long round trip times many jobs of big inputs must not move the head's
    memory into one worker. */
#define WINDOW_BYTES_MAX (64ULL << 20)

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

/*  The smallest top-up worth a message to a worker that still holds jobs
    (a quarter of its window when that is less). */
#define FEED_BATCH_MIN 256

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

/*  Whether the worker may fetch the pool's big inputs from its client's
    data endpoint (proto/direct.h): the client has one, and the worker has
    not failed to reach it. */
static bool
s_reaches_client (const head_peer_t *worker, const head_pool_t *pool)
{
    if (worker->no_direct || !pool->data_endpoint[0] || !pool->client)
        return false;
    /* A client that reaches the head on loopback serves on loopback: a
       worker known to be on another host would only wait for nothing. */
    bool loopback = strncmp (pool->data_endpoint, "tcp://127.", 10) == 0
                    || strncmp (pool->data_endpoint, "tcp://[::1]", 11) == 0;
    return !loopback || !pool->client->host[0] || !worker->host[0]
           || strcmp (worker->host, pool->client->host) == 0;
}

/*  Tells the client to send the record's inputs again as bytes (they are
    in its memory, which the worker cannot read); frees the record.  0, or
    -1 when memory is short (the record untouched). */
static int
s_resend (head_pool_t *pool, head_job_t **job_p, proto_msg_t *resend, bool *resending)
{
    head_job_t *job = *job_p;
    if (!*resending) {
        proto_msg_init (resend, PROTO_RESULT);
        proto_msg_set_pool (resend, pool->id);
        *resending = true;
    }
    size_t before = resend->njobs;
    for (uint32_t i = 0; i < job->count; i++) {
        proto_job_t *entry = proto_msg_add_job (resend);
        if (!entry || proto_msg_add_bytes (resend, "", 0) != PROTO_OK) {
            resend->njobs = before; /* a payload may be left over: see below */
            return -1;
        }
        entry->id = job->id + i;
        entry->status = PROTO_CODE_RESEND;
    }
    pool->submitted -= job->count;
    head_job_destroy (job_p);
    return 0;
}

/*  Adds the record's jobs (entries and inputs) to the JOB message out: 0,
    or -1 when memory is short. */
static int
s_add (proto_msg_t *out, const head_job_t *job)
{
    for (uint32_t i = 0; i < job->count; i++) {
        proto_job_t *entry = proto_msg_add_job (out);
        if (!entry)
            return -1;
        entry->id = job->id + i;
        entry->attempt = job->attempt;
        entry->useq = job->useq;
        entry->flags = !job->shared  ? 0
                       : job->direct ? PROTO_JOB_DIRECT
                                     : PROTO_JOB_SHARED;
        /* By reference: the record stays in the worker's in-flight list
           until its jobs are answered, so its inputs outlive the send; a
           big one goes as a shared copy of its frame (never copied in the
           head). */
        int added;
        if (job->input)
            added = proto_msg_add_pieces_ref (out, job->input, job->input_tail);
        else {
            const void *data;
            size_t size;
            head_job_input (job, i, &data, &size);
            added = proto_msg_add_borrowed (out, data, size);
        }
        if (added != PROTO_OK)
            return -1;
    }
    return 0;
}

/*  Jobs that run at least this long (the worker's measure, in us) are
    worth a message each: a message costs its peers tens of microseconds,
    small beside the work it carries. */
#define FEED_JOB_WORTH_US 250.0

/*  The smallest batch worth a message to the worker when it still holds
    jobs: one job of FEED_JOB_WORTH_US or more, else FEED_BATCH_MIN tiny
    ones, or a quarter of its window when that is less. */
static size_t
s_worthwhile (const head_peer_t *worker)
{
    size_t prefetch = worker->prefetch ? worker->prefetch : 1;
    if (worker->run_us >= FEED_JOB_WORTH_US)
        return 1;
    return prefetch / 4 < FEED_BATCH_MIN ? prefetch / 4 : FEED_BATCH_MIN;
}

/*  The fewest jobs a SUBMIT spread over the workers gives one of them:
    FEED_JOB_WORTH_US of work at its run time per job, up to a worthwhile
    batch, while the pool's workers hold a job each on average; one
    otherwise, or when its jobs' run time is not known yet.  Tiny jobs
    spread one or two per worker cost a message and a wake-up each on
    every worker: a 1 M no-op map on 128 workers (64 nodes of one 2-core
    host) ran 0.56-0.93 M tasks/s spread so and 1.8-4.0 M in batches of
    256 to the workers first in line (with this rule: 1.56-4.28 M).  A
    pool whose workers hold fewer jobs than there are workers spreads as
    before: its run times may be a finished map's (a warm-up of no-ops),
    and a new map's 100 slow jobs must not all go to the first worker
    because the last map's took microseconds. */
static size_t
s_spread_min (const head_peer_t *worker, size_t taking)
{
    if (worker->run_us <= 0 || worker->pool->running < taking)
        return 1;
    double jobs = FEED_JOB_WORTH_US / worker->run_us;
    size_t worthwhile = s_worthwhile (worker);
    return jobs >= (double)worthwhile ? worthwhile : jobs < 1 ? 1 : (size_t)jobs;
}

/*  Sends the worker as many pending jobs as its prefetch allows, and at
    most `most` of them: whole records where they fit, else the front of
    one (the rest stays first in the queue). */
static void
s_feed_some (head_t *head, head_peer_t *worker, size_t most)
{
    head_pool_t *pool = worker->pool;
    if (!pool || worker->state != WORKER_READY)
        return;
    size_t prefetch = worker->prefetch ? worker->prefetch : 1;
    /* A job run again (the one a lost worker was running, first in the
       queue) goes past a full window: the worker runs it before the jobs
       it holds (node/worker_queue.h), not after them and after the wait
       for their answer. */
    const head_job_t *front = pool->pending.first;
    if (front && front->attempt > 0 && !front->named
        && worker->inflight.count + front->count > prefetch)
        prefetch = worker->inflight.count + front->count;
    if (worker->inflight.count >= prefetch || pool->pending.count == 0)
        return;
    /* A worker that holds jobs is topped up only with a worthwhile batch:
       one message per job would cost more than the jobs when they are
       tiny.  The batch counts what can go now (free slots, the queue, the
       caller's share), not free slots alone: with many workers, each
       SUBMIT spread over all of them would otherwise go out one job per
       message.  Jobs left queued go with the next answer of any worker,
       or to the first whose window empties. */
    size_t can_go = prefetch - worker->inflight.count;
    if (can_go > pool->pending.count)
        can_go = pool->pending.count;
    if (can_go > most)
        can_go = most;
    if (worker->inflight.count > 0 && can_go < s_worthwhile (worker))
        return;
    proto_msg_t out, resend; /* resend: set up on the first bounce */
    bool resending = false;
    int64_t now_us = zclock_usecs ();
    proto_msg_init (&out, PROTO_JOB);
    proto_msg_set_pool (&out, pool->id);
    (void)proto_msg_reserve (&out, can_go); /* a hint: added one by one anyway */
    if (worker->inflight.count == 0)
        worker->inflight_bytes = 0;
    /* The records go to batch first: if the message cannot be made, they
       go back to the queue as they were. */
    head_queue_t batch = { 0 };
    uint64_t bytes = 0;
    bool failed = false;
    while (worker->inflight.count + batch.count < prefetch && pool->pending.first
           && batch.count < most && out.njobs < PROTO_JOBS_MAX
           && pool->pending.first->useq <= worker->useq_sent
           && (worker->inflight.count + batch.count == 0
               || worker->inflight_bytes + bytes < WINDOW_BYTES_MAX)) {
        size_t room = prefetch - worker->inflight.count - batch.count;
        if (most - batch.count < room)
            room = most - batch.count;
        if (PROTO_JOBS_MAX - out.njobs < room)
            room = PROTO_JOBS_MAX - out.njobs;
        /* A record naming its blocks waits for a worker that holds them
           (locality.h); the others pass it. */
        head_job_t *job
            = !pool->pending.first->named
                  ? head_queue_pop_upto (&pool->pending, room)
                  : head_locality_take (head, worker, room,
                                        worker->inflight.count + batch.count == 0);
        if (!job)
            break;
        /* A big input stays in its client: a worker on the same host maps
           it, one elsewhere fetches it on the data plane; one that can do
           neither gets the bytes through here. */
        bool local = job->shared && s_shares_memory (worker, pool);
        job->direct = job->shared && !local && s_reaches_client (worker, pool);
        if (job->shared && !local && !job->direct) {
            if (s_resend (pool, &job, &resend, &resending)) {
                head_queue_push_front (&pool->pending, job);
                break;
            }
            continue;
        }
        if (s_add (&out, job)) {
            head_queue_push_front (&pool->pending, job);
            failed = true;
            break;
        }
        job->sent_us = now_us;
        bytes += head_job_bytes (job);
        head_queue_push (&batch, job);
    }
    if (failed) {
        head_queue_splice_front (&pool->pending, &batch);
        zsys_warning ("pool-head: out of memory making a JOB for worker %s", worker->id);
    } else if (batch.count) {
        if (out.njobs)
            head_send (head, worker, &out);
        worker->inflight_bytes += bytes;
        pool->running += batch.count;
        head_queue_t *inflight = &worker->inflight;
        if (inflight->last)
            inflight->last->next = batch.first;
        else
            inflight->first = batch.first;
        inflight->last = batch.last;
        inflight->count += batch.count;
    }
    proto_msg_reset (&out);
    if (resending) {
        if (proto_msg_frames (&resend) != resend.njobs)
            zsys_error ("pool-head: out of memory asking pool %llu's client to resend "
                        "inputs",
                        (unsigned long long)pool->id);
        else if (resend.njobs && pool->client)
            head_send (head, pool->client, &resend);
        proto_msg_reset (&resend);
    }
}

/*  The jobs a worker still has to run, as the head can tell: those it
    holds, less those its run time says it finished since it last
    answered (its results wait in it for a batch), or since the oldest of
    them was sent, when that is later (it was idle before). */
static double
s_holding (const head_peer_t *worker, int64_t now_us)
{
    double held = (double)worker->inflight.count;
    int64_t since = worker->last_result;
    if (worker->inflight.first && worker->inflight.first->sent_us > since)
        since = worker->inflight.first->sent_us;
    if (worker->run_us > 0 && since > 0 && now_us > since)
        held -= (double)(now_us - since) / worker->run_us;
    return held > 0 ? held : 0;
}

/* Sends the worker as many pending jobs as its prefetch allows.  Near the
   end of a map (fewer jobs queued than the workers' windows hold) it takes
   at most its share, so the batches shrink as the queue does: the last
   jobs spread over every worker, and none runs a whole window after the
   others have finished (guided self-scheduling).

   Tiny jobs take a share of what is queued, or a worthwhile batch when
   that is more.  Jobs worth a message each (FEED_JOB_WORTH_US) are shared
   by all that is left: what is queued and what every worker still holds
   (s_holding), so a worker that answers with a short queue gets more of
   the last jobs than one that still holds many, and all finish together;
   sharing the queue alone left one worker its whole window (about 25 ms
   of 1 ms jobs) while the other had run dry.  Such a worker gets at least
   what runs while the next refill crosses the link to it and back: one
   given one job of 1 ms at a time over a link of 1 ms each way idled
   about 2.5 ms after each of the last ones. */
void
head_feed_worker (head_t *head, head_peer_t *worker)
{
    size_t most = SIZE_MAX;
    head_pool_t *pool = worker->pool;
    int taking = pool ? pool->ready - pool->releasing : 0;
    if (taking > 1 && pool->pending.count < (size_t)taking * worker->prefetch) {
        size_t worthwhile = s_worthwhile (worker);
        if (worker->run_us < FEED_JOB_WORTH_US) {
            size_t share = (pool->pending.count + (size_t)taking - 1) / (size_t)taking;
            most = share > worthwhile ? share : worthwhile;
        } else {
            int64_t now = zclock_usecs ();
            double left = (double)pool->pending.count, holds = 0;
            for (head_peer_t *w = pool->members.first; w; w = w->list_next)
                if (w->state == WORKER_READY) {
                    double held = s_holding (w, now);
                    left += held;
                    if (w == worker)
                        holds = held;
                }
            double fair = left / taking - holds;
            double cover = worker->rtt_us > 0 ? worker->rtt_us / worker->run_us + 1 : 1;
            double need = cover - holds;
            double take = fair > need ? fair : need;
            most = take < 0.5 ? 0 : (size_t)(take + 0.5);
            /* A job run again still goes past a full window (s_feed_some). */
            const head_job_t *front = pool->pending.first;
            if (front && front->attempt > 0 && !front->named && most < front->count)
                most = front->count;
        }
    }
    s_feed_some (head, worker, most);
}

/* Feeds every ready worker of the pool: after jobs were submitted, or came
   back to the queue from a worker that died or was released.  The jobs
   there are shared out evenly, in shares of at least s_spread_min: with
   windows of thousands, the first worker would otherwise take a whole
   SUBMIT and the others wait, but a share of tiny jobs smaller than a
   worthwhile batch is not worth a message (the workers first in line
   take them). */
void
head_feed_pool (head_t *head, head_pool_t *pool)
{
    /* The workers that take new jobs: ready, not released. */
    int taking = pool->ready - pool->releasing;
    size_t ready = taking > 0 ? (size_t)taking : 1;
    size_t share = (pool->pending.count + ready - 1) / ready;
    for (head_peer_t *worker = pool->members.first; worker && pool->pending.count;
         worker = worker->list_next)
        if (worker->state == WORKER_READY) {
            size_t least = s_spread_min (worker, ready);
            s_feed_some (head, worker, share > least ? share : least);
        }
}

/* Sends one job's final error to its client and frees it. */
void
head_feed_job_fail (head_t *head, head_pool_t *pool, head_job_t **job_p, int code,
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
    pool->stats.failed++;
    head_job_destroy (job_p);
}

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

bool
head_feed_result (head_t *head, head_peer_t *worker, proto_msg_t *msg)
{
    head_pool_t *pool = worker->pool;
    if (!pool || pool->id != msg->pool) {
        /* Results for a pool the worker no longer serves: late, dropped. */
        return false;
    }
    /* Small results that came packed join the client's batch
       (results_out.h).  Others (one job, or big outputs as frames of their
       own) go in a RESULT of their own, after the batch so far: as frames
       they would turn every payload of the batch into a frame. */
    bool packed = msg->packed != NULL;
    proto_msg_t own;
    proto_msg_t *out = NULL;
    if (packed)
        out = head_results_out_for (head, pool, msg->njobs, msg->wire_size);
    else
        head_results_out_flush (head);
    bool batched = out != NULL;
    if (!batched) {
        proto_msg_init (&own, PROTO_RESULT);
        proto_msg_set_pool (&own, pool->id);
        out = &own;
    }
    size_t answered = msg->njobs;
    /* Small results came packed: they go on by reference, copied once into
       the client's packed frame.  Big ones are frames: moved, not copied. */
    int64_t last_sent_us = 0;              /* of the message's last job */
    int64_t answered_us = zclock_usecs (); /* round trips, for /metrics */
    /* Jobs sent together have one round trip: /metrics counts it once per
       run of them. */
    int64_t rtt_sent_us = 0;
    uint64_t rtt_jobs = 0;
    const uint8_t *packed_data = packed ? zframe_data (msg->packed) : NULL;
    for (size_t i = 0; i < msg->njobs; i++) {
        zframe_t *frame = NULL;
        zmsg_t *tail = NULL; /* a big output's pieces after frame */
        if (!packed)
            proto_msg_pop_pieces (msg, &frame, &tail);
        const proto_job_t *entry = &msg->jobs[i];
        head_done_t job;
        int found = head_queue_done (&worker->inflight, entry->id, entry->attempt, &job);
        if (found != 1) {
            if (found < 0) /* it stays held: the worker's death requeues it */
                zsys_error ("pool-head: out of memory taking job %llu's result",
                            (unsigned long long)entry->id);
            zframe_destroy (&frame);
            zmsg_destroy (&tail);
            continue;
        }
        worker->inflight_bytes
            -= job.bytes < worker->inflight_bytes ? job.bytes : worker->inflight_bytes;
        pool->running--;
        pool->done++;
        worker->jobs_done++;
        if (rtt_jobs && job.sent_us != rtt_sent_us) {
            head_metrics_rtt (&head->metrics, answered_us - rtt_sent_us, rtt_jobs);
            rtt_jobs = 0;
        }
        rtt_sent_us = job.sent_us;
        rtt_jobs++;
        if (i + 1 == msg->njobs)
            last_sent_us = job.sent_us;
        if (job.cancelled) {
            /* Its client has its POOL_ECANCELED already: whatever the
               worker answered (ECANCELED, or a run that ended anyway)
               only frees the slot. */
            if (frame || tail) {
                zframe_destroy (&frame);
                zmsg_destroy (&tail);
            }
            continue;
        }
        proto_job_t *reply = proto_msg_add_job (out);
        if (reply) {
            reply->id = entry->id;
            reply->attempt = entry->attempt;
            reply->status = entry->status < 0 ? PROTO_CODE_EJOB : 0;
            if (job.shared && entry->status == PROTO_CODE_RESEND) {
                /* It could not read the client's memory, or reach its data
                   endpoint: neither will it next time.  The client sends
                   the input as bytes. */
                if (job.direct && !worker->no_direct
                    && !(entry->flags & PROTO_JOB_DIRECT))
                    zsys_warning ("pool-head: worker %s cannot reach pool %llu's "
                                  "client at %s; it gets big inputs through the head",
                                  worker->id, (unsigned long long)pool->id,
                                  pool->data_endpoint);
                else if (!job.direct && !worker->no_shm)
                    zsys_warning ("pool-head: worker %s cannot read inputs in "
                                  "shared memory; it gets them as bytes",
                                  worker->id);
                /* A worker that reached the client, which no longer had
                   the input (its result came, or it was cancelled), marks
                   its answer: it keeps the data plane. */
                bool reached = job.direct && (entry->flags & PROTO_JOB_DIRECT);
                if (job.direct && !reached)
                    worker->no_direct = true;
                else if (!job.direct)
                    worker->no_shm = true;
                reply->status = PROTO_CODE_RESEND;
                pool->done--;
                pool->submitted--;
            }
            /* An output the worker put on the data plane goes on as its
               reference: the client has the bytes already. */
            bool bad_ref = (entry->flags & PROTO_JOB_SHARED)
                           && (!job.shared || job.direct || reply->status != 0);
            if ((entry->flags & PROTO_JOB_SHARED) && !bad_ref)
                reply->flags = PROTO_JOB_SHARED;
            if ((entry->flags & PROTO_JOB_DIRECT) && reply->status == 0)
                reply->flags = PROTO_JOB_DIRECT;
            if (bad_ref) { /* only a shared input has a memfd to use */
                static const char text[] = "the worker answered with a "
                                           "shared-memory reference it had no memory for";
                reply->status = PROTO_CODE_EJOB;
                proto_msg_add_bytes (out, text, sizeof text - 1);
            } else if (!packed) {
                /* On failure the entry has no payload: the client would
                   find the RESULT malformed.  Memory is gone; say so. */
                if (proto_msg_add_pieces (out, &frame, &tail) != PROTO_OK)
                    zsys_error ("pool-head: out of memory passing job %llu's output on",
                                (unsigned long long)entry->id);
            } else {
                const void *data;
                size_t size;
                proto_msg_packed_payload (msg, packed_data, i, &data, &size);
                proto_msg_add_borrowed (out, data, size);
            }
            pool->stats.failed += reply->status == PROTO_CODE_EJOB;
        }
        if (frame || tail) {
            zframe_destroy (&frame);
            zmsg_destroy (&tail);
        }
    }
    if (rtt_jobs)
        head_metrics_rtt (&head->metrics, answered_us - rtt_sent_us, rtt_jobs);
    s_timing (worker, msg, last_sent_us);
    if (batched) /* it came packed: the batch borrows its payloads */
        head_results_out_keep (head, msg);
    else {
        if (own.njobs && pool->client)
            head_send (head, pool->client, &own);
        proto_msg_reset (&own);
    }

    s_adapt (head, worker, answered);
    if (worker->state == WORKER_RELEASING && worker->inflight.count == 0)
        head_members_close (head, worker);
    else
        head_feed_worker (head, worker);
    return pool->pending.count == 0 && pool->running == 0; /* it went idle */
}

/*  The worker has its pool loaded (WORKER_READY, or a rejoin): ready, a
    fresh window, the updates it lacks, jobs.  The caller rebalances (a
    pool that opened while it was loading may want a share). */
void
head_feed_serve (head_t *head, head_peer_t *worker)
{
    worker->state = WORKER_READY;
    worker->pool->ready++;
    worker->prefetch = 2;
    worker->rate = 0;
    worker->run_us = 0;
    worker->rtt_us = -1;
    worker->last_result = 0;
    s_send_updates (head, worker);
    head_feed_worker (head, worker);
}
