/*  head/feed.h - jobs to workers and results back (feed.c). */
#ifndef DCPOOL_HEAD_FEED_H
#define DCPOOL_HEAD_FEED_H

#include "head.h"

/* Sends the worker the pending jobs its window has room for. */
void head_feed_worker (head_t *head, head_peer_t *worker);
/* Shares the pool's pending jobs out among its ready workers. */
void head_feed_pool (head_t *head, head_pool_t *pool);
/* The worker has the pool loaded: ready, updates, jobs. */
void head_feed_serve (head_t *head, head_peer_t *worker);
/* A RESULT from the worker: to the client, the window adapted, more jobs.
   True when its pool has nothing left to run (the caller rebalances). */
bool head_feed_result (head_t *head, head_peer_t *worker, proto_msg_t *msg);
/* Sends one job's final error to its client and frees it. */
void head_feed_job_fail (head_t *head, head_pool_t *pool, head_job_t **job_p, int code,
                         const char *text);

#endif
