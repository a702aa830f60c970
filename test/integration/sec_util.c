/*  test/integration/sec_util.c - see sec_util.h. */
#include "sec_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sec_map_square_ok (const h_proc_t *head, int workers, int n)
{
    pool_t *pool = h_open (head, "square", workers);
    pool_bytes_t *inputs = calloc ((size_t)n, sizeof *inputs);
    pool_result_t *results = calloc ((size_t)n, sizeof *results);
    char (*texts)[24] = calloc ((size_t)n, sizeof *texts);
    H_CHECK (inputs && results && texts, "out of memory");
    for (int i = 0; i < n; i++) {
        snprintf (texts[i], sizeof texts[i], "%d", i);
        inputs[i] = (pool_bytes_t){ texts[i], strlen (texts[i]) };
    }
    int rc = pool_map (pool, inputs, (size_t)n, results);
    H_CHECK (rc == 0, "pool_map: %s: %s", pool_strerror (rc), pool_last_error (pool));
    for (int i = 0; i < n; i++) {
        char want[32];
        snprintf (want, sizeof want, "%" PRId64, h_square (i));
        H_CHECK (results[i].status == 0 && results[i].value.size == strlen (want)
                     && memcmp (results[i].value.data, want, strlen (want)) == 0,
                 "input %d: status %d, '%.*s', want '%s'", i, results[i].status,
                 (int)results[i].value.size,
                 results[i].value.data ? (const char *)results[i].value.data : "", want);
    }
    pool_results_release (pool, results, (size_t)n);
    pool_close (&pool);
    free (inputs);
    free (results);
    free (texts);
    h_log ("a map of %d inputs on %d workers is correct", n, workers);
}

const proto_keys_t *
sec_keys (const char *password)
{
    static struct {
        char password[128];
        proto_keys_t keys;
    } cache[4];
    static int used;
    for (int i = 0; i < used; i++)
        if (strcmp (cache[i].password, password ? password : "") == 0)
            return &cache[i].keys;
    H_CHECK (used < 4, "too many passwords");
    snprintf (cache[used].password, sizeof cache[used].password, "%s",
              password ? password : "");
    H_CHECK (
        proto_keys_derive (&cache[used].keys, password ? password : "", password == NULL)
            == 0,
        "proto_keys_derive");
    return &cache[used++].keys;
}

proto_link_t *
sec_raw_peer (const h_proc_t *head, const char *password, proto_role_t role,
              const char *id)
{
    proto_msg_t hello;
    proto_msg_init (&hello, PROTO_HELLO);
    proto_msg_set_role (&hello, role);
    proto_msg_set_id (&hello, id);
    if (role == PROTO_ROLE_NODE) {
        proto_msg_set_text (&hello, "raw-test-peer");
        proto_msg_add_num (&hello, 0);
    }
    proto_link_t *link = NULL;
    char error[512] = "";
    int rc = proto_link_connect (&link, head->server, sec_keys (password), &hello,
                                 h_timeout (10), NULL, error, sizeof error);
    proto_msg_reset (&hello);
    H_CHECK (rc == PROTO_OK, "raw peer %s: %s", id, error);
    return link;
}

int
sec_recv (zsock_t *sock, double timeout, proto_msg_t *msg, char *reason,
          size_t reason_size)
{
    double deadline = h_now () + timeout;
    while (true) {
        double left = deadline - h_now ();
        if (left <= 0)
            return PROTO_EIO;
        zsock_set_rcvtimeo (sock, (int)(left * 1000) + 1);
        int rc = proto_msg_recv (msg, zsock_resolve (sock), reason, reason_size);
        if (rc == PROTO_EIO)
            return rc;
        if (rc == PROTO_OK && msg->type == PROTO_HEARTBEAT)
            continue;
        return rc;
    }
}

void
sec_expect_alive (zsock_t *sock, const char *what, int *errors)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_STATUS_REQ);
    H_CHECK (proto_msg_send (&msg, zsock_resolve (sock)) == PROTO_OK,
             "send STATUS_REQ after %s", what);
    double deadline = h_now () + h_timeout (15);
    while (true) {
        char reason[256] = "";
        int rc = sec_recv (sock, deadline - h_now (), &msg, reason, sizeof reason);
        H_CHECK (rc != PROTO_EIO, "no STATUS from the head after %s", what);
        H_CHECK (rc == PROTO_OK, "the head sent something undecodable after %s: %s", what,
                 reason);
        if (msg.type == PROTO_STATUS)
            break;
        if (msg.type == PROTO_ERROR && errors)
            ++*errors;
        if (getenv ("DCPOOL_TEST_VERBOSE"))
            h_log ("after %s: %s %lld '%s'", what, proto_type_name (msg.type),
                   (long long)msg.code, msg.text ? msg.text : "");
    }
    proto_msg_reset (&msg);
}

void
sec_send_raw (zsock_t *sock, int nframes, const void *const *frames, const size_t *sizes)
{
    zmsg_t *msg = zmsg_new ();
    for (int i = 0; i < nframes; i++)
        zmsg_addmem (msg, frames[i], sizes[i]);
    H_CHECK (zmsg_send (&msg, sock) == 0, "send raw frames");
}

void
sec_send_pool_open (zsock_t *sock, const char *name, const uint8_t *lib, size_t lib_size)
{
    proto_msg_t msg;
    proto_msg_init (&msg, PROTO_POOL_OPEN);
    uint8_t hash[PROTO_HASH_SIZE];
    proto_msg_set_text (&msg, "%s", name);
    proto_hash (lib, lib_size, hash);
    proto_msg_add_hash (&msg, hash);
    proto_hash ("", 0, hash);
    proto_msg_add_hash (&msg, hash);
    const uint64_t nums[] = { 1, 0, 1, 0 };
    for (int i = 0; i < 4; i++)
        proto_msg_add_num (&msg, nums[i]);
    proto_msg_add_bytes (&msg, lib, lib_size);
    proto_msg_add_bytes (&msg, "", 0);
    int rc = proto_msg_send (&msg, zsock_resolve (sock));
    proto_msg_reset (&msg);
    H_CHECK (rc == PROTO_OK, "POOL_OPEN");
}

char *
sec_raw_open_error (const h_proc_t *head, const char *name, const uint8_t *lib,
                    size_t lib_size, int *code)
{
    proto_link_t *link
        = sec_raw_peer (head, h_password (), PROTO_ROLE_CLIENT, "raw-open-client");
    zsock_t *sock = proto_link_sock (link);
    sec_send_pool_open (sock, name, lib, lib_size);
    proto_msg_t msg;
    proto_msg_init (&msg, 0);
    char *text = NULL;
    double deadline = h_now () + h_timeout (30);
    while (!text) {
        char reason[256] = "";
        int rc = sec_recv (sock, deadline - h_now (), &msg, reason, sizeof reason);
        H_CHECK (rc != PROTO_EIO, "no ERROR for the pool of %s", name);
        H_CHECK (rc == PROTO_OK, "undecodable answer: %s", reason);
        h_log ("raw POOL_OPEN of %s: got %s", name, proto_type_name (msg.type));
        if (msg.type == PROTO_ERROR) {
            text = strdup (msg.text ? msg.text : "");
            H_CHECK (text, "out of memory");
            if (code)
                *code = (int)msg.code;
        }
    }
    proto_msg_reset (&msg);
    proto_msg_init (&msg, PROTO_BYE);
    proto_msg_send (&msg, zsock_resolve (sock));
    proto_msg_reset (&msg);
    proto_link_destroy (&link);
    return text;
}

uint8_t *
sec_read_file (const char *path, size_t *size)
{
    FILE *f = fopen (path, "rb");
    H_CHECK (f, "open %s", path);
    fseek (f, 0, SEEK_END);
    *size = (size_t)ftell (f);
    fseek (f, 0, SEEK_SET);
    uint8_t *data = malloc (*size);
    H_CHECK (data && fread (data, 1, *size, f) == *size, "read %s", path);
    fclose (f);
    return data;
}
