/*  head/auth.h - the ZAP handler: only the password's client key gets in.

    libzmq asks the handler about every CURVE handshake on a socket with a
    ZAP domain.  The handler runs in the head's own loop (a REP socket on
    inproc://zeromq.zap.01, watched through its ZMQ_FD: server.c), so there
    is no thread.
*/
#ifndef DCPOOL_HEAD_AUTH_H
#define DCPOOL_HEAD_AUTH_H

#include <czmq.h>
#include "keys.h"

/* Binds the handler socket: it must exist before the ROUTER binds. */
zsock_t *head_auth_new (void);
/* Answers one pending ZAP request on sock: 0, or -1 on a bad request. */
int head_auth_handle (zsock_t *sock, const proto_keys_t *keys, bool verbose);

#endif
