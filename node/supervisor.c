/*  node/supervisor.c - the node proper: its parts in one zloop, and how
    it stops.

    The parts: the link to the head (node_link.c), the worker slots and
    their log (node_workers.c, node_log.c), the signals (node_signals.c),
    and in head mode pool-head and redis-server (launch.c).  This file
    wires them together: the first connection to the head, reaping
    children, restarting a head-mode service that died, and the stop.
*/
#include "supervisor.h"
#include "node_link.h"
#include "node_signals.h"
#include "node_workers.h"
#include "spawn.h"
#include "proto/link.h"

#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIRST_ATTEMPT_S 2.0 /* one connection attempt while waiting */
#define FIRST_STALLS_MAX 3  /* stalled handshakes in a row that end the wait */
#define WAITING_LOG_MS 10000

struct supervisor {
    supervisor_config_t config; /* strings borrowed from the caller */
    zloop_t *loop;
    node_signals_t *signals;
    node_link_t *link;       /* NULL when server_only */
    node_workers_t *workers; /* NULL when server_only */
    zmq_pollitem_t lifeline; /* stdin, with stdin_lifeline */
    bool stopping;
    int exit_code;
    int restarts;           /* of pool-head / redis-server ... */
    int64_t restarts_since; /* ... since this zclock_mono */
};

/* ---------------------------------------------------------------------- */
/* Stopping, and children that exit                                        */

static void
s_begin_stop (supervisor_t *self, int exit_code)
{
    if (exit_code > self->exit_code)
        self->exit_code = exit_code;
    if (self->stopping)
        return;
    self->stopping = true;
    if (self->link)
        node_link_stop (self->link);
    if (self->workers)
        node_workers_stop (self->workers);
}

/*  pool-head or redis-server died on its own: start it again, so that a
    crash costs the cluster a pause, not its head.  One that keeps dying
    (5 times within a minute) stops the node instead. */
static void
s_restart_service (supervisor_t *self, const char *name, const char *how)
{
    int64_t now = zclock_mono ();
    if (now - self->restarts_since > 60000) {
        self->restarts_since = now;
        self->restarts = 0;
    }
    if (++self->restarts > 5) {
        zsys_error ("%s %s on its own again, %d times within a minute (see %s/head.log); "
                    "stopping",
                    name, how, self->restarts - 1, self->config.data_dir);
        s_begin_stop (self, 1);
        return;
    }
    zsys_warning ("%s %s on its own (see %s/head.log); starting it again", name, how,
                  self->config.data_dir);
    char error[512];
    if (launch_restart (self->config.launch, name, error, sizeof error)) {
        zsys_error ("cannot restart %s: %s; stopping", name, error);
        s_begin_stop (self, 1);
        return;
    }
    zsys_info ("%s is back", name);
}

static int
s_live_workers (supervisor_t *self)
{
    return self->workers ? node_workers_live (self->workers) : 0;
}

/*  Reaps every child that exited.  Returns -1 when the loop must end. */
static int
s_reap (void *arg)
{
    supervisor_t *self = arg;
    int status;
    pid_t pid;
    siginfo_t info;
    /*  Look before reaping: while the worker is a zombie its pid still
        names its process group, so whatever it forked (in that group) is
        killed with it, and the number cannot have gone to anyone else. */
    while ((info.si_pid = 0, waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT)) == 0
           && info.si_pid > 0) {
        pid = info.si_pid;
        bool worker = self->workers && node_workers_kill_group (self->workers, pid);
        if (waitpid (pid, &status, 0) != pid)
            break;
        if (worker) {
            node_workers_reaped (self->workers, pid, status);
            continue;
        }
        const char *name = launch_reaped (self->config.launch, pid);
        if (name) {
            char how[160];
            spawn_describe (status, how, sizeof how);
            if (self->stopping)
                zsys_info ("%s %s", name, how);
            else
                s_restart_service (self, name, how);
        }
    }
    return self->stopping && s_live_workers (self) == 0 ? -1 : 0;
}

/*  SIGTERM or SIGINT: stop, giving the workers time to finish; a second
    one kills them now. */
static void
s_on_stop (void *arg, int signo)
{
    supervisor_t *self = arg;
    if (self->stopping) {
        zsys_warning ("%s again: killing the workers now", strsignal (signo));
        if (self->workers)
            node_workers_kill_all (self->workers);
    } else {
        zsys_info ("%s: stopping (workers get %d s)", strsignal (signo),
                   NODE_WORKERS_DRAIN_MS / 1000);
        s_begin_stop (self, 0);
    }
}

/*  stdin readable: data is dropped; its end means the program that
    started us (libpool's private cluster) is gone, however it died: stop
    as on SIGTERM. */
static int
s_on_lifeline (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    supervisor_t *self = arg;
    char buffer[256];
    ssize_t got = read (item->fd, buffer, sizeof buffer);
    if (got > 0 || (got < 0 && (errno == EAGAIN || errno == EINTR)))
        return 0;
    zloop_poller_end (loop, item);
    if (!self->stopping)
        zsys_info ("stdin closed: the program that started us is gone; stopping");
    s_begin_stop (self, 0);
    return self->stopping && s_live_workers (self) == 0 ? -1 : 0;
}

/* What the link brings for the workers. */
static void
s_on_kill (void *arg, const proto_msg_t *msg)
{
    node_workers_kill (((supervisor_t *)arg)->workers, msg);
}

static void
s_on_cancel (void *arg, const proto_msg_t *msg)
{
    node_workers_cancel (((supervisor_t *)arg)->workers, msg);
}

static void
s_on_heartbeat (void *arg, proto_msg_t *msg)
{
    node_workers_gpu_usage (((supervisor_t *)arg)->workers, msg);
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                              */

/*  The first connection to the head.  Machines boot in any order: with no
    connect_timeout (0) this waits for the head as long as it takes,
    saying every 10 s or so that it is still waiting and why, and stops on
    SIGTERM or SIGINT; a refused handshake (wrong password) ends it at
    once, and so do FIRST_STALLS_MAX attempts in a row whose handshake
    stalled (PROTO_LINK_EHANDSHAKE: a mismatched --insecure, or once in a
    while a lossy network).  PROTO_OK, or a PROTO_LINK_E* code with the reason in error.
 */
static int
s_first_connect (supervisor_t *self, char *error, size_t error_size)
{
    double limit = self->config.connect_timeout;
    int64_t started = zclock_mono ();
    int64_t logged = started - WAITING_LOG_MS; /* say it at once */
    int stalls = 0;                            /* handshakes stalled in a row */
    while (true) {
        double attempt = FIRST_ATTEMPT_S;
        if (limit > 0) {
            double left = limit - (zclock_mono () - started) / 1000.0;
            if (left < attempt)
                attempt = left > 0.1 ? left : 0.1;
        }
        int rc = node_link_connect (self->link, attempt, error, error_size);
        /* A handshake that stalls once is a lossy network as often as a
           key mismatch; FIRST_STALLS_MAX in a row are the keys. */
        stalls = rc == PROTO_LINK_EHANDSHAKE ? stalls + 1 : 0;
        if (rc == PROTO_LINK_EHANDSHAKE && stalls >= FIRST_STALLS_MAX)
            return rc;
        if (rc == PROTO_OK
            || (rc != PROTO_LINK_ECONNECT && rc != PROTO_LINK_EREFUSED
                && rc != PROTO_LINK_EHANDSHAKE))
            return rc;
        int64_t now = zclock_mono ();
        if (limit > 0 && now - started >= (int64_t)(limit * 1000))
            return rc;
        if (node_signals_stop_pending (self->signals)) {
            snprintf (error, error_size, "stopped while waiting for the head at %s",
                      self->config.server);
            return PROTO_LINK_ECONNECT;
        }
        if (now - logged >= WAITING_LOG_MS) {
            zsys_info ("still waiting for the head at %s (%.0f s so far): %s",
                       self->config.server, (now - started) / 1000.0, error);
            logged = now;
        }
        if (rc == PROTO_LINK_EREFUSED)
            zclock_sleep (500); /* refused at once: do not spin */
    }
}

supervisor_t *
supervisor_new (const supervisor_config_t *config, char *error, size_t error_size)
{
    assert (config && config->node_id && config->data_dir);
    supervisor_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->loop = zloop_new ();
    if (!self->loop) {
        snprintf (error, error_size, "cannot watch signals: %s", strerror (errno));
        goto failed;
    }
    zloop_set_nonstop (self->loop, true);
    node_signals_events_t signal_events = { self, s_on_stop, s_reap };
    self->signals = node_signals_new (self->loop, &signal_events, error, error_size);
    if (!self->signals)
        goto failed;
    if (config->stdin_lifeline) {
        self->lifeline = (zmq_pollitem_t){ .socket = NULL,
                                           .fd = STDIN_FILENO,
                                           .events = ZMQ_POLLIN };
        if (zloop_poller (self->loop, &self->lifeline, s_on_lifeline, self)) {
            snprintf (error, error_size, "cannot watch stdin");
            goto failed;
        }
    }
    if (config->server_only)
        return self;

    node_link_events_t link_events = { self, s_on_kill, s_on_cancel, s_on_heartbeat };
    self->link = node_link_new (&self->config, self->loop, &link_events);
    if (!self->link) {
        snprintf (error, error_size, "out of memory");
        goto failed;
    }
    self->workers
        = node_workers_new (&self->config, self->loop, self->link, error, error_size);
    if (!self->workers)
        goto failed;
    if (s_first_connect (self, error, error_size) != PROTO_OK
        || node_link_up (self->link))
        goto failed;
    zsys_info ("node %s joined the head at %s (heartbeat %d ms, liveness %d)",
               config->node_id, config->server, node_link_heartbeat_ms (self->link),
               node_link_liveness (self->link));
    node_workers_start (self->workers);
    return self;
failed:
    supervisor_destroy (&self);
    return NULL;
}

int
supervisor_run (supervisor_t *self)
{
    /*  A signal that came before the loop (while the head started, say) is
        waiting on the signalfd: the first poll sees it.  A SIGCHLD read
        while waiting for the head (node_signals_stop_pending) is not:
        reap now. */
    s_reap (self);
    zloop_start (self->loop);
    if (self->link)
        node_link_down (self->link);
    return self->exit_code;
}

void
supervisor_destroy (supervisor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    supervisor_t *self = *self_p;
    node_workers_destroy (&self->workers);
    node_link_destroy (&self->link);
    zloop_destroy (&self->loop);
    node_signals_destroy (&self->signals);
    free (self);
    *self_p = NULL;
}
