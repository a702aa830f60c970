/*  libpool/direct_buffers.h - the buffers the data endpoint sends input
    chunks from, reused.

    An input chunk (a few MiB) was copied into a fresh message for every
    GET, and glibc handed each such block back to the kernel once sent,
    so every chunk faulted its pages in again.  Here a chunk is copied
    into a buffer of ours, which libzmq sends without copying it again and
    gives back when done; the next chunk reuses it while its pages are
    still mapped.  A buffer libzmq still holds when the endpoint stops is
    freed when libzmq lets go of it, whichever thread that is.
*/
#ifndef DCPOOL_LIBPOOL_DIRECT_BUFFERS_H
#define DCPOOL_LIBPOOL_DIRECT_BUFFERS_H

#include <stddef.h>
#include <zmq.h>

typedef struct direct_buffers direct_buffers_t;

/*  Buffers of size bytes each, up to keep of them idle at once; NULL when
    out of memory. */
direct_buffers_t *direct_buffers_new (size_t size, size_t keep);
/*  Drops the caller's hold; the buffers go once libzmq has let go of
    every one it holds.  Nulls *self. */
void direct_buffers_release (direct_buffers_t **self);

/*  msg (uninitialised) made a message of length bytes (at most the
    buffers' size) in one of the buffers, with *data where to write them:
    0, or -1 when out of memory (msg then uninitialised). */
int direct_buffers_msg (direct_buffers_t *self, zmq_msg_t *msg, size_t length,
                        void **data);

#endif
