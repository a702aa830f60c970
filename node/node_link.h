/*  node/node_link.h - start_node's link to the head.

    The node says HELLO as role NODE (its hostname and how many workers it
    runs), sends a HEARTBEAT every heartbeat_ms from the zloop, and counts
    the head lost after liveness heartbeats of silence, or at once when
    the head says it no longer knows us (it restarted, or declared us
    lost).  A lost head is tried again every second in the background:
    the workers keep running and reconnect on their own.
*/
#ifndef DCPOOL_NODE_LINK_H
#define DCPOOL_NODE_LINK_H

#include <czmq.h>

#include "supervisor.h"
#include "proto/msg.h"

typedef struct node_link node_link_t;

/*  What the node does with what the link brings, called from the loop. */
typedef struct {
    void *arg;
    /* WORKER_KILL from the head. */
    void (*kill) (void *arg, const proto_msg_t *msg);
    /* CANCEL from the head (for one of the node's workers). */
    void (*cancel) (void *arg, const proto_msg_t *msg);
    /* A HEARTBEAT is about to go: add what the node reports in it. */
    void (*heartbeat) (void *arg, proto_msg_t *msg);
} node_link_events_t;

/*  A link, not connected yet, to config's server, as config's node (the
    config and loop are borrowed; events copied).  NULL when out of
    memory. */
node_link_t *node_link_new (const supervisor_config_t *config, zloop_t *loop,
                            const node_link_events_t *events);
/*  Drops the link (the loop must still exist); nulls *self. */
void node_link_destroy (node_link_t **self);

/*  One connection attempt of up to timeout seconds: HELLO, WELCOME.  0,
    or a PROTO_LINK_E* code with the reason in error[error_size]. */
int node_link_connect (node_link_t *self, double timeout, char *error, size_t error_size);
/*  Arms the reader and the heartbeat timer for the link just connected:
    0, or -1. */
int node_link_up (node_link_t *self);
/*  Stops reading the link and drops it. */
void node_link_down (node_link_t *self);

/*  Sends msg when the link is up and the node has not said BYE (else
    drops it); msg is reset either way.
    A failed send is logged, not returned: the heartbeat finds a dead
    link. */
void node_link_send (node_link_t *self, proto_msg_t *msg);
/*  The node is stopping: BYE to the head, and nothing more after it (no
    heartbeats, reports of workers' ends or output, reconnections). */
void node_link_stop (node_link_t *self);

/*  Heartbeat settings the head gave in WELCOME. */
int node_link_heartbeat_ms (const node_link_t *self);
int node_link_liveness (const node_link_t *self);

#endif
