/*  libpool/direct_server.h - the client's data endpoint: big inputs and outputs
    go between this process and the workers without passing the head
    (proto/direct.h, DESIGN.md section 13).

    A thread of its own serves the endpoint, so workers fetch inputs and
    put outputs while the program does anything else.  The pool offers it
    the memfd of each big input (shared.h keeps them), and takes each big
    output from it when the RESULT naming it arrives.  The endpoint is a
    ROUTER socket, a CURVE server with the cluster's server keys (a peer
    must know them, that is the password, to connect), bound on the
    address this process reaches the head from, or on the address
    $DCPOOL_DATA_ADDRESS names (then advertised as such: a client behind
    a NAT that forwards a port to it).  Workers that cannot reach it send
    the same requests through the head, which passes them to a second
    socket of this thread (a DEALER to the head, proto/relay.h).
*/
#ifndef DCPOOL_LIBPOOL_DIRECT_SERVER_H
#define DCPOOL_LIBPOOL_DIRECT_SERVER_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "msg.h"
#include "relay.h"

#define POOL_DIRECT_ADDRESS_ENV "DCPOOL_DATA_ADDRESS"
/*  "0", "off" or "no": no relay through the head; a worker that cannot
    reach the endpoint gets whole payloads through the head instead. */
#define POOL_DIRECT_RELAY_ENV "DCPOOL_DATA_RELAY"
/*  Output bytes being received or waiting for their RESULT at most: a
    worker whose output does not fit now sends it through the head. */
#define POOL_DIRECT_UPLOADS_MAX ((uint64_t)1 << 30)
/*  An output nobody took after this long is dropped (its RESULT never
    came: the worker died, or another attempt's result came first). */
#define POOL_DIRECT_STALE_MS 300000
/*  Input chunk buffers kept idle for the next GETs (PROTO_DIRECT_CHUNK
    each): two transfers' windows. */
#define POOL_DIRECT_BUFFERS_KEEP 8

typedef struct pool_direct pool_direct_t;

/*  Starts the endpoint for a client of the head at server ("host:port" or
    "tcp://host:port"), with keys (copied).  NULL with the reason in
    error[error_size]: the pool then sends every payload through the head. */
pool_direct_t *pool_direct_new (const char *server, const proto_keys_t *keys, char *error,
                                size_t error_size);
/*  Stops the thread and frees everything it holds; nulls *self. */
void pool_direct_destroy (pool_direct_t **self);

/*  "tcp://address:port", what POOL_OPEN names. */
const char *pool_direct_endpoint (const pool_direct_t *self);

/*  The key the relay's HELLO shows (random, drawn at pool_direct_new),
    into key, for POOL_OPEN: true, or false when $DCPOOL_DATA_RELAY turns
    the relay off. */
bool pool_direct_relay_key (const pool_direct_t *self, uint8_t key[PROTO_RELAY_KEY]);

/*  Relays chunks through the head for pool (just opened, or opened again)
    to workers that cannot reach the endpoint (proto/relay.h), unless
    $DCPOOL_DATA_RELAY says not to. */
void pool_direct_relay (pool_direct_t *self, uint64_t pool);

/*  Serves size bytes of fd (duplicated: the caller keeps its own) as the
    input whose key is key (its memfd's inode).  0, or POOL_ENOMEM /
    POOL_EIO. */
int pool_direct_offer (pool_direct_t *self, uint64_t key, int fd, uint64_t size);
/*  Serves size bytes at data (borrowed: valid until withdrawn) as the
    input key.  0, or POOL_ENOMEM. */
int pool_direct_offer_memory (pool_direct_t *self, uint64_t key, const void *data,
                              uint64_t size);
/*  Stops serving key (no-op when it is not served); once it returns, the
    endpoint reads nothing of it any more. */
void pool_direct_withdraw (pool_direct_t *self, uint64_t key);

/*  The output a worker put for job id, attempt, of size bytes: 0 with
    *frame (the caller's), or -1 when there is none complete.  Either way
    every other output held for id goes (a retried job's). */
int pool_direct_take (pool_direct_t *self, uint64_t id, uint64_t attempt, uint64_t size,
                      zframe_t **frame);

#endif
