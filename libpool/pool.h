/*  pool.h - the dcpool client API.

    A program opens a pool on a running cluster (pool_open), hands it inputs
    (pool_map, pool_imap, pool_imap_unordered) and gets exactly one result per
    input: the worker's output bytes or an error.  Functions that can fail
    return 0 or a negative POOL_E* code; pool_strerror names the code and
    pool_last_error gives the detail of the last failure on a pool.

    A pool_t is used from one thread at a time; one map or iterator runs on
    a pool at a time.  Several pools, in one program or many, share the
    cluster's workers fairly.
*/
#ifndef DCPOOL_POOL_H
#define DCPOOL_POOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define POOL_API __attribute__ ((visibility ("default")))
#else
#define POOL_API
#endif

#define POOL_VERSION_MAJOR 0
#define POOL_VERSION_MINOR 1

/*  Error codes.  Job-level codes (POOL_EJOB, POOL_ECRASHED, POOL_ETIMEDOUT)
    appear in pool_result_t.status; the others are returned by calls. */
enum {
    POOL_OK = 0,
    POOL_EINVAL = -1,     /* bad argument or option */
    POOL_ENOMEM = -2,     /* out of memory */
    POOL_ECONNECT = -3,   /* head not reachable within connect_timeout */
    POOL_EAUTH = -4,      /* handshake refused: wrong password? */
    POOL_EDENIED = -5,    /* head refused us (protocol version, limits) */
    POOL_ELIBRARY = -6,   /* worker library missing, unloadable or bad */
    POOL_EWORKER = -7,    /* init failed, or an update kills the workers */
    POOL_ENOWORKERS = -8, /* too few workers within the timeout */
    POOL_ELOST = -9,      /* connection to the head lost for good */
    POOL_EPROTO = -10,    /* the head sent something we cannot read */
    POOL_EJOB = -11,      /* the run returned an error (see result.error) */
    POOL_ECRASHED = -12,  /* the worker died running it, max_attempts times */
    POOL_ETIMEDOUT = -13, /* timed out, max_attempts times */
    POOL_ECLOSED = -14,   /* the pool was closed by the head */
    POOL_EIO = -15,       /* a local file could not be read */
    POOL_ETIMEOUT = -16,  /* a wait ran out of time */
    POOL_ECANCELED = -17, /* the input was cancelled */
    POOL_ENOSPACE = -18   /* the block store is full */
};

typedef struct pool pool_t;
typedef struct pool_iter pool_iter_t;
typedef struct {
    const void *data;
    size_t size;
} pool_bytes_t;

typedef struct {
    size_t index;       /* position of the input in the call */
    int status;         /* 0, or a negative POOL_E* code */
    pool_bytes_t value; /* output when status == 0; owned by the pool
                           until pool_results_release (map) or the next
                           pool_iter_next (iterators) */
    const char *error;  /* message when status != 0, else NULL */
} pool_result_t;

/*  Progress of the running map or iterator (pool_options_t.progress). */
typedef struct {
    size_t done;       /* results received, failures included */
    size_t failed;     /* of which status != 0 */
    size_t total;      /* inputs; 0 while a stream's end is unknown */
    double elapsed;    /* seconds since it started */
    double per_second; /* results per second so far */
} pool_progress_t;
typedef void (pool_progress_fn) (const pool_progress_t *progress, void *arg);
/*  One line a worker wrote (pool_options_t.output): stream 1 stdout, 2
    stderr; line is size bytes without its newline, NUL-terminated. */
typedef void (pool_output_line_fn) (const char *worker_id, int stream, const char *line,
                                    size_t size, void *arg);

typedef struct {
    /* "host:port".  Default NULL, local mode: $DCPOOL_SERVER when set;
       else, when a password is at hand (below) or insecure is set, a
       head on 127.0.0.1:8899 if one listens (one that refuses the
       password is POOL_EAUTH, not a fall-back); else a private cluster
       on this machine (see pool_open). */
    const char *server;
    const char *password;       /* required with server; in local mode NULL
                                   means $DCPOOL_PASSWORD, and with neither no
                                   head on 8899 is tried */
    const char *worker_library; /* path of the worker .so, shipped to nodes */
    pool_bytes_t init_data;     /* given to the worker's init, once each */
    double job_timeout;         /* seconds, 0 = none */
    int max_attempts;           /* default 3 */
    uint64_t min_gpu_memory;    /* bytes; 0 = any worker, CPU ones too */
    int min_workers;            /* pool_open waits for this many, default 1 */
    double connect_timeout;     /* seconds, default 10 */
    int insecure;               /* 1: plain TCP; the head must agree */
    double reconnect_timeout;   /* seconds the head may be away, 60 */
    /* Inputs of at least this many bytes reach workers on this host
       through shared memory, and their big outputs come back so: no
       socket, no encryption, a result that is a read-only mapping.
       Default 64 KiB; 0: always through the head. */
    size_t shared_memory_min;
    /* Seconds a call waiting for the head looks at the socket, yielding
       the CPU between looks, before it sleeps: a short job's result then
       comes without the wake-up of an idle CPU (tens of microseconds on a
       virtual machine, several per hop).  Results that lately came
       later than that are waited for by sleeping until shortly before
       they are due, then spinning.  A wait with more than 8 answers to
       come (a big map's) sleeps at once.  Default 0.001, at
       most 1; 0: sleep at once, for a client that shares few cores with
       busy workers. */
    double spin_wait;
    /* Called from the thread that waits (pool_map, pool_iter_next, the
       future waits, pool_poll), at most every progress_interval seconds
       while results come and once when a map or iterator ends (that call
       alone has done == total).  total is 0 while a stream's length is
       unknown. */
    pool_progress_fn *progress;
    void *progress_arg;
    double progress_interval; /* seconds, default 0.5 */
    /* What the pool's workers write to stdout and stderr, in init, run or
       update, reaches this client line by line (default 1): to output
       when set, else to our stderr as "(worker-id) line".  Rate-limited
       per worker; what is dropped is counted in a "[N lines dropped]"
       line.  0: it stays in the nodes' logs only. */
    int forward_output;
    pool_output_line_fn *output;
    void *output_arg;
    /* Seconds a worker may go on running a cancelled job (it can see it
       with pool_worker_cancelled) before its node kills it and starts a
       fresh one.  Default 1. */
    double cancel_grace;
    /* Inputs and outputs of at least this many bytes travel between this
       client and a worker on another host directly, encrypted once, never
       through the head (DESIGN.md section 13): the pool serves them on a
       data endpoint of its own, on the address it reaches the head from
       ($DCPOOL_DATA_ADDRESS: another to advertise, behind a NAT).  A
       worker that cannot reach it gets them through the head.  Default
       64 KiB; 0: always through the head. */
    size_t direct_min;
    /* more fields may follow; always start from pool_options_default */
} pool_options_t;

POOL_API void pool_options_default (pool_options_t *options);

/*  Connects, ships the worker library and init data, and waits until
    min_workers workers have loaded it.  On failure *pool stays NULL and
    the return code says why; pool_open_error gives the detail.

    Local mode's private cluster (server NULL, no $DCPOOL_SERVER, no head
    on 8899): pool_open starts `start_node --head` (found in
    $DCPOOL_START_NODE, the build tree, the install's bindir, then PATH)
    with a head, Redis and a worker per GPU or per core, a random password
    and a temporary data directory under $TMPDIR (or /tmp), on a free
    port; about half a second.  Every pool of the process shares it; the
    last pool_close stops it (and exit does), leaving no process and no
    file, also when the program is killed with SIGKILL. */
POOL_API int pool_open (pool_t **pool, const pool_options_t *options);

/*  Runs every input; results[i] is the result of inputs[i].  Returns 0 when
    every input has a result (some may be errors), <0 when the map could not
    finish (head lost); results then hold what arrived. */
POOL_API int pool_map (pool_t *pool, const pool_bytes_t *inputs, size_t count,
                       pool_result_t *results);
POOL_API void pool_results_release (pool_t *pool, pool_result_t *results, size_t count);
/*  Iterators over one map: pool_imap yields in input order, pool_imap_unordered
    as results arrive.  Inputs are sent as the window allows, so the inputs
    array and its bytes must stay valid until the iterator is done or
    destroyed.  Destroying it early is fine: later results are dropped. */
POOL_API int pool_imap (pool_t *pool, const pool_bytes_t *inputs, size_t count,
                        pool_iter_t **iter);
POOL_API int pool_imap_unordered (pool_t *pool, const pool_bytes_t *inputs, size_t count,
                                  pool_iter_t **iter);
/*  1: *result holds the next result, 0: all done, <0: error. */
POOL_API int pool_iter_next (pool_iter_t *iter, pool_result_t *result);
POOL_API void pool_iter_destroy (pool_iter_t **iter);

/*  Every worker of the pool applies the update, in order, between jobs.
    Jobs submitted after this call run only on workers that applied it. */
POOL_API int pool_update_workers (pool_t *pool, pool_bytes_t update);

/*  Workers that have loaded this pool's library and can run its jobs. */
POOL_API int pool_workers_count (pool_t *pool);
/*  Nodes connected to the head. */
POOL_API int pool_nodes_count (pool_t *pool);
/*  Waits until the pool has at least count workers: 0, or POOL_ETIMEOUT. */
POOL_API int pool_wait_for_workers (pool_t *pool, int count, double timeout);
/*  Closes the pool and frees it; *pool becomes NULL.  A program that ends
    (exit, a return from main) with pools still open has them closed for
    it at exit, provided no other thread is inside a call on them then. */
POOL_API void pool_close (pool_t **pool);

/*  Futures: single calls, like CluPy's parallel and Ray's remote calls.
    pool_submit copies the input and returns at once; the job goes out as
    the pool's window allows.  Futures may be outstanding while a map or
    iterator runs on the same pool.  pool_close gives the futures of the
    pool that have no result POOL_ECLOSED; each future is still the
    caller's to destroy, before or after pool_close.  Results and callbacks are delivered
   only inside calls that wait (pool_future_wait, pool_wait_all, pool_wait_any, pool_poll,
    pool_map, pool_iter_next), in the calling thread, one at a time. */
typedef struct pool_future pool_future_t;
POOL_API int pool_submit (pool_t *pool, pool_bytes_t input, pool_future_t **future);
/*  Waits until the future has its result: 0, or POOL_ETIMEOUT after
    timeout seconds (< 0 is POOL_EINVAL; use a large value for "ever");
    <0 when the head is lost for good (the future then holds that error). */
POOL_API int pool_future_wait (pool_future_t *future, double timeout);
/*  0: *result holds the result (status 0 or a POOL_E* code, POOL_ECANCELED
    when cancelled), valid until the future is destroyed; POOL_ETIMEOUT:
    not yet.  Does not wait. */
POOL_API int pool_future_result (pool_future_t *future, pool_result_t *result);
/*  Cancels the job: dropped at the head if queued, stopped if running
    (see cancel_grace).  The future's result is then POOL_ECANCELED.
    POOL_EINVAL when it already has a result or was cancelled before. */
POOL_API int pool_future_cancel (pool_future_t *future);
/*  Frees the future, cancelling its job when it has no result yet;
    *future becomes NULL.  From inside the future's own callback the free
    happens when the callback returns. */
POOL_API void pool_future_destroy (pool_future_t **future);
/*  Waits until every future has its result: 0, or POOL_ETIMEOUT (nothing
    is lost: a later wait gets the rest). */
POOL_API int pool_wait_all (pool_future_t **futures, size_t count, double timeout);
/*  Waits until one of the futures has its result: 0 with *index the
    lowest such, or POOL_ETIMEOUT. */
POOL_API int pool_wait_any (pool_future_t **futures, size_t count, double timeout,
                            size_t *index);
typedef void (pool_future_fn) (pool_future_t *future, const pool_result_t *result,
                               void *arg);
/*  on_success runs when the result's status is 0, on_failure otherwise
    (either may be NULL), exactly once, in the thread that waits, after
    the result came (or at the next wait if it came already).  Once per
    future: a second call is POOL_EINVAL. */
POOL_API int pool_future_then (pool_future_t *future, pool_future_fn *on_success,
                               pool_future_fn *on_failure, void *arg);
/*  Takes in what the head sent and runs the callbacks that are due,
    waiting at most timeout seconds for the first result: the number of
    callbacks run, or <0. */
POOL_API int pool_poll (pool_t *pool, double timeout);

/*  Cancellation.  Each input cancelled yields exactly one result, with
    status POOL_ECANCELED; inputs that had their result keep it.  Queued
    jobs are dropped at the head at once; a running one is stopped (see
    cancel_grace).  The pool stays usable. */
POOL_API int pool_iter_cancel (pool_iter_t *iter);
/*  Every map, iterator and future of the pool. */
POOL_API int pool_cancel_all (pool_t *pool);

/*  Streaming inputs: next gives one input (returns 1), the end (0) or an
    error (<0, which ends the iteration with that code once every input
    already sent has its result).  The input's bytes are copied before
    next is called again.  At most a window of inputs is held, so an
    endless stream runs in bounded memory. */
typedef int (pool_input_fn) (void *arg, pool_bytes_t *input);
POOL_API int pool_imap_stream (pool_t *pool, pool_input_fn *next, void *arg, int ordered,
                               pool_iter_t **iter);

POOL_API const char *pool_strerror (int code);
/*  Detail of the last failure on this pool; "" when none. */
POOL_API const char *pool_last_error (pool_t *pool);
/*  Detail of the last pool_open failure in this thread. */
POOL_API const char *pool_open_error (void);

/*  Blocks: immutable byte strings stored on the cluster (Redis, through
    the head) and named by their BLAKE2b-256 hash.  Pass hashes in job
    inputs instead of the bytes; workers read them with
    pool_worker_block_get (pool_worker.h).  Block matrices (pool_matrix.h)
    are built on them. */
#define POOL_HASH_SIZE 32

/*  Stores bytes as a block; hash gets its name.  0 once the head has
    stored it, or <0 (POOL_EIO: the store failed; POOL_ENOSPACE: the
    store is at its cap, start_node --store-max-memory, and
    pool_last_error says the figures; nothing stored is evicted;
    POOL_ELOST). */
POOL_API int pool_put (pool_t *pool, pool_bytes_t bytes, uint8_t hash[POOL_HASH_SIZE]);
/*  Fetches block hash: 0 with *data (malloc'd, caller frees with free)
    and *size; POOL_EIO when the store does not have it. */
POOL_API int pool_get (pool_t *pool, const uint8_t hash[POOL_HASH_SIZE], void **data,
                       size_t *size);
/*  Releases this client's hold on a block it put (pool_put, or a worker
    of one of its pools with pool_worker_block_put).  Each pool_put is one
    reference, and so is each block of a live matrix (pool_matrix.h): the
    head is told when the last goes.  A block that no client or open pool
    holds any more is deleted after the head's --block-grace (default 10
    minutes); a block another client holds stays.  Closing the pool, or
    the process dying, releases all its holds.  0; POOL_EINVAL when this
    client does not hold the block (never put by it, or already deleted),
    with pool_last_error saying so; POOL_EIO: the store failed. */
POOL_API int pool_delete (pool_t *pool, const uint8_t hash[POOL_HASH_SIZE]);

/*  Locality: pool_submit (above) for a job that reads blocks of the store (pool_put,
    pool_worker_block_put): it names them (count hashes, at most 1024;
    copied), and the head gives it preferably to a worker that holds most
    of their bytes in its block cache, waiting up to the head's
    --locality-wait (default 50 ms) for one to be free before it runs the
    job elsewhere.  Naming blocks changes where a job runs, never what it
    computes: a wrong or stale name only costs a fetch.  count 0 is
    pool_submit.
    One call serves a map too: a map whose inputs read blocks is a loop of
    pool_submit_with and a pool_wait_all (pool_matrix_* do so); futures
    batch and window their jobs as a map does, and a hook per map input
    would add a call per job to every map, most of which name nothing.
    Each job that names blocks travels in a SUBMIT of its own. */
POOL_API int pool_submit_with (pool_t *pool, pool_bytes_t input,
                               const uint8_t (*blocks)[POOL_HASH_SIZE], size_t count,
                               pool_future_t **future);

#ifdef __cplusplus
}
#endif
#endif
