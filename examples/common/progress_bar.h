/*  examples/common/progress_bar.h - a one-line progress bar on stderr.

    Set it as pool_options_t.progress (with progress_arg NULL): while a map
    or iterator runs it redraws one line on stderr,

        [##########..........]  50%  5000/10000  1234/s  0:04 left

    and ends it with a newline when the run ends.  Only when stderr is a
    terminal: in a pipe or a log file it prints nothing, so the program's
    output stays clean.
*/
#ifndef DCPOOL_EXAMPLES_PROGRESS_BAR_H
#define DCPOOL_EXAMPLES_PROGRESS_BAR_H

#include "pool.h"

/*  Sets options->progress when stderr is a terminal; leaves it alone
    otherwise. */
void progress_bar_attach (pool_options_t *options);

/*  The progress callback itself. */
void progress_bar_show (const pool_progress_t *progress, void *arg);

/*  Ends the bar's line if it is still open (a run that failed before its
    last result): call it before printing after a run. */
void progress_bar_end (void);

/*  Erases the bar's line, for a program that prints a line of its own
    while the run goes on; the next progress call draws it again. */
void progress_bar_clear (void);

#endif
