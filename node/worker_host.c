/*  node/worker_host.c - dlopen a worker library and drive its class table. */
#include "worker_host.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "elf_check.h"
#include "worker_ctx.h"

struct worker_host {
    void *library;                    /* dlopen handle */
    const pool_worker_class_t *klass; /* the library's `pool_worker` */
    void *self;                       /* what init returned */
};

/*  The refusal of a table declaring a version outside 1..POOL_WORKER_ABI:
    the library was built against a newer pool_worker.h than this
    pool-worker's (or never set abi_version). */
static void
s_refuse_abi (const char *shown, uint32_t abi_version, char *error, size_t error_size)
{
    proto_elf_abi_refusal (shown, abi_version, POOL_WORKER_ABI, "this dcpool",
                           "on the nodes", error, error_size);
}

int
worker_host_load (worker_host_t **host, const char *path, const char *name,
                  pool_bytes_t init_data, pool_worker_ctx_t *ctx, char *error,
                  size_t error_size)
{
    *host = NULL;
    int rc = PROTO_CODE_ELIBRARY;
    bool init_called = false;
    worker_host_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        rc = PROTO_CODE_ENOMEM;
        goto cleanup;
    }
    char shown[160];
    snprintf (shown, sizeof shown, "worker library%s%s", name && *name ? " " : "",
              name ? name : "");
    /* The client checked the library on its machine; this one may differ. */
    if (proto_elf_check (path, shown, error, error_size))
        goto cleanup;
    /*  The version before dlopen: a library for a newer ABI may call host
        functions this process lacks, and RTLD_NOW (which we want, so that
        a missing symbol fails here and not in the middle of a job) would
        fail on them with "undefined symbol".  A file whose version cannot
        be read there is checked after dlopen, below. */
    uint32_t abi_version;
    if (proto_elf_worker_abi (path, &abi_version) == 0 && abi_version > POOL_WORKER_ABI) {
        s_refuse_abi (shown, abi_version, error, error_size);
        goto cleanup;
    }
    dlerror ();
    self->library = dlopen (path, RTLD_NOW | RTLD_LOCAL);
    if (!self->library) {
        const char *why = dlerror ();
        if (!why)
            why = "unknown dlopen error";
        /* A host function this pool-worker lacks, in a library that claims
           a version it has: built against a newer pool_worker.h. */
        if (strstr (why, "undefined symbol: pool_"))
            snprintf (error, error_size,
                      "cannot load %s: %s (this dcpool's pool-worker, pool_worker ABI "
                      "%d, does not provide it: a function of a newer pool_worker.h "
                      "than the library's abi_version says?  upgrade dcpool on the "
                      "nodes)",
                      shown, why, POOL_WORKER_ABI);
        else
            snprintf (error, error_size, "cannot load %s: %s", shown, why);
        goto cleanup;
    }
    dlerror ();
    self->klass = dlsym (self->library, "pool_worker");
    if (!self->klass) {
        snprintf (error, error_size,
                  "worker library defines no 'pool_worker' symbol "
                  "(const pool_worker_class_t pool_worker = {...})");
        goto cleanup;
    }
    /* The version first: the rest of the table is only meaningful in it.
       Older versions load: everything they use is still here, unchanged. */
    if (self->klass->abi_version == 0 || self->klass->abi_version > POOL_WORKER_ABI) {
        s_refuse_abi (shown, self->klass->abi_version, error, error_size);
        goto cleanup;
    }
    if (!self->klass->init || !self->klass->run) {
        snprintf (error, error_size,
                  "worker library's pool_worker table has no %s function",
                  !self->klass->init ? "init" : "run");
        goto cleanup;
    }
    worker_ctx_clear_error (ctx);
    init_called = true;
    self->self = self->klass->init (init_data, ctx);
    if (!self->self) {
        const char *why = worker_ctx_error (ctx);
        snprintf (error, error_size, "init failed: %s", why ? why : "init returned NULL");
        rc = PROTO_CODE_EWORKER;
        goto cleanup;
    }
    *host = self;
    self = NULL;
    rc = 0;
cleanup:
    if (self) {
        /* Unload only a library whose code never ran: a failed init may
           have left threads or handlers behind (see worker_host_destroy);
           the process exits next anyway. */
        if (self->library && !init_called)
            dlclose (self->library);
        free (self);
    }
    return rc;
}

const char *
worker_host_name (worker_host_t *host)
{
    return host->klass->name ? host->klass->name : "";
}

int
worker_host_run (worker_host_t *host, pool_bytes_t input, pool_output_t *output,
                 pool_worker_ctx_t *ctx)
{
    worker_ctx_clear_error (ctx);
    return host->klass->run (host->self, input, output, ctx);
}

int
worker_host_update (worker_host_t *host, pool_bytes_t update, pool_worker_ctx_t *ctx)
{
    if (!host->klass->handle_update)
        return 0;
    worker_ctx_clear_error (ctx);
    return host->klass->handle_update (host->self, update, ctx);
}

void
worker_host_abandon (worker_host_t **host)
{
    if (!host || !*host)
        return;
    free (*host);
    *host = NULL;
}

void
worker_host_destroy (worker_host_t **host)
{
    if (!host || !*host)
        return;
    worker_host_t *self = *host;
    if (self->klass->destroy)
        self->klass->destroy (self->self);
    free (self);
    *host = NULL;
}
