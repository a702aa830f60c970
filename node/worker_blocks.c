/*  node/worker_blocks.c - blocks asked of the head from inside user code.
    See worker_blocks.h. */
#include "worker_blocks.h"
#include "pool.h"
#include "views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker_blocks {
    worker_link_t *link; /* borrowed */
    const bool *ending;  /* borrowed */
    worker_blocks_events_t events;
};

worker_blocks_t *
worker_blocks_new (worker_link_t *link, const bool *ending,
                   const worker_blocks_events_t *events)
{
    worker_blocks_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->link = link;
    self->ending = ending;
    self->events = *events;
    return self;
}

void
worker_blocks_destroy (worker_blocks_t **self)
{
    free (*self);
    *self = NULL;
}

/*  Checks an answer's bytes (taken from msg into *frame) against hash:
    0, or POOL_EIO with the reason. */
static int
s_take_bytes (proto_msg_t *msg, const uint8_t hash[PROTO_HASH_SIZE], const char *hex,
              zframe_t **frame, char *error, size_t error_size)
{
    *frame = proto_msg_pop_frame (msg);
    if (!*frame) {
        snprintf (error, error_size, "block %.16s came without its bytes", hex);
        return POOL_EIO;
    }
    uint8_t actual[PROTO_HASH_SIZE];
    proto_hash (zframe_data (*frame), zframe_size (*frame), actual);
    if (memcmp (actual, hash, PROTO_HASH_SIZE) != 0) {
        zframe_destroy (frame);
        snprintf (error, error_size, "block %.16s from the head does not match its hash",
                  hex);
        return POOL_EIO;
    }
    return 0;
}

/*  Sends req (consumed) and waits for a `want` naming hash: 0 with its
    first frame in *frame when given (caller owns); <0 with the reason. */
static int
s_request (worker_blocks_t *self, proto_msg_t *req, proto_type_t want,
           const uint8_t hash[PROTO_HASH_SIZE], zframe_t **frame, char *error,
           size_t error_size)
{
    worker_link_t *link = self->link;
    proto_type_t type = req->type; /* req is gone once sent */
    if (*self->ending || !worker_link_connected (link)) {
        proto_msg_reset (req);
        snprintf (error, error_size, "worker is shutting down");
        return POOL_ELOST;
    }
    if (worker_link_send (link, req)) {
        snprintf (error, error_size, "cannot send %s to the head",
                  proto_type_name (type));
        self->events.failed (self->events.arg);
        return POOL_ELOST;
    }
    char hex[2 * PROTO_HASH_SIZE + 1];
    proto_hash_hex (hash, hex);
    int rc = 1;
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    while (rc == 1) {
        int64_t now = zclock_mono ();
        if (worker_link_heartbeat (link, now) < 0)
            self->events.failed (self->events.arg);
        int64_t silence = worker_link_silence (link, now);
        if (silence >= WORKER_LINK_FETCH_SILENCE_MS) {
            snprintf (error, error_size,
                      "block %.16s: the head has been silent for %.0f s", hex,
                      (double)silence / 1000.0);
            rc = POOL_ELOST;
            break;
        }
        if (!worker_link_readable (link)) {
            worker_link_wait (link, worker_link_heartbeat_ms (link));
            continue;
        }
        char reason[256] = "";
        int drc = worker_link_recv (link, &msg, reason, sizeof reason);
        if (drc == PROTO_EIO)
            continue;
        if (drc != PROTO_OK) {
            if (worker_link_send_error (link, PROTO_CODE_EPROTO, reason))
                self->events.failed (self->events.arg);
            continue;
        }
        if (msg.type == want && proto_block_hash (&msg)
            && memcmp (proto_block_hash (&msg), hash, PROTO_HASH_SIZE) == 0)
            rc = frame ? s_take_bytes (&msg, hash, hex, frame, error, error_size) : 0;
        else if (msg.type == PROTO_BLOCK || msg.type == PROTO_BLOCK_STORED)
            ; /* an answer to an earlier request that gave up: stale */
        else if (msg.type == PROTO_ERROR && !(msg.present & PROTO_F_POOL)
                 && msg.code != PROTO_CODE_UNKNOWN_PEER) {
            /* The head answers a failed BLOCK_GET/PUT/HOLD with an ERROR naming
               no pool; we have one request out at a time. */
            snprintf (error, error_size, "%s", msg.text ? msg.text : "block store error");
            /* The head's code, as the worker API says it. */
            rc = msg.code == PROTO_CODE_EINVAL     ? POOL_EINVAL
                 : msg.code == PROTO_CODE_ENOSPACE ? POOL_ENOSPACE
                                                   : POOL_EIO;
        } else {
            self->events.message (self->events.arg, &msg);
            if (*self->ending) {
                snprintf (error, error_size, "block %.16s: the worker is ending", hex);
                rc = POOL_ELOST;
            }
        }
        proto_msg_reset (&msg);
    }
    proto_msg_reset (&msg);
    return rc;
}

static int
s_get (void *arg, const uint8_t hash[POOL_HASH_SIZE], zframe_t **bytes, char *error,
       size_t error_size)
{
    worker_blocks_t *self = arg;
    proto_msg_t get;
    proto_msg_init (&get, PROTO_BLOCK_GET);
    proto_msg_add_hash (&get, hash);
    return s_request (self, &get, PROTO_BLOCK, hash, bytes, error, error_size);
}

static int
s_put (void *arg, const uint8_t hash[POOL_HASH_SIZE], const void *data, size_t size,
       char *error, size_t error_size)
{
    worker_blocks_t *self = arg;
    proto_msg_t put;
    proto_msg_init (&put, PROTO_BLOCK_PUT);
    proto_msg_add_hash (&put, hash);
    if (proto_msg_add_bytes (&put, data, size) != PROTO_OK) {
        proto_msg_reset (&put);
        snprintf (error, error_size, "out of memory sending a block");
        return POOL_ENOMEM;
    }
    return s_request (self, &put, PROTO_BLOCK_STORED, hash, NULL, error, error_size);
}

static int
s_hold (void *arg, const uint8_t hash[POOL_HASH_SIZE], char *error, size_t error_size)
{
    worker_blocks_t *self = arg;
    proto_msg_t hold;
    proto_msg_init (&hold, PROTO_BLOCK_HOLD);
    proto_msg_add_hash (&hold, hash);
    return s_request (self, &hold, PROTO_BLOCK_STORED, hash, NULL, error, error_size);
}

worker_block_io_t
worker_blocks_io (worker_blocks_t *self)
{
    return (worker_block_io_t){ self, s_get, s_put, s_hold };
}
