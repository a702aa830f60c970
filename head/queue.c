/*  head/queue.c - intrusive FIFO of job records (head.h): push and pop in
    O(1); taking part of a record, or one job out of it, cuts the record
    (head_job_split), the only allocation here. */
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
    q->count += job->count;
}

void
head_queue_push_front (head_queue_t *q, head_job_t *job)
{
    job->next = q->first;
    q->first = job;
    if (!q->last)
        q->last = job;
    q->count += job->count;
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
    q->count -= job->count;
    job->next = NULL;
    return job;
}

/*  Cuts job (in q) after its first n jobs, the rest linked after it. */
static int
s_split_in_place (head_queue_t *q, head_job_t *job, uint32_t n)
{
    head_job_t *rest = head_job_split (job, n);
    if (!rest)
        return -1;
    rest->next = job->next;
    job->next = rest;
    if (q->last == job)
        q->last = rest;
    return 0;
}

head_job_t *
head_queue_pop_upto (head_queue_t *q, size_t most)
{
    head_job_t *job = q->first;
    if (!job || most == 0)
        return NULL;
    if (job->count > most && s_split_in_place (q, job, (uint32_t)most))
        return NULL;
    return head_queue_pop (q);
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

/*  The record of q holding (id, attempt), and the one before it (or NULL),
    or NULL. */
static head_job_t *
s_find (head_queue_t *q, uint64_t id, uint32_t attempt, head_job_t **prev_p)
{
    head_job_t *prev = NULL, *job = q->first;
    while (job && !(id - job->id < job->count && job->attempt == attempt)) {
        prev = job;
        job = job->next;
    }
    *prev_p = prev;
    return job;
}

/* Unlinks job (after prev) from q. */
static void
s_unlink (head_queue_t *q, head_job_t *prev, head_job_t *job)
{
    if (prev)
        prev->next = job->next;
    else
        q->first = job->next;
    if (q->last == job)
        q->last = prev;
    q->count -= job->count;
    job->next = NULL;
}

head_job_t *
head_queue_take (head_queue_t *q, uint64_t id, uint32_t attempt)
{
    head_job_t *prev, *job = s_find (q, id, attempt, &prev);
    if (!job)
        return NULL;
    if (id > job->id) { /* cut before it */
        if (s_split_in_place (q, job, (uint32_t)(id - job->id)))
            return NULL;
        prev = job;
        job = job->next;
    }
    if (job->count > 1 && s_split_in_place (q, job, 1))
        return NULL;
    s_unlink (q, prev, job);
    return job;
}

int
head_queue_done (head_queue_t *q, uint64_t id, uint32_t attempt, head_done_t *done)
{
    head_job_t *prev, *job = s_find (q, id, attempt, &prev);
    if (!job)
        return 0;
    if (id != job->id && id + 1 != job->id + job->count) {
        /* In the middle: cut before it; it is then the first of the rest. */
        if (s_split_in_place (q, job, (uint32_t)(id - job->id)))
            return -1;
        prev = job;
        job = job->next;
    }
    if (job->blob) {
        const size_t *off = job->blob->off + job->first + (id - job->id);
        done->bytes = off[1] - off[0];
    } else
        done->bytes = head_job_bytes (job);
    done->sent_us = job->sent_us;
    done->cancelled = job->cancelled;
    done->shared = job->shared;
    done->direct = job->direct;
    if (job->count == 1) {
        s_unlink (q, prev, job);
        head_job_destroy (&job);
    } else {
        if (id == job->id) { /* the first goes: the run starts after it */
            job->id++;
            job->first++;
        }
        job->count--;
        q->count--;
    }
    return 1;
}

int
head_queue_cut (head_queue_t *q, uint64_t id)
{
    for (head_job_t *job = q->first; job; job = job->next)
        if (id > job->id && id - job->id < job->count)
            return s_split_in_place (q, job, (uint32_t)(id - job->id));
    return 0;
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
            moved += job->count;
            head_queue_push (out, job);
        } else
            head_queue_push (&kept, job);
    }
    *q = kept;
    return moved;
}
