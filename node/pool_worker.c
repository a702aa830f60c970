/*  node/pool_worker.c - the pool-worker program: one worker process.

    start_node spawns one pool-worker per GPU (or CPU slot).  It connects
    straight to the head, says HELLO, and waits to be given a pool (ASSIGN).
    It then fetches the pool's library and init blocks it does not have in
    DATA/cache, loads the library (worker_host), answers WORKER_READY, and
    runs the pool's jobs one at a time and its updates, in the order they
    arrived, until the head closes the pool (POOL_CLOSE) or the node stops
    it (SIGTERM).  It serves one pool in its life: the node starts a fresh
    process for the next, so nothing of one pool's code (GPU state above
    all) leaks into the next.

    Exit status, read by start_node:
      0  POOL_CLOSE or SIGTERM: a clean end;
      1  the pool could not be loaded (WORKER_READY said why), a bad command
         line, or an internal failure;
      2  the head went silent while this worker had a pool: a fresh process
         is the simplest correct way to rejoin (the head has requeued its
         jobs; a reloaded instance would not have the updates it missed);
      3  the handshake was refused (wrong password): the node backs off.

    One thread, one socket: everything below runs on the main thread, user
    code included.  A job that runs longer than the head's liveness blocks
    this worker's heartbeats (see s_run_actions).
*/
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "link.h"
#include "msg.h"
#include "parse.h"
#include "pool_worker.h"
#include "scoreboard.h"
#include "shm.h"
#include "worker_cache.h"
#include "worker_ctx.h"
#include "worker_host.h"

#define CONNECT_TIMEOUT_S 10.0
#define RESULTS_MAX 64                      /* results per RESULT message */
#define RESULTS_BYTES_MAX (16u << 20)       /* flush sooner for big outputs */
#define RESULTS_AGE_MS PROTO_RESULTS_AGE_MS /* ... or when the first is older */
#define DRAIN_MAX 256                       /* messages read per loop turn */
#define FETCH_SILENCE_MS 60000              /* see s_silence_limit */

enum { EXIT_CLEAN = 0, EXIT_FAILED = 1, EXIT_HEAD_LOST = 2, EXIT_AUTH = 3 };

/* ------------------------------------------------------------------------
    Command line */

typedef struct {
    const char *server;
    const char *node;
    const char *id;
    const char *data_dir;
    int gpu_index; /* -1: CPU worker */
    const char *gpu_name;
    const char *gpu_uuid;
    uint64_t gpu_memory;
    int scoreboard_fd; /* -1: none (started by hand) */
} args_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: pool-worker --server tcp://HOST:PORT --node NODEID --id WORKERID\n"
             "                   --data-dir DIR [--gpu INDEX --gpu-name NAME\n"
             "                   --gpu-uuid UUID --gpu-memory BYTES]\n"
             "env: DCPOOL_KEYS (the node's keys). Spawned by start_node only.\n");
}

/* 0, or -1 after printing what is wrong. */
static int
s_parse_args (args_t *args, int argc, char *argv[])
{
    static const struct option options[]
        = { { "server", required_argument, NULL, 's' },
            { "node", required_argument, NULL, 'n' },
            { "id", required_argument, NULL, 'i' },
            { "data-dir", required_argument, NULL, 'd' },
            { "gpu", required_argument, NULL, 'g' },
            { "gpu-name", required_argument, NULL, 'N' },
            { "gpu-uuid", required_argument, NULL, 'U' },
            { "gpu-memory", required_argument, NULL, 'M' },
            { "scoreboard-fd", required_argument, NULL, 'B' },
            { "help", no_argument, NULL, 'h' },
            { NULL, 0, NULL, 0 } };
    memset (args, 0, sizeof *args);
    args->gpu_index = -1;
    args->scoreboard_fd = -1;
    int c;
    long long value;
    while ((c = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 's':
            args->server = optarg;
            break;
        case 'n':
            args->node = optarg;
            break;
        case 'i':
            args->id = optarg;
            break;
        case 'd':
            args->data_dir = optarg;
            break;
        case 'N':
            args->gpu_name = optarg;
            break;
        case 'U':
            args->gpu_uuid = optarg;
            break;
        case 'g':
            if (proto_parse_int (optarg, 0, INT_MAX, &value)) {
                fprintf (stderr, "pool-worker: --gpu wants an index, not '%s'\n", optarg);
                return -1;
            }
            args->gpu_index = (int)value;
            break;
        case 'M':
            if (proto_parse_int (optarg, 0, LLONG_MAX, &value)) {
                fprintf (stderr, "pool-worker: --gpu-memory wants bytes, not '%s'\n",
                         optarg);
                return -1;
            }
            args->gpu_memory = (uint64_t)value;
            break;
        case 'B':
            if (proto_parse_int (optarg, 0, 65535, &value)) {
                fprintf (stderr,
                         "pool-worker: --scoreboard-fd wants a descriptor, "
                         "not '%s'\n",
                         optarg);
                return -1;
            }
            args->scoreboard_fd = (int)value;
            break;
        case 'h':
            s_usage (stdout);
            exit (EXIT_CLEAN);
        default:
            s_usage (stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "pool-worker: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!args->server || !args->node || !args->id || !args->data_dir) {
        fprintf (stderr,
                 "pool-worker: --server, --node, --id and --data-dir are required\n");
        s_usage (stderr);
        return -1;
    }
    if (strlen (args->id) > PROTO_ID_MAX || strlen (args->node) > PROTO_ID_MAX) {
        fprintf (stderr, "pool-worker: --id and --node are at most %d bytes\n",
                 PROTO_ID_MAX);
        return -1;
    }
    if (args->gpu_index >= 0 && !args->gpu_name)
        args->gpu_name = "GPU";
    if (args->gpu_name && strlen (args->gpu_name) >= WORKER_CTX_NAME_MAX) {
        fprintf (stderr, "pool-worker: --gpu-name is at most %d bytes\n",
                 WORKER_CTX_NAME_MAX - 1);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
    SIGTERM: finish the job in hand, answer it, say BYE, exit 0. */

static volatile sig_atomic_t s_stop_requested = 0;

static void
s_on_stop (int signum)
{
    (void)signum;
    s_stop_requested = 1;
}

static int
s_install_signals (void)
{
    /* CZMQ would install its own SIGINT/SIGTERM handler on first use. */
    zsys_handler_set (NULL);
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_stop;
    sigemptyset (&action.sa_mask);
    /* No SA_RESTART: a poll in progress returns and the loop sees the flag. */
    if (sigaction (SIGTERM, &action, NULL) || sigaction (SIGINT, &action, NULL))
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------
    Actions: updates and jobs, kept in arrival order. */

typedef enum { ACTION_UPDATE, ACTION_JOB } action_kind_t;

typedef struct action {
    struct action *next;
    action_kind_t kind;
    uint64_t seq;        /* UPDATE: its seq (0: none given); JOB: useq */
    uint64_t id;         /* JOB */
    uint32_t attempt;    /* JOB */
    bool shared;         /* JOB: data is a proto_shm_ref_t of the input */
    zframe_t *frame;     /* UPDATE: its bytes; owned */
    struct batch *batch; /* JOB: the message its input lives in */
    const void *data;    /* JOB: its input, inside batch */
    size_t size;
    int64_t arrived_us; /* JOB: zclock_usecs when it was read */
} action_t;

/*  The jobs of one JOB message share it: their inputs are read in place
    (no copy, no allocation per job) and the message goes when the last of
    them has run. */
typedef struct batch {
    proto_msg_t msg;
    size_t refs;
    action_t actions[];
} batch_t;

typedef struct {
    action_t *head;
    action_t *tail;
    size_t jobs; /* JOB actions queued */
} fifo_t;

static void
s_fifo_push (fifo_t *fifo, action_t *action)
{
    action->next = NULL;
    if (fifo->tail)
        fifo->tail->next = action;
    else
        fifo->head = action;
    fifo->tail = action;
    if (action->kind == ACTION_JOB)
        fifo->jobs++;
}

static action_t *
s_fifo_pop (fifo_t *fifo)
{
    action_t *action = fifo->head;
    if (!action)
        return NULL;
    fifo->head = action->next;
    if (!fifo->head)
        fifo->tail = NULL;
    if (action->kind == ACTION_JOB)
        fifo->jobs--;
    action->next = NULL;
    return action;
}

static void
s_action_destroy (action_t **action)
{
    if (!*action)
        return;
    batch_t *batch = (*action)->batch;
    if (batch) {
        if (--batch->refs == 0) {
            proto_msg_reset (&batch->msg);
            free (batch);
        }
    } else {
        zframe_destroy (&(*action)->frame);
        free (*action);
    }
    *action = NULL;
}

/* ------------------------------------------------------------------------
    The worker */

typedef enum {
    STATE_IDLE,    /* connected, no pool yet */
    STATE_LOADING, /* ASSIGN received, fetching blocks */
    STATE_READY    /* library loaded, running the pool */
} state_t;

typedef struct {
    args_t args;
    proto_keys_t keys;
    proto_link_t *link;
    zsock_t *sock; /* the link's, borrowed */
    zpoller_t *poller;
    int heartbeat_ms;
    int liveness;
    int64_t last_sent;  /* zclock_mono of the last send */
    int64_t last_heard; /* ... of the last receive */

    struct pool_worker_ctx ctx;
    struct pool_output output;
    char cache_dir[PATH_MAX];

    state_t state;
    uint64_t pool;
    char pool_name[128];
    uint64_t job_timeout_ms; /* 0, or SIGALRM ends the process (see s_run_job) */
    uint8_t lib_hash[PROTO_HASH_SIZE];
    uint8_t init_hash[PROTO_HASH_SIZE];
    bool lib_pending; /* BLOCK_GET sent, BLOCK awaited */
    bool init_pending;
    zframe_t *init_data; /* init bytes, in memory */
    worker_host_t *host;
    uint64_t useq_applied; /* last update seq applied */

    fifo_t fifo;
    proto_msg_t results; /* RESULT being batched */
    size_t results_bytes;
    int64_t results_since; /* when the batch's first was added */
    /* For the head's window (RESULT nums [busy_us, residence_us]): since
       when this worker runs jobs without a pause (results go out whenever
       its queue empties, so a batch's jobs ran back to back: one clock
       read per batch, not two per job), and when the last job of the
       batch was read from the socket. */
    int64_t busy_since_us;
    int64_t results_last_arrived_us;

    bool closing;        /* POOL_CLOSE received */
    bool rejoin;         /* the head forgot us: connect again, keeping the pool */
    uint64_t head_epoch; /* the head we talk to (WELCOME nums [2]) */
    uint64_t pool_epoch; /* the head that assigned our pool */
    bool done;
    int exit_code;
    node_scoreboard_t *board; /* shared with the node, or NULL */
    uint8_t *arena;           /* outputs of the batched results, back to back */
    size_t arena_len, arena_cap;
    size_t *offs; /* where result k starts in the arena */
    size_t offs_cap;
    void *aligned; /* 16-byte aligned copy of a misaligned input */
    size_t aligned_cap;
    int64_t last_drain; /* zclock_mono of the last look at the socket */
    char host_key[PROTO_HOST_KEY_SIZE + 1]; /* "" when not sharing */
} worker_t;

static void
s_finish (worker_t *self, int exit_code)
{
    if (!self->done) {
        self->done = true;
        self->exit_code = exit_code;
    }
}

/* Sends msg (consumed: reset afterwards).  0, or -1: the socket failed,
   which only happens when the context is going down; the worker ends. */
static int
s_send (worker_t *self, proto_msg_t *msg)
{
    int rc = proto_msg_send (msg, zsock_resolve (self->sock));
    proto_msg_reset (msg);
    if (rc != PROTO_OK) {
        zsys_error ("worker %s: cannot send %s (%d)", self->args.id,
                    proto_type_name (msg->type), rc);
        s_finish (self, EXIT_FAILED);
        return -1;
    }
    self->last_sent = zclock_mono ();
    return 0;
}

/* Sends a message that has only a type. */
static int
s_send_bare (worker_t *self, proto_type_t type)
{
    proto_msg_t msg;
    proto_msg_init (&msg, type);
    return s_send (self, &msg);
}

static int
s_send_error (worker_t *self, int64_t code, const char *text)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_ERROR);
    proto_msg_set_code (&msg, code);
    if (proto_msg_set_text (&msg, "%s", text) != PROTO_OK)
        proto_msg_set_text (&msg, "(reason too long)");
    return s_send (self, &msg);
}

/* ------------------------------------------------------------------------
    Connection */

/*  User code that calls exit() ends the process from inside a run: the
    link is let go before CZMQ's own exit handler (registered earlier, so
    run later) would report it as a dangling socket.  Nothing is sent:
    the node reports the exit, and the head charges the run. */
static worker_t *s_exiting_worker;

static void
s_at_exit (void)
{
    worker_t *self = s_exiting_worker;
    if (!self || !self->link)
        return;
    zpoller_destroy (&self->poller);
    /* A short linger, not 0: a pipe dropped at once while a multi-frame
       message is on its way can trip an assertion in libzmq 4.3.4. */
    zsock_set_linger (proto_link_sock (self->link), 100);
    proto_link_destroy (&self->link);
    self->sock = NULL;
}

/*  HELLO of a worker: id, node, text "cpu" or "GPU <index> <name>",
    nums [gpu index or UINT64_MAX, gpu memory]. */
static int
s_build_hello (worker_t *self, proto_msg_t *hello)
{
    const args_t *args = &self->args;
    bool gpu = args->gpu_index >= 0;
    proto_msg_set_role (hello, PROTO_ROLE_WORKER);
    int rc = proto_msg_set_id (hello, args->id);
    if (rc == PROTO_OK)
        rc = proto_msg_set_node (hello, args->node);
    if (rc == PROTO_OK && gpu)
        rc = proto_msg_set_text (hello, "GPU %d %s", args->gpu_index, args->gpu_name);
    if (rc == PROTO_OK && !gpu)
        rc = proto_msg_set_text (hello, "cpu");
    if (rc == PROTO_OK)
        rc = proto_msg_add_num (hello, gpu ? (uint64_t)args->gpu_index : UINT64_MAX);
    if (rc == PROTO_OK)
        rc = proto_msg_add_num (hello, gpu ? args->gpu_memory : 0);
    /* A worker with a pool loaded asks to rejoin it: the pool, its
       library's hash, and the updates it applied (nums [2]). */
    if (rc == PROTO_OK && self->state == STATE_READY) {
        proto_msg_set_pool (hello, self->pool);
        rc = proto_msg_add_hash (hello, self->lib_hash);
        if (rc == PROTO_OK)
            rc = proto_msg_add_hash (hello, self->init_hash);
        if (rc == PROTO_OK)
            rc = proto_msg_add_num (hello, self->useq_applied);
        if (rc == PROTO_OK)
            rc = proto_msg_add_num (hello, self->pool_epoch);
    }
    /* The pid tells the head which process of this slot a WORKER_DIED
       from the node is about. */
    proto_msg_set_seq (hello, (uint64_t)getpid ());
    /* The host key lets the head send inputs of clients on this host by
       shared memory. */
    if (rc == PROTO_OK && self->host_key[0])
        rc = proto_msg_set_host (hello, self->host_key);
    return rc;
}

/*  Connects and says HELLO until the head welcomes us.  A head that does
    not answer is retried (it may be restarting); a refused handshake ends
    the worker with EXIT_AUTH, a DENIED or a bad address with EXIT_FAILED.
    0 when connected; -1 when the worker must end (s_finish was called). */
static int
s_connect (worker_t *self)
{
    while (!s_stop_requested) {
        proto_msg_t hello;
        proto_msg_init (&hello, PROTO_HELLO);
        int rc = s_build_hello (self, &hello);
        if (rc != PROTO_OK) {
            proto_msg_reset (&hello);
            zsys_error ("worker %s: cannot build HELLO", self->args.id);
            s_finish (self, EXIT_FAILED);
            return -1;
        }
        char error[512] = "";
        proto_msg_t welcome;
        proto_msg_init (&welcome, 0);
        rc = proto_link_connect (&self->link, self->args.server, &self->keys, &hello,
                                 CONNECT_TIMEOUT_S, &welcome, error, sizeof error);
        proto_msg_reset (&hello);
        self->head_epoch = welcome.nnums > 2 ? welcome.nums[2] : 0;
        proto_msg_reset (&welcome);
        if (rc == PROTO_OK) {
            self->sock = proto_link_sock (self->link);
            self->heartbeat_ms = proto_link_heartbeat_ms (self->link);
            self->liveness = proto_link_liveness (self->link);
            self->poller = zpoller_new (self->sock, NULL);
            if (!self->poller) {
                zsys_error ("worker %s: cannot create a poller", self->args.id);
                s_finish (self, EXIT_FAILED);
                return -1;
            }
            self->last_sent = self->last_heard = zclock_mono ();
            if (!s_exiting_worker) {
                /* After the first socket: CZMQ's handler is in place. */
                s_exiting_worker = self;
                atexit (s_at_exit);
            }
            zsys_info ("worker %s: connected to %s (heartbeat %d ms, liveness %d)",
                       self->args.id, self->args.server, self->heartbeat_ms,
                       self->liveness);
            return 0;
        }
        zsys_error ("worker %s: %s", self->args.id, error);
        if (rc == PROTO_LINK_EAUTH) {
            s_finish (self, EXIT_AUTH);
            return -1;
        }
        if (rc == PROTO_LINK_EREFUSED) {
            /* The head's machine answers, the head does not (it is being
               restarted): a second, then again. */
            for (int i = 0; i < 10 && !s_stop_requested; i++)
                zclock_sleep (100);
            continue;
        }
        if (rc != PROTO_LINK_ECONNECT) {
            s_finish (self, EXIT_FAILED);
            return -1;
        }
        /* ECONNECT already waited CONNECT_TIMEOUT_S (or was interrupted by
           a signal, which the loop condition sees): try again. */
    }
    s_finish (self, EXIT_CLEAN);
    return -1;
}

static void
s_disconnect (worker_t *self)
{
    zpoller_destroy (&self->poller);
    proto_link_destroy (&self->link);
    self->sock = NULL;
}

/* ------------------------------------------------------------------------
    Loading a pool: ASSIGN, BLOCK_GET/BLOCK, WORKER_READY */

/*  Answers WORKER_READY.  On failure (code < 0) the worker ends with
    EXIT_FAILED: the node starts a fresh process for the slot. */
static void
s_worker_ready (worker_t *self, int code, const char *reason)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_WORKER_READY);
    proto_msg_set_pool (&msg, self->pool);
    proto_msg_set_code (&msg, code);
    if (code && reason && proto_msg_set_text (&msg, "%s", reason) != PROTO_OK)
        proto_msg_set_text (&msg, "(reason too long)");
    if (code)
        zsys_error ("worker %s: pool %" PRIu64 " (%s) not loaded: %s", self->args.id,
                    self->pool, self->pool_name, reason ? reason : "");
    if (s_send (self, &msg))
        return;
    if (code) {
        s_finish (self, EXIT_FAILED);
        return;
    }
    self->state = STATE_READY;
    zsys_info ("worker %s: pool %" PRIu64 " ready (class '%s')", self->args.id,
               self->pool, worker_host_name (self->host));
}

/* Both blocks are here: load the library and call init. */
static void
s_load (worker_t *self)
{
    char path[PATH_MAX];
    char error[1024] = "";
    if (worker_cache_path (self->cache_dir, self->lib_hash, ".so", path, sizeof path)) {
        s_worker_ready (self, POOL_ELIBRARY, "cache path too long");
        return;
    }
    pool_bytes_t init = { NULL, 0 };
    if (self->init_data)
        init = (pool_bytes_t){ zframe_data (self->init_data),
                               zframe_size (self->init_data) };
    node_scoreboard_enter_init (self->board, self->pool);
    int rc = worker_host_load (&self->host, path, init, &self->ctx, error, sizeof error);
    node_scoreboard_leave (self->board);
    /* init has had its bytes: a worker that wants them later keeps a copy. */
    zframe_destroy (&self->init_data);
    s_worker_ready (self, rc, rc ? error : NULL);
}

/*  Looks for a block in the cache; asks the head for it when absent.
    0: found (init bytes into self->init_data when is_init) or asked;
    -1: a failure, answered with WORKER_READY. */
static int
s_want_block (worker_t *self, const uint8_t hash[PROTO_HASH_SIZE], bool is_init)
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
                s_worker_ready (self, POOL_ENOMEM, "out of memory");
                return -1;
            }
            return 0;
        }
    }
    if (worker_cache_path (self->cache_dir, hash, is_init ? "" : ".so", path,
                           sizeof path)) {
        s_worker_ready (self, POOL_EWORKER, "cache path too long");
        return -1;
    }
    zframe_t *bytes = NULL;
    int rc = worker_cache_read (path, hash, &bytes, error, sizeof error);
    if (rc < 0) {
        s_worker_ready (self, POOL_EWORKER, error);
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
        s_worker_ready (self, POOL_EWORKER, "cannot build BLOCK_GET");
        return -1;
    }
    if (s_send (self, &get))
        return -1;
    if (is_init)
        self->init_pending = true;
    else
        self->lib_pending = true;
    return 0;
}

/*  ASSIGN to a worker that has a pool loaded: after a head restart the
    head gives the pool its client opened again (a new id) to the workers
    that have its library and init data loaded.  They serve it as they
    are, with the updates they applied; true when that is the case. */
static bool
s_take_back (worker_t *self, proto_msg_t *msg)
{
    if (self->state != STATE_READY || msg->nhashes < 2
        || memcmp (msg->hash[0], self->lib_hash, PROTO_HASH_SIZE)
        || memcmp (msg->hash[1], self->init_hash, PROTO_HASH_SIZE))
        return false;
    zsys_info ("worker %s: serves pool %" PRIu64 " (pool %" PRIu64
               " before the head restarted) with its library loaded",
               self->args.id, msg->pool, self->pool);
    self->pool = msg->pool;
    self->pool_epoch = self->head_epoch;
    self->job_timeout_ms = msg->nnums > 0 ? msg->nums[0] : 0;
    s_worker_ready (self, 0, NULL);
    return true;
}

static void
s_on_assign (worker_t *self, proto_msg_t *msg)
{
    if (s_take_back (self, msg))
        return;
    if (self->state != STATE_IDLE) {
        zsys_warning ("worker %s: ASSIGN for pool %" PRIu64 " while serving pool %" PRIu64
                      "; ignored",
                      self->args.id, msg->pool, self->pool);
        s_send_error (self, POOL_EPROTO, "worker already has a pool");
        return;
    }
    self->state = STATE_LOADING;
    self->pool = msg->pool;
    self->pool_epoch = self->head_epoch;
    snprintf (self->pool_name, sizeof self->pool_name, "%s", msg->text ? msg->text : "");
    self->job_timeout_ms = msg->nnums > 0 ? msg->nums[0] : 0;
    if (msg->nhashes < 1) {
        s_worker_ready (self, POOL_ELIBRARY, "ASSIGN names no worker library");
        return;
    }
    memcpy (self->lib_hash, msg->hash[0], PROTO_HASH_SIZE);
    if (msg->nhashes > 1)
        memcpy (self->init_hash, msg->hash[1], PROTO_HASH_SIZE);
    else
        proto_hash ("", 0, self->init_hash);
    zsys_info ("worker %s: assigned pool %" PRIu64 " (%s)", self->args.id, self->pool,
               self->pool_name);
    if (s_want_block (self, self->lib_hash, false)
        || s_want_block (self, self->init_hash, true))
        return;
    if (!self->lib_pending && !self->init_pending)
        s_load (self);
}

static void
s_on_block (worker_t *self, proto_msg_t *msg)
{
    if (self->state != STATE_LOADING || msg->nhashes < 1) {
        zsys_warning ("worker %s: unexpected BLOCK ignored", self->args.id);
        return;
    }
    const uint8_t *hash = msg->hash[0];
    bool is_lib
        = self->lib_pending && memcmp (hash, self->lib_hash, PROTO_HASH_SIZE) == 0;
    bool is_init = !is_lib && self->init_pending
                   && memcmp (hash, self->init_hash, PROTO_HASH_SIZE) == 0;
    if (!is_lib && !is_init) {
        zsys_warning ("worker %s: BLOCK for a block not asked for ignored",
                      self->args.id);
        return;
    }
    zframe_t *frame = proto_msg_pop_frame (msg);
    if (!frame) {
        s_worker_ready (self, POOL_EWORKER, "BLOCK without its bytes");
        return;
    }
    char error[1024] = "";
    uint8_t actual[PROTO_HASH_SIZE];
    proto_hash (zframe_data (frame), zframe_size (frame), actual);
    if (memcmp (actual, hash, PROTO_HASH_SIZE) != 0) {
        zframe_destroy (&frame);
        s_worker_ready (self, POOL_EWORKER,
                        "block from the head does not match its hash");
        return;
    }
    char path[PATH_MAX];
    if (worker_cache_path (self->cache_dir, hash, is_lib ? ".so" : "", path,
                           sizeof path)) {
        zframe_destroy (&frame);
        s_worker_ready (self, POOL_EWORKER, "cache path too long");
        return;
    }
    if (worker_cache_write (path, zframe_data (frame), zframe_size (frame), error,
                            sizeof error)) {
        zframe_destroy (&frame);
        /* The library must be on disk to be loaded; init data need not be. */
        if (is_lib) {
            s_worker_ready (self, POOL_EWORKER, error);
            return;
        }
        zsys_warning ("worker %s: %s", self->args.id, error);
    }
    if (is_lib) {
        zframe_destroy (&frame);
        self->lib_pending = false;
    } else {
        zframe_destroy (&self->init_data);
        self->init_data = frame;
        self->init_pending = false;
    }
    if (!self->lib_pending && !self->init_pending)
        s_load (self);
}

/* An ERROR while loading is the head's answer to a BLOCK_GET. */
static void
s_on_error (worker_t *self, proto_msg_t *msg)
{
    const char *text = msg->text ? msg->text : "";
    if (msg->code == PROTO_CODE_UNKNOWN_PEER) {
        /* The head restarted or declared us dead.  With a pool loaded we
           make way for a fresh process; idle, we say HELLO again. */
        if (self->state == STATE_READY)
            self->rejoin = true; /* see s_rejoin */
        else if (self->state != STATE_IDLE) {
            zsys_warning ("worker %s: the head no longer knows us (%s); exiting so "
                          "the node starts a fresh worker",
                          self->args.id, text);
            s_finish (self, EXIT_HEAD_LOST);
        } else
            self->last_heard = 0;
        return;
    }
    if (self->state == STATE_LOADING && (self->lib_pending || self->init_pending)) {
        char reason[1024];
        snprintf (reason, sizeof reason, "cannot fetch the %s block: %s",
                  self->lib_pending ? "library" : "init data", text);
        s_worker_ready (self, POOL_EWORKER, reason);
        return;
    }
    zsys_warning ("worker %s: head says: %s (%" PRId64 ")", self->args.id, text,
                  msg->code);
}

/* ------------------------------------------------------------------------
    Jobs, updates, results */

/*  Empties the batch of results (what it holds is dropped) and its
    timings. */
static void
s_results_clear (worker_t *self)
{
    proto_msg_reset (&self->results);
    proto_msg_init (&self->results, PROTO_RESULT);
    self->results_bytes = 0;
    self->arena_len = 0;
    self->busy_since_us = 0;
    self->results_last_arrived_us = 0;
}

/*  Drops every queued job and update. */
static void
s_fifo_clear (worker_t *self)
{
    while (self->fifo.head) {
        action_t *action = s_fifo_pop (&self->fifo);
        s_action_destroy (&action);
    }
}

static void
s_flush_results (worker_t *self)
{
    if (self->results.njobs == 0) {
        /* Nothing batched (big outputs went on their own, or nothing ran):
           the next batch's run time starts with its first job. */
        self->busy_since_us = 0;
        return;
    }
    /* The outputs wait in the arena, which no longer moves: by reference. */
    size_t n = self->results.njobs;
    self->offs[n] = self->arena_len;
    for (size_t k = 0; k < n; k++)
        if (proto_msg_add_borrowed (&self->results, self->arena + self->offs[k],
                                    self->offs[k + 1] - self->offs[k])
            != PROTO_OK) {
            zsys_error ("worker %s: out of memory sending results", self->args.id);
            s_finish (self, EXIT_FAILED);
            return;
        }
    proto_msg_set_pool (&self->results, self->pool);
    /* How long the jobs ran, and how long the last one was here: the head
       sizes this worker's window from them (head/scheduler.c). */
    int64_t now_us = zclock_usecs ();
    proto_msg_add_num (&self->results, self->busy_since_us
                                           ? (uint64_t)(now_us - self->busy_since_us)
                                           : 0);
    proto_msg_add_num (&self->results,
                       self->results_last_arrived_us
                           ? (uint64_t)(now_us - self->results_last_arrived_us)
                           : 0);
    s_send (self, &self->results);
    s_results_clear (self);
}

/*  Adds one result to the batch (frame consumed).  -1 when out of memory:
    the worker ends and the head requeues what it held. */
/*  Adds one result to the batch: small outputs are copied into the
    results arena and go packed, by reference, when the batch is flushed;
    a big one goes at once in a RESULT of its own.  -1 when out of memory:
    the worker ends and the head requeues what it held. */
static int
s_add_result (worker_t *self, uint64_t id, uint32_t attempt, int32_t status,
              uint32_t flags, const void *data, size_t size)
{
    if (size > PROTO_PACK_ITEM_MAX) {
        s_flush_results (self);
        proto_msg_t big;
        proto_msg_init (&big, PROTO_RESULT);
        proto_msg_set_pool (&big, self->pool);
        proto_job_t *job = proto_msg_add_job (&big);
        if (!job || proto_msg_add_bytes (&big, data, size) != PROTO_OK) {
            proto_msg_reset (&big);
            zsys_error ("worker %s: out of memory for a result", self->args.id);
            s_finish (self, EXIT_FAILED);
            return -1;
        }
        job->id = id;
        job->attempt = attempt;
        job->status = status;
        job->flags = flags;
        return s_send (self, &big);
    }
    size_t k = self->results.njobs;
    if (self->arena_len + size > self->arena_cap || k + 1 >= self->offs_cap) {
        size_t cap = self->arena_cap ? self->arena_cap : 64 * 1024;
        while (cap < self->arena_len + size)
            cap *= 2;
        size_t offs_cap = self->offs_cap ? self->offs_cap : 256;
        while (offs_cap < k + 2)
            offs_cap *= 2;
        uint8_t *arena = realloc (self->arena, cap);
        if (arena)
            self->arena = arena;
        size_t *offs = realloc (self->offs, offs_cap * sizeof *offs);
        if (offs)
            self->offs = offs;
        if (!arena || !offs) {
            zsys_error ("worker %s: out of memory batching results", self->args.id);
            s_finish (self, EXIT_FAILED);
            return -1;
        }
        self->arena_cap = cap;
        self->offs_cap = offs_cap;
    }
    proto_job_t *job = proto_msg_add_job (&self->results);
    if (!job) {
        zsys_error ("worker %s: out of memory batching results", self->args.id);
        s_finish (self, EXIT_FAILED);
        return -1;
    }
    job->id = id;
    job->attempt = attempt;
    job->status = status;
    job->flags = flags;
    self->offs[k] = self->arena_len;
    if (size)
        memcpy (self->arena + self->arena_len, data, size);
    self->arena_len += size;
    if (self->results.njobs == 1)
        self->results_since = zclock_mono ();
    self->results_bytes += size;
    return 0;
}

/*  Sends a big output in the frame it was built in (taken), in a RESULT of
    its own after the batch so far. */
static void
s_send_frame_result (worker_t *self, uint64_t id, uint32_t attempt, zframe_t **frame)
{
    s_flush_results (self);
    proto_msg_t big;
    proto_msg_init (&big, PROTO_RESULT);
    proto_msg_set_pool (&big, self->pool);
    proto_job_t *job = proto_msg_add_job (&big);
    if (!job || proto_msg_add_frame (&big, frame) != PROTO_OK) {
        proto_msg_reset (&big);
        zsys_error ("worker %s: out of memory for a result", self->args.id);
        s_finish (self, EXIT_FAILED);
        return;
    }
    job->id = id;
    job->attempt = attempt;
    s_send (self, &big);
}

/*  Answers the jobs of a JOB this worker cannot run (another pool, no pool
    loaded) at once with an error, so no job waits for a worker's death. */
static void
s_refuse_jobs (worker_t *self, proto_msg_t *msg, const char *reason)
{
    proto_msg_t reply;
    proto_msg_init (&reply, PROTO_RESULT);
    proto_msg_set_pool (&reply, msg->pool);
    for (size_t i = 0; i < msg->njobs; i++) {
        proto_job_t *job = proto_msg_add_job (&reply);
        if (!job || proto_msg_add_bytes (&reply, reason, strlen (reason)) != PROTO_OK) {
            proto_msg_reset (&reply);
            return;
        }
        job->id = msg->jobs[i].id;
        job->attempt = msg->jobs[i].attempt;
        job->status = POOL_EJOB;
    }
    s_send (self, &reply);
}

static void
s_on_job (worker_t *self, proto_msg_t *msg)
{
    if (self->state == STATE_IDLE || msg->pool != self->pool) {
        char reason[160];
        snprintf (reason, sizeof reason, "worker %s does not serve pool %" PRIu64,
                  self->args.id, msg->pool);
        zsys_warning ("%s: JOB refused", reason);
        s_refuse_jobs (self, msg, reason);
        return;
    }
    /* The codec checked one payload per job.  The message moves into a
       batch that its jobs share. */
    size_t njobs = msg->njobs;
    int64_t arrived_us = zclock_usecs ();
    batch_t *batch = calloc (1, sizeof *batch + njobs * sizeof (action_t));
    if (!batch) {
        zsys_error ("worker %s: out of memory queueing jobs", self->args.id);
        s_finish (self, EXIT_FAILED);
        return;
    }
    batch->msg = *msg;
    proto_msg_init (msg, PROTO_JOB);
    batch->refs = njobs;
    for (size_t i = 0; i < njobs; i++) {
        action_t *action = &batch->actions[i];
        action->kind = ACTION_JOB;
        action->id = batch->msg.jobs[i].id;
        action->attempt = batch->msg.jobs[i].attempt;
        action->seq = batch->msg.jobs[i].useq;
        action->shared = (batch->msg.jobs[i].flags & PROTO_JOB_SHARED) != 0;
        action->batch = batch;
        action->arrived_us = arrived_us;
        proto_msg_payload (&batch->msg, i, &action->data, &action->size);
        s_fifo_push (&self->fifo, action);
    }
}

static void
s_on_update (worker_t *self, proto_msg_t *msg)
{
    if (self->state == STATE_IDLE || msg->pool != self->pool) {
        zsys_warning ("worker %s: UPDATE for pool %" PRIu64 " it does not serve ignored",
                      self->args.id, msg->pool);
        return;
    }
    action_t *action = calloc (1, sizeof *action);
    zframe_t *frame = proto_msg_pop_frame (msg);
    if (!action || !frame) {
        free (action);
        zframe_destroy (&frame);
        zsys_error ("worker %s: out of memory queueing an update", self->args.id);
        s_finish (self, EXIT_FAILED);
        return;
    }
    action->kind = ACTION_UPDATE;
    action->seq = (msg->present & PROTO_F_SEQ) ? msg->seq : 0;
    action->frame = frame;
    s_fifo_push (&self->fifo, action);
}

static void
s_apply_update (worker_t *self, action_t *action)
{
    if (action->seq && action->seq <= self->useq_applied) {
        zsys_warning ("worker %s: update %" PRIu64 " already applied; skipped",
                      self->args.id, action->seq);
        return;
    }
    if (action->seq && action->seq != self->useq_applied + 1)
        zsys_warning ("worker %s: update %" PRIu64 " follows %" PRIu64
                      " (updates missing)",
                      self->args.id, action->seq, self->useq_applied);
    pool_bytes_t bytes = { zframe_data (action->frame), zframe_size (action->frame) };
    node_scoreboard_enter_update (self->board, self->pool,
                                  action->seq ? action->seq : self->useq_applied + 1);
    int rc = worker_host_update (self->host, bytes, &self->ctx);
    node_scoreboard_leave (self->board);
    uint64_t seq = action->seq ? action->seq : self->useq_applied + 1;
    if (rc) {
        /* Refused: this worker must run nothing that was sent after the
           update.  It tells the head why (the head counts refusals like
           deaths in handle_update and fails the pool when every attempt
           refused) and leaves; the head requeues what it held, uncharged,
           and the node starts a fresh process. */
        const char *why = worker_ctx_error (&self->ctx);
        zsys_error ("worker %s: update %" PRIu64 " refused: %s; leaving", self->args.id,
                    seq, why ? why : "handle_update returned non-zero");
        s_flush_results (self);
        proto_msg_t msg;
        proto_msg_init (&msg, PROTO_ERROR);
        proto_msg_set_pool (&msg, self->pool);
        proto_msg_set_seq (&msg, seq);
        proto_msg_set_code (&msg, POOL_EWORKER);
        if (proto_msg_set_text (&msg, "%s", why ? why : "handle_update returned non-zero")
            != PROTO_OK)
            proto_msg_set_text (&msg, "handle_update refused it (reason too long)");
        s_send (self, &msg);
        /* The class returned normally: it gets its destroy.  The update
           stays on the scoreboard: should the ERROR above not reach the
           head before the node's report of this exit, the report still
           counts the update against the pool (as a death in it). */
        worker_host_destroy (&self->host);
        node_scoreboard_enter_update (self->board, self->pool, seq);
        s_finish (self, EXIT_FAILED);
        return;
    }
    self->useq_applied = seq;
}

/*  A job's input in the client's memory (proto/shm.h). */
typedef struct {
    proto_shm_ref_t ref;
    int fd;     /* the client's memfd, opened through /proc */
    void *data; /* the input, mapped */
    void *base; /* the mapping, for munmap */
    size_t length;
} shared_input_t;

static void
s_close_shared (shared_input_t *shared)
{
    if (shared->base)
        munmap (shared->base, shared->length);
    if (shared->fd >= 0)
        close (shared->fd);
    shared->base = NULL;
    shared->fd = -1;
}

/*  Opens and maps a shared input: 0, or -1 after answering the job
    PROTO_CODE_RESEND (the client then sends the bytes, and the head
    sends this worker no more shared inputs). */
static int
s_open_shared (worker_t *self, action_t *action, shared_input_t *shared)
{
    int rc = proto_shm_ref_decode (action->data, action->size, &shared->ref)
                 ? -EINVAL
                 : proto_shm_open (&shared->ref, &shared->fd);
    if (rc == 0)
        rc = proto_shm_map (shared->fd, shared->ref.offset, (size_t)shared->ref.size,
                            false, &shared->data, &shared->base, &shared->length);
    if (rc == 0)
        return 0;
    char text[160];
    snprintf (text, sizeof text, "cannot read the input in process %u's memory: %s",
              shared->ref.pid, strerror (-rc));
    zsys_warning ("worker %s: job %" PRIu64 ": %s", self->args.id, action->id, text);
    s_close_shared (shared);
    s_add_result (self, action->id, action->attempt, PROTO_CODE_RESEND, 0, text,
                  strlen (text));
    return -1;
}

static void
s_run_job (worker_t *self, action_t *action)
{
    if (action->seq > self->useq_applied)
        zsys_warning ("worker %s: job %" PRIu64 " needs update %" PRIu64 ", only %" PRIu64
                      " applied; running it anyway",
                      self->args.id, action->id, action->seq, self->useq_applied);
    /* A shared input is mapped from the client's memfd (page aligned). */
    shared_input_t shared = { .fd = -1 };
    if (action->shared && s_open_shared (self, action, &shared))
        return;
    worker_output_reset (&self->output, shared.fd);
    /* Inputs are read in place from the JOB message, where a packed one
       may sit at any offset; user code may cast input.data to a double *,
       so it always gets 16-byte aligned bytes (copied when they are not). */
    pool_bytes_t input = { action->data, action->size };
    if (action->shared)
        input = (pool_bytes_t){ shared.data, shared.ref.size };
    else if (action->size && ((uintptr_t)action->data & 15)) {
        if (action->size > self->aligned_cap) {
            free (self->aligned);
            self->aligned = NULL;
            self->aligned_cap = 0;
            if (posix_memalign (&self->aligned, 16, action->size)) {
                self->aligned = NULL;
                zsys_error ("worker %s: out of memory for an input", self->args.id);
                s_finish (self, EXIT_FAILED);
                return;
            }
            self->aligned_cap = action->size;
        }
        memcpy (self->aligned, action->data, action->size);
        input.data = self->aligned;
    }
    /* A job_timeout is enforced here, by the kernel: SIGALRM at its default
       disposition ends the process however the user code is stuck, the
       node reports "signal 14", and the head turns that into a timeout
       for this job (requeue, or POOL_ETIMEDOUT after max_attempts). */
    struct itimerval timer = { { 0, 0 }, { 0, 0 } };
    if (self->job_timeout_ms) {
        timer.it_value.tv_sec = (time_t)(self->job_timeout_ms / 1000);
        timer.it_value.tv_usec = (suseconds_t)(self->job_timeout_ms % 1000) * 1000;
        setitimer (ITIMER_REAL, &timer, NULL);
    }
    node_scoreboard_enter (self->board, self->pool, action->id, action->attempt);
    if (!self->busy_since_us)
        self->busy_since_us = zclock_usecs ();
    int rc = worker_host_run (self->host, input, &self->output, &self->ctx);
    node_scoreboard_leave (self->board);
    if (self->job_timeout_ms) {
        timer.it_value.tv_sec = 0;
        timer.it_value.tv_usec = 0;
        setitimer (ITIMER_REAL, &timer, NULL);
    }
    int32_t status = 0;
    uint32_t flags = 0;
    const void *data = NULL;
    size_t size = 0;
    char text[64];
    uint8_t ref[PROTO_SHM_REF_SIZE];
    zframe_t *frame = NULL;
    if (rc == 0) {
        if (self->output.set && self->output.size) {
            frame = worker_output_take_frame (&self->output);
            data = frame ? zframe_data (frame) : self->output.data;
            size = self->output.size;
        }
        /* A big output for a client on this host goes into its memfd
           (there already when the library used pool_output_set). */
        if (shared.fd >= 0 && size >= PROTO_SHM_OUTPUT_MIN
            && (self->output.sunk
                || proto_shm_append (shared.fd, data, size, &self->output.sink_offset)
                       == 0)) {
            proto_shm_ref_t out = shared.ref;
            out.offset = self->output.sink_offset;
            out.size = size;
            proto_shm_ref_encode (&out, ref);
            data = ref;
            size = sizeof ref;
            flags = PROTO_JOB_SHARED;
        }
    } else {
        status = POOL_EJOB;
        const char *why = worker_ctx_error (&self->ctx);
        if (!why) {
            snprintf (text, sizeof text, "run returned %d", rc);
            why = text;
        }
        data = why;
        size = strlen (why);
    }
    if (frame && flags == 0 && status == 0)
        s_send_frame_result (self, action->id, action->attempt, &frame);
    else {
        s_add_result (self, action->id, action->attempt, status, flags, data, size);
        self->results_last_arrived_us = action->arrived_us;
    }
    zframe_destroy (&frame);
    s_close_shared (&shared);
}

/*  Runs the next queued action.  Results go out when no job is left
    queued, every RESULTS_MAX results, past RESULTS_BYTES_MAX, or when the
    batch is RESULTS_AGE_MS old: tiny jobs still batch, while the results
    of jobs of a few ms each do not wait for the whole queue (the head
    refills this worker's prefetch from them).
    A job's run blocks this thread: no heartbeat leaves while it runs, so a
    job longer than heartbeat_ms * liveness gets this worker declared dead
    by the head (the node still heartbeats for the machine).  Running user
    code on a thread of its own would lift that; not done yet. */
static void
s_run_next (worker_t *self, int64_t *now)
{
    action_t *action = s_fifo_pop (&self->fifo);
    if (!action) {
        *now = zclock_mono ();
        return;
    }
    if (action->kind == ACTION_UPDATE)
        s_apply_update (self, action);
    else
        s_run_job (self, action);
    s_action_destroy (&action);
    if (self->done)
        return;
    /* One look at the clock per job: it serves the batch's age here and
       the caller's heartbeat and next turn. */
    *now = zclock_mono ();
    if (self->fifo.jobs == 0 || self->results.njobs >= RESULTS_MAX
        || self->results_bytes >= RESULTS_BYTES_MAX
        || (self->results.njobs && *now - self->results_since >= RESULTS_AGE_MS))
        s_flush_results (self);
}

/* ------------------------------------------------------------------------
    Messages from the head */

static void
s_on_message (worker_t *self, proto_msg_t *msg)
{
    switch (msg->type) {
    case PROTO_HEARTBEAT:
    case PROTO_WELCOME:
        break;
    case PROTO_ASSIGN:
        s_on_assign (self, msg);
        break;
    case PROTO_BLOCK:
        s_on_block (self, msg);
        break;
    case PROTO_JOB:
        s_on_job (self, msg);
        break;
    case PROTO_UPDATE:
        s_on_update (self, msg);
        break;
    case PROTO_POOL_CLOSE:
        if (self->state != STATE_IDLE && msg->pool != self->pool) {
            zsys_warning ("worker %s: POOL_CLOSE for pool %" PRIu64 " ignored",
                          self->args.id, msg->pool);
            break;
        }
        self->closing = true;
        break;
    case PROTO_ERROR:
        s_on_error (self, msg);
        break;
    case PROTO_DENIED:
        zsys_error ("worker %s: the head refused us: %s", self->args.id,
                    msg->text ? msg->text : "no reason given");
        s_finish (self, EXIT_FAILED);
        break;
    default:
        zsys_warning ("worker %s: unexpected %s ignored", self->args.id,
                      proto_type_name (msg->type));
        break;
    }
}

/*  Reads what the socket holds, without waiting, handling each message in
    arrival order (jobs and updates go to the FIFO). */
static void
s_drain (worker_t *self)
{
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    for (int n = 0; n < DRAIN_MAX && !self->done; n++) {
        if (!(zsock_events (self->sock) & ZMQ_POLLIN))
            break;
        char reason[256] = "";
        int rc = proto_msg_recv (&msg, zsock_resolve (self->sock), reason, sizeof reason);
        if (rc == PROTO_EIO)
            break; /* interrupted: the loop looks again */
        self->last_heard = zclock_mono ();
        if (rc != PROTO_OK) {
            zsys_warning ("worker %s: bad message from the head: %s", self->args.id,
                          reason);
            s_send_error (self, POOL_EPROTO, reason);
        } else
            s_on_message (self, &msg);
        proto_msg_reset (&msg);
    }
    proto_msg_reset (&msg);
}

/* ------------------------------------------------------------------------
    Blocks during a run: pool_worker_block_get / _put (worker_ctx.c) ask
    the head from inside the user's code.  While waiting for the answer
    this keeps heartbeating and queues what else arrives (jobs, updates,
    POOL_CLOSE) exactly as the main loop would. */

/*  Sends req (consumed) and waits for a `want` naming hash: 0 with its
    first frame in *frame when given (caller owns); <0 with the reason. */
static int
s_block_request (worker_t *self, proto_msg_t *req, proto_type_t want,
                 const uint8_t hash[PROTO_HASH_SIZE], zframe_t **frame, char *error,
                 size_t error_size)
{
    if (self->done || !self->sock) {
        proto_msg_reset (req);
        snprintf (error, error_size, "worker is shutting down");
        return POOL_ELOST;
    }
    if (s_send (self, req)) {
        snprintf (
            error, error_size, "cannot send %s to the head",
            proto_type_name (want == PROTO_BLOCK ? PROTO_BLOCK_GET : PROTO_BLOCK_PUT));
        return POOL_ELOST;
    }
    char hex[2 * PROTO_HASH_SIZE + 1];
    proto_hash_hex (hash, hex);
    int rc = 1;
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    while (rc == 1) {
        int64_t now = zclock_mono ();
        if (now - self->last_sent >= self->heartbeat_ms)
            s_send_bare (self, PROTO_HEARTBEAT);
        if (now - self->last_heard >= FETCH_SILENCE_MS) {
            snprintf (error, error_size,
                      "block %.16s: the head has been silent for %.0f s", hex,
                      (double)(now - self->last_heard) / 1000.0);
            rc = POOL_ELOST;
            break;
        }
        if (!(zsock_events (self->sock) & ZMQ_POLLIN)) {
            zpoller_wait (self->poller, self->heartbeat_ms);
            continue;
        }
        char reason[256] = "";
        int drc
            = proto_msg_recv (&msg, zsock_resolve (self->sock), reason, sizeof reason);
        if (drc == PROTO_EIO)
            continue;
        self->last_heard = zclock_mono ();
        if (drc != PROTO_OK) {
            s_send_error (self, POOL_EPROTO, reason);
            continue;
        }
        if (msg.type == want && msg.nhashes >= 1
            && memcmp (msg.hash[0], hash, PROTO_HASH_SIZE) == 0) {
            if (frame) {
                *frame = proto_msg_pop_frame (&msg);
                if (!*frame) {
                    snprintf (error, error_size, "block %.16s came without its bytes",
                              hex);
                    rc = POOL_EIO;
                    break;
                }
                uint8_t actual[PROTO_HASH_SIZE];
                proto_hash (zframe_data (*frame), zframe_size (*frame), actual);
                if (memcmp (actual, hash, PROTO_HASH_SIZE) != 0) {
                    zframe_destroy (frame);
                    snprintf (error, error_size,
                              "block %.16s from the head does not match its hash", hex);
                    rc = POOL_EIO;
                    break;
                }
            }
            rc = 0;
        } else if (msg.type == PROTO_BLOCK || msg.type == PROTO_BLOCK_STORED)
            ; /* an answer to an earlier request that gave up: stale */
        else if (msg.type == PROTO_ERROR && !(msg.present & PROTO_F_POOL)
                 && msg.code != PROTO_CODE_UNKNOWN_PEER) {
            /* The head answers a failed BLOCK_GET/PUT with an ERROR naming
               no pool; we have one request out at a time. */
            snprintf (error, error_size, "%s", msg.text ? msg.text : "block store error");
            rc = msg.code < 0 && msg.code > -100 ? (int)msg.code : POOL_EIO;
        } else {
            s_on_message (self, &msg);
            if (self->done) {
                snprintf (error, error_size, "block %.16s: the worker is ending", hex);
                rc = POOL_ELOST;
            }
        }
        proto_msg_reset (&msg);
    }
    proto_msg_reset (&msg);
    return rc;
}

static int
s_block_get (void *arg, const uint8_t hash[POOL_HASH_SIZE], zframe_t **bytes, char *error,
             size_t error_size)
{
    worker_t *self = arg;
    proto_msg_t get;
    proto_msg_init (&get, PROTO_BLOCK_GET);
    proto_msg_add_hash (&get, hash);
    return s_block_request (self, &get, PROTO_BLOCK, hash, bytes, error, error_size);
}

static int
s_block_put (void *arg, const uint8_t hash[POOL_HASH_SIZE], const void *data, size_t size,
             char *error, size_t error_size)
{
    worker_t *self = arg;
    proto_msg_t put;
    proto_msg_init (&put, PROTO_BLOCK_PUT);
    proto_msg_add_hash (&put, hash);
    if (proto_msg_add_bytes (&put, data, size) != PROTO_OK) {
        proto_msg_reset (&put);
        snprintf (error, error_size, "out of memory sending a block");
        return POOL_ENOMEM;
    }
    return s_block_request (self, &put, PROTO_BLOCK_STORED, hash, NULL, error,
                            error_size);
}

/* ------------------------------------------------------------------------
    Main loop */

/*  How long the head may stay silent.  A big block arriving holds the
    head's heartbeats back behind it on the one connection, so a worker
    fetching blocks waits longer before it gives up. */
static int64_t
s_silence_limit (worker_t *self)
{
    int64_t limit = (int64_t)self->heartbeat_ms * self->liveness;
    if (self->state == STATE_LOADING && (self->lib_pending || self->init_pending)
        && limit < FETCH_SILENCE_MS)
        limit = FETCH_SILENCE_MS;
    return limit;
}

/*  The link to the head was cut (silence) or the head forgot us (it
    declared our node lost): connect again and ask to rejoin the pool we
    have loaded, so a network blip does not cost a model's load.  The head
    requeued what we held when it forgot us, so our queued jobs and unsent
    results are dropped here (a late result would be dropped there by its
    attempt anyway).  A head that cannot take us back (the pool closed, or
    a new head that never knew it) answers POOL_CLOSE and we leave. */
static void
s_rejoin (worker_t *self, const char *why)
{
    self->rejoin = false;
    zsys_warning ("worker %s: %s; connecting again to rejoin pool %" PRIu64
                  " with its library loaded",
                  self->args.id, why, self->pool);
    s_fifo_clear (self);
    s_results_clear (self);
    s_disconnect (self);
    if (s_connect (self) == 0)
        zsys_info ("worker %s: rejoined pool %" PRIu64, self->args.id, self->pool);
}

/* Ends the pool in hand: results out, destroy, BYE. */
static void
s_leave (worker_t *self, const char *why)
{
    s_flush_results (self);
    zsys_info ("worker %s: %s; leaving", self->args.id, why);
    s_send_bare (self, PROTO_BYE);
    /* destroy after the goodbye: a destroy that hangs loses nothing. */
    worker_host_destroy (&self->host);
    s_finish (self, EXIT_CLEAN);
}

static void
s_run (worker_t *self)
{
    int64_t now = zclock_mono ();
    bool fresh = true; /* now was read just after the last job */
    while (!self->done) {
        if (s_stop_requested) {
            s_leave (self, "stopped by signal");
            break;
        }
        /* Looking at the socket costs libzmq a system call: between tiny
           jobs do it once a millisecond, not once a job.  Order holds
           either way: a job sent after an update or a POOL_CLOSE arrives
           behind it, so it is not in the queue before they are read. */
        if (!fresh)
            now = zclock_mono ();
        fresh = false;
        if (!self->fifo.head || now - self->last_drain >= 1) {
            s_drain (self);
            self->last_drain = now;
        }
        if (self->done)
            break;
        if (self->closing) {
            s_leave (self, "pool closed");
            break;
        }
        if (self->rejoin) {
            s_rejoin (self, "the head no longer knows us");
            now = zclock_mono ();
            continue;
        }
        if (self->state == STATE_READY && self->fifo.head) {
            s_run_next (self, &now);
            fresh = true;
            if (now - self->last_sent >= self->heartbeat_ms)
                s_send_bare (self, PROTO_HEARTBEAT);
            continue; /* look at the socket between actions */
        }
        s_flush_results (self);
        if (now - self->last_sent >= self->heartbeat_ms) {
            s_send_bare (self, PROTO_HEARTBEAT);
            now = zclock_mono ();
        }
        int64_t silence = now - self->last_heard;
        if (silence >= s_silence_limit (self)) {
            /* Bytes still arriving: the head's heartbeats are queued
               behind a big message on its way here. */
            int quiet = proto_link_quiet_ms (self->link);
            if (quiet >= 0 && quiet < self->heartbeat_ms) {
                self->last_heard = now - quiet;
                continue;
            }
        }
        if (silence >= s_silence_limit (self)) {
            if (self->state == STATE_READY) {
                char why[96];
                snprintf (why, sizeof why, "the head has been silent for %" PRId64 " ms",
                          silence);
                s_rejoin (self, why);
                now = zclock_mono ();
                continue;
            }
            if (self->state != STATE_IDLE) {
                zsys_error ("worker %s: the head has been silent for %" PRId64
                            " ms; exiting so the node starts a fresh worker",
                            self->args.id, silence);
                s_finish (self, EXIT_HEAD_LOST);
                break;
            }
            zsys_warning ("worker %s: the head has been silent for %" PRId64
                          " ms; reconnecting",
                          self->args.id, silence);
            s_disconnect (self);
            if (s_connect (self))
                break;
            continue;
        }
        int64_t wait = self->heartbeat_ms - (now - self->last_sent);
        int64_t until_silent = s_silence_limit (self) - silence;
        if (until_silent < wait)
            wait = until_silent;
        if (wait < 1)
            wait = 1;
        zpoller_wait (self->poller, (int)wait);
    }
}

int
main (int argc, char *argv[])
{
    worker_t *self = calloc (1, sizeof *self);
    if (!self) {
        fprintf (stderr, "pool-worker: out of memory\n");
        return EXIT_FAILED;
    }
    int exit_code = EXIT_FAILED;
    proto_msg_init (&self->results, PROTO_RESULT);
    self->output.sink_fd = -1;
    if (proto_host_key (self->host_key))
        self->host_key[0] = 0;
    if (s_parse_args (&self->args, argc, argv))
        goto cleanup;
    if (s_install_signals ()) {
        fprintf (stderr, "pool-worker: cannot install signal handlers\n");
        goto cleanup;
    }
    zsys_set_logstream (stderr);
    zsys_set_logident ("pool-worker");
    if (self->args.scoreboard_fd >= 0) {
        self->board = node_scoreboard_map (self->args.scoreboard_fd);
        if (!self->board)
            zsys_warning ("worker %s: cannot map the scoreboard: a crash will be "
                          "charged to the oldest job held",
                          self->args.id);
    }

    const char *keys = getenv (PROTO_KEYS_ENV);
    if (!keys || proto_keys_import (&self->keys, keys)) {
        zsys_error ("worker %s: %s is %s", self->args.id, PROTO_KEYS_ENV,
                    keys ? "malformed"
                         : "not set (pool-worker is started by start_node)");
        goto cleanup;
    }
    if (worker_ctx_init (&self->ctx, self->args.id, self->args.gpu_index,
                         self->args.gpu_name, self->args.gpu_memory)) {
        zsys_error ("worker %s: bad worker id or GPU name", self->args.id);
        goto cleanup;
    }
    if (self->args.gpu_uuid)
        snprintf (self->ctx.gpu_uuid, sizeof self->ctx.gpu_uuid, "%s",
                  self->args.gpu_uuid);
    int n = snprintf (self->cache_dir, sizeof self->cache_dir, "%s/cache",
                      self->args.data_dir);
    char error[512] = "";
    if (n < 0 || (size_t)n >= sizeof self->cache_dir) {
        zsys_error ("worker %s: --data-dir too long", self->args.id);
        goto cleanup;
    }
    if (worker_cache_prepare (self->cache_dir, error, sizeof error)) {
        zsys_error ("worker %s: %s", self->args.id, error);
        goto cleanup;
    }
    worker_block_io_t io = { self, s_block_get, s_block_put };
    worker_ctx_set_block_io (&self->ctx, &io);
    if (s_connect (self) == 0)
        s_run (self);
    exit_code = self->exit_code;

cleanup:
    s_disconnect (self);
    s_fifo_clear (self);
    /* A pool still loaded here (head lost, failure): no destroy; the
       process ends and the node starts a fresh one. */
    worker_host_abandon (&self->host);
    zframe_destroy (&self->init_data);
    proto_msg_reset (&self->results);
    free (self->arena);
    free (self->offs);
    free (self->aligned);
    worker_output_free (&self->output);
    worker_ctx_clear_blocks (&self->ctx);
    s_exiting_worker = NULL;
    free (self);
    return exit_code;
}
