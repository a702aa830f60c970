/*  A client that sets no output callback sees its workers' lines on its
    own stderr, each as "(worker-id) line": the client here is a forked
    process whose stderr is a file the test reads back.
*/
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output_util.h"

static const h_proc_t *s_head;
static char s_path[400];

/*  The file's lines that start with "(" NODEID "/w" and end in ") " text:
    how many. */
static int
s_tagged (const char *text)
{
    FILE *file = fopen (s_path, "r");
    if (!file)
        return 0;
    char line[512], prefix[200];
    snprintf (prefix, sizeof prefix, "(%s/w", s_head->id);
    int n = 0;
    while (fgets (line, sizeof line, file)) {
        line[strcspn (line, "\n")] = 0;
        const char *close = strstr (line, ") ");
        if (strncmp (line, prefix, strlen (prefix)) == 0 && close
            && strcmp (close + 2, text) == 0)
            n++;
    }
    fclose (file);
    return n;
}

static int
s_client (void *arg)
{
    int fd = open (s_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || dup2 (fd, 2) < 0)
        return 2;
    close (fd);
    pool_t *pool = ou_open (s_head, "beta", NULL, 1, 1);
    static const char *const two[] = { "2" };
    ou_map (pool, two, 1);
    /* The lines come through the node: pump until they are there. */
    static const char *const nothing[] = { "0" };
    double deadline = h_now () + h_timeout (30);
    while (!(s_tagged ("beta run out 1") && s_tagged ("beta run err 1"))
           && h_now () < deadline)
        ou_map (pool, nothing, 1);
    pool_close (&pool);
    return 0;
}

static void
s_body (void)
{
    s_head = h_start_head (1, false);
    snprintf (s_path, sizeof s_path, "%s/client.stderr", h_tmpdir ());
    int code = h_wait (h_fork (s_client, NULL), h_timeout (90));
    H_CHECK (code == 0, "the client exited %d", code);
    static const char *const want[]
        = { "beta init out",  "beta init err",  "beta run out 0",
            "beta run out 1", "beta run err 0", "beta run err 1" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        H_CHECK (s_tagged (want[i]) == 1,
                 "the client's stderr (%s) has '%s' %d times "
                 "as '(%s/wK) %s'",
                 s_path, want[i], s_tagged (want[i]), s_head->id, want[i]);
    h_stop ((h_proc_t *)s_head);
}

int
main (void)
{
    return h_main ("test_output_without_callback_goes_to_client_stderr", s_body);
}
