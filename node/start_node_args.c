/*  node/start_node_args.c - start_node's command line.
    See start_node_args.h. */
#include "start_node_args.h"
#include "slots.h"
#include "proto/parse.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PORT 8899

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
        "      --locality-wait MS  how long a job naming the blocks it reads waits\n"
        "                        for a worker holding them (default 50; 0: off)\n"
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
    OPT_REMOVE_DATA_DIR
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
            { "verbose", no_argument, NULL, 'v' },
            { "help", no_argument, NULL, 'h' },
            { NULL, 0, NULL, 0 } };
    *options = (start_node_options_t){ .port = -1, .max_gpus = -1, .cpu_workers = -1 };
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
        case OPT_LOCALITY_WAIT:
            if (s_parse_ll (optarg, "--locality-wait", 0, 600000,
                            &options->locality_wait))
                return -1;
            options->locality_wait_set = true;
            break;
        case OPT_STDIN_LIFELINE:
            options->stdin_lifeline = true;
            break;
        case OPT_REMOVE_DATA_DIR:
            options->remove_data_dir = true;
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
    if (options->status && options->head)
        problem = "--status and --head do not go together";
    else if (options->head && options->address)
        problem = "--head starts a head here; -a joins one elsewhere: pick one";
    else if (!options->head && !options->status && !options->address)
        problem = "say --head to start a head, -a HOST to join one, or --status";
    else if (!options->head && (options->redis_url || options->server_only))
        problem = "--redis and --server-only go with --head";
    else if (!options->head
             && (options->max_message || options->max_pools || options->max_pending
                 || options->max_frames || options->block_grace_set
                 || options->locality_wait_set))
        problem = "--max-message, --max-pools, --max-pending, --max-frames, "
                  "--block-grace and --locality-wait go with --head";
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
    if (!options->password && !options->insecure) {
        fprintf (stderr, "start_node: no password: give -r PASSWORD or set "
                         "DCPOOL_PASSWORD (or --insecure on a trusted network)\n");
        return -1;
    }
    if (options->port < 0)
        options->port = DEFAULT_PORT;
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
}
