/*  head/queue.c - intrusive FIFO of jobs: O(1), never allocates. */
#include "head.h"

#include <string.h>

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

/*  Jobs are recycled through a free list: the head makes and drops one
    per job, and malloc was a tenth of its time.  One thread, no lock. */
static head_job_t *s_free_jobs = NULL;
static size_t s_free_count = 0;
#define FREE_JOBS_MAX 8192 /* one client window of jobs */

head_job_t *
head_job_new (void)
{
    head_job_t *job = s_free_jobs;
    if (job) {
        s_free_jobs = job->next;
        s_free_count--;
        memset (job, 0, sizeof *job);
        return job;
    }
    return calloc (1, sizeof (head_job_t));
}

void
head_job_destroy (head_job_t **job)
{
    if (!job || !*job)
        return;
    zframe_destroy (&(*job)->input);
    free ((*job)->cause);
    if (s_free_count < FREE_JOBS_MAX) {
        (*job)->next = s_free_jobs;
        s_free_jobs = *job;
        s_free_count++;
    } else
        free (*job);
    *job = NULL;
}

void
head_job_cache_free (void)
{
    while (s_free_jobs) {
        head_job_t *job = s_free_jobs;
        s_free_jobs = job->next;
        free (job);
    }
    s_free_count = 0;
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

head_job_t *
head_queue_take (head_queue_t *q, uint64_t id, uint32_t attempt)
{
    head_job_t *prev = NULL, *job = q->first;
    while (job && !(job->id == id && job->attempt == attempt)) {
        prev = job;
        job = job->next;
    }
    if (!job)
        return NULL;
    if (prev)
        prev->next = job->next;
    else
        q->first = job->next;
    if (q->last == job)
        q->last = prev;
    q->count--;
    job->next = NULL;
    return job;
}

size_t
head_queue_extract (head_queue_t *q, bool (*match) (const head_job_t *, void *),
                    void *arg, head_queue_t *out)
{
    head_queue_t kept = { 0 };
    size_t moved = 0;
    head_job_t *job;
    while ((job = head_queue_pop (q))) {
        if (match (job, arg)) {
            head_queue_push (out, job);
            moved++;
        } else
            head_queue_push (&kept, job);
    }
    *q = kept;
    return moved;
}
