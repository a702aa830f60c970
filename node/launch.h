/*  node/launch.h - the head side of `start_node --head`.

    Starts redis-server (unless an external Redis URL is given) from a
    generated config in DATA/redis/ with a fresh random password kept in
    DATA/redis.pass (0600), waits until it answers PING on its unix socket,
    then starts pool-head and waits for the port it writes on its ready
    pipe.  Both log to DATA/head.log.  launch_stop stops them in the
    reverse order.
*/
#ifndef DCPOOL_NODE_LAUNCH_H
#define DCPOOL_NODE_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct launch launch_t;

typedef struct {
    const char *data_dir;
    const char *head_bin;  /* path of pool-head */
    const char *redis_bin; /* path of redis-server; unused with redis_url */
    const char *redis_url; /* --redis: external Redis, or NULL */
    const char *password;  /* cluster password; NULL only when insecure */
    bool insecure;
    int port;                /* 0: pool-head picks one */
    int heartbeat_ms;        /* 0: pool-head's default */
    int liveness;            /* 0: pool-head's default */
    long long max_message;   /* 0: pool-head's default, else --max-message */
    long long max_pools;     /* 0: pool-head's default, else --max-pools */
    long long max_frames;    /* 0: pool-head's default, else --max-frames */
    long long max_pending;   /* 0: pool-head's default, else --max-pending */
    long long block_grace;   /* <0: pool-head's default, else --block-grace */
    long long locality_wait; /* <0: pool-head's default, else --locality-wait */
    int http_port;           /* 0: no HTTP, else --http */
    const char *http_bind;   /* --http-bind, or NULL */
    bool verbose;
    /* --block-store URLs, or NULL: pool-head's DCPOOL_BLOCK_STORE */
    const char *block_store;
    /* Bytes, --store-max-memory; the managed Redis gets maxmemory
       launch_redis_maxmemory () of it. */
    unsigned long long store_max_memory;
} launch_config_t;

/*  The managed Redis's maxmemory for a store cap of store_max bytes: a
    little above it (an eighth more and 32 MiB), so the bookkeeping the
    head writes after a put that fitted (holds, pools) never meets
    Redis's own limit; the head's cap refuses puts first.  0 (no limit)
    for a store_max of 0. */
unsigned long long launch_redis_maxmemory (unsigned long long store_max);

/*  Starts Redis and pool-head.  0 and *self set once pool-head listens, or
    -1 with a message in error[error_size] (then nothing is left running). */
int launch_start (launch_t **self, const launch_config_t *config, char *error,
                  size_t error_size);

/* The port pool-head listens on. */
int launch_port (launch_t *self);

/*  Called with every reaped child: when pid is pool-head or redis-server,
    records that it is gone and returns its name, else NULL. */
const char *launch_reaped (launch_t *self, pid_t pid);

/*  Starts again the one (name as launch_reaped gave it) that died:
    redis-server with its config and password, pool-head on the port it
    had.  0 once it is ready, or -1 with the reason in error. */
int launch_restart (launch_t *self, const char *name, char *error, size_t error_size);

/*  Stops pool-head then redis-server (SIGTERM, then SIGKILL after 10 s
    each), waiting for each; frees and nulls *self. */
void launch_stop (launch_t **self);

#endif
