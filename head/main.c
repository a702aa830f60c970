/*  head/main.c - pool-head: command line, then the server loop.

    Started by `start_node --head`; see docs/INTERNALS.md for the flags.
    The password and the Redis URLs (DCPOOL_REDIS_URL, and the block
    servers' DCPOOL_BLOCK_STORE) come in the environment so that they
    never show in `ps`.
*/
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "locality.h"
#include "server.h"
#include "msg.h"
#include "parse.h"
#include "bytes.h"
#include "heap.h"

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: pool-head [options]\n"
        "The dcpool head: brokers jobs between clients and workers. Normally started\n"
        "by `start_node --head`.\n"
        "  -p, --port PORT        port to listen on (default 8899; 0 picks a free one)\n"
        "  -b, --bind ADDR        address to bind (default *, every interface)\n"
        "  -d, --data-dir DIR     data directory (unused by the head itself)\n"
        "      --insecure         plain TCP, no CURVE: trusted benchmarks only\n"
        "      --heartbeat MS     heartbeat interval (default 1000)\n"
        "      --liveness N       heartbeats missed before a node is dead (default 3)\n"
        "      --prefetch N       jobs a worker holds at most; adaptive below (default "
        "16384)\n"
        "      --max-message B    largest message accepted, bytes (default 2 GiB)\n"
        "      --max-pools N      pools one client connection may open (default 64)\n"
        "      --max-frames N     frames in one message (default 65538, the most a\n"
        "                         batch of jobs can use)\n"
        "      --max-pending N    jobs pending per pool (default 10000000)\n"
        "      --block-grace S    seconds an unheld block is kept before it is\n"
        "                         deleted (default 600)\n"
        "      --http PORT        serve GET /metrics, /api/status and the status page\n"
        "                         / on PORT (default: no HTTP)\n"
        "      --http-bind ADDR   address for --http (default 127.0.0.1; any other\n"
        "                         needs the password as HTTP basic auth)\n"
        "      --store-max-memory B  bytes the block store (its Redis) may use; a\n"
        "                         put past it is refused (ENOSPACE); suffixes K, M,\n"
        "                         G (default: a quarter of this machine's memory)\n"
        "      --restarted        started again after it died: a store already past\n"
        "                         --store-max-memory is logged, not refused\n"
        "      --locality-wait MS how long a job naming its blocks waits for a worker\n"
        "                         that holds them (default 50; 0: off)\n"
        "      --ready-fd FD      write the port and a newline to FD once listening\n"
        "  -v, --verbose          log every peer\n"
        "  -h, --help             this text\n"
        "environment: DCPOOL_PASSWORD (required unless --insecure),\n"
        "             DCPOOL_REDIS_URL (redis://:PW@HOST:PORT/DB or "
        "unix:///PATH?password=PW),\n"
        "             DCPOOL_BLOCK_STORE (block servers: URL,URL,...; the blocks\n"
        "             are then spread over them, the bookkeeping stays in\n"
        "             DCPOOL_REDIS_URL)\n");
}

/*  A number for flag in [min, max]: 0, or -1 after saying what the flag
    wants. */
static int
s_int_arg (const char *text, const char *flag, long long min, long long max,
           long long *out)
{
    return proto_parse_flag ("pool-head", flag, text, min, max, out);
}

int
main (int argc, char *argv[])
{
    head_config_t config = {
        .port = 8899,
        .bind = "*",
        .heartbeat_ms = 1000,
        .liveness = 3,
        .prefetch = 16384,
        .max_message = 2ULL << 30,
        .max_pools_per_client = 64,
        .max_frames = PROTO_JOBS_MAX + 2,
        .max_pending_per_pool = 10000000,
        .block_grace_ms = 600000,
        .http_bind = "127.0.0.1",
        .store_max_memory = proto_mem_total () / 4,
        .locality_wait_ms = HEAD_LOCALITY_WAIT_MS,
    };
    int ready_fd = -1;
    enum {
        O_INSECURE = 256,
        O_HEARTBEAT,
        O_LIVENESS,
        O_PREFETCH,
        O_MAXMSG,
        O_MAXPOOLS,
        O_MAXPENDING,
        O_READY,
        O_MAXFRAMES,
        O_GRACE,
        O_HTTP,
        O_HTTP_BIND,
        O_STORE_MAX,
        O_RESTARTED,
        O_LOCALITY
    };
    static const struct option options[]
        = { { "port", required_argument, 0, 'p' },
            { "bind", required_argument, 0, 'b' },
            { "data-dir", required_argument, 0, 'd' },
            { "insecure", no_argument, 0, O_INSECURE },
            { "heartbeat", required_argument, 0, O_HEARTBEAT },
            { "liveness", required_argument, 0, O_LIVENESS },
            { "prefetch", required_argument, 0, O_PREFETCH },
            { "max-message", required_argument, 0, O_MAXMSG },
            { "max-pools", required_argument, 0, O_MAXPOOLS },
            { "max-pending", required_argument, 0, O_MAXPENDING },
            { "ready-fd", required_argument, 0, O_READY },
            { "max-frames", required_argument, 0, O_MAXFRAMES },
            { "block-grace", required_argument, 0, O_GRACE },
            { "http", required_argument, 0, O_HTTP },
            { "http-bind", required_argument, 0, O_HTTP_BIND },
            { "store-max-memory", required_argument, 0, O_STORE_MAX },
            { "restarted", no_argument, 0, O_RESTARTED },
            { "locality-wait", required_argument, 0, O_LOCALITY },
            { "verbose", no_argument, 0, 'v' },
            { "help", no_argument, 0, 'h' },
            { 0, 0, 0, 0 } };
    int opt;
    long long value = 0;
    while ((opt = getopt_long (argc, argv, "p:b:d:vh", options, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case 'p':
            bad = s_int_arg (optarg, "--port", 0, 65535, &value);
            config.port = (int)value;
            break;
        case 'b':
            snprintf (config.bind, sizeof config.bind, "%s", optarg);
            break;
        case 'd':
            break;
        case O_INSECURE:
            config.insecure = true;
            break;
        case O_HEARTBEAT:
            bad = s_int_arg (optarg, "--heartbeat", 10, 600000, &value);
            config.heartbeat_ms = (int)value;
            break;
        case O_LIVENESS:
            bad = s_int_arg (optarg, "--liveness", 1, 1000, &value);
            config.liveness = (int)value;
            break;
        case O_PREFETCH:
            bad = s_int_arg (optarg, "--prefetch", 1, PROTO_JOBS_MAX, &value);
            config.prefetch = (int)value;
            break;
        case O_MAXMSG:
            bad = s_int_arg (optarg, "--max-message", 1024, 1LL << 40, &value);
            config.max_message = (uint64_t)value;
            break;
        case O_MAXPOOLS:
            bad = s_int_arg (optarg, "--max-pools", 1, 1000000, &value);
            config.max_pools_per_client = (size_t)value;
            break;
        case O_MAXPENDING:
            bad = s_int_arg (optarg, "--max-pending", 1, 1LL << 40, &value);
            config.max_pending_per_pool = (size_t)value;
            break;
        case O_MAXFRAMES:
            bad = s_int_arg (optarg, "--max-frames", 2, PROTO_JOBS_MAX + 2, &value);
            config.max_frames = (size_t)value;
            break;
        case O_GRACE:
            bad = s_int_arg (optarg, "--block-grace", 0, 100LL * 365 * 86400, &value);
            config.block_grace_ms = (uint64_t)value * 1000;
            break;
        case O_HTTP:
            bad = s_int_arg (optarg, "--http", 1, 65535, &value);
            config.http_port = (int)value;
            break;
        case O_HTTP_BIND:
            snprintf (config.http_bind, sizeof config.http_bind, "%s", optarg);
            break;
        case O_STORE_MAX:
            if (proto_parse_bytes (optarg, 1ULL << 20, 1ULL << 50,
                                   &config.store_max_memory)) {
                fprintf (stderr,
                         "pool-head: --store-max-memory wants bytes from 1M to 1P "
                         "(a number, K, M, G or T after it), not '%s'\n",
                         optarg);
                bad = -1;
            }
            break;
        case O_RESTARTED:
            config.restarted = true;
            break;
        case O_LOCALITY:
            bad = s_int_arg (optarg, "--locality-wait", 0, 600000, &value);
            config.locality_wait_ms = (int)value;
            break;
        case O_READY:
            bad = s_int_arg (optarg, "--ready-fd", 0, 1 << 20, &value);
            ready_fd = (int)value;
            break;
        case 'v':
            config.verbose = true;
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
        if (bad)
            return 2;
    }
    const char *password = getenv ("DCPOOL_PASSWORD");
    const char *redis_url = getenv ("DCPOOL_REDIS_URL");
    if (!config.insecure && (!password || !*password)) {
        fprintf (stderr, "pool-head: DCPOOL_PASSWORD is not set (or use --insecure)\n");
        return 2;
    }
    if (!redis_url || !*redis_url) {
        fprintf (stderr, "pool-head: DCPOOL_REDIS_URL is not set\n");
        return 2;
    }
    /* hiredis writes to a Redis that may have died: EPIPE, not a signal. */
    signal (SIGPIPE, SIG_IGN);
    zsys_init ();
    if (proto_heap_hold () < 0)
        zsys_warning ("pool-head: malloc settings refused: payloads through the head "
                      "fault their pages in again");
    char error[512];
    config.block_store = getenv ("DCPOOL_BLOCK_STORE");
    head_t *head = head_new (&config, password, redis_url, error, sizeof error);
    /* Nothing below needs them; children and /proc never see them. */
    unsetenv ("DCPOOL_PASSWORD");
    unsetenv ("DCPOOL_REDIS_URL");
    unsetenv ("DCPOOL_BLOCK_STORE");
    if (!head) {
        fprintf (stderr, "pool-head: %s\n", error);
        return 1;
    }
    if (ready_fd >= 0) {
        dprintf (ready_fd, "%d\n", head_port (head));
        close (ready_fd);
    }
    int rc = head_run (head);
    head_destroy (&head);
    zsys_info ("pool-head stopped");
    return rc;
}
