/*  node/worker_signals.h - SIGTERM and SIGINT in a pool-worker.

    Either one asks the worker to finish the job in hand, answer it, say
    BYE and exit 0.  The handler only sets a flag: the main loop looks at
    it between jobs, and connecting gives up once it is set.  Without
    SA_RESTART, a poll in progress returns and the loop sees the flag.
*/
#ifndef DCPOOL_NODE_WORKER_SIGNALS_H
#define DCPOOL_NODE_WORKER_SIGNALS_H

#include <signal.h>

/*  Installs the handler (and keeps CZMQ from installing its own): 0, or
    -1.  Call once, before CZMQ is used. */
int worker_signals_install (void);

/*  The flag the handler sets: non-zero once SIGTERM or SIGINT came. */
const volatile sig_atomic_t *worker_signals_stop (void);

#endif
