/*  test/fuzz/fuzz_msg.c - libFuzzer target for the message decoder.

    The input is split into frames: each frame is a 2-byte little-endian
    length followed by that many bytes (a short tail is the last frame).
    Every outcome is fine except a crash, a leak or undefined behaviour;
    a message that decodes must encode and decode again to the same type
    and the same jobs (ids, attempts, statuses, useqs, shared marks).
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
        size_t len = size >= 2 ? (size_t)(data[0] | (data[1] << 8)) : size;
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
    char reason[256];
    if (proto_msg_decode (&decoded, &msg, reason, sizeof reason) == PROTO_OK) {
        proto_type_t type = decoded.type;
        zmsg_t *again = NULL;
        if (proto_msg_encode (&decoded, &again) == PROTO_OK) {
            proto_msg_t second;
            proto_msg_init (&second, 0);
            int rc = proto_msg_decode (&second, &again, reason, sizeof reason);
            if (rc != PROTO_OK || second.type != type || second.njobs != decoded.njobs)
                __builtin_trap ();
            for (size_t i = 0; i < second.njobs; i++) {
                const proto_job_t *a = &decoded.jobs[i], *b = &second.jobs[i];
                if (a->id != b->id || a->attempt != b->attempt || a->status != b->status
                    || a->useq != b->useq || a->flags != b->flags)
                    __builtin_trap ();
            }
            proto_msg_reset (&second);
        }
        zmsg_destroy (&again);
    }
    proto_msg_reset (&decoded);
    zmsg_destroy (&msg);
    return 0;
}
