/*  head/blocks.h - BLOCK_GET and BLOCK_PUT: blocks named by their hash,
    kept in the store (store.h); the hash of what is put is checked. */
#ifndef DCPOOL_HEAD_BLOCKS_H
#define DCPOOL_HEAD_BLOCKS_H

#include "head.h"

/* Answers BLOCK with the bytes, or ERROR when the store has none. */
void head_block_get (head_t *head, head_peer_t *peer, proto_msg_t *msg);
/* Stores the block and answers BLOCK_STORED, or ERROR. */
void head_block_put (head_t *head, head_peer_t *peer, proto_msg_t *msg);

#endif
