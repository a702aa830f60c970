/*  libpool/pool.c - a pool's life: open, close, worker counts, updates and
    the error details.  Maps and iterators are in map.c; the message loop
    every call waits in is in session.c.
*/
#include "pool_private.h"
#include "keys_cache.h"
#include "local.h"
#include "proto/shm.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Detail of the last pool_open failure in this thread. */
static _Thread_local char s_open_error[POOL_ERROR_MAX];

const char *
pool_open_error (void)
{
    return s_open_error;
}

const char *
pool_last_error (pool_t *pool)
{
    return pool ? pool->error : "no pool";
}

static int s_open_fail (int code, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_open_fail (int code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (s_open_error, sizeof s_open_error, format, args);
    va_end (args);
    return code;
}

static int
s_check_options (const pool_options_t *o)
{
    if (!o->worker_library || !*o->worker_library)
        return s_open_fail (POOL_EINVAL, "worker_library is required");
    if (o->max_attempts < 1)
        return s_open_fail (POOL_EINVAL, "max_attempts must be at least 1, not %d",
                            o->max_attempts);
    if (o->min_workers < 0)
        return s_open_fail (POOL_EINVAL, "min_workers must not be negative");
    if (!(o->job_timeout >= 0) || o->job_timeout > 1e9)
        return s_open_fail (POOL_EINVAL, "job_timeout must be 0 or a positive number "
                                         "of seconds");
    if (!(o->connect_timeout > 0) || o->connect_timeout > 1e9)
        return s_open_fail (POOL_EINVAL, "connect_timeout must be positive");
    if (!(o->reconnect_timeout > 0) || o->reconnect_timeout > 1e9)
        return s_open_fail (POOL_EINVAL, "reconnect_timeout must be positive");
    if (!(o->spin_wait >= 0) || o->spin_wait > 1)
        return s_open_fail (POOL_EINVAL, "spin_wait must be from 0 to 1 second");
    if (o->init_data.size && !o->init_data.data)
        return s_open_fail (POOL_EINVAL, "init_data has a size but no data");
    if (!(o->progress_interval >= 0) || o->progress_interval > 1e9)
        return s_open_fail (POOL_EINVAL, "progress_interval must be 0 or more seconds");
    if (!(o->cancel_grace >= 0) || o->cancel_grace > 3600)
        return s_open_fail (POOL_EINVAL, "cancel_grace must be from 0 to 3600 seconds");
    return 0;
}

static int
s_code_from_link (int rc)
{
    switch (rc) {
    case PROTO_LINK_EAUTH:
    case PROTO_LINK_EHANDSHAKE:
        return POOL_EAUTH;
    case PROTO_LINK_EDENIED:
        return POOL_EDENIED;
    case PROTO_LINK_EINVAL:
        return POOL_EINVAL;
    default:
        return POOL_ECONNECT;
    }
}

/*  CZMQ installs SIGINT/SIGTERM handlers when the first socket of a process
    is made; in a program that does not use CZMQ itself that swallows
    Ctrl-C.  When our connect is what installed them, the program's own
    dispositions are put back. */
static int
s_connect (proto_link_t **link, const char *server, const proto_keys_t *keys,
           proto_msg_t *hello, double timeout, uint64_t *epoch, char *error,
           size_t error_size)
{
    proto_msg_t welcome;
    proto_msg_init (&welcome, 0);
    struct sigaction int_before, term_before, int_after, term_after;
    sigaction (SIGINT, NULL, &int_before);
    sigaction (SIGTERM, NULL, &term_before);
    int rc = proto_link_connect (link, server, keys, hello, timeout, &welcome, error,
                                 error_size);
    proto_welcome_t said;
    proto_welcome_get (&welcome, &said);
    *epoch = said.epoch;
    proto_msg_reset (&welcome);
    sigaction (SIGINT, NULL, &int_after);
    sigaction (SIGTERM, NULL, &term_after);
    if (int_after.sa_handler != int_before.sa_handler)
        sigaction (SIGINT, &int_before, NULL);
    if (term_after.sa_handler != term_before.sa_handler)
        sigaction (SIGTERM, &term_before, NULL);
    return rc;
}

/* Keeps what opening the pool again needs: 0 or POOL_ENOMEM. */
static int
s_keep (pool_t *self, const pool_options_t *o, const char *server, uint8_t **lib,
        size_t lib_size)
{
    const char *base = strrchr (o->worker_library, '/');
    base = base ? base + 1 : o->worker_library;
    snprintf (self->name, sizeof self->name, "%s", base);
    snprintf (self->server, sizeof self->server, "%s", server);
    self->lib = *lib;
    self->lib_size = lib_size;
    *lib = NULL;
    self->init_size = o->init_data.size;
    self->init = malloc (self->init_size ? self->init_size : 1);
    self->updates = zlist_new ();
    if (!self->init || !self->updates)
        return pool_fail (self, POOL_ENOMEM, "out of memory");
    if (self->init_size)
        memcpy (self->init, o->init_data.data, self->init_size);
    proto_pool_open_t *open = &self->open;
    snprintf (open->name, sizeof open->name, "%s", self->name);
    proto_hash (self->lib, self->lib_size, open->lib_hash);
    proto_hash (self->init, self->init_size, open->init_hash);
    open->max_attempts = (uint32_t)o->max_attempts;
    open->job_timeout_ms = (uint64_t)llround (o->job_timeout * 1000.0);
    open->min_workers = (uint32_t)o->min_workers;
    open->min_gpu_memory_mb
        = o->min_gpu_memory / (1024 * 1024) + (o->min_gpu_memory % (1024 * 1024) ? 1 : 0);
    open->cancel_grace_ms = (uint64_t)llround (o->cancel_grace * 1000.0);
    self->progress = o->progress;
    self->progress_arg = o->progress_arg;
    self->progress_ms = (int64_t)llround (o->progress_interval * 1000.0);
    open->forward_output = o->forward_output != 0;
    /* The data endpoint: without one, big payloads go through the head
       as before (said once, since it costs speed). */
    self->direct_min = o->direct_min;
    if (self->direct_min) {
        char why[192];
        self->direct = pool_direct_new (server, &self->keys, why, sizeof why);
        if (self->direct) {
            snprintf (open->data_endpoint, sizeof open->data_endpoint, "%s",
                      pool_direct_endpoint (self->direct));
            open->direct_min = self->direct_min;
            open->has_relay_key = pool_direct_relay_key (self->direct, open->relay_key);
        } else
            fprintf (stderr,
                     "libpool: no data endpoint (%s): big inputs and outputs go "
                     "through the head\n",
                     why);
    }
    self->output = o->output;
    self->output_arg = o->output_arg;
    return 0;
}

/* Waits for min_workers ready workers; a worker init error fails it. */
static int
s_wait_workers (pool_t *self, int count, double timeout)
{
    int rc = pool_wait_for_workers (self, count, timeout);
    if (rc != POOL_ETIMEOUT)
        return rc;
    /* The detail ("N of M workers ready after T s") is already recorded;
       when GPU memory is what is missing, say how much the cluster has. */
    uint64_t want = self->open.min_gpu_memory_mb * 1024 * 1024;
    proto_status_t status;
    if (want && pool_status (self, &status) == 0 && status.largest_gpu < want)
        return pool_fail (self, POOL_ENOWORKERS,
                          "no worker has min_gpu_memory %.1f GiB: the largest GPU seen "
                          "has %.1f GiB (%llu GPU workers)",
                          want / 1073741824.0, status.largest_gpu / 1073741824.0,
                          (unsigned long long)status.gpu_workers);
    return POOL_ENOWORKERS;
}

/*  A program that ends (exit, a return from main) with pools open: CZMQ's
    own exit handler would destroy the context under their heartbeat
    threads and sockets, and abort the process.  Every open pool is on this
    list; the first pool_open registers a handler (after CZMQ's, so it runs
    before it) that closes whatever is still open.  Not while another
    thread is inside a call on one of them. */
static pthread_mutex_t s_open_lock = PTHREAD_MUTEX_INITIALIZER;
static pool_t *s_open_pools;
static bool s_exit_hooked;

/*  Says goodbye to the head (POOL_CLOSE, BYE) and lets go of the sockets
    and the heartbeat thread; the pool's memory stays. */
static void
s_disconnect (pool_t *self)
{
    if (self->link) {
        proto_msg_t msg;
        if (self->has_pool && !self->broken) {
            proto_msg_init (&msg, PROTO_POOL_CLOSE);
            proto_msg_set_pool (&msg, self->pool_id);
            pool_session_send (self, &msg);
        }
        if (self->broken != POOL_ELOST) {
            proto_msg_init (&msg, PROTO_BYE);
            pool_session_send (self, &msg);
        }
        /* The link lingers so POOL_CLOSE and BYE go out; a lost head gets
           no wait at all. */
        zsock_set_linger (self->sock, self->broken == POOL_ELOST ? 0 : 1000);
        proto_link_destroy (&self->link);
        self->sock = NULL;
    }
    zactor_destroy (&self->liveness);
    pool_direct_destroy (&self->direct); /* its thread before CZMQ's exit */
}

/*  At exit the pools are disconnected, not freed: the program may still
    hold them (a C++ static destructor that calls pool_close runs after
    this), and pool_close then frees what is left.  They stay on the list,
    so what the program no longer holds is still reachable, not a leak.
    Calls on such a pool fail with POOL_ECLOSED. */
static void
s_close_at_exit (void)
{
    pthread_mutex_lock (&s_open_lock);
    for (pool_t *pool = s_open_pools; pool; pool = pool->open_next) {
        s_disconnect (pool);
        if (!pool->broken)
            pool->broken = POOL_ECLOSED;
    }
    pthread_mutex_unlock (&s_open_lock);
    /* Then the private cluster, with nobody left talking to it. */
    pool_local_exit ();
}

static void
s_open_add (pool_t *self)
{
    pthread_mutex_lock (&s_open_lock);
    self->open_prev = NULL;
    self->open_next = s_open_pools;
    if (s_open_pools)
        s_open_pools->open_prev = self;
    s_open_pools = self;
    if (!s_exit_hooked)
        s_exit_hooked = atexit (s_close_at_exit) == 0;
    pthread_mutex_unlock (&s_open_lock);
}

static void
s_open_remove (pool_t *self)
{
    pthread_mutex_lock (&s_open_lock);
    if (self->open_prev)
        self->open_prev->open_next = self->open_next;
    else if (s_open_pools == self)
        s_open_pools = self->open_next;
    if (self->open_next)
        self->open_next->open_prev = self->open_prev;
    self->open_prev = self->open_next = NULL;
    pthread_mutex_unlock (&s_open_lock);
}

/*  A non-empty environment variable, or NULL. */
static const char *
s_env (const char *name)
{
    const char *value = getenv (name);
    return value && *value ? value : NULL;
}

/*  Where pool_open connects, and with what password (pool.h, "server"):
    options.server; else $DCPOOL_SERVER; else, when a password is at hand
    (options.password, $DCPOOL_PASSWORD) or insecure is set,
    127.0.0.1:8899 with *probe set (nothing listening there means a
    private cluster); else *server NULL: a private cluster.  With a server
    the password comes from options.password, in local mode else from
    $DCPOOL_PASSWORD.  0, or POOL_EINVAL when a server has no password. */
static int
s_target (const pool_options_t *o, const char **server, const char **password,
          bool *probe)
{
    *server = o->server;
    *password = o->password && *o->password ? o->password : NULL;
    *probe = false;
    if (!*server) {
        if (!*password)
            *password = s_env ("DCPOOL_PASSWORD");
        *server = s_env ("DCPOOL_SERVER");
        if (!*server && (*password || o->insecure)) {
            *server = "127.0.0.1:8899";
            *probe = true;
        }
    }
    if (*server && !*password && !o->insecure)
        return s_open_fail (POOL_EINVAL,
                            "a password is required with server %s (options.password"
                            "%s, or insecure = 1)",
                            *server, o->server ? "" : " or $DCPOOL_PASSWORD");
    return 0;
}

/*  HELLO as client_id to server, with keys derived from password: 0 with
    self->link, its socket, self->keys and self->head_epoch set, or a
    POOL_E* code with the reason in self->error; *refused says that
    nothing listens at server. */
static int
s_link (pool_t *self, const char *server, const char *password, bool insecure,
        const char *client_id, double timeout, bool *refused)
{
    *refused = false;
    if (pool_keys_derive (&self->keys, password ? password : "", insecure))
        return pool_fail (self, POOL_ENOMEM,
                          "cannot derive keys from the password (out of memory?)");
    proto_msg_t hello;
    proto_msg_init (&hello, PROTO_HELLO);
    proto_hello_t said = { .role = PROTO_ROLE_CLIENT };
    snprintf (said.id, sizeof said.id, "%s", client_id);
    snprintf (said.host, sizeof said.host, "%s", self->host);
    proto_hello_set (&hello, &said);
    int rc = s_connect (&self->link, server, &self->keys, &hello, timeout,
                        &self->head_epoch, self->error, sizeof self->error);
    proto_msg_reset (&hello);
    if (rc == PROTO_OK)
        return 0;
    *refused = rc == PROTO_LINK_EREFUSED;
    return s_code_from_link (rc);
}

int
pool_open (pool_t **pool, const pool_options_t *options)
{
    s_open_error[0] = 0;
    if (!pool || !options)
        return s_open_fail (POOL_EINVAL, "pool_open needs a pool pointer and options");
    *pool = NULL;
    int rc = s_check_options (options);
    if (rc)
        return rc;
    uint8_t *lib = NULL;
    size_t lib_size = 0;
    const char *server, *password;
    bool probe;
    rc = s_target (options, &server, &password, &probe);
    if (rc)
        return rc;
    pool_t *self = calloc (1, sizeof *self);
    if (!self) {
        rc = s_open_fail (POOL_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = pool_library_load (options->worker_library, &lib, &lib_size, self->error,
                            sizeof self->error);
    if (rc)
        goto cleanup;
    char client_id[PROTO_ID_MAX + 1];
    proto_new_id (client_id, NULL);
    self->shared_min = options->shared_memory_min;
    self->spin_us = (int64_t)(options->spin_wait * 1e6);
    if (!self->shared_min || proto_host_key (self->host) != 0)
        self->host[0] = 0;
    bool refused = false;
    if (server) {
        rc = s_link (self, server, password, options->insecure != 0, client_id,
                     options->connect_timeout, &refused);
        if (rc && probe && refused) {
            server = NULL; /* no head on 8899: a private cluster */
            self->error[0] = 0;
        } else if (rc == POOL_EAUTH && probe) {
            rc = pool_fail (self, POOL_EAUTH,
                            "local mode: a head answers on %s but refused the password "
                            "from %s; give that head's password, or unset it for a "
                            "private cluster",
                            server,
                            options->password ? "options.password" : "$DCPOOL_PASSWORD");
            goto cleanup;
        } else if (rc)
            goto cleanup;
    }
    char local_server[64];
    if (!server) {
        char local_password[128];
        rc = pool_local_acquire (local_server, sizeof local_server, local_password,
                                 sizeof local_password, self->error, sizeof self->error);
        if (rc)
            goto cleanup;
        self->local = true;
        server = local_server;
        rc = s_link (self, server, local_password, false, client_id,
                     options->connect_timeout, &refused);
        sodium_memzero (local_password, sizeof local_password);
        if (rc)
            goto cleanup;
    }
    self->sock = proto_link_sock (self->link);
    int64_t heartbeat_ms = proto_link_heartbeat_ms (self->link);
    int64_t reconnect_ms = (int64_t)(options->reconnect_timeout * 1000.0);
    if (reconnect_ms < heartbeat_ms)
        reconnect_ms = heartbeat_ms;
    proto_heartbeat_init (&self->beat, heartbeat_ms, reconnect_ms, zclock_mono ());
    self->connect_ms = (int64_t)(options->connect_timeout * 1000.0);
    snprintf (self->client_id, sizeof self->client_id, "%s", client_id);
    rc = s_keep (self, options, server, &lib, lib_size);
    if (rc)
        goto cleanup;
    rc = pool_open_remote (self, zclock_mono () + self->connect_ms);
    if (rc)
        goto cleanup;
    /* From here the head knows this client: its liveness link vouches for
       it while the program is busy between calls. */
    self->liveness = pool_liveness_new (server, &self->keys, client_id);
    if (!self->liveness) {
        rc = pool_fail (self, POOL_ENOMEM, "cannot start the heartbeat thread");
        goto cleanup;
    }
    if (options->min_workers > 0) {
        rc = s_wait_workers (self, options->min_workers, options->connect_timeout);
        if (rc)
            goto cleanup;
    }
    self->error[0] = 0;
    s_open_add (self);
    *pool = self;
    self = NULL;
cleanup:
    free (lib);
    if (self) {
        if (self->error[0])
            snprintf (s_open_error, sizeof s_open_error, "%s", self->error);
        else if (!s_open_error[0])
            snprintf (s_open_error, sizeof s_open_error, "%s", pool_strerror (rc));
        pool_close (&self);
    }
    return rc;
}

void
pool_close (pool_t **pool)
{
    if (!pool || !*pool)
        return;
    pool_t *self = *pool;
    if (pool_in_callback) {
        /* Its waits are still on the stack: refused, the pool stays. */
        fprintf (stderr, "libpool: pool_close called from a callback is ignored; "
                         "close the pool after the wait returns\n");
        return;
    }
    s_open_remove (self);
    if (self->iter)
        pool_iter_orphan (self->iter);
    pool_futures_orphan (self);
    /* Its matrices forget it: their blocks go with the client's holds. */
    for (pool_owned_t *owned = self->owned; owned; owned = owned->next)
        *owned->owner = NULL;
    s_disconnect (self);
    if (self->local) {
        self->local = false;
        pool_local_release ();
    }
    if (self->updates) {
        zframe_t *update;
        while ((update = zlist_pop (self->updates)))
            zframe_destroy (&update);
        zlist_destroy (&self->updates);
    }
    free (self->lib);
    free (self->init);
    pool_slab_retire (&self->slab); /* freed with its last value */
    zhashx_destroy (&self->block_refs);
    sodium_memzero (&self->keys, sizeof self->keys);
    free (self);
    *pool = NULL;
}

/* A count clamped to an int. */
static int
s_clamp (uint64_t count)
{
    return count > INT32_MAX ? INT32_MAX : (int)count;
}

int
pool_workers_count (pool_t *pool)
{
    if (!pool)
        return POOL_EINVAL;
    proto_status_t status;
    int rc = pool_status (pool, &status);
    return rc ? rc : s_clamp (status.pool_workers); /* ready for this pool */
}

int
pool_nodes_count (pool_t *pool)
{
    if (!pool)
        return POOL_EINVAL;
    proto_status_t status;
    int rc = pool_status (pool, &status);
    return rc ? rc : s_clamp (status.nodes);
}

int
pool_wait_for_workers (pool_t *pool, int count, double timeout)
{
    if (!pool)
        return POOL_EINVAL;
    if (!(timeout >= 0))
        return pool_fail (pool, POOL_EINVAL, "timeout must not be negative");
    int64_t deadline
        = timeout > 1e9 ? POOL_FOREVER : zclock_mono () + (int64_t)(timeout * 1000.0);
    while (true) {
        int have = pool_workers_count (pool);
        if (have < 0)
            return have;
        if (have >= count)
            return 0;
        int64_t now = zclock_mono ();
        if (now >= deadline)
            return pool_fail (pool, POOL_ETIMEOUT, "%d of %d workers ready after %.1f s",
                              have, count, timeout);
        /* Poll the head every 50 ms, handling what arrives meanwhile (an
           ERROR for the pool, results of a running iterator). */
        int64_t next = now + 50 < deadline ? now + 50 : deadline;
        int rc = pool_wait (pool, 0, NULL, next);
        if (rc && rc != POOL_ETIMEOUT)
            return rc;
    }
}

int
pool_update_workers (pool_t *pool, pool_bytes_t update)
{
    if (!pool)
        return POOL_EINVAL;
    if (update.size && !update.data)
        return pool_fail (pool, POOL_EINVAL, "update has a size but no data");
    if (pool->broken)
        return pool->broken;
    /* Kept, in order, for a head that restarts and must see them all. */
    zframe_t *kept = zframe_new (update.data, update.size);
    if (!kept || zlist_append (pool->updates, kept)) {
        zframe_destroy (&kept);
        return pool_fail (pool, POOL_ENOMEM, "out of memory keeping the update");
    }
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_UPDATE);
    proto_msg_set_pool (&msg, pool->pool_id);
    if (proto_msg_add_bytes (&msg, update.data, update.size) != PROTO_OK) {
        proto_msg_reset (&msg);
        return pool_fail (pool, POOL_ENOMEM, "out of memory copying the update");
    }
    return pool_session_send (pool, &msg);
}
