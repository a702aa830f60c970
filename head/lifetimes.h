/*  head/lifetimes.h - when blocks go: who holds them (holds.h) as clients
    and pools come and go, and the sweep that deletes the unheld.

    A client's pool_put holds the block for that client (by client id), a
    worker's put for its pool's client; an open pool holds its library
    and init data.  A closed pool releases its holds at once; a client
    that leaves or is lost (the path that closes its pools) releases all
    its holds --block-grace later unless it says HELLO again before (it
    was only cut off, and recovers).  A block whose last holder let go is
    deleted --block-grace later unless held again; a timer sweeps once a
    second.  Every holder found in Redis when the head starts (its
    previous life's clients and pools) is gone from then on: it lets go
    after the grace (at least HEAD_ORPHAN_WAIT_MS) unless its client is
    back by then.  While the head stops, nothing is released: it is not
    the clients leaving.  With block servers (shards.h) the sweep deletes
    a block's bytes on the server holding it; one that fails keeps them
    until a later sweep finds it back.
*/
#ifndef DCPOOL_HEAD_LIFETIMES_H
#define DCPOOL_HEAD_LIFETIMES_H

#include "head.h"
#include "holds.h"

#define HEAD_SWEEP_MS 1000
#define HEAD_SWEEP_MOST 1024 /* blocks deleted per sweep at most */
#define HEAD_ORPHAN_WAIT_MS 30000
#define HEAD_SWEEP_RETRY_MS 10000 /* a block server failed: delete then */

/*  Marks the holders of a previous life gone and starts the sweep timer:
    0, or -1 when the timer cannot be set (a Redis failure is logged). */
int head_lifetimes_start (head_t *head);
/* The holder name of a client id / a pool. */
void head_lifetimes_client_holder (const char *client_id, char name[HEAD_HOLDER_MAX]);
void head_lifetimes_pool_holder (uint64_t pool_id, char name[HEAD_HOLDER_MAX]);
/* Unix ms when a block released now may be deleted. */
int64_t head_lifetimes_deadline (head_t *head);
/* A pool opened: it holds its library and init data. 0 or -1 (logged). */
int head_lifetimes_pool_open (head_t *head, head_pool_t *pool);
/* A pool closed: its holds go. */
void head_lifetimes_pool_close (head_t *head, head_pool_t *pool);
/* A client connection left or was lost: its holds go after the grace. */
void head_lifetimes_client_gone (head_t *head, head_peer_t *client);
/* A client said HELLO: what it holds stays. */
void head_lifetimes_client_back (head_t *head, head_peer_t *client);

#endif
