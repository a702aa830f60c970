/*  test/integration/http_util.h - what the HTTP tests share (issue 17): a
    head started with --http on a free port, GET through curl (a real
    client, run as a process), raw TCP connections for what curl never
    sends, and the programs the tests need (curl, prometheus, chromium),
    found on PATH or the test skipped. */
#ifndef DCPOOL_TEST_HTTP_UTIL_H
#define DCPOOL_TEST_HTTP_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

/*  Starts a head with cpu_workers workers serving HTTP on a free port of
    bind (NULL: the default, 127.0.0.1); its port in *http_port. */
h_proc_t *hu_start_head (int cpu_workers, const char *bind, int *http_port);

/*  GET url with curl (password: basic auth as user "dcpool", or NULL):
    the HTTP status (0 when curl got none), the body in *body (caller
    frees; may be NULL). */
int hu_get (const char *url, const char *password, char **body);

/*  A program's path on PATH, or NULL. */
const char *hu_which (const char *name, char *path, size_t size);

/*  A TCP connection to addr:port (fails the test otherwise). */
int hu_connect (const char *addr, int port);

/*  Reads what the server sends until it closes the connection or timeout
    seconds pass: bytes read into buf (NUL-terminated, at most size - 1),
    *closed set when it closed (or reset) the connection. */
size_t hu_read_until_close (int fd, char *buf, size_t size, double timeout, bool *closed);

#endif
