/*  node/worker_args.c - pool-worker's command line.  See worker_args.h. */
#include "worker_args.h"
#include "msg.h"
#include "parse.h"
#include "worker_ctx.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: pool-worker --server tcp://HOST:PORT --node NODEID --id WORKERID\n"
             "                   --data-dir DIR [--scoreboard-fd FD] [--log-fd FD]\n"
             "                   [--gpu INDEX\n"
             "                   --gpu-name NAME --gpu-uuid UUID --gpu-memory BYTES]\n"
             "env: DCPOOL_KEYS (the node's keys). Spawned by start_node only.\n");
}

int
worker_args_parse (worker_args_t *args, int argc, char *argv[])
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
            { "log-fd", required_argument, NULL, 'L' },
            { "help", no_argument, NULL, 'h' },
            { NULL, 0, NULL, 0 } };
    memset (args, 0, sizeof *args);
    args->gpu_index = -1;
    args->scoreboard_fd = -1;
    args->log_fd = -1;
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
        case 'L':
            if (proto_parse_int (optarg, 0, 65535, &value)) {
                fprintf (stderr, "pool-worker: --log-fd wants a descriptor, not '%s'\n",
                         optarg);
                return -1;
            }
            args->log_fd = (int)value;
            break;
        case 'h':
            s_usage (stdout);
            return 1;
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
