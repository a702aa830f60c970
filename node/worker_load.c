/*  node/worker_load.c - the pool a worker serves, and loading it.
    See worker_load.h. */
#include "worker_load.h"
#include "pool.h"
#include "worker_cache.h"
#include "views.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker_load {
    const char *id; /* borrowed: the worker's */
    char cache_dir[PATH_MAX];
    pool_worker_ctx_t *ctx;   /* borrowed */
    node_scoreboard_t *board; /* borrowed, or NULL */
    worker_link_t *link;      /* borrowed */

    worker_state_t state;
    uint64_t pool;
    char pool_name[128];
    uint64_t pool_epoch;     /* the head that assigned our pool */
    uint64_t job_timeout_ms; /* 0, or SIGALRM ends the process (worker_run.c) */
    char data_endpoint[PROTO_ID_MAX + 1]; /* the pool's client's, or "" */
    uint64_t direct_min;
    uint8_t lib_hash[PROTO_HASH_SIZE];
    uint8_t init_hash[PROTO_HASH_SIZE];
    bool lib_pending; /* BLOCK_GET sent, BLOCK awaited */
    bool init_pending;
    zframe_t *init_data; /* init bytes, in memory */
    worker_host_t *host;
    uint64_t useq_applied; /* last update seq applied */
};

worker_load_t *
worker_load_new (const char *id, const char *data_dir, pool_worker_ctx_t *ctx,
                 node_scoreboard_t *board, worker_link_t *link, char *error,
                 size_t error_size)
{
    worker_load_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->id = id;
    self->ctx = ctx;
    self->board = board;
    self->link = link;
    int n = snprintf (self->cache_dir, sizeof self->cache_dir, "%s/cache", data_dir);
    if (n < 0 || (size_t)n >= sizeof self->cache_dir) {
        snprintf (error, error_size, "--data-dir too long");
        goto failed;
    }
    if (worker_cache_prepare (self->cache_dir, error, error_size))
        goto failed;
    return self;
failed:
    worker_load_destroy (&self);
    return NULL;
}

void
worker_load_destroy (worker_load_t **self)
{
    if (!*self)
        return;
    worker_host_abandon (&(*self)->host);
    zframe_destroy (&(*self)->init_data);
    free (*self);
    *self = NULL;
}

/*  Answers WORKER_READY: 0 when the pool is now served; -1 after a
    failure (code < 0), when the worker must end (the node starts a fresh
    process for the slot), or when the link failed. */
static int
s_ready (worker_load_t *self, int code, const char *reason)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_WORKER_READY);
    proto_msg_set_pool (&msg, self->pool);
    proto_msg_set_code (&msg, code);
    if (code && reason && proto_msg_set_text (&msg, "%s", reason) != PROTO_OK)
        proto_msg_set_text (&msg, "(reason too long)");
    if (code)
        zsys_error ("worker %s: pool %" PRIu64 " (%s) not loaded: %s", self->id,
                    self->pool, self->pool_name, reason ? reason : "");
    if (worker_link_send (self->link, &msg) || code)
        return -1;
    self->state = WORKER_READY;
    zsys_info ("worker %s: pool %" PRIu64 " ready (class '%s')", self->id, self->pool,
               worker_host_name (self->host));
    return 0;
}

/* Both blocks are here: load the library and call init. */
/*  Keeps the node's cache directory under its cap (worker_cache.h),
    sparing the library and init data this worker is loading. */
static void
s_prune (worker_load_t *self)
{
    char lib[PATH_MAX], init[PATH_MAX], error[1024];
    if (worker_cache_path (self->cache_dir, self->lib_hash, ".so", lib, sizeof lib)
        || worker_cache_path (self->cache_dir, self->init_hash, "", init, sizeof init))
        return;
    const char *keep[] = { lib, init };
    if (worker_cache_prune (self->cache_dir, worker_cache_max_bytes (), keep, 2, error,
                            sizeof error))
        zsys_warning ("worker %s: %s", self->id, error);
}

static int
s_load (worker_load_t *self)
{
    char path[PATH_MAX];
    char error[1024] = "";
    if (worker_cache_path (self->cache_dir, self->lib_hash, ".so", path, sizeof path))
        return s_ready (self, PROTO_CODE_ELIBRARY, "cache path too long");
    pool_bytes_t init = { NULL, 0 };
    if (self->init_data)
        init = (pool_bytes_t){ zframe_data (self->init_data),
                               zframe_size (self->init_data) };
    node_scoreboard_enter_init (self->board, self->pool);
    int rc = worker_host_load (&self->host, path, self->pool_name, init, self->ctx, error,
                               sizeof error);
    node_scoreboard_leave (self->board);
    /* init has had its bytes: a worker that wants them later keeps a copy. */
    zframe_destroy (&self->init_data);
    return s_ready (self, rc, rc ? error : NULL);
}

/*  Looks for a block in the cache; asks the head for it when absent.
    0: found (init bytes into self->init_data when is_init) or asked;
    -1: a failure, answered with WORKER_READY, or the link failed. */
static int
s_want_block (worker_load_t *self, const uint8_t hash[PROTO_HASH_SIZE], bool is_init)
{
    char path[PATH_MAX];
    char error[1024] = "";
    if (is_init) {
        /* Empty init data is common: do not ask anyone for nothing. */
        uint8_t empty[PROTO_HASH_SIZE];
        proto_hash ("", 0, empty);
        if (memcmp (empty, hash, PROTO_HASH_SIZE) == 0) {
            self->init_data = zframe_new (NULL, 0);
            if (!self->init_data) {
                s_ready (self, PROTO_CODE_ENOMEM, "out of memory");
                return -1;
            }
            return 0;
        }
    }
    if (worker_cache_path (self->cache_dir, hash, is_init ? "" : ".so", path,
                           sizeof path)) {
        s_ready (self, PROTO_CODE_EWORKER, "cache path too long");
        return -1;
    }
    zframe_t *bytes = NULL;
    int rc = worker_cache_read (path, hash, &bytes, error, sizeof error);
    if (rc < 0) {
        s_ready (self, PROTO_CODE_EWORKER, error);
        return -1;
    }
    if (rc == 0) {
        if (is_init)
            self->init_data = bytes;
        else
            zframe_destroy (&bytes); /* checked; dlopen reads the file */
        return 0;
    }
    proto_msg_t get;
    proto_msg_init (&get, PROTO_BLOCK_GET);
    if (proto_msg_add_hash (&get, hash) != PROTO_OK) {
        proto_msg_reset (&get);
        s_ready (self, PROTO_CODE_EWORKER, "cannot build BLOCK_GET");
        return -1;
    }
    if (worker_link_send (self->link, &get))
        return -1;
    if (is_init)
        self->init_pending = true;
    else
        self->lib_pending = true;
    return 0;
}

/*  True when the ASSIGN names the library and init data this worker has
    loaded and ready. */
static bool
s_has_loaded (const worker_load_t *self, const proto_assign_t *assign)
{
    return self->state == WORKER_READY
           && memcmp (assign->lib_hash, self->lib_hash, PROTO_HASH_SIZE) == 0
           && memcmp (assign->init_hash, self->init_hash, PROTO_HASH_SIZE) == 0;
}

/*  ASSIGN to a worker that has a pool loaded: after a head restart the
    head gives the pool its client opened again (a new id) to the workers
    that have its library and init data loaded.  They serve it as they
    are, with the updates they applied.  WORKER_READY's result. */
static int
s_take_back (worker_load_t *self, const proto_assign_t *assign)
{
    zsys_info ("worker %s: serves pool %" PRIu64 " (pool %" PRIu64
               " before the head restarted) with its library loaded",
               self->id, assign->pool, self->pool);
    self->pool = assign->pool;
    self->pool_epoch = worker_link_head_epoch (self->link);
    self->job_timeout_ms = assign->job_timeout_ms;
    snprintf (self->data_endpoint, sizeof self->data_endpoint, "%s",
              assign->data_endpoint);
    self->direct_min = assign->direct_min;
    return s_ready (self, 0, NULL);
}

int
worker_load_assign (worker_load_t *self, const proto_msg_t *msg)
{
    proto_assign_t assign;
    char reason[128];
    bool named = proto_assign_get (msg, &assign, reason, sizeof reason) == PROTO_OK;
    if (named && s_has_loaded (self, &assign))
        return s_take_back (self, &assign);
    if (self->state != WORKER_IDLE) {
        zsys_warning ("worker %s: ASSIGN for pool %" PRIu64 " while serving pool %" PRIu64
                      "; ignored",
                      self->id, msg->pool, self->pool);
        return worker_link_send_error (self->link, PROTO_CODE_EPROTO,
                                       "worker already has a pool");
    }
    self->state = WORKER_LOADING;
    self->pool = msg->pool;
    self->pool_epoch = worker_link_head_epoch (self->link);
    if (!named)
        return s_ready (self, PROTO_CODE_ELIBRARY, reason);
    snprintf (self->pool_name, sizeof self->pool_name, "%s", assign.name);
    self->job_timeout_ms = assign.job_timeout_ms;
    snprintf (self->data_endpoint, sizeof self->data_endpoint, "%s",
              assign.data_endpoint);
    self->direct_min = assign.direct_min;
    memcpy (self->lib_hash, assign.lib_hash, PROTO_HASH_SIZE);
    memcpy (self->init_hash, assign.init_hash, PROTO_HASH_SIZE);
    zsys_info ("worker %s: assigned pool %" PRIu64 " (%s)", self->id, self->pool,
               self->pool_name);
    if (s_want_block (self, self->lib_hash, false)
        || s_want_block (self, self->init_hash, true))
        return -1;
    if (!self->lib_pending && !self->init_pending)
        return s_load (self);
    return 0;
}

int
worker_load_block (worker_load_t *self, proto_msg_t *msg)
{
    const uint8_t *hash = proto_block_hash (msg);
    if (self->state != WORKER_LOADING || !hash) {
        zsys_warning ("worker %s: unexpected BLOCK ignored", self->id);
        return 0;
    }
    bool is_lib
        = self->lib_pending && memcmp (hash, self->lib_hash, PROTO_HASH_SIZE) == 0;
    bool is_init = !is_lib && self->init_pending
                   && memcmp (hash, self->init_hash, PROTO_HASH_SIZE) == 0;
    if (!is_lib && !is_init) {
        zsys_warning ("worker %s: BLOCK for a block not asked for ignored", self->id);
        return 0;
    }
    zframe_t *frame = proto_msg_pop_frame (msg);
    if (!frame)
        return s_ready (self, PROTO_CODE_EWORKER, "BLOCK without its bytes");
    char error[1024] = "";
    uint8_t actual[PROTO_HASH_SIZE];
    proto_hash (zframe_data (frame), zframe_size (frame), actual);
    if (memcmp (actual, hash, PROTO_HASH_SIZE) != 0) {
        zframe_destroy (&frame);
        return s_ready (self, PROTO_CODE_EWORKER,
                        "block from the head does not match its hash");
    }
    char path[PATH_MAX];
    if (worker_cache_path (self->cache_dir, hash, is_lib ? ".so" : "", path,
                           sizeof path)) {
        zframe_destroy (&frame);
        return s_ready (self, PROTO_CODE_EWORKER, "cache path too long");
    }
    if (worker_cache_write (path, zframe_data (frame), zframe_size (frame), error,
                            sizeof error)) {
        zframe_destroy (&frame);
        /* The library must be on disk to be loaded; init data need not be. */
        if (is_lib)
            return s_ready (self, PROTO_CODE_EWORKER, error);
        zsys_warning ("worker %s: %s", self->id, error);
    } else
        s_prune (self);
    if (is_lib) {
        zframe_destroy (&frame);
        self->lib_pending = false;
    } else {
        zframe_destroy (&self->init_data);
        self->init_data = frame;
        self->init_pending = false;
    }
    if (!self->lib_pending && !self->init_pending)
        return s_load (self);
    return 0;
}

bool
worker_load_fetching (const worker_load_t *self)
{
    return self->state == WORKER_LOADING && (self->lib_pending || self->init_pending);
}

int
worker_load_fetch_failed (worker_load_t *self, const char *text)
{
    char reason[1024];
    snprintf (reason, sizeof reason, "cannot fetch the %s block: %s",
              self->lib_pending ? "library" : "init data", text);
    s_ready (self, PROTO_CODE_EWORKER, reason);
    return -1;
}

worker_state_t
worker_load_state (const worker_load_t *self)
{
    return self->state;
}

bool
worker_load_serves (const worker_load_t *self, uint64_t pool)
{
    return self->state != WORKER_IDLE && pool == self->pool;
}

uint64_t
worker_load_pool (const worker_load_t *self)
{
    return self->pool;
}

uint64_t
worker_load_job_timeout_ms (const worker_load_t *self)
{
    return self->job_timeout_ms;
}

const char *
worker_load_data_endpoint (const worker_load_t *self, uint64_t *direct_min)
{
    *direct_min = self->direct_min;
    return self->data_endpoint;
}

worker_host_t *
worker_load_host (worker_load_t *self)
{
    return self->host;
}

uint64_t
worker_load_applied (const worker_load_t *self)
{
    return self->useq_applied;
}

void
worker_load_set_applied (worker_load_t *self, uint64_t seq)
{
    self->useq_applied = seq;
}

int
worker_load_rejoin (const worker_load_t *self, worker_rejoin_t *rejoin)
{
    if (self->state != WORKER_READY)
        return -1;
    rejoin->pool = self->pool;
    memcpy (rejoin->lib_hash, self->lib_hash, PROTO_HASH_SIZE);
    memcpy (rejoin->init_hash, self->init_hash, PROTO_HASH_SIZE);
    rejoin->useq_applied = self->useq_applied;
    rejoin->pool_epoch = self->pool_epoch;
    return 0;
}

void
worker_load_unload (worker_load_t *self)
{
    worker_host_destroy (&self->host);
}
