/*  libpool/liveness.c - the client's heartbeat, on a thread of its own.

    A libpool client talks to the head only inside calls, but a program may
    compute for minutes between two calls.  The head must still tell such a
    program from a dead one (whose pools it closes, freeing the workers), so
    each pool runs this actor: its own DEALER link that says HELLO naming
    the client (role CLIENT, node = client id) and then heartbeats.  It
    shares nothing with the calling thread but the pipe (STYLE rule 6).
*/
#include "pool_private.h"

#include <sodium.h>
#include <string.h>

typedef struct {
    char endpoint[300];
    proto_keys_t keys;
    char client_id[PROTO_ID_MAX + 1];
} s_args_t;

static int
s_hello (zsock_t *sock, const char *client_id)
{
    char id[PROTO_ID_MAX + 1];
    proto_new_id (id, NULL);
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_HELLO);
    /* A HELLO naming the client in `node`: its liveness link. */
    proto_hello_t hello = { .role = PROTO_ROLE_CLIENT };
    snprintf (hello.id, sizeof hello.id, "%s", id);
    snprintf (hello.node, sizeof hello.node, "%s", client_id);
    int rc = proto_hello_set (&msg, &hello);
    if (rc == PROTO_OK)
        rc = proto_msg_send (&msg, zsock_resolve (sock));
    proto_msg_reset (&msg);
    return rc;
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = arg;
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    zpoller_t *poller = NULL;
    /* It only speaks: the head's silence is the main link's to judge. */
    proto_heartbeat_t beat;
    proto_heartbeat_init (&beat, 1000, INT64_MAX / 4, zclock_mono ());
    if (!sock)
        goto done;
    zsock_set_linger (sock, 0);
    zsock_set_sndhwm (sock, 100); /* a head that is away needs no backlog */
    zsock_set_reconnect_ivl (sock, 100);
    zsock_set_reconnect_ivl_max (sock, 1000);
    proto_keys_apply_client (&args->keys, sock);
    if (zsock_connect (sock, "%s", args->endpoint) || s_hello (sock, args->client_id))
        goto done;
    poller = zpoller_new (pipe, sock, NULL);
    if (!poller)
        goto done;
    zsock_signal (pipe, 0);
    while (true) {
        int64_t now = zclock_mono ();
        int64_t wait = proto_heartbeat_wake (&beat, now + beat.heartbeat_ms) - now;
        void *which = zpoller_wait (poller, wait > 0 ? (int)wait : 0);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        } else if (which == sock) {
            proto_msg_t msg;
            proto_msg_init (&msg, 0);
            char reason[128];
            if (proto_msg_recv (&msg, zsock_resolve (sock), reason, sizeof reason)
                == PROTO_OK) {
                proto_welcome_t welcome;
                if (msg.type == PROTO_WELCOME
                    && proto_welcome_get (&msg, &welcome) == PROTO_OK)
                    beat.heartbeat_ms = welcome.heartbeat_ms;
                else if (msg.type == PROTO_ERROR && msg.code == PROTO_CODE_UNKNOWN_PEER)
                    s_hello (sock, args->client_id); /* a new head */
            }
            proto_msg_reset (&msg);
        } else if (zpoller_terminated (poller))
            break;
        if (proto_heartbeat_due (&beat, zclock_mono ())) {
            proto_msg_t msg;
            proto_msg_init (&msg, PROTO_HEARTBEAT);
            proto_msg_send (&msg, zsock_resolve (sock));
            proto_msg_reset (&msg);
            proto_heartbeat_sent (&beat, zclock_mono ());
        }
    }
    proto_msg_t bye;
    proto_msg_init (&bye, PROTO_BYE);
    proto_msg_send (&bye, zsock_resolve (sock));
    proto_msg_reset (&bye);
    zpoller_destroy (&poller);
    zsock_destroy (&sock);
    sodium_memzero (&args->keys, sizeof args->keys);
    free (args);
    return;
done:
    zsock_signal (pipe, 1);
    zpoller_destroy (&poller);
    zsock_destroy (&sock);
    sodium_memzero (&args->keys, sizeof args->keys);
    free (args);
}

zactor_t *
pool_liveness_new (const char *server, const proto_keys_t *keys, const char *client_id)
{
    s_args_t *args = calloc (1, sizeof *args);
    if (!args)
        return NULL;
    if (proto_endpoint (server, args->endpoint, sizeof args->endpoint)) {
        free (args);
        return NULL;
    }
    args->keys = *keys;
    snprintf (args->client_id, sizeof args->client_id, "%s", client_id);
    /* The actor owns args from here, also when it fails to start. */
    return zactor_new (s_actor, args);
}
