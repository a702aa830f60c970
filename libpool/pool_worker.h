/*  pool_worker.h - the ABI between dcpool and a worker library.

    A worker library is a shared object that defines one symbol:

        const pool_worker_class_t pool_worker = { POOL_WORKER_ABI, "name",
                                                  init, run, handle_update,
                                                  destroy };

    pool-worker loads it (dlopen), checks abi_version before anything else,
    calls init once with the pool's init data, then run once per job and
    handle_update once per update, in order, between jobs.  The functions
    below are provided by the hosting process: a worker library links
    against nothing of dcpool's.

    Versions.  POOL_WORKER_ABI is the version of this file; it is bumped by
    every addition of a host function below or of a field to
    pool_worker_class_t, and by nothing else.  Nothing is ever removed,
    renamed or changed, and nothing in the class table moves: it grows only
    at its end.  A library declares, in abi_version, the version it was
    built for (POOL_WORKER_ABI of the header it saw).  A host of version N
    loads any library of version 1..N, reading only the fields that
    library's version has, and refuses one of a higher version before
    anything of it can run or be resolved, with a message naming both
    versions ("built for pool_worker ABI 3; this dcpool supports ABI 1..2:
    upgrade dcpool on the nodes"): such a library may call host functions
    this host lacks, which dlopen would otherwise report as an "undefined
    symbol".  libpool checks the same before pool_open sends the library.
    A library that must also load on older hosts may declare an older
    version, provided it uses only what that version has (each function
    below says which version added it).

    Sonames.  A worker library has no soname dependency on dcpool: it is
    loaded by path and its host functions come from the pool-worker
    executable, so abi_version is its only version.  Its own soname, if it
    has one, is not looked at.  libpool's soname (libpool.so.MAJOR, the
    major of the project version) versions the client API of pool.h alone.

    ABI 1: the class table, pool_output_alloc, pool_output_set,
           pool_worker_error, pool_worker_id, pool_worker_gpu.
    ABI 2: pool_worker_block_get, pool_worker_block_put,
           pool_worker_gpu_uuid.
    ABI 3: pool_worker_cancelled.
*/
#ifndef DCPOOL_POOL_WORKER_H
#define DCPOOL_POOL_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; see "Versions" above. */
#define POOL_WORKER_ABI 3

typedef struct pool_worker_ctx pool_worker_ctx_t;
typedef struct pool_output pool_output_t;

typedef struct {
    uint32_t abi_version; /* POOL_WORKER_ABI; the fields below are ABI 1 */
    const char *name;
    /* NULL on failure, after pool_worker_error */
    void *(*init) (pool_bytes_t init_data, pool_worker_ctx_t *ctx);
    /* 0 ok, else an error (message from pool_worker_error).  input.data
       is 16-byte aligned. */
    int (*run) (void *self, pool_bytes_t input, pool_output_t *output,
                pool_worker_ctx_t *ctx);
    /* 0 ok; may be NULL when the class takes no updates */
    int (*handle_update) (void *self, pool_bytes_t update, pool_worker_ctx_t *ctx);
    void (*destroy) (void *self);
    /* New fields go here, each commented with the version that added it;
       a host reads one only when abi_version is at least that version. */
} pool_worker_class_t;

/*  ABI 1 */

/* Output buffer of size bytes, filled in place; NULL when out of memory. */
POOL_API void *pool_output_alloc (pool_output_t *output, size_t size);
/* Copies size bytes as the output: 0, or POOL_ENOMEM. */
POOL_API int pool_output_set (pool_output_t *output, const void *data, size_t size);
/* Sets the error message of the current init, run or update. */
POOL_API void pool_worker_error (pool_worker_ctx_t *ctx, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
/* This worker's id, e.g. "host-1a2b/w0": stable for the process' life. */
POOL_API const char *pool_worker_id (pool_worker_ctx_t *ctx);
/* 0: the worker has a GPU (index, name, memory filled where not NULL);
   <0: it runs on CPU. */
POOL_API int pool_worker_gpu (pool_worker_ctx_t *ctx, int *index, const char **name,
                              uint64_t *memory);

/*  ABI 2: blocks and the GPU's UUID.  (They were first appended while
    POOL_WORKER_ABI stayed 1, before any release; 2 is the version that
    has them.)  Blocks are immutable byte strings in the cluster's block
    store, named by their BLAKE2b-256 hash (POOL_HASH_SIZE bytes): a client
    stores them with pool_put and passes their hashes in job inputs;
    results too large to travel as outputs are stored here and their hash
    returned.  Callable from init, run and handle_update only.  The worker
    keeps the blocks it has fetched or stored in memory
    (DCPOOL_BLOCK_CACHE_MB, default 2048), so a block crosses the network
    once per worker process. */

/*  The bytes of block hash: 0 with *out borrowed from the cache, valid
    until the current init, run or update returns; POOL_EIO when the store
    does not have it or the head is not reachable, POOL_ENOMEM (the reason
    is set as with pool_worker_error). */
POOL_API int pool_worker_block_get (pool_worker_ctx_t *ctx,
                                    const uint8_t hash[POOL_HASH_SIZE],
                                    pool_bytes_t *out);
/*  Stores size bytes as a block, fills hash with its name: 0 once the
    head has it (and the cache), else POOL_EIO / POOL_ENOMEM, or
    POOL_ENOSPACE when the block store is full (start_node
    --store-max-memory; the reason says the figures).  The block
    is held for the client of the worker's pool, which releases it with
    pool_delete (pool.h) or by going; a block this worker's cache has
    already costs no bytes, only the hold. */
POOL_API int pool_worker_block_put (pool_worker_ctx_t *ctx, const void *data, size_t size,
                                    uint8_t hash[POOL_HASH_SIZE]);

/*  The UUID of the worker's GPU ("GPU-..."), as CUDA_VISIBLE_DEVICES names
    it, or NULL on a CPU worker. */
POOL_API const char *pool_worker_gpu_uuid (pool_worker_ctx_t *ctx);

/*  (ABI 3) 1 when the client cancelled the job this run is running, else 0.  A
    long run may look now and then and return early (its result is
    dropped); one that runs on past the pool's cancel_grace is killed. */
POOL_API int pool_worker_cancelled (pool_worker_ctx_t *ctx);

#ifdef __cplusplus
}
#endif
#endif
