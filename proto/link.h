/*  proto/link.h - a peer's connection to the head.

    Client pools, nodes and workers all reach the head the same way: a
    DEALER socket, CURVE keys from the password, HELLO, then WELCOME or
    DENIED.  The handshake is watched through a socket monitor, so a wrong
    password is reported as such within the timeout instead of hanging.
*/
#ifndef DCPOOL_PROTO_LINK_H
#define DCPOOL_PROTO_LINK_H

#include "keys.h"
#include "msg.h"

typedef struct proto_link proto_link_t;

/* Results of proto_link_connect, beside PROTO_OK: a range of their own,
   apart from msg.h's PROTO_E* and the wire's PROTO_CODE_* (codes.h). */
#define PROTO_LINK_ECONNECT -20 /* nothing answered within the timeout */
#define PROTO_LINK_EAUTH -21    /* CURVE handshake refused */
#define PROTO_LINK_EDENIED -22  /* the head answered DENIED */
#define PROTO_LINK_EINVAL -23   /* bad server address */
#define PROTO_LINK_EREFUSED -24 /* connections refused (or no route): no head listens */
/*  Connected, but no handshake finished within the timeout: the keys or
    --insecure differ (a mismatched peer often just stalls), or the
    network is slow or lossy (a lost segment early on costs a 1 s
    retransmission).  Said like EAUTH; a caller that makes short attempts
    tries again a few times before it believes the keys are to blame. */
#define PROTO_LINK_EHANDSHAKE -25

/*  Connects to server ("host:port" or "tcp://host:port"), sends hello
    (consumed: its frames go, the message is reset) and waits up to timeout
    seconds for WELCOME, which is left in *welcome when not NULL.  On
    failure *link is NULL and error[error_size] says why in words a user
    understands. */
int proto_link_connect (proto_link_t **link, const char *server, const proto_keys_t *keys,
                        proto_msg_t *hello, double timeout, proto_msg_t *welcome,
                        char *error, size_t error_size);
void proto_link_destroy (proto_link_t **link);

/* The DEALER socket: send and receive proto messages on it. */
zsock_t *proto_link_sock (proto_link_t *link);

/* Heartbeat settings the head gave in WELCOME. */
int proto_link_heartbeat_ms (proto_link_t *link);
int proto_link_liveness (proto_link_t *link);

/*  Milliseconds since this process's TCP connection to the head last
    received bytes (the kernel's count, TCP_INFO), or -1 when unknown.  A
    big message arriving holds the head's heartbeats back behind it on the
    one connection; this tells a peer that finds the head silent whether
    the head is in fact still talking to it. */
int proto_link_quiet_ms (proto_link_t *link);

/* Normalises "host:port" or "tcp://host:port" into "tcp://host:port":
   0, or -1 when it does not look like an address. */
int proto_endpoint (const char *server, char *out, size_t size);

/* A fresh id "<hostname>-<8 hex>" into out[PROTO_ID_MAX + 1]. */
void proto_new_id (char *out, const char *suffix);

#endif
