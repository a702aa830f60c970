/*  head/balance.h - the fair share of workers between pools (balance.c).
    head_sched_rebalance, head_sched_worker_park and head_sched_park_expire
    are declared in scheduler.h. */
#ifndef DCPOOL_HEAD_BALANCE_H
#define DCPOOL_HEAD_BALANCE_H

#include "head.h"

/* Parked workers whose pool is open again (and replayed) take it back. */
void head_balance_unpark (head_t *head);

#endif
