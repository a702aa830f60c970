/*  Bad --block-store lists are refused at start, clearly, and leave
    nothing running: a server that does not answer (nothing listens on its
    port), one that refuses the password, a malformed URL (no password in
    the message), an empty entry, and --block-store without --head.  Each
    time start_node names the culprit and exits non-zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_util.h"

/*  Runs start_node --head with --block-store list in a fresh data
    directory; fails the test unless it exits non-zero saying want (and
    not secret, when given). */
static void
s_refused (const char *list, const char *want, const char *secret)
{
    static int runs;
    char dir[600];
    snprintf (dir, sizeof dir, "%s/head%d", h_tmpdir (), ++runs);
    const char *args[] = { "--head",        "-p",         "0", "-r",
                           h_password (),   "--data-dir", dir, "--server-only",
                           "--block-store", list,         NULL };
    char *out = NULL;
    double start = h_now ();
    int rc = h_run_start_node (args, h_timeout (60), &out);
    h_log ("start_node --block-store ... exited %d in %.1f s:\n%s", rc, h_now () - start,
           out);
    H_CHECK (rc != 0, "start_node accepted --block-store %s", list);
    H_CHECK (strstr (out, want), "start_node did not say '%s'", want);
    H_CHECK (!strstr (out, "dcpool head ready"), "the head said it was ready");
    H_CHECK (!secret || !strstr (out, secret), "start_node printed the password");
    free (out);
}

static void
s_body (void)
{
    ru_redis_t live;
    ru_start (&live, "live");
    int nobody = h_free_port ();
    char list[512], want[256];

    /* Nothing listens on the second server's port. */
    snprintf (list, sizeof list, "%s,redis://:pw@127.0.0.1:%d", live.url, nobody);
    snprintf (want, sizeof want, "block store redis://127.0.0.1:%d does not answer",
              nobody);
    s_refused (list, want, NULL);

    /* A wrong password. */
    snprintf (list, sizeof list, "redis://:wrong-password@127.0.0.1:%d", live.port);
    snprintf (want, sizeof want, "block store %s does not answer", live.name);
    s_refused (list, want, "wrong-password");

    /* Malformed: a port out of range, another scheme, an empty entry. */
    s_refused ("redis://:secret-pw@127.0.0.1:99999", "bad --block-store URL",
               "secret-pw");
    snprintf (list, sizeof list, "http://127.0.0.1:%d", live.port);
    s_refused (list, "bad --block-store URL", NULL);
    snprintf (list, sizeof list, "%s,,%s", live.url, live.url);
    s_refused (list, "an empty URL", NULL);
    snprintf (list, sizeof list, "%s,%s", live.url, live.url);
    s_refused (list, "in the list twice", NULL);

    /* Only a head has a block store. */
    const char *args[]
        = { "-a", "127.0.0.1", "-r", h_password (), "--block-store", live.url, NULL };
    char *out = NULL;
    int rc = h_run_start_node (args, h_timeout (30), &out);
    H_CHECK (rc != 0 && strstr (out, "--block-store"),
             "--block-store without --head: exit %d, %s", rc, out);
    free (out);
    ru_stop (&live);
}

int
main (void)
{
    return h_main ("test_shards_bad_block_store_refused_at_start", s_body);
}
