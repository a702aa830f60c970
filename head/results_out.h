/*  head/results_out.h - results gathered for a client over a run of
    RESULT messages, sent as one.

    A client with a hundred workers got a RESULT from the head for every
    RESULT each worker sent: a hundred small messages, each decoded,
    encrypted and woken for.  The head now gathers the entries of
    consecutive RESULTs for one pool and sends them when the run ends: at
    the end of a pass over the ROUTER, before any other message is handled
    (so nothing the head does for a client overtakes its results), when
    RESULTs for another pool come, or when the batch is big.  Small
    payloads stay borrowed from the workers' messages, which are kept
    until the batch goes.
*/
#ifndef DCPOOL_HEAD_RESULTS_OUT_H
#define DCPOOL_HEAD_RESULTS_OUT_H

#include "head.h"

/*  The RESULT to add pool's entries to, with room for njobs more and
    bytes more payload bytes: the batch so far when it is pool's and has
    room, else a fresh one (the batch so far is sent first). */
proto_msg_t *head_results_out_for (head_t *head, head_pool_t *pool, size_t njobs,
                                   size_t bytes);
/*  Keeps msg, a worker's RESULT whose payloads the batch borrows, until the
    batch goes (msg is left empty). */
void head_results_out_keep (head_t *head, proto_msg_t *msg);
/*  Sends the batch, if any, to its pool's client. */
void head_results_out_flush (head_t *head);
/*  Drops the batch when it is pool's (the pool is going). */
void head_results_out_forget (head_t *head, head_pool_t *pool);
/*  Frees what is gathered (the head is going). */
void head_results_out_destroy (head_t *head);

#endif
