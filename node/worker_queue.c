/*  node/worker_queue.c - the updates and jobs a worker holds, in arrival
    order.  See worker_queue.h. */
#include "worker_queue.h"

#include <stdlib.h>

struct worker_batch {
    proto_msg_t msg;
    size_t refs; /* its jobs not yet destroyed */
    worker_action_t actions[];
};

struct worker_queue {
    worker_action_t *head;
    worker_action_t *tail;
    size_t jobs; /* JOB actions queued */
};

worker_queue_t *
worker_queue_new (void)
{
    return calloc (1, sizeof (worker_queue_t));
}

void
worker_queue_destroy (worker_queue_t **self)
{
    if (!*self)
        return;
    worker_queue_clear (*self);
    free (*self);
    *self = NULL;
}

static void
s_push (worker_queue_t *self, worker_action_t *action)
{
    action->next = NULL;
    if (self->tail)
        self->tail->next = action;
    else
        self->head = action;
    self->tail = action;
    if (action->kind == WORKER_ACTION_JOB)
        self->jobs++;
}

/*  Where a job run again goes: after the last update queued (a job must
    see the updates sent before it) and after the jobs run again already
    there, before the other jobs.  The action to queue it after, or NULL
    for the front. */
static worker_action_t *
s_rerun_spot (const worker_queue_t *self)
{
    worker_action_t *after = NULL;
    for (worker_action_t *a = self->head; a; a = a->next)
        if (a->kind == WORKER_ACTION_UPDATE)
            after = a;
    worker_action_t *next = after ? after->next : self->head;
    while (next && next->kind == WORKER_ACTION_JOB && next->attempt > 0) {
        after = next;
        next = next->next;
    }
    return after;
}

static void
s_insert_after (worker_queue_t *self, worker_action_t *after, worker_action_t *action)
{
    action->next = after ? after->next : self->head;
    if (after)
        after->next = action;
    else
        self->head = action;
    if (!action->next)
        self->tail = action;
    self->jobs++;
}

int
worker_queue_push_jobs (worker_queue_t *self, proto_msg_t *msg)
{
    /* The codec checked one payload per job.  The message moves into a
       batch that its jobs share. */
    size_t njobs = msg->njobs;
    int64_t arrived_us = zclock_usecs ();
    /* Not zeroed: every field of each action is set below (a calloc of
       the whole batch cost more than the rest of queueing a job). */
    worker_batch_t *batch = malloc (sizeof *batch + njobs * sizeof (worker_action_t));
    if (!batch)
        return -1;
    batch->msg = *msg;
    proto_msg_init (msg, PROTO_JOB);
    batch->refs = njobs;
    worker_action_t *rerun_after = NULL; /* where the last re-run went */
    bool rerun_seen = false;
    const uint8_t *packed = batch->msg.packed ? zframe_data (batch->msg.packed) : NULL;
    for (size_t i = 0; i < njobs; i++) {
        worker_action_t *action = &batch->actions[i];
        const proto_job_t *job = &batch->msg.jobs[i];
        /* Field by field: a compound literal here zeroed the whole action
           first with a `rep stos`, a third of the cost of queueing a job
           (perf annotate). */
        action->next = NULL;
        action->kind = WORKER_ACTION_JOB;
        action->seq = job->useq;
        action->id = job->id;
        action->attempt = job->attempt;
        action->shared = (job->flags & PROTO_JOB_SHARED) != 0;
        action->direct = (job->flags & PROTO_JOB_DIRECT) != 0;
        action->frame = NULL;
        action->batch = batch;
        action->arrived_us = arrived_us;
        if (packed) {
            proto_msg_packed_payload (&batch->msg, packed, i, &action->data,
                                      &action->size);
            action->tail = NULL;
        } else
            proto_msg_payload_pieces (&batch->msg, i, &action->data, &action->size,
                                      &action->tail);
        if (action->attempt == 0) {
            s_push (self, action);
            continue;
        }
        if (!rerun_seen)
            rerun_after = s_rerun_spot (self);
        rerun_seen = true;
        s_insert_after (self, rerun_after, action);
        rerun_after = action;
    }
    return 0;
}

int
worker_queue_push_update (worker_queue_t *self, proto_msg_t *msg)
{
    worker_action_t *action = calloc (1, sizeof *action);
    zframe_t *frame = proto_msg_pop_frame (msg);
    if (!action || !frame) {
        free (action);
        zframe_destroy (&frame);
        return -1;
    }
    action->kind = WORKER_ACTION_UPDATE;
    action->seq = (msg->present & PROTO_F_SEQ) ? msg->seq : 0;
    action->frame = frame;
    s_push (self, action);
    return 0;
}

worker_action_t *
worker_queue_pop (worker_queue_t *self)
{
    worker_action_t *action = self->head;
    if (!action)
        return NULL;
    self->head = action->next;
    if (!self->head)
        self->tail = NULL;
    if (action->kind == WORKER_ACTION_JOB)
        self->jobs--;
    action->next = NULL;
    return action;
}

void
worker_action_destroy (worker_action_t **action)
{
    if (!*action)
        return;
    worker_batch_t *batch = (*action)->batch;
    if (batch) {
        if (--batch->refs == 0) {
            proto_msg_reset (&batch->msg);
            free (batch);
        }
    } else {
        zframe_destroy (&(*action)->frame);
        free (*action);
    }
    *action = NULL;
}

bool
worker_queue_empty (const worker_queue_t *self)
{
    return self->head == NULL;
}

size_t
worker_queue_jobs (const worker_queue_t *self)
{
    return self->jobs;
}

worker_action_t *
worker_queue_take_range (worker_queue_t *self, uint64_t from, uint64_t to)
{
    worker_action_t *taken = NULL, **taken_tail = &taken;
    worker_action_t *prev = NULL, *action = self->head;
    while (action) {
        worker_action_t *next = action->next;
        if (action->kind == WORKER_ACTION_JOB && action->id >= from && action->id < to) {
            if (prev)
                prev->next = next;
            else
                self->head = next;
            if (self->tail == action)
                self->tail = prev;
            self->jobs--;
            action->next = NULL;
            *taken_tail = action;
            taken_tail = &action->next;
        } else
            prev = action;
        action = next;
    }
    return taken;
}

void
worker_queue_clear (worker_queue_t *self)
{
    while (self->head) {
        worker_action_t *action = worker_queue_pop (self);
        worker_action_destroy (&action);
    }
}
