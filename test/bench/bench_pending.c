/*  test/bench/bench_pending.c - what a queue of pending jobs costs the head.

    bench_pending -s HOST:PORT -l LIBRARY -n N --head-pid PID [--size B]

    Against a head with no workers (start_node --head --server-only), opens
    a pool and SUBMITs N jobs of B bytes (default 1,000,000 of 100) as a
    client with no window would, in batches of 1,024, then asks for STATUS:
    the head answers it after every SUBMIT before it, so by then every job
    is queued.  Prints, as one JSON line, pool-head's resident memory
    before and after (VmRSS of /proc/PID/status) and the bytes per job
    beyond the payload.  libpool itself never queues this much (it keeps
    at most 8,192 jobs unfinished per pool); many clients together can, and
    --max-pending bounds it.  Speaks the protocol through proto/, like
    libpool does; the password comes from DCPOOL_PASSWORD.
*/
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"
#include "link.h"
#include "msg.h"

enum { BATCH = 1024 };

static long
s_rss_kib (const char *pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    long kib = -1;
    while (fgets (line, sizeof line, f))
        if (strncmp (line, "VmRSS:", 6) == 0) {
            kib = atol (line + 6);
            break;
        }
    fclose (f);
    return kib;
}

static uint8_t *
s_read (const char *path, size_t *size)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long len = ftell (f);
    fseek (f, 0, SEEK_SET);
    uint8_t *data = len > 0 ? malloc ((size_t)len) : NULL;
    if (data && fread (data, 1, (size_t)len, f) != (size_t)len) {
        free (data);
        data = NULL;
    }
    fclose (f);
    *size = (size_t)len;
    return data;
}

/* The next message that is not a HEARTBEAT, within 60 s: 0, or -1. */
static int
s_recv (zsock_t *sock, proto_msg_t *msg)
{
    zsock_set_rcvtimeo (sock, 60000);
    char reason[256] = "";
    while (true) {
        int rc = proto_msg_recv (msg, zsock_resolve (sock), reason, sizeof reason);
        if (rc != PROTO_OK) {
            fprintf (stderr, "bench_pending: %s\n",
                     rc == PROTO_EIO ? "no answer" : reason);
            return -1;
        }
        if (msg->type != PROTO_HEARTBEAT)
            return 0;
    }
}

int
main (int argc, char *argv[])
{
    const char *server = NULL, *library = NULL, *head_pid = NULL;
    const char *password = getenv ("DCPOOL_PASSWORD");
    size_t n = 1000000, size = 100;
    static const struct option options[] = { { "head-pid", required_argument, NULL, 'p' },
                                             { "size", required_argument, NULL, 'b' },
                                             { NULL, 0, NULL, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "s:l:n:", options, NULL)) != -1)
        switch (c) {
        case 's':
            server = optarg;
            break;
        case 'l':
            library = optarg;
            break;
        case 'n':
            n = strtoull (optarg, NULL, 10);
            break;
        case 'p':
            head_pid = optarg;
            break;
        case 'b':
            size = strtoull (optarg, NULL, 10);
            break;
        default:
            return 2;
        }
    if (!server || !library || !head_pid || !password || n == 0 || size > 4096) {
        fprintf (stderr, "usage: DCPOOL_PASSWORD=PW bench_pending -s HOST:PORT -l LIB "
                         "-n N --head-pid PID [--size B (at most 4096)]\n");
        return 2;
    }
    proto_keys_t keys;
    if (proto_keys_derive (&keys, password, false)) {
        fprintf (stderr, "bench_pending: cannot derive keys\n");
        return 1;
    }
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_HELLO);
    proto_msg_set_role (&msg, PROTO_ROLE_CLIENT);
    proto_msg_set_id (&msg, "bench-pending");
    proto_link_t *link = NULL;
    char error[512] = "";
    if (proto_link_connect (&link, server, &keys, &msg, 10, NULL, error, sizeof error)
        != PROTO_OK) {
        fprintf (stderr, "bench_pending: %s\n", error);
        return 1;
    }
    proto_msg_reset (&msg);
    zsock_t *sock = proto_link_sock (link);

    size_t lib_size = 0;
    uint8_t *lib = s_read (library, &lib_size);
    if (!lib) {
        fprintf (stderr, "bench_pending: cannot read %s\n", library);
        return 1;
    }
    proto_msg_init (&msg, PROTO_POOL_OPEN);
    uint8_t hash[PROTO_HASH_SIZE];
    proto_msg_set_text (&msg, "bench_worker.so");
    proto_hash (lib, lib_size, hash);
    proto_msg_add_hash (&msg, hash);
    proto_hash ("noop", 4, hash);
    proto_msg_add_hash (&msg, hash);
    const uint64_t nums[] = { 1, 0, 0, 0 }; /* min_workers 0 */
    for (int i = 0; i < 4; i++)
        proto_msg_add_num (&msg, nums[i]);
    proto_msg_add_bytes (&msg, lib, lib_size);
    proto_msg_add_bytes (&msg, "noop", 4);
    free (lib);
    if (proto_msg_send (&msg, zsock_resolve (sock)) != PROTO_OK || s_recv (sock, &msg)
        || msg.type != PROTO_POOL_READY) {
        fprintf (stderr, "bench_pending: POOL_OPEN: %s\n",
                 msg.type == PROTO_ERROR && msg.text ? msg.text : "no POOL_READY");
        return 1;
    }
    uint64_t pool = msg.pool;
    proto_msg_reset (&msg);

    long before = s_rss_kib (head_pid);
    uint8_t *payload = calloc (1, size ? size : 1);
    for (size_t sent = 0; sent < n;) {
        proto_msg_init (&msg, PROTO_SUBMIT);
        proto_msg_set_pool (&msg, pool);
        for (size_t k = 0; k < BATCH && sent < n; k++, sent++) {
            proto_job_t *job = proto_msg_add_job (&msg);
            memcpy (payload, &sent, sizeof sent < size ? sizeof sent : size);
            if (!job || proto_msg_add_bytes (&msg, payload, size) != PROTO_OK) {
                fprintf (stderr, "bench_pending: out of memory\n");
                return 1;
            }
            job->id = sent;
        }
        if (proto_msg_send (&msg, zsock_resolve (sock)) != PROTO_OK) {
            fprintf (stderr, "bench_pending: cannot send SUBMIT\n");
            return 1;
        }
    }
    free (payload);
    proto_msg_init (&msg, PROTO_STATUS_REQ);
    proto_msg_set_pool (&msg, pool);
    int rc = proto_msg_send (&msg, zsock_resolve (sock)) == PROTO_OK ? 0 : -1;
    while (rc == 0 && (rc = s_recv (sock, &msg)) == 0 && msg.type != PROTO_STATUS)
        if (msg.type == PROTO_ERROR) {
            fprintf (stderr, "bench_pending: head says: %s\n", msg.text);
            rc = -1;
        }
    proto_msg_reset (&msg);
    long after = s_rss_kib (head_pid);
    if (rc == 0)
        printf ("{\"measure\":\"pending_memory\",\"jobs\":%zu,\"payload_bytes\":%zu,"
                "\"head_rss_before_mib\":%.1f,\"head_rss_after_mib\":%.1f,"
                "\"head_bytes_per_job_beyond_payload\":%.1f}\n",
                n, size, before / 1024.0, after / 1024.0,
                (after - before) * 1024.0 / (double)n - (double)size);
    proto_msg_init (&msg, PROTO_POOL_CLOSE);
    proto_msg_set_pool (&msg, pool);
    proto_msg_send (&msg, zsock_resolve (sock));
    proto_msg_reset (&msg);
    proto_link_destroy (&link);
    return rc == 0 ? 0 : 1;
}
