/*  test/workers/segv.h - how the test worker libraries crash.

    Writes through NULL: a plain SIGSEGV even in a sanitizer build (no
    check of ours in the way, the default action restored in case a
    sanitizer installed a handler that would report and exit instead).
    A header, not a library: worker libraries link nothing but libc.
*/
#ifndef DCPOOL_TEST_WORKERS_SEGV_H
#define DCPOOL_TEST_WORKERS_SEGV_H

#include <signal.h>
#include <stddef.h>

__attribute__ ((noinline, no_sanitize ("undefined"), no_sanitize ("address"),
                unused)) static void
test_segv (void)
{
    signal (SIGSEGV, SIG_DFL);
    volatile int *volatile nowhere = NULL;
    *nowhere = 1;
}

#endif
