/*  start_node --serve (issue 17): curl POSTs to /run get the output of one
    job of the published function (bytes with NULs and high bytes come back
    exactly, 200); a job's error is 500 with its message as the body; a
    job that hangs is 504 after --timeout; a job whose worker crashes is
    502; another path is 404, another method 405; the init file reaches
    the library.  After all that the server still answers, and stops with
    0 on SIGTERM.  Wrong command lines are refused with a reason.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_util.h"

static void
s_check_post (const char *url, const char *input, size_t size, int want_status,
              const char *want_body)
{
    char *out = NULL;
    size_t out_size = 0;
    int status = serve_post (url, input, size, &out, &out_size);
    H_CHECK (status == want_status, "POST '%.*s': status %d, want %d (body '%s')",
             (int)size, input, status, want_status, out);
    H_CHECK (strstr (out, want_body), "POST '%.*s': body '%s', want it to hold '%s'",
             (int)size, input, out, want_body);
    free (out);
}

/*  start_node with args exits 1 saying want. */
static void
s_check_refused (const char *const *args, const char *want)
{
    char *output = NULL;
    int code = h_run_start_node (args, h_timeout (30), &output);
    H_CHECK (code == 1 && strstr (output, want), "exit %d, said '%s'; want 1 and '%s'",
             code, output, want);
    free (output);
}

static void
s_body (void)
{
    const char *with_head[] = { "--serve", "0", "--library", "x.so", "--head", NULL };
    s_check_refused (with_head, "does not go with --head");
    const char *no_library[] = { "--serve", "0", "-a", "127.0.0.1", "--insecure", NULL };
    s_check_refused (no_library, "--serve needs --library");
    const char *no_serve[]
        = { "-a", "127.0.0.1", "--insecure", "--library", "x.so", NULL };
    s_check_refused (no_serve, "go with --serve");

    h_proc_t *head = h_start_head (2, false);
    char init[300];
    snprintf (init, sizeof init, "%s/init", h_tmpdir ());
    FILE *file = fopen (init, "w");
    H_CHECK (file && fputs ("fn:", file) >= 0 && fclose (file) == 0, "write %s", init);
    const char *extra[] = { "--timeout", "2", "--init", init, NULL };
    serve_proc_t serve;
    serve_start (&serve, head, extra);
    H_CHECK (strstr (serve.said, "loopback only"), "it says who reaches it: '%s'",
             serve.said);
    H_CHECK (strcmp (serve.host, "127.0.0.1") == 0, "bound to %s, want loopback",
             serve.host);

    /* Bytes come back exactly: NULs, high bytes, the init's prefix. */
    static const char binary[] = { 'a', 0, 'b', (char)0xff, '\n', 0, 'z' };
    char *out = NULL;
    size_t out_size = 0;
    int status = serve_post (serve.url, binary, sizeof binary, &out, &out_size);
    H_CHECK (status == 200, "binary POST: status %d", status);
    H_CHECK (out_size == 3 + sizeof binary && memcmp (out, "fn:", 3) == 0
                 && memcmp (out + 3, binary, sizeof binary) == 0,
             "binary POST: %zu bytes back, want fn: and the 7 bytes", out_size);
    free (out);
    s_check_post (serve.url, "hello", 5, 200, "fn:hello");
    s_check_post (serve.url, "", 0, 200, "fn:");

    /* Job errors and their codes. */
    s_check_post (serve.url, "error:the input is wrong", 24, 500, "the input is wrong");
    double started = h_now ();
    s_check_post (serve.url, "hang", 4, 504, "timed out");
    double took = h_now () - started;
    h_log ("a hanging job was answered 504 after %.1f s (--timeout 2)", took);
    H_CHECK (took >= 1.5, "504 after %.1f s, before --timeout 2", took);
    s_check_post (serve.url, "crash", 5, 502, "crashed");

    /* Not /run, not POST. */
    char url[200];
    snprintf (url, sizeof url, "http://%s:%d/other", serve.host, serve.port);
    s_check_post (url, "x", 1, 404, "not found");
    const char *get[]
        = { "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", serve.url, NULL };
    char *said = NULL;
    H_CHECK (serve_run_program (get, h_timeout (60), &said) == 0, "curl GET failed");
    H_CHECK (strcmp (said, "405") == 0, "GET /run: %s, want 405", said);
    free (said);

    /* Still serving after the crash and the timeout (the node restarted
       the dead worker). */
    s_check_post (serve.url, "after", 5, 200, "fn:after");
    H_CHECK (serve_stop (&serve) == 0, "start_node --serve did not exit 0 on SIGTERM");
}

int
main (void)
{
    return h_main ("test_serve_post_answers_output_and_job_errors", s_body);
}
