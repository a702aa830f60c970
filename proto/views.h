/*  proto/views.h - typed views of the messages whose numbered slots carry
    meaning: named fields, written and validated here once, so no file
    outside proto/ reads or writes nums [k] for them.

    Each view has a _set, which fills a proto_msg_t of its type (payload
    frames are the caller's), and a _get, which reads a decoded message,
    applies the ranges and defaults, and returns PROTO_OK or
    PROTO_EMALFORMED with the reason.  The wire format is msg.h's.
*/
#ifndef DCPOOL_PROTO_VIEWS_H
#define DCPOOL_PROTO_VIEWS_H

#include <stdbool.h>

#include "msg.h"
#include "relay.h"

/*  POOL_OPEN (client -> head), frames: [library bytes, init bytes]. */
typedef struct {
    char name[PROTO_ID_MAX + 1]; /* library's file name */
    uint8_t lib_hash[PROTO_HASH_SIZE];
    uint8_t init_hash[PROTO_HASH_SIZE];
    uint32_t max_attempts;                /* 1..1000; 3 when out of range */
    uint64_t job_timeout_ms;              /* 0: none */
    uint32_t min_workers;                 /* 0..100000; 1 when out of range */
    uint64_t min_gpu_memory_mb;           /* 0: any worker, CPU included */
    uint64_t previous_pool;               /* opened again after a head restart: */
    uint64_t previous_epoch;              /* the pool and head it had; else 0, 0 */
    uint64_t cancel_grace_ms;             /* a cancelled run this long, then killed;
                                             1000 when absent, at most 3600000 */
    bool forward_output;                  /* workers' output goes to the client;
                                             true when absent */
    char data_endpoint[PROTO_ID_MAX + 1]; /* "tcp://addr:port" the client
                                   serves big payloads on (proto/direct.h),
                                   or "": none */
    uint64_t direct_min;                  /* payloads this big take the data plane; 0 with
                                             no endpoint */
    bool has_relay_key;                   /* the client's relay through the head */
    uint8_t relay_key[PROTO_RELAY_KEY];   /* says HELLO with this (proto/relay.h) */
} proto_pool_open_t;

int proto_pool_open_set (proto_msg_t *msg, const proto_pool_open_t *open);
int proto_pool_open_get (const proto_msg_t *msg, proto_pool_open_t *open, char *reason,
                         size_t reason_size);

/*  WELCOME (head -> every peer). */
typedef struct {
    int heartbeat_ms; /* 10..600000; 1000 when out of range */
    int liveness;     /* 1..1000; 3 when out of range */
    uint64_t epoch;   /* random, the head process's own; 0 unknown */
} proto_welcome_t;

int proto_welcome_set (proto_msg_t *msg, const proto_welcome_t *welcome);
int proto_welcome_get (const proto_msg_t *msg, proto_welcome_t *welcome);

/*  HELLO (every peer -> head): what each role says about itself. */
typedef struct {
    proto_role_t role;
    char id[PROTO_ID_MAX + 1];
    char node[PROTO_ID_MAX + 1]; /* worker: its node; a client's liveness
                                    link: the client's id; else "" */
    char host[PROTO_ID_MAX + 1]; /* host key for shared memory, or "" */
    const char *text;            /* node: host name; worker: "cpu" or the
                                    GPU; borrowed from the message */
    uint64_t pid;                /* worker: its process, 0 unknown */
    int worker_slots;            /* node: how many workers it runs */
    bool has_gpu;                /* worker */
    uint64_t gpu_index;
    uint64_t gpu_memory; /* bytes */
    /* A worker that has a pool loaded and asks to rejoin it; complete
       when it says all of the below (else it cannot rejoin). */
    bool rejoin;
    bool rejoin_complete;
    uint64_t pool;
    uint8_t lib_hash[PROTO_HASH_SIZE];
    uint8_t init_hash[PROTO_HASH_SIZE];
    uint64_t useq;  /* updates it applied */
    uint64_t epoch; /* of the head that assigned the pool */
} proto_hello_t;

int proto_hello_set (proto_msg_t *msg, const proto_hello_t *hello);
/* Always PROTO_OK for a decoded HELLO: fields out of range are dropped
   (no GPU, 0 slots, no rejoin). */
int proto_hello_get (const proto_msg_t *msg, proto_hello_t *hello);

/*  ASSIGN (head -> worker): load this pool. */
typedef struct {
    uint64_t pool;
    char name[PROTO_ID_MAX + 1]; /* library's file name */
    uint8_t lib_hash[PROTO_HASH_SIZE];
    uint8_t init_hash[PROTO_HASH_SIZE];
    uint64_t job_timeout_ms;              /* 0: none */
    char data_endpoint[PROTO_ID_MAX + 1]; /* the client's, or "" */
    uint64_t direct_min;                  /* 0 with no endpoint */
} proto_assign_t;

int proto_assign_set (proto_msg_t *msg, const proto_assign_t *assign);
/* PROTO_EMALFORMED without the library's hash; no init hash means the
   hash of empty init data. */
int proto_assign_get (const proto_msg_t *msg, proto_assign_t *assign, char *reason,
                      size_t reason_size);

/*  RESULT (worker -> head): how the batch ran, for the head's window. */
typedef struct {
    uint64_t busy_us;      /* the worker ran jobs back to back this long */
    uint64_t residence_us; /* the batch's last job was in its hands */
} proto_timing_t;

int proto_timing_set (proto_msg_t *msg, const proto_timing_t *timing);
/* false when the RESULT carries no timings (an older worker). */
bool proto_timing_get (const proto_msg_t *msg, proto_timing_t *timing);

/*  WORKER_DIED (node -> head): where the worker's scoreboard says it was. */
typedef enum {
    PROTO_DIED_UNKNOWN = -1, /* the node has no scoreboard for it */
    PROTO_DIED_IDLE = 0,     /* in none of the worker library's code */
    PROTO_DIED_JOB = 1,      /* running `job` */
    PROTO_DIED_UPDATE = 2,   /* in handle_update of update_seq */
    PROTO_DIED_INIT = 3      /* in the pool's init */
} proto_died_where_t;

typedef struct {
    char id[PROTO_ID_MAX + 1]; /* the worker */
    uint64_t pid;              /* its process, 0 unknown */
    int64_t code;              /* signal (> 0) or -exit status */
    const char *text;          /* how it ended, for the log; borrowed */
    proto_died_where_t where;
    uint64_t pool;       /* of the job, update or init */
    proto_job_t job;     /* PROTO_DIED_JOB */
    uint64_t update_seq; /* PROTO_DIED_UPDATE */
} proto_died_t;

int proto_died_set (proto_msg_t *msg, const proto_died_t *died);
int proto_died_get (const proto_msg_t *msg, proto_died_t *died);

/*  STATUS (head -> anyone who asked). */
typedef struct {
    uint64_t nodes;
    uint64_t workers;
    uint64_t pools;
    uint64_t pool_workers; /* ready for the pool the request named */
    bool insecure;
    uint64_t largest_gpu; /* bytes, 0 when no GPU worker */
    uint64_t gpu_workers;
    const char *text; /* the report; borrowed */
} proto_status_t;

int proto_status_set (proto_msg_t *msg, const proto_status_t *status);
int proto_status_get (const proto_msg_t *msg, proto_status_t *status, char *reason,
                      size_t reason_size);

/*  HEARTBEAT of a node: the GPU memory in use behind each worker slot
    (slot k's at [k]), UINT64_MAX where unknown; n up to PROTO_NUMS_MAX. */
int proto_gpu_usage_set (proto_msg_t *msg, const uint64_t *used, size_t n);
size_t proto_gpu_usage_get (const proto_msg_t *msg, uint64_t *used, size_t max);

/*  WORKER_KILL (head -> node): kill this worker process (and its group). */
typedef struct {
    char id[PROTO_ID_MAX + 1];
    uint64_t pid;
    const char *why; /* borrowed */
} proto_kill_t;

int proto_kill_set (proto_msg_t *msg, const proto_kill_t *kill);
int proto_kill_get (const proto_msg_t *msg, proto_kill_t *kill);

/*  CANCEL: jobs of pool with ids in [from, to) are cancelled.
    client -> head and head -> worker: pool and the range;
    head -> node: also the worker (id, pid) and grace_ms. */
typedef struct {
    uint64_t pool;
    uint64_t from, to;
    char id[PROTO_ID_MAX + 1]; /* head -> node: the worker, else "" */
    uint64_t pid;
    uint64_t grace_ms;
} proto_cancel_t;

int proto_cancel_set (proto_msg_t *msg, const proto_cancel_t *cancel);
/* PROTO_EMALFORMED without a range, or with from > to. */
int proto_cancel_get (const proto_msg_t *msg, proto_cancel_t *cancel, char *reason,
                      size_t reason_size);

/*  OUTPUT: lines a worker wrote (node -> head; head -> the client that
    owns pool).  text holds whole lines, each ending in '\n', at most
    PROTO_TEXT_MAX bytes in all; a NUL a worker wrote is sent as '?'. */
#define PROTO_OUTPUT_STDOUT 1
#define PROTO_OUTPUT_STDERR 2
#define PROTO_OUTPUT_LINE_MAX 4096 /* longer runs are cut into lines this long */

typedef struct {
    char id[PROTO_ID_MAX + 1]; /* the worker */
    uint64_t pool;             /* head -> client; 0 from a node */
    int stream;                /* PROTO_OUTPUT_STDOUT or _STDERR */
    const char *text;          /* borrowed */
    size_t size;
    uint64_t pid; /* node -> head: the worker's process (seq), so that
                     a late batch never reaches the pool of the slot's
                     next process; 0 when absent */
} proto_output_t;

int proto_output_set (proto_msg_t *msg, const proto_output_t *output);
/* PROTO_EMALFORMED for another stream or an empty text. */
int proto_output_get (const proto_msg_t *msg, proto_output_t *output, char *reason,
                      size_t reason_size);

/*  BLOCK_GET, BLOCK_PUT, BLOCK, BLOCK_STORED, BLOCK_RELEASE,
    BLOCK_RELEASED, BLOCK_HOLD: the block's name (its
    hash); NULL when the message names none. */
const uint8_t *proto_block_hash (const proto_msg_t *msg);

/*  ERROR (worker -> head) saying the worker refused update seq of pool:
    its handle_update failed, with why. */
int proto_refusal_set (proto_msg_t *msg, uint64_t pool, uint64_t seq, const char *why);
/* true when msg is such a refusal (then *pool, *seq and *why are set). */
bool proto_refusal_get (const proto_msg_t *msg, uint64_t *pool, uint64_t *seq,
                        const char **why);

/*  SUBMIT (client -> head) naming the blocks its jobs read: text is
    their hashes in lower-case hex, back to back (at most
    PROTO_SUBMIT_BLOCKS_MAX); a SUBMIT without text names none. */
#define PROTO_SUBMIT_BLOCKS_MAX (PROTO_TEXT_MAX / (2 * PROTO_HASH_SIZE))
int proto_submit_blocks_set (proto_msg_t *msg, const uint8_t (*hashes)[PROTO_HASH_SIZE],
                             size_t count);
/*  How many blocks msg names (0: none) in *count: PROTO_OK, or
    PROTO_EMALFORMED when its text is not whole hashes in hex. */
int proto_submit_blocks_get (const proto_msg_t *msg, size_t *count);
/*  The i'th block named (i below what proto_submit_blocks_get said). */
void proto_submit_block (const proto_msg_t *msg, size_t i, uint8_t hash[PROTO_HASH_SIZE]);

/*  BLOCKS_HELD (worker -> head), one frame of PROTO_HELD_ENTRY-byte
    entries: a block the worker's cache took in (its size) or let go
    (PROTO_HELD_GONE). */
typedef struct {
    uint8_t hash[PROTO_HASH_SIZE];
    uint64_t size;
} proto_held_t;

/*  Writes one entry into entry [PROTO_HELD_ENTRY]. */
void proto_held_put (uint8_t *entry, const proto_held_t *held);
/*  Entries in a frame of size bytes in *count: PROTO_OK, or
    PROTO_EMALFORMED when size is not a whole number of them. */
int proto_held_count (size_t size, size_t *count);
/*  Reads the entry at entry (PROTO_HELD_ENTRY bytes). */
void proto_held_get (const uint8_t *entry, proto_held_t *held);

#endif
