/*  libpool/direct_buffers.c - reused send buffers of the data endpoint.
    See direct_buffers.h. */
#include "direct_buffers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct direct_buffers {
    pthread_mutex_t lock; /* the endpoint's thread and libzmq's */
    size_t size, keep;
    void **idle; /* [keep] */
    size_t nidle;
    size_t lent;   /* buffers libzmq holds */
    bool released; /* the owner let go */
};

direct_buffers_t *
direct_buffers_new (size_t size, size_t keep)
{
    direct_buffers_t *self = calloc (1, sizeof *self);
    void **idle = calloc (keep ? keep : 1, sizeof *idle);
    if (!self || !idle) {
        free (self);
        free (idle);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    self->size = size;
    self->keep = keep;
    self->idle = idle;
    return self;
}

/*  Frees everything; under no lock (nobody else holds self any more). */
static void
s_free (direct_buffers_t *self)
{
    for (size_t i = 0; i < self->nidle; i++)
        free (self->idle[i]);
    free (self->idle);
    pthread_mutex_destroy (&self->lock);
    free (self);
}

void
direct_buffers_release (direct_buffers_t **self_p)
{
    direct_buffers_t *self = *self_p;
    if (!self)
        return;
    *self_p = NULL;
    pthread_mutex_lock (&self->lock);
    self->released = true;
    bool last = self->lent == 0;
    pthread_mutex_unlock (&self->lock);
    if (last)
        s_free (self);
}

/*  libzmq is done with a buffer (in whichever thread closed its message):
    idle again, or freed. */
static void
s_returned (void *data, void *hint)
{
    direct_buffers_t *self = hint;
    pthread_mutex_lock (&self->lock);
    self->lent--;
    bool kept = !self->released && self->nidle < self->keep;
    if (kept)
        self->idle[self->nidle++] = data;
    bool last = self->released && self->lent == 0;
    pthread_mutex_unlock (&self->lock);
    if (!kept)
        free (data);
    if (last)
        s_free (self);
}

int
direct_buffers_msg (direct_buffers_t *self, zmq_msg_t *msg, size_t length, void **data)
{
    if (length > self->size)
        return -1;
    pthread_mutex_lock (&self->lock);
    void *buffer = self->nidle ? self->idle[--self->nidle] : NULL;
    self->lent++;
    pthread_mutex_unlock (&self->lock);
    if (!buffer)
        buffer = malloc (self->size);
    if (buffer && zmq_msg_init_data (msg, buffer, length, s_returned, self) == 0) {
        *data = buffer;
        return 0;
    }
    free (buffer);
    pthread_mutex_lock (&self->lock);
    self->lent--;
    pthread_mutex_unlock (&self->lock);
    return -1;
}
