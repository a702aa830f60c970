/*  A server address that is not host:port gives POOL_EINVAL from
    pool_open, with a message that names the address, and never aborts the
    caller's process (it used to, in zsock_set_linger, on "nocolon").
    Every bad address is refused at once, without waiting for a
    connection; the same process then opens a pool on a real head.
*/
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    const char *bad[] = { "nocolon",      "127.0.0.1:", ":23111",     "127.0.0.1:abc",
                          "127.0.0.1:-5", "",           " ",          "127.0.0.1:99999",
                          "127.0.0.1:0",  "tcp://",     "bad host:80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pool_options_t options;
        h_options (&options, head, "square");
        options.server = bad[i];
        options.connect_timeout = 30;
        pool_t *pool = NULL;
        double started = h_now ();
        int rc = pool_open (&pool, &options);
        H_CHECK (rc == POOL_EINVAL,
                 "server '%s': pool_open gave %d (%s), want "
                 "POOL_EINVAL",
                 bad[i], rc, pool_strerror (rc));
        H_CHECK (pool == NULL, "server '%s': a pool came back", bad[i]);
        char quoted[64];
        snprintf (quoted, sizeof quoted, "'%s'", bad[i]);
        H_CHECK (strstr (pool_open_error (), quoted),
                 "server '%s': the message does not name it: %s", bad[i],
                 pool_open_error ());
        H_CHECK (h_now () - started < 5, "server '%s': refused only after %.1f s", bad[i],
                 h_now () - started);
        h_log ("'%s': %s", bad[i], pool_open_error ());
    }
    /* The caller's process is whole: a good address still works. */
    pool_t *pool = h_open (head, "square", 1);
    pool_close (&pool);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_bad_server_address_gives_einval_not_abort", s_body);
}
