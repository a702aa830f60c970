/*  node/worker_args.h - pool-worker's command line.

    start_node spawns each pool-worker with the head's address, who it is
    (node and worker id), the data directory, the scoreboard page it gets
    as fd 3, the log its own lines go to as fd 4 (its stdout and stderr
    are the user code's, read by the node: worker_output.h) and, on a GPU
    slot, the device it owns.  The keys come in the
    environment (DCPOOL_KEYS), never on the command line.
*/
#ifndef DCPOOL_NODE_WORKER_ARGS_H
#define DCPOOL_NODE_WORKER_ARGS_H

#include <stdint.h>

typedef struct {
    const char *server; /* strings point into argv */
    const char *node;
    const char *id;
    const char *data_dir;
    int gpu_index; /* -1: CPU worker */
    const char *gpu_name;
    const char *gpu_uuid;
    uint64_t gpu_memory;
    int scoreboard_fd; /* -1: none (started by hand) */
    int log_fd;        /* -1: log to stderr (started by hand) */
} worker_args_t;

/*  Fills args from argv.  0; 1 after printing the help on stdout (the
    program ends with 0); -1 after printing what is wrong on stderr. */
int worker_args_parse (worker_args_t *args, int argc, char *argv[]);

#endif
