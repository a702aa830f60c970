/*  node/worker_signals.c - SIGTERM and SIGINT in a pool-worker.
    See worker_signals.h. */
#include "worker_signals.h"

#include <czmq.h>
#include <string.h>

/* A signal handler has no argument: the process's one flag. */
static volatile sig_atomic_t s_stop_requested = 0;

static void
s_on_stop (int signum)
{
    (void)signum;
    s_stop_requested = 1;
}

int
worker_signals_install (void)
{
    /* CZMQ would install its own SIGINT/SIGTERM handler on first use. */
    zsys_handler_set (NULL);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_stop;
    sigemptyset (&action.sa_mask);
    /* No SA_RESTART: a poll in progress returns and the loop sees the flag. */
    if (sigaction (SIGTERM, &action, NULL) || sigaction (SIGINT, &action, NULL))
        return -1;
    return 0;
}

const volatile sig_atomic_t *
worker_signals_stop (void)
{
    return &s_stop_requested;
}
