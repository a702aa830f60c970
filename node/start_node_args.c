/*  node/start_node_args.c - start_node's command line.
    See start_node_args.h. */
#include "start_node_args.h"
#include "slots.h"
#include "proto/parse.h"
#include "proto/bytes.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PORT 8899
#define START_NODE_STORE_MIN (1ULL << 20) /* --store-max-memory, as pool-head */
#define START_NODE_STORE_MAX (1ULL << 50)

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage:\n"
        "  start_node --head -r PASSWORD [-p PORT] [--redis URL] [--server-only] [node "
        "options]\n"
        "  start_node -a HOST [-p PORT] -r PASSWORD [node options]\n"
        "  start_node --status [-a HOST] [-p PORT] -r PASSWORD\n"
        "  start_node --serve PORT --library LIB.so [--init FILE] [-a HOST [-p PORT]\n"
        "             -r PASSWORD | --insecure] [--serve-bind ADDR] [--timeout SECONDS]\n"
        "\n"
        "Runs the dcpool daemon of this machine: one pool-worker per GPU (or per CPU\n"
        "core), supervised, restarted when they die. With --head it also runs the\n"
        "cluster's head (pool-head and its Redis).\n"
        "\n"
        "Modes:\n"
        "      --head            start redis-server and pool-head here, then the local "
        "node\n"
        "  -a, --address HOST    join the head at HOST (with --status: ask it; default\n"
        "                        127.0.0.1)\n"
        "      --status          print the cluster's status and exit (1 when the head\n"
        "                        cannot be reached or refuses the password)\n"
        "      --serve PORT      publish a function: answer each POST /run on PORT (0:\n"
        "                        any free one) with the output of one job of --library\n"
        "                        whose input is the request body (without -a: the\n"
        "                        local cluster, as libpool's local mode finds it)\n"
        "\n"
        "Connection:\n"
        "  -p, --port PORT       the head's port (default %d; with --head, 0 lets\n"
        "                        pool-head pick a free one)\n"
        "  -r, --password PW     the cluster password (or env DCPOOL_PASSWORD); it\n"
        "                        derives the CURVE keys; never given to children on\n"
        "                        their command line\n"
        "      --insecure        plain TCP without keys or password: trusted networks\n"
        "                        and benchmarks only\n"
        "      --timeout SECONDS how long to wait for the head to answer (default: a\n"
        "                        joining node waits as long as it takes, logging every\n"
        "                        10 s; --status waits 10 s)\n"
        "\n"
        "Head options (with --head):\n"
        "      --advertise ADDR  the address other machines reach this one at, for the\n"
        "                        join line (default: the default route's interface)\n"
        "      --redis URL       use this Redis (redis://:PW@host:port/db) instead of\n"
        "                        starting redis-server\n"
        "      --block-store URL,URL,...\n"
        "                        keep blocks on these Redis servers (same URL forms\n"
        "                        as --redis), spread by their names; the bookkeeping\n"
        "                        stays in the head's Redis. Each must answer at start\n"
        "      --server-only     run no workers on this machine\n"
        "      --heartbeat MS    heartbeat interval of the cluster (default 1000)\n"
        "      --liveness N      heartbeats missed before a peer is dead (default 3)\n"
        "      --max-message B   largest message the head accepts, in bytes (default\n"
        "                        2 GiB); a larger one is refused\n"
        "      --max-pools N     pools one client connection may open (default 64)\n"
        "      --max-frames N    frames in one message (default 65538)\n"
        "      --max-pending N   jobs waiting in one pool's queue (default 10000000)\n"
        "      --block-grace S   seconds a block nobody holds any more is kept before\n"
        "                        it is deleted (default 600)\n"
        "      --http PORT       serve GET /metrics (Prometheus), /api/status (JSON)\n"
        "                        and a status page / on PORT (default: off)\n"
        "      --http-bind ADDR  address of --http (default 127.0.0.1); any other\n"
        "                        needs the cluster password as HTTP basic auth\n"
        "      --store-max-memory B  bytes the block store (its Redis) may use, with\n"
        "                        K, M, G or T (default: a quarter of this machine's\n"
        "                        memory); a put past it fails with POOL_ENOSPACE, and\n"
        "                        the managed Redis never evicts (maxmemory a little\n"
        "                        above it, noeviction)\n"
        "      --locality-wait MS  how long a job naming the blocks it reads waits\n"
        "                        for a worker holding them (default 50; 0: off)\n"
        "\n"
        "Serve options (with --serve):\n"
        "      --library LIB.so  the worker library whose jobs answer the requests\n"
        "      --init FILE       the library's init data (default: none)\n"
        "      --timeout SECONDS a job running longer is answered 504 (default: none)\n"
        "      --serve-bind ADDR listen on ADDR (default 127.0.0.1); any other address\n"
        "                        is open to anyone who reaches it: no authentication\n"
        "      --serve-max-body B  largest request body, in bytes (default 64 MiB); a\n"
        "                        larger one is answered 413\n"
        "      --serve-max-connections N  open connections at most (default 1000)\n"
        "      --serve-idle S    seconds a connection may stay idle or half-sent before\n"
        "                        it is closed (default 30)\n"
        "\n"
        "Node options:\n"
        "      --data-dir DIR    lock, logs, cache and (head) Redis files (default\n"
        "                        ~/.dcpool)\n"
        "      --gpus LIST       use only these GPUs: comma-separated indices or UUIDs\n"
        "      --max-gpus N      use at most N GPUs (0: none, run CPU workers)\n"
        "      --cpu-workers N   CPU workers when no GPU is used (default: one per "
        "core)\n"
        "      --log-max-mb N    DIR/node.log (the workers' output) is cut past N MiB,\n"
        "                        its last N/2 MiB kept in DIR/node.log.1 (default 64)\n"
        "      --simulate-gpus N TEST ONLY: act as if N GPUs were found (1 GiB each;\n"
        "                        no real device behind them); also env\n"
        "                        DCPOOL_SIMULATE_GPUS\n"
        "      --stdin-lifeline  stop (as on SIGTERM) when stdin reaches end of file:\n"
        "                        the program that started us on a pipe is gone\n"
        "      --remove-data-dir remove --data-dir and all in it when stopping (with\n"
        "                        --data-dir only); libpool's private cluster uses both\n"
        "  -v, --verbose         log more (and run pool-head with -v)\n"
        "  -h, --help            show this help and exit\n"
        "\n"
        "Logs: start_node logs to stderr; workers log to DIR/node.log, pool-head and\n"
        "redis-server to DIR/head.log. SIGTERM or SIGINT stops everything cleanly.\n"
        "Programs: pool-head and pool-worker are looked for in $DCPOOL_HEAD_BIN and\n"
        "$DCPOOL_WORKER_BIN, next to start_node, in the build tree, then on PATH.\n",
        DEFAULT_PORT);
}

/*  A number for flag (or an environment variable) in [min, max]: 0, or -1
    after saying what the flag wants. */
static int
s_parse_ll (const char *text, const char *flag, long long min, long long max,
            long long *out)
{
    return proto_parse_flag ("start_node", flag, text, min, max, out);
}

int
start_node_args_int (const char *text, const char *flag, int min, int max, int *out)
{
    long long value;
    if (s_parse_ll (text, flag, min, max, &value))
        return -1;
    *out = (int)value;
    return 0;
}

enum {
    OPT_HEAD = 256,
    OPT_STATUS,
    OPT_REDIS,
    OPT_BLOCK_STORE,
    OPT_SERVER_ONLY,
    OPT_DATA_DIR,
    OPT_CPU_WORKERS,
    OPT_MAX_GPUS,
    OPT_GPUS,
    OPT_SIMULATE_GPUS,
    OPT_INSECURE,
    OPT_HEARTBEAT,
    OPT_LIVENESS,
    OPT_TIMEOUT,
    OPT_MAX_MESSAGE,
    OPT_MAX_POOLS,
    OPT_MAX_FRAMES,
    OPT_MAX_PENDING,
    OPT_BLOCK_GRACE,
    OPT_LOCALITY_WAIT,
    OPT_LOG_MAX_MB,
    OPT_ADVERTISE,
    OPT_STDIN_LIFELINE,
    OPT_REMOVE_DATA_DIR,
    OPT_HTTP,
    OPT_HTTP_BIND,
    OPT_STORE_MAX_MEMORY,
    OPT_SERVE,
    OPT_LIBRARY,
    OPT_INIT,
    OPT_SERVE_BIND,
    OPT_SERVE_MAX_BODY,
    OPT_SERVE_MAX_CONNECTIONS,
    OPT_SERVE_IDLE
};

int
start_node_args_parse (start_node_options_t *options, int argc, char *argv[])
{
    static const struct option longs[]
        = { { "head", no_argument, NULL, OPT_HEAD },
            { "address", required_argument, NULL, 'a' },
            { "port", required_argument, NULL, 'p' },
            { "password", required_argument, NULL, 'r' },
            { "status", no_argument, NULL, OPT_STATUS },
            { "redis", required_argument, NULL, OPT_REDIS },
            { "block-store", required_argument, NULL, OPT_BLOCK_STORE },
            { "server-only", no_argument, NULL, OPT_SERVER_ONLY },
            { "data-dir", required_argument, NULL, OPT_DATA_DIR },
            { "cpu-workers", required_argument, NULL, OPT_CPU_WORKERS },
            { "max-gpus", required_argument, NULL, OPT_MAX_GPUS },
            { "gpus", required_argument, NULL, OPT_GPUS },
            { "simulate-gpus", required_argument, NULL, OPT_SIMULATE_GPUS },
            { "insecure", no_argument, NULL, OPT_INSECURE },
            { "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
            { "liveness", required_argument, NULL, OPT_LIVENESS },
            { "timeout", required_argument, NULL, OPT_TIMEOUT },
            { "max-message", required_argument, NULL, OPT_MAX_MESSAGE },
            { "max-pools", required_argument, NULL, OPT_MAX_POOLS },
            { "max-frames", required_argument, NULL, OPT_MAX_FRAMES },
            { "max-pending", required_argument, NULL, OPT_MAX_PENDING },
            { "block-grace", required_argument, NULL, OPT_BLOCK_GRACE },
            { "locality-wait", required_argument, NULL, OPT_LOCALITY_WAIT },
            { "log-max-mb", required_argument, NULL, OPT_LOG_MAX_MB },
            { "advertise", required_argument, NULL, OPT_ADVERTISE },
            { "stdin-lifeline", no_argument, NULL, OPT_STDIN_LIFELINE },
            { "remove-data-dir", no_argument, NULL, OPT_REMOVE_DATA_DIR },
            { "http", required_argument, NULL, OPT_HTTP },
            { "http-bind", required_argument, NULL, OPT_HTTP_BIND },
            { "store-max-memory", required_argument, NULL, OPT_STORE_MAX_MEMORY },
            { "serve", required_argument, NULL, OPT_SERVE },
            { "library", required_argument, NULL, OPT_LIBRARY },
            { "init", required_argument, NULL, OPT_INIT },
            { "serve-bind", required_argument, NULL, OPT_SERVE_BIND },
            { "serve-max-body", required_argument, NULL, OPT_SERVE_MAX_BODY },
            { "serve-max-connections", required_argument, NULL,
              OPT_SERVE_MAX_CONNECTIONS },
            { "serve-idle", required_argument, NULL, OPT_SERVE_IDLE },
            { "verbose", no_argument, NULL, 'v' },
            { "help", no_argument, NULL, 'h' },
            { NULL, 0, NULL, 0 } };
    *options = (start_node_options_t){ .port = -1,
                                       .max_gpus = -1,
                                       .cpu_workers = -1,
                                       .serve_port = -1,
                                       .serve_max_body = 64LL << 20,
                                       .serve_max_connections = 1000,
                                       .serve_idle = 30 };
    bool serve_options = false; /* a --serve-* or --library/--init flag */
    int opt;
    while ((opt = getopt_long (argc, argv, "a:p:r:vh", longs, NULL)) != -1) {
        switch (opt) {
        case OPT_HEAD:
            options->head = true;
            break;
        case 'a':
            options->address = optarg;
            break;
        case 'p':
            if (start_node_args_int (optarg, "--port", 0, 65535, &options->port))
                return -1;
            break;
        case 'r':
            free (options->password);
            options->password = strdup (optarg);
            /* Keep the password out of ps: wipe our copy of argv. */
            memset (optarg, 'x', strlen (optarg));
            break;
        case OPT_STATUS:
            options->status = true;
            break;
        case OPT_REDIS:
            options->redis_url = optarg;
            break;
        case OPT_BLOCK_STORE:
            free (options->block_store);
            options->block_store = strdup (optarg);
            /* Its URLs may carry passwords: keep them out of ps. */
            memset (optarg, 'x', strlen (optarg));
            if (!options->block_store) {
                fprintf (stderr, "start_node: out of memory\n");
                return -1;
            }
            break;
        case OPT_SERVER_ONLY:
            options->server_only = true;
            break;
        case OPT_DATA_DIR:
            options->data_dir = optarg;
            break;
        case OPT_CPU_WORKERS:
            if (start_node_args_int (optarg, "--cpu-workers", 0, NODE_SLOTS_MAX,
                                     &options->cpu_workers))
                return -1;
            break;
        case OPT_MAX_GPUS:
            if (start_node_args_int (optarg, "--max-gpus", 0, NODE_SLOTS_MAX,
                                     &options->max_gpus))
                return -1;
            break;
        case OPT_GPUS:
            options->gpus = optarg;
            break;
        case OPT_SIMULATE_GPUS:
            if (start_node_args_int (optarg, "--simulate-gpus", 0, 64,
                                     &options->simulate_gpus))
                return -1;
            break;
        case OPT_INSECURE:
            options->insecure = true;
            break;
        case OPT_HEARTBEAT:
            if (start_node_args_int (optarg, "--heartbeat", 10, 600000,
                                     &options->heartbeat_ms))
                return -1;
            break;
        case OPT_LIVENESS:
            if (start_node_args_int (optarg, "--liveness", 1, 1000, &options->liveness))
                return -1;
            break;
        case OPT_TIMEOUT: {
            if (proto_parse_double (optarg, 0, 3600, &options->timeout)
                || !(options->timeout > 0)) {
                fprintf (stderr,
                         "start_node: --timeout wants seconds (0 < s <= "
                         "3600), not '%s'\n",
                         optarg);
                return -1;
            }
            break;
        }
        /* The ranges are pool-head's: a bad value fails here, not in the
           head's log. */
        case OPT_MAX_MESSAGE:
            if (s_parse_ll (optarg, "--max-message", 1024, 1LL << 40,
                            &options->max_message))
                return -1;
            break;
        case OPT_MAX_POOLS:
            if (s_parse_ll (optarg, "--max-pools", 1, 1000000, &options->max_pools))
                return -1;
            break;
        case OPT_MAX_FRAMES:
            if (s_parse_ll (optarg, "--max-frames", 2, 65538, &options->max_frames))
                return -1;
            break;
        case OPT_ADVERTISE:
            options->advertise = optarg;
            break;
        case OPT_LOG_MAX_MB:
            if (s_parse_ll (optarg, "--log-max-mb", 1, 1LL << 20, &options->log_max_mb))
                return -1;
            break;
        case OPT_MAX_PENDING:
            if (s_parse_ll (optarg, "--max-pending", 1, 1LL << 40, &options->max_pending))
                return -1;
            break;
        case OPT_BLOCK_GRACE:
            if (s_parse_ll (optarg, "--block-grace", 0, 100LL * 365 * 86400,
                            &options->block_grace))
                return -1;
            options->block_grace_set = true;
            break;
        case OPT_STORE_MAX_MEMORY: {
            uint64_t bytes = 0;
            if (proto_parse_bytes (optarg, START_NODE_STORE_MIN, START_NODE_STORE_MAX,
                                   &bytes)) {
                fprintf (stderr,
                         "start_node: --store-max-memory wants bytes from 1M to 1P, a "
                         "number with K, M, G or T after it (512M, 4G), not '%s'\n",
                         optarg);
                return -1;
            }
            options->store_max_memory = bytes;
            options->store_max_memory_set = true;
            break;
        }
        case OPT_LOCALITY_WAIT:
            if (s_parse_ll (optarg, "--locality-wait", 0, 600000,
                            &options->locality_wait))
                return -1;
            options->locality_wait_set = true;
            break;
        case OPT_STDIN_LIFELINE:
            options->stdin_lifeline = true;
            break;
        case OPT_HTTP:
            if (start_node_args_int (optarg, "--http", 1, 65535, &options->http_port))
                return -1;
            break;
        case OPT_HTTP_BIND:
            options->http_bind = optarg;
            break;
        case OPT_REMOVE_DATA_DIR:
            options->remove_data_dir = true;
            break;
        case OPT_SERVE:
            if (start_node_args_int (optarg, "--serve", 0, 65535, &options->serve_port))
                return -1;
            break;
        case OPT_LIBRARY:
            options->library = optarg;
            serve_options = true;
            break;
        case OPT_INIT:
            options->init_file = optarg;
            serve_options = true;
            break;
        case OPT_SERVE_BIND:
            options->serve_bind = optarg;
            serve_options = true;
            break;
        case OPT_SERVE_MAX_BODY:
            if (s_parse_ll (optarg, "--serve-max-body", 0, 1LL << 40,
                            &options->serve_max_body))
                return -1;
            serve_options = true;
            break;
        case OPT_SERVE_MAX_CONNECTIONS:
            if (start_node_args_int (optarg, "--serve-max-connections", 1, 100000,
                                     &options->serve_max_connections))
                return -1;
            serve_options = true;
            break;
        case OPT_SERVE_IDLE:
            if (start_node_args_int (optarg, "--serve-idle", 1, 86400,
                                     &options->serve_idle))
                return -1;
            serve_options = true;
            break;
        case 'v':
            options->verbose = true;
            break;
        case 'h':
            s_usage (stdout);
            return 1;
        default:
            fprintf (stderr, "Try 'start_node --help'.\n");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr,
                 "start_node: unexpected argument '%s'\nTry 'start_node --help'.\n",
                 argv[optind]);
        return -1;
    }
    const char *problem = NULL;
    bool serve = options->serve_port >= 0;
    if (serve && (options->head || options->status))
        problem = "--serve publishes a function on a cluster; it does not go with "
                  "--head or --status";
    else if (serve && !options->library)
        problem = "--serve needs --library LIB.so";
    else if (!serve && serve_options)
        problem = "--library, --init and --serve-* go with --serve";
    else if (serve && options->address && options->port == 0)
        problem = "-p 0 (any free port) only makes sense with --head";
    else if (serve)
        ; /* the node options below do not matter to it */
    else if (options->status && options->head)
        problem = "--status and --head do not go together";
    else if (options->head && options->address)
        problem = "--head starts a head here; -a joins one elsewhere: pick one";
    else if (!options->head && !options->status && !options->address)
        problem = "say --head to start a head, -a HOST to join one, or --status";
    else if (!options->head
             && (options->redis_url || options->server_only || options->block_store))
        problem = "--redis, --block-store and --server-only go with --head";
    else if (!options->head
             && (options->max_message || options->max_pools || options->max_pending
                 || options->max_frames || options->block_grace_set
                 || options->store_max_memory_set || options->locality_wait_set))
        problem = "--max-message, --max-pools, --max-pending, --max-frames, "
                  "--block-grace, --store-max-memory and --locality-wait go with --head";
    else if (!options->head && (options->http_port || options->http_bind))
        problem = "--http and --http-bind go with --head";
    else if (options->http_bind && !options->http_port)
        problem = "--http-bind needs --http PORT";
    else if (options->insecure && options->http_bind
             && strcmp (options->http_bind, "127.0.0.1")
             && strcmp (options->http_bind, "::1"))
        problem = "--http-bind off 127.0.0.1 needs the cluster password for HTTP basic "
                  "auth, and --insecure has none";
    else if (options->remove_data_dir && (!options->data_dir || options->status))
        problem = "--remove-data-dir needs --data-dir (it never removes ~/.dcpool)";
    else if (!options->head && options->port == 0)
        problem = "-p 0 (any free port) only makes sense with --head";
    if (problem) {
        fprintf (stderr, "start_node: %s\nTry 'start_node --help'.\n", problem);
        return -1;
    }
    if (!options->password) {
        const char *env = getenv ("DCPOOL_PASSWORD");
        if (env && *env)
            options->password = strdup (env);
    }
    /*  --serve without -a: libpool's local mode finds the password itself
        (or runs a private cluster). */
    if (!options->password && !options->insecure && !(serve && !options->address)) {
        fprintf (stderr, "start_node: no password: give -r PASSWORD or set "
                         "DCPOOL_PASSWORD (or --insecure on a trusted network)\n");
        return -1;
    }
    if (options->port < 0)
        options->port = DEFAULT_PORT;
    if (options->head && !options->store_max_memory_set) {
        /* 0 (no cap) only when the machine's memory cannot be read. */
        uint64_t quarter = proto_mem_total () / 4;
        options->store_max_memory
            = quarter && quarter < START_NODE_STORE_MIN ? START_NODE_STORE_MIN : quarter;
    }
    return 0;
}

void
start_node_args_clear (start_node_options_t *options)
{
    if (options->password) {
        sodium_memzero (options->password, strlen (options->password));
        free (options->password);
        options->password = NULL;
    }
    if (options->block_store) {
        sodium_memzero (options->block_store, strlen (options->block_store));
        free (options->block_store);
        options->block_store = NULL;
    }
}
