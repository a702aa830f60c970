/*  head/blocks.h - BLOCK_GET, BLOCK_PUT, BLOCK_HOLD and BLOCK_RELEASE: blocks named by
    their hash, kept in the store (store.h); the hash of what is put is
    checked, and a put holds the block for its client (lifetimes.h). */
#ifndef DCPOOL_HEAD_BLOCKS_H
#define DCPOOL_HEAD_BLOCKS_H

#include "head.h"

/* Answers BLOCK with the bytes, or ERROR when the store has none. */
void head_block_get (head_t *head, head_peer_t *peer, proto_msg_t *msg);
/* Stores the block, holds it, and answers BLOCK_STORED, or ERROR. */
void head_block_put (head_t *head, head_peer_t *peer, proto_msg_t *msg);
/*  A put without the bytes of a block the store has: held, answered
    BLOCK_STORED; ERROR EIO when the store has it not. */
void head_block_hold (head_t *head, head_peer_t *peer, proto_msg_t *msg);
/*  Drops one of the client's holds on the block; answers BLOCK_RELEASED
    with code 0, or EINVAL (it held none) or EIO, and the reason. */
void head_block_release (head_t *head, head_peer_t *peer, proto_msg_t *msg);

#endif
