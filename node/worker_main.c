/*  node/worker_main.c - the pool-worker program: one worker process.

    start_node spawns one pool-worker per GPU (or CPU slot).  It connects
    straight to the head, says HELLO, and waits to be given a pool (ASSIGN).
    It then fetches the pool's library and init blocks it does not have in
    DATA/cache, loads the library (worker_host), answers WORKER_READY, and
    runs the pool's jobs one at a time and its updates, in the order they
    arrived, until the head closes the pool (POOL_CLOSE) or the node stops
    it (SIGTERM).  It serves one pool in its life: the node starts a fresh
    process for the next, so nothing of one pool's code (GPU state above
    all) leaks into the next.

    Exit status, read by start_node:
      0  POOL_CLOSE or SIGTERM: a clean end;
      1  the pool could not be loaded (WORKER_READY said why), a bad command
         line, or an internal failure;
      2  the head went silent, or forgot us, while this worker was loading
         a pool: a fresh process is the simplest correct way to start again
         (a worker with its pool loaded rejoins instead: see s_rejoin);
      3  the handshake was refused (wrong password): the node backs off.

    One thread, one socket: everything runs on the main thread, user code
    included.  A job that runs longer than the head's liveness blocks this
    worker's heartbeats (see worker_run.h).

    The pieces, each in its own file: the command line (worker_args),
    SIGTERM (worker_signals), the link to the head (worker_link), the pool
    and its loading (worker_load), the updates and jobs in arrival order
    (worker_queue), running them (worker_run), their results batched
    (worker_results), and blocks asked from inside user code
    (worker_blocks).  This file ties them together: the messages from the
    head, and the main loop with its states (worker_load.h: IDLE, LOADING,
    READY) and its ending.
*/
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap.h"
#include "pool.h"
#include "views.h"
#include "worker_args.h"
#include "worker_blocks.h"
#include "worker_held.h"
#include "worker_ctx.h"
#include "worker_link.h"
#include "worker_load.h"
#include "worker_queue.h"
#include "worker_results.h"
#include "worker_run.h"
#include "worker_signals.h"

#define DRAIN_MAX 256 /* messages read per loop turn */

enum { EXIT_CLEAN = 0, EXIT_FAILED = 1, EXIT_HEAD_LOST = 2, EXIT_AUTH = 3 };

typedef struct {
    worker_args_t args;
    struct pool_worker_ctx ctx;
    node_scoreboard_t *board; /* shared with the node, or NULL */
    worker_link_t *link;
    worker_load_t *load;
    worker_queue_t *queue;
    worker_results_t *results;
    worker_run_t *run;
    worker_blocks_t *blocks;
    worker_held_t *held; /* the block cache's changes, for the head */
    bool closing;        /* POOL_CLOSE received */
    bool rejoin;         /* the head forgot us: connect again, keeping the pool */
    bool forgotten;      /* the head forgot us, idle: connect again, say HELLO */
    bool done;           /* the worker is ending, with exit_code */
    int exit_code;       /* the first reason given wins */
    int64_t last_drain;  /* zclock_mono of the last look at the socket */
    /* s_clock_after_job's state */
    int64_t clock_us;     /* its last precise reading (zclock_usecs), or 0 */
    int64_t clock_coarse; /* the coarse clock then, ms, or -1 */
    int clock_skipped;    /* jobs since, that read only the coarse one */
    bool clock_short;     /* the jobs before that reading were short */
} worker_t;

/*  Jobs shorter than this may share a precise clock reading, up to
    CLOCK_SKIP_MAX of them: a reading at least every 640 us, so the 1 ms
    look at the socket (s_run) keeps its pace. */
#define CLOCK_SHORT_US 20
#define CLOCK_SKIP_MAX 32

/* ------------------------------------------------------------------------
    Ending, connecting */

/*  The worker ends with exit_code, unless it was already ending. */
static void
s_finish (worker_t *self, int exit_code)
{
    if (!self->done) {
        self->done = true;
        self->exit_code = exit_code;
    }
}

/*  Sends what results are batched: a failed send ends the worker. */
static void
s_flush (worker_t *self)
{
    /* What the cache took in goes first: once a client has a job's
       result, the head knows where that job's blocks are. */
    if (worker_held_report (self->held, worker_queue_jobs (self->queue) == 0)
        || worker_results_flush (self->results, worker_load_pool (self->load)))
        s_finish (self, EXIT_FAILED);
}

/*  Connects (with a pool loaded, asking to rejoin it).  0 when connected;
    -1 when the worker must end (s_finish was called): the handshake was
    refused (EXIT_AUTH), a DENIED or a bad address (EXIT_FAILED), or
    SIGTERM came first (EXIT_CLEAN). */
static int
s_connect (worker_t *self)
{
    worker_rejoin_t rejoin;
    bool loaded = worker_load_rejoin (self->load, &rejoin) == 0;
    int rc = worker_link_connect (self->link, loaded ? &rejoin : NULL);
    if (rc == 0) {
        /* A head that forgot us (or a new one) knows none of our blocks:
           they go again with the next report (head/locality.h). */
        worker_ctx_replay_blocks (&self->ctx);
        return 0;
    }
    s_finish (self, rc == WORKER_LINK_EAUTH      ? EXIT_AUTH
                    : rc == WORKER_LINK_ESTOPPED ? EXIT_CLEAN
                                                 : EXIT_FAILED);
    return -1;
}

/* ------------------------------------------------------------------------
    Messages from the head */

/*  An ERROR: the head forgot us, or (while loading) its answer to a
    BLOCK_GET. */
static void
s_on_error (worker_t *self, proto_msg_t *msg)
{
    const char *text = msg->text ? msg->text : "";
    worker_state_t state = worker_load_state (self->load);
    if (msg->code == PROTO_CODE_UNKNOWN_PEER) {
        /* The head restarted or declared us dead.  With a pool loaded we
           rejoin it; loading, we make way for a fresh process; idle, we
           say HELLO again on a new connection.  (Waiting for silence
           instead never ended: the head answers each of our heartbeats
           with this error, and bytes still arriving keep a link alive.) */
        if (state == WORKER_READY)
            self->rejoin = true; /* see s_rejoin */
        else if (state != WORKER_IDLE) {
            zsys_warning ("worker %s: the head no longer knows us (%s); exiting so "
                          "the node starts a fresh worker",
                          self->args.id, text);
            s_finish (self, EXIT_HEAD_LOST);
        } else
            self->forgotten = true;
        return;
    }
    if (worker_load_fetching (self->load)) {
        worker_load_fetch_failed (self->load, text);
        s_finish (self, EXIT_FAILED);
        return;
    }
    zsys_warning ("worker %s: head says: %s (%" PRId64 ")", self->args.id, text,
                  msg->code);
}

static void
s_on_job (worker_t *self, proto_msg_t *msg)
{
    if (!worker_load_serves (self->load, msg->pool)) {
        char reason[160];
        snprintf (reason, sizeof reason, "worker %s does not serve pool %" PRIu64,
                  self->args.id, msg->pool);
        zsys_warning ("%s: JOB refused", reason);
        if (worker_results_refuse (self->results, msg, reason))
            s_finish (self, EXIT_FAILED);
        return;
    }
    if (worker_queue_push_jobs (self->queue, msg)) {
        zsys_error ("worker %s: out of memory queueing jobs", self->args.id);
        s_finish (self, EXIT_FAILED);
    }
}

/*  CANCEL: the queued jobs of the range are not run; each is answered
    ECANCELED (the head then frees its window slot).  A job of the range
    running now is the node's concern (scoreboard.h). */
static void
s_on_cancel (worker_t *self, proto_msg_t *msg)
{
    proto_cancel_t cancel;
    char reason[128];
    if (proto_cancel_get (msg, &cancel, reason, sizeof reason) != PROTO_OK) {
        zsys_warning ("worker %s: %s", self->args.id, reason);
        return;
    }
    if (!worker_load_serves (self->load, cancel.pool))
        return; /* nothing of that pool is queued here */
    if (worker_run_cancel (self->run, cancel.from, cancel.to))
        s_finish (self, EXIT_FAILED);
}

static void
s_on_update (worker_t *self, proto_msg_t *msg)
{
    if (!worker_load_serves (self->load, msg->pool)) {
        zsys_warning ("worker %s: UPDATE for pool %" PRIu64 " it does not serve ignored",
                      self->args.id, msg->pool);
        return;
    }
    if (worker_queue_push_update (self->queue, msg)) {
        zsys_error ("worker %s: out of memory queueing an update", self->args.id);
        s_finish (self, EXIT_FAILED);
    }
}

/*  Handles one message; also what worker_blocks does with a message that
    arrives while user code waits for a block. */
static void
s_on_message (void *arg, proto_msg_t *msg)
{
    worker_t *self = arg;
    switch (msg->type) {
    case PROTO_HEARTBEAT:
    case PROTO_WELCOME:
        break;
    case PROTO_ASSIGN:
        if (worker_load_assign (self->load, msg))
            s_finish (self, EXIT_FAILED);
        break;
    case PROTO_BLOCK:
        if (worker_load_block (self->load, msg))
            s_finish (self, EXIT_FAILED);
        break;
    case PROTO_JOB:
        s_on_job (self, msg);
        break;
    case PROTO_UPDATE:
        s_on_update (self, msg);
        break;
    case PROTO_CANCEL:
        s_on_cancel (self, msg);
        break;
    case PROTO_POOL_CLOSE:
        if (worker_load_state (self->load) != WORKER_IDLE
            && !worker_load_serves (self->load, msg->pool)) {
            zsys_warning ("worker %s: POOL_CLOSE for pool %" PRIu64 " ignored",
                          self->args.id, msg->pool);
            break;
        }
        self->closing = true;
        break;
    case PROTO_ERROR:
        s_on_error (self, msg);
        break;
    case PROTO_DENIED:
        zsys_error ("worker %s: the head refused us: %s", self->args.id,
                    msg->text ? msg->text : "no reason given");
        s_finish (self, EXIT_FAILED);
        break;
    default:
        zsys_warning ("worker %s: unexpected %s ignored", self->args.id,
                      proto_type_name (msg->type));
        break;
    }
}

/*  A send failed while user code waited for a block. */
static void
s_on_link_failed (void *arg)
{
    s_finish ((worker_t *)arg, EXIT_FAILED);
}

/*  Reads what the socket holds, without waiting, handling each message in
    arrival order (jobs and updates go to the queue).  readable: the wait
    just said a message is there, so the first look (a system call or two
    in libzmq) is skipped. */
static void
s_drain (worker_t *self, bool readable)
{
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    for (int n = 0; n < DRAIN_MAX && !self->done; n++) {
        if (!(n == 0 && readable) && !worker_link_readable (self->link))
            break;
        char reason[256] = "";
        int rc = worker_link_recv (self->link, &msg, reason, sizeof reason);
        if (rc == PROTO_EIO)
            break; /* interrupted: the loop looks again */
        if (rc != PROTO_OK) {
            zsys_warning ("worker %s: bad message from the head: %s", self->args.id,
                          reason);
            if (worker_link_send_error (self->link, PROTO_CODE_EPROTO, reason))
                s_finish (self, EXIT_FAILED);
        } else
            s_on_message (self, &msg);
        proto_msg_reset (&msg);
    }
    proto_msg_reset (&msg);
}

/* ------------------------------------------------------------------------
    Main loop */

/*  How long the head may stay silent.  A big block arriving holds the
    head's heartbeats back behind it on the one connection, so a worker
    fetching blocks waits longer before it gives up. */
static int64_t
s_silence_limit (worker_t *self)
{
    int64_t limit = (int64_t)worker_link_heartbeat_ms (self->link)
                    * worker_link_liveness (self->link);
    if (worker_load_fetching (self->load) && limit < WORKER_LINK_FETCH_SILENCE_MS)
        limit = WORKER_LINK_FETCH_SILENCE_MS;
    return limit;
}

/*  The link to the head was cut (silence) or the head forgot us (it
    declared our node lost): connect again and ask to rejoin the pool we
    have loaded, so a network blip does not cost a model's load.  The head
    requeued what we held when it forgot us, so our queued jobs and unsent
    results are dropped here (a late result would be dropped there by its
    attempt anyway).  A head that cannot take us back (the pool closed, or
    a new head that never knew it) answers POOL_CLOSE and we leave. */
static void
s_rejoin (worker_t *self, const char *why)
{
    self->rejoin = false;
    uint64_t pool = worker_load_pool (self->load);
    zsys_warning ("worker %s: %s; connecting again to rejoin pool %" PRIu64
                  " with its library loaded",
                  self->args.id, why, pool);
    worker_queue_clear (self->queue);
    worker_results_clear (self->results);
    worker_link_disconnect (self->link);
    if (s_connect (self) == 0)
        zsys_info ("worker %s: rejoined pool %" PRIu64, self->args.id, pool);
}

/*  An idle worker's link is gone (silence) or the head forgot it: a new
    connection and HELLO.  0, or s_connect's failure. */
static int
s_reconnect (worker_t *self, const char *why)
{
    zsys_warning ("worker %s: %s; reconnecting", self->args.id, why);
    worker_link_disconnect (self->link);
    return s_connect (self);
}

/* Ends the pool in hand: results out, destroy, BYE. */
static void
s_leave (worker_t *self, const char *why)
{
    s_flush (self);
    zsys_info ("worker %s: %s; leaving", self->args.id, why);
    if (worker_link_send_bare (self->link, PROTO_BYE))
        s_finish (self, EXIT_FAILED);
    /* destroy after the goodbye: a destroy that hangs loses nothing. */
    worker_load_unload (self->load);
    s_finish (self, EXIT_CLEAN);
}

/*  The time (zclock_mono's) after a job.  A precise clock reading costs
    more than a no-op job (37 ns on this project's VM); the coarse clock,
    which moves a tick at a time (1 to 4 ms), costs a quarter of that.
    While jobs are short (under CLOCK_SHORT_US each since the last precise
    reading), the precise clock is read only when the coarse one has moved
    since, or after CLOCK_SKIP_MAX jobs; between, that reading stands,
    never more than a tick old.  Longer jobs read it after each one. */
static int64_t
s_clock_after_job (worker_t *self)
{
    struct timespec ts;
    int64_t coarse = -1;
    if (self->clock_short && clock_gettime (CLOCK_MONOTONIC_COARSE, &ts) == 0) {
        coarse = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        if (coarse == self->clock_coarse && self->clock_skipped < CLOCK_SKIP_MAX) {
            self->clock_skipped++;
            return self->clock_us / 1000;
        }
    }
    int64_t us = zclock_usecs ();
    self->clock_short
        = self->clock_us
          && us - self->clock_us < (int64_t)CLOCK_SHORT_US * (self->clock_skipped + 1);
    if (self->clock_short && coarse < 0
        && clock_gettime (CLOCK_MONOTONIC_COARSE, &ts) == 0)
        coarse = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    self->clock_coarse = coarse;
    self->clock_skipped = 0;
    self->clock_us = us;
    return us / 1000;
}

/*  Runs the next update or job; its results go out when no job is left
    queued or when the batch is due (worker_results.h). */
static void
s_run_next (worker_t *self, int64_t *now)
{
    if (worker_run_next (self->run)) {
        s_finish (self, EXIT_FAILED);
        return;
    }
    if (self->done)
        return; /* ended while user code waited for a block */
    /* The clock after the job (s_clock_after_job): it serves the batch's
       age here and the caller's heartbeat and next turn. */
    int64_t after = s_clock_after_job (self);
    if (after > *now) /* the loop may have read the clock since */
        *now = after;
    size_t queued = worker_queue_jobs (self->queue);
    if (queued == 0 || worker_results_due (self->results, *now, queued))
        s_flush (self);
}

static void
s_run (worker_t *self)
{
    int64_t now = zclock_mono ();
    bool fresh = true;     /* now was read just after the last job */
    bool readable = false; /* the last wait said a message is there */
    while (!self->done) {
        if (*worker_signals_stop ()) {
            s_leave (self, "stopped by signal");
            break;
        }
        /* Looking at the socket costs libzmq two system calls: between
           tiny jobs do it once a millisecond, not once a job, and not
           just before a wait (the wait looks first; only a queue that
           emptied after a long job is drained first, so that silence is
           judged on what the head did say).  Order holds either way: a
           job sent after an update or a POOL_CLOSE arrives behind it, so
           it is not in the queue before they are read. */
        if (!fresh)
            now = zclock_mono ();
        fresh = false;
        if (readable || now - self->last_drain >= 1) {
            s_drain (self, readable);
            self->last_drain = now;
        }
        readable = false;
        if (self->done)
            break;
        if (self->closing) {
            s_leave (self, "pool closed");
            break;
        }
        if (self->rejoin) {
            s_rejoin (self, "the head no longer knows us");
            now = zclock_mono ();
            continue;
        }
        if (self->forgotten) {
            self->forgotten = false;
            if (s_reconnect (self, "the head no longer knows us (its node was lost, or "
                                   "it restarted)"))
                break;
            now = zclock_mono ();
            continue;
        }
        worker_state_t state = worker_load_state (self->load);
        if (state == WORKER_READY && !worker_queue_empty (self->queue)) {
            s_run_next (self, &now);
            fresh = true;
            if (worker_link_heartbeat (self->link, now) < 0)
                s_finish (self, EXIT_FAILED);
            continue; /* look at the socket between actions */
        }
        s_flush (self);
        int beat = worker_link_heartbeat (self->link, now);
        if (beat < 0)
            s_finish (self, EXIT_FAILED);
        if (beat)
            now = zclock_mono ();
        int64_t silence = worker_link_silence (self->link, now);
        /* Bytes still arriving: the head's heartbeats are queued behind a
           big message on its way here. */
        if (silence >= s_silence_limit (self)
            && worker_link_still_receiving (self->link, now))
            continue;
        if (silence >= s_silence_limit (self)) {
            char why[96];
            snprintf (why, sizeof why, "the head has been silent for %" PRId64 " ms",
                      silence);
            if (state == WORKER_READY) {
                s_rejoin (self, why);
                now = zclock_mono ();
                continue;
            }
            if (state != WORKER_IDLE) {
                zsys_error ("worker %s: %s; exiting so the node starts a fresh worker",
                            self->args.id, why);
                s_finish (self, EXIT_HEAD_LOST);
                break;
            }
            if (s_reconnect (self, why))
                break;
            continue;
        }
        int64_t wait = worker_link_heartbeat_in (self->link, now);
        int64_t until_silent = s_silence_limit (self) - silence;
        if (until_silent < wait)
            wait = until_silent;
        if (wait < 1)
            wait = 1;
        readable = worker_link_wait (self->link, (int)wait);
    }
}

/*  Everything after the command line, before the first connection. */
static int
s_prepare (worker_t *self)
{
    const worker_args_t *args = &self->args;
    if (args->scoreboard_fd >= 0) {
        self->board = node_scoreboard_map (args->scoreboard_fd);
        if (!self->board)
            zsys_warning ("worker %s: cannot map the scoreboard: a crash will be "
                          "charged to the oldest job held",
                          args->id);
    }
    char error[512] = "";
    self->link = worker_link_new (args, worker_signals_stop (), error, sizeof error);
    if (!self->link) {
        zsys_error ("worker %s: %s", args->id, error);
        return -1;
    }
    if (worker_ctx_init (&self->ctx, args->id, args->gpu_index, args->gpu_name,
                         args->gpu_memory)) {
        zsys_error ("worker %s: bad worker id or GPU name", args->id);
        return -1;
    }
    worker_ctx_set_board (&self->ctx, self->board);
    if (args->gpu_uuid)
        snprintf (self->ctx.gpu_uuid, sizeof self->ctx.gpu_uuid, "%s", args->gpu_uuid);
    self->load = worker_load_new (args->id, args->data_dir, &self->ctx, self->board,
                                  self->link, error, sizeof error);
    if (!self->load) {
        zsys_error ("worker %s: %s", args->id, error);
        return -1;
    }
    self->queue = worker_queue_new ();
    self->results = worker_results_new (self->link, args->id);
    self->run = worker_run_new (args->id, &self->ctx, self->board, self->load,
                                self->queue, self->results, self->link);
    worker_blocks_events_t events = { self, s_on_message, s_on_link_failed };
    self->blocks = worker_blocks_new (self->link, &self->done, &events);
    self->held = worker_held_new (self->link);
    if (!self->queue || !self->results || !self->run || !self->blocks || !self->held) {
        zsys_error ("worker %s: out of memory", args->id);
        return -1;
    }
    worker_block_io_t io = worker_blocks_io (self->blocks);
    worker_ctx_set_block_io (&self->ctx, &io);
    worker_block_watch_t watch = { self->held, worker_held_changed };
    worker_ctx_set_block_watch (&self->ctx, &watch);
    return 0;
}

/*  The stream our own log lines go to: --log-fd, else stderr. */
static FILE *
s_log_stream (const worker_args_t *args)
{
    FILE *log = args->log_fd >= 0 ? fdopen (args->log_fd, "a") : NULL;
    if (!log)
        return stderr;
    setvbuf (log, NULL, _IOLBF, 0);
    return log;
}

int
main (int argc, char *argv[])
{
    worker_t *self = calloc (1, sizeof *self);
    if (!self) {
        fprintf (stderr, "pool-worker: out of memory\n");
        return EXIT_FAILED;
    }
    int exit_code = EXIT_FAILED;
    int rc = worker_args_parse (&self->args, argc, argv);
    if (rc) {
        if (rc > 0)
            exit_code = EXIT_CLEAN; /* --help */
        goto cleanup;
    }
    if (worker_signals_install ()) {
        fprintf (stderr, "pool-worker: cannot install signal handlers\n");
        goto cleanup;
    }
    /*  Our own log lines go to the node's log straight; stdout and stderr
        belong to the user code (the node forwards them to the client).
        stdout is a pipe: line-buffered, so that each line goes out when
        written, not when a buffer fills or the process ends. */
    FILE *log = s_log_stream (&self->args);
    zsys_set_logstream (log);
    zsys_set_logident ("pool-worker");
    setvbuf (stdout, NULL, _IOLBF, 0);
    if (proto_heap_hold () < 0)
        zsys_warning (
            "worker %s: malloc settings refused: big payloads fault their pages in "
            "again",
            self->args.id);
    if (s_prepare (self))
        goto cleanup;
    if (s_connect (self) == 0)
        s_run (self);
    exit_code = self->exit_code;

cleanup:
    worker_link_destroy (&self->link);
    worker_queue_destroy (&self->queue);
    /* A pool still loaded here (head lost, failure): no destroy; the
       process ends and the node starts a fresh one. */
    worker_load_destroy (&self->load);
    worker_results_destroy (&self->results);
    worker_held_destroy (&self->held);
    worker_run_destroy (&self->run);
    worker_blocks_destroy (&self->blocks);
    worker_ctx_clear_blocks (&self->ctx);
    free (self);
    return exit_code;
}
