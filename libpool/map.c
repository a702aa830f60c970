/*  libpool/map.c - pool_map, pool_imap, pool_imap_unordered and iterators.

    One map runs on a pool at a time (pool->run).  Its n inputs get job ids
    base..base+n-1 from the pool's counter, so a late result of an earlier,
    abandoned map is recognised by its id and dropped.  Inputs go out in
    SUBMIT batches of POOL_SUBMIT_BATCH while at most a window of jobs are
    unfinished; for iterators "unfinished" counts up to the results the
    application has taken, so an ordered iterator buffers at most a window
    of results however slow one job is.  The window is POOL_WINDOW; a map
    or iterator of more inputs asks the head how many workers the pool has
    and takes POOL_WINDOW_PER_WORKER each, up to POOL_WINDOW_MAX (streams
    keep POOL_WINDOW: they copy their inputs).  A bitmap of received ids
    makes each input yield exactly one result here.

    The inputs (array and bytes) of an iterator are read as jobs go out:
    they must stay valid until the iterator is done or destroyed.

    A stream (pool_imap_stream) has no array: its inputs are pulled from
    the application's callback as the window allows and copied, each copy
    kept until its result comes (a head restart sends it again).  Its
    length is unknown (count is SIZE_MAX) until the callback says the end;
    its bitmap of received ids is a ring over the ids from the oldest
    without a result, and no input goes out further than POOL_STREAM_SPAN
    ids past that one, so an endless stream runs in bounded memory.

    Cancelling (pool_iter_cancel, pool_cancel_all) sends CANCEL for the
    ids sent and stops sending; from then on every input without a result
    yields one result with status POOL_ECANCELED, and results still
    arriving are dropped: exactly one result per input.
*/
#include "pool_private.h"
#include "results.h"
#include "shared.h"

#include <stdlib.h>
#include <string.h>

/* Ids a stream may have out past its oldest without a result. */
#define POOL_STREAM_SPAN ((size_t)4 * POOL_WINDOW)
#define STREAM_WORDS (POOL_STREAM_SPAN / 64)

typedef enum { RUN_MAP, RUN_ORDERED, RUN_UNORDERED } run_mode_t;

struct pool_run {
    pool_t *pool; /* NULL once detached */
    run_mode_t mode;
    const pool_bytes_t *inputs; /* borrowed; NULL for a stream */
    size_t count;               /* SIZE_MAX while a stream's end is unknown */
    /* A stream: its callback, the copies of inputs without a result
       (a ring over the ids a stream may have out), and how it ended. */
    pool_input_fn *next;
    void *next_arg;
    pool_bytes_t **held; /* ring of POOL_STREAM_SPAN: [index % span] */
    uint64_t seen_base;  /* a stream's seen ring starts at this index */
    int stream_rc;       /* the callback's error, 0 while none */
    bool ended;          /* the callback said the end (or failed) */
    /* Cancelled: results still coming are dropped; inputs without one
       yield POOL_ECANCELED, the unordered ones from cursor up. */
    bool cancelled;
    size_t cursor;
    /* Progress (pool_options_t.progress) */
    size_t failed;
    int64_t started_ms;
    int64_t progress_at;    /* next call due, zclock_mono ms */
    bool progress_final;    /* the last call was made */
    uint64_t base;          /* job id of inputs [0] */
    size_t submitted;       /* inputs sent */
    size_t received;        /* results received */
    size_t consumed;        /* iterators: results handed out */
    uint64_t *seen;         /* bitmap of received indexes */
    pool_result_t *results; /* RUN_MAP: the caller's array */
    pool_result_t *slots;   /* iterators: ring of cap results */
    bool *filled;           /* RUN_ORDERED: slot holds a result */
    size_t cap;
    size_t window;        /* unfinished jobs at most (s_window) */
    size_t head;          /* RUN_UNORDERED: oldest queued slot */
    size_t queued;        /* RUN_UNORDERED: results queued */
    pool_shared_t shared; /* inputs in shared memory (shared.h) */
};

struct pool_iter {
    pool_run_t run;
    pool_t *owner;             /* its pool (pool.iter), until detached: a cancelled
                                  iterator keeps it, but not the pool's run */
    pool_result_t current;     /* what the last next returned */
    pool_slab_cursor_t cursor; /* for giving back current's value */
    int rc;                    /* sticky error, 0 while fine */
};

void
pool_results_release (pool_t *pool, pool_result_t *results, size_t count)
{
    (void)pool;
    if (!results)
        return;
    pool_slab_cursor_t cursor = { NULL };
    for (size_t i = 0; i < count; i++)
        pool_result_free_at (&results[i], &cursor);
    pool_slab_cursor_end (&cursor);
}

/* ---- the ids that have a result --------------------------------------- */

static bool
s_is_stream (const pool_run_t *run)
{
    return run->inputs == NULL && run->next != NULL;
}

static uint64_t *
s_seen_word (const pool_run_t *run, size_t index)
{
    size_t word = index / 64;
    return s_is_stream (run) ? &run->seen[word % STREAM_WORDS] : &run->seen[word];
}

static bool
s_seen (const pool_run_t *run, size_t index)
{
    if (s_is_stream (run) && index < run->seen_base)
        return true;
    return (*s_seen_word (run, index) >> (index % 64)) & 1;
}

/* Marks index received; a stream's ring moves past words all received. */
static void
s_mark (pool_run_t *run, size_t index)
{
    *s_seen_word (run, index) |= (uint64_t)1 << (index % 64);
    if (!s_is_stream (run))
        return;
    while (run->seen_base + 64 <= run->submitted) {
        uint64_t *word = s_seen_word (run, (size_t)run->seen_base);
        if (*word != UINT64_MAX)
            break;
        *word = 0;
        run->seen_base += 64;
    }
}

/* ---- inputs ---------------------------------------------------------- */

/*  The most jobs a run of count inputs keeps unfinished: POOL_WINDOW, or
    for more inputs (not a stream) POOL_WINDOW_PER_WORKER per worker the
    head says the pool has, within [POOL_WINDOW, POOL_WINDOW_MAX].  A
    failed question costs only the bigger window: the run meets the same
    trouble itself and deals with it. */
static size_t
s_window (pool_t *pool, size_t count, bool stream)
{
    if (stream || count <= POOL_WINDOW)
        return POOL_WINDOW;
    proto_status_t status;
    size_t window = pool_status (pool, &status) == 0
                        ? (size_t)status.pool_workers * POOL_WINDOW_PER_WORKER
                        : 0;
    if (window < POOL_WINDOW)
        window = POOL_WINDOW;
    return window < POOL_WINDOW_MAX ? window : POOL_WINDOW_MAX;
}

/* Frees a stream's copy of input index, if it holds one. */
static void
s_held_drop (pool_run_t *run, size_t index)
{
    if (!run->held)
        return;
    free (run->held[index % POOL_STREAM_SPAN]);
    run->held[index % POOL_STREAM_SPAN] = NULL;
}

/* Input index: from the array, or a stream's copy (NULL once answered). */
static const pool_bytes_t *
s_input (const pool_run_t *run, size_t index)
{
    if (run->inputs)
        return &run->inputs[index];
    return run->held[index % POOL_STREAM_SPAN];
}

static int
s_run_init (pool_run_t *run, pool_t *pool, run_mode_t mode, const pool_bytes_t *inputs,
            size_t count, pool_input_fn *next, void *next_arg)
{
    memset (run, 0, sizeof *run);
    run->pool = pool;
    run->mode = mode;
    run->inputs = inputs;
    run->count = count;
    run->next = next;
    run->next_arg = next_arg;
    run->window = s_window (pool, count, next != NULL);
    run->started_ms = zclock_mono ();
    run->progress_at = run->started_ms + pool->progress_ms;
    pool_shared_init (&run->shared);
    run->shared.direct = pool->direct;
    if (next) {
        run->seen = calloc (STREAM_WORDS, sizeof *run->seen);
        run->held = calloc (POOL_STREAM_SPAN, sizeof *run->held);
        if (!run->held)
            return POOL_ENOMEM;
    } else
        run->seen = calloc (count / 64 + 1, sizeof *run->seen);
    if (!run->seen)
        return POOL_ENOMEM;
    if (mode != RUN_MAP) {
        run->cap = count < run->window ? count : run->window;
        run->slots = calloc (run->cap + 1, sizeof *run->slots);
        run->filled = calloc (run->cap + 1, sizeof *run->filled);
        if (!run->slots || !run->filled)
            return POOL_ENOMEM;
    }
    return 0;
}

/* Frees what the run holds, results not handed out included. */
static void
s_run_free (pool_run_t *run)
{
    pool_slab_cursor_t cursor = { NULL };
    if (run->mode == RUN_ORDERED && run->slots)
        for (size_t i = 0; i < run->cap; i++)
            if (run->filled[i])
                pool_result_free_at (&run->slots[i], &cursor);
    if (run->mode == RUN_UNORDERED && run->slots)
        for (size_t i = 0; i < run->queued; i++)
            pool_result_free_at (&run->slots[(run->head + i) % run->cap], &cursor);
    pool_slab_cursor_end (&cursor);
    /* The data endpoint stops serving the inputs before they go. */
    pool_shared_free (&run->shared);
    free (run->seen);
    free (run->slots);
    free (run->filled);
    if (run->held)
        for (size_t i = 0; i < POOL_STREAM_SPAN; i++)
            free (run->held[i]);
    free (run->held);
    memset (run, 0, sizeof *run);
}

/* ---- progress --------------------------------------------------------- */

/*  Calls the pool's progress callback when one is due (final: the last,
    once, and the only one that shows every result in).  Not from inside
    a future's callback: callbacks never nest. */
static void
s_progress (pool_run_t *run, bool final)
{
    pool_t *pool = run->pool;
    if (!pool || !pool->progress || pool_in_callback || run->progress_final)
        return;
    /* Every result in: the final call says so, once (a periodic one just
       before it would show the end twice). */
    if (!final && run->count != SIZE_MAX && run->received >= run->count)
        return;
    int64_t now = zclock_mono ();
    if (!final && now < run->progress_at)
        return;
    run->progress_at = now + pool->progress_ms;
    run->progress_final = final;
    pool_progress_t progress = { .done = run->received, .failed = run->failed };
    progress.total = run->count == SIZE_MAX ? 0 : run->count;
    progress.elapsed = (double)(now - run->started_ms) / 1000.0;
    progress.per_second
        = progress.elapsed > 0 ? (double)run->received / progress.elapsed : 0;
    pool_in_callback = true;
    pool->progress (&progress, pool->progress_arg);
    pool_in_callback = false;
}

/* ---- results ----------------------------------------------------------- */

/*  A result whose output a worker left in the input's shared memory. */
static int
s_result_shared (pool_run_t *run, pool_result_t *r, size_t index, const void *ref,
                 size_t size)
{
    memset (r, 0, sizeof *r);
    r->index = index;
    const char *why = NULL;
    int rc = pool_shared_output (&run->shared, index, ref, size, &r->value, &why);
    if (rc == 0)
        return 0;
    r->status = rc;
    r->error = strdup (why);
    return r->error ? 0 : POOL_ENOMEM;
}

/* Stores result r of input index (taken), counted and marked. */
static void
s_store (pool_run_t *run, size_t index, pool_result_t *r)
{
    s_mark (run, index);
    pool_shared_release (&run->shared, index); /* served no more, then freed */
    s_held_drop (run, index);
    run->received++;
    if (r->status)
        run->failed++;
    if (run->mode == RUN_MAP)
        run->results[index] = *r;
    else if (run->mode == RUN_ORDERED) {
        run->slots[index % run->cap] = *r;
        run->filled[index % run->cap] = true;
    } else {
        run->slots[(run->head + run->queued) % run->cap] = *r;
        run->queued++;
    }
    memset (r, 0, sizeof *r);
}

/*  Takes one RESULT entry and its payload into the run. */
static int
s_accept (void *sink, const proto_job_t *job, const void *data, size_t size,
          zframe_t **frame)
{
    pool_run_t *run = sink;
    uint64_t index = job->id - run->base;
    if (run->cancelled || job->id < run->base || index >= run->submitted
        || s_seen (run, (size_t)index))
        return 0;
    if (job->status == PROTO_CODE_RESEND) {
        /* Its input went by reference to where it cannot be read. */
        int rc = pool_shared_bounce (&run->shared, index);
        if (pool_shared_futile (&run->shared) && run->pool)
            run->pool->shared_off = true;
        return rc;
    }
    pool_result_t r;
    int rc;
    if (job->status == 0 && (job->flags & PROTO_JOB_SHARED))
        rc = s_result_shared (run, &r, (size_t)index, data, size);
    else if (job->status == 0 && (job->flags & PROTO_JOB_DIRECT)) {
        pool_shared_release (&run->shared, index);
        rc = pool_result_direct (run->pool ? run->pool->direct : NULL, &r, (size_t)index,
                                 job, data, size);
    } else {
        pool_shared_release (&run->shared, index);
        rc = *frame ? pool_result_frame (&r, (size_t)index, job->status, frame)
                    : pool_result_fill (&r, (size_t)index, job->status, data, size,
                                        run->pool ? &run->pool->slab : NULL);
    }
    if (rc)
        return rc;
    s_store (run, (size_t)index, &r);
    return 0;
}

/* ---- sending inputs ------------------------------------------------------ */

/*  Adds input index to a SUBMIT: by reference when ref, else its bytes
    (borrowed: the inputs outlive the send).  0, or POOL_ENOMEM. */
static int
s_add_input (pool_run_t *run, proto_msg_t *msg, uint64_t index, const uint8_t *ref)
{
    const pool_bytes_t *input = s_input (run, (size_t)index);
    proto_job_t *job = proto_msg_add_job (msg);
    if (!job
        || proto_msg_add_borrowed (msg, ref ? ref : input->data,
                                   ref ? PROTO_SHM_REF_SIZE : input->size)
               != PROTO_OK)
        return pool_fail (run->pool, POOL_ENOMEM, "out of memory building SUBMIT");
    job->id = run->base + index;
    job->flags = ref ? PROTO_JOB_SHARED : 0;
    return 0;
}

/*  Sends SUBMIT batches of the given inputs (bytes, or references where
    shared has them), at most POOL_SUBMIT_BATCH jobs and about
    POOL_SUBMIT_BYTES each, so big inputs never push a SUBMIT over the
    head's --max-message.  skip_seen: leave out inputs that have a result. */
static int
s_send_inputs (pool_run_t *run, const uint64_t *indexes, size_t count, bool skip_seen)
{
    pool_t *pool = run->pool;
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_SUBMIT);
    int rc = 0;
    size_t bytes = 0;
    for (size_t k = 0; k < count && rc == 0; k++) {
        uint64_t index = indexes ? indexes[k] : k;
        if (skip_seen && s_seen (run, (size_t)index))
            continue;
        const uint8_t *ref = pool_shared_ref (&run->shared, index);
        size_t cost = ref ? PROTO_SHM_REF_SIZE : s_input (run, (size_t)index)->size;
        if (msg.njobs
            && (msg.njobs == POOL_SUBMIT_BATCH || bytes + cost > POOL_SUBMIT_BYTES)) {
            proto_msg_set_pool (&msg, pool->pool_id);
            rc = pool_session_send (pool, &msg);
            proto_msg_init (&msg, PROTO_SUBMIT);
            bytes = 0;
        }
        if (rc == 0)
            rc = s_add_input (run, &msg, index, ref);
        bytes += cost;
    }
    if (rc == 0 && msg.njobs) {
        proto_msg_set_pool (&msg, pool->pool_id);
        rc = pool_session_send (pool, &msg);
    }
    proto_msg_reset (&msg);
    return rc;
}

/*  A stream's next input, copied and held under index: 1, 0 at the end,
    <0 (the callback's error, or POOL_ENOMEM). */
static int
s_pull (pool_run_t *run, size_t index)
{
    pool_bytes_t input = { NULL, 0 };
    int rc = run->next (run->next_arg, &input);
    if (rc <= 0) {
        run->ended = true;
        run->count = index;
        if (rc < 0) {
            run->stream_rc = rc;
            pool_fail (run->pool, rc, "the input callback failed with %d (%s)", rc,
                       pool_strerror (rc));
        }
        return rc;
    }
    if (input.size && !input.data) {
        run->ended = true;
        run->count = index;
        run->stream_rc = POOL_EINVAL;
        return pool_fail (run->pool, POOL_EINVAL, "input %zu has a size but no data",
                          index);
    }
    pool_bytes_t *copy = malloc (sizeof *copy + input.size);
    if (!copy)
        return pool_fail (run->pool, POOL_ENOMEM, "out of memory copying input %zu",
                          index);
    run->held[index % POOL_STREAM_SPAN] = copy;
    copy->data = copy + 1;
    copy->size = input.size;
    if (input.size)
        memcpy (copy + 1, input.data, input.size);
    return 1;
}

/* Sends SUBMIT batches while the window (and shared memory) allows. */
static int
s_run_submit (pool_run_t *run)
{
    pool_t *pool = run->pool;
    if (run->cancelled)
        return 0;
    if (run->shared.nresend) {
        /* Inputs the head sent back go again, as bytes. */
        int rc = s_send_inputs (run, run->shared.resend, run->shared.nresend, true);
        run->shared.nresend = 0;
        if (rc)
            return rc;
    }
    size_t done = run->mode == RUN_MAP ? run->received : run->consumed;
    size_t limit = run->count - done > run->window ? done + run->window : run->count;
    if (s_is_stream (run) && limit > run->seen_base + POOL_STREAM_SPAN)
        limit = (size_t)run->seen_base + POOL_STREAM_SPAN;
    bool stalled = false;
    while (run->submitted < limit && !stalled) {
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_SUBMIT);
        proto_msg_set_pool (&msg, pool->pool_id);
        size_t next = run->submitted, bytes = 0;
        size_t batch
            = limit - next < POOL_SUBMIT_BATCH ? limit - next : POOL_SUBMIT_BATCH;
        (void)proto_msg_reserve (&msg, batch); /* a hint: added one by one anyway */
        while (next < limit && msg.njobs < POOL_SUBMIT_BATCH) {
            /* A stream's next input is pulled (and copied: held until its
               result) before it goes, like an array's, by reference when
               it is big. */
            if (s_is_stream (run) && !run->ended && !s_input (run, next)) {
                int pulled = s_pull (run, next);
                if (pulled < 0 && !run->stream_rc) { /* ours, not the callback's */
                    proto_msg_reset (&msg);
                    return pulled;
                }
                if (pulled <= 0) {
                    stalled = true;
                    break;
                }
            }
            const pool_bytes_t *input = s_input (run, next);
            /* A big input stays here, in a memfd: workers on this host map
               it, others fetch it from the data endpoint. */
            bool local;
            size_t min = pool_kept_min (pool->host[0], pool->shared_min, pool->direct,
                                        pool->direct_min, &local);
            int admit
                = pool_shared_admits (&run->shared, input->size, min, pool->shared_off);
            if (admit == 0) { /* wait for a shared input to come back */
                stalled = true;
                break;
            }
            size_t cost = admit > 0 ? PROTO_SHM_REF_SIZE : input->size;
            if (msg.njobs && bytes + cost > POOL_SUBMIT_BYTES)
                break;
            const uint8_t *ref = NULL;
            if (admit > 0 && pool_shared_add (&run->shared, next, *input, local, &ref)) {
                pool->shared_off = true; /* no memfd here: bytes from now */
                continue;
            }
            int rc = s_add_input (run, &msg, next, ref);
            if (rc) {
                proto_msg_reset (&msg);
                return rc;
            }
            bytes += cost;
            next++;
        }
        if (!msg.njobs) {
            proto_msg_reset (&msg);
            break;
        }
        int rc = pool_session_send (pool, &msg);
        if (rc)
            return rc;
        run->submitted = next;
    }
    return 0;
}

static int
s_resubmit (void *sink)
{
    pool_run_t *run = sink;
    /* Every input sent and not answered goes again, shared ones by the
       same reference; those waiting to go again as bytes are among them. */
    run->shared.nresend = 0;
    if (run->cancelled)
        return 0;
    if (!s_is_stream (run))
        return s_send_inputs (run, NULL, run->submitted, true);
    size_t n = 0, have = run->submitted - (size_t)run->seen_base;
    uint64_t *indexes = malloc ((have ? have : 1) * sizeof *indexes);
    if (!indexes)
        return pool_fail (run->pool, POOL_ENOMEM, "out of memory sending inputs again");
    for (size_t index = (size_t)run->seen_base; index < run->submitted; index++)
        if (run->held[index % POOL_STREAM_SPAN])
            indexes[n++] = index;
    int rc = s_send_inputs (run, indexes, n, true);
    free (indexes);
    return rc;
}

/* What the session and the recovery call on the running map. */
static const pool_sink_ops_t s_run_ops = { s_accept, s_resubmit };

/* ---- cancelling ---------------------------------------------------------- */

/*  Stops the run: CANCEL for what the head has, nothing more sent, and
    every input without a result from now on yields POOL_ECANCELED. */
static int
s_run_cancel (pool_run_t *run)
{
    if (run->cancelled)
        return 0;
    run->cancelled = true;
    if (s_is_stream (run) && !run->ended) {
        /* An input pulled but not sent yet has its result too. */
        run->ended = true;
        run->count = s_input (run, run->submitted) ? run->submitted + 1 : run->submitted;
    }
    int rc = 0;
    if (run->pool && run->submitted)
        rc = pool_cancel_send (run->pool, run->base, run->base + run->submitted);
    return rc;
}

/*  The next input of a cancelled run without a result, at or after from,
    or the run's count when none is left. */
static size_t
s_unseen_from (const pool_run_t *run, size_t from)
{
    while (from < run->count && s_seen (run, from))
        from++;
    return from;
}

/*  A cancelled map: every input without a result gets POOL_ECANCELED. */
static int
s_map_cancelled (pool_run_t *run)
{
    for (size_t i = s_unseen_from (run, 0); i < run->count;
         i = s_unseen_from (run, i + 1)) {
        pool_result_t r;
        if (pool_result_error (&r, i, POOL_ECANCELED, "cancelled"))
            return POOL_ENOMEM;
        s_store (run, i, &r);
    }
    return 0;
}

/* ---- maps -------------------------------------------------------------- */

/* Checks what every map call checks before it starts a run. */
static int
s_can_start (pool_t *pool, const pool_bytes_t *inputs, size_t count)
{
    if (pool->broken)
        return pool->broken;
    if (pool->run)
        return pool_fail (pool, POOL_EINVAL,
                          "another map or iterator is running on this pool; "
                          "finish or destroy it first");
    if (count && !inputs)
        return pool_fail (pool, POOL_EINVAL, "inputs is NULL");
    for (size_t i = 0; i < count; i++)
        if (inputs[i].size && !inputs[i].data)
            return pool_fail (pool, POOL_EINVAL, "input %zu has a size but no data", i);
    return 0;
}

/*  Between waits: held futures go out, due callbacks run; and the
    progress of the run.  A callback may cancel the run. */
static int
s_between (pool_run_t *run)
{
    pool_t *pool = run->pool;
    int rc = pool ? pool_futures_pump (pool) : 0;
    s_progress (run, false);
    return rc < 0 ? rc : 0;
}

int
pool_map (pool_t *pool, const pool_bytes_t *inputs, size_t count, pool_result_t *results)
{
    if (!pool)
        return POOL_EINVAL;
    if (count == 0)
        return 0;
    if (!results)
        return pool_fail (pool, POOL_EINVAL, "results is NULL");
    int rc = s_can_start (pool, inputs, count);
    if (rc)
        return rc;
    for (size_t i = 0; i < count; i++)
        results[i] = (pool_result_t){ .index = i };
    pool_run_t run;
    rc = s_run_init (&run, pool, RUN_MAP, inputs, count, NULL, NULL);
    if (rc) {
        rc = pool_fail (pool, rc, "out of memory starting a map of %zu inputs", count);
        goto cleanup;
    }
    run.results = results;
    run.base = pool->next_id;
    pool->next_id += count;
    pool->run = &run;
    pool->run_ops = &s_run_ops;
    while (run.received < count) {
        if (run.cancelled) {
            rc = s_map_cancelled (&run);
            break;
        }
        rc = s_run_submit (&run);
        if (rc)
            break;
        rc = pool_wait_results (pool, run.submitted - run.received, POOL_FOREVER);
        if (rc == 0)
            rc = s_between (&run);
        if (rc)
            break;
    }
    pool->run = NULL;
    /* The map could not finish: inputs without a result say why. */
    if (rc)
        for (size_t i = 0; i < count; i++)
            if (!s_seen (&run, i)) {
                results[i].status = rc;
                results[i].error
                    = strdup (pool->error[0] ? pool->error : pool_strerror (rc));
            }
    s_progress (&run, true);
    pool_futures_pump (pool);
cleanup:
    s_run_free (&run);
    return rc;
}

/* ---- iterators ------------------------------------------------------------ */

/*  Stops the run: later results of this map are dropped by id, and the
    pool may start the next map (a cancelled iterator hands out its
    POOL_ECANCELED results without the pool). */
static void
s_iter_stop (pool_iter_t *iter)
{
    pool_t *pool = iter->run.pool;
    if (!pool)
        return;
    /* A stream's ids end where it ended: the next map starts after. */
    if (s_is_stream (&iter->run) && pool->next_id < iter->run.base + iter->run.submitted)
        pool->next_id = iter->run.base + iter->run.submitted;
    if (pool->run == &iter->run)
        pool->run = NULL;
    iter->run.pool = NULL;
    pool_shared_detach (&iter->run.shared); /* the pool may go first */
}

/* Lets go of the pool for good. */
static void
s_iter_detach (pool_iter_t *iter)
{
    s_iter_stop (iter);
    if (iter->owner && iter->owner->iter == iter)
        iter->owner->iter = NULL;
    iter->owner = NULL;
}

void
pool_iter_orphan (pool_iter_t *iter)
{
    s_iter_detach (iter);
}

static int
s_imap (pool_t *pool, const pool_bytes_t *inputs, size_t count, pool_input_fn *next,
        void *next_arg, pool_iter_t **iter, run_mode_t mode)
{
    if (!iter)
        return pool ? pool_fail (pool, POOL_EINVAL, "iter is NULL") : POOL_EINVAL;
    *iter = NULL;
    if (!pool)
        return POOL_EINVAL;
    int rc = s_can_start (pool, inputs, next ? 0 : count);
    if (rc)
        return rc;
    pool_iter_t *self = calloc (1, sizeof *self);
    if (!self)
        return pool_fail (pool, POOL_ENOMEM, "out of memory");
    rc = s_run_init (&self->run, pool, mode, inputs, count, next, next_arg);
    if (rc) {
        s_run_free (&self->run);
        free (self);
        return pool_fail (pool, rc, "out of memory starting a map of %zu inputs", count);
    }
    self->run.base = pool->next_id;
    /* A stream takes ids from base up until it ends (s_iter_detach). */
    pool->next_id += next ? 0 : count;
    if (count) {
        if (pool->iter) /* a cancelled one, still handing out results */
            s_iter_detach (pool->iter);
        pool->run = &self->run;
        pool->run_ops = &s_run_ops;
        pool->iter = self;
        self->owner = pool;
    } else
        self->run.pool = NULL; /* nothing to run: done already */
    *iter = self;
    return 0;
}

int
pool_imap (pool_t *pool, const pool_bytes_t *inputs, size_t count, pool_iter_t **iter)
{
    return s_imap (pool, inputs, count, NULL, NULL, iter, RUN_ORDERED);
}

int
pool_imap_unordered (pool_t *pool, const pool_bytes_t *inputs, size_t count,
                     pool_iter_t **iter)
{
    return s_imap (pool, inputs, count, NULL, NULL, iter, RUN_UNORDERED);
}

int
pool_imap_stream (pool_t *pool, pool_input_fn *next, void *arg, int ordered,
                  pool_iter_t **iter)
{
    if (pool && !next) {
        if (iter)
            *iter = NULL;
        return pool_fail (pool, POOL_EINVAL, "the input callback is NULL");
    }
    return s_imap (pool, NULL, SIZE_MAX, next, arg, iter,
                   ordered ? RUN_ORDERED : RUN_UNORDERED);
}

/*  A cancelled iterator's next input without a result, as POOL_ECANCELED
    (ordered: the one due next; unordered: the lowest).  true when made. */
static bool
s_iter_cancelled (pool_iter_t *iter, pool_result_t *out)
{
    pool_run_t *run = &iter->run;
    if (!run->cancelled)
        return false;
    size_t index;
    if (run->mode == RUN_ORDERED)
        index = run->consumed;
    else {
        if (run->queued)
            return false;
        index = run->cursor = s_unseen_from (run, run->cursor);
    }
    if (index >= run->count || s_seen (run, index))
        return false;
    if (pool_result_error (out, index, POOL_ECANCELED, "cancelled"))
        return false;
    s_mark (run, index);
    pool_shared_release (&run->shared, index); /* served no more, then freed */
    s_held_drop (run, index);
    run->received++;
    run->failed++;
    run->consumed++;
    return true;
}

/* Moves the next result to hand out into *out: true, or false if none yet. */
static bool
s_iter_pop (pool_iter_t *iter, pool_result_t *out)
{
    pool_run_t *run = &iter->run;
    if (run->consumed >= run->count)
        return false;
    if (run->mode == RUN_ORDERED) {
        size_t slot = run->consumed % run->cap;
        if (!run->filled[slot])
            return s_iter_cancelled (iter, out);
        *out = run->slots[slot];
        memset (&run->slots[slot], 0, sizeof run->slots[slot]);
        run->filled[slot] = false;
    } else {
        if (!run->queued)
            return s_iter_cancelled (iter, out);
        *out = run->slots[run->head];
        memset (&run->slots[run->head], 0, sizeof run->slots[run->head]);
        run->head = (run->head + 1) % run->cap;
        run->queued--;
    }
    run->consumed++;
    return true;
}

/* The iterator's end: the last progress call, and the stream's error. */
static int
s_iter_end (pool_iter_t *iter)
{
    s_progress (&iter->run, true);
    int rc = iter->run.stream_rc;
    s_iter_detach (iter);
    return rc;
}

int
pool_iter_next (pool_iter_t *iter, pool_result_t *result)
{
    if (!iter || !result)
        return POOL_EINVAL;
    memset (result, 0, sizeof *result);
    pool_result_free_at (&iter->current, &iter->cursor);
    while (true) {
        if (s_iter_pop (iter, &iter->current)) {
            *result = iter->current;
            return 1;
        }
        if (iter->run.consumed >= iter->run.count)
            return s_iter_end (iter);
        if (iter->rc)
            return iter->rc;
        if (iter->run.cancelled)
            return POOL_ENOMEM; /* its cancelled result could not be made */
        pool_t *pool = iter->run.pool;
        int rc = pool ? s_run_submit (&iter->run) : POOL_ECLOSED;
        if (rc == 0 && iter->run.consumed >= iter->run.count)
            continue; /* a stream that just ended */
        if (rc == 0)
            rc = pool_wait_results (pool, iter->run.submitted - iter->run.received,
                                    POOL_FOREVER);
        if (rc == 0)
            rc = s_between (&iter->run);
        if (rc) {
            iter->rc = rc;
            s_progress (&iter->run, true);
            s_iter_detach (iter);
            return rc;
        }
    }
}

int
pool_iter_cancel (pool_iter_t *iter)
{
    if (!iter)
        return POOL_EINVAL;
    pool_run_t *run = &iter->run;
    if (run->cancelled)
        return iter->owner ? pool_fail (iter->owner, POOL_EINVAL,
                                        "the iterator was cancelled already")
                           : POOL_EINVAL;
    if (!run->pool) {
        /* Done, failed or its pool closed: a stream ends where it is. */
        run->cancelled = true;
        if (s_is_stream (run) && !run->ended) {
            run->ended = true;
            run->count
                = s_input (run, run->submitted) ? run->submitted + 1 : run->submitted;
        }
        return 0;
    }
    int rc = s_run_cancel (run);
    s_iter_stop (iter);
    return rc;
}

int
pool_cancel_all (pool_t *pool)
{
    if (!pool)
        return POOL_EINVAL;
    int rc = 0;
    if (pool->iter && pool->run == &pool->iter->run)
        rc = pool_iter_cancel (pool->iter);
    else if (pool->run) /* a pool_map: its loop ends it */
        rc = s_run_cancel (pool->run);
    int frc = pool_futures_cancel_all (pool);
    return rc ? rc : frc;
}

void
pool_iter_destroy (pool_iter_t **iter)
{
    if (!iter || !*iter)
        return;
    pool_iter_t *self = *iter;
    /* Jobs it sent and no longer wants: the head drops or stops them. */
    pool_run_t *run = &self->run;
    if (run->pool && !run->cancelled && run->received < run->submitted)
        pool_cancel_send (run->pool, run->base, run->base + run->submitted);
    s_iter_detach (self);
    pool_result_free_at (&self->current, &self->cursor);
    pool_slab_cursor_end (&self->cursor);
    s_run_free (&self->run);
    free (self);
    *iter = NULL;
}
