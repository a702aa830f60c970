/*  test/integration/sec_util.h - what the security tests share: a correct
    map as the proof that a head survived, and a raw peer that speaks the
    protocol with the derived keys (or none) to send what libpool never
    would. */
#ifndef DCPOOL_TEST_SEC_UTIL_H
#define DCPOOL_TEST_SEC_UTIL_H

#include <czmq.h>
#include <stdbool.h>

#include "harness.h"
#include "keys.h"
#include "link.h"
#include "msg.h"

/* Opens a square pool with `workers` workers on head, maps n inputs,
   checks every result, closes it; fails the test on anything wrong. */
void sec_map_square_ok (const h_proc_t *head, int workers, int n);

/* A DEALER connected to head with keys derived from password (NULL:
   insecure) that said HELLO as role and got WELCOME; fails the test
   otherwise.  Caller destroys the link. */
proto_link_t *sec_raw_peer (const h_proc_t *head, const char *password, proto_role_t role,
                            const char *id);

/* Waits up to timeout seconds for the next message that is not a
   HEARTBEAT; PROTO_OK and *msg, PROTO_EIO on timeout, or the decoder's
   code (with reason). */
int sec_recv (zsock_t *sock, double timeout, proto_msg_t *msg, char *reason,
              size_t reason_size);

/* Sends STATUS_REQ and waits for STATUS, skipping what comes before
   (ERRORs answering earlier garbage, counted into *errors when not NULL);
   fails the test when no STATUS comes within the timeout. */
void sec_expect_alive (zsock_t *sock, const char *what, int *errors);

/* Sends raw frames as one message (sizes[i] bytes of frames[i]). */
void sec_send_raw (zsock_t *sock, int nframes, const void *const *frames,
                   const size_t *sizes);

/* Derives keys once per password per process (Argon2id is slow). */
const proto_keys_t *sec_keys (const char *password);

/* Sends POOL_OPEN for a library of the given name and bytes, empty init
   data, max_attempts 1, min_workers 1; the answer is the caller's to read. */
void sec_send_pool_open (zsock_t *sock, const char *name, const uint8_t *lib,
                         size_t lib_size);

/* Opens a pool of that library as a raw client, past libpool's own
   checks, and waits for the head's ERROR: its text (caller frees), its
   code into *code when not NULL.  Fails the test when none comes. */
char *sec_raw_open_error (const h_proc_t *head, const char *name, const uint8_t *lib,
                          size_t lib_size, int *code);

/* The bytes of the file at path (malloc'd, caller frees) and their
   count; fails the test when it cannot be read. */
uint8_t *sec_read_file (const char *path, size_t *size);

#endif
