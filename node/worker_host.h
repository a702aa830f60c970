/*  node/worker_host.h - one loaded worker library and its instance.

    Loads the pool's worker library from the cache (dlopen RTLD_NOW |
    RTLD_LOCAL), finds its `pool_worker` table, checks abi_version before
    touching anything else in it, and calls init; then runs jobs and
    updates through the table, and destroy at the end.  The version is
    also read from the file before dlopen: a library built for a newer ABI
    is refused naming both versions, instead of failing in dlopen on the
    host functions it calls that this process lacks ("undefined symbol").
    Every call into the library clears the context's error first, so the
    message that comes back belongs to that call.
*/
#ifndef DCPOOL_NODE_WORKER_HOST_H
#define DCPOOL_NODE_WORKER_HOST_H

#include <stddef.h>

#include "pool_worker.h"

typedef struct worker_host worker_host_t;

/*  Loads the library at path and calls its init with init_data; name
    (the library's file name on the client, may be NULL) is what messages
    call it.  Returns 0 with *host set, or with *host NULL and the reason
    in error[error_size]:
    (wire codes, proto/codes.h: they go to the head in WORKER_READY)
      PROTO_CODE_ELIBRARY  not a shared object for this machine, dlopen failed,
                     no `pool_worker` symbol, an ABI version outside
                     1..POOL_WORKER_ABI ("worker library NAME was built for
                     pool_worker ABI 3; this dcpool supports ABI 1..2:
                     upgrade dcpool on the nodes"), or a table without init
                     or run;
      PROTO_CODE_EWORKER   init returned NULL ("init failed: <message>");
      PROTO_CODE_ENOMEM. */
int worker_host_load (worker_host_t **host, const char *path, const char *name,
                      pool_bytes_t init_data, pool_worker_ctx_t *ctx, char *error,
                      size_t error_size);

/*  The class name from the table ("" when it has none). */
const char *worker_host_name (worker_host_t *host);

/*  Runs one job: the run function's return (0 ok, else an error whose
    message, if the library gave one, is worker_ctx_error (ctx)).  The
    caller resets output before. */
int worker_host_run (worker_host_t *host, pool_bytes_t input, pool_output_t *output,
                     pool_worker_ctx_t *ctx);

/*  Applies one update: handle_update's return, or 0 when the class takes
    no updates. */
int worker_host_update (worker_host_t *host, pool_bytes_t update, pool_worker_ctx_t *ctx);

/*  Calls destroy on the instance and frees the host; nulls *host.  The
    library stays mapped: the process exits soon after and the library may
    have left threads or atexit handlers (CUDA does) that unmapping it would
    crash. */
void worker_host_destroy (worker_host_t **host);
/* Lets go of the host without calling the class's destroy (the process is
   ending after a failure: user code gets no further chance to hang it). */
void worker_host_abandon (worker_host_t **host);

#endif
