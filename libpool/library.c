/*  libpool/library.c - reads the worker library and checks it locally.

    pool_open ships the library's bytes to the cluster; refusing a file that
    is not a dcpool worker library here gives the user a clear error at once
    instead of every worker failing later.  The ABI version of its
    `pool_worker` table is read from the file first (proto_elf_worker_abi):
    a library for a newer pool_worker.h may call host functions nobody here
    has heard of, and is refused naming both versions before dlopen could
    fail on them.  Then the check loads the file with RTLD_LAZY: the
    pool_output_* / pool_worker_* functions it calls are only provided by
    pool-worker, so they stay unresolved here.
*/
#include "pool_private.h"
#include "pool_worker.h"
#include "proto/elf_check.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the whole file; 0, or POOL_ELIBRARY / POOL_ENOMEM. */
static int
s_read_file (const char *path, uint8_t **bytes, size_t *size, char *error,
             size_t error_size)
{
    int rc = POOL_ELIBRARY;
    uint8_t *data = NULL;
    size_t have = 0, cap = 0;
    FILE *file = fopen (path, "rb");
    if (!file) {
        snprintf (error, error_size, "cannot read worker library %s: %s", path,
                  strerror (errno));
        goto cleanup;
    }
    while (true) {
        if (have == cap) {
            size_t new_cap = cap ? cap * 2 : 1 << 16;
            uint8_t *grown = realloc (data, new_cap);
            if (!grown) {
                snprintf (error, error_size, "out of memory reading %s", path);
                rc = POOL_ENOMEM;
                goto cleanup;
            }
            data = grown;
            cap = new_cap;
        }
        size_t got = fread (data + have, 1, cap - have, file);
        have += got;
        if (got == 0) {
            if (ferror (file)) {
                snprintf (error, error_size, "cannot read worker library %s: %s", path,
                          strerror (errno));
                goto cleanup;
            }
            break;
        }
    }
    *bytes = data;
    *size = have;
    data = NULL;
    rc = 0;
cleanup:
    if (file)
        fclose (file);
    free (data);
    return rc;
}

/*  True when dlopen failed for a reason that says nothing against the
    library itself: a dependency this machine lacks (a CUDA library on a
    client without a GPU) or a symbol only pool-worker provides (libraries
    linked with -z now ignore RTLD_LAZY).  The workers check those. */
static bool
s_only_missing_elsewhere (const char *path, const char *reason)
{
    if (strstr (reason, "undefined symbol: pool_"))
        return true;
    return strstr (reason, "cannot open shared object file")
           && strncmp (reason, path, strlen (path)) != 0;
}

/*  The refusal of a table declaring a version outside 1..POOL_WORKER_ABI.
    libpool knows its own dcpool's version, not the nodes': it asks for
    both to be upgraded (the nodes refuse it the same way). */
static void
s_refuse_abi (const char *shown, uint32_t abi_version, char *error, size_t error_size)
{
    proto_elf_abi_refusal (shown, abi_version, POOL_WORKER_ABI, "this dcpool (libpool)",
                           "here and on the nodes", error, error_size);
}

static int
s_check (const char *path, char *error, size_t error_size)
{
    /* dlopen searches the library path for a name without a slash; we mean
       the file we read. */
    const char *shown = path;
    char local[4096];
    if (!strchr (path, '/')) {
        if ((size_t)snprintf (local, sizeof local, "./%s", path) >= sizeof local) {
            snprintf (error, error_size, "worker library path too long");
            return POOL_ELIBRARY;
        }
        path = local;
    }
    int rc = POOL_ELIBRARY;
    /* Before dlopen: its message for a text file or another architecture
       ("invalid ELF header", "wrong ELF class") does not say which. */
    if (proto_elf_check (path, shown, error, error_size))
        return POOL_ELIBRARY;
    /* Before dlopen too: a newer library's host functions are not known
       here, and one linked with -z now fails on them even with RTLD_LAZY.
       Unreadable here (no section headers): the table's own check below. */
    uint32_t abi_version;
    if (proto_elf_worker_abi (path, &abi_version) == 0 && abi_version > POOL_WORKER_ABI) {
        s_refuse_abi (shown, abi_version, error, error_size);
        return POOL_ELIBRARY;
    }
    dlerror ();
    void *handle = dlopen (path, RTLD_LAZY | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror ();
        if (!reason)
            reason = "unknown dlopen error";
        if (s_only_missing_elsewhere (path, reason))
            return 0;
        snprintf (error, error_size, "cannot load worker library: %s", reason);
        return POOL_ELIBRARY;
    }
    const pool_worker_class_t *table = dlsym (handle, "pool_worker");
    if (!table) {
        snprintf (error, error_size,
                  "%s does not export the symbol pool_worker (is it a dcpool "
                  "worker library?)",
                  shown);
        goto cleanup;
    }
    /* Older versions load: what they use is still here, unchanged. */
    if (table->abi_version == 0 || table->abi_version > POOL_WORKER_ABI) {
        s_refuse_abi (shown, table->abi_version, error, error_size);
        goto cleanup;
    }
    if (!table->init || !table->run) {
        snprintf (error, error_size, "%s: its pool_worker table lacks init or run",
                  shown);
        goto cleanup;
    }
    rc = 0;
cleanup:
    dlclose (handle);
    return rc;
}

int
pool_library_load (const char *path, uint8_t **bytes, size_t *size, char *error,
                   size_t error_size)
{
    *bytes = NULL;
    *size = 0;
    uint8_t *data = NULL;
    size_t data_size = 0;
    int rc = s_read_file (path, &data, &data_size, error, error_size);
    if (rc)
        goto cleanup;
    rc = s_check (path, error, error_size);
    if (rc)
        goto cleanup;
    *bytes = data;
    *size = data_size;
    data = NULL;
cleanup:
    free (data);
    return rc;
}
