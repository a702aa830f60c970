/*  test/net/netlab.h - several machines on one: network namespaces joined
    by a switch with link delay, loss and rate (test/net/netswitch.c).

    Host i is the namespace "<prefix>hI" (h_netns_prefix: the harness
    deletes every namespace of the test at the end, whatever happened) with
    one interface, address 10.203.0.(I+1)/24, that exists only inside it;
    the switch is a process of the test, stopped at the end.  A test that
    cannot make namespaces (not root, no `ip`, no /dev/net/tun) is skipped
    with the reason.

    Typical use in a body: netlab_new (4, 0, 0); h_use_netns (netlab_ns
    (lab, 0)); head = h_start_head (0, true); h_set_address (head,
    netlab_addr (lab, 0)); h_use_netns (netlab_ns (lab, 1)); h_start_node
    (head, 1); ...; h_enter_netns (netlab_ns (lab, 3)) and open pools.
*/
#ifndef DCPOOL_TEST_NETLAB_H
#define DCPOOL_TEST_NETLAB_H

#include "harness.h"

typedef struct netlab netlab_t;

/* Makes hosts namespaces and the switch between them, with one-way delay
   (ms) and loss (percent) on every frame. */
netlab_t *netlab_new (int hosts, double delay_ms, double loss_pct);
/* The namespace and the address of host i (borrowed). */
const char *netlab_ns (const netlab_t *self, int host);
const char *netlab_addr (const netlab_t *self, int host);
/* The switch's port (TAP device) of host i, for "cut NAME"/"heal NAME". */
const char *netlab_port (const netlab_t *self, int host);
/* Sends the switch a command ("delay 10", "loss 5", "rate 1000", "cut
   PORT", "heal PORT"); it applies to frames that arrive afterwards. */
void netlab_set (netlab_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
/* The usual cluster of the net tests: host 0 runs the head (server only,
   start_node arguments head_extra, NULL terminated, or NULL), hosts 1 and
   2 a node with one CPU worker each (into *node1 and *node2 when not
   NULL), and the calling body moves into host 3, the client's.  Returns
   the head, whose address is set for clients. */
h_proc_t *netlab_cluster (netlab_t *self, const char *const *head_extra, h_proc_t **node1,
                          h_proc_t **node2);
/* The same, with more start_node arguments for both nodes (NULL
   terminated, or NULL), e.g. { "--insecure", NULL }. */
h_proc_t *netlab_cluster_with (netlab_t *self, const char *const *head_extra,
                               const char *const *node_extra, h_proc_t **node1,
                               h_proc_t **node2);

/* The bytes host i's interface has received and sent so far (its
   counters, as `ip -s link` shows them), into *rx and *tx: what crossed
   the switch to and from that host, every header included.  Fails the
   test when they cannot be read. */
void netlab_bytes (const netlab_t *self, int host, uint64_t *rx, uint64_t *tx);

/* Adds a second interface to host i with the given address/prefix and, when
   gateway is not NULL, a default route through it (for the join-line
   test); the interface is one end of a veth pair whose other end is in
   the same namespace: up, reaching nothing else. */
void netlab_add_interface (netlab_t *self, int host, const char *name, const char *cidr,
                           const char *gateway);

#endif
