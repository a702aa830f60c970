/*  node/worker_run.c - running a worker's next update or job.
    See worker_run.h. */
#include "worker_run.h"
#include "pool.h"
#include "worker_data.h"
#include "shm.h"
#include "views.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

/*  The copy of an input (misaligned, or in pieces) is kept for the next
    job up to this size: the common big input stays in warm pages. */
#define WORKER_ALIGNED_KEEP_MAX ((size_t)256 << 20)

struct worker_run {
    const char *id;            /* borrowed: the worker's */
    pool_worker_ctx_t *ctx;    /* borrowed */
    node_scoreboard_t *board;  /* borrowed, or NULL */
    worker_load_t *load;       /* borrowed */
    worker_queue_t *queue;     /* borrowed */
    worker_results_t *results; /* borrowed */
    worker_link_t *link;       /* borrowed */
    struct pool_output output; /* the current job's, reused */
    void *aligned;             /* 16-byte aligned copy of a misaligned input */
    size_t aligned_cap;
    worker_data_t *data; /* the data plane (proto/direct.h) */
};

worker_run_t *
worker_run_new (const char *id, pool_worker_ctx_t *ctx, node_scoreboard_t *board,
                worker_load_t *load, worker_queue_t *queue, worker_results_t *results,
                worker_link_t *link)
{
    worker_run_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->id = id;
    self->ctx = ctx;
    self->board = board;
    self->load = load;
    self->queue = queue;
    self->results = results;
    self->link = link;
    self->output.sink_fd = -1;
    self->data = worker_data_new (id, worker_link_keys (link), worker_link_server (link));
    if (!self->data)
        worker_run_destroy (&self);
    return self;
}

void
worker_run_destroy (worker_run_t **self)
{
    if (!*self)
        return;
    free ((*self)->aligned);
    worker_data_destroy (&(*self)->data);
    worker_output_free (&(*self)->output);
    free (*self);
    *self = NULL;
}

/*  Applies an update: 0, or -1 when the class refused it (the worker
    leaves) or the link failed. */
static int
s_apply_update (worker_run_t *self, const worker_action_t *action)
{
    uint64_t pool = worker_load_pool (self->load);
    uint64_t applied = worker_load_applied (self->load);
    if (action->seq && action->seq <= applied) {
        zsys_warning ("worker %s: update %" PRIu64 " already applied; skipped", self->id,
                      action->seq);
        return 0;
    }
    if (action->seq && action->seq != applied + 1)
        zsys_warning ("worker %s: update %" PRIu64 " follows %" PRIu64
                      " (updates missing)",
                      self->id, action->seq, applied);
    uint64_t seq = action->seq ? action->seq : applied + 1;
    pool_bytes_t bytes = { zframe_data (action->frame), zframe_size (action->frame) };
    node_scoreboard_enter_update (self->board, pool, seq);
    int rc = worker_host_update (worker_load_host (self->load), bytes, self->ctx);
    node_scoreboard_leave (self->board);
    if (rc == 0) {
        worker_load_set_applied (self->load, seq);
        return 0;
    }
    /* Refused: this worker must run nothing that was sent after the
       update.  It tells the head why (the head counts refusals like
       deaths in handle_update and fails the pool when every attempt
       refused) and leaves; the head requeues what it held, uncharged,
       and the node starts a fresh process. */
    const char *why = worker_ctx_error (self->ctx);
    zsys_error ("worker %s: update %" PRIu64 " refused: %s; leaving", self->id, seq,
                why ? why : "handle_update returned non-zero");
    worker_results_flush (self->results, pool);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_ERROR);
    if (proto_refusal_set (&msg, pool, seq, why ? why : "handle_update returned non-zero")
        != PROTO_OK)
        proto_msg_set_text (&msg, "handle_update refused it (reason too long)");
    worker_link_send (self->link, &msg);
    /* The class returned normally: it gets its destroy.  The update
       stays on the scoreboard: should the ERROR above not reach the
       head before the node's report of this exit, the report still
       counts the update against the pool (as a death in it). */
    worker_load_unload (self->load);
    node_scoreboard_enter_update (self->board, pool, seq);
    return -1;
}

/*  A job's input in the client's memory (proto/shm.h). */
typedef struct {
    proto_shm_ref_t ref;
    int fd;     /* the client's memfd, opened through /proc */
    void *data; /* the input, mapped */
    void *base; /* the mapping, for munmap */
    size_t length;
} shared_input_t;

static void
s_close_shared (shared_input_t *shared)
{
    if (shared->base)
        munmap (shared->base, shared->length);
    if (shared->fd >= 0)
        close (shared->fd);
    shared->base = NULL;
    shared->fd = -1;
}

/*  Opens and maps a shared input: 0; 1 after answering the job
    PROTO_CODE_RESEND (the client then sends the bytes, and the head sends
    this worker no more shared inputs); -1 when that answer failed. */
static int
s_open_shared (worker_run_t *self, const worker_action_t *action, shared_input_t *shared)
{
    int rc = proto_shm_ref_decode (action->data, action->size, &shared->ref)
                 ? -EINVAL
                 : proto_shm_open (&shared->ref, &shared->fd);
    if (rc == 0)
        rc = proto_shm_map (shared->fd, shared->ref.offset, (size_t)shared->ref.size,
                            false, &shared->data, &shared->base, &shared->length);
    if (rc == 0)
        return 0;
    char text[160];
    snprintf (text, sizeof text, "cannot read the input in process %u's memory: %s",
              shared->ref.pid, strerror (-rc));
    zsys_warning ("worker %s: job %" PRIu64 ": %s", self->id, action->id, text);
    s_close_shared (shared);
    proto_job_t job
        = { .id = action->id, .attempt = action->attempt, .status = PROTO_CODE_RESEND };
    return worker_results_add (self->results, worker_load_pool (self->load), &job, text,
                               strlen (text))
               ? -1
               : 1;
}

/*  Fetches an input from the client's data endpoint: 0 with *input; 1
    after answering the job PROTO_CODE_RESEND (the client then sends the
    bytes through the head, if it still wants the result; unless the answer
    is marked PROTO_JOB_DIRECT, with the input's reference, to say the
    client answered but refused, the head sends this worker no more such
    inputs); -1 when that answer failed. */
static int
s_fetch_direct (worker_run_t *self, const worker_action_t *action, pool_bytes_t *input)
{
    uint64_t direct_min;
    const char *endpoint = worker_load_data_endpoint (self->load, &direct_min);
    proto_shm_ref_t ref;
    char why[256];
    const void *data = NULL;
    int rc = -1;
    if (proto_shm_ref_decode (action->data, action->size, &ref))
        snprintf (why, sizeof why, "malformed reference");
    else if (!endpoint[0])
        snprintf (why, sizeof why, "the pool's client named no data endpoint");
    else if ((rc = worker_data_fetch (self->data, endpoint, worker_load_pool (self->load),
                                      ref.ino, ref.size, &data, why, sizeof why))
             == 0) {
        *input = (pool_bytes_t){ data, (size_t)ref.size };
        return 0;
    }
    proto_job_t job
        = { .id = action->id, .attempt = action->attempt, .status = PROTO_CODE_RESEND };
    if (rc == WORKER_DATA_EREFUSED) /* reached: the head keeps the data plane */
        job.flags = PROTO_JOB_DIRECT;
    else
        zsys_warning ("worker %s: job %" PRIu64 ": cannot fetch its input: %s", self->id,
                      action->id, why);
    return worker_results_add (self->results, worker_load_pool (self->load), &job,
                               job.flags ? action->data : why,
                               job.flags ? action->size : strlen (why))
               ? -1
               : 1;
}

/*  Puts a big output at the client's data endpoint when the pool has one:
    true with *ref (the RESULT's payload), false when it goes as bytes
    (too small, no endpoint, or the put failed: logged). */
static bool
s_put_direct (worker_run_t *self, const worker_action_t *action, const void *data,
              size_t size, uint8_t ref[PROTO_SHM_REF_SIZE])
{
    uint64_t direct_min;
    const char *endpoint = worker_load_data_endpoint (self->load, &direct_min);
    if (!endpoint[0] || !direct_min || size < direct_min
        || !worker_data_reachable (self->data, endpoint))
        return false; /* as bytes (an unreachable client was logged once) */
    char why[256];
    if (worker_data_put (self->data, endpoint, worker_load_pool (self->load), action->id,
                         action->attempt, data, size, why, sizeof why)) {
        zsys_warning ("worker %s: job %" PRIu64 ": output goes through the head: %s",
                      self->id, action->id, why);
        return false;
    }
    proto_shm_ref_t out = { .pid = (uint32_t)getpid (), .size = size };
    proto_shm_ref_encode (&out, ref);
    return true;
}

/*  The input as user code sees it: read in place from the JOB message,
    where a packed one may sit at any offset; user code may cast
    input.data to a double *, so it always gets 16-byte aligned bytes
    (copied when they are not).  An input that came in pieces is joined
    into the same buffer, kept from job to job: warm pages, where a fresh
    buffer of tens of MiB would fault in every page.  0, or -1 when out of
    memory. */
static int
s_aligned_input (worker_run_t *self, const worker_action_t *action, pool_bytes_t *input)
{
    *input = (pool_bytes_t){ action->data, action->size };
    if (!action->size || (!((uintptr_t)action->data & 15) && !action->tail))
        return 0;
    if (action->size > self->aligned_cap) {
        free (self->aligned);
        self->aligned = NULL;
        self->aligned_cap = 0;
        if (posix_memalign (&self->aligned, 16, action->size)) {
            self->aligned = NULL;
            zsys_error ("worker %s: out of memory for an input", self->id);
            return -1;
        }
        self->aligned_cap = action->size;
    }
    if (action->tail) /* in pieces: joined here, in warm memory */
        proto_pieces_copy (self->aligned, action->data,
                           action->size - zmsg_content_size (action->tail), action->tail);
    else
        memcpy (self->aligned, action->data, action->size);
    input->data = self->aligned;
    return 0;
}

/*  Arms (ms > 0) or disarms (0) the job timeout.  SIGALRM at its default
    disposition ends the process however the user code is stuck, the node
    reports "signal 14", and the head turns that into a timeout for this
    job (requeue, or POOL_ETIMEDOUT after max_attempts). */
static void
s_alarm (uint64_t ms)
{
    struct itimerval timer = { { 0, 0 }, { 0, 0 } };
    timer.it_value.tv_sec = (time_t)(ms / 1000);
    timer.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    setitimer (ITIMER_REAL, &timer, NULL);
}

/*  Answers a cancelled job that did not run: PROTO_CODE_ECANCELED (the
    head drops it, freeing the job's window slot).  0, or -1 when memory
    or the link failed. */
static int
s_answer_cancelled (worker_run_t *self, uint64_t pool, const worker_action_t *action)
{
    static const char text[] = "cancelled";
    proto_job_t job = { .id = action->id,
                        .attempt = action->attempt,
                        .status = PROTO_CODE_ECANCELED };
    return worker_results_add (self->results, pool, &job, text, sizeof text - 1);
}

int
worker_run_cancel (worker_run_t *self, uint64_t from, uint64_t to)
{
    uint64_t pool = worker_load_pool (self->load);
    worker_action_t *taken = worker_queue_take_range (self->queue, from, to);
    int rc = 0;
    while (taken) {
        worker_action_t *action = taken;
        taken = action->next;
        if (rc == 0)
            rc = s_answer_cancelled (self, pool, action);
        worker_action_destroy (&action);
    }
    return rc;
}

/*  Runs one job and adds its result: 0, or -1 when memory or the link
    failed. */
static int
s_run_job (worker_run_t *self, const worker_action_t *action)
{
    uint64_t pool = worker_load_pool (self->load);
    uint64_t timeout_ms = worker_load_job_timeout_ms (self->load);
    uint64_t applied = worker_load_applied (self->load);
    if (action->seq > applied)
        zsys_warning ("worker %s: job %" PRIu64 " needs update %" PRIu64 ", only %" PRIu64
                      " applied; running it anyway",
                      self->id, action->id, action->seq, applied);
    /* A shared input is mapped from the client's memfd (page aligned).
       Not a compound literal: that zeroed the whole struct with a `rep
       stos` per job, a tenth of a no-op job's time in the worker (perf
       annotate); ref is set only by s_open_shared, and read only when it
       succeeded (fd >= 0). */
    shared_input_t shared;
    shared.fd = -1;
    shared.data = NULL;
    shared.base = NULL;
    shared.length = 0;
    shared.ref.size = 0;
    if (action->shared) {
        int rc = s_open_shared (self, action, &shared);
        if (rc)
            return rc < 0 ? -1 : 0;
    }
    worker_output_reset (&self->output, shared.fd);
    pool_bytes_t input = { shared.data, shared.ref.size };
    if (action->direct) {
        int rc = s_fetch_direct (self, action, &input);
        if (rc)
            return rc < 0 ? -1 : 0;
    } else if (!action->shared && s_aligned_input (self, action, &input))
        return -1;
    node_scoreboard_enter (self->board, pool, action->id, action->attempt);
    if (node_scoreboard_cancelled (self->board)) {
        /* Cancelled before it started (the node wrote the range before
           this worker read the head's CANCEL): not run. */
        node_scoreboard_leave (self->board);
        s_close_shared (&shared);
        return s_answer_cancelled (self, pool, action);
    }
    if (timeout_ms)
        s_alarm (timeout_ms);
    worker_results_busy (self->results);
    int rc = worker_host_run (worker_load_host (self->load), input, &self->output,
                              self->ctx);
    node_scoreboard_leave (self->board);
    if (self->aligned_cap > WORKER_ALIGNED_KEEP_MAX) {
        /* Kept for the next job up to a size; a rare huge input's copy is
           not held for the worker's life. */
        free (self->aligned);
        self->aligned = NULL;
        self->aligned_cap = 0;
    }
    if (timeout_ms)
        s_alarm (0);
    proto_job_t job; /* field by field, as shared above */
    job.id = action->id;
    job.attempt = action->attempt;
    job.status = 0;
    job.useq = 0;
    job.flags = 0;
    const void *data = NULL;
    size_t size = 0;
    char text[64];
    uint8_t ref[PROTO_SHM_REF_SIZE];
    zframe_t *frame = NULL;
    if (rc == 0) {
        if (self->output.set && self->output.size) {
            frame = worker_output_take_frame (&self->output);
            data = frame ? zframe_data (frame) : self->output.data;
            size = self->output.size;
        }
        /* A big output for a client on this host goes into its memfd
           (there already when the library used pool_output_set). */
        if (shared.fd >= 0 && size >= PROTO_SHM_OUTPUT_MIN
            && (self->output.sunk
                || proto_shm_append (shared.fd, data, size, &self->output.sink_offset)
                       == 0)) {
            proto_shm_ref_t out = shared.ref;
            out.offset = self->output.sink_offset;
            out.size = size;
            proto_shm_ref_encode (&out, ref);
            data = ref;
            size = sizeof ref;
            job.flags = PROTO_JOB_SHARED;
        } else if (shared.fd < 0 && size
                   && s_put_direct (self, action, data, size, ref)) {
            /* The client has it: the RESULT names it. */
            data = ref;
            size = sizeof ref;
            job.flags = PROTO_JOB_DIRECT;
        }
    } else {
        job.status = PROTO_CODE_EJOB;
        const char *why = worker_ctx_error (self->ctx);
        if (!why) {
            snprintf (text, sizeof text, "run returned %d", rc);
            why = text;
        }
        data = why;
        size = strlen (why);
    }
    int answered;
    if (frame && job.flags == 0 && job.status == 0)
        answered = worker_results_add_frame (self->results, pool, action->id,
                                             action->attempt, &frame);
    else {
        answered = worker_results_add (self->results, pool, &job, data, size);
        worker_results_arrived (self->results, action->arrived_us);
    }
    /* A big output that went to the client's memfd or data endpoint was
       only read: its frame serves the next one. */
    if (frame && (job.flags & (PROTO_JOB_SHARED | PROTO_JOB_DIRECT)))
        worker_output_keep_spare (&self->output, &frame);
    zframe_destroy (&frame);
    s_close_shared (&shared);
    return answered;
}

int
worker_run_next (worker_run_t *self)
{
    worker_action_t *action = worker_queue_pop (self->queue);
    if (!action)
        return 0;
    int rc = action->kind == WORKER_ACTION_UPDATE ? s_apply_update (self, action)
                                                  : s_run_job (self, action);
    worker_action_destroy (&action);
    return rc;
}
