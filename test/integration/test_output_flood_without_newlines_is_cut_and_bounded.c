/*  A worker that writes 50 MB on stdout without a single newline: its run
    returns promptly (the node drains its pipe whatever it drops), the
    node's memory stays bounded (VmRSS of the start_node process grows by
    less than RSS_BOUND), the client gets lines of at most 4 KiB (the
    output cut) and a "[N lines dropped]" line with N > 0 (the rate
    limit), and the pool serves on.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output_util.h"
#include "proc_memory.h"

#define FLOOD_BYTES (50L << 20)
#define RSS_BOUND (64L << 10) /* KiB: generous; the node keeps ~200 KiB a worker */
#define LINE_MAX_BYTES 4096   /* PROTO_OUTPUT_LINE_MAX */

/* VmRSS of pid in KiB, or -1. */
static long
s_rss_kib (pid_t pid)
{
    char text[16];
    snprintf (text, sizeof text, "%d", (int)pid);
    return proc_status_kib (text, "VmRSS");
}

static void
s_body (void)
{
    h_proc_t *head = h_start_head (1, false);
    ou_lines_t lines = { 0 };
    pool_t *pool = ou_open (head, "flood", &lines, 1, 1);
    long before = s_rss_kib (head->pid);
    H_CHECK (before > 0, "cannot read the node's VmRSS");

    char input[64];
    snprintf (input, sizeof input, "flood:%ld", FLOOD_BYTES);
    pool_bytes_t in = { input, strlen (input) };
    pool_result_t result;
    double started = h_now ();
    int rc = pool_map (pool, &in, 1, &result);
    double took = h_now () - started;
    H_CHECK (rc == 0 && result.status == 0 && result.value.size == 7
                 && memcmp (result.value.data, "flooded", 7) == 0,
             "the flood's run: %s, status %d", pool_strerror (rc), result.status);
    pool_results_release (pool, &result, 1);
    h_log ("the 50 MB run took %.2f s", took);
    H_CHECK (took < h_timeout (60), "the run took %.1f s: blocked on its output?", took);

    H_CHECK (ou_wait (pool, &lines, "lines dropped]", 0, 1, 30),
             "no '[N lines dropped]' line among %zu lines", lines.count);
    long after = s_rss_kib (head->pid);
    h_log ("node VmRSS %ld KiB before, %ld KiB after", before, after);
    H_CHECK (after > 0 && after - before < RSS_BOUND,
             "the node's VmRSS grew from %ld to %ld KiB", before, after);

    size_t cut = 0;
    long dropped = 0;
    for (size_t i = 0; i < lines.count; i++) {
        const char *text = lines.lines[i].text;
        size_t size = strlen (text);
        H_CHECK (size <= LINE_MAX_BYTES, "a line of %zu bytes", size);
        if (text[0] == 'x') {
            H_CHECK (strspn (text, "x") == size, "a flood line holds more than x");
            cut += size == LINE_MAX_BYTES;
        } else if (text[0] == '[') {
            long n = strtol (text + 1, NULL, 10);
            H_CHECK (n > 0 && strstr (text, " lines dropped]"), "'%s'", text);
            dropped += n;
        }
    }
    size_t total = FLOOD_BYTES / LINE_MAX_BYTES;
    h_log ("%zu lines of 4 KiB forwarded, %ld dropped, of %zu", cut, dropped, total);
    H_CHECK (cut > 0 && cut < total, "%zu lines of 4 KiB reached the client", cut);
    H_CHECK (dropped > 0 && cut + (size_t)dropped <= total,
             "%zu lines forwarded and %ld said dropped, of %zu", cut, dropped, total);

    static const char *const again[] = { "1" };
    ou_map (pool, again, 1);
    pool_close (&pool);
    ou_lines_free (&lines);
    h_stop (head);
}

int
main (void)
{
    return h_main ("test_output_flood_without_newlines_is_cut_and_bounded", s_body);
}
