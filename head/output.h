/*  head/output.h - what workers write, on its way to their pool's client.

    A node sends OUTPUT {id: worker id, seq: its pid, code: stream, text:
    lines} for what a worker process wrote on its stdout or stderr (cut,
    rate-limited: node/output_lines.h).  The head passes it on as OUTPUT
    {pool, id, code, text} to the client that owns the worker's pool (or,
    for a worker the head has just closed, the pool it had: a released
    worker's last RESULT may overtake its last lines, which come through
    its node), and to no one else: a worker of another node, a process the worker slot no
    longer runs, a worker in no pool, or a pool opened with forward_output
    0: dropped.
*/
#ifndef DCPOOL_HEAD_OUTPUT_H
#define DCPOOL_HEAD_OUTPUT_H

#include "head.h"

/*  OUTPUT from node: forwarded to the client of the worker's pool, or
    dropped (a malformed one is logged). */
void head_output_forward (head_t *head, head_peer_t *node, const proto_msg_t *msg);

#endif
