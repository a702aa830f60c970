/*  proto/codes.h - the codes that travel: ERROR.code, WORKER_READY.code
    and a job's RESULT status.  One set, spoken by the head, the nodes and
    the workers; libpool maps each to the POOL_E* code it returns
    (pool_code_from_head), and nothing else in the tree uses POOL_E* on
    the wire.  The values are those of POOL_E* so far: a client and a head
    of this protocol version agree on them.  Codes of proto's own
    functions are return values, never sent: PROTO_E* (msg.h, -2..-5, the
    decoder's, as malamute's) and PROTO_LINK_E* (link.h, -20..-24).
*/
#ifndef DCPOOL_PROTO_CODES_H
#define DCPOOL_PROTO_CODES_H

#include <stdbool.h>
#include <stdint.h>

enum {
    PROTO_CODE_EINVAL = -1,     /* a bad request (fields, hashes) */
    PROTO_CODE_ENOMEM = -2,     /* the head ran out of memory */
    PROTO_CODE_EDENIED = -5,    /* refused by a limit */
    PROTO_CODE_ELIBRARY = -6,   /* the worker library cannot be loaded */
    PROTO_CODE_EWORKER = -7,    /* init failed, an update was refused */
    PROTO_CODE_EPROTO = -10,    /* a message not expected from this peer */
    PROTO_CODE_EJOB = -11,      /* the run returned an error */
    PROTO_CODE_ECRASHED = -12,  /* the worker died running it */
    PROTO_CODE_ETIMEDOUT = -13, /* the job ran out of time */
    PROTO_CODE_ECLOSED = -14,   /* no such pool open */
    PROTO_CODE_EIO = -15,       /* the store failed */
    PROTO_CODE_ETIMEOUT = -16,  /* the worker's init ran out of time */
    PROTO_CODE_ECANCELED = -17, /* the client cancelled the job */
    PROTO_CODE_ENOSPACE = -18   /* the block store is full */
};

/* True when code is one of the set above. */
static inline bool
proto_code_known (int64_t code)
{
    switch (code) {
    case PROTO_CODE_EINVAL:
    case PROTO_CODE_ENOMEM:
    case PROTO_CODE_EDENIED:
    case PROTO_CODE_ELIBRARY:
    case PROTO_CODE_EWORKER:
    case PROTO_CODE_EPROTO:
    case PROTO_CODE_EJOB:
    case PROTO_CODE_ECRASHED:
    case PROTO_CODE_ETIMEDOUT:
    case PROTO_CODE_ECLOSED:
    case PROTO_CODE_EIO:
    case PROTO_CODE_ETIMEOUT:
    case PROTO_CODE_ECANCELED:
    case PROTO_CODE_ENOSPACE:
        return true;
    default:
        return false;
    }
}

/*  ERROR.code the head uses for a message from a connection that has not
    said HELLO (the head restarted, or declared the peer dead): the peer
    must say HELLO again (a node, an idle worker, a client, which then
    opens its pool again) or exit (a worker that had a pool loaded). */
#define PROTO_CODE_UNKNOWN_PEER -100

/*  RESULT.status of a job whose shared input the worker could not read,
    or that the head will not give a worker on another host: the client
    sends the input again as bytes.  Never a final result. */
#define PROTO_CODE_RESEND -101

#endif
