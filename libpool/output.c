/*  libpool/output.c - what the pool's workers wrote, handed to the
    application: OUTPUT from the head (proto/views.h: whole lines, each
    ending in '\n'), line by line, to pool_options_t.output or, when none
    is set, to our stderr as "(worker-id) line".  Called by the session
    (session.c) in the thread that waits inside a libpool call, never from
    another thread.
*/
#include "pool_private.h"

#include <stdio.h>
#include <string.h>

void
pool_output_deliver (pool_t *self, proto_msg_t *msg)
{
    proto_output_t output;
    char reason[128];
    if (proto_output_get (msg, &output, reason, sizeof reason) != PROTO_OK)
        return; /* malformed: dropped, never trusted */
    const char *line = output.text;
    const char *end = output.text + output.size;
    while (line < end) {
        const char *newline = memchr (line, '\n', (size_t)(end - line));
        size_t size = newline ? (size_t)(newline - line) : (size_t)(end - line);
        if (self->output) {
            /* The text is one NUL-terminated string: the line is made one
               in place for the callback, then put back. */
            char *at = msg->text + (line - output.text) + size;
            char saved = *at;
            *at = 0;
            {
                /* No future's callback runs inside it (pool_in_callback). */
                bool outer = pool_in_callback;
                pool_in_callback = true;
                self->output (output.id, output.stream, line, size, self->output_arg);
                pool_in_callback = outer;
            }
            *at = saved;
        } else
            fprintf (stderr, "(%s) %.*s\n", output.id, (int)size, line);
        line += size + 1;
    }
}
