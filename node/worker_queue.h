/*  node/worker_queue.h - the updates and jobs a worker holds, in arrival
    order.

    The head may send an UPDATE between two JOB messages: the jobs sent
    after it must see it applied, so updates and jobs wait in one FIFO and
    run in the order they arrived.  One exception: a job run again (attempt
    above 0: the worker or node running it died) jumps the jobs queued
    here, though not the updates, nor earlier such jobs.  Its client has
    waited for it already; it would otherwise wait behind a whole window
    of another worker's jobs.  The jobs of one JOB message share it:
    their inputs are read in place (no copy, no allocation per job) and
    the message goes when the last of them has run.
*/
#ifndef DCPOOL_NODE_WORKER_QUEUE_H
#define DCPOOL_NODE_WORKER_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

typedef enum { WORKER_ACTION_UPDATE, WORKER_ACTION_JOB } worker_action_kind_t;

typedef struct worker_batch worker_batch_t;

typedef struct worker_action {
    struct worker_action *next;
    worker_action_kind_t kind;
    uint64_t seq;          /* UPDATE: its seq (0: none given); JOB: useq */
    uint64_t id;           /* JOB */
    uint32_t attempt;      /* JOB */
    bool shared;           /* JOB: data is a proto_shm_ref_t of the input */
    bool direct;           /* JOB: ... of an input at the client's data
                              endpoint (proto/direct.h) */
    zframe_t *frame;       /* UPDATE: its bytes; owned */
    worker_batch_t *batch; /* JOB: the message its input lives in */
    const void *data;      /* JOB: its input, inside batch */
    size_t size;
    zmsg_t *tail;       /* JOB: an input kept in pieces (proto/msg.h):
                           data is its first piece's bytes, these the
                           rest, size the whole input's; or NULL */
    int64_t arrived_us; /* JOB: zclock_usecs when it was read */
} worker_action_t;

typedef struct worker_queue worker_queue_t;

/*  An empty queue, or NULL when out of memory. */
worker_queue_t *worker_queue_new (void);
/*  Drops what is queued and frees the queue; nulls *self. */
void worker_queue_destroy (worker_queue_t **self);

/*  Queues the jobs of a JOB message: they take the message's contents
    (msg is left empty, as after proto_msg_init).  0, or -1 when out of
    memory (msg untouched). */
int worker_queue_push_jobs (worker_queue_t *self, proto_msg_t *msg);
/*  Queues an UPDATE: it takes the message's frame and seq.  0, or -1 when
    out of memory or when the message has no frame. */
int worker_queue_push_update (worker_queue_t *self, proto_msg_t *msg);

/*  The oldest action, now the caller's (worker_action_destroy), or NULL
    when the queue is empty. */
worker_action_t *worker_queue_pop (worker_queue_t *self);
/*  Frees an action popped from the queue (a job's message goes with the
    last of its jobs); nulls *action. */
void worker_action_destroy (worker_action_t **action);

/*  True when nothing is queued. */
bool worker_queue_empty (const worker_queue_t *self);
/*  How many jobs (not updates) are queued. */
size_t worker_queue_jobs (const worker_queue_t *self);
/*  Takes the queued jobs with ids in [from, to) out of the queue (updates
    stay): they are the caller's, chained through next in queue order (each
    to worker_action_destroy), or NULL when none. */
worker_action_t *worker_queue_take_range (worker_queue_t *self, uint64_t from,
                                          uint64_t to);
/*  Drops every queued job and update. */
void worker_queue_clear (worker_queue_t *self);

#endif
