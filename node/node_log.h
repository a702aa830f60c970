/*  node/node_log.h - DATA/node.log, where the workers' output goes.

    Workers write their stdout and stderr (and their log lines) straight
    into node.log, through descriptors opened O_APPEND.  Past its cap the
    last half of it (from a line start) becomes node.log.1 and node.log
    starts again from empty: the workers' next writes land at the new end,
    and the disk holds at most about 1.5 x the cap plus what is written
    between two looks (every LOG_CHECK_MS).  Lines written while the copy
    is made are lost.
*/
#ifndef DCPOOL_NODE_LOG_H
#define DCPOOL_NODE_LOG_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

typedef struct node_log node_log_t;

/*  Opens (creates) DATA_DIR/node.log and looks at its size from loop
    (borrowed) every half second; max is its cap in bytes (0: 64 MiB).
    NULL with the reason in error[error_size]. */
node_log_t *node_log_new (const char *data_dir, uint64_t max, zloop_t *loop, char *error,
                          size_t error_size);
/*  Closes the log (the loop must still exist); nulls *self. */
void node_log_destroy (node_log_t **self);

/*  The descriptor children write to (O_APPEND), and the file's path. */
int node_log_fd (const node_log_t *self);
const char *node_log_path (const node_log_t *self);

#endif
