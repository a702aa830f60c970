/*  head/status.h - the answer to STATUS_REQ: counts and a text report of
    nodes, workers and pools (what `start_node --status` prints); to a
    status peer (start_node --status) also the block store's use, cap and
    blocks (store_limit.h). */
#ifndef DCPOOL_HEAD_STATUS_H
#define DCPOOL_HEAD_STATUS_H

#include "head.h"

/*  Sends STATUS to peer: nums [nodes, workers, pools, workers of req's
    pool, insecure, largest GPU bytes, GPU workers] and the text. */
void head_status_answer (head_t *head, head_peer_t *peer, proto_msg_t *req);

#endif
