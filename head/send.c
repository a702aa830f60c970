/*  head/send.c - what the head sends to a peer: one message, or an ERROR.
    The only place that writes to the ROUTER socket besides the loop's own
    answers to connections that never said HELLO. */
#include "head.h"

#include <stdarg.h>
#include <stdio.h>

int
head_send (head_t *head, head_peer_t *peer, proto_msg_t *msg)
{
    if (!peer || !peer->rid)
        return -1;
    int rc = proto_msg_send_router (msg, head->router, peer->rid);
    head->metrics.bytes_out += msg->wire_size;
    if (rc != PROTO_OK)
        zsys_warning ("pool-head: cannot send %s to %s", proto_type_name (msg->type),
                      peer->id);
    return rc;
}

void
head_send_error_to (head_t *head, zframe_t *rid, uint64_t pool, int code,
                    const char *text)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_ERROR);
    if (pool)
        proto_msg_set_pool (&msg, pool);
    proto_msg_set_code (&msg, code);
    proto_msg_set_text (&msg, "%s", text);
    proto_msg_send_router (&msg, head->router, rid);
    proto_msg_reset (&msg);
}

void
head_send_error (head_t *head, head_peer_t *peer, uint64_t pool, int code,
                 const char *format, ...)
{
    if (!peer || !peer->rid)
        return;
    char text[1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    head_send_error_to (head, peer->rid, pool, code, text);
}
