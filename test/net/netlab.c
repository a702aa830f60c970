/*  test/net/netlab.c - network namespaces and the switch between them.
    See netlab.h. */
#include "netlab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOSTS_MAX 8
#define IFNAMSIZ_MAX 16

struct netlab {
    int hosts;
    char ns[HOSTS_MAX][64];
    char addr[HOSTS_MAX][32];
    char port[HOSTS_MAX][16];
    char control[400];
    pid_t switch_pid;
};

/* Runs `ip ARGS...` (NULL terminated); its exit status, output to the log
   only when it fails. */
static int
s_ip (const char *first, ...)
{
    const char *argv[24] = { "ip", first };
    int argc = 2;
    va_list args;
    va_start (args, first);
    const char *arg;
    while (argc < 23 && (arg = va_arg (args, const char *)))
        argv[argc++] = arg;
    va_end (args);
    argv[argc] = NULL;
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open ("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2 (null, 1);
        execvp ("ip", (char *const *)argv);
        _exit (127);
    }
    int status = 0;
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

static void
s_start_switch (netlab_t *self, double delay_ms, double loss_pct)
{
    const char *bin = getenv ("DCPOOL_TEST_NETSWITCH");
    if (!bin || access (bin, X_OK))
        h_skip ("DCPOOL_TEST_NETSWITCH does not name the netswitch program");
    snprintf (self->control, sizeof self->control, "%s/netswitch.ctl", h_tmpdir ());
    char delay[32], loss[32];
    snprintf (delay, sizeof delay, "%g", delay_ms);
    snprintf (loss, sizeof loss, "%g", loss_pct);
    const char *argv[8 + HOSTS_MAX]
        = { bin, "--control", self->control, "--delay", delay, "--loss", loss };
    int argc = 7;
    for (int i = 0; i < self->hosts; i++)
        argv[argc++] = self->port[i];
    argv[argc] = NULL;
    int out[2];
    if (pipe (out))
        H_FAIL ("pipe: %s", strerror (errno));
    char err_path[400];
    snprintf (err_path, sizeof err_path, "%s/netswitch.stderr", h_tmpdir ());
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0)
        H_FAIL ("fork: %s", strerror (errno));
    if (pid == 0) {
        int err = open (err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (err >= 0)
            dup2 (err, 2);
        dup2 (out[1], 1);
        close (out[0]);
        execv (bin, (char *const *)argv);
        _exit (127);
    }
    close (out[1]);
    h_track (pid, "netswitch");
    self->switch_pid = pid;
    /* Its one line: "netswitch ready", or nothing when it could not start. */
    char line[64] = "";
    struct pollfd pfd = { .fd = out[0], .events = POLLIN };
    if (poll (&pfd, 1, (int)(h_timeout (10) * 1000)) > 0) {
        ssize_t n = read (out[0], line, sizeof line - 1);
        line[n > 0 ? n : 0] = 0;
    }
    close (out[0]);
    if (!strstr (line, "netswitch ready"))
        h_skip ("the switch could not make its TAP devices (see %s)", err_path);
}

netlab_t *
netlab_new (int hosts, double delay_ms, double loss_pct)
{
    if (hosts < 1 || hosts > HOSTS_MAX)
        H_FAIL ("netlab: %d hosts, at most %d", hosts, HOSTS_MAX);
    if (geteuid () != 0)
        h_skip ("network namespaces need root");
    if (access ("/dev/net/tun", R_OK | W_OK))
        h_skip ("no /dev/net/tun: the switch cannot make TAP devices");
    /* One lab for the test's life, freed with the process (kept here, so
       it stays reachable): the harness removes what it stands for. */
    static netlab_t *s_lab;
    netlab_t *self = calloc (1, sizeof *self);
    if (!self)
        H_FAIL ("out of memory");
    free (s_lab);
    s_lab = self;
    self->hosts = hosts;
    /* Interface names have 15 characters at most: "dcp", a pid of up to
       7 digits, "t" and the host's digit.  The whole pid, so that tests
       running side by side never share a name. */
    int tag = (int)getpid ();
    for (int i = 0; i < hosts; i++) {
        snprintf (self->ns[i], sizeof self->ns[i], "%sh%d", h_netns_prefix (), i);
        snprintf (self->addr[i], sizeof self->addr[i], "10.203.0.%d", i + 1);
        snprintf (self->port[i], sizeof self->port[i], "dcp%dt%d", tag, i);
        if (s_ip ("netns", "add", self->ns[i], NULL))
            h_skip ("cannot make network namespace %s (ip netns add)", self->ns[i]);
        s_ip ("-n", self->ns[i], "link", "set", "lo", "up", NULL);
    }
    s_start_switch (self, delay_ms, loss_pct);
    for (int i = 0; i < hosts; i++) {
        char cidr[40];
        snprintf (cidr, sizeof cidr, "%s/24", self->addr[i]);
        if (s_ip ("link", "set", self->port[i], "netns", self->ns[i], NULL)
            || s_ip ("-n", self->ns[i], "addr", "add", cidr, "dev", self->port[i], NULL)
            || s_ip ("-n", self->ns[i], "link", "set", self->port[i], "up", NULL))
            H_FAIL ("netlab: cannot set up %s in %s", self->port[i], self->ns[i]);
    }
    h_log ("netlab: %d hosts (10.203.0.1..%d), one-way delay %g ms, loss %g%%", hosts,
           hosts, delay_ms, loss_pct);
    return self;
}

const char *
netlab_ns (const netlab_t *self, int host)
{
    return self->ns[host];
}

const char *
netlab_addr (const netlab_t *self, int host)
{
    return self->addr[host];
}

const char *
netlab_port (const netlab_t *self, int host)
{
    return self->port[host];
}

void
netlab_set (netlab_t *self, const char *format, ...)
{
    char line[256];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line - 1, format, args);
    va_end (args);
    strcat (line, "\n");
    int fd = open (self->control, O_WRONLY | O_NONBLOCK);
    if (fd < 0 || write (fd, line, strlen (line)) != (ssize_t)strlen (line))
        H_FAIL ("netlab: cannot tell the switch '%s': %s", format, strerror (errno));
    close (fd);
    line[strcspn (line, "\n")] = 0;
    h_log ("netlab: %s", line);
}

h_proc_t *
netlab_cluster (netlab_t *self, const char *const *head_extra, h_proc_t **node1,
                h_proc_t **node2)
{
    return netlab_cluster_with (self, head_extra, NULL, node1, node2);
}

h_proc_t *
netlab_cluster_with (netlab_t *self, const char *const *head_extra,
                     const char *const *node_extra, h_proc_t **node1, h_proc_t **node2)
{
    if (self->hosts < 4)
        H_FAIL ("netlab_cluster wants 4 hosts, the lab has %d", self->hosts);
    h_use_netns (self->ns[0]);
    h_proc_t *head = h_start_head_with (0, true, head_extra);
    h_set_address (head, self->addr[0]);
    h_use_netns (self->ns[1]);
    h_proc_t *first = h_start_node_with (head, 1, node_extra);
    h_use_netns (self->ns[2]);
    h_proc_t *second = h_start_node_with (head, 1, node_extra);
    h_use_netns (NULL);
    h_enter_netns (self->ns[3]);
    if (node1)
        *node1 = first;
    if (node2)
        *node2 = second;
    return head;
}

void
netlab_bytes (const netlab_t *self, int host, uint64_t *rx, uint64_t *tx)
{
    char command[200];
    snprintf (command, sizeof command, "ip -n %s -s link show dev %s", self->ns[host],
              self->port[host]);
    fflush (NULL);
    FILE *out = popen (command, "r");
    if (!out)
        H_FAIL ("netlab: cannot run '%s': %s", command, strerror (errno));
    /* "    RX:  bytes packets ..." then a line of numbers, the same for TX. */
    char line[512];
    int found = 0;
    uint64_t *next = NULL;
    while (fgets (line, sizeof line, out)) {
        unsigned long long bytes;
        if (next && sscanf (line, "%llu", &bytes) == 1) {
            *next = bytes;
            found++;
        }
        next = strstr (line, "RX:") ? rx : strstr (line, "TX:") ? tx : NULL;
    }
    int status = pclose (out);
    if (status != 0 || found != 2)
        H_FAIL ("netlab: '%s' gave no byte counts (exit %d)", command, status);
}

void
netlab_add_interface (netlab_t *self, int host, const char *name, const char *cidr,
                      const char *gateway)
{
    const char *ns = self->ns[host];
    /* A veth pair with both ends in the namespace (this kernel has no
       dummy devices): the address on one end, the other end only up. */
    char peer[IFNAMSIZ_MAX];
    snprintf (peer, sizeof peer, "%.12sp", name);
    if (s_ip ("-n", ns, "link", "add", name, "type", "veth", "peer", "name", peer, NULL)
        || s_ip ("-n", ns, "addr", "add", cidr, "dev", name, NULL)
        || s_ip ("-n", ns, "link", "set", peer, "up", NULL)
        || s_ip ("-n", ns, "link", "set", name, "up", NULL))
        h_skip ("cannot add a veth interface in %s", ns);
    if (gateway
        && s_ip ("-n", ns, "route", "add", "default", "via", gateway, "dev", name, NULL))
        H_FAIL ("netlab: cannot route through %s in %s", gateway, ns);
}
