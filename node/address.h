/*  node/address.h - the address other machines should use to reach this
    one, for the join line that `start_node --head` prints. */
#ifndef DCPOOL_NODE_ADDRESS_H
#define DCPOOL_NODE_ADDRESS_H

#include <stddef.h>

/*  The IPv4 address of the interface that carries the default route (the
    one that reaches other networks), else of the first interface that is
    up and not loopback, else 127.0.0.1, into out; every other such address
    of this machine, comma-separated, into others ("" when none).  A host
    with docker0 or a VPN interface made before its real one no longer
    names an address nobody else can reach. */
void node_address_pick (char *out, size_t size, char *others, size_t others_size);

#endif
