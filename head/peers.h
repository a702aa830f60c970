/*  head/peers.h - the head's peer table: who said HELLO, who left, who died.

    A peer is one DEALER connection that said HELLO (head.h).  This file
    adds and removes peers and keeps the tables (peers, workers, nodes,
    clients) consistent; what a departure means for pools and jobs is the
    scheduler's (head_sched_worker_lost, head_sched_pool_close).
*/
#ifndef DCPOOL_HEAD_PEERS_H
#define DCPOOL_HEAD_PEERS_H

#include "head.h"

/* The table key of a routing id (hex, or a hash of a long one). */
void head_peer_key (zframe_t *rid, char key[24]);
/* The peers table's destructor. */
void head_peer_free (void **item);
/*  HELLO from the connection rid (taken when the peer is kept): a new
    peer, welcomed; the same connection or process again replaces its
    stale entry. */
void head_peer_hello (head_t *head, zframe_t **rid_p, const char *key, proto_msg_t *msg);
/*  Forgets a peer: a worker's jobs are requeued (its death, code != 0,
    charged to the oldest it held), a client's pools closed. */
void head_peer_remove (head_t *head, head_peer_t *peer, int code, const char *why);
/*  A node or client is gone (why: for the log): a node with its workers,
    whose jobs go back to the queue; a client with its pools. */
void head_peer_lost (head_t *head, head_peer_t *peer, const char *why);
/*  WORKER_DIED from a node: the worker is forgotten, and the job, update
    or init its scoreboard names is charged. */
void head_peer_worker_died (head_t *head, head_peer_t *node, proto_msg_t *msg);
/*  A node's heartbeat may carry the GPU memory in use behind each of its
    worker slots: nums [K] for its worker NODEID/wK. */
void head_peer_gpu_usage (head_t *head, head_peer_t *node, proto_msg_t *msg);
/*  Asks the nodes of workers still here CLOSE_GRACE_MS after POOL_CLOSE
    to kill them (WORKER_KILL). */
void head_peer_kill_overdue (head_t *head);

#endif
