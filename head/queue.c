/*  head/queue.c - intrusive FIFO of jobs: O(1), never allocates. */
#include "head.h"

void
head_queue_push (head_queue_t *q, head_job_t *job)
{
    job->next = NULL;
    if (q->last)
        q->last->next = job;
    else
        q->first = job;
    q->last = job;
    q->count++;
}

void
head_queue_push_front (head_queue_t *q, head_job_t *job)
{
    job->next = q->first;
    q->first = job;
    if (!q->last)
        q->last = job;
    q->count++;
}

head_job_t *
head_queue_pop (head_queue_t *q)
{
    head_job_t *job = q->first;
    if (!job)
        return NULL;
    q->first = job->next;
    if (!q->first)
        q->last = NULL;
    q->count--;
    job->next = NULL;
    return job;
}

void
head_job_destroy (head_job_t **job)
{
    if (!job || !*job)
        return;
    zframe_destroy (&(*job)->input);
    free ((*job)->cause);
    free (*job);
    *job = NULL;
}

void
head_queue_purge (head_queue_t *q)
{
    head_job_t *job;
    while ((job = head_queue_pop (q)))
        head_job_destroy (&job);
}

void
head_queue_splice_front (head_queue_t *q, head_queue_t *front)
{
    if (!front->first)
        return;
    front->last->next = q->first;
    q->first = front->first;
    if (!q->last)
        q->last = front->last;
    q->count += front->count;
    front->first = front->last = NULL;
    front->count = 0;
}
