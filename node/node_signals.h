/*  node/node_signals.h - start_node's signals, read in its zloop.

    SIGTERM, SIGINT and SIGCHLD are blocked in every thread
    (node_signals_block, first thing in main) so that they arrive only on
    a signalfd, which the zloop watches like a socket: a signal is handled
    between two messages, never inside one, and children are reaped in the
    loop.  Signals belong to the process: one node_signals_t per process.
*/
#ifndef DCPOOL_NODE_SIGNALS_H
#define DCPOOL_NODE_SIGNALS_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct node_signals node_signals_t;

/*  What the node does with them, called from the loop. */
typedef struct {
    void *arg;
    /* SIGTERM or SIGINT (signo) arrived. */
    void (*stop) (void *arg, int signo);
    /* Called after every look at the signals: SIGCHLDs merge, so one may
       stand for many exits, and children are reaped here.  0, or -1 to
       end the loop. */
    int (*reap) (void *arg);
} node_signals_events_t;

/*  Blocks SIGTERM, SIGINT and SIGCHLD in the calling thread; call first in
    main, before any thread exists (ZeroMQ's included) and before any child
    is started, so they can only arrive on the signalfd. */
void node_signals_block (void);

/*  Watches the signals from loop (borrowed), telling events (copied).
    NULL with the reason in error[error_size]. */
node_signals_t *node_signals_new (zloop_t *loop, const node_signals_events_t *events,
                                  char *error, size_t error_size);
/*  Closes the signalfd; nulls *self.  Call after the loop is destroyed. */
void node_signals_destroy (node_signals_t **self);

/*  Reads the signals waiting (outside the loop, before it runs): true when
    SIGTERM or SIGINT was among them.  A SIGCHLD read here is not
    reported: reap once the loop runs. */
bool node_signals_stop_pending (node_signals_t *self);

#endif
