/*  test/fuzz/fuzz_direct.c - libFuzzer target for the data plane's decoder
    (proto_direct_decode), which reads what any peer of a client's data
    endpoint or of a worker sends (proto/direct.h).

    The input is split into frames as for fuzz_msg: each frame is a 2-byte
    little-endian length followed by that many bytes (a short tail is the
    last frame).  Every outcome is fine except a crash, a leak or undefined
    behaviour; a message that decodes must hold what the decoder promises
    (a known kind, length at most a chunk, offset + length at most total,
    total at most PROTO_DIRECT_TOTAL_MAX, a body exactly when the kind has
    one, of length bytes for DATA and PUT), must encode back to the same
    bytes and decode again to the same fields, and the encoder must refuse
    the same header with a body of the wrong size or a body where the kind
    has none.
*/
#include <stdint.h>
#include <string.h>

#include "direct.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Whether two messages have the same frames, byte for byte. */
static bool
s_same (zmsg_t *a, zmsg_t *b)
{
    if (zmsg_size (a) != zmsg_size (b))
        return false;
    for (zframe_t *fa = zmsg_first (a), *fb = zmsg_first (b); fa && fb;
         fa = zmsg_next (a), fb = zmsg_next (b))
        if (!zframe_eq (fa, fb))
            return false;
    return true;
}

static bool
s_same_fields (const proto_direct_t *a, const proto_direct_t *b)
{
    return a->kind == b->kind && a->key == b->key && a->attempt == b->attempt
           && a->offset == b->offset && a->length == b->length && a->total == b->total;
}

/* What the decoder promises of a message it took. */
static void
s_check_promises (const proto_direct_t *head, zframe_t *body, zmsg_t *msg, size_t frames)
{
    if (zmsg_size (msg) != frames)
        __builtin_trap (); /* msg keeps its frames */
    if (head->kind < PROTO_DIRECT_GET || head->kind > PROTO_DIRECT_ERR)
        __builtin_trap ();
    bool has_body = head->kind == PROTO_DIRECT_DATA || head->kind == PROTO_DIRECT_PUT
                    || head->kind == PROTO_DIRECT_ERR;
    if (has_body != (body != NULL) || frames != (has_body ? 2u : 1u))
        __builtin_trap ();
    if (head->kind == PROTO_DIRECT_ERR)
        return;
    if (head->length > PROTO_DIRECT_CHUNK || head->total > PROTO_DIRECT_TOTAL_MAX
        || head->offset > head->total || head->offset + head->length > head->total)
        __builtin_trap ();
    if (body && zframe_size (body) != head->length)
        __builtin_trap ();
}

/* Encoding head with a body of the wrong size, or a body where the kind
   has none, gives no message (and takes the body). */
static void
s_check_refusals (const proto_direct_t *head)
{
    zframe_t *wrong = NULL;
    if (head->kind == PROTO_DIRECT_DATA || head->kind == PROTO_DIRECT_PUT) {
        wrong = zframe_new (NULL, (size_t)head->length + 1);
        zmsg_t *none = proto_direct_encode (head, NULL);
        if (none)
            __builtin_trap (); /* the body is missing */
    } else if (head->kind != PROTO_DIRECT_ERR)
        wrong = zframe_new ("x", 1);
    if (!wrong)
        return;
    zmsg_t *refused = proto_direct_encode (head, &wrong);
    if (refused || wrong)
        __builtin_trap ();
}

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
    size_t frames = zmsg_size (msg);
    proto_direct_t head;
    zframe_t *body = NULL;
    char reason[128];
    if (proto_direct_decode (msg, &head, &body, reason, sizeof reason) == 0) {
        s_check_promises (&head, body, msg, frames);
        zframe_t *copy = body ? zframe_dup (body) : NULL;
        zmsg_t *again = proto_direct_encode (&head, body ? &copy : NULL);
        if (!again || copy || !s_same (again, msg))
            __builtin_trap ();
        proto_direct_t second;
        zframe_t *second_body = NULL;
        if (proto_direct_decode (again, &second, &second_body, reason, sizeof reason) != 0
            || !s_same_fields (&head, &second) || (second_body != NULL) != (body != NULL))
            __builtin_trap ();
        zmsg_destroy (&again);
        s_check_refusals (&head);
    } else if (body || !reason[0])
        __builtin_trap (); /* a refusal says why and hands out nothing */
    zmsg_destroy (&msg);
    return 0;
}
