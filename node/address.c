/*  node/address.c - which of this machine's addresses to advertise. */
#include "address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*  The interface of the default IPv4 route with the lowest metric, from
    /proc/net/route ("Iface Destination Gateway Flags RefCnt Use Metric
    Mask ..."), into name; 0, or -1 when there is none. */
static int
s_default_interface (char *name, size_t size)
{
    FILE *routes = fopen ("/proc/net/route", "r");
    if (!routes)
        return -1;
    char line[256], iface[64];
    unsigned long destination, mask;
    unsigned flags, refs, use, metric;
    long best = -1;
    while (fgets (line, sizeof line, routes)) {
        if (sscanf (line, "%63s %lx %*x %x %u %u %u %lx", iface, &destination, &flags,
                    &refs, &use, &metric, &mask)
            != 7)
            continue; /* the header line */
        if (destination != 0 || mask != 0 || !(flags & 1 /* RTF_UP */))
            continue;
        if (best < 0 || (long)metric < best) {
            best = (long)metric;
            snprintf (name, size, "%s", iface);
        }
    }
    fclose (routes);
    return best < 0 ? -1 : 0;
}

/* An IPv4 address of an interface that is up and not loopback. */
static bool
s_usable (const struct ifaddrs *it)
{
    return it->ifa_addr && it->ifa_addr->sa_family == AF_INET
           && !(it->ifa_flags & IFF_LOOPBACK) && (it->ifa_flags & IFF_UP);
}

void
node_address_pick (char *out, size_t size, char *others, size_t others_size)
{
    snprintf (out, size, "127.0.0.1");
    if (others_size)
        others[0] = 0;
    char route_iface[64] = "";
    s_default_interface (route_iface, sizeof route_iface);
    struct ifaddrs *list = NULL;
    if (getifaddrs (&list))
        return;
    /* First the default route's interface, then any other. */
    bool found = false;
    for (int pass = 0; pass < 2 && !found; pass++)
        for (struct ifaddrs *it = list; it && !found; it = it->ifa_next) {
            if (!s_usable (it))
                continue;
            if (pass == 0 && strcmp (it->ifa_name, route_iface) != 0)
                continue;
            const struct sockaddr_in *in = (const struct sockaddr_in *)it->ifa_addr;
            found = inet_ntop (AF_INET, &in->sin_addr, out, (socklen_t)size) != NULL;
        }
    for (struct ifaddrs *it = list; it; it = it->ifa_next) {
        if (!s_usable (it))
            continue;
        char text[INET_ADDRSTRLEN];
        const struct sockaddr_in *in = (const struct sockaddr_in *)it->ifa_addr;
        if (!inet_ntop (AF_INET, &in->sin_addr, text, sizeof text)
            || strcmp (text, out) == 0)
            continue;
        size_t used = strlen (others);
        snprintf (others + used, others_size - used, "%s%s", used ? ", " : "", text);
    }
    freeifaddrs (list);
}
