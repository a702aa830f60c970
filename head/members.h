/*  head/members.h - which worker serves which pool (members.c). */
#ifndef DCPOOL_HEAD_MEMBERS_H
#define DCPOOL_HEAD_MEMBERS_H

#include "head.h"

/* Puts the worker in list (out of any other first). */
void head_members_list (head_worker_list_t *list, head_peer_t *worker);
/* Takes the worker out of the list it is in, if any. */
void head_members_unlist (head_peer_t *worker);
/* Detaches a worker from its pool's counters and list. */
void head_members_leave (head_peer_t *worker);
/* The worker serves pool from now on (its state is the caller's). */
void head_members_join (head_peer_t *worker, head_pool_t *pool);
/* Sends POOL_CLOSE: the worker exits and its node starts a fresh one. */
void head_members_close (head_t *head, head_peer_t *worker);
/* Sends ASSIGN: the worker loads the pool (WORKER_LOADING). */
void head_members_assign (head_t *head, head_peer_t *worker, head_pool_t *pool);
/* Whether the worker may run the pool's code (GPU memory). */
bool head_members_eligible (const head_peer_t *worker, const head_pool_t *pool);

#endif
