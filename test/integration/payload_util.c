/*  test/integration/payload_util.c - see payload_util.h. */
#include "payload_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
pu_count_memfds (const char *path, bool links)
{
    int n = 0;
    if (links) {
        DIR *dir = opendir (path);
        H_CHECK (dir, "open %s", path);
        for (struct dirent *e; (e = readdir (dir));) {
            char link[300], target[256];
            snprintf (link, sizeof link, "%s/%s", path, e->d_name);
            ssize_t len = readlink (link, target, sizeof target - 1);
            if (len > 0) {
                target[len] = 0;
                n += strstr (target, "memfd:dcpool-payload") != NULL;
            }
        }
        closedir (dir);
        return n;
    }
    FILE *f = fopen (path, "r");
    H_CHECK (f, "open %s", path);
    char line[1024];
    while (fgets (line, sizeof line, f))
        n += strstr (line, "memfd:dcpool-payload") != NULL;
    fclose (f);
    return n;
}

/*  Bytes the head has received on its port so far, over every connection
    open now (the kernel's count: `ss -ti`, bytes_received). */
unsigned long long
pu_head_received (const h_proc_t *head)
{
    char command[160];
    snprintf (command, sizeof command,
              "ss -tinH state established '( sport = :%d )' 2>/dev/null", head->port);
    FILE *f = popen (command, "r");
    H_CHECK (f, "cannot run ss");
    unsigned long long total = 0;
    char word[256];
    while (fscanf (f, "%255s", word) == 1) {
        unsigned long long n;
        if (sscanf (word, "bytes_received:%llu", &n) == 1)
            total += n;
    }
    pclose (f);
    return total;
}

uint8_t *
pu_make (char mode, size_t size, unsigned seed)
{
    uint8_t *p = malloc (size);
    H_CHECK (p, "out of memory");
    p[0] = (uint8_t)mode;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 1; i < size; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
    return p;
}
