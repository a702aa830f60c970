/*  node/worker_host.c - dlopen a worker library and drive its class table. */
#include "worker_host.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "elf_check.h"
#include "worker_ctx.h"

struct worker_host {
    void *library;                    /* dlopen handle */
    const pool_worker_class_t *klass; /* the library's `pool_worker` */
    void *self;                       /* what init returned */
};

int
worker_host_load (worker_host_t **host, const char *path, pool_bytes_t init_data,
                  pool_worker_ctx_t *ctx, char *error, size_t error_size)
{
    *host = NULL;
    int rc = POOL_ELIBRARY;
    bool init_called = false;
    worker_host_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        rc = POOL_ENOMEM;
        goto cleanup;
    }
    /* The client checked the library on its machine; this one may differ. */
    if (proto_elf_check (path, "worker library", error, error_size))
        goto cleanup;
    dlerror ();
    self->library = dlopen (path, RTLD_NOW | RTLD_LOCAL);
    if (!self->library) {
        const char *why = dlerror ();
        snprintf (error, error_size, "cannot load worker library: %s",
                  why ? why : "unknown dlopen error");
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
    /* The version first: the rest of the table is only meaningful in it. */
    if (self->klass->abi_version != POOL_WORKER_ABI) {
        snprintf (error, error_size,
                  "worker library was built for worker ABI version %u, "
                  "this pool-worker speaks version %d",
                  (unsigned)self->klass->abi_version, POOL_WORKER_ABI);
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
        rc = POOL_EWORKER;
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
