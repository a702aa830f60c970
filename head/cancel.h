/*  head/cancel.h - a client's CANCEL of a range of its pool's jobs
    (cancel.c). */
#ifndef DCPOOL_HEAD_CANCEL_H
#define DCPOOL_HEAD_CANCEL_H

#include "head.h"

/*  The client cancelled the jobs of pool with ids in [from, to): those
    queued are dropped (no RESULT: the client gave them their
    POOL_ECANCELED already); those a worker holds are marked cancelled
    (their RESULT is dropped, a death while running one charges nothing)
    and each such worker is sent CANCEL, its node CANCEL naming the worker
    and the pool's grace (the node kills it if the cancelled run goes on
    longer). */
void head_cancel (head_t *head, head_pool_t *pool, uint64_t from, uint64_t to);

#endif
