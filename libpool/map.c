/*  libpool/map.c - pool_map, pool_imap, pool_imap_unordered and iterators.

    One map runs on a pool at a time (pool->run).  Its n inputs get job ids
    base..base+n-1 from the pool's counter, so a late result of an earlier,
    abandoned map is recognised by its id and dropped.  Inputs go out in
    SUBMIT batches of POOL_SUBMIT_BATCH while at most POOL_WINDOW jobs are
    unfinished; for iterators "unfinished" counts up to the results the
    application has taken, so an ordered iterator buffers at most
    POOL_WINDOW results however slow one job is.  A bitmap of received ids
    makes each input yield exactly one result here.

    The inputs (array and bytes) of an iterator are read as jobs go out:
    they must stay valid until the iterator is done or destroyed.
*/
#include "pool_private.h"
#include "shared.h"
#include "values.h"

#include <stdlib.h>
#include <string.h>

typedef enum { RUN_MAP, RUN_ORDERED, RUN_UNORDERED } run_mode_t;

struct pool_run {
    pool_t *pool; /* NULL once detached */
    run_mode_t mode;
    const pool_bytes_t *inputs; /* borrowed */
    size_t count;
    uint64_t base;          /* job id of inputs [0] */
    size_t submitted;       /* inputs sent */
    size_t received;        /* results received */
    size_t consumed;        /* iterators: results handed out */
    uint64_t *seen;         /* bitmap of received indexes */
    pool_result_t *results; /* RUN_MAP: the caller's array */
    pool_result_t *slots;   /* iterators: ring of cap results */
    bool *filled;           /* RUN_ORDERED: slot holds a result */
    size_t cap;
    size_t head;          /* RUN_UNORDERED: oldest queued slot */
    size_t queued;        /* RUN_UNORDERED: results queued */
    pool_shared_t shared; /* inputs in shared memory (shared.h) */
    bool cancelled;       /* iterators: inputs without a result are cancelled */
    size_t cancel_next;   /* RUN_UNORDERED: where to look for the next one */
};

struct pool_iter {
    pool_run_t run;
    pool_result_t current; /* what the last next returned */
    int rc;                /* sticky error, 0 while fine */
    pool_t *owner;         /* its pool, until the pool is closed */
};

static void
s_result_free (pool_result_t *result)
{
    if (!pool_values_release (result->value.data))
        free ((void *)result->value.data);
    free ((void *)result->error);
    memset (result, 0, sizeof *result);
}

void
pool_results_release (pool_t *pool, pool_result_t *results, size_t count)
{
    (void)pool;
    if (!results)
        return;
    for (size_t i = 0; i < count; i++)
        s_result_free (&results[i]);
}

static int
s_run_init (pool_run_t *run, pool_t *pool, run_mode_t mode, const pool_bytes_t *inputs,
            size_t count)
{
    memset (run, 0, sizeof *run);
    run->pool = pool;
    run->mode = mode;
    run->inputs = inputs;
    run->count = count;
    pool_shared_init (&run->shared);
    run->seen = calloc (count / 64 + 1, sizeof *run->seen);
    if (!run->seen)
        return POOL_ENOMEM;
    if (mode != RUN_MAP) {
        run->cap = count < POOL_WINDOW ? count : POOL_WINDOW;
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
    if (run->mode == RUN_ORDERED && run->slots)
        for (size_t i = 0; i < run->cap; i++)
            if (run->filled[i])
                s_result_free (&run->slots[i]);
    if (run->mode == RUN_UNORDERED && run->slots)
        for (size_t i = 0; i < run->queued; i++)
            s_result_free (&run->slots[(run->head + i) % run->cap]);
    free (run->seen);
    free (run->slots);
    free (run->filled);
    pool_shared_free (&run->shared);
    memset (run, 0, sizeof *run);
}

static bool
s_seen (const pool_run_t *run, size_t index)
{
    return (run->seen[index / 64] >> (index % 64)) & 1;
}

/* Builds a result from a RESULT entry and its frame: 0 or POOL_ENOMEM. */
static int
s_result_fill (pool_result_t *r, size_t index, int32_t status, const void *data,
               size_t size)
{
    memset (r, 0, sizeof *r);
    r->index = index;
    r->status = status == 0 ? 0 : status > 0 ? POOL_EJOB : pool_code_from_head (status);
    if (r->status == 0) {
        void *copy = malloc (size ? size : 1);
        if (!copy)
            return POOL_ENOMEM;
        if (size)
            memcpy (copy, data, size);
        r->value.data = copy;
        r->value.size = size;
    } else {
        char *text = size ? strndup (data, size) : strdup (pool_strerror (r->status));
        if (!text)
            return POOL_ENOMEM;
        r->error = text;
    }
    return 0;
}

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

/*  A result whose output came as a frame of its own: big ones keep the
    frame (*frame taken), small ones are copied. */
static int
s_result_frame (pool_result_t *r, size_t index, int32_t status, zframe_t **frame)
{
    size_t size = zframe_size (*frame);
    if (status == 0 && size >= POOL_VALUES_FRAME_MIN) {
        memset (r, 0, sizeof *r);
        r->index = index;
        r->value = (pool_bytes_t){ zframe_data (*frame), size };
        if (pool_values_keep_frame (frame) == 0)
            return 0;
    }
    return s_result_fill (r, index, status, zframe_data (*frame), size);
}

/*  Takes one RESULT entry and its payload into the run. */
static int
s_accept_one (pool_run_t *run, const proto_job_t *job, const void *data, size_t size,
              zframe_t **frame)
{
    uint64_t index = job->id - run->base;
    if (run->cancelled) /* its inputs without a result have ECANCELED */
        return 0;
    if (job->id < run->base || index >= run->submitted || s_seen (run, (size_t)index))
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
    else {
        pool_shared_release (&run->shared, index);
        rc = *frame ? s_result_frame (&r, (size_t)index, job->status, frame)
                    : s_result_fill (&r, (size_t)index, job->status, data, size);
    }
    if (rc)
        return rc;
    run->seen[index / 64] |= (uint64_t)1 << (index % 64);
    run->received++;
    if (run->mode == RUN_MAP)
        run->results[index] = r;
    else if (run->mode == RUN_ORDERED) {
        run->slots[index % run->cap] = r;
        run->filled[index % run->cap] = true;
    } else {
        run->slots[(run->head + run->queued) % run->cap] = r;
        run->queued++;
    }
    return 0;
}

static int
s_run_accept (pool_run_t *run, proto_msg_t *msg)
{
    int rc = 0;
    for (size_t i = 0; i < msg->njobs && rc == 0; i++) {
        /* Packed payloads are read in place; frames are taken, so a big
           output becomes its result's value without a copy. */
        const void *data = NULL;
        size_t size = 0;
        zframe_t *frame = msg->packed ? NULL : proto_msg_pop_frame (msg);
        if (frame) {
            data = zframe_data (frame);
            size = zframe_size (frame);
        } else
            proto_msg_payload (msg, i, &data, &size);
        rc = s_accept_one (run, &msg->jobs[i], data, size, &frame);
        zframe_destroy (&frame);
    }
    return rc;
}

/*  Adds input index to a SUBMIT: by reference when ref, else its bytes
    (borrowed: the inputs outlive the send).  0, or POOL_ENOMEM. */
static int
s_add_input (pool_run_t *run, proto_msg_t *msg, uint64_t index, const uint8_t *ref)
{
    const pool_bytes_t *input = &run->inputs[index];
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
        size_t cost = ref ? PROTO_SHM_REF_SIZE : run->inputs[index].size;
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

/* Sends SUBMIT batches while the window (and shared memory) allows. */
static int
s_run_submit (pool_run_t *run)
{
    pool_t *pool = run->pool;
    if (run->shared.nresend) {
        /* Inputs the head sent back go again, as bytes. */
        int rc = s_send_inputs (run, run->shared.resend, run->shared.nresend, true);
        run->shared.nresend = 0;
        if (rc)
            return rc;
    }
    size_t done = run->mode == RUN_MAP ? run->received : run->consumed;
    size_t limit = run->count - done > POOL_WINDOW ? done + POOL_WINDOW : run->count;
    bool stalled = false;
    while (run->submitted < limit && !stalled) {
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_SUBMIT);
        proto_msg_set_pool (&msg, pool->pool_id);
        size_t next = run->submitted, bytes = 0;
        while (next < limit && msg.njobs < POOL_SUBMIT_BATCH) {
            const pool_bytes_t *input = &run->inputs[next];
            int admit = pool_shared_admits (&run->shared, input->size, pool->shared_min,
                                            pool->shared_off || !pool->host[0]);
            if (admit == 0) { /* wait for a shared input to come back */
                stalled = true;
                break;
            }
            size_t cost = admit > 0 ? PROTO_SHM_REF_SIZE : input->size;
            if (msg.njobs && bytes + cost > POOL_SUBMIT_BYTES)
                break;
            const uint8_t *ref = NULL;
            if (admit > 0 && pool_shared_add (&run->shared, next, *input, &ref)) {
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
s_run_resubmit (pool_run_t *run)
{
    /* Every input sent and not answered goes again, shared ones by the
       same reference; those waiting to go again as bytes are among them. */
    run->shared.nresend = 0;
    return s_send_inputs (run, NULL, run->submitted, true);
}

/* What the session and the recovery call on the running map. */
static const pool_run_ops_t s_run_ops = { s_run_accept, s_run_resubmit };

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
    rc = s_run_init (&run, pool, RUN_MAP, inputs, count);
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
        rc = s_run_submit (&run);
        if (rc)
            break;
        rc = pool_wait (pool, PROTO_RESULT, NULL, POOL_FOREVER);
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
cleanup:
    s_run_free (&run);
    return rc;
}

/*  Stops the run: later results of this map are dropped by id, and the
    pool may start the next map.  The iterator stays the pool's live one
    (pool.iter, owner) until s_iter_detach. */
static void
s_iter_stop (pool_iter_t *iter)
{
    pool_t *pool = iter->run.pool;
    if (pool && pool->run == &iter->run)
        pool->run = NULL;
    iter->run.pool = NULL;
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
s_imap (pool_t *pool, const pool_bytes_t *inputs, size_t count, pool_iter_t **iter,
        run_mode_t mode)
{
    if (!iter)
        return pool ? pool_fail (pool, POOL_EINVAL, "iter is NULL") : POOL_EINVAL;
    *iter = NULL;
    if (!pool)
        return POOL_EINVAL;
    int rc = s_can_start (pool, inputs, count);
    if (rc)
        return rc;
    pool_iter_t *self = calloc (1, sizeof *self);
    if (!self)
        return pool_fail (pool, POOL_ENOMEM, "out of memory");
    rc = s_run_init (&self->run, pool, mode, inputs, count);
    if (rc) {
        s_run_free (&self->run);
        free (self);
        return pool_fail (pool, rc, "out of memory starting a map of %zu inputs", count);
    }
    self->run.base = pool->next_id;
    pool->next_id += count;
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
    return s_imap (pool, inputs, count, iter, RUN_ORDERED);
}

int
pool_imap_unordered (pool_t *pool, const pool_bytes_t *inputs, size_t count,
                     pool_iter_t **iter)
{
    return s_imap (pool, inputs, count, iter, RUN_UNORDERED);
}

/*  The result of a cancelled input: 0, or POOL_ENOMEM. */
static int
s_result_cancelled (pool_result_t *out, size_t index)
{
    memset (out, 0, sizeof *out);
    out->index = index;
    out->status = POOL_ECANCELED;
    out->error = strdup ("cancelled");
    return out->error ? 0 : POOL_ENOMEM;
}

/*  The next input of a cancelled unordered run that has no result, once
    the results received before the cancel are handed out: true with its
    result in *out, false when out of memory. */
static bool
s_iter_pop_cancelled (pool_run_t *run, size_t index, pool_result_t *out)
{
    if (s_result_cancelled (out, index))
        return false;
    run->seen[index / 64] |= (uint64_t)1 << (index % 64);
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
        if (!run->filled[slot] && run->cancelled)
            return s_iter_pop_cancelled (run, run->consumed, out);
        if (!run->filled[slot])
            return false;
        *out = run->slots[slot];
        memset (&run->slots[slot], 0, sizeof run->slots[slot]);
        run->filled[slot] = false;
    } else {
        if (!run->queued && run->cancelled) {
            while (run->cancel_next < run->count && s_seen (run, run->cancel_next))
                run->cancel_next++;
            return run->cancel_next < run->count
                   && s_iter_pop_cancelled (run, run->cancel_next, out);
        }
        if (!run->queued)
            return false;
        *out = run->slots[run->head];
        memset (&run->slots[run->head], 0, sizeof run->slots[run->head]);
        run->head = (run->head + 1) % run->cap;
        run->queued--;
    }
    run->consumed++;
    return true;
}

int
pool_iter_next (pool_iter_t *iter, pool_result_t *result)
{
    if (!iter || !result)
        return POOL_EINVAL;
    memset (result, 0, sizeof *result);
    s_result_free (&iter->current);
    while (true) {
        if (s_iter_pop (iter, &iter->current)) {
            *result = iter->current;
            return 1;
        }
        if (iter->run.consumed >= iter->run.count) {
            s_iter_detach (iter);
            return 0;
        }
        if (iter->rc)
            return iter->rc;
        pool_t *pool = iter->run.pool;
        int rc = pool ? s_run_submit (&iter->run) : POOL_ECLOSED;
        if (rc == 0)
            rc = pool_wait (pool, PROTO_RESULT, NULL, POOL_FOREVER);
        if (rc) {
            iter->rc = rc;
            s_iter_detach (iter);
            return rc;
        }
    }
}

void
pool_iter_destroy (pool_iter_t **iter)
{
    if (!iter || !*iter)
        return;
    pool_iter_t *self = *iter;
    s_iter_detach (self);
    s_result_free (&self->current);
    s_run_free (&self->run);
    free (self);
    *iter = NULL;
}

/*  Cancels the iterator here: every input without a result gets
    POOL_ECANCELED as pool_iter_next reaches it, results of the run that
    arrive later are dropped, nothing more is sent, and the pool is free
    for the next map at once.  Its CANCEL to the head is the caller's. */
static void
s_iter_cancel_here (pool_iter_t *iter)
{
    iter->run.cancelled = true;
    s_iter_stop (iter);
}

int
pool_iter_cancel (pool_iter_t *iter)
{
    if (!iter)
        return POOL_EINVAL;
    pool_t *pool = iter->owner; /* NULL once it let go of its pool */
    if (iter->run.cancelled)
        return pool ? pool_fail (pool, POOL_EINVAL, "this iterator was cancelled already")
                    : POOL_EINVAL;
    bool running = iter->run.pool != NULL;
    s_iter_cancel_here (iter);
    /* A run that finished (or failed) has nothing at the head to stop. */
    if (!running || !pool || pool->broken)
        return 0;
    return pool_cancel_send (pool, iter->run.base, iter->run.base + iter->run.count);
}

int
pool_cancel_all (pool_t *pool)
{
    if (!pool)
        return POOL_EINVAL;
    if (pool->iter && !pool->iter->run.cancelled && pool->iter->run.pool)
        s_iter_cancel_here (pool->iter);
    if (pool->broken)
        return 0;
    return pool_cancel_send (pool, 0, pool->next_id);
}
