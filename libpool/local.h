/*  libpool/local.h - local mode's private cluster.

    A pool opened with no server, no $DCPOOL_SERVER and no head answering
    on 127.0.0.1:8899 runs on a cluster of its own on this machine:
    `start_node --head` (Redis, pool-head and a node with a worker per GPU,
    or per core) on a free port, with a random password and a data
    directory made by mkdtemp under $TMPDIR (or /tmp).  One per process,
    shared by all its pools and reference counted: the first
    pool_local_acquire starts it, the last pool_local_release stops it,
    and pool.c's exit handler stops it at exit.

    It leaves nothing behind, even when the program is killed with
    SIGKILL: start_node reads its stdin from a pipe only this process
    writes to (--stdin-lifeline), so the end of the program, however it
    comes, stops start_node, which stops its children and removes the
    data directory (--remove-data-dir); its children die with it
    (PR_SET_PDEATHSIG, node/spawn.h).

    start_node is $DCPOOL_START_NODE when set, else the build tree's, else
    the installed one, else found on PATH.
*/
#ifndef DCPOOL_LIBPOOL_LOCAL_H
#define DCPOOL_LIBPOOL_LOCAL_H

#include <stddef.h>

/*  Takes a reference on the private cluster, starting it (and waiting
    until its head and node say they are ready) when there is none.  0
    with its address ("127.0.0.1:PORT") in server[server_size] and its
    password in password[password_size], or a POOL_E* code with the
    reason in error[error_size] (then nothing of it is left). */
int pool_local_acquire (char *server, size_t server_size, char *password,
                        size_t password_size, char *error, size_t error_size);

/*  Gives back a reference; the last one stops the cluster and waits for
    it to be gone (its data directory too). */
void pool_local_release (void);

/*  At exit: stops the cluster whatever its references (they may still be
    given back afterwards). */
void pool_local_exit (void);

#endif
