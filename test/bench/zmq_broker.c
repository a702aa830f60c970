/*  test/bench/zmq_broker.c - the "plain ZeroMQ load-balancing broker" peer.

    zmq_broker MEASURE [--inflight K] [-n N] [--reps R] [--size BYTES]
               [--workers W] [--label NAME] [--timeout SECONDS] [--curve]
               [--connect FRONTEND [--server-key KEY]]
    zmq_broker broker [--bind IP] [--curve]
    zmq_broker worker --connect BACKEND [--server-key KEY] [--inflight K]
               [--spin-us US]

    One run forks a broker process and W (default 2) worker processes,
    talks to them over TCP on 127.0.0.1 (ephemeral ports) as the client,
    prints JSON lines like bench_pool's, and stops its children.

    Between machines (scripts/bench net) the three parts run apart:
    "broker" binds both of its sockets on IP (default 127.0.0.1), prints
    "zmq_broker ready FRONTEND BACKEND KEY" (KEY: the broker's CURVE public
    key, or "-"), then "zmq_broker worker ready" for each worker that
    comes, and runs until killed; "worker" connects to BACKEND and
    runs until killed (--spin-us: the busy-wait of each job; 1000 for the
    ms measure); a MEASURE with --connect runs only the client, against
    the broker's FRONTEND, and --workers W must say how many workers wait.

    --curve puts CURVE on every socket: the broker's two are servers with a
    key pair from zmq_curve_keypair, the workers and the client are
    clients, each with a key pair of its own, that know the broker's public
    key (--server-key when started apart).

    Broker: a ROUTER for clients and a ROUTER for workers, least-recently-
    used: a worker (DEALER) announces K credits ("READY" + K) and gets at
    most K jobs in flight; every result gives its credit back; the broker
    reads clients only while some worker has a credit.  Frames are passed
    on as zmq_msg_t, without a copy.  K = 1 is the classic one job per
    worker; K = 64 lets jobs queue in the workers' sockets.

    Client frames: [request id (8 bytes), payload]; worker frames:
    [client identity, request id, payload].

    Measures (all the same work as bench_pool's): noop (N 8-byte echoes,
    tasks/s), rtt (N sequential echoes, rtt_p50/rtt_p99 us), bw (BYTES
    echoed, GB/s = 2 x BYTES / s), ms (N jobs busy-waiting 1 ms,
    ms_efficiency against W x 1000 jobs/s).
*/
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static const char *s_measure = "?";
static const char *s_label = "zmq";

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
s_emit (const char *measure, size_t n, int rep, double value, const char *unit)
{
    printf ("{\"measure\":\"%s\",\"system\":\"%s\",\"n\":%zu,\"rep\":%d,"
            "\"value\":%.6g,\"unit\":\"%s\"}\n",
            measure, s_label, n, rep, value, unit);
    fflush (stdout);
}

static void
s_fail (const char *text)
{
    printf ("{\"measure\":\"%s\",\"system\":\"%s\",\"error\":\"%s\"}\n", s_measure,
            s_label, text);
    fflush (stdout);
    fprintf (stderr, "zmq_broker %s (%s): %s\n", s_measure, s_label, text);
}

static char s_alarm_line[512];

/*  Prepares the line s_on_alarm prints: an error record for the report. */
static void
s_alarm_prepare (double seconds)
{
    snprintf (s_alarm_line, sizeof s_alarm_line,
              "{\"measure\":\"%s\",\"system\":\"%s\","
              "\"error\":\"timed out after %.0f s\"}\n",
              s_measure, s_label, seconds);
}

static void
s_on_alarm (int sig)
{
    ssize_t rc = write (1, s_alarm_line, strlen (s_alarm_line));
    static const char msg[] = "zmq_broker: timed out\n";
    rc = write (2, msg, sizeof msg - 1);
    (void)rc;
    _exit (3);
}

static void
s_unlimited (void *socket)
{
    int zero = 0;
    zmq_setsockopt (socket, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt (socket, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt (socket, ZMQ_LINGER, &zero, sizeof zero);
}

/*  Makes socket a CURVE client of the server whose public key is
    server_key (Z85), with a key pair of its own.  A NULL server_key leaves
    the socket plain.  0 or -1. */
static int
s_curve_client (void *socket, const char *server_key)
{
    if (!server_key)
        return 0;
    char public_key[41], secret_key[41];
    if (strlen (server_key) != 40 || zmq_curve_keypair (public_key, secret_key) < 0
        || zmq_setsockopt (socket, ZMQ_CURVE_SERVERKEY, server_key, 40) < 0
        || zmq_setsockopt (socket, ZMQ_CURVE_PUBLICKEY, public_key, 40) < 0
        || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, secret_key, 40) < 0)
        return -1;
    return 0;
}

/* --- broker ------------------------------------------------------------ */

typedef struct {
    unsigned char id[32];
    size_t size;
} ident_t;

/*  Forwards the rest of a multipart message from one socket to another,
    each frame as is (no copy). */
static int
s_forward_rest (void *from, void *to)
{
    int more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, from, 0) < 0)
            return -1;
        more = zmq_msg_more (&part);
        if (zmq_msg_send (&part, to, more ? ZMQ_SNDMORE : 0) < 0) {
            zmq_msg_close (&part);
            return -1;
        }
    }
    return 0;
}

/*  The broker: binds its two sockets on bind_ip (CURVE servers when curve
    is set, both with one key pair), writes its ready line to ready_fd,
    then passes jobs and results until killed.  Never returns.  ready_fd
    is closed after the ready line unless report_workers is set; then it
    stays open and gets "zmq_broker worker ready" for each worker that
    says READY (the script that runs it apart waits for its workers). */
static void
s_broker (int ready_fd, bool report_workers, const char *bind_ip, bool curve)
{
    void *ctx = zmq_ctx_new ();
    void *front = zmq_socket (ctx, ZMQ_ROUTER);
    void *back = zmq_socket (ctx, ZMQ_ROUTER);
    s_unlimited (front);
    s_unlimited (back);
    char key[41] = "-";
    if (curve) {
        char secret_key[41];
        int yes = 1;
        if (zmq_curve_keypair (key, secret_key) < 0)
            _exit (1);
        for (int i = 0; i < 2; i++) {
            void *socket = i ? back : front;
            if (zmq_setsockopt (socket, ZMQ_CURVE_SERVER, &yes, sizeof yes) < 0
                || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, secret_key, 40) < 0)
                _exit (1);
        }
    }
    char endpoint[300];
    snprintf (endpoint, sizeof endpoint, "tcp://%s:*", bind_ip);
    if (zmq_bind (front, endpoint) < 0 || zmq_bind (back, endpoint) < 0)
        _exit (1);
    char fe[256], be[256];
    size_t len = sizeof fe;
    zmq_getsockopt (front, ZMQ_LAST_ENDPOINT, fe, &len);
    len = sizeof be;
    zmq_getsockopt (back, ZMQ_LAST_ENDPOINT, be, &len);
    char line[600];
    int n = snprintf (line, sizeof line, "zmq_broker ready %s %s %s\n", fe, be, key);
    if (write (ready_fd, line, n) != n)
        _exit (1);
    if (!report_workers)
        close (ready_fd);

    size_t cap = 1 << 16, head = 0, count = 0;
    ident_t *credits = calloc (cap, sizeof *credits);
    while (1) {
        zmq_pollitem_t items[]
            = { { back, 0, ZMQ_POLLIN, 0 }, { front, 0, ZMQ_POLLIN, 0 } };
        if (zmq_poll (items, count ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            /* [worker, "READY", K] or [worker, client, reqid, payload] */
            ident_t w;
            int rc = zmq_recv (back, w.id, sizeof w.id, 0);
            if (rc < 0)
                break;
            w.size = (size_t)rc;
            zmq_msg_t first;
            zmq_msg_init (&first);
            zmq_msg_recv (&first, back, 0);
            int credit = 1;
            if (zmq_msg_size (&first) >= 5
                && memcmp (zmq_msg_data (&first), "READY", 5) == 0) {
                char num[16] = "";
                size_t sz = zmq_msg_size (&first) - 5;
                memcpy (num, (char *)zmq_msg_data (&first) + 5, sz < 15 ? sz : 15);
                credit = atoi (num);
                static const char worker_ready[] = "zmq_broker worker ready\n";
                if (report_workers
                    && write (ready_fd, worker_ready, sizeof worker_ready - 1) < 0)
                    _exit (1);
                zmq_msg_close (&first);
            } else {
                /* first = client identity: route the rest to it */
                zmq_msg_send (&first, front, ZMQ_SNDMORE);
                s_forward_rest (back, front);
            }
            for (int k = 0; k < credit && count < cap; k++)
                credits[(head + count++) % cap] = w;
        }
        if (count && (items[1].revents & ZMQ_POLLIN)) {
            ident_t w = credits[head];
            head = (head + 1) % cap;
            count--;
            zmq_send (back, w.id, w.size, ZMQ_SNDMORE);
            s_forward_rest (front, back); /* client id, reqid, payload */
        }
    }
    _exit (0);
}

/* --- worker ------------------------------------------------------------ */

/*  A worker: connects to the broker's backend (a CURVE client of
    server_key unless NULL), offers credits jobs in flight and echoes each
    job after spin_us of busy-waiting, until killed.  Never returns. */
static void
s_worker (const char *endpoint, const char *server_key, int credits, int spin_us)
{
    void *ctx = zmq_ctx_new ();
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    s_unlimited (sock);
    if (s_curve_client (sock, server_key) < 0 || zmq_connect (sock, endpoint) < 0)
        _exit (1);
    char ready[32];
    int n = snprintf (ready, sizeof ready, "READY%d", credits);
    zmq_send (sock, ready, n, 0);
    while (1) {
        zmq_msg_t client, reqid, payload;
        zmq_msg_init (&client);
        zmq_msg_init (&reqid);
        zmq_msg_init (&payload);
        if (zmq_msg_recv (&client, sock, 0) < 0 || zmq_msg_recv (&reqid, sock, 0) < 0
            || zmq_msg_recv (&payload, sock, 0) < 0)
            break;
        if (spin_us) {
            double until = s_now () + spin_us * 1e-6;
            while (s_now () < until)
                ;
        }
        /* the result is the input: send the same frames back */
        zmq_msg_send (&client, sock, ZMQ_SNDMORE);
        zmq_msg_send (&reqid, sock, ZMQ_SNDMORE);
        zmq_msg_send (&payload, sock, 0);
    }
    _exit (0);
}

/* --- client ------------------------------------------------------------ */

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/*  Sends count requests of size bytes (window: at most window in flight),
    receives every reply and checks it.  0 or -1. */
static int
s_batch (void *sock, size_t count, size_t window, const unsigned char *data, size_t size,
         uint64_t first_id)
{
    size_t sent = 0, received = 0;
    while (received < count) {
        while (sent < count && sent - received < window) {
            uint64_t id = first_id + sent;
            zmq_send (sock, &id, sizeof id, ZMQ_SNDMORE);
            if (size == 8) {
                uint64_t v = id * 2654435761u;
                zmq_send (sock, &v, sizeof v, 0);
            } else
                zmq_send (sock, data, size, 0);
            sent++;
        }
        zmq_msg_t reqid, payload;
        zmq_msg_init (&reqid);
        zmq_msg_init (&payload);
        if (zmq_msg_recv (&reqid, sock, 0) < 0 || zmq_msg_recv (&payload, sock, 0) < 0)
            return -1;
        uint64_t id;
        memcpy (&id, zmq_msg_data (&reqid), sizeof id);
        int ok = zmq_msg_size (&payload) == size;
        if (ok && size == 8) {
            uint64_t v = id * 2654435761u;
            ok = memcmp (zmq_msg_data (&payload), &v, 8) == 0;
        } else if (ok)
            ok = memcmp (zmq_msg_data (&payload), data, size) == 0;
        zmq_msg_close (&reqid);
        zmq_msg_close (&payload);
        if (!ok)
            return -1;
        received++;
    }
    return 0;
}

int
main (int argc, char **argv)
{
    int inflight = 1, reps = 3, workers = 2, spin_us = 0;
    size_t n = 20000, size = (size_t)64 << 20;
    double timeout = 120;
    bool curve = false;
    const char *bind_ip = "127.0.0.1", *connect_to = NULL, *server_key = NULL;
    static const struct option longopts[]
        = { { "inflight", required_argument, NULL, 'k' },
            { "reps", required_argument, NULL, 'R' },
            { "size", required_argument, NULL, 'S' },
            { "workers", required_argument, NULL, 'w' },
            { "label", required_argument, NULL, 'L' },
            { "timeout", required_argument, NULL, 'T' },
            { "curve", no_argument, NULL, 'C' },
            { "bind", required_argument, NULL, 'B' },
            { "connect", required_argument, NULL, 'c' },
            { "server-key", required_argument, NULL, 'K' },
            { "spin-us", required_argument, NULL, 's' },
            { NULL, 0, NULL, 0 } };
    if (argc < 2) {
        fprintf (stderr, "usage: zmq_broker noop|rtt|bw|ms [--inflight K] [-n N] "
                         "[--reps R] [--size BYTES] [--curve] [--connect FRONTEND]\n"
                         "       zmq_broker broker [--bind IP] [--curve]\n"
                         "       zmq_broker worker --connect BACKEND [--server-key KEY] "
                         "[--inflight K] [--spin-us US]\n");
        return 2;
    }
    s_measure = argv[1];
    optind = 2;
    int c;
    while ((c = getopt_long (argc, argv, "n:", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            n = strtoull (optarg, NULL, 10);
            break;
        case 'k':
            inflight = atoi (optarg);
            break;
        case 'R':
            reps = atoi (optarg);
            break;
        case 'S':
            size = strtoull (optarg, NULL, 10);
            break;
        case 'w':
            workers = atoi (optarg);
            break;
        case 'L':
            s_label = optarg;
            break;
        case 'T':
            timeout = atof (optarg);
            break;
        case 'C':
            curve = true;
            break;
        case 'B':
            bind_ip = optarg;
            break;
        case 'c':
            connect_to = optarg;
            break;
        case 'K':
            server_key = optarg;
            break;
        case 's':
            spin_us = atoi (optarg);
            break;
        default:
            return 2;
        }
    }
    if ((curve || server_key) && !zmq_has ("curve")) {
        fprintf (stderr, "zmq_broker: this libzmq has no CURVE\n");
        return 2;
    }
    if (strcmp (s_measure, "broker") == 0)
        s_broker (1, true, bind_ip, curve);
    if (strcmp (s_measure, "worker") == 0) {
        if (!connect_to) {
            fprintf (stderr, "zmq_broker worker: --connect BACKEND is required\n");
            return 2;
        }
        s_worker (connect_to, server_key, inflight, spin_us);
    }
    bool ms = strcmp (s_measure, "ms") == 0;
    spin_us = ms ? 1000 : 0;
    if (strcmp (s_measure, "noop") && strcmp (s_measure, "rtt")
        && strcmp (s_measure, "bw") && !ms) {
        fprintf (stderr, "zmq_broker: unknown measure '%s'\n", s_measure);
        return 2;
    }
    signal (SIGALRM, s_on_alarm);
    s_alarm_prepare (timeout);
    alarm ((unsigned)timeout);

    pid_t kids[65];
    int nkids = 0;
    char fe[256], be[256], key[41];
    if (connect_to) {
        /* broker and workers started apart (another host) */
        snprintf (fe, sizeof fe, "%s", connect_to);
    } else {
        int fds[2];
        if (pipe (fds) < 0)
            return 1;
        pid_t broker = fork ();
        if (broker == 0) {
            prctl (PR_SET_PDEATHSIG, SIGKILL);
            close (fds[0]);
            s_broker (fds[1], false, "127.0.0.1", curve);
        }
        kids[nkids++] = broker;
        close (fds[1]);
        char line[600] = "";
        ssize_t got = 0, r;
        while ((r = read (fds[0], line + got, sizeof line - 1 - got)) > 0)
            got += r;
        close (fds[0]);
        line[got] = 0;
        if (sscanf (line, "zmq_broker ready %255s %255s %40s", fe, be, key) != 3) {
            s_fail ("the broker did not start");
            kill (broker, SIGKILL);
            return 1;
        }
        server_key = curve ? key : NULL;
        for (int i = 0; i < workers && i < 64; i++) {
            pid_t pid = fork ();
            if (pid == 0) {
                prctl (PR_SET_PDEATHSIG, SIGKILL);
                s_worker (be, server_key, inflight, spin_us);
            }
            kids[nkids++] = pid;
        }
    }

    void *ctx = zmq_ctx_new ();
    void *sock = zmq_socket (ctx, ZMQ_DEALER);
    s_unlimited (sock);
    if (s_curve_client (sock, server_key) < 0 || zmq_connect (sock, fe) < 0) {
        s_fail ("cannot connect to the broker");
        for (int i = 0; i < nkids; i++)
            kill (kids[i], SIGKILL);
        return 1;
    }

    int rc = 0;
    uint64_t next_id = 0;
    if (strcmp (s_measure, "noop") == 0 || ms) {
        size_t window = 1000;
        for (int rep = 0; rep <= reps && rc == 0; rep++) {
            size_t count = rep == 0 ? (n < 200 ? n : 200) : n;
            double t0 = s_now ();
            rc = s_batch (sock, count, window, NULL, 8, next_id);
            double t = s_now () - t0;
            next_id += count;
            if (rc < 0)
                s_fail ("a reply was lost or wrong");
            else if (rep > 0 && ms) {
                s_emit ("ms_jobs_per_s", count, rep, count / t, "jobs/s");
                s_emit ("ms_efficiency", count, rep,
                        count / t / (workers * 1e6 / spin_us), "fraction");
            } else if (rep > 0)
                s_emit ("noop", count, rep, count / t, "tasks/s");
        }
    } else if (strcmp (s_measure, "rtt") == 0) {
        double *lat = malloc (n * sizeof *lat);
        for (int rep = 0; rep <= reps && rc == 0; rep++) {
            size_t count = rep == 0 ? (n < 200 ? n : 200) : n;
            for (size_t i = 0; i < count && rc == 0; i++) {
                double t0 = s_now ();
                rc = s_batch (sock, 1, 1, NULL, 8, next_id++);
                lat[i] = (s_now () - t0) * 1e6;
            }
            if (rc < 0)
                s_fail ("a reply was lost or wrong");
            else if (rep > 0) {
                qsort (lat, count, sizeof *lat, s_cmp_double);
                s_emit ("rtt_p50", count, rep, lat[(size_t)(0.50 * (count - 1) + 0.5)],
                        "us");
                s_emit ("rtt_p99", count, rep, lat[(size_t)(0.99 * (count - 1) + 0.5)],
                        "us");
            }
        }
        free (lat);
    } else {
        unsigned char *buf = malloc (size);
        for (size_t i = 0; i < size; i++)
            buf[i] = (unsigned char)(i * 131 + (i >> 12));
        for (int rep = 0; rep <= reps && rc == 0; rep++) {
            double t0 = s_now ();
            rc = s_batch (sock, 1, 1, buf, size, next_id++);
            double t = s_now () - t0;
            if (rc < 0)
                s_fail ("the echo was lost or wrong");
            else if (rep > 0)
                s_emit ("bw", size, rep, 2.0 * size / t / 1e9, "GB/s");
        }
        free (buf);
    }
    zmq_close (sock);
    zmq_ctx_term (ctx);
    for (int i = 0; i < nkids; i++)
        kill (kids[i], SIGTERM);
    for (int i = 0; i < nkids; i++)
        waitpid (kids[i], NULL, 0);
    return rc < 0 ? 1 : 0;
}
