/*  node/start_node.c - the start_node program: options and the three modes.

    start_node --head -r PW     Redis + pool-head + the local node
    start_node -a HOST -r PW    a node joining a head
    start_node --status -r PW   print the cluster's status and exit

    docs/INTERNALS.md pins down the command line, the data directory, the
    readiness lines on stdout and the signals; this file follows it.
*/
#include "address.h"
#include "launch.h"
#include "lock.h"
#include "slots.h"
#include "spawn.h"
#include "supervisor.h"
#include "proto/keys.h"
#include "proto/link.h"
#include "proto/msg.h"
#include "proto/parse.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PORT 8899

typedef struct {
    bool head;
    bool status;
    bool server_only;
    bool insecure;
    bool verbose;
    const char *address;
    int port;       /* -1: not given */
    char *password; /* owned copy */
    const char *redis_url;
    const char *data_dir;
    const char *gpus;
    int max_gpus;          /* -1: no limit */
    int cpu_workers;       /* -1: one per core */
    int simulate_gpus;     /* tests only: 0, or N synthetic GPUs */
    int heartbeat_ms;      /* 0: the head's default */
    int liveness;          /* 0: the head's default */
    long long max_message; /* 0: the head's default (bytes) */
    long long max_pools;   /* 0: the head's default */
    long long max_frames;  /* 0: the head's default */
    long long max_pending; /* 0: the head's default */
    long long log_max_mb;  /* node.log cap; 0: the default */
    const char *advertise; /* the address in the join line, or NULL */
    double timeout;        /* seconds */
} s_options_t;

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
    if (proto_parse_int (text, min, max, out) == 0)
        return 0;
    fprintf (stderr, "start_node: %s wants a number from %lld to %lld, not '%s'\n", flag,
             min, max, text);
    return -1;
}

/*  The same into an int. */
static int
s_parse_int (const char *text, const char *flag, int min, int max, int *out)
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
    OPT_LOG_MAX_MB,
    OPT_ADVERTISE
};

/*  0, or the exit code when the program must stop here (help: 0 after
    printing, so returns -2 for that). */
static int
s_parse (int argc, char *argv[], s_options_t *options)
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
            { "log-max-mb", required_argument, NULL, OPT_LOG_MAX_MB },
            { "advertise", required_argument, NULL, OPT_ADVERTISE },
            { "verbose", no_argument, NULL, 'v' },
            { "help", no_argument, NULL, 'h' },
            { NULL, 0, NULL, 0 } };
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
            if (s_parse_int (optarg, "--port", 0, 65535, &options->port))
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
            if (s_parse_int (optarg, "--cpu-workers", 0, NODE_SLOTS_MAX,
                             &options->cpu_workers))
                return -1;
            break;
        case OPT_MAX_GPUS:
            if (s_parse_int (optarg, "--max-gpus", 0, NODE_SLOTS_MAX, &options->max_gpus))
                return -1;
            break;
        case OPT_GPUS:
            options->gpus = optarg;
            break;
        case OPT_SIMULATE_GPUS:
            if (s_parse_int (optarg, "--simulate-gpus", 0, 64, &options->simulate_gpus))
                return -1;
            break;
        case OPT_INSECURE:
            options->insecure = true;
            break;
        case OPT_HEARTBEAT:
            if (s_parse_int (optarg, "--heartbeat", 10, 600000, &options->heartbeat_ms))
                return -1;
            break;
        case OPT_LIVENESS:
            if (s_parse_int (optarg, "--liveness", 1, 1000, &options->liveness))
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
        case 'v':
            options->verbose = true;
            break;
        case 'h':
            s_usage (stdout);
            return -2;
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
                 || options->max_frames))
        problem
            = "--max-message, --max-pools, --max-pending and --max-frames go with --head";
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

/*  mkdir -p with mode 0700 for what it creates. */
static int
s_make_dirs (const char *path)
{
    char copy[PATH_MAX];
    if (snprintf (copy, sizeof copy, "%s", path) >= (int)sizeof copy) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *slash = copy + 1; *slash; slash++)
        if (*slash == '/') {
            *slash = 0;
            if (mkdir (copy, 0700) && errno != EEXIST)
                return -1;
            *slash = '/';
        }
    if (mkdir (copy, 0700) && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat (copy, &st) || !S_ISDIR (st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/*  The data directory, created, as an absolute path into out[size]. */
static int
s_data_dir (const char *given, char *out, size_t size)
{
    char path[PATH_MAX];
    if (given)
        snprintf (path, sizeof path, "%s", given);
    else {
        const char *home = getenv ("HOME");
        if (!home || !*home) {
            struct passwd *pw = getpwuid (getuid ());
            home = pw ? pw->pw_dir : "/tmp";
        }
        snprintf (path, sizeof path, "%s/.dcpool", home);
    }
    if (s_make_dirs (path)) {
        fprintf (stderr, "start_node: cannot create the data directory %s: %s\n", path,
                 strerror (errno));
        return -1;
    }
    char resolved[PATH_MAX];
    if (!realpath (path, resolved)) {
        fprintf (stderr, "start_node: %s: %s\n", path, strerror (errno));
        return -1;
    }
    snprintf (out, size, "%s", resolved);
    char cache[PATH_MAX + 16];
    snprintf (cache, sizeof cache, "%s/cache", resolved);
    mkdir (cache, 0700);
    return 0;
}

/*  The password as a shell word: bare when it is safe, else single-quoted. */
static void
s_shell_word (const char *text, char *out, size_t size)
{
    bool plain = *text != 0;
    for (const char *p = text; *p; p++)
        if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._-+=@%/:,",
                     *p))
            plain = false;
    if (plain) {
        snprintf (out, size, "%s", text);
        return;
    }
    size_t used = 0;
    if (size < 3)
        return;
    out[used++] = '\'';
    for (const char *p = text; *p && used + 6 < size; p++) {
        if (*p == '\'') {
            memcpy (out + used, "'\\''", 4);
            used += 4;
        } else
            out[used++] = *p;
    }
    out[used++] = '\'';
    out[used] = 0;
}

static void
s_warn_insecure (int port)
{
    fprintf (stderr,
             "\n"
             "************************************************************************\n"
             "*  WARNING: --insecure: no encryption and no password.                 *\n"
             "*  Anyone who can reach port %-5d can run code on this cluster and    *\n"
             "*  read its data. Use it only on a trusted network, for benchmarks.    *\n"
             "************************************************************************\n"
             "\n",
             port);
}

static int
s_run_status (const s_options_t *options, const proto_keys_t *keys)
{
    char server[512];
    snprintf (server, sizeof server, "%s:%d",
              options->address ? options->address : "127.0.0.1", options->port);
    double timeout = options->timeout > 0 ? options->timeout : 10;
    int64_t deadline = zclock_mono () + (int64_t)(timeout * 1000);
    char error[512];
    char id[PROTO_ID_MAX + 1];
    proto_new_id (id, "status");
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_HELLO);
    proto_msg_set_role (&msg, PROTO_ROLE_STATUS);
    proto_msg_set_id (&msg, id);
    proto_link_t *link = NULL;
    int exit_code = 1;
    if (proto_link_connect (&link, server, keys, &msg, timeout, NULL, error, sizeof error)
        != PROTO_OK) {
        fprintf (stderr, "start_node: %s\n", error);
        goto cleanup;
    }
    proto_msg_init (&msg, PROTO_STATUS_REQ);
    void *sock = zsock_resolve (proto_link_sock (link));
    if (proto_msg_send (&msg, sock) != PROTO_OK) {
        fprintf (stderr, "start_node: cannot send STATUS_REQ to %s\n", server);
        goto cleanup;
    }
    while (true) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0) {
            fprintf (stderr,
                     "start_node: the head at %s did not answer STATUS_REQ "
                     "within %.1f s\n",
                     server, timeout);
            goto cleanup;
        }
        zsock_set_rcvtimeo (proto_link_sock (link), (int)left);
        char reason[256];
        int rc = proto_msg_recv (&msg, sock, reason, sizeof reason);
        if (rc == PROTO_EIO)
            continue; /* timed out: the loop says so */
        if (rc != PROTO_OK)
            continue; /* not for us */
        if (msg.type == PROTO_STATUS) {
            if (msg.text && *msg.text) {
                fputs (msg.text, stdout);
                if (msg.text[msg.text_size - 1] != '\n')
                    fputc ('\n', stdout);
            } else
                printf ("nodes: %llu\nworkers: %llu\npools: %llu\n",
                        (unsigned long long)(msg.nnums > 0 ? msg.nums[0] : 0),
                        (unsigned long long)(msg.nnums > 1 ? msg.nums[1] : 0),
                        (unsigned long long)(msg.nnums > 2 ? msg.nums[2] : 0));
            fflush (stdout);
            exit_code = 0;
            break;
        }
        if (msg.type == PROTO_ERROR || msg.type == PROTO_DENIED) {
            fprintf (stderr, "start_node: the head answered %s: %s\n",
                     proto_type_name (msg.type), msg.text ? msg.text : "");
            goto cleanup;
        }
    }
    proto_msg_reset (&msg); /* frees the STATUS text */
    proto_msg_init (&msg, PROTO_BYE);
    proto_msg_send (&msg, sock);
    zsock_set_linger (proto_link_sock (link), 200);
cleanup:
    proto_msg_reset (&msg);
    proto_link_destroy (&link);
    return exit_code;
}

/*  Finds the programs this mode needs; 0, or -1 after printing why. */
static int
s_find (const char *name, const char *env_var, char *out, size_t size)
{
    char error[1024];
    if (spawn_find_program (name, env_var, out, size, error, sizeof error) == 0)
        return 0;
    fprintf (stderr, "start_node: %s\n", error);
    return -1;
}

int
main (int argc, char *argv[])
{
    /*  Before any thread or child exists: the signals we handle arrive only
        on the supervisor's signalfd, and CZMQ installs no handler. */
    supervisor_block_signals ();
    signal (SIGPIPE, SIG_IGN);
    zsys_handler_set (NULL);
    zsys_set_logstream (stderr);
    zsys_set_logident ("start_node");

    s_options_t options = { .port = -1, .max_gpus = -1, .cpu_workers = -1, .timeout = 0 };
    int exit_code = 1;
    node_lock_t *lock = NULL;
    launch_t *launch = NULL;
    supervisor_t *supervisor = NULL;
    proto_keys_t keys;
    memset (&keys, 0, sizeof keys);
    static node_slot_t slots[NODE_SLOTS_MAX];
    char data_dir[PATH_MAX];
    char error[1024];

    int rc = s_parse (argc, argv, &options);
    if (rc == -2)
        exit_code = 0;
    if (rc)
        goto cleanup;
    if (options.insecure)
        s_warn_insecure (options.port);
    if (proto_keys_derive (&keys, options.password ? options.password : "",
                           options.insecure)) {
        fprintf (stderr, "start_node: cannot derive the keys (out of memory?)\n");
        goto cleanup;
    }
    if (options.status) {
        exit_code = s_run_status (&options, &keys);
        goto cleanup;
    }

    if (s_data_dir (options.data_dir, data_dir, sizeof data_dir))
        goto cleanup;
    if (node_lock_acquire (&lock, data_dir, error, sizeof error)) {
        fprintf (stderr, "start_node: %s\n", error);
        goto cleanup;
    }

    int nslots = 0;
    if (!options.server_only) {
        /*  Tests that start nodes through a harness pass the test-only
            simulation in the environment; the flag wins. */
        const char *simulate = getenv ("DCPOOL_SIMULATE_GPUS");
        if (options.simulate_gpus == 0 && simulate && *simulate
            && s_parse_int (simulate, "DCPOOL_SIMULATE_GPUS", 0, 64,
                            &options.simulate_gpus))
            goto cleanup;
        node_slots_config_t plan = { .gpus = options.gpus,
                                     .max_gpus = options.max_gpus,
                                     .cpu_workers = options.cpu_workers,
                                     .simulate_gpus = options.simulate_gpus };
        nslots = node_slots_plan (&plan, slots, NODE_SLOTS_MAX, error, sizeof error);
        if (nslots < 0) {
            fprintf (stderr, "start_node: %s\n", error);
            goto cleanup;
        }
    }
    char worker_bin[PATH_MAX] = "", head_bin[PATH_MAX] = "", redis_bin[PATH_MAX] = "";
    if (nslots > 0
        && s_find ("pool-worker", "DCPOOL_WORKER_BIN", worker_bin, sizeof worker_bin))
        goto cleanup;

    char server[512];
    if (options.head) {
        if (s_find ("pool-head", "DCPOOL_HEAD_BIN", head_bin, sizeof head_bin))
            goto cleanup;
        if (!options.redis_url
            && s_find ("redis-server", "DCPOOL_REDIS_BIN", redis_bin, sizeof redis_bin))
            goto cleanup;
        launch_config_t config = { .data_dir = data_dir,
                                   .head_bin = head_bin,
                                   .redis_bin = redis_bin,
                                   .redis_url = options.redis_url,
                                   .password = options.password,
                                   .insecure = options.insecure,
                                   .port = options.port,
                                   .heartbeat_ms = options.heartbeat_ms,
                                   .liveness = options.liveness,
                                   .max_message = options.max_message,
                                   .max_pools = options.max_pools,
                                   .max_frames = options.max_frames,
                                   .max_pending = options.max_pending,
                                   .verbose = options.verbose };
        if (launch_start (&launch, &config, error, sizeof error)) {
            fprintf (stderr, "start_node: cannot start the head: %s\n", error);
            goto cleanup;
        }
        int port = launch_port (launch);
        char address[64], password[512];
        char others[512] = "";
        if (options.advertise)
            snprintf (address, sizeof address, "%s", options.advertise);
        else
            node_address_pick (address, sizeof address, others, sizeof others);
        printf ("dcpool head ready: port=%d\n", port);
        printf ("\nTo add a machine to this cluster, run on it:\n\n");
        if (options.password) {
            s_shell_word (options.password, password, sizeof password);
            printf ("    start_node -a %s -p %d -r %s%s\n\n", address, port, password,
                    options.insecure ? " --insecure" : "");
            printf ("Status:  start_node --status -p %d -r %s%s\n\n", port, password,
                    options.insecure ? " --insecure" : "");
        } else {
            printf ("    start_node -a %s -p %d --insecure\n\n", address, port);
            printf ("Status:  start_node --status -p %d --insecure\n\n", port);
        }
        if (others[0])
            printf ("(%s is the address of the default route; this machine also has %s:\n"
                    "use -a with one of them where that is the one the other machines "
                    "reach, or start the head with --advertise ADDR)\n\n",
                    address, others);
        fflush (stdout);
        snprintf (server, sizeof server, "127.0.0.1:%d", port);
    } else
        snprintf (server, sizeof server, "%s:%d", options.address, options.port);

    char node_id[PROTO_ID_MAX + 1];
    proto_new_id (node_id, NULL);
    supervisor_config_t config
        = { .server = server,
            .keys = &keys,
            .node_id = node_id,
            .data_dir = data_dir,
            .worker_bin = worker_bin,
            .slots = slots,
            .nslots = nslots,
            /* A joining node waits for its head as
               long as it takes unless --timeout
               says otherwise; a head's own node
               finds it there at once. */
            .connect_timeout = options.timeout > 0 ? options.timeout
                               : options.head      ? 10
                                                   : 0,
            .server_only = options.server_only,
            .launch = launch,
            .log_max = (uint64_t)options.log_max_mb << 20,
            .verbose = options.verbose };
    supervisor = supervisor_new (&config, error, sizeof error);
    if (!supervisor) {
        fprintf (stderr, "start_node: %s\n", error);
        goto cleanup;
    }
    if (!options.server_only) {
        printf ("dcpool node ready: id=%s workers=%d\n", node_id, nslots);
        fflush (stdout);
    }
    exit_code = supervisor_run (supervisor);
    zsys_info ("stopped%s", exit_code ? " after a failure" : "");
cleanup:
    supervisor_destroy (&supervisor);
    launch_stop (&launch);
    node_lock_release (&lock);
    if (options.password) {
        sodium_memzero (options.password, strlen (options.password));
        free (options.password);
    }
    sodium_memzero (&keys, sizeof keys);
    return exit_code;
}
