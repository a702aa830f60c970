/*  node/worker_data.h - a worker's side of the data plane: fetching a big
    input from its client's data endpoint, and putting a big output there
    (proto/direct.h, DESIGN.md section 13).

    One connection per endpoint, made at the first transfer and kept while
    the pool's client stays the same.  Inputs arrive in chunks, a few in
    flight, into one buffer the worker reuses from job to job (fresh pages
    for tens of MiB cost more than the copy).  An endpoint that does not
    answer within WORKER_DATA_CONNECT_MS is not tried again: the same
    chunks go through the head's relay instead (proto/relay.h), streamed
    as they come.  Any other failure (an ERR, a stall, a head that relays
    nothing to that client: tried again after WORKER_DATA_RELAY_RETRY_MS)
    drops the connection and says why: the caller
    then gets or sends the bytes through the head in messages, so an
    unreachable client costs speed, never a result.
*/
#ifndef DCPOOL_NODE_WORKER_DATA_H
#define DCPOOL_NODE_WORKER_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

/*  How long the first answer on a new connection may take (a client that
    cannot be reached never answers), and any later one. */
#define WORKER_DATA_CONNECT_MS 5000
#define WORKER_DATA_STALL_MS 30000
/*  After the head had no relay to a client, how long its payloads go
    through the head as whole messages before the relay is tried again. */
#define WORKER_DATA_RELAY_RETRY_MS 30000

/*  What a failed transfer returns when the client answered and refused
    (an input it no longer serves: its result came, or it was cancelled),
    as against -1 for one that could not be reached or stalled. */
#define WORKER_DATA_EREFUSED -2

typedef struct worker_data worker_data_t;

/*  For the worker id (borrowed), with the keys its link has (copied) and
    the head's address (its relay; NULL: none).  NULL when out of memory. */
worker_data_t *worker_data_new (const char *id, const proto_keys_t *keys,
                                const char *head);
void worker_data_destroy (worker_data_t **self);

/*  Fetches the input key (its memfd's inode at the client) of size bytes
    from endpoint, the client of pool: 0 with *data (16-byte aligned, valid
    until the next fetch), or -1 or WORKER_DATA_EREFUSED with the reason in
    why[why_size]. */
int worker_data_fetch (worker_data_t *self, const char *endpoint, uint64_t pool,
                       uint64_t key, uint64_t size, const void **data, char *why,
                       size_t why_size);

/*  False once endpoint has not answered and the head relays nothing to it
    either (see above). */
bool worker_data_reachable (const worker_data_t *self, const char *endpoint);

/*  Puts job id's output (attempt, size bytes of data) at endpoint, and
    returns once the client has all of it: 0, or -1 or WORKER_DATA_EREFUSED
    with the reason in why[why_size]. */
int worker_data_put (worker_data_t *self, const char *endpoint, uint64_t pool,
                     uint64_t id, uint64_t attempt, const void *data, size_t size,
                     char *why, size_t why_size);

#endif
