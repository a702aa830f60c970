/*  proto/relay.c - the relay frame.  See relay.h. */
#include "relay.h"

#include <string.h>

void
proto_relay_frame (proto_relay_kind_t kind, uint64_t pool,
                   uint8_t frame[PROTO_RELAY_FRAME])
{
    uint64_t words[2] = { (uint64_t)PROTO_RELAY_MAGIC | (uint64_t)kind << 32, pool };
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 8; i++)
            frame[8 * w + i] = (uint8_t)(words[w] >> (8 * i));
}

bool
proto_relay_read (zframe_t *frame, proto_relay_t *relay)
{
    if (!frame || zframe_size (frame) != PROTO_RELAY_FRAME)
        return false;
    const uint8_t *p = zframe_data (frame);
    uint64_t words[2] = { 0, 0 };
    for (int w = 0; w < 2; w++)
        for (int i = 7; i >= 0; i--)
            words[w] = (words[w] << 8) | p[8 * w + i];
    uint32_t kind = (uint32_t)(words[0] >> 32);
    if ((uint32_t)words[0] != PROTO_RELAY_MAGIC || kind < PROTO_RELAY_HELLO
        || kind > PROTO_RELAY_NOROUTE)
        return false;
    relay->kind = (proto_relay_kind_t)kind;
    relay->pool = words[1];
    return true;
}
