/*  node/node_signals.c - start_node's signals, read in its zloop.
    See node_signals.h. */
#include "node_signals.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct node_signals {
    int fd; /* the signalfd */
    zmq_pollitem_t item;
    node_signals_events_t events;
};

static void
s_handled (sigset_t *set)
{
    sigemptyset (set);
    sigaddset (set, SIGTERM);
    sigaddset (set, SIGINT);
    sigaddset (set, SIGCHLD);
}

void
node_signals_block (void)
{
    sigset_t set;
    s_handled (&set);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
}

static int
s_on_signals (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    node_signals_t *self = arg;
    struct signalfd_siginfo info;
    while (read (self->fd, &info, sizeof info) == sizeof info)
        if (info.ssi_signo != SIGCHLD) /* reaped below */
            self->events.stop (self->events.arg, (int)info.ssi_signo);
    /*  Always reap: SIGCHLDs merge, one may stand for many exits. */
    return self->events.reap (self->events.arg);
}

node_signals_t *
node_signals_new (zloop_t *loop, const node_signals_events_t *events, char *error,
                  size_t error_size)
{
    node_signals_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->events = *events;
    sigset_t set;
    s_handled (&set);
    self->fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (self->fd < 0) {
        snprintf (error, error_size, "cannot watch signals: %s", strerror (errno));
        goto failed;
    }
    self->item = (zmq_pollitem_t){ .socket = NULL, .fd = self->fd, .events = ZMQ_POLLIN };
    if (zloop_poller (loop, &self->item, s_on_signals, self)) {
        snprintf (error, error_size, "cannot watch signals");
        goto failed;
    }
    return self;
failed:
    node_signals_destroy (&self);
    return NULL;
}

void
node_signals_destroy (node_signals_t **self)
{
    if (!*self)
        return;
    if ((*self)->fd >= 0)
        close ((*self)->fd);
    free (*self);
    *self = NULL;
}

bool
node_signals_stop_pending (node_signals_t *self)
{
    struct signalfd_siginfo info;
    bool stop = false;
    while (read (self->fd, &info, sizeof info) == sizeof info)
        stop |= info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT;
    return stop;
}
