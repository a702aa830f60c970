/*  proto/bytes.c - byte counts (bytes.h). */
#include "bytes.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
proto_parse_bytes (const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!text || !isdigit ((unsigned char)*text))
        return -1;
    char *end;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    if (*end) {
        const char *units = "KMGT";
        const char *unit = strchr (units, toupper ((unsigned char)*end));
        if (!unit)
            return -1;
        shift = 10 * (unsigned)(unit - units + 1);
        end++;
        if (strcmp (end, "") && strcmp (end, "B") && strcmp (end, "b")
            && strcmp (end, "iB") && strcmp (end, "ib"))
            return -1;
    }
    if (shift && value > (UINT64_MAX >> shift))
        return -1;
    uint64_t bytes = (uint64_t)value << shift;
    if (bytes < min || bytes > max)
        return -1;
    *out = bytes;
    return 0;
}

const char *
proto_bytes_text (uint64_t bytes, char *out, size_t size)
{
    static const char *units[] = { "KiB", "MiB", "GiB", "TiB" };
    if (bytes < 1024) {
        snprintf (out, size, "%llu B", (unsigned long long)bytes);
        return out;
    }
    double value = (double)bytes / 1024.0;
    size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < sizeof units / sizeof units[0]) {
        value /= 1024.0;
        unit++;
    }
    bool whole = value >= 10 && value == (double)(uint64_t)value;
    snprintf (out, size, whole ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return out;
}

uint64_t
proto_mem_total (void)
{
    FILE *file = fopen ("/proc/meminfo", "r");
    if (!file)
        return 0;
    char line[256];
    unsigned long long kib = 0;
    while (fgets (line, sizeof line, file))
        if (sscanf (line, "MemTotal: %llu kB", &kib) == 1)
            break;
    fclose (file);
    return (uint64_t)kib * 1024;
}
