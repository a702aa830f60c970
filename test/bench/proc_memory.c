/*  test/bench/proc_memory.c - a process's memory from /proc. */
#include "proc_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
proc_reset_peak (const char *pid)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%s/clear_refs", pid);
    FILE *f = fopen (path, "w");
    if (f) {
        fputs ("5", f);
        fclose (f);
    }
}

long
proc_status_kib (const char *pid, const char *field)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    long kib = -1;
    size_t len = strlen (field);
    while (fgets (line, sizeof line, f))
        if (strncmp (line, field, len) == 0 && line[len] == ':') {
            kib = strtol (line + len + 1, NULL, 10);
            break;
        }
    fclose (f);
    return kib;
}
