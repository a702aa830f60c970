/*  node/lock.h - one start_node per data directory.

    The lock is an flock on DATA/node.lock holding the owner's pid, so a
    second start_node on the same directory can say who holds it.  The
    kernel drops the flock when the process dies, so a stale file left by
    kill -9 never blocks the next start.
*/
#ifndef DCPOOL_NODE_LOCK_H
#define DCPOOL_NODE_LOCK_H

#include <stddef.h>

typedef struct node_lock node_lock_t;

/*  Takes the lock of data_dir (which must exist).  0 and *lock set, or -1
    with a message for the user in error[error_size] (naming the pid of the
    holder when another start_node has it). */
int node_lock_acquire (node_lock_t **lock, const char *data_dir, char *error,
                       size_t error_size);

/*  Removes the lock file and releases the lock; nulls *lock. */
void node_lock_release (node_lock_t **lock);

#endif
