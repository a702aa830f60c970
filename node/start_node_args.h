/*  node/start_node_args.h - start_node's command line.

    docs/INTERNALS.md pins down the flags; start_node --help says what
    each does.  Numbers are read by proto_parse_int (proto/parse.h) and
    must lie inside each flag's range; the ranges of the head's limits are
    pool-head's own, so a bad value fails here, not in the head's log.
*/
#ifndef DCPOOL_NODE_START_NODE_ARGS_H
#define DCPOOL_NODE_START_NODE_ARGS_H

#include <stdbool.h>

typedef struct {
    bool head;
    bool status;
    bool server_only;
    bool insecure;
    bool verbose;
    const char *address;
    int port;       /* the head's; 8899 unless given */
    char *password; /* owned copy */
    const char *redis_url;
    char *block_store; /* --block-store URLs (owned copy; argv wiped), or NULL */
    const char *data_dir;
    const char *gpus;
    int max_gpus;            /* -1: no limit */
    int cpu_workers;         /* -1: one per core */
    int simulate_gpus;       /* tests only: 0, or N synthetic GPUs */
    int heartbeat_ms;        /* 0: the head's default */
    int liveness;            /* 0: the head's default */
    long long max_message;   /* 0: the head's default (bytes) */
    long long max_pools;     /* 0: the head's default */
    long long max_frames;    /* 0: the head's default */
    long long max_pending;   /* 0: the head's default */
    long long block_grace;   /* seconds, when block_grace_set */
    bool block_grace_set;    /* else the head's default (600) */
    long long locality_wait; /* ms, when locality_wait_set */
    bool locality_wait_set;  /* else the head's default (50) */
    long long log_max_mb;    /* node.log cap; 0: the default */
    const char *advertise;   /* the address in the join line, or NULL */
    double timeout;          /* seconds */
    bool stdin_lifeline;     /* stop when stdin reaches end of file */
    bool remove_data_dir;    /* remove --data-dir when stopping */
    int http_port;           /* head: --http, 0 off */
    const char *http_bind;   /* head: --http-bind, or NULL (127.0.0.1) */
    /* Bytes: --store-max-memory, or (with --head) a quarter of the
       machine's memory. */
    unsigned long long store_max_memory;
    bool store_max_memory_set;
    /* --serve (serve.h): a published function on an HTTP port */
    int serve_port;            /* -1: not serving; 0: any free port */
    const char *library;       /* --library: the worker library */
    const char *init_file;     /* --init: its init data */
    const char *serve_bind;    /* --serve-bind: NULL is 127.0.0.1 */
    long long serve_max_body;  /* bytes a request body may have */
    int serve_max_connections; /* open HTTP connections at most */
    int serve_idle;            /* seconds a connection may sit idle */
} start_node_options_t;

/*  Fills options from argv (strings point into argv, except the password,
    which is a copy: from -r, whose argument is then wiped from argv, or
    from DCPOOL_PASSWORD).  0; 1 after printing the help on stdout (the
    program ends with 0); -1 after printing what is wrong on stderr. */
int start_node_args_parse (start_node_options_t *options, int argc, char *argv[]);

/*  Wipes and frees the password and the block store's URLs. */
void start_node_args_clear (start_node_options_t *options);

/*  Reads a number for flag (or an environment variable) in [min, max]
    into out: 0, or -1 after printing what the flag wants. */
int start_node_args_int (const char *text, const char *flag, int min, int max, int *out);

#endif
