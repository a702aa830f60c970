/*  proto/parse.c - numbers from a command line or the environment.
    See parse.h. */
#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int
proto_parse_int (const char *text, long long min, long long max, long long *out)
{
    if (!text)
        return -1;
    char *end;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno || end == text || *end || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

int
proto_parse_double (const char *text, double min, double max, double *out)
{
    if (!text)
        return -1;
    char *end;
    errno = 0;
    double value = strtod (text, &end);
    if (end == text || *end || !isfinite (value) || !(value >= min && value <= max))
        return -1;
    *out = value;
    return 0;
}

int
proto_parse_flag (const char *program, const char *flag, const char *text, long long min,
                  long long max, long long *out)
{
    if (proto_parse_int (text, min, max, out) == 0)
        return 0;
    fprintf (stderr, "%s: %s wants a number from %lld to %lld, not '%s'\n", program, flag,
             min, max, text ? text : "");
    return -1;
}
