/*  libpool/liveness.c - the client's heartbeat, on a thread of its own.

    A libpool client talks to the head only inside calls, but a program may
    compute for minutes between two calls.  The head must still tell such a
    program from a dead one (whose pools it closes, freeing the workers), so
    each pool runs this actor: its own link (proto/link, as every peer's)
    that says HELLO naming the client (role CLIENT, node = client id) and
    then heartbeats, saying HELLO again to a head that restarted.  It
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

/*  HELLO naming the client in `node`: the head knows it as that client's
    liveness link.  Built fresh for each (re)connection. */
static int
s_hello (proto_msg_t *msg, const char *client_id)
{
    char id[PROTO_ID_MAX + 1];
    proto_new_id (id, NULL);
    proto_msg_init (msg, PROTO_HELLO);
    proto_hello_t hello = { .role = PROTO_ROLE_CLIENT };
    snprintf (hello.id, sizeof hello.id, "%s", id);
    snprintf (hello.node, sizeof hello.node, "%s", client_id);
    return proto_hello_set (msg, &hello);
}

/*  Connects through proto/link as every peer does, a short while at a
    time so that a $TERM on the pipe is never kept waiting long: the link,
    or NULL when the head did not welcome us yet. */
#define CONNECT_TRY_S 0.5

static proto_link_t *
s_connect (s_args_t *args, proto_heartbeat_t *beat)
{
    proto_msg_t hello;
    proto_link_t *link = NULL;
    char error[256];
    if (s_hello (&hello, args->client_id) == PROTO_OK
        && proto_link_connect (&link, args->endpoint, &args->keys, &hello, CONNECT_TRY_S,
                               NULL, error, sizeof error)
               == PROTO_OK)
        proto_heartbeat_init (beat, proto_link_heartbeat_ms (link), INT64_MAX / 4,
                              zclock_mono ());
    proto_msg_reset (&hello);
    return link;
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = arg;
    proto_link_t *link = NULL;
    zpoller_t *poller = NULL;
    /* It only speaks: the head's silence is the main link's to judge. */
    proto_heartbeat_t beat;
    proto_heartbeat_init (&beat, 1000, INT64_MAX / 4, zclock_mono ());
    zsock_signal (pipe, 0);
    while (true) {
        if (!link) {
            /* Not welcomed yet (the head may be restarting): try again,
               listening to the pipe in between. */
            link = s_connect (args, &beat);
            zpoller_destroy (&poller);
            poller = link ? zpoller_new (pipe, proto_link_sock (link), NULL)
                          : zpoller_new (pipe, NULL);
            if (!poller)
                break;
        }
        int64_t now = zclock_mono ();
        int64_t wait = link ? proto_heartbeat_wake (&beat, now + beat.heartbeat_ms) - now
                            : (int64_t)(CONNECT_TRY_S * 1000);
        void *which = zpoller_wait (poller, wait > 0 ? (int)wait : 0);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        } else if (link && which == proto_link_sock (link)) {
            proto_msg_t msg;
            proto_msg_init (&msg, 0);
            char reason[128];
            if (proto_msg_recv (&msg, zsock_resolve (proto_link_sock (link)), reason,
                                sizeof reason)
                    == PROTO_OK
                && msg.type == PROTO_ERROR && msg.code == PROTO_CODE_UNKNOWN_PEER)
                proto_link_destroy (&link); /* a new head: HELLO again */
            proto_msg_reset (&msg);
        } else if (zpoller_terminated (poller))
            break;
        if (link && proto_heartbeat_due (&beat, zclock_mono ())) {
            proto_msg_t msg;
            proto_msg_init (&msg, PROTO_HEARTBEAT);
            proto_msg_send (&msg, zsock_resolve (proto_link_sock (link)));
            proto_msg_reset (&msg);
            proto_heartbeat_sent (&beat, zclock_mono ());
        }
    }
    if (link) {
        proto_msg_t bye;
        proto_msg_init (&bye, PROTO_BYE);
        proto_msg_send (&bye, zsock_resolve (proto_link_sock (link)));
        proto_msg_reset (&bye);
        /* Time for the BYE to go, not for a head that is away. */
        zsock_set_linger (proto_link_sock (link), 100);
    }
    zpoller_destroy (&poller);
    proto_link_destroy (&link);
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
