/*  head/head.h - the head's shared state: peers, pools, jobs.

    pool-head is one event loop (head/server.c) around one ROUTER socket.
    This header holds the data model every head file works on; there is no
    other thread, so nothing here is locked.

    - A peer is one DEALER connection that said HELLO: a client pool, a
      node, a worker or a status query.  Peers are found by routing id,
      workers and nodes also by their id string.
    - A pool belongs to one client peer; it has a FIFO of pending jobs and
      the updates sent so far.
    - A job is in exactly one place: the pool's pending FIFO, or the
      in-flight FIFO of the worker it was sent to.  The intrusive `next`
      link serves both, so moving a job never allocates.
*/
#ifndef DCPOOL_HEAD_H
#define DCPOOL_HEAD_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "msg.h"
#include "keys.h"

typedef struct head_store head_store_t;
typedef struct head_pool head_pool_t;
typedef struct head_peer head_peer_t;

/*  Inputs up to this size live inside the job: no frame, no allocation of
    their own (the common case of small parameter sets). */
#define HEAD_JOB_INLINE 120

typedef struct head_job {
    uint64_t id;
    uint32_t attempt;
    uint32_t inline_size; /* bytes in inline_data when !input */
    uint64_t useq;        /* updates the job must see applied */
    zframe_t *input;      /* a bigger input, or NULL */
    char *cause;          /* why the last attempt failed, or NULL */
    int cause_code;       /* POOL_ECRASHED / POOL_ETIMEDOUT */
    bool shared;          /* the input is a proto_shm_ref_t */
    bool cancelled;       /* its client cancelled it while a worker held it:
                             its result is dropped, its worker's death not
                             charged to it (head/cancel.c) */
    int64_t sent_us;      /* zclock_usecs when sent to its worker */
    struct head_job *next;
    uint8_t inline_data[HEAD_JOB_INLINE];
} head_job_t;

typedef struct {
    head_job_t *first;
    head_job_t *last;
    size_t count;
} head_queue_t;

/*  Workers of one kind, linked through the workers themselves: the head's
    idle and parked workers, and each pool's own (loading, ready or
    releasing), so that what concerns one pool costs work in proportion
    to that pool, not to the cluster.  A worker is in at most one list. */
typedef struct {
    head_peer_t *first;
    size_t count;
} head_worker_list_t;

typedef enum {
    WORKER_IDLE,      /* connected, no pool */
    WORKER_LOADING,   /* ASSIGN sent, waiting for WORKER_READY */
    WORKER_READY,     /* runs the pool's jobs */
    WORKER_RELEASING, /* gets no new jobs; POOL_CLOSE once drained */
    WORKER_CLOSED,    /* POOL_CLOSE sent; it is exiting */
    WORKER_PARKED     /* came back after a head restart with a pool
                         loaded: waits for that pool's client to open it
                         again (see head_sched_worker_park) */
} head_worker_state_t;

/*  What a parked worker has loaded: the pool (id and head epoch) it was
    assigned, its library and init data, and the updates it applied. */
typedef struct {
    uint64_t pool_id;
    uint64_t epoch;
    uint8_t lib_hash[PROTO_HASH_SIZE];
    uint8_t init_hash[PROTO_HASH_SIZE];
    uint64_t useq;
    int64_t since; /* zclock_mono when it parked */
} head_parked_t;

struct head_peer {
    char key[24];  /* hex of the routing id */
    zframe_t *rid; /* routing id */
    proto_role_t role;
    char id[PROTO_ID_MAX + 1];
    char node[PROTO_ID_MAX + 1]; /* worker: its node */
    char host[PROTO_ID_MAX + 1]; /* host key, or "" */
    char *text;                  /* node: hostname; worker: cpu/GPU */
    uint64_t pid;                /* worker: its process id, or 0 */
    int64_t last_seen;           /* zclock_mono of the last message */
    /* node */
    int worker_slots;
    /* worker */
    uint64_t gpu_memory; /* bytes; 0 on CPU */
    uint64_t gpu_used;   /* bytes in use, as its node last
                            said; UINT64_MAX: unknown */
    bool has_gpu;
    bool no_shm; /* failed to read a shared input */
    head_worker_state_t state;
    head_pool_t *pool;
    head_queue_t inflight;
    uint64_t useq_sent;       /* updates of its pool it was sent */
    size_t prefetch;          /* jobs it may hold (adaptive) */
    uint64_t inflight_bytes;  /* input bytes of its in-flight jobs */
    double rate;              /* jobs/s it answers (moving average) */
    int64_t last_result;      /* zclock_usecs of its last RESULT */
    double run_us;            /* a job's run time there (average), or 0 */
    double rtt_us;            /* round trip to it, without queueing, or -1 */
    int64_t closed_at;        /* zclock_mono of POOL_CLOSE, or 0 */
    bool kill_asked;          /* WORKER_KILL sent to its node */
    bool moving;              /* released by a rebalance for a pool that needs it:
                                 counted in head_t.moving */
    head_parked_t parked;     /* when state is WORKER_PARKED */
    head_worker_list_t *list; /* the one it is in (scheduler.c), or NULL */
    head_peer_t *list_prev;
    head_peer_t *list_next;
    uint64_t jobs_done;
    /* client */
    zlist_t *pools;       /* head_pool_t *, not owned */
    bool vouching;        /* a client's liveness link: its
                             HELLO named the client in node */
    const char *lost_why; /* watch.c: why it is being dropped */
};

/*  A worker process that left a pool (closed, released, died): its last
    lines of output come through its node and may arrive after its last
    RESULT and even after its connection is gone; they still go to the
    pool (head/output.c) for HEAD_DEPARTED_MS. */
#define HEAD_POOL_DEPARTED 64
#define HEAD_DEPARTED_MS 10000
typedef struct {
    char id[PROTO_ID_MAX + 1];
    uint64_t pid;
    int64_t at; /* zclock_mono when it left; 0: unused */
} head_departed_t;

struct head_pool {
    uint64_t id;
    head_peer_t *client;
    char name[PROTO_ID_MAX + 1];
    uint8_t lib_hash[PROTO_HASH_SIZE];
    uint8_t init_hash[PROTO_HASH_SIZE];
    uint32_t max_attempts;
    uint64_t job_timeout_ms;
    uint64_t cancel_grace_ms; /* a cancelled run this long, then killed */
    uint32_t min_workers;
    uint64_t min_gpu_memory; /* bytes */
    head_queue_t pending;
    head_worker_list_t members; /* its loading, ready, releasing workers:
                                   members.count is how many it has */
    size_t running;             /* jobs in workers' in-flight */
    uint64_t useq;              /* updates so far */
    zlist_t *updates;           /* zframe_t *, seq = position + 1 */
    int releasing;              /* of those, released by a rebalance */
    int ready;
    int init_failures;
    uint64_t crashed_update; /* update seq that last killed a worker */
    uint32_t update_crashes; /* workers it killed in a row */
    uint32_t init_crashes;   /* workers that died in its init
                                since one last became ready */
    bool served;             /* its client is past pool_open */
    bool forward_output;     /* its workers' output goes to its client */
    uint64_t submitted;
    uint64_t done;
    bool failed;
    /* Opened again after a head restart: the pool its client had (id and
       head epoch), whose parked workers it takes back; 0 otherwise. */
    uint64_t previous_id;
    uint64_t previous_epoch;
    /* The last worker processes that left it (a ring). */
    head_departed_t departed[HEAD_POOL_DEPARTED];
    unsigned departed_next;
};

typedef struct {
    int port;
    char bind[128];
    bool insecure;
    int heartbeat_ms;
    int liveness;
    int prefetch;         /* most jobs a worker holds; adaptive below it */
    uint64_t max_message; /* bytes */
    size_t max_frames;    /* frames in one message */
    size_t max_pools_per_client;
    size_t max_pending_per_pool;
    bool verbose;
} head_config_t;

typedef struct {
    head_config_t config;
    proto_keys_t keys;
    zsock_t *router;
    zsock_t *zap; /* NULL when insecure */
    zloop_t *loop;
    head_store_t *store;
    zhashx_t *peers;           /* routing-id hex -> head_peer_t (owns) */
    zhashx_t *workers;         /* worker id -> head_peer_t */
    zhashx_t *nodes;           /* node id -> head_peer_t */
    zhashx_t *clients;         /* client id -> head_peer_t (main links) */
    zsock_t *watch;            /* ROUTER's monitor (watch.c), or NULL */
    int watch_timers;          /* probes pending after a disconnect */
    int64_t last_tick;         /* zclock_mono of the last heartbeat tick */
    uint64_t epoch;            /* random, this process's: WELCOME nums [2] */
    zlistx_t *pools;           /* head_pool_t (owns) */
    head_worker_list_t idle;   /* workers with no pool */
    head_worker_list_t parked; /* workers waiting for their pool */
    int moving;                /* workers released by a rebalance, not gone yet */
    uint64_t next_pool_id;     /* fallback when Redis is away */
    bool stopping;
} head_t;

/* Sending (head/send.c). */
/* Sends msg to peer; the message's frames are gone afterwards. */
int head_send (head_t *head, head_peer_t *peer, proto_msg_t *msg);
/* Sends an ERROR {pool, code, text} to peer. */
void head_send_error (head_t *head, head_peer_t *peer, uint64_t pool, int code,
                      const char *format, ...) __attribute__ ((format (printf, 5, 6)));
/* Sends an ERROR to a connection that may not be a peer (no HELLO yet). */
void head_send_error_to (head_t *head, zframe_t *rid, uint64_t pool, int code,
                         const char *text);

/* Job queues (head/queue.c). */
void head_queue_push (head_queue_t *q, head_job_t *job);
void head_queue_push_front (head_queue_t *q, head_job_t *job);
head_job_t *head_queue_pop (head_queue_t *q);
/* A zeroed job (recycled when one was dropped before), or NULL. */
head_job_t *head_job_new (void);
/* Frees the recycled jobs: at exit, for a clean valgrind report. */
void head_job_cache_free (void);
void head_job_destroy (head_job_t **job);
void head_queue_purge (head_queue_t *q);
/*  Takes the job (id, attempt) out of q, wherever it is, or NULL.  Jobs
    are answered in the order sent, so it is nearly always the first. */
head_job_t *head_queue_take (head_queue_t *q, uint64_t id, uint32_t attempt);
/*  Moves the jobs of q that match (in order) to the end of out: how many. */
size_t head_queue_extract (head_queue_t *q, bool (*match) (const head_job_t *, void *),
                           void *arg, head_queue_t *out);
/* Moves every job of front, in order, before q's first; front is emptied. */
void head_queue_splice_front (head_queue_t *q, head_queue_t *front);

#endif
