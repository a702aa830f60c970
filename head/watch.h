/*  head/watch.h - noticing at once that a peer's connection closed.

    A node killed with kill -9, or a client that exits, closes its TCP
    connections: the kernel says so at once, long before liveness x
    heartbeat of silence.  The head's ROUTER is monitored for
    disconnections; after one, every node and client is sent a HEARTBEAT
    with ZMQ_ROUTER_MANDATORY on, and those whose routing id libzmq no
    longer knows (EHOSTUNREACH) are declared lost then and there.  A node
    frozen or cut off by the network keeps its connection and is still
    found by the heartbeat timer.  Workers are left to their node, which
    reports each death with the job it was running.
*/
#ifndef DCPOOL_HEAD_WATCH_H
#define DCPOOL_HEAD_WATCH_H

#include "head.h"

/*  Sets ROUTER_MANDATORY and starts monitoring the ROUTER from the loop:
    0, or -1 (then only the heartbeat timer notices lost peers). */
int head_watch_start (head_t *head);
void head_watch_stop (head_t *head);

/*  Sends a HEARTBEAT to every node and client; those unreachable are
    lost (head_peer_lost).  Also what the heartbeat timer does. */
void head_watch_probe (head_t *head, bool expire_silent);

#endif
