/*  head/results_out.c - results gathered for a client over a run of
    RESULT messages, sent as one.  See results_out.h. */
#include "results_out.h"

#include <stdlib.h>

/* A batch goes before it holds more than these. */
#define RESULTS_OUT_JOBS 8192
#define RESULTS_OUT_BYTES ((size_t)4 << 20)
#define RESULTS_OUT_HELD 256 /* worker messages kept */

struct head_results_out {
    head_pool_t *pool; /* NULL: nothing gathered */
    proto_msg_t msg;
    size_t bytes;
    proto_msg_t held[RESULTS_OUT_HELD];
    size_t nheld;
};

/*  Empties self; the batch's arrays stay for the next one. */
static void
s_clear (head_results_out_t *self)
{
    proto_msg_recycle (&self->msg);
    for (size_t i = 0; i < self->nheld; i++)
        proto_msg_reset (&self->held[i]);
    self->nheld = 0;
    self->bytes = 0;
    self->pool = NULL;
}

void
head_results_out_flush (head_t *head)
{
    head_results_out_t *self = head->results_out;
    if (!self || !self->pool)
        return;
    if (self->msg.njobs && self->pool->client)
        head_send (head, self->pool->client, &self->msg);
    s_clear (self);
}

proto_msg_t *
head_results_out_for (head_t *head, head_pool_t *pool, size_t njobs, size_t bytes)
{
    if (!head->results_out) {
        head->results_out = calloc (1, sizeof *head->results_out);
        if (!head->results_out)
            return NULL;
        proto_msg_init (&head->results_out->msg, PROTO_RESULT);
    }
    head_results_out_t *self = head->results_out;
    if (self->pool
        && (self->pool != pool || self->msg.njobs + njobs > RESULTS_OUT_JOBS
            || self->bytes + bytes > RESULTS_OUT_BYTES
            || self->nheld == RESULTS_OUT_HELD))
        head_results_out_flush (head);
    if (!self->pool) {
        proto_msg_set_pool (&self->msg, pool->id);
        self->pool = pool;
    }
    (void)proto_msg_reserve (&self->msg, njobs); /* a hint */
    self->bytes += bytes;
    return &self->msg;
}

void
head_results_out_keep (head_t *head, proto_msg_t *msg)
{
    head_results_out_t *self = head->results_out;
    if (!self || !self->pool)
        return;
    if (self->nheld == RESULTS_OUT_HELD) {
        /* Not after head_results_out_for, which leaves room: the batch
           goes while what it borrows is still there. */
        head_results_out_flush (head);
        return;
    }
    self->held[self->nheld++] = *msg;
    proto_msg_init (msg, msg->type);
}

void
head_results_out_forget (head_t *head, head_pool_t *pool)
{
    head_results_out_t *self = head->results_out;
    if (self && self->pool == pool)
        s_clear (self);
}

void
head_results_out_destroy (head_t *head)
{
    if (!head->results_out)
        return;
    s_clear (head->results_out);
    proto_msg_reset (&head->results_out->msg);
    free (head->results_out);
    head->results_out = NULL;
}
