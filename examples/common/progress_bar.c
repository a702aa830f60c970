/*  examples/common/progress_bar.c - a one-line progress bar on stderr. */
#include "progress_bar.h"

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#define BAR_WIDTH 30

void
progress_bar_attach (pool_options_t *options)
{
    if (isatty (STDERR_FILENO)) {
        options->progress = progress_bar_show;
        options->progress_arg = NULL;
    }
}

/* "M:SS" (or "H:MM:SS") of seconds into buf. */
static void
s_duration (char *buf, size_t size, double seconds)
{
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (s >= 3600)
        snprintf (buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf (buf, size, "%ld:%02ld", s / 60, s % 60);
}

static bool s_line_open; /* a bar is drawn without its newline */

void
progress_bar_show (const pool_progress_t *p, void *arg)
{
    (void)arg;
    char bar[BAR_WIDTH + 1];
    double share = p->total ? (double)p->done / (double)p->total : 0;
    int filled = (int)(share * BAR_WIDTH);
    for (int i = 0; i < BAR_WIDTH; i++)
        if (p->total)
            bar[i] = i < filled ? '#' : '.';
        else /* length unknown: a marker that moves */
            bar[i] = i == (int)(p->done / 64 % BAR_WIDTH) ? '#' : '.';
    bar[BAR_WIDTH] = 0;
    char time[32];
    if (p->total && p->done >= p->total) {
        s_duration (time, sizeof time, p->elapsed);
        fprintf (stderr, "\r[%s] 100%%  %zu/%zu  %.0f/s  %s in all", bar, p->done,
                 p->total, p->per_second, time);
    } else if (p->total) {
        s_duration (time, sizeof time,
                    p->per_second > 0 ? (double)(p->total - p->done) / p->per_second : 0);
        fprintf (stderr, "\r[%s] %3.0f%%  %zu/%zu  %.0f/s  %s left", bar, share * 100,
                 p->done, p->total, p->per_second, time);
    } else
        fprintf (stderr, "\r[%s] %zu  %.0f/s", bar, p->done, p->per_second);
    if (p->failed)
        fprintf (stderr, "  %zu failed", p->failed);
    fputs ("   ", stderr); /* over what a longer line left */
    s_line_open = true;
    if (p->total && p->done >= p->total)
        progress_bar_end ();
    fflush (stderr);
}

void
progress_bar_end (void)
{
    if (s_line_open)
        fputc ('\n', stderr);
    s_line_open = false;
}

void
progress_bar_clear (void)
{
    if (s_line_open) {
        fputs ("\r\033[K", stderr); /* to the line's start, erase it */
        fflush (stderr);
    }
    s_line_open = false;
}
