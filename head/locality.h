/*  head/locality.h - which worker holds which block, and where a job that
    names the blocks it reads goes (DESIGN.md section 14, kitchensink).

    Workers keep the blocks they fetched in a bounded cache of their own
    (node/worker_ctx.c) and report what it takes in and lets go in
    BLOCKS_HELD batches; this file keeps, for each block reported, its
    size and the workers holding it, and forgets a worker's blocks when
    the worker goes.  The cache is per worker process, so the unit of
    locality is the worker (a worker of a node that holds the blocks is
    that node's worker that holds them).

    A SUBMIT may name the blocks its jobs read (proto_submit_blocks_get);
    its records then carry them (head_job_t.named).  Such a record goes
    only to a free worker (nothing in flight: the choice is made when the
    job can start), and a free worker takes, of the first SCAN_MAX records
    of its pool's queue, the one whose blocks it holds the most bytes of
    (ties: the one it holds the most more of than any other worker holds,
    then the oldest), unless a ready worker of the pool holds more of
    them.  Then
    the record waits for that worker, busy now, for at most
    --locality-wait ms (default 50; 0: off, such records are plain ones)
    from when a free worker first left it; after that any free worker may
    take it (no starvation: a record whose wait is over is left only for
    another this worker holds more of, and the queue before it is finite).
    A timer feeds the pools when a wait ends.  Records that name nothing
    go in order and pass the waiting ones; for them the cost is one test
    of `named` on the queue's first record.  Requeueing on failure is the
    scheduler's, unchanged.

    The head also counts the block bytes it served (BLOCK answers): what
    locality saves shows there (--status).
*/
#ifndef DCPOOL_HEAD_LOCALITY_H
#define DCPOOL_HEAD_LOCALITY_H

#include <stdio.h>

#include "head.h"

#define HEAD_LOCALITY_WAIT_MS 50 /* --locality-wait default */

/*  The blocks the jobs of a record read, shared by the records cut from
    one SUBMIT (reference counted). */
struct head_named {
    size_t refs;
    size_t count;
    uint8_t (*hash)[PROTO_HASH_SIZE];
};

/*  A new, empty table, or NULL when memory is short.  wait_over is
    called (from the head's zloop) when a record's wait has ended: it
    feeds the pools again (head_feed_pool), which this file does not call
    itself (feed.c calls it). */
head_locality_t *head_locality_new (void (*wait_over) (head_t *head));
void head_locality_destroy (head_locality_t **self);

/*  BLOCKS_HELD from worker: its cache's changes, applied.  A malformed
    one is logged and dropped. */
void head_locality_report (head_t *head, head_peer_t *worker, proto_msg_t *msg);
/*  The worker is going: it holds nothing any more. */
void head_locality_forget (head_t *head, head_peer_t *worker);

/*  The blocks a SUBMIT names, with one reference, in *named (NULL: it
    names none).  0, or -1 with the reason in why (malformed, or memory
    short). */
int head_locality_named (const proto_msg_t *msg, head_named_t **named, const char **why);

/*  Takes out of the pool's queue (whose first record names blocks) the
    record worker is to run now, as above (idle: nothing in flight or
    batched), cut to at most room jobs.  NULL when none may go to it now
    (then a timer feeds the pools again when the first wait ends). */
head_job_t *head_locality_take (head_t *head, head_peer_t *worker, size_t room,
                                bool idle);

/*  A BLOCK of size bytes went out. */
void head_locality_served (head_t *head, uint64_t size);
/*  Block bytes served since the head started. */
uint64_t head_locality_served_bytes (const head_t *head);
/*  The --status line: the wait, blocks known, bytes served. */
void head_locality_status (const head_t *head, FILE *out);

#endif
