/*  start_node --serve (issue 17): 200 requests at once (curl --parallel,
    200 connections) with 200 distinct inputs each get exactly one
    answer, 200 OK, with the output of their own input; the server then
    answers a plain request as before.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_util.h"

enum { N = 200 };

static void
s_body (void)
{
    h_proc_t *head = h_start_head (2, false);
    serve_proc_t serve;
    serve_start (&serve, head, NULL);

    char config[300];
    snprintf (config, sizeof config, "%s/curl.conf", h_tmpdir ());
    FILE *file = fopen (config, "w");
    H_CHECK (file, "cannot write %s", config);
    for (int i = 0; i < N; i++) {
        fprintf (file, "url = \"%s\"\n", serve.url);
        fprintf (file, "data-binary = \"input-%d-of-%d\"\n", i, N);
        fprintf (file, "output = \"%s/answer%d\"\n", h_tmpdir (), i);
        fprintf (file, "write-out = \"%d %%{http_code}\\n\"\n", i);
        if (i + 1 < N)
            fprintf (file, "next\n");
    }
    H_CHECK (fclose (file) == 0, "cannot write %s", config);
    const char *argv[] = { "curl",
                           "-s",
                           "--parallel",
                           "--parallel-immediate",
                           "--parallel-max",
                           "200",
                           "--max-time",
                           "120",
                           "-K",
                           config,
                           NULL };
    char *said = NULL;
    double started = h_now ();
    int code = serve_run_program (argv, h_timeout (150), &said);
    h_log ("%d concurrent requests answered in %.2f s", N, h_now () - started);
    H_CHECK (code == 0, "curl exited %d; it printed:\n%s", code, said);

    /* Exactly one line per request, each 200. */
    static int answers[N];
    int lines = 0;
    for (char *line = strtok (said, "\n"); line; line = strtok (NULL, "\n")) {
        int i = -1, status = 0;
        H_CHECK (sscanf (line, "%d %d", &i, &status) == 2 && i >= 0 && i < N,
                 "curl line '%s'", line);
        H_CHECK (status == 200, "request %d: status %d", i, status);
        answers[i]++;
        lines++;
    }
    free (said);
    H_CHECK (lines == N, "%d answers for %d requests", lines, N);
    for (int i = 0; i < N; i++) {
        H_CHECK (answers[i] == 1, "request %d: %d answers", i, answers[i]);
        char path[340], want[64];
        snprintf (path, sizeof path, "%s/answer%d", h_tmpdir (), i);
        snprintf (want, sizeof want, "echo:input-%d-of-%d", i, N);
        size_t size = 0;
        char *body = serve_read_file (path, &size);
        H_CHECK (body && size == strlen (want) && memcmp (body, want, size) == 0,
                 "request %d: answer '%s', want '%s'", i, body ? body : "(none)", want);
        free (body);
    }

    h_log ("every answer checked");
    char *out = NULL;
    H_CHECK (serve_post (serve.url, "after", 5, &out, NULL) == 200
                 && strcmp (out, "echo:after") == 0,
             "after the burst: '%s'", out);
    free (out);
    h_log ("stopping the server");
    H_CHECK (serve_stop (&serve) == 0, "start_node --serve did not exit 0 on SIGTERM");
}

int
main (void)
{
    return h_main ("test_serve_200_concurrent_requests_one_right_answer_each", s_body);
}
