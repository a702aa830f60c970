/*  node/start_node.c - the start_node program: the three modes.

    start_node --head -r PW     Redis + pool-head + the local node
    start_node -a HOST -r PW    a node joining a head
    start_node --status -r PW   print the cluster's status and exit
    start_node --serve PORT --library LIB.so [-a HOST -r PW]
                                a published function over HTTP (serve.c)

    docs/INTERNALS.md pins down the command line (start_node_args.c), the
    data directory, the readiness lines on stdout and the signals; this
    file follows it.
*/
#include "address.h"
#include "launch.h"
#include "lock.h"
#include "node_signals.h"
#include "serve.h"
#include "slots.h"
#include "spawn.h"
#include "start_node_args.h"
#include "supervisor.h"
#include "proto/bytes.h"
#include "proto/keys.h"
#include "proto/link.h"
#include "proto/msg.h"
#include "proto/tree.h"
#include "views.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
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

/*  Port 0: a head that picks its own (printed once it listens). */
static void
s_warn_insecure (int port)
{
    char who[80];
    if (port > 0)
        snprintf (who, sizeof who, "Anyone who can reach port %d can run code on this",
                  port);
    else
        snprintf (who, sizeof who,
                  "Anyone who can reach the head's port can run code on this");
    fprintf (stderr,
             "\n"
             "************************************************************************\n"
             "*  WARNING: --insecure: no encryption and no password.                 *\n"
             "*  %-66s  *\n"
             "*  cluster and read its data. Use it only on a trusted network, for    *\n"
             "*  benchmarks.                                                         *\n"
             "************************************************************************\n"
             "\n",
             who);
}

static int
s_run_status (const start_node_options_t *options, const proto_keys_t *keys)
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
        proto_status_t status;
        char why[128];
        if (msg.type == PROTO_STATUS
            && proto_status_get (&msg, &status, why, sizeof why) == PROTO_OK) {
            size_t len = strlen (status.text);
            if (len) {
                fputs (status.text, stdout);
                if (status.text[len - 1] != '\n')
                    fputc ('\n', stdout);
            } else
                printf ("nodes: %llu\nworkers: %llu\npools: %llu\n",
                        (unsigned long long)status.nodes,
                        (unsigned long long)status.workers,
                        (unsigned long long)status.pools);
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

/*  Serve mode: a pool on the head at -a (or the local cluster) behind an
    HTTP port.  The process's exit code. */
static int
s_run_serve (const start_node_options_t *options)
{
    char server[512];
    if (options->address)
        snprintf (server, sizeof server, "%s:%d", options->address, options->port);
    serve_config_t config = { .server = options->address ? server : NULL,
                              .password = options->password,
                              .insecure = options->insecure,
                              .library = options->library,
                              .init_file = options->init_file,
                              .job_timeout = options->timeout,
                              .bind = options->serve_bind,
                              .port = options->serve_port,
                              .max_body = (uint64_t)options->serve_max_body,
                              .max_connections = (unsigned)options->serve_max_connections,
                              .idle_timeout = (unsigned)options->serve_idle };
    return serve_run (&config);
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

/*  The workers this machine runs, into slots[NODE_SLOTS_MAX]: their count
    (0 with --server-only), or -1 after printing why. */
static int
s_plan_slots (start_node_options_t *options, node_slot_t *slots)
{
    if (options->server_only)
        return 0;
    /*  Tests that start nodes through a harness pass the test-only
        simulation in the environment; the flag wins. */
    const char *simulate = getenv ("DCPOOL_SIMULATE_GPUS");
    if (options->simulate_gpus == 0 && simulate && *simulate
        && start_node_args_int (simulate, "DCPOOL_SIMULATE_GPUS", 0, 64,
                                &options->simulate_gpus))
        return -1;
    node_slots_config_t plan = { .gpus = options->gpus,
                                 .max_gpus = options->max_gpus,
                                 .cpu_workers = options->cpu_workers,
                                 .simulate_gpus = options->simulate_gpus };
    char error[1024];
    int nslots = node_slots_plan (&plan, slots, NODE_SLOTS_MAX, error, sizeof error);
    if (nslots < 0)
        fprintf (stderr, "start_node: %s\n", error);
    return nslots;
}

/*  The readiness line of a head listening on port, and the command lines
    that join it and ask its status (stdout, flushed). */
static void
s_say_head_ready (const start_node_options_t *options, int port)
{
    char address[64], password[512];
    char others[512] = "";
    if (options->advertise)
        snprintf (address, sizeof address, "%s", options->advertise);
    else
        node_address_pick (address, sizeof address, others, sizeof others);
    printf ("dcpool head ready: port=%d\n", port);
    char cap[32], total[32];
    proto_bytes_text (options->store_max_memory, cap, sizeof cap);
    if (!options->store_max_memory)
        printf ("\nBlock store: no cap (this machine's memory is unknown; set one with "
                "--store-max-memory)\n");
    else if (options->store_max_memory_set)
        printf ("\nBlock store: up to %s (--store-max-memory)%s\n", cap,
                options->redis_url ? ", counted in the head on the given Redis" : "");
    else
        printf ("\nBlock store: up to %s, a quarter of this machine's %s (change it "
                "with --store-max-memory)\n",
                cap, proto_bytes_text (proto_mem_total (), total, sizeof total));
    printf ("\nTo add a machine to this cluster, run on it:\n\n");
    if (options->password) {
        s_shell_word (options->password, password, sizeof password);
        printf ("    start_node -a %s -p %d -r %s%s\n\n", address, port, password,
                options->insecure ? " --insecure" : "");
        printf ("Status:  start_node --status -p %d -r %s%s\n\n", port, password,
                options->insecure ? " --insecure" : "");
    } else {
        printf ("    start_node -a %s -p %d --insecure\n\n", address, port);
        printf ("Status:  start_node --status -p %d --insecure\n\n", port);
    }
    if (options->http_port) {
        const char *bind = options->http_bind ? options->http_bind : "127.0.0.1";
        bool v6 = strchr (bind, ':') != NULL;
        printf (
            "Metrics and status page:  http://%s%s%s:%d/  (/metrics, /api/status%s)\n\n",
            v6 ? "[" : "", bind, v6 ? "]" : "", options->http_port,
            strcmp (bind, "127.0.0.1") && strcmp (bind, "::1")
                ? "; basic auth with the cluster password"
                : "");
    }
    if (others[0])
        printf ("(%s is the address of the default route; this machine also has %s:\n"
                "use -a with one of them where that is the one the other machines "
                "reach, or start the head with --advertise ADDR)\n\n",
                address, others);
    fflush (stdout);
}

/*  The programs start_node starts, found once: launch and the supervisor
    borrow the paths to start them again, so they live as long as main. */
typedef struct {
    char worker[PATH_MAX];
    char head[PATH_MAX];
    char redis[PATH_MAX];
} s_programs_t;

/*  Head mode: finds pool-head and redis-server (unless --redis) into
    programs, starts them into *launch, says so, and puts where the local
    node finds the head into server[size].  0, or -1 after printing why. */
static int
s_start_head (const start_node_options_t *options, const char *data_dir,
              s_programs_t *programs, launch_t **launch, char *server, size_t size)
{
    if (s_find ("pool-head", "DCPOOL_HEAD_BIN", programs->head, sizeof programs->head))
        return -1;
    if (!options->redis_url
        && s_find ("redis-server", "DCPOOL_REDIS_BIN", programs->redis,
                   sizeof programs->redis))
        return -1;
    launch_config_t config = { .data_dir = data_dir,
                               .head_bin = programs->head,
                               .redis_bin = programs->redis,
                               .redis_url = options->redis_url,
                               .block_store = options->block_store,
                               .password = options->password,
                               .insecure = options->insecure,
                               .port = options->port,
                               .heartbeat_ms = options->heartbeat_ms,
                               .liveness = options->liveness,
                               .max_message = options->max_message,
                               .max_pools = options->max_pools,
                               .max_frames = options->max_frames,
                               .max_pending = options->max_pending,
                               .http_port = options->http_port,
                               .http_bind = options->http_bind,
                               .store_max_memory = options->store_max_memory,
                               .verbose = options->verbose };
    config.block_grace = options->block_grace_set ? options->block_grace : -1;
    config.locality_wait = options->locality_wait_set ? options->locality_wait : -1;
    char error[1024];
    if (launch_start (launch, &config, error, sizeof error)) {
        fprintf (stderr, "start_node: cannot start the head: %s\n", error);
        return -1;
    }
    int port = launch_port (*launch);
    s_say_head_ready (options, port);
    snprintf (server, size, "127.0.0.1:%d", port);
    return 0;
}

/*  The node: its workers under a supervisor, until SIGTERM or SIGINT.
    The process's exit code. */
static int
s_run_node (const start_node_options_t *options, const supervisor_config_t *config)
{
    char error[1024];
    supervisor_t *supervisor = supervisor_new (config, error, sizeof error);
    if (!supervisor) {
        fprintf (stderr, "start_node: %s\n", error);
        return 1;
    }
    if (!options->server_only) {
        printf ("dcpool node ready: id=%s workers=%d\n", config->node_id, config->nslots);
        fflush (stdout);
    }
    int exit_code = supervisor_run (supervisor);
    zsys_info ("stopped%s", exit_code ? " after a failure" : "");
    supervisor_destroy (&supervisor);
    return exit_code;
}

int
main (int argc, char *argv[])
{
    /*  Before any thread or child exists: the signals we handle arrive only
        on the supervisor's signalfd, and CZMQ installs no handler. */
    node_signals_block ();
    signal (SIGPIPE, SIG_IGN);
    zsys_handler_set (NULL);
    zsys_set_logstream (stderr);
    zsys_set_logident ("start_node");

    start_node_options_t options = { .password = NULL };
    int exit_code = 1;
    node_lock_t *lock = NULL;
    launch_t *launch = NULL;
    proto_keys_t keys;
    memset (&keys, 0, sizeof keys);
    static node_slot_t slots[NODE_SLOTS_MAX];
    char data_dir[PATH_MAX];
    bool remove_data_dir = false; /* set once the directory is ours */
    char error[1024];

    int rc = start_node_args_parse (&options, argc, argv);
    if (rc) {
        if (rc > 0)
            exit_code = 0; /* --help */
        goto cleanup;
    }
    if (options.serve_port >= 0) {
        exit_code = s_run_serve (&options);
        goto cleanup;
    }
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
    remove_data_dir = options.remove_data_dir;
    int nslots = s_plan_slots (&options, slots);
    if (nslots < 0)
        goto cleanup;
    static s_programs_t programs; /* "": not needed */
    if (nslots > 0
        && s_find ("pool-worker", "DCPOOL_WORKER_BIN", programs.worker,
                   sizeof programs.worker))
        goto cleanup;
    char server[512];
    if (options.head) {
        if (s_start_head (&options, data_dir, &programs, &launch, server, sizeof server))
            goto cleanup;
    } else
        snprintf (server, sizeof server, "%s:%d", options.address, options.port);

    char node_id[PROTO_ID_MAX + 1];
    proto_new_id (node_id, NULL);
    supervisor_config_t config
        = { .server = server,
            .keys = &keys,
            .node_id = node_id,
            .data_dir = data_dir,
            .worker_bin = programs.worker,
            .slots = slots,
            .nslots = nslots,
            /* A joining node waits for its head as long as it takes unless
               --timeout says otherwise; a head's own node finds it there
               at once. */
            .connect_timeout = options.timeout > 0 ? options.timeout
                               : options.head      ? 10
                                                   : 0,
            .server_only = options.server_only,
            .launch = launch,
            .log_max = (uint64_t)options.log_max_mb << 20,
            .stdin_lifeline = options.stdin_lifeline,
            .verbose = options.verbose };
    exit_code = s_run_node (&options, &config);
cleanup:
    launch_stop (&launch);
    node_lock_release (&lock);
    /*  Only a directory we were given (never the default ~/.dcpool: the
        options refuse that) and held the lock of. */
    if (remove_data_dir && proto_remove_tree (data_dir))
        fprintf (stderr, "start_node: cannot remove the data directory %s: %s\n",
                 data_dir, strerror (errno));
    start_node_args_clear (&options);
    sodium_memzero (&keys, sizeof keys);
    return exit_code;
}
