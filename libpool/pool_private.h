/*  libpool/pool_private.h - what the files of libpool share, never installed.

    A pool_t is one DEALER link to the head plus the state of at most one
    running map (pool_run_t, in map.c).  The client does work only inside
    calls: every wait goes through pool_session_wait (session.c), which
    heartbeats, watches the head's liveness and hands RESULT batches to the
    running map whatever the call is waiting for.
*/
#ifndef DCPOOL_POOL_PRIVATE_H
#define DCPOOL_POOL_PRIVATE_H

#include "direct_server.h"
#include "pool.h"
#include "proto/link.h"
#include "proto/msg.h"
#include "proto/heartbeat.h"
#include "proto/views.h"
#include "slab.h"

#include <stdbool.h>
#include <stdint.h>

#define POOL_SUBMIT_BATCH 1024        /* jobs in one SUBMIT */
#define POOL_SUBMIT_BYTES (16u << 20) /* input bytes in one SUBMIT */
#define POOL_WINDOW                                                                      \
    32768 /* unfinished jobs per pool: covers tens of ms of                              \
             round trip at a few hundred thousand jobs/s */
/*  A map or iterator of more than POOL_WINDOW inputs may have this many
    unfinished jobs per worker of its pool, up to POOL_WINDOW_MAX: with many
    workers a fixed window leaves each so few jobs that every message
    carries a handful (map.c). */
#define POOL_WINDOW_PER_WORKER 1024
#define POOL_WINDOW_MAX (4 * POOL_WINDOW)
#define POOL_ERROR_MAX 1024 /* bytes of an error detail */
#define POOL_FOREVER INT64_MAX

/*  Something that keeps its pool (a matrix, matrix.c) links itself into
    the pool's list by one of these; pool_close nulls *owner of each, so
    none is left pointing at a freed pool. */
typedef struct pool_owned {
    pool_t **owner;
    struct pool_owned *prev, *next;
} pool_owned_t;

typedef struct pool_run pool_run_t;
typedef struct pool_futures pool_futures_t;

/*  Job ids: a map or iterator takes a range of them from pool_t.next_id,
    each future one from pool_t.next_future, which starts here, so the
    session tells a future's result from a map's by its id alone. */
#define POOL_FUTURE_ID_BASE ((uint64_t)1 << 63)

/*  Where RESULT entries go, as the layers below it see it: map.c sets
    pool_t.run with run_ops, futures.c pool_t.futures with futures_ops;
    the session (RESULT entries) and the recovery (jobs sent again) call
    through them, never into map.c or futures.c. */
typedef struct {
    /* Takes one RESULT entry: its payload is data/size, or *frame when it
       came as a frame of its own (which accept may take).  Drops entries
       that are not of the sink or already received.  0, or POOL_ENOMEM. */
    int (*accept) (void *sink, const proto_job_t *job, const void *data, size_t size,
                   zframe_t **frame);
    /* Sends again every submitted job that has no result (after the pool
       was opened again under a new id).  0 or <0. */
    int (*resubmit) (void *sink);
} pool_sink_ops_t;

/*  What pool_session_wait returns when the head no longer knows us (it
    restarted, or declared us dead): pool_wait opens the pool again and
    waits on.  Never returned to the application. */
#define POOL_EFORGOTTEN -1000

struct pool {
    struct pool *open_prev; /* the process's open pools (pool.c) */
    struct pool *open_next;
    proto_link_t *link;
    zsock_t *sock;    /* borrowed from link */
    uint64_t pool_id; /* the head's id, valid when has_pool */
    bool has_pool;
    uint64_t head_epoch;                /* the head we talk to (WELCOME nums [2]) */
    uint64_t pool_epoch;                /* the head that gave pool_id */
    uint64_t next_id;                   /* first job id of the next map */
    int broken;                         /* sticky POOL_E* once lost/closed, else 0 */
    proto_heartbeat_t beat;             /* heartbeats; silence_ms: reconnect_timeout */
    int64_t connect_ms;                 /* connect_timeout, for request replies */
    pool_run_t *run;                    /* the running map or iterator, or NULL */
    const pool_sink_ops_t *run_ops;     /* its operations, set with run */
    pool_futures_t *futures;            /* futures.c, made at the first submit */
    const pool_sink_ops_t *futures_ops; /* set with futures */
    uint64_t next_future;               /* id of the next future */
    /* options.progress (map.c) */
    pool_progress_fn *progress;
    void *progress_arg;
    int64_t progress_ms;
    /* What it takes to open the pool again on a head that lost it
       (recover.c): the head restarted, or declared us dead. */
    char client_id[PROTO_ID_MAX + 1];
    proto_keys_t keys;
    char server[256];
    char name[PROTO_ID_MAX + 1]; /* library basename */
    uint8_t *lib;                /* library bytes */
    size_t lib_size;
    uint8_t *init; /* init data bytes */
    size_t init_size;
    proto_pool_open_t open; /* POOL_OPEN, less the previous pool */
    zlist_t *updates;       /* zframe_t *: every update sent, in order */
    bool recovering;        /* inside pool_recover */
    int recoveries;         /* times the pool was opened again */
    bool local;             /* holds a reference on the private cluster (local.h) */
    zactor_t *liveness;     /* heartbeats while the program is busy */
    pool_iter_t *iter;      /* the live iterator, or NULL */
    /* Big inputs through shared memory (shared.h) */
    char host[PROTO_ID_MAX + 1]; /* host key; "" shares nothing */
    size_t shared_min;           /* options.shared_memory_min */
    bool shared_off;             /* it failed or did not pay: bytes */
    /* Big inputs and outputs to and from workers elsewhere (direct_server.h) */
    pool_direct_t *direct;       /* the data endpoint, or NULL: through the head */
    size_t direct_min;           /* options.direct_min */
    pool_output_line_fn *output; /* options.output, or NULL: stderr */
    void *output_arg;
    pool_slab_t *slab;   /* the block small result values go into (slab.h) */
    int64_t spin_us;     /* options.spin_wait (session.c) */
    size_t awaited;      /* answers the wait expects (pool_wait_results) */
    int spin_misses;     /* spins in a row that ran out */
    unsigned spin_skips; /* waits that did not spin */
    int64_t answer_us;   /* how long a wait for a few results took lately */
    /* Block lifetimes (blocks.c): this client's references to blocks it
       holds at the head, hex -> count (a pool_put, a block of a live
       matrix); the head is asked to release a block when its count
       reaches 0.  Created at the first. */
    zhashx_t *block_refs;
    pool_owned_t *owned; /* its live matrices (matrix.c) */
    char error[POOL_ERROR_MAX];
};

/*  Records a failure detail on the pool and returns code, so callers can
    write `return pool_fail (self, POOL_EINVAL, "...")`. */
int pool_fail (pool_t *self, int code, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  session.c: sends a message (consumed: its frames go, it is reset);
    0, or POOL_ELOST when the socket refuses it. */
int pool_session_send (pool_t *self, proto_msg_t *msg);

/*  Receives and handles messages from the head until deadline (zclock_mono
    ms, POOL_FOREVER for none), heartbeating meanwhile.  RESULT batches go
    to the running map (or are dropped when none).  Returns 0 when a message
    of type `want` arrived (moved into *reply, which may be NULL) or, for
    want == PROTO_RESULT, when a RESULT batch was handled; POOL_ETIMEOUT at
    the deadline (want 0 pumps until then); POOL_EFORGOTTEN when the head
    no longer knows us (not while recovering); <0 on an ERROR from the
    head, a lost head or a failure to store a result.  Callers above
    recover.c use pool_wait. */
int pool_session_wait (pool_t *self, proto_type_t want, proto_msg_t *reply,
                       int64_t deadline);

/*  recover.c: pool_session_wait that, when the head no longer knows us,
    opens the pool again (pool_recover) and waits on.  Same returns, never
    POOL_EFORGOTTEN. */
int pool_wait (pool_t *self, proto_type_t want, proto_msg_t *reply, int64_t deadline);
/*  recover.c: pool_wait for a RESULT batch while `awaited` answers are
    still to come (a map's jobs in flight, the futures sent): with more
    than SPIN_AWAITED_MAX of them the wait does not spin (session.c). */
int pool_wait_results (pool_t *self, size_t awaited, int64_t deadline);

/*  status.c: asks the head for its counts (STATUS_REQ, this pool's
    ready workers among them) and waits up to connect_timeout: 0 with
    *counts filled (its text NULL), or <0. */
int pool_status (pool_t *self, proto_status_t *counts);

/*  cancel.c: sends CANCEL for the pool's jobs with ids in [from, to): the
    head drops those queued and stops those running; no RESULT need
    follow (the caller gives those inputs POOL_ECANCELED itself).  0, or
    <0 (POOL_ELOST when the socket refuses it). */
int pool_cancel_send (pool_t *pool, uint64_t from, uint64_t to);
/*  output.c: OUTPUT from the head (msg borrowed; its text is put back as
    it was): each line to the pool's output callback, else to stderr as
    "(worker-id) line".  Malformed ones are dropped. */
void pool_output_deliver (pool_t *self, proto_msg_t *msg);

/*  map.c: detaches a live iterator from a pool being closed. */
void pool_iter_orphan (pool_iter_t *iter);

/*  futures.c: true while this thread runs a callback of libpool's
    (a future's, progress): callbacks never nest, whatever their pool. */
extern _Thread_local bool pool_in_callback;

/*  futures.c: sends the futures the window holds back, then runs the
    callbacks that are due (not from inside a callback): the number run,
    or <0 when sending failed.  Every call that waits calls it. */
int pool_futures_pump (pool_t *self);
/*  futures.c: cancels every future of the pool that has no result. */
int pool_futures_cancel_all (pool_t *self);
/*  futures.c: a pool being closed: every future without a result gets
    POOL_ECLOSED, and all of them let go of the pool. */
void pool_futures_orphan (pool_t *self);

/*  library.c: reads the worker library at path into *bytes (malloc'd,
    caller frees) and checks it exports a pool_worker table of our ABI.
    0, or POOL_ELIBRARY / POOL_ENOMEM with the reason in error. */
int pool_library_load (const char *path, uint8_t **bytes, size_t *size, char *error,
                       size_t error_size);

/*  recover.c: POOL_OPEN from what the pool keeps, then POOL_READY: 0 or
    <0.  The first open, and every open again after a head restart. */
int pool_open_remote (pool_t *self, int64_t deadline);

/*  recover.c: the head no longer knows us.  Says HELLO again, opens the
    pool again (new pool id), replays every update, and resubmits the jobs
    of the running map that have no result.  0, or <0 (the pool is then
    broken).  Results are still exactly once: the running map drops ids it
    already has. */
int pool_recover (pool_t *self);

/*  liveness.c: a thread that says HELLO on a link of its own naming the
    client, then heartbeats every heartbeat_ms, so the head keeps a client
    whose program is busy between libpool calls and drops one that died. */
zactor_t *pool_liveness_new (const char *server, const proto_keys_t *keys,
                             const char *client_id);

/*  Maps a code from the head (ERROR.code) to a POOL_E* we return. */
int pool_code_from_head (int64_t code);

#endif
