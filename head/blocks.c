/*  head/blocks.c - blocks in and out of the store (blocks.h). */
#include "blocks.h"

#include <string.h>

#include "lifetimes.h"
#include "shards.h"
#include "locality.h"
#include "store.h"
#include "store_limit.h"
#include "views.h"

/*  Who a put by peer holds the block for: a client itself, a worker its
    pool's client; "" for nobody. */
static void
s_holder (head_peer_t *peer, char name[HEAD_HOLDER_MAX])
{
    name[0] = 0;
    if (peer->role == PROTO_ROLE_CLIENT)
        head_lifetimes_client_holder (peer->id, name);
    else if (peer->role == PROTO_ROLE_WORKER && peer->pool && peer->pool->client)
        head_lifetimes_client_holder (peer->pool->client->id, name);
}

void
head_block_get (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    bool missing = false;
    zframe_t *frame
        = head_shards_block_get (head->shards, proto_block_hash (msg), &missing);
    if (!frame) {
        char hex[2 * PROTO_HASH_SIZE + 1];
        proto_hash_hex (proto_block_hash (msg), hex);
        head_send_error (head, peer, 0, PROTO_CODE_EIO, "block %s: %s", hex,
                         missing ? "not in the store" : head_shards_error (head->shards));
        return;
    }
    proto_msg_t out;
    proto_msg_init (&out, PROTO_BLOCK);
    proto_msg_add_hash (&out, proto_block_hash (msg));
    head_locality_served (head, zframe_size (frame));
    proto_msg_add_frame (&out, &frame);
    head_send (head, peer, &out);
    proto_msg_reset (&out);
}

/* Stores a block named by its hash and says so; the hash is checked. */
void
head_block_put (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    zframe_t *frame = proto_msg_pop_frame (msg);
    uint8_t hash[PROTO_HASH_SIZE];
    char holder[HEAD_HOLDER_MAX];
    char why[512];
    int code = 0;
    proto_hash (zframe_data (frame), zframe_size (frame), hash);
    s_holder (peer, holder);
    if (memcmp (hash, proto_block_hash (msg), PROTO_HASH_SIZE) != 0)
        head_send_error (head, peer, 0, PROTO_CODE_EINVAL,
                         "BLOCK_PUT: the bytes do not match their hash");
    else if ((code = head_store_limit_put (head, hash, zframe_data (frame),
                                           zframe_size (frame), why, sizeof why)))
        head_send_error (
            head, peer, 0, code, "%s%s",
            code == PROTO_CODE_ENOSPACE ? "" : "cannot store the block: ", why);
    else if (head_holds_add (head->store, holder, hash, head_lifetimes_deadline (head)))
        head_send_error (head, peer, 0, PROTO_CODE_EIO,
                         "stored the block but cannot record its holder: %s",
                         head_store_error (head->store));
    else {
        proto_msg_t out;
        proto_msg_init (&out, PROTO_BLOCK_STORED);
        proto_msg_add_hash (&out, hash);
        head_send (head, peer, &out);
        proto_msg_reset (&out);
    }
    zframe_destroy (&frame);
}

/* Holds a block the sender knows is stored, as a put would. */
void
head_block_hold (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    const uint8_t *hash = proto_block_hash (msg);
    char holder[HEAD_HOLDER_MAX];
    s_holder (peer, holder);
    bool exists = false;
    char hex[2 * PROTO_HASH_SIZE + 1];
    proto_hash_hex (hash, hex);
    int rc;
    if (head_shards_count (head->shards) == 0)
        rc = head_holds_add_existing (head->store, holder, hash,
                                      head_lifetimes_deadline (head), &exists);
    else if (head_shards_block_exists (head->shards, hash, &exists)) {
        /* The bytes are on a block server, which cannot say. */
        head_send_error (head, peer, 0, PROTO_CODE_EIO, "cannot hold block %s: %s", hex,
                         head_shards_error (head->shards));
        return;
    } else
        rc = exists ? head_holds_add (head->store, holder, hash,
                                      head_lifetimes_deadline (head))
                    : 0;
    if (rc)
        head_send_error (head, peer, 0, PROTO_CODE_EIO, "cannot hold block %s: %s", hex,
                         head_store_error (head->store));
    else if (!exists)
        head_send_error (head, peer, 0, PROTO_CODE_EIO, "block %s: not in the store",
                         hex);
    else {
        proto_msg_t out;
        proto_msg_init (&out, PROTO_BLOCK_STORED);
        proto_msg_add_hash (&out, hash);
        head_send (head, peer, &out);
        proto_msg_reset (&out);
    }
}

void
head_block_release (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    const uint8_t *hash = proto_block_hash (msg);
    char holder[HEAD_HOLDER_MAX];
    head_lifetimes_client_holder (peer->id, holder);
    bool held = false;
    proto_msg_t out;
    proto_msg_init (&out, PROTO_BLOCK_RELEASED);
    proto_msg_add_hash (&out, hash);
    if (head_holds_release (head->store, holder, hash, head_lifetimes_deadline (head),
                            &held)) {
        proto_msg_set_code (&out, PROTO_CODE_EIO);
        proto_msg_set_text (&out, "cannot release the block: %s",
                            head_store_error (head->store));
    } else if (!held) {
        char hex[2 * PROTO_HASH_SIZE + 1];
        proto_hash_hex (hash, hex);
        proto_msg_set_code (&out, PROTO_CODE_EINVAL);
        proto_msg_set_text (&out,
                            "block %s is not held by this client (never put by it, "
                            "or already deleted)",
                            hex);
    } else
        proto_msg_set_code (&out, 0);
    head_send (head, peer, &out);
    proto_msg_reset (&out);
}
