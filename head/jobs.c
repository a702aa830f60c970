/*  head/jobs.c - job records (head.h): a run of consecutive jobs of one
    SUBMIT, their inputs (inline, a frame, or a share of the SUBMIT's
    packed frame), and cutting a record in two where its jobs' fates part.
*/
#include "head.h"
#include "locality.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

/*  Records are recycled through a free list: the head makes and drops
    them all the time, and malloc was a tenth of its time.  One thread, no
    lock. */
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
        memset (job, 0, offsetof (head_job_t, inline_data));
    } else if (!(job = calloc (1, sizeof (head_job_t))))
        return NULL;
    job->count = 1;
    return job;
}

void
head_job_destroy (head_job_t **job)
{
    if (!job || !*job)
        return;
    zframe_destroy (&(*job)->input);
    zmsg_destroy (&(*job)->input_tail);
    head_blob_unref (&(*job)->blob);
    if ((*job)->named) /* most records name no blocks */
        head_named_unref (&(*job)->named);
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

head_blob_t *
head_blob_take (proto_msg_t *msg)
{
    head_blob_t *blob = calloc (1, sizeof *blob);
    if (!blob)
        return NULL;
    if (proto_msg_take_packed (msg, &blob->frame, &blob->off)) {
        free (blob);
        return NULL;
    }
    blob->data = zframe_data (blob->frame);
    blob->refs = 1;
    return blob;
}

void
head_blob_unref (head_blob_t **blob)
{
    if (!blob || !*blob)
        return;
    if (--(*blob)->refs == 0) {
        zframe_destroy (&(*blob)->frame);
        free ((*blob)->off);
        free (*blob);
    }
    *blob = NULL;
}

head_job_t *
head_job_split (head_job_t *job, uint32_t n)
{
    if (n == 0 || n >= job->count || !job->blob)
        return NULL;
    head_job_t *rest = head_job_new ();
    if (!rest)
        return NULL;
    if (job->cause && !(rest->cause = strdup (job->cause))) {
        head_job_destroy (&rest);
        return NULL;
    }
    rest->id = job->id + n;
    rest->count = job->count - n;
    rest->attempt = job->attempt;
    rest->useq = job->useq;
    rest->blob = job->blob;
    rest->blob->refs++;
    rest->first = job->first + n;
    rest->cause_code = job->cause_code;
    rest->shared = job->shared;
    rest->direct = job->direct;
    rest->cancelled = job->cancelled;
    rest->sent_us = job->sent_us;
    if (job->named)
        rest->named = head_named_ref (job->named);
    rest->waiting_since = job->waiting_since;
    job->count = n;
    return rest;
}

void
head_job_input (const head_job_t *job, uint32_t i, const void **data, size_t *size)
{
    assert (!job->input_tail); /* its bytes are not in one place */
    if (job->blob) {
        const size_t *off = job->blob->off + job->first + i;
        *data = job->blob->data + off[0];
        *size = off[1] - off[0];
    } else if (job->input) {
        *data = zframe_data (job->input);
        *size = zframe_size (job->input);
    } else {
        *data = job->inline_data;
        *size = job->inline_size;
    }
}

uint64_t
head_job_bytes (const head_job_t *job)
{
    if (job->blob)
        return job->blob->off[job->first + job->count] - job->blob->off[job->first];
    if (job->input)
        return zframe_size (job->input)
               + (job->input_tail ? zmsg_content_size (job->input_tail) : 0);
    return job->inline_size;
}

head_named_t *
head_named_ref (head_named_t *named)
{
    if (named)
        named->refs++;
    return named;
}

void
head_named_unref (head_named_t **named)
{
    if (!named || !*named)
        return;
    if (--(*named)->refs == 0) {
        free ((*named)->hash);
        free (*named);
    }
    *named = NULL;
}
