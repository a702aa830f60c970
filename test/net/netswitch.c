/*  test/net/netswitch.c - an Ethernet switch in user space over TAP
    devices, with link delay, loss and rate, for tests and benchmarks that
    put the head, nodes and client in network namespaces of their own.

    This kernel has no netem qdisc ("Specified qdisc kind is unknown"), so
    the impairments that a real network between machines has are made
    here: every frame that enters on one port leaves on the port that
    learned its destination MAC (or on every other port when unknown or
    broadcast) after the one-way delay, unless the loss draw drops it, and
    no faster than the rate of the port it leaves by.

        netswitch --control FIFO [--delay MS] [--loss PCT] [--rate MBIT]
                  [--offload] TAP-NAME...

    Creates one TAP device per name (in the caller's namespace; the caller
    moves each into its namespace with `ip link set NAME netns NS`, which
    keeps this process's descriptor working), prints "netswitch ready" on
    stdout and runs until SIGTERM or SIGINT.  Commands, one per line,
    written to the control FIFO at any time:

        delay MS        one-way delay of every frame from now on
        loss PCT        share of frames dropped (0..100, fractions allowed)
        rate MBIT       rate of every port (0: no limit)
        cut NAME        frames to and from that port are dropped
        heal NAME       ... no longer

    Frames wait in order in one queue per outgoing port; the delay is the
    same for every frame, so the queue is also time order.  At most 64 MiB
    waits in all; beyond that frames are dropped (a full router buffer).

    --offload gives the devices TCP segmentation offload, as a machine's
    network card has (and a veth pair): the stacks hand over TCP segments
    of up to 64 KiB, each with its virtio-net header, and this switch moves
    each as one frame, where at the MTU it would take one read and one
    write per packet of the segment, on the cores the systems measured
    use.  The rate is then kept for the packets the segment stands for
    (each with its own TCP/IP and Ethernet headers, about 66 bytes); the
    loss draw drops whole segments.  Benchmarks use it; the tests, whose
    loss should fall on single packets, do not.
*/
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <endian.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PORTS_MAX 16
#define FRAME_MAX (65536 + 256) /* a 64 KiB segment, its headers */
#define SEGMENT_HEADERS 66      /* Ethernet, IPv4 and TCP with timestamps */
#define MACS_MAX 256
#define QUEUED_MAX (64u << 20)

typedef struct frame {
    struct frame *next;
    int64_t due_us; /* when it may leave */
    size_t size;
    size_t wire; /* bytes on the wire: with --offload, every packet's */
    uint8_t data[];
} frame_t;

typedef struct {
    char name[IFNAMSIZ];
    int fd;
    bool cut;
    frame_t *first; /* waiting to leave by this port */
    frame_t *last;
    int64_t free_at_us; /* the rate: when the wire is free again */
} port_t;

typedef struct {
    uint8_t mac[6];
    int port;
} mac_entry_t;

static port_t s_ports[PORTS_MAX];
static int s_nports;
static mac_entry_t s_macs[MACS_MAX];
static int s_nmacs;
static double s_delay_ms;
static double s_loss;      /* 0..1 */
static double s_rate_mbit; /* 0: none */
static size_t s_vnet;      /* --offload: the virtio-net header before each frame */
static size_t s_queued;
static volatile sig_atomic_t s_stop;
static int s_gone; /* ports whose device is gone */

static int64_t
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
s_on_signal (int signum)
{
    (void)signum;
    s_stop = 1;
}

static int
s_tap_open (const char *name)
{
    int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct ifreq ifr;
    memset (&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (s_vnet ? IFF_VNET_HDR : 0);
    snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    int size = (int)s_vnet;
    if (ioctl (fd, TUNSETIFF, &ifr) < 0
        || (s_vnet
            && (ioctl (fd, TUNSETVNETHDRSZ, &size) < 0
                || ioctl (fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
                       < 0))) {
        int err = errno;
        close (fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* The port that last sent from mac, or -1. */
static int
s_mac_port (const uint8_t *mac)
{
    for (int i = 0; i < s_nmacs; i++)
        if (memcmp (s_macs[i].mac, mac, 6) == 0)
            return s_macs[i].port;
    return -1;
}

static void
s_mac_learn (const uint8_t *mac, int port)
{
    if (mac[0] & 1)
        return; /* a group address is never a source */
    for (int i = 0; i < s_nmacs; i++)
        if (memcmp (s_macs[i].mac, mac, 6) == 0) {
            s_macs[i].port = port;
            return;
        }
    if (s_nmacs == MACS_MAX)
        s_nmacs = 0; /* forget everything: flooding relearns */
    memcpy (s_macs[s_nmacs].mac, mac, 6);
    s_macs[s_nmacs++].port = port;
}

static void
s_enqueue (int port, const uint8_t *data, size_t size, size_t wire, int64_t due_us)
{
    port_t *out = &s_ports[port];
    if (out->cut || s_queued + size > QUEUED_MAX)
        return;
    frame_t *frame = malloc (sizeof *frame + size);
    if (!frame)
        return;
    frame->next = NULL;
    frame->due_us = due_us;
    frame->size = size;
    frame->wire = wire;
    memcpy (frame->data, data, size);
    if (out->last)
        out->last->next = frame;
    else
        out->first = frame;
    out->last = frame;
    s_queued += size;
}

/*  The bytes a frame of size (virtio-net header included, with --offload)
    takes on the wire: a TCP segment is as many packets as it has
    gso_size pieces of payload, each with its own headers. */
static size_t
s_wire_size (const uint8_t *data, size_t size)
{
    if (!s_vnet)
        return size;
    struct virtio_net_hdr hdr;
    memcpy (&hdr, data, sizeof hdr);
    size_t frame = size - s_vnet;
    size_t gso = le16toh (hdr.gso_size);
    if (hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE || gso == 0 || frame <= SEGMENT_HEADERS)
        return frame;
    size_t packets = (frame - SEGMENT_HEADERS + gso - 1) / gso;
    return frame + (packets - 1) * SEGMENT_HEADERS;
}

/* A frame came in on port from: learn, draw, queue for where it goes. */
static void
s_switch (int from, const uint8_t *data, size_t size)
{
    if (size < s_vnet + 14 || s_ports[from].cut)
        return;
    const uint8_t *ether = data + s_vnet;
    s_mac_learn (ether + 6, from);
    if (s_loss > 0 && (double)random () / RAND_MAX < s_loss)
        return;
    int64_t due = s_now_us () + (int64_t)(s_delay_ms * 1000.0);
    int to = (ether[0] & 1) ? -1 : s_mac_port (ether);
    size_t wire = s_wire_size (data, size);
    for (int p = 0; p < s_nports; p++)
        if (p != from && (to < 0 || p == to))
            s_enqueue (p, data, size, wire, due);
}

/* Sends what is due on every port; returns the microseconds until the
   next frame is due (or -1 when nothing waits). */
static int64_t
s_flush (void)
{
    int64_t now = s_now_us ();
    int64_t next = -1;
    for (int p = 0; p < s_nports; p++) {
        port_t *port = &s_ports[p];
        while (port->first) {
            frame_t *frame = port->first;
            int64_t at = frame->due_us;
            if (s_rate_mbit > 0 && port->free_at_us > at)
                at = port->free_at_us;
            if (at > now) {
                if (next < 0 || at - now < next)
                    next = at - now;
                break;
            }
            if (!port->cut && port->fd >= 0) {
                ssize_t n = write (port->fd, frame->data, frame->size);
                if (n < 0 && errno == EAGAIN) {
                    next = next < 0 || next > 100 ? 100 : next;
                    break; /* the kernel's queue is full: try again soon */
                }
            }
            if (s_rate_mbit > 0) {
                int64_t wire_us = (int64_t)(frame->wire * 8.0 / s_rate_mbit);
                port->free_at_us
                    = (port->free_at_us > at ? port->free_at_us : at) + wire_us;
            }
            port->first = frame->next;
            if (!port->first)
                port->last = NULL;
            s_queued -= frame->size;
            free (frame);
        }
    }
    return next;
}

static int
s_port_named (const char *name)
{
    for (int p = 0; p < s_nports; p++)
        if (strcmp (s_ports[p].name, name) == 0)
            return p;
    return -1;
}

/* One control line. */
static void
s_command (char *line)
{
    char word[32], arg[64];
    if (sscanf (line, "%31s %63s", word, arg) != 2) {
        fprintf (stderr, "netswitch: cannot read command '%s'\n", line);
        return;
    }
    if (strcmp (word, "delay") == 0)
        s_delay_ms = atof (arg);
    else if (strcmp (word, "loss") == 0)
        s_loss = atof (arg) / 100.0;
    else if (strcmp (word, "rate") == 0)
        s_rate_mbit = atof (arg);
    else if (strcmp (word, "cut") == 0 || strcmp (word, "heal") == 0) {
        int p = s_port_named (arg);
        if (p < 0) {
            fprintf (stderr, "netswitch: no port '%s'\n", arg);
            return;
        }
        s_ports[p].cut = word[0] == 'c';
    } else {
        fprintf (stderr, "netswitch: unknown command '%s'\n", word);
        return;
    }
    fprintf (stderr, "netswitch: %s %s\n", word, arg);
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: netswitch --control FIFO [--delay MS] [--loss PCT] "
                     "[--rate MBIT] [--offload] TAP-NAME...\n");
}

int
main (int argc, char *argv[])
{
    const char *control = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp (argv[i], "--offload") == 0) {
            s_vnet = sizeof (struct virtio_net_hdr);
            i--; /* a flag without a value */
            continue;
        }
        if (i + 1 >= argc) {
            s_usage ();
            return 2;
        }
        if (strcmp (argv[i], "--control") == 0)
            control = argv[i + 1];
        else if (strcmp (argv[i], "--delay") == 0)
            s_delay_ms = atof (argv[i + 1]);
        else if (strcmp (argv[i], "--loss") == 0)
            s_loss = atof (argv[i + 1]) / 100.0;
        else if (strcmp (argv[i], "--rate") == 0)
            s_rate_mbit = atof (argv[i + 1]);
        else {
            s_usage ();
            return 2;
        }
    }
    if (!control || i >= argc || argc - i > PORTS_MAX) {
        s_usage ();
        return 2;
    }
    srandom ((unsigned)getpid ());
    /* A frame leaves when its delay is over, not up to the 50 us of timer
       slack later that Linux allows a sleep by default. */
    if (prctl (PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL))
        fprintf (stderr, "netswitch: cannot set the timer slack: %s\n", strerror (errno));
    for (; i < argc; i++) {
        port_t *port = &s_ports[s_nports];
        snprintf (port->name, sizeof port->name, "%s", argv[i]);
        port->fd = s_tap_open (argv[i]);
        if (port->fd < 0) {
            fprintf (stderr, "netswitch: cannot create TAP device %s: %s\n", argv[i],
                     strerror (errno));
            return 1;
        }
        s_nports++;
    }
    /* O_RDWR: the FIFO never reports end of file when writers come and go. */
    if (mkfifo (control, 0600) && errno != EEXIST) {
        fprintf (stderr, "netswitch: cannot make %s: %s\n", control, strerror (errno));
        return 1;
    }
    int control_fd = open (control, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (control_fd < 0) {
        fprintf (stderr, "netswitch: cannot open %s: %s\n", control, strerror (errno));
        return 1;
    }
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    printf ("netswitch ready\n");
    fflush (stdout);

    static uint8_t buffer[FRAME_MAX];
    char pending[512];
    size_t pending_len = 0;
    struct pollfd fds[PORTS_MAX + 1];
    while (!s_stop) {
        int64_t next_us = s_flush ();
        for (int p = 0; p < s_nports; p++)
            fds[p] = (struct pollfd){ .fd = s_ports[p].fd, .events = POLLIN };
        if (s_gone == s_nports)
            break; /* every device went with its namespace */
        fds[s_nports] = (struct pollfd){ .fd = control_fd, .events = POLLIN };
        /* ppoll, not poll: a wait rounded up to whole milliseconds would
           add up to 1 ms to every delay and hold rate-paced frames back */
        struct timespec timeout = { 0, 200 * 1000000 };
        if (next_us >= 0)
            timeout = (struct timespec){ .tv_sec = next_us / 1000000,
                                         .tv_nsec = (long)(next_us % 1000000) * 1000 };
        if (ppoll (fds, (nfds_t)s_nports + 1, &timeout, NULL) < 0 && errno != EINTR)
            break;
        for (int p = 0; p < s_nports; p++) {
            if (s_ports[p].fd >= 0 && (fds[p].revents & (POLLERR | POLLHUP | POLLNVAL))) {
                /* Its namespace was deleted, and the device with it. */
                close (s_ports[p].fd);
                s_ports[p].fd = -1;
                s_gone++;
                continue;
            }
            if (!(fds[p].revents & POLLIN))
                continue;
            for (int burst = 0; burst < 64; burst++) {
                ssize_t n = read (s_ports[p].fd, buffer, sizeof buffer);
                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    close (s_ports[p].fd); /* the device is gone */
                    s_ports[p].fd = -1;
                    s_gone++;
                }
                if (n <= 0)
                    break;
                s_switch (p, buffer, (size_t)n);
            }
        }
        if (fds[s_nports].revents & POLLIN) {
            ssize_t n = read (control_fd, pending + pending_len,
                              sizeof pending - 1 - pending_len);
            if (n > 0) {
                pending_len += (size_t)n;
                pending[pending_len] = 0;
                char *newline;
                while ((newline = strchr (pending, '\n'))) {
                    *newline = 0;
                    s_command (pending);
                    size_t rest = pending_len - (size_t)(newline + 1 - pending);
                    memmove (pending, newline + 1, rest);
                    pending_len = rest;
                    pending[pending_len] = 0;
                }
                if (pending_len == sizeof pending - 1)
                    pending_len = 0; /* a line too long: dropped */
            }
        }
    }
    for (int p = 0; p < s_nports; p++) {
        while (s_ports[p].first) {
            frame_t *frame = s_ports[p].first;
            s_ports[p].first = frame->next;
            free (frame);
        }
        if (s_ports[p].fd >= 0)
            close (s_ports[p].fd);
    }
    close (control_fd);
    return 0;
}
