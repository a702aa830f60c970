/*  node/scoreboard.h - what a worker is running, in memory its node shares.

    A worker batches its results, so when it dies the head cannot tell
    which of the jobs it held was running: the oldest may be finished with
    its result unsent.  Before each run the worker writes the job into one
    shared page (a memfd the node made and passed as fd 3); the node reads
    it when the worker dies and names that job in WORKER_DIED, so only the
    job that crashed (or timed out) is charged an attempt.

    The node writes the other way the ranges of cancelled jobs (pool,
    [from, to)), the last SCOREBOARD_CANCELS its head sent it for this
    worker (a client that cancels futures one by one sends one range
    each; an older range falling off only means a run not told, killed
    after the grace instead).  The worker
    looks at it after entering a job and before running it, the node at
    the job after writing the range, each behind a full fence: either the
    worker sees the range (and answers the job ECANCELED without running
    it) or the node sees the job (and kills the worker if it still runs it
    after the grace).  pool_worker_cancelled reads the same ranges.  The
    ranges are written under a sequence count (odd while being written),
    so a reader never takes half of one range with half of another.
*/
#ifndef DCPOOL_NODE_SCOREBOARD_H
#define DCPOOL_NODE_SCOREBOARD_H

#include <stdbool.h>
#include <stdint.h>

#define SCOREBOARD_CANCELS 16 /* cancelled ranges a worker's page keeps */

typedef struct {
    uint64_t pool;
    uint64_t job_id;
    uint32_t attempt;
    uint32_t running; /* 1 while run () executes; written last */
    uint32_t update;  /* 1: handle_update of update job_id runs;
                         2: the pool is being loaded (dlopen, init) */
    uint32_t reserved;
    /* Written by the node only (node_scoreboard_cancel). */
    uint64_t cancel_seq; /* odd while a range below is being written */
    uint64_t cancels;    /* ranges written so far; the last go round */
    struct {
        uint64_t pool, from, to;
    } cancel[SCOREBOARD_CANCELS];
} node_scoreboard_t;

/* A new shared page: the fd (close-on-exec) and its mapping, or -1. */
int node_scoreboard_create (node_scoreboard_t **board);
/* Maps the page behind fd (in the worker): the mapping, or NULL. */
node_scoreboard_t *node_scoreboard_map (int fd);
/* Marks a job as running (pool, id, attempt) or, with NULL, none. */
void node_scoreboard_enter (node_scoreboard_t *board, uint64_t pool, uint64_t id,
                            uint32_t attempt);
/* Marks update seq of pool as being applied (handle_update runs). */
void node_scoreboard_enter_update (node_scoreboard_t *board, uint64_t pool, uint64_t seq);
/* Marks pool as being loaded: the library's dlopen and init run. */
void node_scoreboard_enter_init (node_scoreboard_t *board, uint64_t pool);
void node_scoreboard_leave (node_scoreboard_t *board);
/* What was running: 1 a job (pool, id, attempt), 2 an update (pool, and
   its seq in id), 3 the pool's init (pool), 0 nothing. */
int node_scoreboard_read (const node_scoreboard_t *board, uint64_t *pool, uint64_t *id,
                          uint32_t *attempt);

/*  The node: jobs of pool with ids in [from, to) are cancelled (in place
    of the oldest range kept).  Then, behind a full fence, what the worker
    runs, as node_scoreboard_read. */
int node_scoreboard_cancel (node_scoreboard_t *board, uint64_t pool, uint64_t from,
                            uint64_t to, uint64_t *running_pool, uint64_t *id,
                            uint32_t *attempt);
/*  The worker: true when the job it entered (node_scoreboard_enter) is in
    a cancelled range.  Looks behind a full fence (see above). */
bool node_scoreboard_cancelled (const node_scoreboard_t *board);

#endif
