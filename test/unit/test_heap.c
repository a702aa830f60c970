/*  test/unit/test_heap.c - the malloc settings of dcpool's own processes
    (proto/heap.c).

    Chunks of a transfer (a few MiB each, several at once) freed and
    allocated again come back in pages already mapped once the settings
    hold: the second round faults (almost) none of them in again.  Without
    the settings glibc hands that memory back to the kernel and the second
    round faults every page in again; the first test shows it, so the
    second one means something here.  Each runs in a child of its own: the
    settings are per process.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "heap.h"

enum { CHUNK = 2 << 20, CHUNKS = 8, PAGES = CHUNK / 4096 * CHUNKS };

static long
s_faults (void)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

/*  Minor faults of one round: CHUNKS chunks allocated, written, freed. */
static long
s_round (void)
{
    void *chunks[CHUNKS];
    long before = s_faults ();
    for (int i = 0; i < CHUNKS; i++) {
        chunks[i] = malloc (CHUNK);
        if (!chunks[i])
            return -1;
        memset (chunks[i], i + 1, CHUNK);
    }
    for (int i = 0; i < CHUNKS; i++)
        free (chunks[i]);
    return s_faults () - before;
}

/*  The second round's faults in a child, with or without the settings:
    its exit status is the share of the pages faulted in again, in %. */
static int
s_second_round_share (bool hold)
{
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        if (hold && proto_heap_hold ())
            _exit (255);
        if (s_round () < 0)
            _exit (254);
        long faults = s_round ();
        _exit (faults < 0 ? 254 : (int)(faults * 100 / PAGES));
    }
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    assert_true (WIFEXITED (status));
    return WEXITSTATUS (status);
}

/*  Under a sanitizer malloc is its own: nothing here applies. */
static bool
s_glibc_malloc (void)
{
    pid_t pid = fork (); /* asked in a child: the settings are kept */
    assert_true (pid >= 0);
    if (pid == 0)
        _exit (proto_heap_hold () == 1 ? 1 : 0);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static void
test_without_the_settings_pages_fault_in_again (void **state)
{
    (void)state;
    assert_true (s_second_round_share (false) >= 50);
}

static void
test_with_the_settings_pages_stay_mapped (void **state)
{
    (void)state;
    assert_true (s_second_round_share (true) <= 5);
}

int
main (void)
{
    if (!s_glibc_malloc ())
        return 77; /* meson's "skipped" */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_without_the_settings_pages_fault_in_again),
        cmocka_unit_test (test_with_the_settings_pages_stay_mapped),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
