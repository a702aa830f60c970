/*  examples/common/next_to_me.c - a file next to the running program. */
#include "next_to_me.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int
next_to_me (const char *name, char *path, size_t size)
{
    char exe[PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (len < 0)
        return -1;
    exe[len] = '\0';
    int n = snprintf (path, size, "%s/%s", dirname (exe), name);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
