/*  Anyone who reaches the head's TCP port, without the password: random
    bytes, half ZMTP greetings left hanging, full greetings offering the
    wrong mechanism or followed by a garbage CURVE HELLO, and hundreds of
    connections opened and dropped.  The head stays up and, with some of
    those half-open connections still hanging, serves a correct map.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sec_util.h"

#define HANGING 20
#define DROPPED 300

static uint64_t s_state = 0x2545f4914f6cdd1dull;
static uint32_t
s_rand (void)
{
    s_state ^= s_state << 13;
    s_state ^= s_state >> 7;
    s_state ^= s_state << 17;
    return (uint32_t)s_state;
}

static int
s_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    H_CHECK (fd >= 0, "socket: %s", strerror (errno));
    struct sockaddr_in addr
        = { .sin_family = AF_INET, .sin_port = htons ((uint16_t)port) };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    H_CHECK (connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0,
             "connect to the head: %s", strerror (errno));
    return fd;
}

/* Sends what it can: the head may cut us off at any point. */
static void
s_send (int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = send (fd, p, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            return;
        p += n;
        size -= (size_t)n;
    }
}

/* A ZMTP 3.0 greeting offering mechanism. */
static void
s_greeting (uint8_t out[64], const char *mechanism)
{
    memset (out, 0, 64);
    out[0] = 0xff;
    out[9] = 0x7f;
    out[10] = 3;
    out[11] = 0;
    memcpy (out + 12, mechanism, strlen (mechanism));
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    int port = head->port;

    /* Random bytes, from a few bytes to 64 KiB. */
    static uint8_t junk[65536];
    for (int i = 0; i < 40; i++) {
        int fd = s_connect (port);
        size_t size = i == 39 ? sizeof junk : 1 + s_rand () % 4096;
        for (size_t k = 0; k < size; k++)
            junk[k] = (uint8_t)s_rand ();
        if (i % 3 == 0)
            junk[0] = 0xff; /* looks like the start of a signature */
        s_send (fd, junk, size);
        close (fd);
    }
    h_log ("sent random bytes on 40 connections");

    /* Greetings: the wrong mechanisms, a garbage CURVE HELLO, another
       ZMTP version, and a huge declared frame length. */
    static const char *mechanisms[] = { "NULL", "PLAIN", "CURVE", "GSSAPI", "XXXX" };
    for (size_t m = 0; m < sizeof mechanisms / sizeof mechanisms[0]; m++) {
        int fd = s_connect (port);
        uint8_t greeting[64];
        s_greeting (greeting, mechanisms[m]);
        s_send (fd, greeting, 64);
        /* A command frame: flags 0x04 (short command), then garbage. */
        uint8_t command[200] = { 0x04, 198, 5, 'H', 'E', 'L', 'L', 'O' };
        for (size_t k = 8; k < sizeof command; k++)
            command[k] = (uint8_t)s_rand ();
        s_send (fd, command, sizeof command);
        /* A long command declaring 2^62 bytes. */
        static const uint8_t huge[] = { 0x06, 0x40, 0, 0, 0, 0, 0, 0, 0 };
        s_send (fd, huge, sizeof huge);
        close (fd);
    }
    {
        int fd = s_connect (port);
        uint8_t greeting[64];
        s_greeting (greeting, "CURVE");
        greeting[10] = 9; /* ZMTP 9.0 */
        s_send (fd, greeting, 64);
        close (fd);
    }
    h_log ("sent broken greetings");

    /* Many connections opened and dropped at once. */
    for (int i = 0; i < DROPPED; i++)
        close (s_connect (port));
    h_log ("opened and dropped %d connections", DROPPED);

    /* Half greetings left hanging while real work goes on. */
    int hanging[HANGING];
    for (int i = 0; i < HANGING; i++) {
        hanging[i] = s_connect (port);
        uint8_t greeting[64];
        s_greeting (greeting, "CURVE");
        s_send (hanging[i], greeting, 1 + (size_t)(i % 12));
    }
    h_log ("%d half greetings hanging", HANGING);

    sec_map_square_ok (head, 2, 300);
    for (int i = 0; i < HANGING; i++)
        close (hanging[i]);
    /* And once more after they are gone. */
    sec_map_square_ok (head, 2, 100);
}

int
main (void)
{
    return h_main ("test_sec_garbage_unauthenticated_head_survives", s_body);
}
