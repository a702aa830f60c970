/*  test/fuzz/fuzz_msg.c - libFuzzer target for the message decoder.

    The input is split into frames: each frame is a 2-byte little-endian
    length followed by that many bytes (a short tail is the last frame).
    Every outcome is fine except a crash, a leak or undefined behaviour;
    a message that decodes must encode and decode again to the same type.
*/
#include <stdint.h>
#include <string.h>

#include "msg.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    while (size > 0) {
        size_t len = size >= 2 ? (size_t) (data [0] | (data [1] << 8)) : size;
        if (size >= 2) {
            data += 2;
            size -= 2;
        }
        if (len > size)
            len = size;
        zmsg_addmem (msg, data, len);
        data += len;
        size -= len;
    }
    proto_msg_t decoded;
    proto_msg_init (&decoded, 0);
    char reason [256];
    if (proto_msg_decode (&decoded, &msg, reason, sizeof reason) == PROTO_OK) {
        proto_type_t type = decoded.type;
        zmsg_t *again = NULL;
        if (proto_msg_encode (&decoded, &again) == PROTO_OK) {
            proto_msg_t second;
            proto_msg_init (&second, 0);
            int rc = proto_msg_decode (&second, &again, reason, sizeof reason);
            if (rc != PROTO_OK || second.type != type)
                __builtin_trap ();
            proto_msg_reset (&second);
        }
        zmsg_destroy (&again);
    }
    proto_msg_reset (&decoded);
    zmsg_destroy (&msg);
    return 0;
}
