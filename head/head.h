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
      in-flight FIFO of the worker it was sent to.  Consecutive jobs of
      one SUBMIT are one record (head_job_t) in those FIFOs, cut only
      where their fates part.  The intrusive `next` link serves both
      FIFOs, so moving a record never allocates.
*/
#ifndef DCPOOL_HEAD_H
#define DCPOOL_HEAD_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "msg.h"
#include "keys.h"
#include "metrics.h"
#include "relay.h"

typedef struct head_store head_store_t;
typedef struct head_shards head_shards_t;
typedef struct head_pool head_pool_t;
typedef struct head_peer head_peer_t;
typedef struct head_named head_named_t;             /* head/locality.h */
typedef struct head_locality head_locality_t;       /* head/locality.h */
typedef struct head_results_out head_results_out_t; /* head/results_out.h */

/*  Inputs up to this size live inside the job: no frame, no allocation of
    their own (the common case of small parameter sets). */
#define HEAD_JOB_INLINE 120

/*  The packed payload frame of one SUBMIT, kept as it came (no copy per
    job), shared by the records cut from it; freed with the last one. */
typedef struct {
    size_t refs;
    zframe_t *frame;
    const uint8_t *data; /* zframe_data (frame) */
    size_t *off;         /* payload i is data [off [i], off [i + 1]) */
} head_blob_t;

/*  A job record: a run of `count` jobs with consecutive ids from `id`, of
    one SUBMIT, in the same state (attempt, useq, flags, where it is).  A
    map's jobs stay one record from SUBMIT to their worker; a record is cut
    in two (head_job_split) where a worker takes part of it, a job of it is
    charged, answered out of order or cancelled, so the head's work is per
    record, not per job.  Inputs: a record cut from a packed SUBMIT reads
    them in its blob (payloads first .. first + count - 1); any other is
    one job (count 1) with its input inline or in a frame. */
typedef struct head_job {
    uint64_t id;    /* the first of the run */
    uint32_t count; /* jobs in the run, at least 1 */
    uint32_t attempt;
    uint32_t inline_size;  /* bytes in inline_data when !input and !blob */
    uint64_t useq;         /* updates the jobs must see applied */
    zframe_t *input;       /* a bigger input, or NULL */
    zmsg_t *input_tail;    /* its pieces after the first, when it came in
                              pieces (proto_msg_pop_pieces), or NULL */
    head_blob_t *blob;     /* the SUBMIT's packed inputs, or NULL */
    size_t first;          /* the run's first payload in blob */
    char *cause;           /* why the last attempt failed, or NULL */
    int cause_code;        /* POOL_ECRASHED / POOL_ETIMEDOUT */
    bool shared;           /* the inputs are proto_shm_ref_t */
    bool direct;           /* ... sent to its worker on the data plane */
    bool cancelled;        /* its client cancelled it while a worker held it:
                              its result is dropped, its worker's death not
                              charged to it (head/cancel.c) */
    int64_t sent_us;       /* zclock_usecs when sent to its worker */
    head_named_t *named;   /* the blocks its jobs read (its SUBMIT named
                              them: head/locality.h), or NULL */
    int64_t waiting_since; /* zclock_mono when a free worker first left it
                              for a busy one that holds more of them */
    struct head_job *next;
    uint8_t inline_data[HEAD_JOB_INLINE];
} head_job_t;

/*  A FIFO of records; count is the jobs in them (what windows and limits
    count), not the records. */
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
    bool no_shm;    /* failed to read a shared input */
    bool no_direct; /* failed to reach its pool's client's data endpoint */
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
    uint64_t cancel_grace_ms;             /* a cancelled run this long, then killed */
    char data_endpoint[PROTO_ID_MAX + 1]; /* its client's (proto/direct.h),
                                             or "" */
    uint64_t direct_min;
    zframe_t *relay;    /* its client's relay's routing id (data_relay.h), or
                           NULL */
    bool has_relay_key; /* POOL_OPEN gave one: a HELLO must show it */
    uint8_t relay_key[PROTO_RELAY_KEY];
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
    head_pool_stats_t stats; /* the rest of what /metrics counts */
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
    uint64_t block_grace_ms; /* an unheld block is deleted this long after
                                its last holder let go (lifetimes.c) */
    const char *block_store; /* --block-store URLs (shards.h), or NULL; read
                                by head_new only */
    int http_port;           /* GET /metrics, /api/status, /: 0 off (http.c) */
    char http_bind[128];     /* its address; 127.0.0.1 unless given */
    /* Bytes the block store may use; 0: no cap (store_limit.h). */
    uint64_t store_max_memory;
    /* Started again by start_node after it died (--restarted): a store
       already past the cap is not a reason to stay down. */
    bool restarted;
    int locality_wait_ms; /* a job naming blocks waits this long for a
                             worker holding them (locality.c); 0: off */
    bool verbose;
} head_config_t;

typedef struct {
    head_config_t config;
    proto_keys_t keys;
    zsock_t *router;
    zsock_t *zap; /* NULL when insecure */
    zloop_t *loop;
    head_store_t *store;
    head_shards_t *shards;     /* where blocks' bytes live (shards.h) */
    head_locality_t *locality; /* who holds which block (locality.c) */
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
    head_metrics_t metrics;    /* counters for /metrics (metrics.c) */
    struct head_http *http;    /* the HTTP server (http.c), or NULL */
    bool stopping;
    /* The block store's cap (store_limit.h): on the head's Redis, and
       with block servers on each of them (server_limits[i] for
       head_shards_name (shards, i); NULL without servers). */
    struct head_store_limit *store_limit;
    struct head_store_limit **server_limits;
    /* Results gathered for a client over a run of RESULTs (results_out.h),
       or NULL. */
    head_results_out_t *results_out;
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

/* Job records (head/jobs.c). */
/* A zeroed record of one job (recycled when one was dropped before), or
   NULL. */
head_job_t *head_job_new (void);
/* Frees the recycled records: at exit, for a clean valgrind report. */
void head_job_cache_free (void);
void head_job_destroy (head_job_t **job);
/*  A blob of a decoded packed message's payloads (taken out of msg), with
    one reference, or NULL when msg has none or memory is short. */
head_blob_t *head_blob_take (proto_msg_t *msg);
/* Drops a reference; frees the blob with the last. */
void head_blob_unref (head_blob_t **blob);
/*  Cuts job after its first n jobs (0 < n < count): job keeps them, the
    rest comes back as a new record (same state, not queued), or NULL when
    memory is short (job untouched). */
head_job_t *head_job_split (head_job_t *job, uint32_t n);
/* The input of the record's i'th job (i < count); not for a record whose
   input came in pieces (input_tail): send those with
   proto_msg_add_pieces_ref. */
void head_job_input (const head_job_t *job, uint32_t i, const void **data, size_t *size);
/* Input bytes of the whole record. */
uint64_t head_job_bytes (const head_job_t *job);
/*  The blocks a record's jobs read (head/locality.h): one more
    reference (named may be NULL), and one less (freed with the last). */
head_named_t *head_named_ref (head_named_t *named);
void head_named_unref (head_named_t **named);

/* Job queues (head/queue.c). */
void head_queue_push (head_queue_t *q, head_job_t *job);
void head_queue_push_front (head_queue_t *q, head_job_t *job);
/* Takes the first record out of q, or NULL. */
head_job_t *head_queue_pop (head_queue_t *q);
/*  Takes out of q the first record, cut to its first `most` jobs (the rest
    stays first in q); NULL when q is empty or memory is short. */
head_job_t *head_queue_pop_upto (head_queue_t *q, size_t most);
void head_queue_purge (head_queue_t *q);
/*  Takes the job (id, attempt) out of q as a record of its own, wherever
    it is, or NULL (not there, or memory short).  Jobs are answered in the
    order sent, so it is nearly always the first. */
head_job_t *head_queue_take (head_queue_t *q, uint64_t id, uint32_t attempt);
/*  What head_queue_done says of the job it took out. */
typedef struct {
    uint64_t bytes;  /* its input */
    int64_t sent_us; /* when it was sent */
    bool cancelled;
    bool shared;
    bool direct;
} head_done_t;
/*  Removes the job (id, attempt) from q without making a record of it (an
    answered job): 1 and what it was in *done, 0 when it is not there, -1
    when memory is short (a job in the middle of a record needs a cut). */
int head_queue_done (head_queue_t *q, uint64_t id, uint32_t attempt, head_done_t *done);
/*  Makes id start a record in q, if a record of q holds it after its
    first: 0, or -1 when memory is short. */
int head_queue_cut (head_queue_t *q, uint64_t id);
/*  Moves the records of q that match (in order) to the end of out: how
    many jobs. */
size_t head_queue_extract (head_queue_t *q, bool (*match) (const head_job_t *, void *),
                           void *arg, head_queue_t *out);
/* Moves every record of front, in order, before q's first; front is
   emptied. */
void head_queue_splice_front (head_queue_t *q, head_queue_t *front);

/* Metrics (head/metrics.c). */
/*  A pool is closing: its counters go to the closed ring. */
void head_metrics_pool_closed (head_t *head, const head_pool_t *pool);
/*  Writes the Prometheus text exposition (format 0.0.4) of the head's
    state and counters to out: 0, or -1 when writing failed. */
int head_metrics_text (head_t *head, FILE *out);
/*  The store's used_memory in bytes, asked of Redis at most once a
    second (a cached figure in between); -1 when Redis does not say. */
long long head_metrics_store_used (head_t *head);
/*  The pool's recent rate in jobs/s, moved on at most once a second. */
double head_metrics_pool_rate (head_pool_t *pool);
/*  Jobs done since the head started: open pools and closed ones. */
uint64_t head_metrics_done_total (head_t *head);
/*  Adds (now, jobs done) to the throughput history (once a second). */
void head_metrics_sample (head_t *head);

#endif
