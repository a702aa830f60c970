/*  proto/msg.h - every dcpool message, its fields, and its codec.

    A message on the wire is a ZeroMQ multipart message.  Frame 0 is the
    header: a msgpack map with "v" (protocol version), "t" (type) and the
    type's fields.  Frames 1..n are raw payloads (job inputs, outputs,
    blocks, updates), never packed into msgpack.  The head's ROUTER adds a
    routing-id frame in front; proto_msg_recv_router / proto_msg_send_router
    deal with it.

    This file defines every message; codec.c alone encodes and decodes
    them, wire.c alone puts them on a socket, and views.h gives each
    message whose numbered slots carry meaning its named fields (nothing
    outside proto/ reads nums [k]).  The decoder validates every field
    and length and returns PROTO_EMALFORMED (with a reason) on anything
    off: callers log, answer ERROR where they can, and carry on.

    Conversation (-> to head, <- from head):

    every peer   -> HELLO {role, id, [node], [host], [text], [nums]}
                    (a worker with a pool loaded: pool, hash: [lib, init],
                     nums [2] updates applied, nums [3] the epoch of the
                     head that assigned it; see docs/INTERNALS.md)
                 <- WELCOME {nums: [heartbeat_ms, liveness, epoch]} |
                    DENIED {text}
                 -> HEARTBEAT (every heartbeat_ms)   <- HEARTBEAT (same)
                 -> BYE (graceful leave)
    client       -> POOL_OPEN {text: library name, hash: [lib, init,
                               the key its relay says HELLO with (random,
                               proto/relay.h), when it has a data endpoint],
                               nums: [max_attempts, job_timeout_ms,
                                      min_workers, min_gpu_memory_mb,
                                      pool id had before, its head's
                                      epoch (0, 0 on a first open),
                                      cancel_grace_ms, forward_output,
                                      direct_min],
                               host: the client's data endpoint or none}
                    frames: [library bytes, init bytes]
                 <- POOL_READY {pool} | ERROR {code, text}
                 -> SUBMIT {pool, jobs: [{id}...], [text]} frames: inputs
                    (text, when present: the blocks every job of it reads,
                     their hashes in hex back to back; the head prefers a
                     worker that holds them: docs/INTERNALS.md, Locality)
                 <- RESULT {pool, jobs: [{id, status}...]} frames: output,
                    or the error text when status != 0
                 -> UPDATE {pool} frame: update bytes (seq given by the head)
                 -> STATUS_REQ {[pool]}   <- STATUS {nums, text}
                 -> CANCEL {pool, nums: [from, to]}  (jobs with ids in
                    [from, to) are cancelled: dropped where queued,
                    stopped where running; no RESULT need follow)
                 <- OUTPUT {pool, id: worker id, code: 1 stdout | 2 stderr,
                            text: whole lines, each ending in a newline}
                 -> POOL_CLOSE {pool}
                 <- ERROR {pool, code, text}  (the pool failed: init, ...)
    worker       <- ASSIGN {pool, hash: [lib, init], text: name,
                            nums: [job_timeout_ms, direct_min],
                            host: the client's data endpoint or none}   (also to a worker
                            that has those hashes loaded from before a
                            head restart: it answers WORKER_READY at once)
                 -> BLOCK_GET {hash}  <- BLOCK {hash} frame | ERROR
                 -> WORKER_READY {pool, code: 0 | <0, [text: reason]}
                 <- UPDATE {pool, seq} frame     (in seq order, before jobs
                                                  that need them)
                 <- JOB {pool, jobs: [{id, attempt, useq}...]} frames
                    (an input marked PROTO_JOB_SHARED is in the client's
                     memory, one marked PROTO_JOB_DIRECT at its data
                     endpoint: proto/shm.h, proto/direct.h)
                 -> RESULT {pool, jobs: [{id, attempt, status}...]} frames
                 -> BLOCKS_HELD {} frame: entries of PROTO_HELD_ENTRY bytes,
                    {hash, u64 little-endian size}, size PROTO_HELD_GONE
                    when the worker's block cache dropped the block: what
                    its cache took in and let go since its last report
                    (batched); the head forgets all of them when the
                    worker goes
                 <- POOL_CLOSE {pool}: exit; the node starts a fresh worker
                 <- CANCEL {pool, nums: [from, to]}: drop queued jobs with
                    ids in [from, to), answering each with status
                    ECANCELED
    client or    -> BLOCK_PUT {hash} frame  <- BLOCK_STORED {hash} | ERROR
    worker          (a client's put holds the block for that client, a
                     worker's for its pool's client: see BLOCK_RELEASE)
                 -> BLOCK_GET {hash}        <- BLOCK {hash} frame | ERROR
                 -> BLOCK_HOLD {hash}       <- BLOCK_STORED {hash} | ERROR
                    (a put without the bytes, for a block the sender knows
                     the store has: it is held as a put holds it; ERROR
                     EIO when the store has it not, then put the bytes)
    client       -> BLOCK_RELEASE {hash}    <- BLOCK_RELEASED {hash, code,
                                                [text]}
                    (drops one of the client's holds on the block: code 0,
                     or EINVAL when it holds none, EIO when the store
                     failed, with the reason in text; the answer names the
                     hash, so releases may be pipelined.  A block with no
                     holder left is deleted after the head's --block-grace)
    node         -> WORKER_DIED {id: worker id, code: signal or -exit code,
                                 text: description}
                 <- WORKER_KILL {id: worker id, seq: its pid, text: why}
                    (a worker that did not leave its closed pool within
                    the grace: the node kills its process group)
                 <- CANCEL {pool, id: worker id, seq: its pid,
                            nums: [from, to, grace_ms]}: the worker's job
                    with an id in [from, to), if it runs one, is cancelled
                    (pool_worker_cancelled says so); still running after
                    grace_ms, the node kills the worker
                 -> OUTPUT {id: worker id, seq: its pid, code: 1 | 2,
                            text: lines}
                    what the worker wrote, cut into lines, rate-limited
                 -> STATUS_REQ            <- STATUS
    head         <- ERROR {code, text} in answer to anything malformed
*/
#ifndef DCPOOL_PROTO_MSG_H
#define DCPOOL_PROTO_MSG_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "codes.h"

#define PROTO_VERSION 9
#define PROTO_ID_MAX 64      /* bytes of an id string */
#define PROTO_TEXT_MAX 65536 /* bytes of a text field */
#define PROTO_NUMS_MAX 16    /* entries of the nums array */
#define PROTO_JOBS_MAX 65536 /* jobs in one SUBMIT/JOB/RESULT */
#define PROTO_HASH_SIZE 32   /* BLAKE2b-256 */
#define PROTO_HASHES_MAX 3
#define PROTO_HELD_ENTRY 40        /* BLOCKS_HELD: hash, u64 size */
#define PROTO_HELD_GONE UINT64_MAX /* ... size of a block let go */

/*  Small payloads travel packed: when every payload frame of a SUBMIT,
    JOB or RESULT is at most PROTO_PACK_ITEM_MAX bytes, the encoder sends
    them as one frame, with their sizes in the header ("z": a bin of u32
    little-endian sizes, or of one u32 when all are that size), and the
    decoder cuts them apart again.  Callers
    never see it; it saves libzmq a frame, and CURVE a box, per job. */
#define PROTO_PACK_ITEM_MAX 4096

/*  Big payloads travel in pieces: proto_msg_send sends a payload frame
    (or packed frame) of more than PROTO_PIECE_MAX bytes as consecutive
    ZeroMQ frames of at most that size, without copying them, and lists
    them in the header ("w": a bin of u32 little-endian pairs [index of the
    payload frame after the header, number of pieces], ascending); the
    decoder joins them again.  libzmq then encrypts, allocates and moves
    one piece at a time: a 512 MiB job does not hold an I/O thread (and
    every connection it serves, heartbeats included) for seconds, and the
    receiver's TCP connection keeps receiving while it arrives. */
#define PROTO_PIECE_MAX (1u << 20)

/*  A worker sends its batch of results at the latest this long after the
    first of them was ready (sooner when its queue empties): the head sizes
    a worker's window to cover that wait too.  Each batch wakes the head
    and the client, which on a few shared cores take the workers' CPU: 20
    ms rather than 10 moved a map of 1 ms jobs on 2 cores from 97.0% of
    the ideal to 97.9% (medians of 5 rounds).  A job run again does not
    wait for it: it goes past a full window, first in its new worker's
    queue, and its result at once (head/feed.c, node/worker_queue.h). */
#define PROTO_RESULTS_AGE_MS 20

/* Return codes of the codec. */
#define PROTO_OK 0
#define PROTO_EMALFORMED -2 /* as malamute: -2 on bad input */
#define PROTO_EVERSION -3   /* another protocol version */
#define PROTO_EIO -4        /* the socket failed (EAGAIN, ETERM) */
#define PROTO_EFRAMES -5    /* more frames than the receiver allows */

typedef enum {
    PROTO_HELLO = 1,
    PROTO_WELCOME,
    PROTO_DENIED,
    PROTO_HEARTBEAT,
    PROTO_POOL_OPEN,
    PROTO_POOL_READY,
    PROTO_SUBMIT,
    PROTO_RESULT,
    PROTO_ASSIGN,
    PROTO_JOB,
    PROTO_UPDATE,
    PROTO_WORKER_READY,
    PROTO_WORKER_DIED,
    PROTO_STATUS_REQ,
    PROTO_STATUS,
    PROTO_BLOCK_PUT,
    PROTO_BLOCK_GET,
    PROTO_BLOCK,
    PROTO_POOL_CLOSE,
    PROTO_ERROR,
    PROTO_BYE,
    PROTO_BLOCK_STORED,
    PROTO_WORKER_KILL,
    PROTO_CANCEL,
    PROTO_OUTPUT,
    PROTO_BLOCK_RELEASE,
    PROTO_BLOCK_RELEASED,
    PROTO_BLOCK_HOLD,
    PROTO_BLOCKS_HELD,
    PROTO_TYPE_COUNT /* one past the last type */
} proto_type_t;

typedef enum {
    PROTO_ROLE_CLIENT = 1,
    PROTO_ROLE_NODE = 2,
    PROTO_ROLE_WORKER = 3,
    PROTO_ROLE_STATUS = 4 /* start_node --status and the like */
} proto_role_t;

/* Fields, as bits of proto_msg_t.present. */
enum {
    PROTO_F_ROLE = 1u << 0,
    PROTO_F_ID = 1u << 1,
    PROTO_F_NODE = 1u << 2,
    PROTO_F_POOL = 1u << 3,
    PROTO_F_SEQ = 1u << 4,
    PROTO_F_CODE = 1u << 5,
    PROTO_F_TEXT = 1u << 6,
    PROTO_F_HASH = 1u << 7,
    PROTO_F_NUMS = 1u << 8,
    PROTO_F_JOBS = 1u << 9,
    PROTO_F_HOST = 1u << 10
};

/*  One job entry.  On the wire "jobs" ("j") is a msgpack bin of njobs * 24
    bytes, each entry little-endian {u64 id, u32 attempt, i32 status,
    u64 useq}; fields a type does not use are 0.  A run of two or more
    jobs with consecutive ids and the same attempt, status and useq (most
    batches of a map) goes instead as the array [first id, count, attempt,
    status, useq]: CURVE then encrypts a few bytes per batch, not 24 per
    job.  Jobs that all have the same attempt, status and useq but ids in
    several runs (the results of one worker's share of a map, handed out
    in turns) go as [runs, attempt, status, useq], runs a bin of 12-byte
    entries {u64 first id, u32 count} (protocol 8).  Likewise packed sizes
    ("z") that are all equal go as one u32. */
typedef struct {
    uint64_t id;      /* unique within the pool, chosen by the client */
    uint32_t attempt; /* 0 on the first run */
    int32_t status;   /* RESULT: 0 or a negative POOL_E* code */
    uint64_t useq;    /* JOB: updates the worker must have applied */
    uint32_t flags;   /* PROTO_JOB_* (header key "m", not in the entry) */
} proto_job_t;

/*  The job's payload is not the bytes but a proto_shm_ref_t (proto/shm.h)
    of exactly PROTO_SHM_REF_SIZE bytes: SUBMIT and JOB carry the input so,
    RESULT the output.  On the wire: "m", a bin of the u32 little-endian
    indexes of such jobs, ascending. */
#define PROTO_JOB_SHARED 1u

/*  The payload is a proto_shm_ref_t too, but of bytes that travel on the
    data plane (proto/direct.h): in JOB, an input the worker fetches from
    its client's data endpoint; in RESULT, an output the worker put there
    (only its size is set).  On the wire: "d", like "m".  A job is never
    both. */
#define PROTO_JOB_DIRECT 2u

#define PROTO_JOB_WIRE_SIZE 24
#define PROTO_SEGMENT_WIRE_SIZE 12

typedef struct {
    proto_type_t type;
    uint32_t version; /* set by decode; encode writes PROTO_VERSION */
    uint32_t present; /* PROTO_F_* bits of the fields that are set */
    uint32_t role;
    char id[PROTO_ID_MAX + 1];
    char node[PROTO_ID_MAX + 1];
    char host[PROTO_ID_MAX + 1]; /* HELLO: host key (proto/shm.h) */
    uint64_t pool;
    uint64_t seq;
    int64_t code;
    char *text;       /* owned; NUL-terminated */
    size_t text_size; /* strlen (text) */
    uint8_t hash[PROTO_HASHES_MAX][PROTO_HASH_SIZE];
    size_t nhashes;
    uint64_t nums[PROTO_NUMS_MAX];
    size_t nnums;
    proto_job_t *jobs; /* owned */
    size_t njobs;
    size_t jobs_cap;
    zmsg_t *frames; /* owned payload frames; NULL when none */
    /* Payloads of a decoded packed message: one frame, cut at offsets. */
    zframe_t *packed;   /* owned, or NULL */
    size_t *packed_off; /* njobs + 1 offsets into packed */
    size_t packed_next; /* next payload proto_msg_pop_frame gives */
    /* Payloads added by reference (proto_msg_add_borrowed): sent packed
       straight from the caller's memory when small, copied otherwise. */
    struct proto_slice *borrowed;
    size_t nborrowed;
    size_t borrowed_cap;
    bool borrowed_tails; /* some slice has a tail (add_pieces_ref) */
    /* Big payloads kept in the pieces they travelled in (see
       proto_msg_pop_pieces): frames holds the first piece of such a
       payload and tails [tails_base + i] the pieces after it of frames'
       i'th frame (NULL for a whole one; the array may be shorter). */
    bool keep_pieces; /* set before a decode, kept by it */
    zmsg_t **tails;   /* owned, or NULL */
    size_t ntails;
    size_t tails_base; /* frames popped since the first tail came */
    /* Bytes of the last send or receive on the wire, every frame (a
       router's routing id on a send, not on a receive): what the head
       counts for /metrics. */
    size_t wire_size;
} proto_msg_t;

typedef struct proto_slice {
    const void *data;
    size_t size;
    zframe_t *frame; /* data is this frame's: sent by reference */
    zmsg_t *tail;    /* with frame, the payload's pieces after frame (its
                        first); size is the whole payload's */
} proto_slice_t;

/*  Life cycle.  init sets the type and clears every field; reset frees what
    the message owns and leaves it as after init (type kept).  recycle is
    reset that keeps the jobs and borrowed arrays, empty, for the next
    message built in self: a batch gathered job by job (a worker's results,
    the head's results for a client) then grows them once, not once per
    message; reset frees them at the end, as it frees everything. */
void proto_msg_init (proto_msg_t *self, proto_type_t type);
void proto_msg_reset (proto_msg_t *self);
void proto_msg_recycle (proto_msg_t *self);

/*  Setters mark the field present.  Strings longer than the field's limit
    are refused with PROTO_EMALFORMED (a caller bug or bad user input). */
int proto_msg_set_id (proto_msg_t *self, const char *id);
int proto_msg_set_node (proto_msg_t *self, const char *node);
int proto_msg_set_host (proto_msg_t *self, const char *host);
void proto_msg_set_role (proto_msg_t *self, proto_role_t role);
void proto_msg_set_pool (proto_msg_t *self, uint64_t pool);
void proto_msg_set_seq (proto_msg_t *self, uint64_t seq);
void proto_msg_set_code (proto_msg_t *self, int64_t code);
int proto_msg_set_text (proto_msg_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
int proto_msg_add_hash (proto_msg_t *self, const uint8_t hash[PROTO_HASH_SIZE]);
int proto_msg_add_num (proto_msg_t *self, uint64_t value);
/*  Appends a job entry; returns a pointer to fill, NULL when out of memory
    or at PROTO_JOBS_MAX.  Inline: every job of a map passes here in the
    client, the head and the workers; the rest is in proto_msg_add_job_grow. */
proto_job_t *proto_msg_add_job_grow (proto_msg_t *self);
static inline proto_job_t *
proto_msg_add_job (proto_msg_t *self)
{
    if (self->njobs >= self->jobs_cap || self->njobs >= PROTO_JOBS_MAX)
        return proto_msg_add_job_grow (self);
    proto_job_t *job = &self->jobs[self->njobs++];
    *job = (proto_job_t){ 0 };
    self->present |= PROTO_F_JOBS;
    return job;
}
/*  Appends a payload frame; takes ownership of *frame and nulls it. */
int proto_msg_add_frame (proto_msg_t *self, zframe_t **frame);
/*  Appends a payload frame copied from memory. */
int proto_msg_add_bytes (proto_msg_t *self, const void *data, size_t size);
/*  Appends a payload by reference: data must stay valid until the message
    is encoded (sent) or reset.  No copy is made when it travels packed.
    Inline for the same reason as proto_msg_add_job. */
int proto_msg_add_borrowed_grow (proto_msg_t *self, const void *data, size_t size);
static inline int
proto_msg_add_borrowed (proto_msg_t *self, const void *data, size_t size)
{
    if (self->nborrowed >= self->borrowed_cap || self->frames)
        return proto_msg_add_borrowed_grow (self, data, size);
    self->borrowed[self->nborrowed++] = (proto_slice_t){ data, size, NULL, NULL };
    return PROTO_OK;
}
/*  Makes room for count more jobs, each with a borrowed payload, so that
    adding them one by one allocates nothing (a hint: adding more is still
    fine).  PROTO_OK, or PROTO_EIO when out of memory. */
int proto_msg_reserve (proto_msg_t *self, size_t count);
/*  Appends frame's bytes by reference: frame (not owned) must outlive the
    send.  Sent unpacked, libzmq shares frame's buffer (zmq_msg_copy, a
    reference count) instead of copying it: how the head passes big inputs
    on to workers.  Small ones are packed (copied) like borrowed bytes. */
int proto_msg_add_frame_ref (proto_msg_t *self, zframe_t *frame);
/*  Big payloads without a join.  A payload of more than PROTO_PIECE_MAX
    bytes travels in pieces; a message decoded with keep_pieces set keeps
    them apart (the pieces libzmq received, each its own small buffer)
    instead of copying them into one fresh buffer of the whole size, as
    long as the sender cut them as proto_msg_send does.  The head passes
    them on so: it never joins a payload it only relays.  Whoever asks for
    a payload's bytes (proto_msg_payload, proto_msg_pop_frame) gets them
    joined then.  pop_pieces removes the next payload as its first piece
    (*first, or the whole payload) and the rest (*tail, NULL for a whole
    one): the caller owns both.  -1 when there is none. */
int proto_msg_pop_pieces (proto_msg_t *self, zframe_t **first, zmsg_t **tail);
/*  Appends a payload as pieces (first, then tail: owned, nulled), as
    pop_pieces gave them; a NULL tail adds first as add_frame does. */
int proto_msg_add_pieces (proto_msg_t *self, zframe_t **first, zmsg_t **tail);
/*  Appends a payload in pieces by reference, as add_frame_ref does:
    first and tail (either kept by the caller until the send) go as shared
    copies of their frames. */
int proto_msg_add_pieces_ref (proto_msg_t *self, zframe_t *first, zmsg_t *tail);
/*  As proto_msg_payload, but a payload kept in pieces stays so: *data is
    its first piece's bytes, *tail (borrowed) the pieces after it, *size
    the whole payload's; *tail is NULL for a payload in one piece.  Do not
    mix it with proto_msg_payload on one message: that joins the pieces,
    and what this gave is then gone. */
int proto_msg_payload_pieces (proto_msg_t *self, size_t index, const void **data,
                              size_t *size, zmsg_t **tail);
/*  Writes a payload in pieces (first_size bytes at first, then tail's
    pieces, if any) to `to`. */
void proto_pieces_copy (uint8_t *to, const void *first, size_t first_size, zmsg_t *tail);
/*  Number of payloads (frames, packed or borrowed) not yet popped. */
size_t proto_msg_frames (const proto_msg_t *self);
/*  Removes and returns the next payload as a frame (caller owns), or
    NULL.  A packed payload is copied into a frame of its own. */
zframe_t *proto_msg_pop_frame (proto_msg_t *self);
/*  The index'th payload (from 0, before any pop) without a copy: the
    pointer lives as long as the message.  0, or -1 past the end.  Walking
    the frames in order is O(1) per step. */
int proto_msg_payload (proto_msg_t *self, size_t index, const void **data, size_t *size);
/*  The index'th payload of a packed message (index < njobs), whose packed
    frame's bytes are at base (zframe_data (self->packed), read once by a
    loop over the payloads): what proto_msg_payload gives, without a call
    per payload. */
static inline void
proto_msg_packed_payload (const proto_msg_t *self, const uint8_t *base, size_t index,
                          const void **data, size_t *size)
{
    *data = base + self->packed_off[index];
    *size = self->packed_off[index + 1] - self->packed_off[index];
}
/*  Takes a decoded packed message's payload frame and its njobs + 1
    offsets (payload i is frame [off [i], off [i + 1])) out of it: the
    caller owns both (zframe_destroy, free).  0, or -1 when the message
    has no packed payloads or some were popped already. */
int proto_msg_take_packed (proto_msg_t *self, zframe_t **frame, size_t **off);

/*  Encodes the header and moves the payload frames into a new zmsg_t.
    The message's frames are gone afterwards (NULL); other fields stay. */
int proto_msg_encode (proto_msg_t *self, zmsg_t **out);

/*  Decodes *in into self (which must be initialised; it is reset first)
    and destroys *in.  Returns PROTO_OK, PROTO_EMALFORMED or PROTO_EVERSION
    (self->version then holds the peer's version), with a reason in
    reason[reason_size] when not OK. */
int proto_msg_decode (proto_msg_t *self, zmsg_t **in, char *reason, size_t reason_size);

/*  Socket helpers.  send encodes and sends, moving the frames; recv waits
    for one message (honouring the socket's receive timeout) and decodes it.
    The router variants take and give the peer's routing id. */
int proto_msg_send (proto_msg_t *self, void *sock);
int proto_msg_send_router (proto_msg_t *self, void *sock, zframe_t *routing_id);
int proto_msg_recv (proto_msg_t *self, void *sock, char *reason, size_t reason_size);
int proto_msg_recv_router (proto_msg_t *self, void *sock, zframe_t **routing_id,
                           char *reason, size_t reason_size);
/*  As proto_msg_recv_router, refusing (PROTO_EFRAMES, the message dropped
    undecoded) a message of more than max_frames frames after the routing
    id. */
int proto_msg_recv_router_limited (proto_msg_t *self, void *sock, zframe_t **routing_id,
                                   size_t max_frames, char *reason, size_t reason_size);
/*  The same for a message already received from sock (*msg, consumed),
    its routing id taken out: for a reader that looks at the frames
    first (the head passes relay chunks on undecoded, proto/relay.h). */
int proto_msg_decode_limited (proto_msg_t *self, void *sock, zmsg_t **msg,
                              size_t max_frames, char *reason, size_t reason_size);

const char *proto_type_name (proto_type_t type);

/*  BLAKE2b-256 of data, the name of a block. */
void proto_hash (const void *data, size_t size, uint8_t hash[PROTO_HASH_SIZE]);
/*  Lower-case hex of a hash into out[2 * PROTO_HASH_SIZE + 1]. */
void proto_hash_hex (const uint8_t hash[PROTO_HASH_SIZE],
                     char out[2 * PROTO_HASH_SIZE + 1]);

#endif
