/*  node/worker_results.c - the results of a worker's jobs, batched.
    See worker_results.h. */
#include "worker_results.h"
#include "pool.h"
#include "views.h"

#include <stdlib.h>
#include <string.h>

/*  A batch goes when no job is left queued (the caller's test), when it
    holds as many results as there are jobs left to run and those take a
    while (half a window, for a worker given a window of small jobs: the
    head refills it from these results while it runs the other half),
    every RESULTS_MAX results, past RESULTS_BYTES_MAX, or when it is
    RESULTS_AGE_MS old: tiny jobs batch, while the results of jobs of a
    few ms each do not wait for the whole queue.  A job run again (the one
    its worker or node was running when it died) goes at once: its client
    has waited for it already.  Messages, not jobs, cost the head, the
    client and CURVE most: a cap of 64 results per message made a no-op
    map 1.4-1.6 M tasks/s where 1024 makes it 2.3-2.7 M (scripts/bench,
    2 workers). */
#define RESULTS_MAX 1024                    /* results per RESULT message */
#define RESULTS_HALF_MIN 32                 /* the fewest that go for half a window */
#define RESULTS_BYTES_MAX (16u << 20)       /* flush sooner for big outputs */
#define RESULTS_AGE_MS PROTO_RESULTS_AGE_MS /* ... or when the first is older */
/*  ... but half a window goes early only when the jobs left would run
    this long (at the batch's pace so far): the refill is worth an extra
    message when it can arrive before the queue runs dry.  A queue of
    no-op jobs runs dry in microseconds, long before any refill: there
    each batch went as two RESULTs instead of one, and a 1 M no-op map on
    128 workers of one 2-core host ran 1.5-1.9 M tasks/s with the split
    and 2.0-2.6 M without it (2 workers: 3.6-4.5 M and 4.2-5.1 M). */
#define RESULTS_SPLIT_US 1000
/*  And a batch goes when the jobs left would run out before a refill
    asked for now could come (the head's answer to this worker's last
    batch took refill_us to arrive): near the end of a map the head hands
    out shrinking shares (head/feed.c), and a worker that said nothing
    until its queue emptied then waited a whole round trip for the next
    one (2.5-3.8 ms at 1 ms of link delay, in every 400-job map of 1 ms
    jobs).  Only for jobs of RESULTS_DRY_PACE_US or more, where a message
    is worth its cost, once per message of jobs received; refills slower
    than RESULTS_REFILL_MAX_US are not counted (the pool had no work then). */
#define RESULTS_DRY_PACE_US 250
#define RESULTS_REFILL_MAX_US 100000

struct worker_results {
    worker_link_t *link; /* borrowed */
    const char *id;      /* borrowed: the worker's, for log lines */
    proto_msg_t msg;     /* the RESULT being batched */
    size_t bytes;        /* of its outputs */
    int64_t since;       /* zclock_mono when its first was added */
    bool rerun;          /* it holds the result of a job's second run or later */
    /* For the head's window (RESULT nums [busy_us, residence_us]): since
       when this worker runs jobs without a pause (results go out whenever
       its queue empties, so a batch's jobs ran back to back: one clock
       read per batch, not two per job), and when the last job of the
       batch was read from the socket. */
    int64_t busy_since_us;
    int64_t last_arrived_us;
    bool unsplit; /* the batch's jobs left run too briefly to go early */
    /* The refill estimate (RESULTS_DRY_PACE_US): when the last batch went
       (0 once its refill came), how long refills take (0: unknown), the
       newest job's arrival, and the newest when a batch last went early
       (zclock_usecs; kept across batches). */
    int64_t flushed_us;
    double refill_us;
    int64_t newest_arrival_us;
    int64_t early_arrival_us;
    uint8_t *arena; /* the batched outputs, back to back */
    size_t arena_len, arena_cap;
    size_t *offs; /* where result k starts in the arena */
    size_t offs_cap;
};

worker_results_t *
worker_results_new (worker_link_t *link, const char *id)
{
    worker_results_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->link = link;
    self->id = id;
    proto_msg_init (&self->msg, PROTO_RESULT);
    return self;
}

void
worker_results_destroy (worker_results_t **self)
{
    if (!*self)
        return;
    proto_msg_reset (&(*self)->msg);
    free ((*self)->arena);
    free ((*self)->offs);
    free (*self);
    *self = NULL;
}

void
worker_results_clear (worker_results_t *self)
{
    proto_msg_recycle (&self->msg);
    self->bytes = 0;
    self->rerun = false;
    self->arena_len = 0;
    self->busy_since_us = 0;
    self->last_arrived_us = 0;
    self->unsplit = false;
}

int
worker_results_flush (worker_results_t *self, uint64_t pool)
{
    if (self->msg.njobs == 0) {
        /* Nothing batched (big outputs went on their own, or nothing ran):
           the next batch's run time starts with its first job. */
        self->busy_since_us = 0;
        return 0;
    }
    /* The outputs wait in the arena, which no longer moves: by reference. */
    size_t n = self->msg.njobs;
    self->offs[n] = self->arena_len;
    for (size_t k = 0; k < n; k++)
        if (proto_msg_add_borrowed (&self->msg, self->arena + self->offs[k],
                                    self->offs[k + 1] - self->offs[k])
            != PROTO_OK) {
            zsys_error ("worker %s: out of memory sending results", self->id);
            return -1;
        }
    proto_msg_set_pool (&self->msg, pool);
    /* How long the jobs ran, and how long the last one was here. */
    int64_t now_us = zclock_usecs ();
    proto_timing_t timing
        = { .busy_us = self->busy_since_us ? (uint64_t)(now_us - self->busy_since_us) : 0,
            .residence_us
            = self->last_arrived_us ? (uint64_t)(now_us - self->last_arrived_us) : 0 };
    proto_timing_set (&self->msg, &timing);
    int rc = worker_link_send_kept (self->link, &self->msg);
    worker_results_clear (self);
    /* From the oldest batch still unanswered: a later one (the queue
       emptied while the refill was on its way) would make it look
       quicker than it is. */
    if (!self->flushed_us)
        self->flushed_us = now_us;
    return rc;
}

/*  A RESULT of its own for one job (its output in frame, taken, or in
    data[size]), after the batch so far. */
static int
s_send_alone (worker_results_t *self, uint64_t pool, const proto_job_t *job,
              zframe_t **frame, const void *data, size_t size)
{
    proto_msg_t big;
    proto_msg_init (&big, PROTO_RESULT);
    proto_msg_set_pool (&big, pool);
    proto_job_t *slot = proto_msg_add_job (&big);
    if (!slot
        || (frame ? proto_msg_add_frame (&big, frame)
                  : proto_msg_add_bytes (&big, data, size))
               != PROTO_OK) {
        proto_msg_reset (&big);
        zsys_error ("worker %s: out of memory for a result", self->id);
        return -1;
    }
    slot->id = job->id;
    slot->attempt = job->attempt;
    slot->status = job->status;
    slot->flags = job->flags;
    return worker_link_send (self->link, &big);
}

/*  Makes room in the arena for size more bytes and in offs for one more
    result: 0, or -1 when out of memory. */
static int
s_reserve (worker_results_t *self, size_t size)
{
    size_t k = self->msg.njobs;
    if (self->arena_len + size <= self->arena_cap && k + 1 < self->offs_cap)
        return 0;
    size_t cap = self->arena_cap ? self->arena_cap : 64 * 1024;
    while (cap < self->arena_len + size)
        cap *= 2;
    size_t offs_cap = self->offs_cap ? self->offs_cap : 256;
    while (offs_cap < k + 2)
        offs_cap *= 2;
    uint8_t *arena = realloc (self->arena, cap);
    if (arena)
        self->arena = arena;
    size_t *offs = realloc (self->offs, offs_cap * sizeof *offs);
    if (offs)
        self->offs = offs;
    if (!arena || !offs)
        return -1;
    self->arena_cap = cap;
    self->offs_cap = offs_cap;
    return 0;
}

int
worker_results_add (worker_results_t *self, uint64_t pool, const proto_job_t *job,
                    const void *data, size_t size)
{
    if (size > PROTO_PACK_ITEM_MAX) {
        int rc = worker_results_flush (self, pool);
        /* As before the split: the big one is tried even when the batch
           could not go (the worker ends either way). */
        return s_send_alone (self, pool, job, NULL, data, size) || rc ? -1 : 0;
    }
    proto_job_t *slot = NULL;
    if (s_reserve (self, size) == 0)
        slot = proto_msg_add_job (&self->msg);
    if (!slot) {
        zsys_error ("worker %s: out of memory batching results", self->id);
        return -1;
    }
    slot->id = job->id;
    slot->attempt = job->attempt;
    slot->status = job->status;
    slot->flags = job->flags;
    size_t k = self->msg.njobs - 1;
    self->offs[k] = self->arena_len;
    if (size)
        memcpy (self->arena + self->arena_len, data, size);
    self->arena_len += size;
    if (self->msg.njobs == 1)
        self->since = zclock_mono ();
    self->bytes += size;
    self->rerun |= job->attempt > 0;
    return 0;
}

int
worker_results_add_frame (worker_results_t *self, uint64_t pool, uint64_t id,
                          uint32_t attempt, zframe_t **frame)
{
    int rc = worker_results_flush (self, pool);
    proto_job_t job = { .id = id, .attempt = attempt };
    return s_send_alone (self, pool, &job, frame, NULL, 0) || rc ? -1 : 0;
}

/*  Whether the batch holds half a window whose other half, queued, runs
    for RESULTS_SPLIT_US or more.  At a steady pace the estimate only
    falls as the batch runs (fewer jobs left), so once too brief it is not
    asked again (no clock read per job): the batch then goes when the
    queue empties or the first result ages, which the head's window
    covers (head/feed.c), even if a refill arrived meanwhile. */
static bool
s_half_due (worker_results_t *self, size_t queued)
{
    size_t done = self->msg.njobs;
    if (done < RESULTS_HALF_MIN || done < queued || self->unsplit)
        return false;
    int64_t busy = self->busy_since_us ? zclock_usecs () - self->busy_since_us : 0;
    if (busy > 0 && (uint64_t)busy * queued >= (uint64_t)RESULTS_SPLIT_US * done)
        return true;
    self->unsplit = true;
    return false;
}

/*  Whether the queued jobs run out before a refill asked for now could
    arrive (RESULTS_DRY_PACE_US). */
static bool
s_dry_due (worker_results_t *self, size_t queued)
{
    size_t done = self->msg.njobs;
    double horizon = self->refill_us * 1.25 + 100.0;
    /* The cheap tests first: no clock read per job of a long queue. */
    if (self->refill_us <= 0 || !done || !self->busy_since_us
        || self->newest_arrival_us <= self->early_arrival_us
        || (double)queued * RESULTS_DRY_PACE_US > horizon)
        return false;
    int64_t busy = zclock_usecs () - self->busy_since_us;
    if (busy < (int64_t)done * RESULTS_DRY_PACE_US
        || (double)queued * (double)busy > horizon * (double)done)
        return false;
    self->early_arrival_us = self->newest_arrival_us;
    return true;
}

bool
worker_results_due (worker_results_t *self, int64_t now, size_t queued)
{
    return self->msg.njobs >= RESULTS_MAX || self->bytes >= RESULTS_BYTES_MAX
           || s_half_due (self, queued) || s_dry_due (self, queued)
           || (self->msg.njobs && now - self->since >= RESULTS_AGE_MS) || self->rerun;
}

void
worker_results_busy (worker_results_t *self)
{
    if (!self->busy_since_us)
        self->busy_since_us = zclock_usecs ();
}

void
worker_results_arrived (worker_results_t *self, int64_t arrived_us)
{
    self->last_arrived_us = arrived_us;
    if (arrived_us > self->newest_arrival_us)
        self->newest_arrival_us = arrived_us;
    if (self->flushed_us && arrived_us > self->flushed_us) {
        double refill = (double)(arrived_us - self->flushed_us);
        /* Quick to fall, slow to rise: the first jobs of the next map,
           after a batch that ended the last one, come whenever the client
           sends them, not as a refill. */
        if (refill < RESULTS_REFILL_MAX_US) {
            if (self->refill_us <= 0 || refill < self->refill_us)
                self->refill_us = refill;
            else
                self->refill_us += (refill - self->refill_us) / 16;
        }
        self->flushed_us = 0;
    }
}

int
worker_results_refuse (worker_results_t *self, const proto_msg_t *job_msg,
                       const char *reason)
{
    proto_msg_t reply;
    proto_msg_init (&reply, PROTO_RESULT);
    proto_msg_set_pool (&reply, job_msg->pool);
    for (size_t i = 0; i < job_msg->njobs; i++) {
        proto_job_t *job = proto_msg_add_job (&reply);
        if (!job || proto_msg_add_bytes (&reply, reason, strlen (reason)) != PROTO_OK) {
            proto_msg_reset (&reply);
            return 0;
        }
        job->id = job_msg->jobs[i].id;
        job->attempt = job_msg->jobs[i].attempt;
        job->status = PROTO_CODE_EJOB;
    }
    return worker_link_send (self->link, &reply);
}
