/*  The join line that `start_node --head` prints names the address of the
    interface that carries the default route, not merely the first
    interface that is up (a host whose docker0 came before its real
    interface used to print 172.17.0.1, which no other machine reaches),
    lists the machine's other addresses as alternatives, and
    --advertise ADDR puts ADDR there instead.
*/
#include <stdio.h>
#include <string.h>

#include "netlab.h"

static void
s_body (void)
{
    /* Like a host whose docker0 was made before its real interface: the
       switch's (10.203.0.1), then docker0 (172.17.0.1), then uplink0,
       which carries the default route. */
    netlab_t *lab = netlab_new (1, 0, 0);
    netlab_add_interface (lab, 0, "docker0", "172.17.0.1/16", NULL);
    netlab_add_interface (lab, 0, "uplink0", "10.77.0.1/24", "10.77.0.254");
    h_use_netns (netlab_ns (lab, 0));

    h_proc_t *head = h_start_head (1, false);
    h_log ("start_node printed:\n%.*s", (int)head->out_len, head->out);
    H_CHECK (strstr (head->out, "start_node -a 10.77.0.1 "),
             "the join line does not name the default route's address 10.77.0.1");
    H_CHECK (strstr (head->out, "10.203.0.1") && strstr (head->out, "172.17.0.1"),
             "the other addresses, 10.203.0.1 and 172.17.0.1, are not offered as "
             "alternatives");
    h_stop (head);

    const char *advertise[] = { "--advertise", "203.0.113.7", NULL };
    h_proc_t *second = h_start_head_with (1, false, advertise);
    H_CHECK (strstr (second->out, "start_node -a 203.0.113.7 "),
             "--advertise 203.0.113.7 is not in the join line:\n%.*s",
             (int)second->out_len, second->out);
    h_stop (second);
}

int
main (void)
{
    return h_main ("test_net_join_line_names_the_default_route_address", s_body);
}
