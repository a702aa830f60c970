/*  test/lsan.supp hides what libzmq leaks itself (its receive buffer, lost
    when a socket closes while its peer sends), not what our code forgets:
    under the sanitizer build, a child that drops a zmsg and its zframe
    without destroying them must still fail LeakSanitizer with the file in
    force, naming CZMQ's allocation of them.  A suppression grown to cover
    CZMQ, or the function names our code calls, fails this test.  Other
    builds do not build it (test/unit/meson.build); run by hand there it
    skips. */
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif

enum { LEAK_EXIT = 23 };

/* The child: a frame of 5,000 bytes in a message, both forgotten. */
static int
s_leak (void)
{
    zmsg_t *msg = zmsg_new ();
    if (!msg || zmsg_addmem (msg, NULL, 5000))
        return 2;
    msg = NULL;
    return 0;
}

#ifdef HAVE_LSAN
/* Runs self "leak" under the suppressions; its stderr into out. */
static int
s_run_child (const char *self, const char *supp, char *out, size_t size, int *status)
{
    int fds[2];
    if (pipe (fds))
        return -1;
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2 (fds[1], 2);
        close (fds[0]);
        close (fds[1]);
        char lsan[4200];
        snprintf (lsan, sizeof lsan, "suppressions=%s:exitcode=%d:print_suppressions=0",
                  supp, LEAK_EXIT);
        setenv ("LSAN_OPTIONS", lsan, 1);
        setenv ("ASAN_OPTIONS", "detect_leaks=1", 1);
        execl (self, self, "leak", (char *)NULL);
        _exit (127);
    }
    close (fds[1]);
    size_t got = 0;
    for (;;) {
        char chunk[4096];
        ssize_t n = read (fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t take = (size_t)n < size - 1 - got ? (size_t)n : size - 1 - got;
        memcpy (out + got, chunk, take);
        got += take;
    }
    out[got] = '\0';
    close (fds[0]);
    while (waitpid (pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}
#endif

int
main (int argc, char *argv[])
{
    if (argc == 2 && strcmp (argv[1], "leak") == 0)
        return s_leak ();
#ifndef HAVE_LSAN
    fprintf (stderr, "test_lsan_supp: skipped: not a sanitizer build\n");
    return 77; /* meson's "skipped" */
#else
    if (argc != 2) {
        fprintf (stderr, "usage: test_lsan_supp PATH-OF-test/lsan.supp\n");
        return 1;
    }
    static char out[1 << 16];
    int status = 0;
    if (s_run_child ("/proc/self/exe", argv[1], out, sizeof out, &status)) {
        fprintf (stderr, "FAIL: cannot run the child: %s\n", strerror (errno));
        return 1;
    }
    bool failed_leak = WIFEXITED (status) && WEXITSTATUS (status) == LEAK_EXIT;
    bool named = strstr (out, "LeakSanitizer") && strstr (out, "zframe_new")
                 && strstr (out, "zmsg_new");
    if (!failed_leak || !named) {
        fprintf (stderr,
                 "FAIL: a zmsg and zframe our code forgets are not reported under %s "
                 "(child %s %d; want exit %d naming zmsg_new and zframe_new); its "
                 "stderr:\n%s\n",
                 argv[1], WIFEXITED (status) ? "exit" : "signal",
                 WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status), LEAK_EXIT,
                 out);
        return 1;
    }
    printf ("ok: a forgotten zmsg and zframe are still reported under %s\n", argv[1]);
    return 0;
#endif
}
