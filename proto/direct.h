/*  proto/direct.h - the data plane: big inputs and outputs between a client
    and a worker, not through the head (DESIGN.md section 13).

    A client that opens a pool binds a data endpoint (a ROUTER socket, CURVE
    server with the cluster's server keys) and names it in POOL_OPEN; the
    head passes it on in ASSIGN.  A big input stays in the client, in the
    memfd that also serves workers on its host (proto/shm.h); the head sends
    a worker elsewhere the same proto_shm_ref_t with the job flag
    PROTO_JOB_DIRECT, and the worker fetches the bytes from the endpoint:
    GET requests of at most PROTO_DIRECT_CHUNK bytes, at most
    PROTO_DIRECT_WINDOW of them in flight, into a buffer it reuses.  A big
    output goes back the same way, as PUT chunks the client acknowledges;
    the worker's RESULT then carries only a reference with the size and the
    flag PROTO_JOB_DIRECT.  A worker that cannot reach the endpoint answers
    PROTO_CODE_RESEND, and the bytes go through the head as before.

    Every message is a fixed 48-byte header frame, little-endian:
        u32 magic PROTO_DIRECT_MAGIC, u32 kind,
        u64 key, u64 attempt, u64 offset, u64 length, u64 total
    followed, for DATA and PUT, by one frame of exactly `length` bytes, and
    for ERR by one frame of text.

        worker -> GET  {key: input's inode, offset, length, total: its size}
                  <- DATA {same fields} frame: the bytes | ERR {key, offset}
        worker -> PUT  {key: job id, attempt, offset, length, total}
                       frame: the bytes
                  <- ACK  {key, attempt, offset, length, total} | ERR

    The decoder checks every field against the others (length at most a
    chunk, offset + length at most total, frame sizes) and refuses
    anything else; the fuzzer feeds it garbage.
*/
#ifndef DCPOOL_PROTO_DIRECT_H
#define DCPOOL_PROTO_DIRECT_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_DIRECT_MAGIC 0x31504344u /* "DCP1" */
#define PROTO_DIRECT_HEADER 48
#define PROTO_DIRECT_CHUNK (2u << 20) /* bytes per GET or PUT at most */
#define PROTO_DIRECT_WINDOW 4         /* chunks in flight per transfer */
#define PROTO_DIRECT_TOTAL_MAX ((uint64_t)1 << 40)
#define PROTO_DIRECT_MIN_DEFAULT ((size_t)64 << 10)

typedef enum {
    PROTO_DIRECT_GET = 1,
    PROTO_DIRECT_DATA,
    PROTO_DIRECT_PUT,
    PROTO_DIRECT_ACK,
    PROTO_DIRECT_ERR,
} proto_direct_kind_t;

typedef struct {
    proto_direct_kind_t kind;
    uint64_t key;     /* GET/DATA: the input's inode; PUT/ACK: job id */
    uint64_t attempt; /* PUT/ACK */
    uint64_t offset;
    uint64_t length;
    uint64_t total;
} proto_direct_t;

/*  A message: the header and, for DATA and PUT, the body (a frame of
    exactly head->length bytes), for ERR a frame of text; *body is taken
    (nulled) either way.  NULL when out of memory or when the body is
    missing or of the wrong size. */
zmsg_t *proto_direct_encode (const proto_direct_t *head, zframe_t **body);
/*  The header frame of head alone (for a body sent as a message of its
    own). */
void proto_direct_header (const proto_direct_t *head,
                          uint8_t header[PROTO_DIRECT_HEADER]);

/*  Reads a message whose first frame is the header (a ROUTER pops the
    routing id first); msg keeps its frames.  0 with *head and *body (the
    message's own frame, or NULL when the kind has none), or -1 with the
    reason in reason[reason_size]. */
int proto_direct_decode (zmsg_t *msg, proto_direct_t *head, zframe_t **body, char *reason,
                         size_t reason_size);

#endif
