/*  node/supervisor.h - the node proper.

    Holds the link to the head (node_link.h: HELLO as role NODE, HEARTBEAT
    every heartbeat_ms, reconnection when the head goes quiet), one slot
    per worker (node_workers.h: pool-worker started with fork/exec,
    respawned with backoff, every exit reported at once as WORKER_DIED),
    and the signals (node_signals.h: child exits, SIGTERM and SIGINT
    arrive on a signalfd watched by the zloop).  In head mode it also
    watches pool-head and redis-server (launch.h).  One per process: the
    signals are the process's.
*/
#ifndef DCPOOL_NODE_SUPERVISOR_H
#define DCPOOL_NODE_SUPERVISOR_H

#include "launch.h"
#include "slots.h"
#include "proto/keys.h"

typedef struct supervisor supervisor_t;

typedef struct {
    const char *server; /* the head, "host:port" */
    const proto_keys_t *keys;
    const char *node_id; /* from proto_new_id */
    const char *data_dir;
    const char *worker_bin;   /* path of pool-worker */
    const node_slot_t *slots; /* copied */
    int nslots;
    double connect_timeout; /* seconds, first connection */
    bool server_only;       /* no link to the head, no workers */
    launch_t *launch;       /* head mode children, or NULL;
                               borrowed, stopped by the caller */
    uint64_t log_max;       /* bytes DATA/node.log may reach (0: 64 MiB) */
    bool stdin_lifeline;    /* end of file on stdin stops it like SIGTERM */
    bool verbose;
} supervisor_config_t;

/*  Connects to the head (unless server_only) and starts the workers; call
    node_signals_block first, in main.  config is copied (its strings
    borrowed, its slots copied).  NULL with a message in error[error_size]
    when the head cannot be reached or refuses us (a wrong password is
    never retried). */
supervisor_t *supervisor_new (const supervisor_config_t *config, char *error,
                              size_t error_size);

/*  Runs until SIGTERM or SIGINT (or, with stdin_lifeline, the end of
    stdin: the program that started us is gone), then drains: BYE, SIGTERM to workers,
    SIGKILL after 5 s), or until a head-mode child that died on its own
    cannot be started again or keeps dying (6 times within a minute).
    Returns the process exit code: 0 for a requested stop, 1 for a
    failure. */
int supervisor_run (supervisor_t *self);

/*  Kills workers still alive, closes the link; nulls *self. */
void supervisor_destroy (supervisor_t **self);

#endif
