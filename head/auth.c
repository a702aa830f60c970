/*  head/auth.c - ZAP (RFC 27) handler accepting the derived client key. */
#include "auth.h"

#include <string.h>

zsock_t *
head_auth_new (void)
{
    return zsock_new_rep ("inproc://zeromq.zap.01");
}

int
head_auth_handle (zsock_t *sock, const proto_keys_t *keys, bool verbose)
{
    zmsg_t *request = zmsg_recv (sock);
    if (!request)
        return -1;
    /* version, request id, domain, address, identity, mechanism, creds */
    char *version = zmsg_popstr (request);
    zframe_t *request_id = zmsg_pop (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *identity = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *credentials = zmsg_pop (request);

    const char *status = "400";
    const char *text = "malformed ZAP request";
    if (version && streq (version, "1.0") && request_id && mechanism) {
        uint8_t expected[32];
        if (streq (mechanism, "CURVE") && credentials && zframe_size (credentials) == 32
            && zmq_z85_decode (expected, keys->client_public)
            && memcmp (expected, zframe_data (credentials), 32) == 0) {
            status = "200";
            text = "OK";
        } else {
            status = "400";
            text = "unknown client key: wrong password";
        }
    }
    if (verbose || streq (status, "400"))
        zsys_info ("pool-head: %s handshake from %s: %s",
                   streq (status, "200") ? "accepted" : "refused",
                   address ? address : "?", text);

    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    if (request_id)
        zmsg_append (reply, &request_id);
    else
        zmsg_addstr (reply, "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, "");      /* user id */
    zmsg_addmem (reply, NULL, 0); /* metadata */
    int rc = zmsg_send (&reply, sock);

    zframe_destroy (&request_id);
    zframe_destroy (&credentials);
    zstr_free (&version);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&identity);
    zstr_free (&mechanism);
    zmsg_destroy (&request);
    return rc == 0 && streq (status, "200") ? 0 : -1;
}
