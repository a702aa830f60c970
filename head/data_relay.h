/*  head/data_relay.h - the head passes data plane chunks between a worker and a
    client that cannot reach each other (proto/relay.h): each chunk is sent
    on as it comes, nothing of it kept here.

    A pool's client keeps one relay connection (its data thread's DEALER),
    known to the head by the HELLO it repeats; requests for a pool without
    one are answered NOROUTE, and the worker then gets the bytes the old
    way (PROTO_CODE_RESEND).  Anyone holding the cluster's keys may say
    HELLO for a pool, as anyone holding them may open pools and run code
    on every worker: the keys are the trust boundary.
*/
#ifndef DCPOOL_HEAD_DATA_RELAY_H
#define DCPOOL_HEAD_DATA_RELAY_H

#include "head.h"

/*  When msg (what came from rid, its routing id already taken out) is a
    relay message: handles it, destroys *msg and returns true.  Else
    false, msg untouched. */
bool head_data_relay_take (head_t *head, zframe_t *rid, zmsg_t **msg);

#endif
