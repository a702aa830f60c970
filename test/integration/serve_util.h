/*  test/integration/serve_util.h - start_node --serve and curl, for the
    tests of published functions (issue 17).

    The serve process is started like a user would (start_node --serve 0
    --library serve_echo.so -a 127.0.0.1 -p PORT, the password in
    DCPOOL_PASSWORD) and found ready by its "dcpool serve ready: url=..."
    line; requests go through the curl program, as a user's would.
*/
#ifndef DCPOOL_TEST_SERVE_UTIL_H
#define DCPOOL_TEST_SERVE_UTIL_H

#include "harness.h"

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    char url[128];   /* http://ADDR:PORT/run */
    char host[64];   /* ADDR */
    int port;        /* the HTTP port */
    char said[1024]; /* what it printed on stdout up to its ready lines */
    char log[300];   /* its stderr */
} serve_proc_t;

/*  Starts the serve_echo function on head's cluster with more start_node
    arguments (NULL terminated; NULL: none) and waits for its ready line
    (it then prints the line about who can reach it).  Fails the test when
    it does not say it is ready in time. */
void serve_start (serve_proc_t *serve, const h_proc_t *head, const char *const *extra);

/*  SIGTERM; its exit code (fails the test when it hangs). */
int serve_stop (serve_proc_t *serve);

/*  One curl POST of body[size] to url: the HTTP status (0 when curl got
    no answer at all), the answer's body into *out, *out_size (caller
    frees; may be NULL). */
int serve_post (const char *url, const void *body, size_t size, char **out,
                size_t *out_size);

/*  Runs argv (argv[0] found on PATH) to its end, stdout into *out (caller
    frees, NUL-terminated); its exit code.  Fails the test past timeout
    seconds. */
int serve_run_program (const char *const *argv, double timeout, char **out);

/*  The whole file at path (caller frees), its size into *size; NULL when
    it cannot be read. */
char *serve_read_file (const char *path, size_t *size);

#endif
